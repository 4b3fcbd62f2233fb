#include "deploy/deploy_service.h"

#include <algorithm>
#include "core/contain.h"
#include "core/json_parse.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/utf8.h"
#include "registry/mlmodel.h"
#include "registry/registry_events.h"

namespace tamga {

namespace {
constexpr const char* kConsumer = "deploy";
}

DeployService::DeployService(const Options& options, MetadataStore* store, GroupCommitter* writer,
                             RegistryService* registry, EventHub* hub, GitOpsWriter* gitops, Clock* clock)
    : options_(options),
      store_(store),
      writer_(writer),
      registry_(registry),
      hub_(hub),
      gitops_(gitops),
      clock_(clock) {}

DeployService::~DeployService() { Shutdown(); }

void DeployService::Start() {
  thread_ = std::thread([this] { RunLoopContained("deployment follower", [this] { FollowLoop(); }); });
}

void DeployService::Shutdown() {
  if (stopping_.exchange(true)) return;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeployService::Put(const std::string& spec_json, bool allow_missing,
                        std::function<void(Result<DeploymentRecord>)> done) {
  auto spec = ParseDeploymentSpec(spec_json);
  if (!spec.ok()) return done(spec.status());
  if (!allow_missing) {
    auto model = store_->registry().GetRegisteredModel(spec->model_name);
    if (model.status().code() == StatusCode::kNotFound) {
      return done(NotFound("Registered model '" + spec->model_name +
                           "' does not exist: register it first, or apply with allow_missing (CLI: "
                           "--allow-missing) to deploy it once it is registered"));
    }
    if (!model.ok()) return done(model.status());
  }
  int64_t now = clock_->NowMillis();
  auto record = std::make_shared<DeploymentRecord>();
  record->name = spec->name;
  record->model_name = spec->model_name;
  record->spec = DeploymentSpecJson(*spec);
  writer_->Submit(
      [record, now](WriteTxn& txn) -> Status {
        auto old = txn.registry().reader().GetDeployment(record->name);
        record->creation_timestamp = old.ok() ? old->creation_timestamp : now;
        record->last_updated_timestamp = now;
        if (old.ok() && old->spec == record->spec) {
          record->rendered_version = old->rendered_version;
          record->rendered_event_seq = old->rendered_event_seq;
        }
        return txn.registry().PutDeployment(*record);
      },
      [this, record, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        {
          MutexLock lock(&mu_);
          pending_.push_back(record->name);
        }
        cv_.notify_all();
        done(*record);
      });
}

void DeployService::Delete(const std::string& name, Done done) {
  auto existing = store_->registry().GetDeployment(name);
  if (!existing.ok()) return done(existing.status());
  auto spec = ParseDeploymentSpec(existing->spec);
  writer_->Submit([name](WriteTxn& txn) { return txn.registry().DeleteDeployment(name); },
                  [this, name, spec, done = std::move(done)](Status s) {
                    if (s.ok() && spec.ok()) {
                      MutexLock lock(&mu_);
                      pending_.push_back("-" + DeploymentDir(*spec) + "|" + name);
                    }
                    cv_.notify_all();
                    done(s);
                  });
}

Result<std::vector<DeploymentRecord>> DeployService::List() { return store_->registry().ListDeployments(); }

Result<DeploymentRecord> DeployService::Get(const std::string& name) {
  return store_->registry().GetDeployment(name);
}

// Whether the model needs the Python runtime image, and its pip requirements (read from the model's files
// in Tamga's store; a model stored elsewhere is rendered for the native runtime unless the spec forces it).
Status DeployService::FillRuntime(const ResolvedModel& resolved, RenderInput* in) {
  if (in->spec.runtime == "native") return Status::Ok();
  bool python = in->spec.runtime == "python";
  if (!resolved.blob_path.empty()) {
    if (!python) {
      auto info = ReadMlmodel(registry_->blobs(), resolved.blob_path);
      python = info.ok() && NeedsPythonWorker(*info);
    }
    if (python) {
      auto req = ReadPipRequirements(registry_->blobs(), resolved.blob_path);
      if (!req.ok()) {
        return InvalidArgument("Deployment '" + in->spec.name +
                               "': the model's pip requirements cannot be "
                               "rendered: " +
                               req.status().message());
      }
      in->requirements = *req;
    }
  }
  in->python_runtime = python;
  return Status::Ok();
}

Result<RenderOutcome> DeployService::RenderSpec(const DeploymentSpec& spec, const std::string& reason,
                                                int64_t event_seq) {
  auto resolved = registry_->Resolve("models:/" + spec.model_name + "@" + spec.alias);
  if (!resolved.ok()) {
    return NotFound("Deployment '" + spec.name + "': models:/" + spec.model_name + "@" + spec.alias +
                    " does not resolve (" + resolved.status().message() + ")");
  }
  RenderInput in;
  in.spec = spec;
  in.version = resolved->version->version;
  in.run_id = resolved->run_id;
  in.tamga_version = options_.tamga_version;
  RenderOutcome out;
  out.version = in.version;
  if (spec.target == "local") return out;  // served in-process by `tamga server`; nothing to render
  TAMGA_RETURN_IF_ERROR(FillRuntime(*resolved, &in));
  out.files = RenderDeployment(in);
  std::string message = "deploy " + spec.name + ": " + spec.model_name + " version " +
                        std::to_string(in.version) + " (@" + spec.alias + ")\n\n" + reason +
                        "\nModel URI: models:/" + spec.model_name + "/" + std::to_string(in.version) + "\n";
  TAMGA_ASSIGN_OR_RETURN(auto written, gitops_->Write(DeploymentDir(spec), out.files, message));
  out.changed = written.changed;
  out.commit = written.commit;
  std::string name = spec.name;
  std::string version = std::to_string(in.version);
  TAMGA_RETURN_IF_ERROR(writer_->SubmitAndWait([name, version, event_seq](WriteTxn& txn) -> Status {
    auto d = txn.registry().reader().GetDeployment(name);
    if (!d.ok()) return Status::Ok();  // deleted meanwhile
    d->rendered_version = version;
    if (event_seq > 0) d->rendered_event_seq = event_seq;
    return txn.registry().PutDeployment(*d);
  }));
  TAMGA_LOG(kInfo, "deployment rendered",
            {{"deployment", spec.name},
             {"model", spec.model_name},
             {"version", version},
             {"changed", out.changed ? "true" : "false"},
             {"commit", out.commit}});
  return out;
}

Result<RenderOutcome> DeployService::Render(const std::string& name, const std::string& reason) {
  TAMGA_ASSIGN_OR_RETURN(auto record, store_->registry().GetDeployment(name));
  TAMGA_ASSIGN_OR_RETURN(auto spec, ParseDeploymentSpec(record.spec));
  spec.model_name = record.model_name;  // follows renames of the model
  return RenderSpec(spec, reason, 0);
}

Result<DeployService::Written> DeployService::WrittenFiles(const std::string& name) {
  TAMGA_ASSIGN_OR_RETURN(auto record, store_->registry().GetDeployment(name));
  TAMGA_ASSIGN_OR_RETURN(auto spec, ParseDeploymentSpec(record.spec));
  Written w;
  TAMGA_ASSIGN_OR_RETURN(w.files, gitops_->Read(DeploymentDir(spec), 1 << 20));
  TAMGA_ASSIGN_OR_RETURN(w.commits, gitops_->Log(DeploymentDir(spec), 50));
  // Commits made before this deployment was created belong to an earlier one of the same name (deleted):
  // not this one's history. Commit times have one-second resolution.
  int64_t since_s = record.creation_timestamp / 1000;
  w.commits.erase(std::remove_if(w.commits.begin(), w.commits.end(),
                                 [&](const GitOpsWriter::CommitInfo& c) { return c.time_s < since_s; }),
                  w.commits.end());
  return w;
}

Result<std::vector<RenderedFile>> DeployService::RenderUri(const std::string& model_uri,
                                                           const std::string& spec_json) {
  TAMGA_ASSIGN_OR_RETURN(auto resolved, registry_->Resolve(model_uri));
  if (!resolved.version) return InvalidArgument("'" + model_uri + "' is not a registered model version");
  nlohmann::json j = nlohmann::json::object();
  if (!spec_json.empty()) {
    auto parsed = ParseJson(spec_json);
    if (!parsed.ok()) return InvalidArgument("Deployment spec: " + parsed.status().message());
    j = std::move(*parsed);
  }
  if (!j.is_object()) return InvalidArgument("Deployment spec must be a JSON object");
  if (!j.contains("model_name")) j["model_name"] = resolved.version->name;
  if (!j["model_name"].is_string() || j["model_name"].get<std::string>() != resolved.version->name) {
    return InvalidArgument("Deployment spec: 'model_name' must be the model of '" + model_uri + "' (" +
                           resolved.version->name + ") or omitted");
  }
  if (!j.contains("name")) {
    std::string n;
    for (char c : resolved.version->name) {
      char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      n += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
    }
    while (!n.empty() && n.back() == '-') n.pop_back();
    while (!n.empty() && n.front() == '-') n.erase(0, 1);
    j["name"] = std::string(Utf8Prefix(n, 53)).empty() ? "model" : std::string(Utf8Prefix(n, 53));
  }
  TAMGA_ASSIGN_OR_RETURN(auto spec, ParseDeploymentSpec(DumpJson(j)));
  RenderInput in;
  in.spec = spec;
  in.version = resolved.version->version;
  in.run_id = resolved.run_id;
  in.tamga_version = options_.tamga_version;
  TAMGA_RETURN_IF_ERROR(FillRuntime(resolved, &in));
  return RenderDeployment(in);
}

Status DeployService::HandleEvent(const RegistryEvent& e) {
  if (e.type != event_type::kAliasCreated && e.type != event_type::kModelRenamed) return Status::Ok();
  TAMGA_ASSIGN_OR_RETURN(auto all, store_->registry().ListDeployments());
  for (const auto& d : all) {
    if (d.model_name != e.model_name) continue;
    auto spec = ParseDeploymentSpec(d.spec);
    if (!spec.ok()) continue;
    if (e.type == event_type::kAliasCreated && spec->alias != e.alias) continue;
    spec->model_name = d.model_name;  // follows renames of the model
    std::string reason = "Event #" + std::to_string(e.seq) + " " + e.type + ": " + e.model_name +
                         (e.alias.empty() ? "" : "@" + e.alias) +
                         (e.version.empty() ? "" : " -> version " + e.version);
    auto r = RenderSpec(*spec, reason, e.seq);
    if (!r.ok()) {
      TAMGA_LOG(kWarn, "deployment render failed",
                {{"deployment", d.name}, {"error", r.status().ToString()}});
    }
  }
  return Status::Ok();
}

void DeployService::FollowLoop() {
  auto stored = store_->registry().GetEventCursor(kConsumer);
  int64_t cursor = stored.ok() ? *stored : 0;
  while (!stopping_) {
    std::deque<std::string> pending;
    {
      MutexLock lock(&mu_);
      pending.swap(pending_);
    }
    for (const auto& item : pending) {
      if (!item.empty() && item[0] == '-') {  // "-<dir>|<name>": a deleted deployment
        size_t bar = item.find('|');
        auto r = gitops_->Remove(item.substr(1, bar - 1),
                                 "undeploy " + item.substr(bar + 1) + ": deployment deleted\n");
        if (!r.ok()) TAMGA_LOG(kWarn, "removing deployment files failed", {{"error", r.status().ToString()}});
        continue;
      }
      auto r = Render(item, "Deployment created or updated.");
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
        TAMGA_LOG(kWarn, "deployment render failed",
                  {{"deployment", item}, {"error", r.status().ToString()}});
      }
    }
    auto events = store_->registry().ListEvents(cursor, 100);
    if (events.ok() && !events->empty()) {
      // One replica follows the outbox at a time (a lease on the cursor), so each event renders once; the
      // lease outlives its holder's last batch by follow_lease_ms, then another replica resumes from the
      // stored cursor.
      std::optional<int64_t> stored_now;
      int64_t now = clock_->NowMillis();
      Status claim = writer_->SubmitAndWait([&](WriteTxn& txn) -> Status {
        TAMGA_ASSIGN_OR_RETURN(stored_now,
                               txn.registry().ClaimEventCursor(kConsumer, options_.replica_id, now,
                                                               now + options_.follow_lease_ms));
        return Status::Ok();
      });
      if (!claim.ok() || !stored_now) {
        if (!claim.ok()) TAMGA_LOG(kWarn, "deploy follower: lease failed", {{"error", claim.ToString()}});
        hub_->Wait(INT64_MAX, options_.idle_poll_ms);
        auto again = store_->registry().GetEventCursor(kConsumer);
        if (again.ok()) cursor = *again;
        continue;
      }
      if (*stored_now != cursor) {  // another replica followed meanwhile: resume where it stopped
        cursor = *stored_now;
        continue;
      }
      for (const auto& e : *events) {
        Status s = HandleEvent(e);
        if (!s.ok())
          TAMGA_LOG(kWarn, "deploy follower: event failed",
                    {{"seq", std::to_string(e.seq)}, {"error", s.ToString()}});
        cursor = e.seq;
      }
      Status s = writer_->SubmitAndWait([this, cursor](WriteTxn& txn) -> Status {
        int64_t at = clock_->NowMillis();
        TAMGA_ASSIGN_OR_RETURN(auto held, txn.registry().ClaimEventCursor(kConsumer, options_.replica_id, at,
                                                                          at + options_.follow_lease_ms));
        if (!held) return Aborted("the deploy follower's lease ran out; another replica resumes");
        return txn.registry().SetEventCursor(kConsumer, cursor);
      });
      if (!s.ok()) TAMGA_LOG(kWarn, "deploy follower: storing cursor failed", {{"error", s.ToString()}});
      continue;
    }
    {
      UniqueLock lock(&mu_);
      if (!pending_.empty() || stopping_) continue;
    }
    // Wake on a new event (the hub), or on a Put/Delete (our cv), whichever comes first.
    if (hub_->Wait(cursor, 100)) continue;
    UniqueLock lock(&mu_);
    cv_.wait_for(lock.native(), std::chrono::milliseconds(options_.idle_poll_ms / 10), [&] {
      mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return stopping_ || !pending_.empty();
    });
  }
}

}  // namespace tamga
