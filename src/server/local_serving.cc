#include "server/local_serving.h"

#include "core/log.h"
#include "rollout/reference_tests.h"
#include "server/in_process_source.h"
#include "serving/monitoring/reference_stats.h"

namespace tamga {

EndpointPlan PlanLocalEndpoint(const DeploymentSpec& spec) {
  EndpointPlan plan;
  const DeploymentTraffic& t = spec.traffic;
  if (t.policy.empty()) {
    plan.uris[kPrimaryVariant] = "models:/" + spec.model_name + "@" + spec.alias;
    plan.key = "single";
    return plan;
  }
  plan.policy.mode = t.policy == "ab"       ? TrafficMode::kAb
                     : t.policy == "shadow" ? TrafficMode::kShadow
                                            : TrafficMode::kCanary;
  plan.policy.sticky_header = t.sticky_header;
  plan.policy.shadow_sample = t.shadow_sample;
  plan.policy.shadow_atol = t.shadow_atol;
  plan.policy.shadow_rtol = t.shadow_rtol;
  plan.policy.variants.clear();
  plan.key = t.policy + "|" + t.sticky_header + "|" + std::to_string(t.shadow_sample) + "|" +
             std::to_string(t.shadow_atol) + "|" + std::to_string(t.shadow_rtol);
  for (const auto& v : t.variants) {
    plan.policy.variants.push_back({v.name, v.shadow ? 0 : v.weight, v.shadow});
    plan.uris[v.name] = "models:/" + spec.model_name + (v.alias.empty() ? "/" + v.version : "@" + v.alias);
    plan.key += "|" + v.name + ":" + std::to_string(v.weight) + (v.shadow ? ":shadow" : "");
  }
  return plan;
}

LocalServing::LocalServing(DeployService* deploy, ModelManager* models, RegistryService* registry,
                           EventHub* hub, std::string cache_dir, RolloutController* rollouts)
    : deploy_(deploy),
      models_(models),
      registry_(registry),
      hub_(hub),
      cache_dir_(std::move(cache_dir)),
      rollouts_(rollouts) {}

LocalServing::~LocalServing() { Shutdown(); }

void LocalServing::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      Reconcile();
      UniqueLock lock(&mu_);
      cv_.wait_for(lock.native(), std::chrono::seconds(1), [&] {
        mu_.AssertHeld();                // the wait re-took the lock before calling the predicate
        return stop_ || !wake_.empty();  // a wake request reconciles at once
      });
      if (stop_) return;
    }
  });
}

void LocalServing::Shutdown() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&reconcile_mu_);
  for (auto& [name, s] : served_) {
    for (auto& [vn, v] : s.variants) StopVariant(v);
    (void)models_->Unload(name);
  }
  served_.clear();
}

void LocalServing::StopVariant(ServedVariant& v) {
  v.stopping->store(true);
  v.source->Stop();
  if (v.loader.joinable()) v.loader.join();
  v.source->Stop();  // a follower started while we were stopping
}

void LocalServing::StartVariant(const std::string& deployment, const std::string& variant,
                                const std::string& uri, ServedVariant& v) {
  v.uri = uri;
  v.source = std::make_unique<InProcessRegistrySource>(registry_, hub_, uri, cache_dir_);
  v.stopping = std::make_unique<std::atomic<bool>>(false);
  ModelSource* source = v.source.get();
  std::atomic<bool>* stopping = v.stopping.get();
  ModelManager* models = models_;
  v.loader = std::thread([source, models, deployment, variant, stopping] {
    ServeFromSource(source, models, deployment, variant, true, stopping);
  });
}

void LocalServing::OnReferenceTest(const std::string& model, const std::string& version) {
  std::vector<std::string> endpoints;
  {
    MutexLock lock(&reconcile_mu_);
    for (const auto& [name, s] : served_) {
      if (s.model == model) endpoints.push_back(name);
    }
  }
  if (endpoints.empty()) return;
  std::shared_ptr<const ReferenceStats> stats;
  auto json = ReadReferenceStats(registry_, model, version);
  if (json.ok()) {
    auto parsed = ReferenceStats::FromJson(*json);
    if (parsed.ok()) stats = std::make_shared<const ReferenceStats>(std::move(*parsed));
  }
  for (const auto& e : endpoints) models_->SetReferenceStats(e, version, stats);
}

void LocalServing::Reconcile() {
  MutexLock lock(&reconcile_mu_);
  {
    MutexLock l(&mu_);
    if (stop_) return;
  }
  auto list = deploy_->List();
  if (!list.ok()) {
    TAMGA_LOG(kWarn, "cannot list deployments for local serving", {{"error", list.status().message()}});
    return;
  }
  std::map<std::string, std::pair<std::string, EndpointPlan>> wanted;  // deployment -> (model, plan)
  std::map<std::string, PayloadLogOptions> payload;
  std::map<std::string, MonitoringOptions> monitoring;
  std::map<std::string, SnoozeOptions> snooze;
  for (const auto& d : *list) {
    auto spec = ParseDeploymentSpec(d.spec);
    if (!spec.ok() || spec->target != "local") continue;
    payload[spec->name] = {spec->payload_sample, spec->payload_max_record_bytes};
    const DeploymentMonitoring& dm = spec->monitoring;
    MonitoringOptions& mo = monitoring[spec->name];
    mo.enabled = dm.enabled;
    mo.outliers.max_z = dm.max_z;
    mo.outliers.max_mahalanobis = dm.max_mahalanobis;
    mo.window_rows = dm.window_rows;
    mo.psi_threshold = dm.psi_threshold;
    mo.ks_threshold = dm.ks_threshold;
    mo.event_cooldown_s = dm.event_cooldown_s;
    snooze[spec->name] = {spec->snooze.idle_seconds * 1000, spec->snooze.wake_timeout_s * 1000};
    wanted[spec->name] = {spec->model_name, spec->rollout.enabled && rollouts_ ? rollouts_->Plan(*spec)
                                                                               : PlanLocalEndpoint(*spec)};
  }
  for (auto it = served_.begin(); it != served_.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && w->second.first == it->second.model) {
      ++it;
      continue;
    }
    TAMGA_LOG(kInfo, "local deployment removed or changed; unloading", {{"deployment", it->first}});
    for (auto& [vn, v] : it->second.variants) StopVariant(v);
    (void)models_->Unload(it->first);
    it = served_.erase(it);
  }
  for (const auto& [name, want] : wanted) {
    const EndpointPlan& plan = want.second;
    bool fresh = !served_.count(name);
    Served& s = served_[name];
    s.model = want.first;
    if (s.snoozed) {
      bool wake;
      {
        MutexLock l(&mu_);
        wake = wake_.erase(name) > 0;
      }
      if (!wake) continue;  // asleep: changes to the spec apply when it wakes
      TAMGA_LOG(kInfo, "waking snoozed local deployment", {{"deployment", name}});
      s.snoozed = false;
    }
    // Variants removed or pointed elsewhere stop first; then the policy; then the new variants start.
    for (auto it = s.variants.begin(); it != s.variants.end();) {
      auto u = plan.uris.find(it->first);
      if (u != plan.uris.end() && u->second == it->second.uri) {
        ++it;
        continue;
      }
      StopVariant(it->second);
      // Pointed elsewhere: its old version leaves routing now rather than answer for the new target.
      (void)models_->ClearVariant(name, it->first);
      it = s.variants.erase(it);
    }
    bool restarted = false;
    for (const auto& [variant, uri] : plan.uris) restarted = restarted || !s.variants.count(variant);
    if (fresh || restarted || s.policy_key != plan.key) {
      if (fresh) TAMGA_LOG(kInfo, "serving local deployment", {{"deployment", name}, {"traffic", plan.key}});
      Status ps = models_->SetPolicy(name, plan.policy);
      if (!ps.ok())
        TAMGA_LOG(kWarn, "local deployment policy refused", {{"deployment", name}, {"error", ps.message()}});
      s.policy_key = plan.key;
    }
    const PayloadLogOptions& pl = payload[name];
    std::string payload_key = std::to_string(pl.sample) + "|" + std::to_string(pl.max_record_bytes);
    if (s.payload_key != payload_key) {
      models_->ConfigurePayloadLog(name, pl);
      s.payload_key = payload_key;
    }
    const MonitoringOptions& mo = monitoring[name];
    std::string monitoring_key =
        mo.enabled ? std::to_string(mo.outliers.max_z) + "|" + std::to_string(mo.outliers.max_mahalanobis) +
                         "|" + std::to_string(mo.window_rows) + "|" + std::to_string(mo.psi_threshold) + "|" +
                         std::to_string(mo.ks_threshold) + "|" + std::to_string(mo.event_cooldown_s)
                   : "off";
    if (s.monitoring_key != monitoring_key) {
      models_->ConfigureMonitoring(name, mo);
      s.monitoring_key = monitoring_key;
    }
    const SnoozeOptions& so = snooze[name];
    std::string snooze_key = std::to_string(so.idle_ms) + "|" + std::to_string(so.wake_timeout_ms);
    if (s.snooze_key != snooze_key) {
      models_->ConfigureSnooze(name, so);
      s.snooze_key = snooze_key;
    }
    for (const auto& [variant, uri] : plan.uris) {
      if (s.variants.count(variant)) continue;
      StartVariant(name, variant, uri, s.variants[variant]);
    }
    if (so.idle_ms > 0) MaybeSnooze(name, s, so);
  }
}

void LocalServing::MaybeSnooze(const std::string& name, Served& s, const SnoozeOptions& so) {
  int64_t idle = models_->IdleMs(name);
  if (idle < so.idle_ms) return;
  auto st = models_->GetStatus(name);
  if (!st.ok()) return;
  for (const auto& v : st->variants) {
    // Not while a version is loading; a variant that keeps failing to resolve (its pinned version was
    // deleted: loading, with an error) does not keep the others awake.
    if (!v.loading_version.empty() || (v.state == ModelState::kLoading && v.last_error.empty())) return;
  }
  TAMGA_LOG(kInfo, "snoozing idle local deployment",
            {{"deployment", name}, {"idle_s", std::to_string(idle / 1000)}});
  for (auto& [vn, v] : s.variants) StopVariant(v);
  s.variants.clear();
  {
    MutexLock l(&mu_);
    wake_.erase(name);  // a wake asked for before this sleep is stale
  }
  (void)models_->Snooze(name);
  s.snoozed = true;
}

void LocalServing::RequestWake(const std::string& name) {
  {
    MutexLock l(&mu_);
    wake_.insert(name);
  }
  cv_.notify_all();
}

}  // namespace tamga
