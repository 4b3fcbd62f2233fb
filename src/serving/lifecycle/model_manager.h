#pragma once
// ModelManager: the served endpoints, their variants and the versions those variants serve (the TF Serving
// lifecycle, one aspired version per variant). A source says which version a variant should serve; the
// manager loads it in the background (N runtime instances), warms it up, swaps it in atomically, then
// drains and unloads the old one once no request holds it. A failed load keeps the old version serving and
// is reported in the variant's status.
//
// Requests work on handles (docs/rollouts.md §1): Route picks the version that answers (by the endpoint's
// traffic policy, serving/routing/traffic.h) and the shadows to mirror to, and every later step (decoding,
// signature checks, execution, the response's version) uses that handle, so a swap never mixes versions.
//
// Thread-safe.
#include <atomic>
#include <functional>
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
#include "serving/lifecycle/gpu_admission.h"
#include "serving/monitoring/drift_monitor.h"
#include "serving/monitoring/payload_log.h"
#include "serving/routing/traffic.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

struct ServingOptions {
  RuntimeOptions runtime;
  BatchingOptions batching;
  int instances = 1;  // parallel executors (runtime instances) per version
  // How long a retired version waits for the requests that still hold it before its batcher stops.
  int64_t drain_timeout_ms = 60000;
};

// A loaded, warmed-up version; shared by the requests running on it (and by the variants serving it).
struct LoadedVersion {
  std::string version;
  std::string platform;
  ModelSignature signature;
  std::unique_ptr<DynamicBatcher> batcher;
  std::shared_ptr<ModelRuntime> mlflow_view;  // instance 0's ToMlflowPredictions (stateless)
  double load_seconds = 0;
  std::string model;  // the endpoint it was loaded for
  std::string device = "cpu";
  std::string gpu_uuid;   // "" on the CPU
  int64_t gpu_bytes = 0;  // GPU memory it took (measured for this process, else the admission estimate)
  // Outliers and drift against the version's reference statistics (set once known).
  std::shared_ptr<VersionMonitor> monitor = std::make_shared<VersionMonitor>();
};

// kSnoozed: unloaded after being idle (scale to zero); the next request wakes it.
enum class ModelState { kLoading, kAvailable, kFailed, kSnoozed };
const char* ModelStateName(ModelState s);

struct VariantStatus {
  std::string name;
  ModelState state = ModelState::kLoading;
  std::string serving_version;  // "" while nothing serves
  std::string loading_version;  // "" when idle
  std::string last_error;       // last failed load, kept until a load succeeds
  double weight = 1;
  bool shadow = false;
};

struct ModelStatus {
  std::string name;
  // The endpoint as a whole: available while some serving (non-shadow) variant has a version; the other
  // fields are those of the first serving variant that has one (else of the first serving variant).
  ModelState state = ModelState::kLoading;
  std::string serving_version;
  std::string loading_version;
  std::string last_error;
  TrafficMode mode = TrafficMode::kCanary;
  std::vector<VariantStatus> variants;
};

// What one request runs on. Holding it keeps its versions loaded.
struct ModelHandle {
  std::string model;
  std::string variant;
  std::shared_ptr<LoadedVersion> version;
  std::shared_ptr<VariantStats> stats;
  struct Shadow {
    std::string variant;
    std::shared_ptr<LoadedVersion> version;
    std::shared_ptr<VariantStats> stats;
  };
  std::vector<Shadow> shadows;  // mirror targets chosen for this request
  double shadow_atol = 0, shadow_rtol = 0;
  double payload_sample = 0;                            // the endpoint's payload-log share at routing time
  std::shared_ptr<const MonitoringOptions> monitoring;  // null: not monitored
};

// What Observe found in one request: the rows flagged as outliers (and every row's scores).
struct OutlierReport {
  bool scored = false;  // monitored, and the version's reference statistics fit the request
  std::vector<int64_t> outlier_rows;
  std::vector<RowOutlier> rows;
};

struct MonitoringFigures {
  std::string variant;
  std::string version;
  bool shadow = false;
  VersionMonitor::Snapshot figures;
};

// Scale to zero (docs/rollouts.md §8): idle `idle_ms`, the endpoint's versions are unloaded; a request then
// waits up to `wake_timeout_ms` for them to be loaded again (0: it is refused at once, Unavailable).
struct SnoozeOptions {
  int64_t idle_ms = 0;  // 0 = never
  int64_t wake_timeout_ms = 30000;
};

struct VariantFigures {
  std::string variant;
  std::string version;
  bool shadow = false;
  double weight = 0;
  VariantSnapshot stats;
};

class ModelManager {
 public:
  ModelManager(ServingOptions options, MetricsRegistry* metrics);
  ~ModelManager();  // unloads everything

  // Sets `name`'s variants and how traffic is split between them (creating the endpoint). Variants no
  // longer named are taken out of routing at once and unloaded when drained; new ones start `loading`.
  // InvalidArgument for a policy without a serving variant or with duplicate names.
  Status SetPolicy(const std::string& name, const TrafficPolicy& policy);
  // Payload logging (serving/monitoring/payload_log.h): the logger all endpoints write to (null = none; set
  // before serving), and one endpoint's sampling.
  void SetPayloadLogger(PayloadLogger* logger) { payload_logger_ = logger; }
  // `--device auto` (gpu_admission.h): where each version loads; null serves `auto` on the CPU. Set before
  // serving.
  void SetGpuAdmission(GpuAdmission* admission) { gpu_ = admission; }
  void ConfigurePayloadLog(const std::string& name, const PayloadLogOptions& options);
  // Outliers and drift (serving/monitoring/drift_monitor.h): the endpoint's options (disabled: not
  // monitored; an endpoint SetPolicy created), a version's reference statistics (null: none), and who hears
  // of drift (an endpoint's first drifted window, then at most once per event_cooldown_s; called on a request
  // thread, must not block).
  void ConfigureMonitoring(const std::string& name, const MonitoringOptions& options);
  void SetReferenceStats(const std::string& name, const std::string& version,
                         std::shared_ptr<const ReferenceStats> stats);
  using DriftListener =
      std::function<void(const std::string& name, const std::string& version, const DriftReport& report)>;
  void SetDriftListener(DriftListener listener) { drift_listener_ = std::move(listener); }
  // Scores a request's rows against its version's statistics and adds them to the drift window (call
  // before Infer, which consumes the inputs). Not scored when the endpoint is not monitored or the
  // version has no statistics.
  OutlierReport Observe(const ModelHandle& handle, const std::vector<Tensor>& inputs);
  Result<std::vector<MonitoringFigures>> Monitoring(const std::string& name) const;
  std::shared_ptr<const MonitoringOptions> MonitoringOf(const std::string& name) const;

  // Scale to zero. The endpoint's options (set after SetPolicy); how long since it last routed a request (or
  // was created or woke), -1 when unknown; Snooze unloads every variant's version (running requests finish
  // first) and marks the endpoint snoozed (state kSnoozed). A request to a snoozed endpoint calls the wake
  // listener once (who reloads the variants: LoadVariant then clears the mark) and is answered Unavailable;
  // WakeWaitMs says how long such a caller may wait (-1: the endpoint is not asleep) and AwaitServing calls
  // back once a serving variant has a version again (true) or after timeout_ms (false).
  void ConfigureSnooze(const std::string& name, const SnoozeOptions& options);
  int64_t IdleMs(const std::string& name) const;
  Status Snooze(const std::string& name);
  using WakeListener = std::function<void(const std::string& name)>;
  void SetWakeListener(WakeListener listener) { wake_listener_ = std::move(listener); }
  int64_t WakeWaitMs(const std::string& name) const;
  // Waiting requests are bounded per endpoint (kMaxWakeWaiters, kMaxWakeWaitBytes of their bodies): beyond,
  // `ready(false)` at once.
  static constexpr size_t kMaxWakeWaiters = 1024;
  static constexpr int64_t kMaxWakeWaitBytes = int64_t{256} << 20;
  void AwaitServing(const std::string& name, int64_t timeout_ms, int64_t bytes,
                    std::function<void(bool)> ready);

  // Changes only the weights of existing variants (a rollout step); unknown variant names are NotFound.
  Status SetWeights(const std::string& name, const std::map<std::string, double>& weights);

  // Takes `variant`'s version out of routing (unloaded when drained); the variant stays, `loading`.
  Status ClearVariant(const std::string& name, const std::string& variant);

  // Loads `model_dir` as `version` for `variant` of `name` and swaps it in when warm. Blocks the caller
  // (use a thread for background loads). On failure the variant's previous version keeps serving and the
  // error is recorded. An endpoint not created by SetPolicy gets the default policy (one variant,
  // kPrimaryVariant). A version another variant of the endpoint already serves is shared, not reloaded.
  Status LoadVariant(const std::string& name, const std::string& variant, const std::string& version,
                     const std::string& model_dir);
  Status LoadVersion(const std::string& name, const std::string& version, const std::string& model_dir) {
    return LoadVariant(name, kPrimaryVariant, version, model_dir);
  }

  // Records why `variant` of `name` has no serving version before a load could start (the registry does not
  // resolve its alias, the download failed), so readiness and scoring say why. `final`: no retry will follow
  // (failed); otherwise it stays loading. A variant that already serves keeps serving.
  void NoteProblem(const std::string& name, const std::string& variant, const std::string& why, bool final);
  void NoteProblem(const std::string& name, const std::string& why, bool final) {
    NoteProblem(name, kPrimaryVariant, why, final);
  }

  // Stops serving `name`: it disappears from List/Route at once, running requests finish, then it unloads.
  Status Unload(const std::string& name);

  std::vector<ModelStatus> List() const;
  Result<ModelStatus> GetStatus(const std::string& name) const;
  // The endpoint's figures per variant (the rollout controller's input).
  Result<std::vector<VariantFigures>> Figures(const std::string& name) const;
  // Every endpoint has a serving variant with a version (false when there are none, unless `vacuous_ready`).
  bool AllReady(bool vacuous_ready = false) const;

  // Picks what a request runs on. `version` non-empty: the variant serving exactly that version (shadows
  // included), NotFound otherwise. Else by the traffic policy; `header` looks up a request header (by
  // lower-case name) for sticky routing and may be null. NotFound for unknown endpoints, Unavailable while no
  // serving variant has a version (naming why).
  using HeaderLookup = std::function<std::string(const std::string& lower_name)>;
  Result<ModelHandle> Route(const std::string& name, const std::string& version = "",
                            const HeaderLookup* header = nullptr) const;
  // The deterministic version for metadata: exactly `version`, else the first serving variant's.
  Result<std::shared_ptr<LoadedVersion>> Get(const std::string& name, const std::string& version = "") const;

  // Runs inputs (validated by the caller against handle.version's signature) on the handle's version and
  // mirrors a copy to its shadows; `done` gets the primary's outputs and the version that produced them
  // (the handle's) as soon as the primary finishes, whatever the shadows do.
  using Done = std::function<void(Result<std::vector<Tensor>>, InferTimings, std::shared_ptr<LoadedVersion>)>;
  void Infer(const ModelHandle& handle, std::vector<Tensor> inputs, const std::string& protocol, Done done);
  // Counts a request refused before inference because its input did not decode or match the signature
  // (outcome="invalid_input"), so dashboards see bad traffic as well as failed inference.
  void RecordInvalidInput(const ModelHandle& handle, const std::string& protocol);

 private:
  struct Variant {
    VariantStatus status;
    std::shared_ptr<LoadedVersion> serving;
    std::shared_ptr<VariantStats> stats = std::make_shared<VariantStats>();
  };
  struct Entry {
    TrafficPolicy policy;
    double payload_sample = 0;
    std::shared_ptr<const MonitoringOptions> monitoring;
    int64_t last_drift_event_ms = 0;
    SnoozeOptions snooze;
    mutable int64_t last_used_ms = 0;  // Route updates it (under mu_)
    bool snoozed = false;
    mutable bool waking = false;  // the wake listener was called
    mutable int64_t waking_since_ms = 0;
    struct Waiter {
      int64_t deadline_ms;
      int64_t bytes;
      std::function<void(bool)> ready;
    };
    std::vector<Waiter> waiters;
    int64_t waiting_bytes = 0;
    std::vector<Variant> variants;  // in policy order
  };
  static Variant* FindVariant(Entry& e, const std::string& variant);
  static ModelStatus StatusOf(const std::string& name, const Entry& e);
  Result<std::shared_ptr<LoadedVersion>> Build(const std::string& name, const std::string& version,
                                               const std::string& dir);
  // Retires versions that no variant of `e` serves any more (call with mu_ held).
  void RetireUnused(const Entry* e, std::vector<std::shared_ptr<LoadedVersion>> candidates) REQUIRES(mu_);
  void Retire(std::shared_ptr<LoadedVersion> old) REQUIRES(mu_);
  void UpdateLoadedGauge() REQUIRES(mu_);
  struct MirrorState;
  void CompareShadow(const std::string& name, const ModelHandle::Shadow& sh,
                     const std::vector<Tensor>& primary, const std::vector<Tensor>& shadow, double atol,
                     double rtol);
  void MirrorToShadows(const ModelHandle& handle, std::vector<Tensor> inputs,
                       const std::shared_ptr<MirrorState>& state);

  const ServingOptions options_;
  MetricsRegistry* metrics_;
  MetricFamily* requests_;
  MetricFamily* latency_;
  MetricFamily* batch_size_;
  MetricFamily* loaded_;
  MetricFamily* load_time_;
  MetricFamily* variant_requests_;
  MetricFamily* variant_latency_;
  MetricFamily* shadow_results_;
  MetricFamily* shadow_delta_;
  MetricFamily* gpu_memory_;
  GpuAdmission* gpu_ = nullptr;
  MetricFamily* monitored_rows_;
  MetricFamily* outlier_rows_;
  MetricFamily* drift_psi_;
  MetricFamily* drift_ks_;
  MetricFamily* drift_windows_;
  DriftListener drift_listener_;
  WakeListener wake_listener_;
  // Monotonic milliseconds: the idle clock and wake deadlines.
  static int64_t SteadyMillis();
  // Wakes AwaitServing callers whose time is up (started on first use).
  void WaiterLoop();
  static std::vector<std::function<void(bool)>> TakeWaiters(const std::string& name, Entry& e);
  std::thread waiter_thread_ GUARDED_BY(mu_);
  mutable Mutex mu_;
  std::map<std::string, Entry> models_ GUARDED_BY(mu_);
  struct Retiring {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
  };
  std::vector<Retiring> retiring_ GUARDED_BY(mu_);  // finished ones are joined at the next Retire
  std::atomic<bool> shutting_down_{false};
  PayloadLogger* payload_logger_ = nullptr;
};

// GET .../deployments/{name}/monitoring's answer: the options, and per variant its version's figures and
// last drift window (docs/rollouts.md §7).
std::string MonitoringJson(const std::string& name, const MonitoringOptions* options,
                           const std::vector<MonitoringFigures>& figures);

// Zero-filled inputs for a signature whose input shapes are known apart from the batch dimension
// (batch = 1); nullopt when some other dimension is variable.
std::optional<std::vector<Tensor>> WarmupInputs(const ModelSignature& sig);

}  // namespace tamga
