// TrackingService: construction, page tokens and experiments. Runs are in run_service.cc.
#include "tracking/tracking_service.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/ids.h"
#include "core/json_writer.h"
#include "core/uri.h"
#include "core/utf8.h"
#include "tracking/search_filter.h"
#include "tracking/validation.h"

namespace tamga {

std::string EncodeOffsetToken(int64_t offset) {
  return Base64Encode("{\"offset\": " + std::to_string(offset) + "}");
}

Result<int64_t> DecodeOffsetToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  std::string text;
  Status bad = InvalidArgument("Invalid page token, could not base64-decode");
  if (token.size() > 1000 || !Base64Decode(token, &text)) return bad;
  // Expected: {"offset": N}
  size_t colon = text.find(':');
  if (text.find("\"offset\"") == std::string::npos || colon == std::string::npos) {
    return InvalidArgument("Invalid page token, parsed value=" + std::string(Utf8Prefix(text, 100)));
  }
  size_t i = colon + 1;
  while (i < text.size() && text[i] == ' ') ++i;
  size_t j = i;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  int64_t offset;
  if (!ParseDecimalId(text.substr(i, j - i), &offset)) {
    return InvalidArgument("Invalid page token, parsed value=" + std::string(Utf8Prefix(text, 100)));
  }
  return offset;
}

TrackingService::TrackingService(const Options& options, MetadataStore* store, GroupCommitter* writer,
                                 Clock* clock, Random* random)
    : options_(options), store_(store), writer_(writer), clock_(clock), random_(random) {}

namespace {

// MLflow's checks on a given experiment artifact location: no fragment or params, no ".." in the query.
Status CheckArtifactLocation(const std::string& location) {
  UriParts parts = ParseUri(location);
  if (!parts.fragment.empty() || !parts.params.empty()) {
    return InvalidArgument("'artifact_location' URL can't include fragments or params.");
  }
  if (UnquoteFully(parts.query).find("..") != std::string::npos)
    return InvalidArgument("Invalid query string");
  return Status::Ok();
}

// MLflow's resolve_uri_if_local: a relative local path (or file: URI) is made absolute against the
// server's working directory; anything else is kept as given.
std::string ResolveLocalLocation(const std::string& location) {
  if (location.empty() || !IsLocalUri(location)) return location;
  UriParts parts = ParseUri(location);
  std::string path = parts.scheme.empty() ? location : Unquote(parts.path);
  if (!path.empty() && path[0] == '/') return location;
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (ec) return location;
  std::string absolute = (cwd / path).generic_string();
  if (parts.scheme.empty()) return absolute;
  std::string out = "file://" + absolute;
  if (!parts.query.empty()) out += "?" + parts.query;
  return out;
}

}  // namespace

Status TrackingService::EnsureDefaultExperiment() {
  auto existing = store_->GetExperiment("0");
  if (existing.ok()) return Status::Ok();
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  int64_t now = clock_->NowMillis();
  std::string location = options_.default_artifact_root + "/0";
  return writer_->SubmitAndWait([now, location](WriteTxn& txn) -> Status {
    Experiment e;
    e.experiment_id = "0";
    e.name = "Default";
    e.artifact_location = location;
    e.creation_time = now;
    e.last_update_time = now;
    auto id = txn.CreateExperiment(e);
    return id.ok() ? Status::Ok() : id.status();
  });
}

void TrackingService::CreateExperiment(CreateExperimentRequest req, DoneWith<std::string> done) {
  Status valid = ValidateExperimentName(req.name);
  for (const auto& t : req.tags) {
    if (valid.ok()) valid = ValidateExperimentTag(t);
  }
  if (valid.ok() && req.artifact_location.rfind("runs:", 0) == 0) {
    valid = InvalidArgument(
        "Artifact location cannot be a runs:/ URI. Specify a location such as "
        "'mlflow-artifacts:/' or a path.");
  }
  if (valid.ok() && req.artifact_location.size() > 8000)
    valid = InvalidArgument("artifact_location is too long");
  if (valid.ok()) valid = CheckArtifactLocation(req.artifact_location);
  if (!valid.ok()) return done(valid);
  req.artifact_location = ResolveLocalLocation(req.artifact_location);
  auto id = std::make_shared<std::string>();
  int64_t now = clock_->NowMillis();
  std::string root = options_.default_artifact_root;
  writer_->Submit(
      [req = std::move(req), id, now, root](WriteTxn& txn) -> Status {
        Experiment e;
        e.name = req.name;
        e.artifact_location = req.artifact_location;
        e.creation_time = now;
        e.last_update_time = now;
        e.tags = req.tags;
        auto created = txn.CreateExperiment(e);
        if (!created.ok()) return created.status();
        *id = *created;
        if (req.artifact_location.empty()) {
          return txn.SetExperimentArtifactLocation(*id, root + "/" + *id);
        }
        return Status::Ok();
      },
      [id, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(*id);
      });
}

Result<Experiment> TrackingService::GetExperiment(const std::string& experiment_id) {
  if (experiment_id.empty()) return InvalidArgument("Missing value for required parameter 'experiment_id'");
  auto e = store_->GetExperiment(experiment_id);
  if (!e.ok() && e.status().code() == StatusCode::kNotFound) {
    return NotFound("No Experiment with id=" + experiment_id + " exists");
  }
  return e;
}

Result<Experiment> TrackingService::GetExperimentByName(const std::string& name) {
  if (name.empty()) return InvalidArgument("Missing value for required parameter 'experiment_name'");
  auto e = store_->GetExperimentByName(name);
  if (!e.ok() && e.status().code() == StatusCode::kNotFound) {
    return NotFound("Could not find experiment with name '" + name + "'");
  }
  return e;
}

namespace {

bool MatchString(const std::optional<std::string>& v, const Comparison& c) {
  switch (c.op) {
    case CompareOp::kIsNull:
      return !v;
    case CompareOp::kIsNotNull:
      return v.has_value();
    default:
      break;
  }
  if (!v) return false;
  const auto* s = std::get_if<std::string>(&c.value);
  if (!s) return false;
  switch (c.op) {
    case CompareOp::kEq:
      return *v == *s;
    case CompareOp::kNe:
      return *v != *s;
    case CompareOp::kLike:
      return LikeMatch(*v, *s, false);
    case CompareOp::kILike:
      return LikeMatch(*v, *s, true);
    default:
      return false;
  }
}

bool MatchNumber(double v, const Comparison& c) {
  double x = std::get<double>(c.value);
  switch (c.op) {
    case CompareOp::kEq:
      return v == x;
    case CompareOp::kNe:
      return v != x;
    case CompareOp::kGt:
      return v > x;
    case CompareOp::kGe:
      return v >= x;
    case CompareOp::kLt:
      return v < x;
    case CompareOp::kLe:
      return v <= x;
    default:
      return false;
  }
}

bool ExperimentMatches(const Experiment& e, const std::vector<Comparison>& filter) {
  for (const auto& c : filter) {
    if (c.kind == FieldKind::kTag) {
      std::optional<std::string> v;
      for (const auto& t : e.tags) {
        if (t.key == c.key) v = t.value;
      }
      if (!MatchString(v, c)) return false;
    } else if (c.key == "creation_time" || c.key == "last_update_time") {
      if (!MatchNumber(double(c.key == "creation_time" ? e.creation_time : e.last_update_time), c))
        return false;
    } else {
      std::optional<std::string> v = c.key == "name" ? e.name : e.experiment_id;
      if (!MatchString(v, c)) return false;
    }
  }
  return true;
}

int CompareExperiments(const Experiment& a, const Experiment& b, const OrderKey& o) {
  int c = 0;
  if (o.key == "name")
    c = a.name.compare(b.name);
  else if (o.key == "experiment_id") {
    int64_t x = std::stoll(a.experiment_id), y = std::stoll(b.experiment_id);
    c = x < y ? -1 : x > y;
  } else if (o.key == "creation_time")
    c = a.creation_time < b.creation_time ? -1 : a.creation_time > b.creation_time;
  else
    c = a.last_update_time < b.last_update_time ? -1 : a.last_update_time > b.last_update_time;
  return o.ascending ? c : -c;
}

}  // namespace

Result<ExperimentPage> TrackingService::SearchExperiments(const SearchExperimentsRequest& req) {
  if (req.max_results <= 0 || req.max_results > TrackingLimits::kMaxSearchResults) {
    return InvalidArgument("Invalid value " + std::to_string(req.max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(TrackingLimits::kMaxSearchResults) + ", and a positive number.");
  }
  TAMGA_ASSIGN_OR_RETURN(auto filter, ParseSearchFilter(req.filter, SearchEntity::kExperiments));
  TAMGA_ASSIGN_OR_RETURN(auto order, ParseOrderBy(req.order_by, SearchEntity::kExperiments));
  TAMGA_ASSIGN_OR_RETURN(int64_t offset, DecodeOffsetToken(req.page_token));
  bool has_creation = false, has_id = false;
  for (const auto& o : order) {
    has_creation |= o.key == "creation_time";
    has_id |= o.key == "experiment_id";
  }
  if (!has_creation) order.push_back({FieldKind::kAttribute, "creation_time", false});
  if (!has_id) order.push_back({FieldKind::kAttribute, "experiment_id", true});
  TAMGA_ASSIGN_OR_RETURN(auto all, store_->ListExperiments(req.view));
  std::vector<Experiment> matched;
  for (auto& e : all) {
    if (req.visible && !req.visible(e.experiment_id)) continue;
    if (ExperimentMatches(e, filter)) matched.push_back(std::move(e));
  }
  std::stable_sort(matched.begin(), matched.end(), [&](const Experiment& a, const Experiment& b) {
    for (const auto& o : order) {
      int c = CompareExperiments(a, b, o);
      if (c != 0) return c < 0;
    }
    return false;
  });
  ExperimentPage page;
  int64_t end = std::min<int64_t>(static_cast<int64_t>(matched.size()), offset + req.max_results);
  for (int64_t i = offset; i < end; ++i) page.experiments.push_back(std::move(matched[i]));
  if (end < static_cast<int64_t>(matched.size())) page.next_page_token = EncodeOffsetToken(end);
  return page;
}

void TrackingService::SetExperimentStage(const std::string& experiment_id, LifecycleStage stage, Done done) {
  if (experiment_id.empty())
    return done(InvalidArgument("Missing value for required parameter 'experiment_id'"));
  int64_t now = clock_->NowMillis();
  writer_->Submit(
      [experiment_id, stage, now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(Experiment e, txn.GetExperiment(experiment_id));
        if (stage == LifecycleStage::kDeleted && e.lifecycle_stage != LifecycleStage::kActive) {
          return NotFound("Could not delete experiment with id=" + experiment_id +
                          ": it must be in the 'active' state. Current state: deleted");
        }
        if (stage == LifecycleStage::kActive && e.lifecycle_stage != LifecycleStage::kDeleted) {
          return InvalidArgument("Cannot restore an active experiment.");
        }
        // The stored id, not the caller's spelling: "00" and "+0" name the default experiment too.
        if (stage == LifecycleStage::kDeleted && e.experiment_id == "0") {
          return InvalidArgument(
              "Cannot delete the default experiment '0'. This is an internally reserved "
              "experiment.");
        }
        return txn.SetExperimentLifecycle(experiment_id, stage, now);
      },
      std::move(done));
}

void TrackingService::DeleteExperiment(const std::string& experiment_id, Done done) {
  SetExperimentStage(experiment_id, LifecycleStage::kDeleted, std::move(done));
}

void TrackingService::RestoreExperiment(const std::string& experiment_id, Done done) {
  SetExperimentStage(experiment_id, LifecycleStage::kActive, std::move(done));
}

void TrackingService::RenameExperiment(const std::string& experiment_id, std::string new_name, Done done) {
  if (experiment_id.empty())
    return done(InvalidArgument("Missing value for required parameter 'experiment_id'"));
  Status valid = ValidateExperimentName(new_name);
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  writer_->Submit(
      [experiment_id, new_name = std::move(new_name), now](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(Experiment e, txn.GetExperiment(experiment_id));
        if (e.lifecycle_stage != LifecycleStage::kActive) {
          return FailedPrecondition("Cannot rename a non-active experiment.");
        }
        return txn.RenameExperiment(experiment_id, new_name, now);
      },
      std::move(done));
}

void TrackingService::SetExperimentTag(const std::string& experiment_id, KeyValue tag, Done done) {
  if (experiment_id.empty())
    return done(InvalidArgument("Missing value for required parameter 'experiment_id'"));
  Status valid = ValidateExperimentTag(tag);
  if (!valid.ok()) return done(valid);
  writer_->Submit(
      [experiment_id, tag = std::move(tag)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(Experiment e, txn.GetExperiment(experiment_id));
        if (e.lifecycle_stage != LifecycleStage::kActive) {
          return InvalidArgument("The experiment " + experiment_id +
                                 " must be in the 'active' state. "
                                 "Current state is deleted.");
        }
        return txn.SetExperimentTag(experiment_id, tag);
      },
      std::move(done));
}

void TrackingService::DeleteExperimentTag(const std::string& experiment_id, std::string key, Done done) {
  if (experiment_id.empty())
    return done(InvalidArgument("Missing value for required parameter 'experiment_id'"));
  if (key.empty()) return done(InvalidArgument("Missing value for required parameter 'key'"));
  writer_->Submit(
      [experiment_id, key = std::move(key)](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(Experiment e, txn.GetExperiment(experiment_id));
        if (e.lifecycle_stage != LifecycleStage::kActive) {
          return InvalidArgument("The experiment " + experiment_id + " must be in the 'active' state.");
        }
        return txn.DeleteExperimentTag(experiment_id, key);
      },
      std::move(done));
}

}  // namespace tamga
