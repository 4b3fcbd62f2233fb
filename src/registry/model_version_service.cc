// RegistryService: model versions (create with file ownership, stages, tags, delete, search).
#include <cctype>

#include "artifacts/artifact_path.h"
#include "core/ids.h"
#include "core/uri.h"
#include "core/utf8.h"
#include "registry/registry_events.h"
#include "registry/registry_internal.h"
#include "registry/registry_service.h"
#include "registry/registry_validation.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace tamga {

using namespace registry_internal;

namespace {

constexpr const char* kRegistryBlobRoot = "_registry";

Status LocalSource(const std::string& source) {
  return InvalidArgument(
      "Invalid model version source: '" + std::string(Utf8Prefix(source, 300)) +
      "'. To use a local path as a model version source, the run_id request parameter has to be "
      "specified and the local path has to be contained within the artifact directory of the run "
      "specified by the run_id.");
}

// MLflow's _validate_non_local_source_contains_relative_paths: after full unquoting, the URI's path
// (slashes collapsed, trailing ones dropped) must be absolute, free of "." and ".." segments and NUL.
Status CheckNonLocalSource(const std::string& source) {
  std::string path = ParseUri(UnquoteFully(source)).path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string collapsed;
  for (char c : path) {
    if (c == '/' && !collapsed.empty() && collapsed.back() == '/') continue;
    collapsed += c;
  }
  bool ok = !collapsed.empty() && collapsed[0] == '/' && collapsed.find('\0') == std::string::npos;
  for (size_t start = 1; ok && start <= collapsed.size();) {
    size_t end = collapsed.find('/', start);
    std::string segment = collapsed.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (segment == "." || segment == "..") ok = false;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (ok) return Status::Ok();
  return InvalidArgument("Invalid model version source: '" + std::string(Utf8Prefix(source, 300)) +
                         "'. If supplying a source as an http, https, local file path, ftp, objectstore, or "
                         "mlflow-artifacts uri, an absolute path must be provided without relative path "
                         "references present. Please provide an absolute path.");
}

// MLflow's _validate_source. A local path (no scheme, or file:) is only valid inside a run's local
// artifact directory; Tamga's runs keep artifacts behind the proxy, so every local source is refused
// (after the run lookup MLflow makes, so an unknown run is still a 404).
Status CheckSource(const std::string& source) {
  if (source.empty()) return InvalidArgument("Missing value for required parameter 'source'");
  if (source.size() > RegistryLimits::kMaxSource) return InvalidArgument("Model version source is too long");
  if (IsLocalUri(source)) return LocalSource(source);
  return CheckNonLocalSource(source);
}

Status VersionNotFound(const std::string& name, int64_t version) {
  return NotFound("Model Version (name=" + name + ", version=" + std::to_string(version) + ") not found");
}

}  // namespace

Result<RegistryService::PreparedSource> RegistryService::PrepareSource(const CreateModelVersionRequest& req) {
  if (Status s = CheckSource(req.source); !s.ok()) {
    if (IsLocalUri(req.source) && req.run_id && !req.run_id->empty()) {
      TAMGA_RETURN_IF_ERROR(store_->GetRunInfo(*req.run_id).status());
    }
    return s;
  }
  // Where the files are. The source itself is stored as given; this is the download location.
  std::string location = req.source;
  if (auto runs = ParseRunsUri(req.source)) {
    // A run Tamga does not know is accepted as MLflow does: the source is then its own location.
    if (auto run = store_->GetRunInfo(runs->run_id); run.ok()) {
      location = run->artifact_uri + (runs->path.empty() ? "" : "/" + runs->path);
    }
  } else if (ParseUri(req.source).scheme == "models") {
    auto resolved = Resolve(req.source);
    if (!resolved.ok()) {
      return InvalidArgument("Unable to fetch model from model URI source artifact location '" +
                             std::string(Utf8Prefix(req.source, 300)) +
                             "'.Error: " + resolved.status().message());
    }
    location = resolved->artifact_location;
  }
  auto blob = ProxiedBlobPath(location);
  // The store's root and the registry's own folder hold every model: copying them into the registry
  // would copy the registry into itself (doubling it on every call).
  if (blob && (blob->empty() || *blob == kRegistryBlobRoot)) {
    return InvalidArgument("Invalid model version source: '" + std::string(Utf8Prefix(req.source, 300)) +
                           "'. It names the whole artifact store or registry, not one model's files.");
  }
  if (blob) {
    std::string copy = std::string(kRegistryBlobRoot) + "/" + NewRunId(*random_);
    Status s = blobs_->CopyTree(*blob, copy);
    if (s.ok()) return PreparedSource{"mlflow-artifacts:/" + copy, true};
    if (s.code() != StatusCode::kNotFound) return s;
  }  // nothing uploaded there (yet): reference the location as given
  return PreparedSource{location, false};
}

void RegistryService::CreateModelVersion(CreateModelVersionRequest req, DoneWith<ModelVersion> done) {
  Status valid = ValidateModelName(req.name);
  if (valid.ok()) valid = ValidateTags(req.tags);
  if (valid.ok()) valid = ValidateDescription(req.description);
  if (valid.ok() && req.run_id && req.run_id->size() > RegistryLimits::kMaxRunId)
    valid = InvalidArgument("Model version run_id is too long");
  if (!valid.ok()) return done(valid);
  // Fail fast (before copying files) when the model does not exist; the transaction checks again.
  auto exists = store_->registry().MaxVersion(req.name);
  if (!exists.ok()) return done(exists.status());
  auto prepared = PrepareSource(req);
  if (!prepared.ok()) return done(prepared.status());
  if (req.run_id && req.run_id->empty()) req.run_id.reset();
  std::string source = req.source;
  std::string storage = prepared->location;
  auto reply = std::make_shared<std::optional<ModelVersion>>();
  int64_t now = clock_->NowMillis();
  BlobStore* blobs = blobs_;
  bool copied = prepared->copied;
  Write(
      [req = std::move(req), source = source, storage = storage, reply, now](
          WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        std::optional<std::string> run_id = req.run_id;
        if (req.model_id) {
          TAMGA_ASSIGN_OR_RETURN(LoggedModel logged, txn.registry().reader().GetLoggedModel(*req.model_id));
          // Provenance: a version registered from a logged model records the run that produced it.
          if (!run_id && !logged.source_run_id.empty()) run_id = logged.source_run_id;
        }
        if (!run_id) run_id = std::string();  // MLflow stores "" for an absent run_id
        // Touching the model first locks its row (PostgreSQL): a replica creating a version of the same model
        // at this moment waits for this commit, then reads the new maximum. No two versions share a number.
        TAMGA_RETURN_IF_ERROR(txn.registry().TouchRegisteredModel(req.name, now));
        TAMGA_ASSIGN_OR_RETURN(int64_t max, txn.registry().reader().MaxVersion(req.name));
        ModelVersion v;
        v.name = req.name;
        v.version = max + 1;
        v.creation_timestamp = v.last_updated_timestamp = now;
        v.user_id = req.user_id;
        v.description = req.description;
        v.source = source;
        v.run_id = run_id;
        v.run_link = req.run_link;
        v.storage_location = storage;
        v.model_id = req.model_id;
        v.tags = req.tags;
        TAMGA_RETURN_IF_ERROR(txn.registry().CreateModelVersion(v));
        events->push_back(VersionCreatedEvent(v, now));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetModelVersion(req.name, v.version));
        return Status::Ok();
      },
      [reply, done = std::move(done), blobs, copied, storage = storage](Status s) {
        // A copy made for a version that was never committed is garbage: remove it.
        if (!s.ok() && copied) (void)blobs->Delete(*ProxiedBlobPath(storage));
        Finish(reply, done)(s);
      });
}

Result<ModelVersion> RegistryService::GetModelVersion(const std::string& name, const std::string& version) {
  TAMGA_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  auto mv = store_->registry().GetModelVersion(name, v);
  if (mv.status().code() == StatusCode::kNotFound) return VersionNotFound(name, v);
  return mv;
}

void RegistryService::UpdateModelVersion(const std::string& name, const std::string& version,
                                         std::optional<std::string> description,
                                         DoneWith<ModelVersion> done) {
  auto v = ParseModelVersion(version);
  Status valid = v.ok() ? ValidateDescription(description) : v.status();
  if (!valid.ok()) return done(valid);
  auto reply = std::make_shared<std::optional<ModelVersion>>();
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, description = std::move(description), reply, now](
          WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().SetModelVersionDescription(name, v, description, now));
        events->push_back(VersionUpdatedEvent(name, v, description, now));
        TAMGA_ASSIGN_OR_RETURN(*reply, txn.registry().reader().GetModelVersion(name, v));
        return Status::Ok();
      },
      Finish(reply, std::move(done)));
}

void RegistryService::TransitionStage(const std::string& name, const std::string& version,
                                      const std::string& stage, bool archive_existing,
                                      DoneWith<ModelVersion> done) {
  auto v = ParseModelVersion(version);
  if (!v.ok()) return done(v.status());
  auto canonical = CanonicalStage(stage);
  if (!canonical.ok()) return done(canonical.status());
  std::string to = *canonical;
  if (archive_existing && to != "Staging" && to != "Production") {
    return done(InvalidArgument("Model version transition cannot archive existing model versions because '" +
                                to + "' is not an Active stage. Valid stages are Staging, Production"));
  }
  auto reply = std::make_shared<std::optional<ModelVersion>>();
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, to, archive_existing, reply, now](WriteTxn& txn,
                                                       std::vector<RegistryEvent>* events) -> Status {
        RegistryReader& r = txn.registry().reader();
        auto current = r.GetModelVersion(name, v);
        if (current.status().code() == StatusCode::kNotFound) return VersionNotFound(name, v);
        TAMGA_RETURN_IF_ERROR(current.status());
        if (archive_existing) {
          RegistryQuery q;
          q.filter.push_back({FieldKind::kAttribute, "name", CompareOp::kEq, name});
          q.max_results = RegistryLimits::kMaxVersionSearchResults;
          TAMGA_ASSIGN_OR_RETURN(auto all, r.SearchModelVersions(q));
          for (const auto& other : all.versions) {
            if (other.version == v || other.current_stage != to) continue;
            TAMGA_RETURN_IF_ERROR(txn.registry().SetModelVersionStage(name, other.version, "Archived", now));
            events->push_back(VersionStageEvent(name, other.version, other.current_stage, "Archived", now));
          }
        }
        TAMGA_RETURN_IF_ERROR(txn.registry().SetModelVersionStage(name, v, to, now));
        TAMGA_RETURN_IF_ERROR(txn.registry().TouchRegisteredModel(name, now));
        events->push_back(VersionStageEvent(name, v, current->current_stage, to, now));
        TAMGA_ASSIGN_OR_RETURN(*reply, r.GetModelVersion(name, v));
        return Status::Ok();
      },
      Finish(reply, std::move(done)));
}

void RegistryService::DeleteModelVersion(const std::string& name, const std::string& version, Done done) {
  auto v = ParseModelVersion(version);
  if (!v.ok()) return done(v.status());
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        auto current = txn.registry().reader().GetModelVersion(name, v);
        if (current.status().code() == StatusCode::kNotFound) return VersionNotFound(name, v);
        TAMGA_RETURN_IF_ERROR(current.status());
        TAMGA_RETURN_IF_ERROR(txn.registry().DeleteModelVersion(name, v, now));
        TAMGA_RETURN_IF_ERROR(txn.registry().TouchRegisteredModel(name, now));
        for (const auto& alias : current->aliases) {
          events->push_back(AliasEvent(event_type::kAliasDeleted, name, alias, v, now));
        }
        events->push_back(VersionDeletedEvent(name, v, now));
        return Status::Ok();
      },
      std::move(done));
}

Result<ModelVersionSearchResult> RegistryService::SearchModelVersions(const RegistrySearchRequest& req) {
  RegistryQuery q;
  TAMGA_ASSIGN_OR_RETURN(q.max_results,
                         ParseMaxResults(req.max_results, RegistryLimits::kMaxVersionSearchResults));
  TAMGA_ASSIGN_OR_RETURN(q.filter, ParseSearchFilter(req.filter, SearchEntity::kModelVersions));
  ApplyPromptRule(&q);
  q.scope = req.scope;
  TAMGA_ASSIGN_OR_RETURN(q.order, ParseOrderBy(req.order_by, SearchEntity::kModelVersions));
  // MLflow's default order: most recently updated first (then name ASC, version DESC, added below).
  if (q.order.empty()) q.order.push_back({FieldKind::kAttribute, "last_updated_timestamp", false});
  if (!req.page_token.empty()) {
    TAMGA_ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  }
  TAMGA_ASSIGN_OR_RETURN(auto page, store_->registry().SearchModelVersions(q));
  ModelVersionSearchResult out;
  out.versions = std::move(page.versions);
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

Result<std::string> RegistryService::GetDownloadUri(const std::string& name, const std::string& version) {
  TAMGA_ASSIGN_OR_RETURN(auto v, GetModelVersion(name, version));
  return v.storage_location;
}

void RegistryService::SetModelVersionTag(const std::string& name, const std::string& version, KeyValue tag,
                                         Done done) {
  auto v = ParseModelVersion(version);
  Status valid = v.ok() ? ValidateRegistryTag(tag) : v.status();
  if (!valid.ok()) return done(valid);
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, tag = std::move(tag), now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().SetModelVersionTag(name, v, tag));
        events->push_back(VersionTagEvent(event_type::kVersionTagSet, name, v, tag, now));
        return Status::Ok();
      },
      std::move(done));
}

void RegistryService::DeleteModelVersionTag(const std::string& name, const std::string& version,
                                            std::string key, Done done) {
  auto v = ParseModelVersion(version);
  if (!v.ok()) return done(v.status());
  if (IsReservedVersionTag(key)) {
    return done(InvalidArgument("Tag key '" + key.substr(0, 64) +
                                "' is reserved: the server sets it (reference-score tests, rollouts)"));
  }
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, key = std::move(key), now](WriteTxn& txn, std::vector<RegistryEvent>* events) -> Status {
        TAMGA_RETURN_IF_ERROR(txn.registry().DeleteModelVersionTag(name, v, key));
        events->push_back(VersionTagEvent(event_type::kVersionTagDeleted, name, v, {key, ""}, now));
        return Status::Ok();
      },
      std::move(done));
}

void RegistryService::SetSystemVersionTags(const std::string& name, const std::string& version,
                                           std::vector<KeyValue> tags, Done done) {
  auto v = ParseModelVersion(version);
  if (!v.ok()) return done(v.status());
  int64_t now = clock_->NowMillis();
  Write(
      [name, v = *v, tags = std::move(tags), now](WriteTxn& txn,
                                                  std::vector<RegistryEvent>* events) -> Status {
        for (const auto& tag : tags) {
          TAMGA_RETURN_IF_ERROR(txn.registry().SetModelVersionTag(name, v, tag));
          events->push_back(VersionTagEvent(event_type::kVersionTagSet, name, v, tag, now));
        }
        return Status::Ok();
      },
      std::move(done));
}

}  // namespace tamga
