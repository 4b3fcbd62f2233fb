// TrackingService: runs, params, metrics, tags, inputs, search and metric history.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>

#include "core/ids.h"
#include "core/json_writer.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace tamga {
namespace {

constexpr const char* kRunNameTag = "mlflow.runName";

Status RequireActiveRun(const RunInfo& info) {
  if (info.lifecycle_stage != LifecycleStage::kActive) {
    return InvalidArgument("The run " + info.run_id +
                           " must be in the 'active' state. Current state is deleted.");
  }
  return Status::Ok();
}

Status MissingRunId(const std::string& run_id) {
  if (run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  return Status::Ok();
}

}  // namespace

Result<Run> TrackingService::PrepareRun(CreateRunRequest req) {
  if (req.experiment_id.empty()) req.experiment_id = "0";
  std::optional<std::string> tag_name;
  for (auto& t : req.tags) {
    TAMGA_RETURN_IF_ERROR(ValidateEntityKey("tag", t.key));
    TruncateRunTagValue(&t.value);
    if (t.key == kRunNameTag) tag_name = t.value;
  }
  if (req.user_id.size() > 256) return InvalidArgument("user_id is longer than 256 characters");
  if (!req.run_name.empty() && tag_name && *tag_name != req.run_name) {
    return InvalidArgument(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
        "different values (run_name='" +
        req.run_name + "', mlflow.runName='" + *tag_name + "').");
  }
  if (req.run_name.empty()) req.run_name = tag_name ? *tag_name : NewRunName(*random_);
  if (req.run_name.size() > TrackingLimits::kMaxRunName) {
    return InvalidArgument("Run name exceeds the maximum length of 250 characters");
  }
  if (!tag_name) req.tags.push_back({kRunNameTag, req.run_name});
  Run run;
  run.info.run_id = NewTimeOrderedId(*random_, clock_->NowMillis());
  run.info.experiment_id = req.experiment_id;
  run.info.run_name = req.run_name;
  run.info.user_id = req.user_id;
  run.info.status = RunStatus::kRunning;
  run.info.start_time = req.start_time.value_or(clock_->NowMillis());
  run.tags = std::move(req.tags);
  return run;
}

void TrackingService::CreateRun(CreateRunRequest req, DoneWith<Run> done) {
  std::vector<CreateRunRequest> one;
  one.push_back(std::move(req));
  CreateRuns(std::move(one), [done = std::move(done)](Result<std::vector<Run>> r) {
    if (!r.ok()) return done(r.status());
    done(std::move(r->front()));
  });
}

void TrackingService::CreateRuns(std::vector<CreateRunRequest> reqs, DoneWith<std::vector<Run>> done,
                                 const std::string& item_name) {
  auto runs = std::make_shared<std::vector<Run>>();
  runs->reserve(reqs.size());
  // Errors name the item when there are several ("jobs[3]: ...").
  auto named = [n = reqs.size(), item_name](size_t i, const Status& s) {
    return n == 1 ? s : Status(s.code(), item_name + "[" + std::to_string(i) + "]: " + s.message());
  };
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto run = PrepareRun(std::move(reqs[i]));
    if (!run.ok()) return done(named(i, run.status()));
    runs->push_back(std::move(*run));
  }
  writer_->Submit(
      [runs, named](WriteTxn& txn) -> Status {
        std::unordered_map<std::string, std::string> locations;  // experiment id -> artifact location
        for (size_t i = 0; i < runs->size(); ++i) {
          Run& run = (*runs)[i];
          auto loc = locations.find(run.info.experiment_id);
          if (loc == locations.end()) {
            auto exp = txn.GetExperiment(run.info.experiment_id);
            if (!exp.ok()) return named(i, exp.status());
            if (exp->lifecycle_stage != LifecycleStage::kActive) {
              return named(i, InvalidArgument("The experiment " + run.info.experiment_id +
                                              " must be in the 'active' state. Current state is deleted."));
            }
            loc = locations.emplace(run.info.experiment_id, exp->artifact_location).first;
          }
          // MLflow's append_to_uri_path: "mlflow-artifacts:/" + id is "mlflow-artifacts:/<id>", not
          // "...://<id>".
          std::string base = loc->second;
          while (!base.empty() && base.back() == '/') base.pop_back();
          run.info.artifact_uri = base + "/" + run.info.run_id + "/artifacts";
          Status s = txn.CreateRun(run.info, run.tags);
          if (!s.ok()) return named(i, s);
        }
        return Status::Ok();
      },
      [runs, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        for (auto& run : *runs) {
          std::sort(run.tags.begin(), run.tags.end(),
                    [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
        }
        done(std::move(*runs));
      });
}

void TrackingService::UpdateRun(UpdateRunRequest req, DoneWith<RunInfo> done) {
  Status s = MissingRunId(req.run_id);
  if (s.ok() && req.run_name && req.run_name->size() > TrackingLimits::kMaxRunName) {
    s = InvalidArgument("Run name exceeds the maximum length of 250 characters");
  }
  if (!s.ok()) return done(s);
  auto info = std::make_shared<RunInfo>();
  writer_->Submit(
      [req = std::move(req), info](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(*info, txn.GetRunInfo(req.run_id));
        TAMGA_RETURN_IF_ERROR(RequireActiveRun(*info));
        if (req.status) info->status = *req.status;
        if (req.end_time) info->end_time = *req.end_time;
        if (req.run_name && !req.run_name->empty()) {
          info->run_name = *req.run_name;
          TAMGA_RETURN_IF_ERROR(txn.SetTags(req.run_id, {{kRunNameTag, *req.run_name}}));
        }
        return txn.UpdateRunInfo(*info);
      },
      [info, done = std::move(done), observer = observer_](Status s) {
        if (!s.ok()) return done(s);
        if (observer) observer(info->run_id);
        done(std::move(*info));
      });
}

void TrackingService::SetRunStage(const std::string& run_id, LifecycleStage stage, Done done) {
  Status s = MissingRunId(run_id);
  if (!s.ok()) return done(s);
  writer_->Submit(
      [run_id, stage](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(RunInfo info, txn.GetRunInfo(run_id));
        if (stage == LifecycleStage::kActive) {
          auto exp = txn.GetExperiment(info.experiment_id);
          if (exp.ok() && exp->lifecycle_stage != LifecycleStage::kActive) {
            return InvalidArgument("Cannot restore run " + run_id + ": its experiment is deleted.");
          }
        }
        return txn.SetRunLifecycle(run_id, stage);
      },
      std::move(done));
}

void TrackingService::DeleteRun(const std::string& run_id, Done done) {
  SetRunStage(run_id, LifecycleStage::kDeleted, std::move(done));
}

void TrackingService::RestoreRun(const std::string& run_id, Done done) {
  SetRunStage(run_id, LifecycleStage::kActive, std::move(done));
}

void TrackingService::LogBatch(LogBatchRequest req, Done done) {
  Status s = MissingRunId(req.run_id);
  auto limit = [](size_t n, size_t max, const char* what) -> Status {
    if (n <= max) return Status::Ok();
    return InvalidArgument("A batch logging request can contain at most " + std::to_string(max) + " " + what +
                           ". Got " + std::to_string(n) + " " + what + ". Please split up " + what +
                           " across multiple requests and try again.");
  };
  if (s.ok()) s = limit(req.metrics.size(), TrackingLimits::kMaxBatchMetrics, "metrics");
  if (s.ok()) s = limit(req.params.size(), TrackingLimits::kMaxBatchParams, "params");
  if (s.ok()) s = limit(req.tags.size(), TrackingLimits::kMaxBatchTags, "tags");
  if (s.ok()) {
    s = limit(req.metrics.size() + req.params.size() + req.tags.size(), TrackingLimits::kMaxBatchTotal,
              "entities in total");
  }
  for (size_t i = 0; s.ok() && i < req.metrics.size(); ++i)
    s = ValidateEntityKey("metric", req.metrics[i].key);
  std::set<std::string_view> param_keys;
  for (auto& p : req.params) {
    if (!s.ok()) break;
    s = ValidateEntityKey("param", p.key);
    TruncateParamValue(&p.value);
    if (s.ok() && !param_keys.insert(p.key).second) {
      s = InvalidArgument("Duplicate parameter keys have been submitted: ['" + p.key +
                          "']. Please ensure the request contains only one param value per param key.");
    }
  }
  for (auto& t : req.tags) {
    if (!s.ok()) break;
    s = ValidateEntityKey("tag", t.key);
    TruncateRunTagValue(&t.value);
  }
  if (!s.ok()) return done(s);
  if (observer_ && !req.metrics.empty()) {
    done = [done = std::move(done), observer = observer_, run_id = req.run_id](Status st) {
      if (st.ok()) observer(run_id);
      done(st);
    };
  }
  writer_->Submit(
      [req = std::move(req)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(RunInfo info, txn.GetRunInfo(req.run_id));
        TAMGA_RETURN_IF_ERROR(RequireActiveRun(info));
        if (!req.params.empty()) {
          std::vector<std::string> keys;
          for (const auto& p : req.params) keys.push_back(p.key);
          TAMGA_ASSIGN_OR_RETURN(auto existing, txn.GetParams(req.run_id, keys));
          for (const auto& old : existing) {
            for (const auto& p : req.params) {
              if (p.key == old.key && p.value != old.value) {
                return InvalidArgument("Changing param values is not allowed. Param with key='" + p.key +
                                       "' was already logged with value='" + old.value + "' for run ID='" +
                                       req.run_id + "'. Attempted logging new value '" + p.value + "'.");
              }
            }
          }
          TAMGA_RETURN_IF_ERROR(txn.InsertParams(req.run_id, req.params));
        }
        TAMGA_RETURN_IF_ERROR(txn.SetTags(req.run_id, req.tags));
        return txn.LogMetrics(req.run_id, req.metrics);
      },
      std::move(done));
}

void TrackingService::DeleteTag(const std::string& run_id, std::string key, Done done) {
  Status s = MissingRunId(run_id);
  if (s.ok() && key.empty()) s = InvalidArgument("Missing value for required parameter 'key'");
  if (!s.ok()) return done(s);
  writer_->Submit(
      [run_id, key = std::move(key)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(RunInfo info, txn.GetRunInfo(run_id));
        TAMGA_RETURN_IF_ERROR(RequireActiveRun(info));
        return txn.DeleteTag(run_id, key);
      },
      std::move(done));
}

void TrackingService::LogInputs(const std::string& run_id, std::vector<DatasetInput> inputs, Done done) {
  Status s = MissingRunId(run_id);
  for (size_t i = 0; s.ok() && i < inputs.size(); ++i) s = ValidateDatasetInput(inputs[i]);
  if (!s.ok()) return done(s);
  writer_->Submit(
      [run_id, inputs = std::move(inputs)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(RunInfo info, txn.GetRunInfo(run_id));
        TAMGA_RETURN_IF_ERROR(RequireActiveRun(info));
        return txn.LogInputs(run_id, inputs);
      },
      std::move(done));
}

void TrackingService::LogModel(const std::string& run_id, std::string model_json, Done done) {
  Status s = MissingRunId(run_id);
  if (s.ok() && model_json.empty()) s = InvalidArgument("Missing value for required parameter 'model_json'");
  if (!s.ok()) return done(s);
  writer_->Submit(
      [run_id, model_json = std::move(model_json)](WriteTxn& txn) -> Status {
        constexpr const char* kHistoryTag = "mlflow.log-model.history";
        TAMGA_ASSIGN_OR_RETURN(RunInfo info, txn.GetRunInfo(run_id));
        TAMGA_RETURN_IF_ERROR(RequireActiveRun(info));
        TAMGA_ASSIGN_OR_RETURN(auto current, txn.GetTag(run_id, kHistoryTag));
        std::string value;
        if (current && current->size() >= 2 && current->front() == '[' && current->back() == ']') {
          value = current->substr(0, current->size() - 1);
          if (value.size() > 1) value += ", ";
          value += model_json + "]";
        } else {
          value = "[" + model_json + "]";
        }
        return txn.SetTags(run_id, {{kHistoryTag, value}});
      },
      std::move(done));
}

Result<Run> TrackingService::GetRun(const std::string& run_id) {
  TAMGA_RETURN_IF_ERROR(MissingRunId(run_id));
  return store_->GetRun(run_id);
}

Result<RunsPage> TrackingService::SearchRuns(const SearchRunsRequest& req) {
  if (req.max_results <= 0 || req.max_results > TrackingLimits::kMaxSearchResults) {
    return InvalidArgument("Invalid value " + std::to_string(req.max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(TrackingLimits::kMaxSearchResults) + ", and a positive number.");
  }
  RunQuery q;
  TAMGA_ASSIGN_OR_RETURN(q.filter, ParseSearchFilter(req.filter, SearchEntity::kRuns));
  if (!req.order_keys.empty()) {
    if (req.order_keys.size() > 10) return InvalidArgument("at most 10 sort keys");
    q.order = req.order_keys;
  } else {
    TAMGA_ASSIGN_OR_RETURN(q.order, ParseOrderBy(req.order_by, SearchEntity::kRuns));
  }
  if (req.offset) {
    if (*req.offset < 0) return InvalidArgument("Invalid value for parameter 'offset': must not be negative");
    q.offset = *req.offset;
  } else {
    TAMGA_ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  }
  q.count_total = req.count_total;
  RunsPage page;
  if (req.experiment_ids.empty()) return page;
  // Duplicates collapse; the rest is bounded (each id is a bound SQL variable).
  std::vector<std::string> ids = req.experiment_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > TrackingLimits::kMaxSearchExperiments) {
    return InvalidArgument("Invalid value for parameter 'experiment_ids': at most " +
                           std::to_string(TrackingLimits::kMaxSearchExperiments) + " experiments per search");
  }
  q.experiment_ids = std::move(ids);
  q.view = req.view;
  q.max_results = req.max_results;
  TAMGA_ASSIGN_OR_RETURN(RunPage found, store_->SearchRuns(q));
  page.runs = std::move(found.runs);
  page.total = found.total;
  if (found.has_more) page.next_page_token = EncodeOffsetToken(q.offset + req.max_results);
  return page;
}

}  // namespace tamga
