#include "triggers/trigger_service.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <future>

#include "core/json_parse.h"
#include "core/log.h"
#include "data/dataset_ref.h"
#include "data/manifest.h"
#include "triggers/cron.h"

namespace tamga {
namespace {

std::string Iso(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%MZ", &tm);
  return buf;
}

struct Values {
  std::string trigger, event, dataset, version, ref, uri;
};

void Substitute(nlohmann::json& j, const Values& v) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    for (const auto& [key, val] : {std::pair<std::string, std::string>{"{trigger}", v.trigger},
                                   {"{event}", v.event},
                                   {"{dataset}", v.dataset},
                                   {"{version}", v.version},
                                   {"{ref}", v.ref},
                                   {"{uri}", v.uri}}) {
      for (size_t pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos + val.size()))
        s.replace(pos, key.size(), val);
    }
    j = s;
  } else if (j.is_array() || j.is_object()) {
    for (auto& x : j) Substitute(x, v);
  }
}

// The job the firing queues: the template with the event's values, the dataset pinned to the exact version,
// tags naming the trigger and the firing (recovery finds a queued job by them).
Result<JobSpec> JobFor(const TriggerRecord& t, const TriggerFiring& f, const std::string& dataset,
                       int64_t version) {
  TAMGA_ASSIGN_OR_RETURN(auto j, ParseJson(t.job_spec));
  Values v{t.name,
           f.detail,
           dataset,
           version ? std::to_string(version) : "",
           version ? FormatDatasetRef(dataset, version) : "",
           version ? "tamga-data://" + FormatDatasetRef(dataset, version) : ""};
  Substitute(j, v);
  if (version > 0) {
    bool pinned = false;
    if (j.contains("data") && j["data"].is_array()) {
      for (auto& d : j["data"]) {
        std::string ref = d.is_string() ? d.get<std::string>() : d.is_object() ? d.value("ref", "") : "";
        if (ref.substr(0, ref.find('@')) != dataset) continue;
        if (d.is_string())
          d = nlohmann::json{{"ref", v.ref}};
        else
          d["ref"] = v.ref;
        pinned = true;
      }
    }
    if (!pinned) j["data"].push_back({{"ref", v.ref}});
  }
  j["tags"]["tamga.trigger"] = t.name;
  j["tags"]["tamga.trigger.firing"] = std::to_string(f.id);
  if (!j.contains("run_name")) j["run_name"] = t.name + " " + f.detail;
  return ParseJobSpec(j.dump());
}

}  // namespace

Result<TriggerRecord> TriggerService::Create(const TriggerSpec& spec) {
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(spec.name));  // the same rules as dataset names
  if (int(!spec.on_dataset.empty()) + int(!spec.cron.empty()) + int(!spec.on_drift.empty()) != 1)
    return InvalidArgument(
        "A trigger needs one event: on_dataset (NAME@TAG), schedule (cron) or on_drift (a deployment)");
  TriggerRecord t;
  t.name = spec.name;
  t.job_spec = spec.job_json;
  t.register_model = spec.register_model;
  t.model_path = spec.model_path.empty() ? "model" : spec.model_path;
  t.created_by = spec.created_by;
  t.created_ms = clock_->NowMillis();
  if (!t.register_model.empty()) {
    bool ok = t.register_model.size() <= 256 && t.register_model.find('/') == std::string::npos &&
              t.register_model.find("..") == std::string::npos;
    for (char c : t.register_model) ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    if (!ok)
      return InvalidArgument("Invalid register_model: a model name without '/', '..' or control characters");
  }
  if (Status p = ValidateDataPath(t.model_path); !p.ok())
    return InvalidArgument("model_path: " + p.message());
  if (!spec.on_dataset.empty()) {
    TAMGA_ASSIGN_OR_RETURN(DatasetRef ref, ParseDatasetRef(spec.on_dataset));
    if (VersionNumberOf(ref.ref)) return InvalidArgument("on_dataset names a tag (NAME@TAG), not a version");
    t.kind = "dataset_tag";
    t.dataset = ref.name;
    t.tag = ref.ref.empty() ? "latest" : ref.ref;
    TAMGA_ASSIGN_OR_RETURN(t.cursor, store_->LastEventSeq());  // moves from now on
  } else if (!spec.on_drift.empty()) {
    if (spec.on_drift.size() > 253)
      return InvalidArgument("on_drift names a deployment (at most 253 characters)");
    for (char c : spec.on_drift) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
            c == '-' || c == '.'))
        return InvalidArgument("on_drift names a deployment: lower-case letters, digits, '-' and '.'");
    }
    t.kind = "drift";
    t.dataset = spec.on_drift;
  } else {
    TAMGA_ASSIGN_OR_RETURN(CronSchedule c, ParseCron(spec.cron));
    t.kind = "schedule";
    t.cron = spec.cron;
    t.cursor = NextCronTime(c, t.created_ms);
    if (t.cursor < 0) return InvalidArgument("The schedule '" + spec.cron + "' never fires");
  }
  // The template must make a valid job with the values substituted.
  TriggerFiring probe;
  probe.id = 1;
  probe.detail = "check";
  // The template must make a valid job with the values substituted: as written (its data entries checked as
  // given) and with the event's dataset pinned.
  auto as_written = JobFor(t, probe, "", 0);
  if (!as_written.ok()) return InvalidArgument("job template: " + as_written.status().message());
  auto job = JobFor(t, probe, t.dataset.empty() || t.kind == "drift" ? "dataset" : t.dataset, 1);
  if (!job.ok()) return InvalidArgument("job template: " + job.status().message());
  TAMGA_RETURN_IF_ERROR(store_->CreateTrigger(t));
  return t;
}

Result<TriggerRecord> TriggerService::Get(const std::string& name) { return store_->GetTrigger(name); }
Result<std::vector<TriggerRecord>> TriggerService::List() { return store_->ListTriggers(); }
Status TriggerService::Delete(const std::string& name) { return store_->DeleteTrigger(name); }
Result<std::vector<TriggerFiring>> TriggerService::Firings(const std::string& name, int64_t max_results) {
  TAMGA_RETURN_IF_ERROR(store_->GetTrigger(name).status());
  return store_->ListFirings(name, std::clamp<int64_t>(max_results, 1, 1000));
}

Status TriggerService::Submit(const TriggerRecord& t, TriggerFiring& f, const std::string& dataset,
                              int64_t version) {
  auto spec = JobFor(t, f, dataset, version);
  if (!spec.ok()) {
    f.state = "failed";
    f.reason = "job template: " + spec.status().message();
  } else {
    std::promise<Result<Job>> queued;
    jobs_->Submit(std::move(*spec), [&queued](Result<Job> j) { queued.set_value(std::move(j)); });
    auto job = queued.get_future().get();
    if (job.ok()) {
      f.state = "submitted";
      f.job_id = job->id;
      f.run_id = job->run_id;
    } else {
      f.state = "failed";
      f.reason = "queueing the job: " + job.status().message();
    }
  }
  f.updated_ms = clock_->NowMillis();
  return store_->UpdateFiring(f);
}

Status TriggerService::Fire(const TriggerRecord& t, const std::string& event_key, const std::string& detail,
                            const std::string& dataset, int64_t version, TriggerFiring* out) {
  std::lock_guard<std::mutex> l(fire_mu_);
  TriggerFiring f;
  f.trigger = t.name;
  f.event_key = event_key;
  f.detail = detail;
  f.state = "submitting";
  f.created_ms = f.updated_ms = clock_->NowMillis();
  TAMGA_ASSIGN_OR_RETURN(auto id, store_->InsertFiring(f));
  if (!id) return Status::Ok();  // fired for this event already
  f.id = *id;
  TAMGA_RETURN_IF_ERROR(Submit(t, f, dataset, version));
  TAMGA_LOG(kInfo, "trigger fired",
            {{"trigger", t.name}, {"event", detail}, {"job", f.job_id}, {"state", f.state}});
  if (out) *out = f;
  return Status::Ok();
}

Result<TriggerFiring> TriggerService::FireNow(const std::string& name) {
  TAMGA_ASSIGN_OR_RETURN(TriggerRecord t, store_->GetTrigger(name));
  int64_t now = clock_->NowMillis();
  std::string dataset;
  int64_t version = 0;
  std::string detail = "manual:" + Iso(now);
  if (t.kind == "dataset_tag" && datasets_ != nullptr) {  // the version the tag names now
    TAMGA_ASSIGN_OR_RETURN(DatasetRecord d, datasets_->Get(t.dataset));
    TAMGA_ASSIGN_OR_RETURN(DatasetVersionRecord v, datasets_->Resolve(d, t.tag));
    dataset = t.dataset;
    version = v.version;
    detail = "manual:" + FormatDatasetRef(dataset, version);
  }
  TriggerFiring f;
  TAMGA_RETURN_IF_ERROR(Fire(t, "manual:" + std::to_string(now), detail, dataset, version, &f));
  if (f.id == 0) return Aborted("fired at the same millisecond already; try again");
  return f;
}

void TriggerService::Recover() {
  auto pending = store_->FiringsInState("submitting");
  if (!pending.ok()) return;
  for (auto& f : *pending) {
    auto t = store_->GetTrigger(f.trigger);
    if (!t.ok()) continue;
    // Queued before the crash? Its job carries the firing's id.
    JobListQuery q;
    q.max_results = 1000;
    auto recent = jobs_->List(q);
    bool found = false;
    if (recent.ok()) {
      for (const auto& j : *recent) {
        auto it = j.spec.tags.find("tamga.trigger.firing");
        if (it != j.spec.tags.end() && it->second == std::to_string(f.id) &&
            j.spec.tags.count("tamga.trigger") && j.spec.tags.at("tamga.trigger") == f.trigger) {
          f.state = "submitted";
          f.job_id = j.id;
          f.run_id = j.run_id;
          f.updated_ms = clock_->NowMillis();
          (void)store_->UpdateFiring(f);
          found = true;
          break;
        }
      }
    }
    if (found) continue;
    std::string dataset;
    int64_t version = 0;
    std::string ref = f.detail.rfind("manual:", 0) == 0 ? f.detail.substr(7) : f.detail;
    size_t at = ref.find("@v");
    if (at != std::string::npos && t->kind == "dataset_tag") {
      dataset = ref.substr(0, at);
      version = std::atoll(ref.c_str() + at + 2);
    }
    (void)Submit(*t, f, dataset, version);
  }
}

void TriggerService::FollowJobs() {
  auto running = store_->FiringsInState("submitted");
  if (!running.ok()) return;
  for (auto& f : *running) {
    auto job = jobs_->Get(f.job_id);
    if (!job.ok() || !IsTerminal(job->state)) continue;
    f.updated_ms = clock_->NowMillis();
    if (job->state != JobState::kSucceeded) {
      f.state = "failed";
      f.reason = std::string(JobStateName(job->state)) + (job->reason.empty() ? "" : ": " + job->reason);
      (void)store_->UpdateFiring(f);
      continue;
    }
    auto t = store_->GetTrigger(f.trigger);
    if (!t.ok() || t->register_model.empty()) {
      f.state = "succeeded";
      (void)store_->UpdateFiring(f);
      continue;
    }
    // The run's model as a new version of the named model (created when missing) — only when the run saved
    // one.
    std::string exp = job->spec.experiment_id.empty() ? "0" : job->spec.experiment_id;
    auto exists =
        registry_->blobs().Exists(exp + "/" + job->run_id + "/artifacts/" + t->model_path + "/MLmodel");
    if (!exists.ok() || !*exists) {
      f.state = "failed";
      f.reason = "the run saved no model at '" + t->model_path + "' (no MLmodel there); nothing registered";
      (void)store_->UpdateFiring(f);
      continue;
    }
    std::promise<Status> made;
    CreateRegisteredModelRequest rm;
    rm.name = t->register_model;
    registry_->CreateRegisteredModel(rm, [&made](Result<RegisteredModel> r) {
      made.set_value(r.ok() || r.status().code() == StatusCode::kAlreadyExists ? Status::Ok() : r.status());
    });
    Status s = made.get_future().get();
    std::promise<Result<ModelVersion>> registered;
    if (s.ok()) {
      CreateModelVersionRequest mv;
      mv.name = t->register_model;
      mv.source = "runs:/" + job->run_id + "/" + t->model_path;
      mv.run_id = job->run_id;
      mv.tags = {{"tamga.trigger", t->name}, {"tamga.trigger.firing", std::to_string(f.id)}};
      registry_->CreateModelVersion(
          mv, [&registered](Result<ModelVersion> r) { registered.set_value(std::move(r)); });
      auto v = registered.get_future().get();
      if (v.ok()) {
        f.state = "registered";
        f.model_version = t->register_model + "/" + std::to_string(v->version);
      } else {
        s = v.status();
      }
    }
    if (!s.ok()) {
      f.state = "failed";
      f.reason = "registering the model: " + s.message();
    }
    (void)store_->UpdateFiring(f);
  }
}

void TriggerService::NotifyDrift(const std::string& deployment, const std::string& detail) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (drift_events_.size() >= 100) {
      TAMGA_LOG(kWarn, "drift event dropped: too many waiting", {{"deployment", deployment}});
      return;
    }
    drift_events_.push_back({deployment, detail, clock_->NowMillis()});
  }
  cv_.notify_all();
}

void TriggerService::Tick() {
  auto triggers = store_->ListTriggers();
  if (!triggers.ok()) return;
  std::vector<DriftEvent> drifts;
  {
    std::lock_guard<std::mutex> l(mu_);
    drifts.swap(drift_events_);
  }
  for (const auto& d : drifts) {
    for (const auto& t : *triggers) {
      if (t.kind != "drift" || !t.enabled || t.dataset != d.deployment) continue;
      Status s = Fire(t, "drift:" + std::to_string(d.at_ms), d.detail, "", 0, nullptr);
      if (!s.ok()) {
        TAMGA_LOG(kWarn, "drift trigger could not fire", {{"trigger", t.name}, {"error", s.message()}});
      }
    }
  }
  int64_t from = INT64_MAX;
  for (const auto& t : *triggers)
    if (t.kind == "dataset_tag" && t.enabled) from = std::min(from, t.cursor);
  if (from != INT64_MAX) {
    auto events = store_->EventsAfter(from, 1000);
    if (events.ok() && !events->empty()) {
      for (const auto& t : *triggers) {
        if (t.kind != "dataset_tag" || !t.enabled) continue;
        int64_t last = t.cursor;
        Status s = Status::Ok();
        for (const auto& e : *events) {
          if (e.seq <= t.cursor) continue;
          if (e.dataset == t.dataset && e.tag == t.tag)
            s = Fire(t, "event:" + std::to_string(e.seq), FormatDatasetRef(e.dataset, e.version), e.dataset,
                     e.version, nullptr);
          if (!s.ok()) break;  // retried from here next time (the firing is unique per event)
          last = e.seq;
        }
        if (last != t.cursor) (void)store_->SetCursor(t.name, last);
      }
    }
  }
  int64_t now = clock_->NowMillis();
  for (const auto& t : *triggers) {
    if (t.kind != "schedule" || !t.enabled || t.cursor <= 0 || now < t.cursor) continue;
    auto c = ParseCron(t.cron);
    if (!c.ok()) continue;
    Status s = Fire(t, "tick:" + std::to_string(t.cursor), Iso(t.cursor), "", 0, nullptr);
    if (s.ok()) (void)store_->SetCursor(t.name, NextCronTime(*c, now));  // missed ticks fire once
  }
  FollowJobs();
}

void TriggerService::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] {
    Recover();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      Tick();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(o_.poll_ms),
                   [this] { return stop_ || !drift_events_.empty(); });
    }
  });
}

void TriggerService::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tamga
