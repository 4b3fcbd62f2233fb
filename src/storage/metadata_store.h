#pragma once
// MetadataStore: durable home of experiments, runs, params, tags, metrics and dataset inputs.
//
// Reads are served directly and are thread-safe (each call may run on any request thread).
// Writes happen only inside a WriteTxn obtained from BeginWrite(); Tamga runs a single writer thread
// (storage/group_commit.h) that puts many requests' writes in one transaction, using savepoints so one
// request's failure does not undo another's. A WriteTxn is used by one thread at a time.
//
// Error codes: NotFound for unknown ids/names, AlreadyExists for duplicate names, InvalidArgument for
// malformed cursors, Internal for storage failures. SQLite implements this today; PostgreSQL will pass the
// same conformance suite (tests/conformance/metadata_store_conformance.h).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/entities.h"
#include "storage/registry_store.h"
#include "storage/search_query.h"

namespace tamga {

// Position after which a metric history page starts: points are ordered by (step, timestamp, value).
struct HistoryCursor {
  int64_t step = 0;
  int64_t timestamp = 0;
  double value = 0;
};

// One point of a metric's history (the key is carried once, by the page).
struct HistoryPoint {
  int64_t step;
  int64_t timestamp;
  double value;
};

// The keys the runs of some experiments use (the web UI's column chooser), each list sorted.
struct RunKeys {
  std::vector<std::string> params, metrics, tags;
  int64_t runs_sampled = 0;  // how many (most recent) runs the keys were read from
};

struct HistoryPage {
  std::vector<HistoryPoint> points;
  std::optional<HistoryCursor> next;  // set when more points follow
};

class WriteTxn {
 public:
  virtual ~WriteTxn() = default;

  // Savepoints isolate one request's writes inside the shared transaction.
  virtual Status Savepoint() = 0;
  virtual Status ReleaseSavepoint() = 0;
  virtual Status RollbackToSavepoint() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  // The group commit's optimistic pass: writes may be pipelined, their failures surfacing late; when
  // DeferredWriteFailed() the batch is rolled back and replayed without deferral (docs/scale-out.md).
  // Returns whether this store defers at all (false: the group commit uses one careful pass).
  virtual bool AllowDeferredWrites(bool) { return false; }
  virtual bool DeferredWriteFailed() const { return false; }

  // Experiments. CreateExperiment assigns the id (returned) unless e.experiment_id is set.
  virtual Result<std::string> CreateExperiment(const Experiment& e) = 0;  // AlreadyExists
  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  virtual Status SetExperimentArtifactLocation(const std::string& experiment_id, const std::string& loc) = 0;
  // Sets the stage of the experiment and of all its runs.
  virtual Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage,
                                        int64_t now) = 0;
  virtual Status RenameExperiment(const std::string& experiment_id, const std::string& name, int64_t now) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // Runs.
  virtual Status CreateRun(const RunInfo& info, const std::vector<KeyValue>& tags) = 0;
  virtual Result<RunInfo> GetRunInfo(const std::string& run_id) = 0;
  virtual Status UpdateRunInfo(const RunInfo& info) = 0;  // status, end_time, run_name
  virtual Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage) = 0;
  // Values already logged for the given keys (absent keys are not in the result).
  virtual Result<std::vector<KeyValue>> GetParams(const std::string& run_id,
                                                  const std::vector<std::string>& keys) = 0;
  virtual Status InsertParams(const std::string& run_id, const std::vector<KeyValue>& params) = 0;
  virtual Status SetTags(const std::string& run_id, const std::vector<KeyValue>& tags) = 0;
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;  // NotFound
  virtual Result<std::optional<std::string>> GetTag(const std::string& run_id, const std::string& key) = 0;
  // Appends points to each key's history and advances the key's latest value when the new point's
  // (step, timestamp, value) is greater.
  virtual Status LogMetrics(const std::string& run_id, const std::vector<MetricPoint>& points) = 0;
  // Adds dataset inputs; a dataset already linked (same name and digest) keeps its first tags.
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) = 0;

  // Registry writes, in this same transaction (storage/registry_store.h).
  virtual RegistryTxn& registry() = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual Result<std::vector<Experiment>> ListExperiments(ViewType view) = 0;

  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  virtual Result<RunInfo> GetRunInfo(const std::string& run_id) = 0;
  virtual Result<RunPage> SearchRuns(const RunQuery& query) = 0;
  // Points of one metric ordered by (step, timestamp, value), identical points collapsed.
  // max_results <= 0 returns every point after `after`.
  virtual Result<HistoryPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                               const std::optional<HistoryCursor>& after,
                                               int64_t max_results) = 0;

  // The points of one metric with min_step <= step <= max_step, in GetMetricHistory's order (zoomed charts:
  // only the chunks that overlap the range are read).
  virtual Result<std::vector<HistoryPoint>> GetMetricRange(const std::string& run_id, const std::string& key,
                                                           int64_t min_step, int64_t max_step) = 0;

  // Keys of params, metrics and tags of the `recent_runs` most recently started runs of these experiments
  // (deleted runs included), at most `max_keys` of each kind.
  virtual Result<RunKeys> ListRunKeys(const std::vector<std::string>& experiment_ids, int64_t recent_runs,
                                      int64_t max_keys) = 0;

  // Distinct dataset summaries of the runs of these experiments (deleted runs included), at most `limit`.
  virtual Result<std::vector<DatasetSummary>> SearchDatasets(const std::vector<std::string>& experiment_ids,
                                                             int64_t limit) = 0;

  // Registry reads of committed data (storage/registry_store.h). Thread-safe.
  virtual RegistryReader& registry() = 0;

  // Starts the (single) write transaction. Only the group committer calls this.
  virtual Result<std::unique_ptr<WriteTxn>> BeginWrite() = 0;
  // Makes committed data durable against power loss as well (checkpoint); called at shutdown.
  virtual Status Flush() = 0;
};

}  // namespace tamga
