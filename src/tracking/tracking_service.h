#pragma once
// TrackingService: MLflow tracking semantics (experiments, runs, params, metrics, tags, inputs) over a
// MetadataStore. No HTTP, no SQL. Reads return directly; writes are submitted to the GroupCommitter and
// complete through a callback once durable (the callback may run on the committer thread: keep it short).
// Validation happens before submission, so invalid requests never touch the write queue; state checks
// (run exists and is active, params not changed) happen inside the transaction, so they are atomic
// with the write. Thread-safe. Borrows every dependency; they must outlive it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"
#include "tracking/downsample.h"

namespace tamga {

struct CreateExperimentRequest {
  std::string name;
  std::string artifact_location;  // empty: <default_artifact_root>/<experiment_id>
  std::vector<KeyValue> tags;
};

struct SearchExperimentsRequest {
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::string page_token;
  // Access control: only experiments for which this says true are listed (null = all), before paging.
  std::function<bool(const std::string& experiment_id)> visible;
};

struct ExperimentPage {
  std::vector<Experiment> experiments;
  std::string next_page_token;
};

struct CreateRunRequest {
  std::string experiment_id = "0";
  std::string user_id;
  std::string run_name;
  std::optional<int64_t> start_time;
  std::vector<KeyValue> tags;
};

struct UpdateRunRequest {
  std::string run_id;
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;
};

struct LogBatchRequest {
  std::string run_id;
  std::vector<MetricPoint> metrics;
  std::vector<KeyValue> params;
  std::vector<KeyValue> tags;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
  // The web UI's runs table (POST /api/2.0/tamga/runs/table): sort keys already parsed (min/max of a metric
  // included) instead of order_by, a plain row offset instead of page_token, and the matching total.
  std::vector<OrderKey> order_keys;
  std::optional<int64_t> offset;
  bool count_total = false;
};

struct RunsPage {
  std::vector<Run> runs;
  std::string next_page_token;
  std::optional<int64_t> total;  // with count_total
};

// Metric histories downsampled for charts (GET /api/2.0/tamga/metrics/sampled; tracking/downsample.h).
struct SampledMetricsRequest {
  std::vector<std::string> run_ids;
  std::vector<std::string> keys;
  enum class XAxis { kStep, kTime, kRelative };
  XAxis x_axis = XAxis::kStep;  // step; timestamp (ms); or ms since the run started
  std::optional<double> x_min, x_max;
  int64_t points = 2000;  // per series
};

struct SampledSeries {
  std::string run_id;
  std::string key;
  DownsampleResult data;
  std::optional<XYPoint> last;  // the latest point by step (live charts append from here)
  RunStatus run_status = RunStatus::kRunning;
};

struct MetricHistoryRequest {
  std::string run_id;
  std::string metric_key;
  std::string page_token;
  std::optional<int64_t> max_results;  // absent: every point (MLflow 2.x behaviour)
};

struct MetricHistoryResponse {
  std::string key;
  std::vector<HistoryPoint> metrics;
  std::string next_page_token;
};

struct BulkIntervalRequest {
  std::vector<std::string> run_ids;
  std::string metric_key;
  std::optional<int64_t> start_step;
  std::optional<int64_t> end_step;
  int64_t max_results = 2500;
};

struct BulkHistoryRequest {
  std::vector<std::string> run_ids;
  std::optional<std::string> metric_key;  // absent -> 400; "" is a key like any other
  int64_t max_results = 25000;
};

struct RunMetricPoint {
  std::string run_id;
  MetricPoint point;
};

class TrackingService {
 public:
  using Done = std::function<void(Status)>;
  template <typename T>
  using DoneWith = std::function<void(Result<T>)>;

  struct Options {
    // Experiments get "<root>/<id>" as artifact location; runs "<location>/<run_id>/artifacts".
    std::string default_artifact_root = "mlflow-artifacts:";
  };

  TrackingService(const Options& options, MetadataStore* store, GroupCommitter* writer, Clock* clock,
                  Random* random);

  // Creates experiment "0" named "Default" when missing (start-up).
  Status EnsureDefaultExperiment();

  // Experiments.
  void CreateExperiment(CreateExperimentRequest req, DoneWith<std::string> done);
  Result<Experiment> GetExperiment(const std::string& experiment_id);
  Result<Experiment> GetExperimentByName(const std::string& name);
  Result<ExperimentPage> SearchExperiments(const SearchExperimentsRequest& req);
  void DeleteExperiment(const std::string& experiment_id, Done done);
  void RestoreExperiment(const std::string& experiment_id, Done done);
  void RenameExperiment(const std::string& experiment_id, std::string new_name, Done done);
  void SetExperimentTag(const std::string& experiment_id, KeyValue tag, Done done);
  void DeleteExperimentTag(const std::string& experiment_id, std::string key, Done done);

  // Runs.
  void CreateRun(CreateRunRequest req, DoneWith<Run> done);
  // Several runs in one transaction: all are created or none. An error names the failing item as
  // "<item_name>[i]: ..." when there is more than one.
  void CreateRuns(std::vector<CreateRunRequest> reqs, DoneWith<std::vector<Run>> done,
                  const std::string& item_name = "runs");
  void UpdateRun(UpdateRunRequest req, DoneWith<RunInfo> done);
  void DeleteRun(const std::string& run_id, Done done);
  void RestoreRun(const std::string& run_id, Done done);
  void LogBatch(LogBatchRequest req, Done done);  // log-metric/log-parameter/set-tag use it too
  void DeleteTag(const std::string& run_id, std::string key, Done done);
  void LogInputs(const std::string& run_id, std::vector<DatasetInput> inputs, Done done);
  // Appends model_json to the run's "mlflow.log-model.history" tag (a JSON list).
  void LogModel(const std::string& run_id, std::string model_json, Done done);
  Result<Run> GetRun(const std::string& run_id);
  Result<RunsPage> SearchRuns(const SearchRunsRequest& req);
  Result<MetricHistoryResponse> GetMetricHistory(const MetricHistoryRequest& req);
  // Every point of one metric for up to 100 runs, by run id then (timestamp, step, value), <= 25000.
  Result<std::vector<RunMetricPoint>> GetMetricHistoryBulk(const BulkHistoryRequest& req);
  // Points at up to max_results sampled steps (plus each run's first and last), as MLflow samples them.
  Result<std::vector<RunMetricPoint>> GetMetricHistoryBulkInterval(const BulkIntervalRequest& req);
  // Distinct (experiment, dataset name, digest, context) of up to 20 experiments' runs, <= 1000.
  Result<std::vector<SampledSeries>> SampleMetrics(const SampledMetricsRequest& req);
  // Called after a commit that logged metrics to a run or updated it (status, end): live charts wake on
  // it. Set once at start-up, before requests arrive; runs on the writer's completion thread, keep it quick.
  void SetRunObserver(std::function<void(const std::string& run_id)> fn) { observer_ = std::move(fn); }
  Result<RunKeys> ListRunKeys(const std::vector<std::string>& experiment_ids, int64_t recent_runs,
                              int64_t max_keys);
  static constexpr int64_t kMaxSampledSeries = 2000;   // runs x keys in one request
  static constexpr int64_t kMaxSampledPoints = 20000;  // per series
  Result<std::vector<DatasetSummary>> SearchDatasets(const std::vector<std::string>& experiment_ids);

  // The clock the service stamps times with (handlers that set times themselves use it too).
  Clock* clock() const { return clock_; }

  static constexpr size_t kMaxBulkHistoryRuns = 100;
  static constexpr int64_t kMaxBulkHistoryResults = 25000;
  static constexpr int64_t kMaxBulkIntervalPerRun = 2500;
  // Distinct steps sampled across the runs of one bulk-interval request (bounds its memory: 8 B a step).
  static constexpr size_t kMaxBulkIntervalSteps = 5000000;
  static constexpr size_t kMaxDatasetSearchExperiments = 20;
  static constexpr int64_t kMaxDatasetSummaries = 1000;

 private:
  Result<Run> PrepareRun(CreateRunRequest req);  // validation and defaults, no I/O
  void SetExperimentStage(const std::string& experiment_id, LifecycleStage stage, Done done);
  void SetRunStage(const std::string& run_id, LifecycleStage stage, Done done);

  const Options options_;
  MetadataStore* store_;
  GroupCommitter* writer_;
  Clock* clock_;
  Random* random_;
  std::function<void(const std::string& run_id)> observer_;
};

// Page tokens: base64 of {"offset": N}, as MLflow encodes them. InvalidArgument on a malformed token.
std::string EncodeOffsetToken(int64_t offset);
Result<int64_t> DecodeOffsetToken(const std::string& token);

}  // namespace tamga
