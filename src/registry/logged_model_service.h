#pragma once
// LoggedModelService: MLflow 3.x logged models (`/api/2.0/mlflow/logged-models/...`) and run outputs
// (`runs/outputs`), the calls a 3.x client makes inside `mlflow.<flavor>.log_model`:
//   create (PENDING) -> upload files under <experiment artifact root>/models/<model_id>/artifacts
//   -> runs/outputs (link to the run) -> finalize (READY) -> register_model("models:/m-<id>").
//
// No HTTP, no SQL. Reads return directly; writes go through the GroupCommitter and complete through a
// callback once durable. Existence checks happen inside the write transaction. Deleted logged models
// are invisible (NotFound) to reads and writes, as in MLflow; delete itself is idempotent.
//
// Thread-safe. Borrows every dependency; they must outlive it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "storage/group_commit.h"
#include "storage/metadata_store.h"

namespace tamga {

struct CreateLoggedModelRequest {
  std::string experiment_id;
  std::optional<std::string> name;  // generated ("adjective-noun-NNN") when absent
  std::optional<std::string> model_type;
  std::optional<std::string> source_run_id;
  std::vector<KeyValue> params;
  std::vector<KeyValue> tags;
};

struct LoggedModelOrder {
  std::string field_name;  // attribute name; metrics are not supported
  bool ascending = true;
};

struct LoggedModelSearchRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<LoggedModelOrder> order_by;
  int64_t max_results = 50;
  std::string page_token;
  bool has_datasets = false;  // dataset-scoped metric filters: rejected (metrics are not supported)
};

struct LoggedModelSearchResult {
  std::vector<LoggedModel> models;
  std::string next_page_token;
};

// Wire names: LOGGED_MODEL_PENDING / LOGGED_MODEL_READY / LOGGED_MODEL_UPLOAD_FAILED, the short forms
// PENDING / READY / FAILED / UPLOAD_FAILED, or the proto numbers 1..3. InvalidArgument otherwise.
Result<LoggedModelStatus> ParseLoggedModelStatus(const std::string& s);

class LoggedModelService {
 public:
  using Done = std::function<void(Status)>;
  template <typename T>
  using DoneWith = std::function<void(Result<T>)>;

  static constexpr int64_t kMaxSearchResults = 1000;
  static constexpr size_t kMaxParamsPerRequest = 100;
  static constexpr size_t kMaxTagsPerRequest = 100;

  LoggedModelService(MetadataStore* store, GroupCommitter* writer, Clock* clock, Random* random);

  void Create(CreateLoggedModelRequest req, DoneWith<LoggedModel> done);
  Result<LoggedModel> Get(const std::string& model_id);
  void Finalize(const std::string& model_id, LoggedModelStatus status, DoneWith<LoggedModel> done);
  void Delete(const std::string& model_id, Done done);
  Result<LoggedModelSearchResult> Search(const LoggedModelSearchRequest& req);
  void SetTags(const std::string& model_id, std::vector<KeyValue> tags, Done done);
  void DeleteTag(const std::string& model_id, std::string key, Done done);
  void LogParams(const std::string& model_id, std::vector<KeyValue> params, Done done);
  // Links logged models to the run that produced them (runs/outputs). Run and models must exist.
  void LogOutputs(const std::string& run_id, std::vector<RunOutput> outputs, Done done);

 private:
  using TxnFn = std::function<Status(WriteTxn&)>;
  void Write(TxnFn fn, Done done);

  MetadataStore* store_;
  GroupCommitter* writer_;
  Clock* clock_;
  Random* random_;
};

}  // namespace tamga
