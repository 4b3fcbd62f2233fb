#pragma once
// Tracking entities as stored and returned by a MetadataStore. Plain values, MLflow field semantics:
// times are milliseconds since the epoch; ids are strings in MLflow's formats.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tamga {

enum class LifecycleStage { kActive, kDeleted };
enum class ViewType { kActiveOnly = 1, kDeletedOnly = 2, kAll = 3 };
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };

const char* LifecycleStageName(LifecycleStage s);  // "active" | "deleted"
const char* RunStatusName(RunStatus s);            // "RUNNING" ...
bool ParseRunStatus(const std::string& s, RunStatus* out);

struct KeyValue {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<KeyValue> tags;
};

struct MetricPoint {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;
  std::string profile;
};

struct DatasetInput {
  std::vector<KeyValue> tags;
  Dataset dataset;
};

// One distinct (experiment, dataset, context) a run of the experiment logged as input (UI summaries).
struct DatasetSummary {
  std::string experiment_id;
  std::string name;
  std::string digest;
  std::optional<std::string> context;  // the input's mlflow.data.context tag
};

// A logged model (MLflow 3.x) the run produced, at a training step.
struct RunOutput {
  std::string model_id;
  int64_t step = 0;
};

struct Run {
  RunInfo info;
  std::vector<MetricPoint> metrics;  // latest point per key
  // Parallel to metrics: the lowest and highest value ever logged for the key (NaN ignored; NaN when none).
  std::vector<std::pair<double, double>> metric_ranges;
  std::vector<KeyValue> params;
  std::vector<KeyValue> tags;
  std::vector<DatasetInput> inputs;
  std::vector<RunOutput> outputs;  // outputs.model_outputs
};

}  // namespace tamga
