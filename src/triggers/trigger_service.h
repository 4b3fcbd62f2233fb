#pragma once
// TriggerService: the continuous-training loop (docs/data.md, "Retraining triggers"). A trigger binds an
// event — a dataset tag moving (`train@prod`, or `latest` with every push), or a cron schedule — to a job
// template; each firing queues one job with the event's dataset version substituted, follows it, and when it
// succeeds and the trigger names a model, registers the run's model as a new version. A firing is recorded
// (unique per trigger and event) before its job is queued, so an event fires its trigger exactly once, also
// across a restart: a firing left "submitting" by a crash is completed on start (its job found by tag, else
// queued). Missed schedule ticks (the server was down) fire once, not once each. One thread (Start) does the
// work; the other methods are thread-safe.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "data/dataset_service.h"
#include "jobs/job_service.h"
#include "registry/registry_service.h"
#include "storage/trigger_store.h"

namespace tamga {

struct TriggerSpec {
  std::string name;
  std::string on_dataset;  // NAME@TAG (a tag; "latest" fires on every new version), or ""
  std::string cron;        // or a schedule
  std::string on_drift;    // or a local deployment whose inputs drifted (docs/rollouts.md §7)
  std::string
      job_json;  // a job spec (jobs.md) with {dataset} {version} {ref} {uri} {trigger} {event} in strings
  std::string register_model;  // "" = none
  std::string model_path = "model";
  std::string created_by;
};

class TriggerService {
 public:
  struct Options {
    int64_t poll_ms = 1000;
  };
  // `datasets` may be null (manual firings of dataset triggers then carry no version).
  TriggerService(Options o, TriggerStore* store, JobService* jobs, RegistryService* registry,
                 DatasetService* datasets, Clock* clock)
      : o_(o), store_(store), jobs_(jobs), registry_(registry), datasets_(datasets), clock_(clock) {}
  ~TriggerService() { Shutdown(); }

  // InvalidArgument (name, event, cron, job template), AlreadyExists.
  Result<TriggerRecord> Create(const TriggerSpec& spec);
  Result<TriggerRecord> Get(const std::string& name);
  Result<std::vector<TriggerRecord>> List();
  Status Delete(const std::string& name);
  Result<std::vector<TriggerFiring>> Firings(const std::string& name, int64_t max_results);
  // Fires now (event "manual:<ms>"); returns the firing after its job was queued.
  Result<TriggerFiring> FireNow(const std::string& name);
  // A served deployment's inputs drifted (`detail`: which version and features): its drift triggers fire
  // on the trigger thread (never blocks; beyond 100 waiting events the rest are dropped and logged).
  void NotifyDrift(const std::string& deployment, const std::string& detail);

  void Start();
  void Shutdown();
  // One pass of the loop (tests drive it directly).
  void Tick();

 private:
  Status Fire(const TriggerRecord& t, const std::string& event_key, const std::string& detail,
              const std::string& dataset, int64_t version, TriggerFiring* out);
  Status Submit(const TriggerRecord& t, TriggerFiring& f, const std::string& dataset, int64_t version);
  void FollowJobs();
  void Recover();

  Options o_;
  TriggerStore* store_;
  JobService* jobs_;
  RegistryService* registry_;
  DatasetService* datasets_;
  Clock* clock_;
  std::mutex fire_mu_;  // one firing at a time (the loop and FireNow)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  struct DriftEvent {
    std::string deployment, detail;
    int64_t at_ms;
  };
  std::vector<DriftEvent> drift_events_;  // guarded by mu_
  bool started_ = false;
  std::thread thread_;
};

}  // namespace tamga
