#pragma once
// OpenLineage events (spec 2-0-2, docs/data.md "OpenLineage"): each Tamga job's run is reported to a
// configured endpoint (Marquez's /api/v1/lineage, or any OpenLineage HTTP consumer) as RunEvents — START when
// the job starts, then COMPLETE, FAIL or ABORT when it ends — with the dataset versions the run used as
// inputs and the model versions registered from it as outputs. Events are built and sent by one background
// thread from a bounded queue, never on a request's path; a consumer that is down costs retries (3, backoff)
// and then the event is dropped and counted, never a job. The API key is sent as a bearer token and never
// logged.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/mutex.h"
#include "jobs/job_types.h"
#include "lineage/lineage_service.h"

namespace tamga {

struct OpenLineageRun {
  std::string event_type;  // START, COMPLETE, FAIL, ABORT
  int64_t event_time_ms = 0;
  std::string run_id;  // MLflow's (32 hex digits); sent as a UUID
  std::string job_namespace;
  std::string job_name;
  std::string queue;
  std::string job_id;
  std::string reason;  // FAIL/ABORT
  std::vector<LineageDataset> inputs;
  std::vector<ModelVersion> outputs;
  std::string producer;
  std::string dataset_namespace;  // Tamga's datasets ("tamga-data://<server>")
  std::string model_namespace;    // its registry ("models://<server>")
};
// The RunEvent JSON (pure).
std::string OpenLineageRunEventJson(const OpenLineageRun& e);
// MLflow's 32-hex run id written as a UUID (8-4-4-4-12); other ids are hashed into one.
std::string RunIdAsUuid(const std::string& run_id);

class OpenLineageEmitter {
 public:
  struct Options {
    std::string url;      // the consumer's endpoint, e.g. http://marquez:5000/api/v1/lineage
    std::string api_key;  // "" = none
    std::string job_namespace = "tamga";
    std::string server_url;  // how this server names itself in dataset namespaces
    std::string producer;    // URI of this producer (Tamga's version)
    size_t max_queued = 1000;
    int64_t timeout_ms = 5000;
    int attempts = 3;
  };
  // `lineage` may not be null; `metrics` may be.
  OpenLineageEmitter(Options o, LineageService* lineage, MetricsRegistry* metrics);
  ~OpenLineageEmitter();  // sends what is queued (bounded by the timeouts), then stops
  // From the job service's observer: queues the job's event (never blocks; drops when the queue is full).
  void OnJob(const Job& job, bool started);

 private:
  struct Item {
    Job job;
    bool started;
    int64_t at_ms;
  };
  void Loop();
  void Send(const Item& item);
  Options o_;
  LineageService* lineage_;
  MetricFamily* events_ = nullptr;  // tamga_openlineage_events_total{result="sent|failed|dropped"}
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace tamga
