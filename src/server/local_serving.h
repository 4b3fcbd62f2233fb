#pragma once
// LocalServing: deployments with target "local" served inside `tamga server`. A reconcile loop compares the
// stored deployments with what is being served (once a second, and at start). Each deployment is an
// endpoint of the model manager with one variant per traffic variant (one, kPrimaryVariant, following the
// deployment's alias when it has no `traffic`); each variant gets an InProcessRegistrySource for its
// models:/<model>@<alias> or models:/<model>/<version> and is loaded and followed independently
// (ServeFromSource, the code path `tamga serve` uses). A changed policy with the same variants only
// re-weights; a variant whose target changed is reloaded alone; a deleted deployment, or one whose model
// changed, is unloaded (running requests finish first). Served under the deployment's name:
// /v2/models/{deployment}/..., /endpoints/{deployment}/invocations, gRPC if enabled.
//
// Thread-safe. Borrows every dependency.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "deploy/deploy_service.h"
#include "registry/event_hub.h"
#include "registry/registry_service.h"
#include "rollout/rollout_controller.h"
#include "serving/lifecycle/model_manager.h"
#include "serving/lifecycle/model_source.h"

namespace tamga {

class LocalServing {
 public:
  // `rollouts` (may be null) plans the deployments that have a rollout.
  LocalServing(DeployService* deploy, ModelManager* models, RegistryService* registry, EventHub* hub,
               std::string cache_dir, RolloutController* rollouts = nullptr);
  ~LocalServing();
  void Start();
  void Shutdown();
  // One reconcile pass (also run by the loop); exposed for tests.
  void Reconcile();
  // A reference-score test of `model` version `version` was stored: endpoints serving that version pick up
  // its new reference statistics (outlier and drift monitoring).
  void OnReferenceTest(const std::string& model, const std::string& version);
  // A request reached a snoozed deployment (the model manager's wake listener): reload it now. Never blocks.
  void RequestWake(const std::string& name);

 private:
  struct ServedVariant {
    std::string uri;
    std::unique_ptr<ModelSource> source;
    std::unique_ptr<std::atomic<bool>> stopping;
    std::thread loader;
  };
  struct Served {
    std::string model;
    std::string policy_key;   // the policy as text: a change re-weights
    std::string payload_key;  // the payload-log settings as text
    std::string monitoring_key;
    std::string snooze_key;
    bool snoozed = false;  // unloaded while idle; its variants are stopped
    std::map<std::string, ServedVariant> variants;
  };
  void StopVariant(ServedVariant& v);
  // Unloads `name` when it has been idle long enough and nothing is loading.
  void MaybeSnooze(const std::string& name, Served& s, const SnoozeOptions& so) REQUIRES(reconcile_mu_);
  void StartVariant(const std::string& deployment, const std::string& variant, const std::string& uri,
                    ServedVariant& v);

  DeployService* deploy_;
  ModelManager* models_;
  RegistryService* registry_;
  EventHub* hub_;
  const std::string cache_dir_;
  RolloutController* rollouts_;
  Mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::set<std::string> wake_ GUARDED_BY(mu_);  // snoozed deployments a request asked to wake
  Mutex reconcile_mu_;                          // one reconcile at a time
  std::map<std::string, Served> served_ GUARDED_BY(reconcile_mu_);
  std::thread thread_;
};

// The model manager's policy for a deployment's traffic section, and each variant's models:/ URI.
EndpointPlan PlanLocalEndpoint(const DeploymentSpec& spec);

}  // namespace tamga
