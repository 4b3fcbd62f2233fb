#pragma once
// RolloutController: progressive rollouts of local deployments (docs/rollouts.md §3). A deployment whose spec
// has `rollout` serves its versions as variants named "v<version>", pinned by version. When the alias it
// follows moves to a new version, the controller takes that candidate through the plan — a shadow stage,
// then weighted steps — judging each stage on the candidate's figures since the stage began (the model
// manager's VariantStats): error rate, p99 latency, shadow disagreement, and the reference-score test. A
// passing last stage promotes the candidate (the old version unloads); a failing gate, a candidate that does
// not load, or `abort` rolls back: the candidate unloads and the alias is moved back to the stable version.
//
// Every decision is written to the candidate version as reserved tags (kRolloutTagPrefix: status, stage,
// stable, reason, history) in one registry transaction, so it is a registry event (webhooks, UI, `tamga
// models` see it) and a restarted server resumes an unfinished rollout from the candidate's tags.
//
// LocalServing asks Plan() what each rollout deployment should serve and applies it; Tick() (once a second on
// the controller's thread, or by tests) advances the rollouts. Thread-safe. Borrows every dependency.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "deploy/deploy_service.h"
#include "registry/registry_service.h"
#include "serving/lifecycle/model_manager.h"
#include "serving/lifecycle/model_source.h"

namespace tamga {

class RolloutController {
 public:
  RolloutController(DeployService* deploy, RegistryService* registry, ModelManager* models, Clock* clock);
  ~RolloutController();  // Shutdown()
  void Start();
  void Shutdown();

  // One pass over every rollout deployment: start, judge, advance, promote or roll back.
  void Tick();
  // What a rollout deployment serves now (variants pinned to the stable and candidate versions).
  EndpointPlan Plan(const DeploymentSpec& spec);

  // {deployment, model, alias, state, stable_version, candidate_version, stage, weight, paused,
  //  stage_seconds, window: {...}, history: [...]}; NotFound for a deployment without a rollout.
  Result<std::string> StatusJson(const std::string& deployment);
  // "promote" (the candidate now), "pause", "resume", "abort" (roll back); `who` is recorded.
  Status Command(const std::string& deployment, const std::string& action, const std::string& who);

 private:
  struct State {
    std::string model, alias;
    std::string stable;     // the version serving everything outside a rollout ("" until the alias resolves)
    std::string candidate;  // "" when no rollout runs
    int stage = -1;         // -1 shadow (when the plan has one), 0.. the steps
    bool paused = false;
    bool stage_open = false;  // the candidate was loaded and the stage's window began
    int64_t stage_started_ms = 0;
    VariantSnapshot baseline;
    std::string awaiting_alias;        // after a roll back: no new rollout until the alias is seen there
    std::string rejected;              // the version rolled back, while the alias still names it
    std::vector<std::string> history;  // "time decision version: reason", newest last (at most 20)
  };
  Result<std::pair<State*, const DeploymentSpec*>> Find(const std::string& deployment) REQUIRES(mu_);
  EndpointPlan PlanFor(const DeploymentSpec& spec, const State& st) REQUIRES(mu_);
  // Hands the plan to the model manager at once (weights, a variant leaving).
  void ApplyNow(const std::string& name, const State& st) REQUIRES(mu_);
  void Advance(const std::string& name, const DeploymentSpec& spec, State& st) REQUIRES(mu_);
  void Judge(const std::string& name, const DeploymentSpec& spec, State& st) REQUIRES(mu_);
  void StartRollout(const std::string& name, const DeploymentSpec& spec, State& st,
                    const std::string& version) REQUIRES(mu_);
  void OpenStage(const std::string& name, State& st, int stage) REQUIRES(mu_);
  void Promote(const std::string& name, State& st, const std::string& why) REQUIRES(mu_);
  void RollBack(const std::string& name, State& st, const std::string& why) REQUIRES(mu_);
  // Writes the candidate's rollout tags (status, stage, stable, reason, history).
  void Record(State& st, const std::string& version, const std::string& status, const std::string& stage,
              const std::string& decision, const std::string& reason) REQUIRES(mu_);
  std::string StageName(const DeploymentSpec& spec, int stage) const;
  double StageWeight(const DeploymentSpec& spec, int stage) const;

  DeployService* deploy_;
  RegistryService* registry_;
  ModelManager* models_;
  Clock* clock_;
  Mutex mu_;
  std::map<std::string, State> states_ GUARDED_BY(mu_);
  std::map<std::string, DeploymentSpec> specs_ GUARDED_BY(mu_);  // as of the last Tick
  // Roll backs whose alias write committed ("deployment|version"): Advance stops waiting for the alias then,
  // so a move straight back to that version starts a new rollout. Its own lock: the write's completion may
  // run while mu_ is held.
  Mutex restored_mu_;
  std::set<std::string> restored_ GUARDED_BY(restored_mu_);
  Mutex stop_mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(stop_mu_) = false;
  std::thread thread_;
};

// The variant name a version is served under in a rollout deployment.
std::string RolloutVariant(const std::string& version);

}  // namespace tamga
