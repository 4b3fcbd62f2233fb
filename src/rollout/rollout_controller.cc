#include "rollout/rollout_controller.h"

#include <ctime>
#include <future>

#include "core/json_writer.h"
#include "core/log.h"
#include "registry/registry_validation.h"

namespace tamga {
namespace {

constexpr size_t kHistory = 20;

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", share * 100);
  return buf;
}

std::string Timestamp(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string TagOf(const ModelVersion& v, const std::string& key) {
  for (const auto& t : v.tags) {
    if (t.key == key) return t.value;
  }
  return "";
}

}  // namespace

std::string RolloutVariant(const std::string& version) { return "v" + version; }

RolloutController::RolloutController(DeployService* deploy, RegistryService* registry, ModelManager* models,
                                     Clock* clock)
    : deploy_(deploy), registry_(registry), models_(models), clock_(clock) {}

RolloutController::~RolloutController() { Shutdown(); }

void RolloutController::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      Tick();
      UniqueLock lock(&stop_mu_);
      if (cv_.wait_for(lock.native(), std::chrono::milliseconds(500), [&] {
            stop_mu_.AssertHeld();
            return stop_;
          }))
        return;
    }
  });
}

void RolloutController::Shutdown() {
  {
    MutexLock lock(&stop_mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string RolloutController::StageName(const DeploymentSpec& spec, int stage) const {
  if (stage < 0) return "shadow";
  return "step " + std::to_string(stage + 1) + " of " + std::to_string(spec.rollout.steps.size()) + " (" +
         std::to_string(static_cast<int>(StageWeight(spec, stage))) + "%)";
}

double RolloutController::StageWeight(const DeploymentSpec& spec, int stage) const {
  if (stage < 0 || stage >= static_cast<int>(spec.rollout.steps.size())) return 0;
  return spec.rollout.steps[stage].weight;
}

EndpointPlan RolloutController::Plan(const DeploymentSpec& spec) {
  MutexLock lock(&mu_);
  State& st = states_[spec.name];
  st.model = spec.model_name;
  st.alias = spec.alias;
  if (st.stable.empty()) {
    // First sight: the alias's version is the stable one, unless it is a candidate an earlier run did not
    // finish (its tags say so), which resumes.
    auto v = registry_->GetVersionByAlias(spec.model_name, spec.alias);
    if (v.ok()) {
      std::string version = std::to_string(v->version);
      std::string stable = TagOf(*v, std::string(kRolloutTagPrefix) + "stable");
      if (TagOf(*v, std::string(kRolloutTagPrefix) + "status") == "in_progress" && !stable.empty() &&
          stable != version) {
        st.stable = stable;
        st.candidate = version;
        st.stage = spec.rollout.shadow ? -1 : 0;
        st.history.push_back(Timestamp(clock_->NowMillis()) + " resumed v" + version +
                             ": found in progress (the server restarted or the deployment was re-created)");
      } else {
        st.stable = version;
      }
    }
  }
  return PlanFor(spec, st);
}

EndpointPlan RolloutController::PlanFor(const DeploymentSpec& spec, const State& st) {
  EndpointPlan plan;
  if (st.stable.empty()) {  // the alias names no version yet: follow it until it does
    plan.uris[kPrimaryVariant] = "models:/" + spec.model_name + "@" + spec.alias;
    plan.key = "rollout|waiting";
    return plan;
  }
  plan.policy.variants.clear();
  std::string s = RolloutVariant(st.stable);
  plan.uris[s] = "models:/" + spec.model_name + "/" + st.stable;
  if (st.candidate.empty()) {
    plan.policy.variants.push_back({s, 1, false});
    plan.key = "rollout|" + s;
    return plan;
  }
  std::string c = RolloutVariant(st.candidate);
  plan.uris[c] = "models:/" + spec.model_name + "/" + st.candidate;
  plan.policy.shadow_atol = spec.rollout.shadow_atol;
  plan.policy.shadow_rtol = spec.rollout.shadow_rtol;
  if (st.stage < 0) {
    plan.policy.mode = TrafficMode::kShadow;
    plan.policy.variants.push_back({s, 1, false});
    plan.policy.variants.push_back({c, 0, true});
  } else {
    double w = StageWeight(spec, st.stage);
    plan.policy.variants.push_back({s, 100 - w, false});
    plan.policy.variants.push_back({c, w, false});
  }
  plan.key = "rollout|" + s + "|" + c + "|" + std::to_string(st.stage);
  return plan;
}

void RolloutController::Tick() {
  auto list = deploy_->List();
  if (!list.ok()) return;
  MutexLock lock(&mu_);
  std::map<std::string, DeploymentSpec> specs;
  for (const auto& d : *list) {
    auto spec = ParseDeploymentSpec(d.spec);
    if (!spec.ok() || spec->target != "local" || !spec->rollout.enabled) continue;
    specs[spec->name] = *spec;
  }
  for (auto it = states_.begin(); it != states_.end();) {
    auto s = specs.find(it->first);
    if (s == specs.end() || s->second.model_name != it->second.model || s->second.alias != it->second.alias) {
      // Gone, or another model/alias: starts afresh. A rollout in flight ends as a roll back, so the alias
      // does not stay on a candidate nothing judged.
      if (!it->second.candidate.empty()) {
        RollBack(it->first, it->second,
                 "the deployment was deleted, or its model or alias changed, during the rollout");
      }
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  specs_ = specs;
  for (auto& [name, spec] : specs) {
    auto it = states_.find(name);
    if (it == states_.end() || it->second.stable.empty()) continue;  // Plan() sets it up first
    Advance(name, spec, it->second);
  }
}

void RolloutController::Advance(const std::string& name, const DeploymentSpec& spec, State& st) {
  auto v = registry_->GetVersionByAlias(spec.model_name, spec.alias);
  std::string aliased = v.ok() ? std::to_string(v->version) : "";
  if (!st.awaiting_alias.empty()) {
    bool restored;
    {
      MutexLock lock(&restored_mu_);
      restored = restored_.erase(name + "|" + st.rejected) > 0;
    }
    if (restored || aliased != st.rejected) {
      st.awaiting_alias.clear();  // the alias moved back (or elsewhere): rollouts start again on a move
      st.rejected.clear();
    }
    return;  // judged again on the next tick, with the alias read after the restore committed
  }
  if (aliased.empty()) return;
  if (st.candidate.empty()) {
    if (aliased != st.stable) StartRollout(name, spec, st, aliased);
    return;
  }
  if (aliased != st.candidate) {
    // The alias moved during the rollout: back to the stable version ends it; to a third version replaces the
    // candidate.
    std::string old = st.candidate;
    Record(st, old, "rolled_back", StageName(spec, st.stage), "rolled back",
           "the alias moved to version " + aliased + " during the rollout");
    st.candidate.clear();
    if (aliased != st.stable) StartRollout(name, spec, st, aliased);
    ApplyNow(name, st);  // the old candidate leaves routing at once
    return;
  }
  // The spec may have been re-applied with other stages: keep the stage inside the plan (a valid plan has a
  // shadow stage, steps, or both).
  int steps = static_cast<int>(spec.rollout.steps.size());
  if (st.stage >= steps) OpenStage(name, st, steps - 1);
  if (st.stage < 0 && !spec.rollout.shadow) OpenStage(name, st, 0);
  if (!st.paused) Judge(name, spec, st);
}

void RolloutController::StartRollout(const std::string& name, const DeploymentSpec& spec, State& st,
                                     const std::string& version) {
  st.candidate = version;
  st.paused = false;
  TAMGA_LOG(kInfo, "rollout started", {{"deployment", name}, {"stable", st.stable}, {"candidate", version}});
  if (spec.rollout.require_reference_test) {
    auto mv = registry_->GetModelVersion(spec.model_name, version);
    std::string test = mv.ok() ? TagOf(*mv, std::string(kReferenceTestTagPrefix) + "status") : "";
    if (test != "passed") {
      st.stage = spec.rollout.shadow ? -1 : 0;
      Record(st, version, "in_progress", "reference test", "started", "from v" + st.stable);
      return RollBack(name, st, "no passing reference-score test (" + (test.empty() ? "none" : test) + ")");
    }
  }
  OpenStage(name, st, spec.rollout.shadow ? -1 : 0);
  Record(st, version, "in_progress", StageName(spec, st.stage), "started", "from v" + st.stable);
}

void RolloutController::OpenStage(const std::string&, State& st, int stage) {
  st.stage = stage;
  st.stage_open = false;  // the window opens once the candidate serves (Judge)
}

void RolloutController::Judge(const std::string& name, const DeploymentSpec& spec, State& st) {
  auto figures = models_->Figures(name);
  if (!figures.ok()) return;
  const VariantFigures* cand = nullptr;
  for (const auto& f : *figures) {
    if (f.variant == RolloutVariant(st.candidate)) cand = &f;
  }
  auto status = models_->GetStatus(name);
  if (status.ok()) {
    for (const auto& v : status->variants) {
      if (v.name == RolloutVariant(st.candidate) && v.state == ModelState::kFailed) {
        return RollBack(name, st, "the candidate failed to load: " + v.last_error.substr(0, 300));
      }
    }
  }
  if (cand == nullptr || cand->version != st.candidate) return;  // not loaded yet
  bool weighted_now = st.stage >= 0 && cand->weight > 0 && !cand->shadow;
  bool shadow_now = st.stage < 0 && cand->shadow;
  if (!weighted_now && !shadow_now) return;  // the plan is not applied yet
  int64_t now = clock_->NowMillis();
  if (!st.stage_open) {
    st.stage_open = true;
    st.stage_started_ms = now;
    st.baseline = cand->stats;
    return;
  }
  VariantSnapshot w = cand->stats.Minus(st.baseline);
  const RolloutStage& plan = st.stage < 0 ? spec.rollout.shadow_stage : spec.rollout.steps[st.stage];
  double seconds = static_cast<double>(now - st.stage_started_ms) / 1000;
  const DeploymentRollout& r = spec.rollout;
  uint64_t n;
  std::string failure;
  if (st.stage < 0) {
    uint64_t compared = w.shadow_agree + w.shadow_disagree;
    n = compared + w.shadow_failed;
    if (n > 0 && r.max_error_rate >= 0 && static_cast<double>(w.shadow_failed) / n > r.max_error_rate &&
        n >= static_cast<uint64_t>(std::max<int64_t>(plan.min_requests, 1))) {
      failure = "shadow error rate " + Percent(static_cast<double>(w.shadow_failed) / n) + " > " +
                Percent(r.max_error_rate);
    } else if (compared > 0 && r.max_shadow_disagreement >= 0 &&
               static_cast<double>(w.shadow_disagree) / compared > r.max_shadow_disagreement &&
               n >= static_cast<uint64_t>(std::max<int64_t>(plan.min_requests, 1))) {
      failure = "shadow disagreement " + Percent(static_cast<double>(w.shadow_disagree) / compared) + " > " +
                Percent(r.max_shadow_disagreement) + " (mean max |delta| " +
                std::to_string(w.shadow_delta_sum / static_cast<double>(compared)) + ")";
    }
  } else {
    n = w.requests;
    double p99_ms = w.LatencyQuantile(0.99) * 1000;
    if (n >= static_cast<uint64_t>(std::max<int64_t>(plan.min_requests, 1))) {
      if (r.max_error_rate >= 0 && static_cast<double>(w.failures) / n > r.max_error_rate) {
        failure =
            "error rate " + Percent(static_cast<double>(w.failures) / n) + " > " + Percent(r.max_error_rate);
      } else if (r.max_p99_ms >= 0 && p99_ms > r.max_p99_ms) {
        failure = "p99 latency " + std::to_string(static_cast<int64_t>(p99_ms)) + " ms > " +
                  std::to_string(static_cast<int64_t>(r.max_p99_ms)) + " ms";
      }
    }
  }
  if (!failure.empty()) return RollBack(name, st, failure + " in " + StageName(spec, st.stage));
  if (n < static_cast<uint64_t>(plan.min_requests) || seconds < static_cast<double>(plan.min_seconds)) return;
  std::string passed = StageName(spec, st.stage) + " passed: " + std::to_string(n) + " requests in " +
                       std::to_string(static_cast<int64_t>(seconds)) + " s";
  if (st.stage + 1 >= static_cast<int>(spec.rollout.steps.size())) return Promote(name, st, passed);
  OpenStage(name, st, st.stage + 1);
  Record(st, st.candidate, "in_progress", StageName(spec, st.stage), "advanced", passed);
  ApplyNow(name, st);
}

void RolloutController::Promote(const std::string& name, State& st, const std::string& why) {
  std::string version = st.candidate;
  Record(st, version, "promoted", "done", "promoted", why);
  TAMGA_LOG(kInfo, "rollout promoted", {{"deployment", name}, {"version", version}, {"reason", why}});
  st.stable = version;
  st.candidate.clear();
  st.stage = -1;
  ApplyNow(name, st);
}

void RolloutController::RollBack(const std::string& name, State& st, const std::string& why) {
  std::string version = st.candidate;
  std::string stage = "done";
  Record(st, version, "rolled_back", stage, "rolled back", why);
  TAMGA_LOG(kWarn, "rollout rolled back",
            {{"deployment", name}, {"version", version}, {"stable", st.stable}, {"reason", why}});
  st.candidate.clear();
  st.stage = -1;
  st.rejected = version;
  st.awaiting_alias = st.stable;
  ApplyNow(name, st);
  registry_->RestoreAlias(st.model, st.alias, st.stable, [this, name, version](Status s) {
    if (!s.ok()) {
      TAMGA_LOG(kError, "cannot move the alias back after a roll back",
                {{"deployment", name}, {"error", s.message()}});
      return;
    }
    MutexLock lock(&restored_mu_);
    restored_.insert(name + "|" + version);
  });
}

void RolloutController::ApplyNow(const std::string& name, const State& st) {
  auto spec = specs_.find(name);
  if (spec == specs_.end()) return;
  // The model manager takes the new weights (and drops a variant that left) at once; LocalServing's next
  // reconcile starts or stops the sources to match.
  Status s = models_->SetPolicy(name, PlanFor(spec->second, st).policy);
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    TAMGA_LOG(kWarn, "cannot apply a rollout decision now", {{"deployment", name}, {"error", s.message()}});
  }
}

void RolloutController::Record(State& st, const std::string& version, const std::string& status,
                               const std::string& stage, const std::string& decision,
                               const std::string& reason) {
  int64_t now = clock_->NowMillis();
  st.history.push_back(Timestamp(now) + " " + decision + " v" + version + ": " + reason);
  if (st.history.size() > kHistory) st.history.erase(st.history.begin());
  std::string log;
  for (const auto& h : st.history) log += h + "\n";
  std::string p = kRolloutTagPrefix;
  std::vector<KeyValue> tags = {{p + "status", status},
                                {p + "stage", stage},
                                {p + "stable", st.stable},
                                {p + "reason", reason.substr(0, 1000)},
                                {p + "updated_at", std::to_string(now)},
                                {p + "history", log}};
  registry_->SetSystemVersionTags(st.model, version, std::move(tags), [version](Status s) {
    if (!s.ok())
      TAMGA_LOG(kError, "cannot record a rollout decision", {{"version", version}, {"error", s.message()}});
  });
}

Result<std::pair<RolloutController::State*, const DeploymentSpec*>> RolloutController::Find(
    const std::string& deployment) {
  auto it = states_.find(deployment);
  auto spec = specs_.find(deployment);
  if (it == states_.end() || spec == specs_.end()) {
    return NotFound("deployment '" + deployment.substr(0, 64) +
                    "' has no rollout plan (or is not served yet)");
  }
  return std::pair<State*, const DeploymentSpec*>(&it->second, &spec->second);
}

Status RolloutController::Command(const std::string& deployment, const std::string& action,
                                  const std::string& who) {
  MutexLock lock(&mu_);
  TAMGA_ASSIGN_OR_RETURN(auto found, Find(deployment));
  State& st = *found.first;
  const DeploymentSpec& spec = *found.second;
  if (st.candidate.empty()) {
    return FailedPrecondition("no rollout is running for '" + deployment + "' (stable version " + st.stable +
                              ")");
  }
  std::string by = who.empty() ? "" : " by " + who.substr(0, 64);
  if (action == "promote") {
    Promote(deployment, st, "promoted by hand" + by);
  } else if (action == "abort") {
    RollBack(deployment, st, "aborted" + by);
  } else if (action == "pause" || action == "resume") {
    if (st.paused == (action == "pause")) return Status::Ok();  // already so: nothing to record
    st.paused = action == "pause";
    st.stage_open = false;  // the window restarts on resume
    Record(st, st.candidate, "in_progress", StageName(spec, st.stage),
           action == "pause" ? "paused" : "resumed", (action == "pause" ? "paused" : "resumed") + by);
  } else {
    return NotFound("unknown rollout action '" + action.substr(0, 32) +
                    "'; use promote, pause, resume or abort");
  }
  return Status::Ok();
}

Result<std::string> RolloutController::StatusJson(const std::string& deployment) {
  MutexLock lock(&mu_);
  TAMGA_ASSIGN_OR_RETURN(auto found, Find(deployment));
  const State& st = *found.first;
  const DeploymentSpec& spec = *found.second;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("deployment", deployment);
  w.Field("model", st.model);
  w.Field("alias", st.alias);
  w.Field("state", st.candidate.empty() ? "stable" : st.paused ? "paused" : "rolling_out");
  w.Field("stable_version", st.stable);
  if (!st.candidate.empty()) {
    w.Field("candidate_version", st.candidate);
    w.Field("stage", StageName(spec, st.stage));
    w.FieldDouble("candidate_weight", StageWeight(spec, st.stage));
    if (st.stage_open) {
      w.FieldInt("stage_seconds", (clock_->NowMillis() - st.stage_started_ms) / 1000);
      auto figures = models_->Figures(deployment);
      if (figures.ok()) {
        for (const auto& f : *figures) {
          if (f.variant != RolloutVariant(st.candidate)) continue;
          VariantSnapshot win = f.stats.Minus(st.baseline);
          w.Key("window");
          w.BeginObject();
          w.FieldInt("requests", static_cast<int64_t>(win.requests));
          w.FieldInt("failures", static_cast<int64_t>(win.failures));
          w.FieldDouble("p99_ms", win.LatencyQuantile(0.99) * 1000);
          w.FieldInt("shadow_agree", static_cast<int64_t>(win.shadow_agree));
          w.FieldInt("shadow_disagree", static_cast<int64_t>(win.shadow_disagree));
          w.FieldInt("shadow_failed", static_cast<int64_t>(win.shadow_failed));
          w.EndObject();
        }
      }
    }
  }
  w.Key("history");
  w.BeginArray();
  for (const auto& h : st.history) w.String(h);
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace tamga
