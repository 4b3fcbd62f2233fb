#pragma once
// ModelManager: the served models and their live versions (the TF Serving lifecycle, simplified to one
// aspired version per model): a source says which version should serve; the manager loads it in the
// background (N runtime instances), warms it up, swaps it in atomically, then drains and unloads the old
// one. Requests pin the version they started on (shared_ptr), so a swap drops none; a failed load keeps
// the old version serving and is reported in the model's status.
//
// Thread-safe.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "core/mutex.h"
#include "serving/batcher/dynamic_batcher.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

struct ServingOptions {
  RuntimeOptions runtime;
  BatchingOptions batching;
  int instances = 1;  // parallel executors (runtime instances) per version
};

// A loaded, warmed-up version; shared by the requests running on it.
struct LoadedVersion {
  std::string version;
  std::string platform;
  ModelSignature signature;
  std::unique_ptr<DynamicBatcher> batcher;
  std::shared_ptr<ModelRuntime> mlflow_view;  // instance 0's ToMlflowPredictions (stateless)
  double load_seconds = 0;
};

enum class ModelState { kLoading, kAvailable, kFailed };

struct ModelStatus {
  std::string name;
  ModelState state = ModelState::kLoading;
  std::string serving_version;  // "" while nothing serves
  std::string loading_version;  // "" when idle
  std::string last_error;       // last failed load, kept until a load succeeds
};

class ModelManager {
 public:
  ModelManager(ServingOptions options, MetricsRegistry* metrics);
  ~ModelManager();  // unloads everything

  // Loads `model_dir` as `version` of `name` and swaps it in when warm. Blocks the caller (use a thread
  // for background loads). On failure the previous version keeps serving and the error is recorded.
  Status LoadVersion(const std::string& name, const std::string& version, const std::string& model_dir);

  // Records why `name` has no serving version before a load could start (the registry does not resolve its
  // alias, the download failed), so readiness and scoring say why. `final`: no retry will follow (failed);
  // otherwise it stays loading. A model that already serves keeps serving.
  void NoteProblem(const std::string& name, const std::string& why, bool final);

  // Stops serving `name`: it disappears from List/Get at once, queued requests finish, then it unloads.
  Status Unload(const std::string& name);

  std::vector<ModelStatus> List() const;
  Result<ModelStatus> GetStatus(const std::string& name) const;
  // The serving version (optionally a specific one): NotFound for unknown models/versions, Unavailable
  // while nothing is loaded.
  Result<std::shared_ptr<LoadedVersion>> Get(const std::string& name, const std::string& version = "") const;
  // All models have a serving version (false when there are none, unless `vacuous_ready`).
  bool AllReady(bool vacuous_ready = false) const;

  // Runs inputs (validated by the caller against the version's signature) on the serving version;
  // retries once on a version that started unloading between pin and submit. `done` gets the version
  // that produced the outputs.
  using Done = std::function<void(Result<std::vector<Tensor>>, InferTimings, std::shared_ptr<LoadedVersion>)>;
  // Counts a request refused before inference because its input did not decode or match the signature
  // (outcome="invalid_input"), so dashboards see bad traffic as well as failed inference.
  void RecordInvalidInput(const std::string& name, const std::string& version, const std::string& protocol);
  void Infer(const std::string& name, const std::string& version, std::vector<Tensor> inputs,
             const std::string& protocol, Done done);

 private:
  struct Entry {
    ModelStatus status;
    std::shared_ptr<LoadedVersion> serving;
  };
  Result<std::shared_ptr<LoadedVersion>> Build(const std::string& version, const std::string& dir);
  void Retire(std::shared_ptr<LoadedVersion> old);

  const ServingOptions options_;
  MetricsRegistry* metrics_;
  MetricFamily* requests_;
  MetricFamily* latency_;
  MetricFamily* batch_size_;
  MetricFamily* loaded_;
  MetricFamily* load_time_;
  mutable Mutex mu_;
  std::map<std::string, Entry> models_ GUARDED_BY(mu_);
  std::vector<std::thread> retiring_ GUARDED_BY(mu_);
};

// Zero-filled inputs for a signature whose input shapes are known apart from the batch dimension
// (batch = 1); nullopt when some other dimension is variable.
std::optional<std::vector<Tensor>> WarmupInputs(const ModelSignature& sig);

}  // namespace tamga
