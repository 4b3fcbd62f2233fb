#include "registry/logged_model_service.h"

#include <memory>
#include <set>

#include "core/ids.h"
#include "core/utf8.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace tamga {
namespace {

constexpr size_t kMaxNameLength = 500;
constexpr size_t kMaxModelTypeLength = 500;
constexpr size_t kMaxStatusMessage = 5000;

Status ValidateLoggedModelName(const std::string& name) {
  // MLflow's rule (the name is also used unescaped in `name = '<name>'` filters by the 3.x client).
  static const std::string kBad = "/:.%\"'";
  bool bad = name.empty() || name.size() > kMaxNameLength;
  for (char c : name) bad |= kBad.find(c) != std::string::npos || static_cast<unsigned char>(c) < 0x20;
  if (bad) {
    return InvalidArgument("Invalid model name ('" + std::string(Utf8Prefix(name, 100)) +
                           "') provided. Model name must be a non-empty string of at most 500 characters and "
                           "cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")");
  }
  return Status::Ok();
}

Status ValidateModelId(const std::string& model_id) {
  if (model_id.empty()) return InvalidArgument("Missing value for required parameter 'model_id'");
  if (model_id.size() != 34 || model_id.compare(0, 2, "m-") != 0 ||
      !IsHex32(std::string_view(model_id).substr(2))) {
    return NotFound("Logged model with ID '" + std::string(Utf8Prefix(model_id, 64)) + "' not found.");
  }
  return Status::Ok();
}

Status ValidateEntries(const char* kind, std::vector<KeyValue>& entries, size_t max) {
  if (entries.size() > max) {
    return InvalidArgument(std::string("A request may set at most ") + std::to_string(max) + " " + kind +
                           "s; got " + std::to_string(entries.size()));
  }
  for (auto& e : entries) {
    TAMGA_RETURN_IF_ERROR(ValidateEntityKey(kind, e.key));
    if (std::string(kind) == "param")
      TruncateParamValue(&e.value);
    else
      TruncateRunTagValue(&e.value);
  }
  return Status::Ok();
}

// Live (not deleted) logged model inside a write transaction.
Result<LoggedModel> LiveModel(RegistryReader& reader, const std::string& model_id) {
  TAMGA_ASSIGN_OR_RETURN(LoggedModel m, reader.GetLoggedModel(model_id));
  if (m.lifecycle_stage != LifecycleStage::kActive) {
    return NotFound("Logged model with ID '" + model_id + "' not found.");
  }
  return m;
}

// Converts a status comparison's wire names to the stored numbers.
Status NormaliseStatusFilter(Comparison& c) {
  if (c.kind != FieldKind::kAttribute || c.key != "status") return Status::Ok();
  if (auto* s = std::get_if<std::string>(&c.value)) {
    TAMGA_ASSIGN_OR_RETURN(LoggedModelStatus st, ParseLoggedModelStatus(*s));
    c.value = static_cast<double>(static_cast<int>(st));
  } else if (auto* list = std::get_if<std::vector<std::string>>(&c.value)) {
    for (auto& v : *list) {
      TAMGA_ASSIGN_OR_RETURN(LoggedModelStatus st, ParseLoggedModelStatus(v));
      v = std::to_string(static_cast<int>(st));
    }
  }
  return Status::Ok();
}

template <typename T>
std::function<void(Status)> Answer(std::shared_ptr<std::optional<T>> reply,
                                   std::function<void(Result<T>)> done) {
  return [reply, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    if (!*reply) return done(Internal("logged model write produced no result"));
    done(std::move(**reply));
  };
}

}  // namespace

Result<LoggedModelStatus> ParseLoggedModelStatus(const std::string& s) {
  if (s == "LOGGED_MODEL_PENDING" || s == "PENDING" || s == "1") return LoggedModelStatus::kPending;
  if (s == "LOGGED_MODEL_READY" || s == "READY" || s == "2") return LoggedModelStatus::kReady;
  if (s == "LOGGED_MODEL_UPLOAD_FAILED" || s == "UPLOAD_FAILED" || s == "FAILED" || s == "3") {
    return LoggedModelStatus::kUploadFailed;
  }
  return InvalidArgument(
      "Invalid logged model status '" + std::string(Utf8Prefix(s, 64)) +
      "'. Expected one of LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED");
}

LoggedModelService::LoggedModelService(MetadataStore* store, GroupCommitter* writer, Clock* clock,
                                       Random* random)
    : store_(store), writer_(writer), clock_(clock), random_(random) {}

void LoggedModelService::Write(TxnFn fn, Done done) { writer_->Submit(std::move(fn), std::move(done)); }

void LoggedModelService::Create(CreateLoggedModelRequest req, DoneWith<LoggedModel> done) {
  Status valid = Status::Ok();
  int64_t exp_id = 0;
  if (req.experiment_id.empty())
    valid = InvalidArgument("Missing value for required parameter 'experiment_id'");
  else if (!ParseDecimalId(req.experiment_id, &exp_id)) {
    valid = NotFound("No Experiment with id=" + std::string(Utf8Prefix(req.experiment_id, 64)) + " exists");
  }
  if (valid.ok() && req.name) valid = ValidateLoggedModelName(*req.name);
  if (valid.ok() && req.model_type && req.model_type->size() > kMaxModelTypeLength) {
    valid = InvalidArgument("model_type exceeds the maximum length of 500 characters");
  }
  if (valid.ok() && req.source_run_id && !req.source_run_id->empty())
    valid = ValidateRunIdFormat(*req.source_run_id);
  if (valid.ok()) valid = ValidateEntries("param", req.params, kMaxParamsPerRequest);
  if (valid.ok()) valid = ValidateEntries("tag", req.tags, kMaxTagsPerRequest);
  if (!valid.ok()) return done(valid);

  LoggedModel m;
  m.model_id = "m-" + NewRunId(*random_);
  m.experiment_id = req.experiment_id;
  m.name = req.name ? *req.name : NewRunName(*random_);
  m.creation_timestamp = m.last_updated_timestamp = clock_->NowMillis();
  m.status = LoggedModelStatus::kPending;
  m.model_type = req.model_type.value_or("");
  m.source_run_id = req.source_run_id.value_or("");
  m.tags = std::move(req.tags);
  m.params = std::move(req.params);
  auto reply = std::make_shared<std::optional<LoggedModel>>();
  Write(
      [m = std::move(m), reply](WriteTxn& txn) mutable -> Status {
        TAMGA_ASSIGN_OR_RETURN(Experiment e, txn.GetExperiment(m.experiment_id));
        if (e.lifecycle_stage != LifecycleStage::kActive) {
          return InvalidArgument("The experiment " + m.experiment_id + " must be in the 'active' state.");
        }
        if (!m.source_run_id.empty()) {
          TAMGA_ASSIGN_OR_RETURN(RunInfo run, txn.GetRunInfo(m.source_run_id));
          if (run.lifecycle_stage != LifecycleStage::kActive) {
            return InvalidArgument("The run " + run.run_id +
                                   " must be in the 'active' state. Current state is "
                                   "deleted.");
          }
        }
        std::string root = e.artifact_location;
        while (!root.empty() && root.back() == '/') root.pop_back();
        m.artifact_uri = root + "/models/" + m.model_id + "/artifacts";
        TAMGA_RETURN_IF_ERROR(txn.registry().CreateLoggedModel(m));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetLoggedModel(m.model_id));
        return Status::Ok();
      },
      Answer(reply, std::move(done)));
}

Result<LoggedModel> LoggedModelService::Get(const std::string& model_id) {
  TAMGA_RETURN_IF_ERROR(ValidateModelId(model_id));
  return LiveModel(store_->registry(), model_id);
}

void LoggedModelService::Finalize(const std::string& model_id, LoggedModelStatus status,
                                  DoneWith<LoggedModel> done) {
  Status valid = ValidateModelId(model_id);
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<std::optional<LoggedModel>>();
  int64_t now = clock_->NowMillis();
  Write(
      [model_id, status, reply, now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, LiveModel(txn.registry().reader(), model_id));
        m.status = status;
        m.last_updated_timestamp = now;
        if (status == LoggedModelStatus::kReady) m.status_message.clear();
        TAMGA_RETURN_IF_ERROR(txn.registry().UpdateLoggedModel(m));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetLoggedModel(model_id));
        return Status::Ok();
      },
      Answer(reply, std::move(done)));
}

void LoggedModelService::Delete(const std::string& model_id, Done done) {
  Status valid = ValidateModelId(model_id);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [model_id, now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, txn.registry().reader().GetLoggedModel(model_id));
        if (m.lifecycle_stage == LifecycleStage::kDeleted) return Status::Ok();  // idempotent, as in MLflow
        m.lifecycle_stage = LifecycleStage::kDeleted;
        m.last_updated_timestamp = now;
        return txn.registry().UpdateLoggedModel(m);
      },
      std::move(done));
}

Result<LoggedModelSearchResult> LoggedModelService::Search(const LoggedModelSearchRequest& req) {
  if (req.experiment_ids.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_ids'");
  }
  if (req.experiment_ids.size() > 100)
    return InvalidArgument("At most 100 experiment_ids may be searched at once");
  if (req.has_datasets) {
    return InvalidArgument(
        "Searching logged models by dataset-scoped metrics is not supported by this server");
  }
  if (req.max_results < 1 || req.max_results > kMaxSearchResults) {
    return InvalidArgument("Invalid value for request parameter max_results. It must be between 1 and " +
                           std::to_string(kMaxSearchResults) + ", but got value " +
                           std::to_string(req.max_results));
  }
  LoggedModelQuery q;
  for (const auto& id : req.experiment_ids) {
    int64_t n = 0;
    if (!ParseDecimalId(id, &n))
      return InvalidArgument("Invalid experiment ID '" + std::string(Utf8Prefix(id, 64)) + "'");
    q.experiment_ids.push_back(id);
  }
  TAMGA_ASSIGN_OR_RETURN(q.filter, ParseSearchFilter(req.filter, SearchEntity::kLoggedModels));
  for (auto& c : q.filter) TAMGA_RETURN_IF_ERROR(NormaliseStatusFilter(c));
  std::set<std::string> seen;
  for (const auto& o : req.order_by) {
    std::string key = o.field_name;
    if (key == "creation_time") key = "creation_timestamp";
    if (key == "last_updated_time") key = "last_updated_timestamp";
    static const std::set<std::string> kKeys = {
        "name",         "model_id", "model_type", "status", "creation_timestamp", "last_updated_timestamp",
        "source_run_id"};
    if (key.rfind("metrics.", 0) == 0) {
      return InvalidArgument("Ordering logged models by metrics is not supported by this server");
    }
    if (!kKeys.count(key)) {
      return InvalidArgument(
          "Invalid order_by field_name '" + std::string(Utf8Prefix(o.field_name, 100)) +
          "'. Valid fields are ['name', 'model_id', 'model_type', 'status', 'creation_timestamp', "
          "'last_updated_timestamp', 'source_run_id']");
    }
    if (!seen.insert(key).second) return InvalidArgument("`order_by` contains duplicate fields: " + key);
    q.order.push_back(OrderKey{FieldKind::kAttribute, key, o.ascending});
  }
  TAMGA_ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  q.max_results = req.max_results;
  TAMGA_ASSIGN_OR_RETURN(LoggedModelPage page, store_->registry().SearchLoggedModels(q));
  LoggedModelSearchResult out;
  out.models = std::move(page.models);
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

void LoggedModelService::SetTags(const std::string& model_id, std::vector<KeyValue> tags, Done done) {
  Status valid = ValidateModelId(model_id);
  if (valid.ok()) valid = ValidateEntries("tag", tags, kMaxTagsPerRequest);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [model_id, tags = std::move(tags), now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, LiveModel(txn.registry().reader(), model_id));
        TAMGA_RETURN_IF_ERROR(txn.registry().SetLoggedModelTags(model_id, tags));
        m.last_updated_timestamp = now;
        return txn.registry().UpdateLoggedModel(m);
      },
      std::move(done));
}

void LoggedModelService::DeleteTag(const std::string& model_id, std::string key, Done done) {
  Status valid = ValidateModelId(model_id);
  if (valid.ok()) valid = ValidateEntityKey("tag", key);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [model_id, key = std::move(key), now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, LiveModel(txn.registry().reader(), model_id));
        TAMGA_RETURN_IF_ERROR(txn.registry().DeleteLoggedModelTag(model_id, key));
        m.last_updated_timestamp = now;
        return txn.registry().UpdateLoggedModel(m);
      },
      std::move(done));
}

void LoggedModelService::LogParams(const std::string& model_id, std::vector<KeyValue> params, Done done) {
  Status valid = ValidateModelId(model_id);
  if (valid.ok()) valid = ValidateEntries("param", params, kMaxParamsPerRequest);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [model_id, params = std::move(params), now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, LiveModel(txn.registry().reader(), model_id));
        // Params are immutable, as on runs: re-logging the same value is fine, a different one is not.
        for (const auto& p : params) {
          for (const auto& old : m.params) {
            if (old.key == p.key && old.value != p.value) {
              return InvalidArgument("Changing param values is not allowed. Param with key='" + p.key +
                                     "' was already logged with value='" +
                                     std::string(Utf8Prefix(old.value, 100)) + "' for logged model ID='" +
                                     model_id + "'. Attempted logging new value '" +
                                     std::string(Utf8Prefix(p.value, 100)) + "'.");
            }
          }
        }
        TAMGA_RETURN_IF_ERROR(txn.registry().SetLoggedModelParams(model_id, params));
        m.last_updated_timestamp = now;
        return txn.registry().UpdateLoggedModel(m);
      },
      std::move(done));
}

void LoggedModelService::LogOutputs(const std::string& run_id, std::vector<RunOutput> outputs, Done done) {
  Status valid = ValidateRunIdFormat(run_id);
  if (valid.ok() && outputs.size() > 100) valid = InvalidArgument("A request may link at most 100 models");
  for (const auto& o : outputs) {
    if (!valid.ok()) break;
    valid = ValidateModelId(o.model_id);
    if (valid.ok() && o.step < 0) valid = InvalidArgument("Invalid step " + std::to_string(o.step));
  }
  if (!valid.ok()) return done(valid);
  Write(
      [run_id, outputs = std::move(outputs)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(RunInfo run, txn.GetRunInfo(run_id));
        if (run.lifecycle_stage != LifecycleStage::kActive) {
          return InvalidArgument("The run " + run_id +
                                 " must be in the 'active' state. Current state is deleted.");
        }
        for (const auto& o : outputs)
          TAMGA_RETURN_IF_ERROR(LiveModel(txn.registry().reader(), o.model_id).status());
        return txn.registry().AddRunOutputs(run_id, outputs);
      },
      std::move(done));
}

}  // namespace tamga
