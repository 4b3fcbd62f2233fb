// ModelManager: outliers and drift per served version (docs/rollouts.md §7).
#include <chrono>

#include "core/json_writer.h"
#include "core/log.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {
namespace {

// Per-feature gauges stop here (a model with thousands of inputs would flood the scrape).
constexpr size_t kMaxFeatureGauges = 100;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ModelManager::ConfigureMonitoring(const std::string& name, const MonitoringOptions& options) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return;  // configure after SetPolicy
  it->second.monitoring = options.enabled ? std::make_shared<const MonitoringOptions>(options) : nullptr;
}

std::shared_ptr<const MonitoringOptions> ModelManager::MonitoringOf(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.monitoring;
}

void ModelManager::SetReferenceStats(const std::string& name, const std::string& version,
                                     std::shared_ptr<const ReferenceStats> stats) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return;
  for (auto& v : it->second.variants) {
    if (v.serving && v.serving->version == version && v.serving->monitor->stats() != stats) {
      v.serving->monitor->SetStats(stats);
      // The old statistics' features stop being exported (new tests may name other features).
      drift_psi_->RemovePrefix({{"model", name}, {"version", version}});
      drift_ks_->RemovePrefix({{"model", name}, {"version", version}});
    }
  }
}

OutlierReport ModelManager::Observe(const ModelHandle& handle, const std::vector<Tensor>& inputs) {
  OutlierReport report;
  if (!handle.monitoring || !handle.version || !handle.version->monitor->stats()) return report;
  const MonitoringOptions& options = *handle.monitoring;
  const std::string& version = handle.version->version;
  FeatureRows rows = FeaturesOf(inputs);
  VersionMonitor::Observation o = handle.version->monitor->Observe(rows, options);
  if (!o.scored) return report;
  report.scored = true;
  for (size_t i = 0; i < o.rows.size(); ++i) {
    if (o.rows[i].outlier) report.outlier_rows.push_back(static_cast<int64_t>(i));
  }
  report.rows = std::move(o.rows);
  monitored_rows_->Add({{"model", handle.model}, {"version", version}}, static_cast<double>(rows.rows));
  if (o.outliers > 0) outlier_rows_->Add({{"model", handle.model}, {"version", version}}, o.outliers);
  if (!o.drift) return report;
  const DriftReport& d = *o.drift;
  if (o.windows_drifted > 0)
    drift_windows_->Add({{"model", handle.model}, {"version", version}, {"result", "drifted"}},
                        static_cast<double>(o.windows_drifted));
  if (o.windows_closed > o.windows_drifted)
    drift_windows_->Add({{"model", handle.model}, {"version", version}, {"result", "stable"}},
                        static_cast<double>(o.windows_closed - o.windows_drifted));
  for (size_t f = 0; f < d.features.size() && f < kMaxFeatureGauges; ++f) {
    Labels labels{
        {"model", handle.model}, {"version", version}, {"feature", d.features[f].name.substr(0, 64)}};
    drift_psi_->Set(labels, d.features[f].psi);
    drift_ks_->Set(labels, d.features[f].ks);
  }
  if (!d.drifted) return report;
  bool notify = false;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(handle.model);
    if (it != models_.end()) {
      int64_t now = NowMs();
      Entry& e = it->second;
      if (e.last_drift_event_ms == 0 || now - e.last_drift_event_ms >= options.event_cooldown_s * 1000) {
        e.last_drift_event_ms = now;
        notify = true;
      }
    }
  }
  std::string drifted;
  for (const auto& f : d.features) {
    if (f.drifted) drifted += (drifted.empty() ? "" : ",") + f.name;
  }
  TAMGA_LOG(kWarn, "input drift",
            {{"model", handle.model},
             {"version", version},
             {"features", drifted.substr(0, 500)},
             {"event", notify ? "raised" : "cooldown"}});
  if (notify && drift_listener_) drift_listener_(handle.model, version, d);
  return report;
}

Result<std::vector<MonitoringFigures>> ModelManager::Monitoring(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second.variants.empty())
    return NotFound("no model '" + name.substr(0, 200) + "' is served here");
  std::vector<MonitoringFigures> out;
  for (const auto& v : it->second.variants) {
    MonitoringFigures f;
    f.variant = v.status.name;
    f.shadow = v.status.shadow;
    if (v.serving) {
      f.version = v.serving->version;
      f.figures = v.serving->monitor->Get();
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string MonitoringJson(const std::string& name, const MonitoringOptions* options,
                           const std::vector<MonitoringFigures>& figures) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("deployment", name);
  w.FieldBool("enabled", options != nullptr);
  if (options != nullptr) {
    w.FieldDouble("max_z", options->outliers.max_z);
    w.FieldDouble("max_mahalanobis", options->outliers.max_mahalanobis);
    w.FieldInt("window_rows", options->window_rows);
    w.FieldDouble("psi_threshold", options->psi_threshold);
    w.FieldDouble("ks_threshold", options->ks_threshold);
  }
  w.Key("variants");
  w.BeginArray();
  for (const auto& f : figures) {
    const VersionMonitor::Snapshot& s = f.figures;
    w.BeginObject();
    w.Field("variant", f.variant);
    w.Field("version", f.version);
    w.FieldBool("shadow", f.shadow);
    w.FieldBool("reference_stats", s.has_stats);
    if (s.has_stats && options != nullptr) {
      // The threshold in force: the configured one, or the chi-square default for this many features.
      w.FieldInt("features", s.features);
      w.FieldDouble("mahalanobis_threshold",
                    options->outliers.max_mahalanobis > 0
                        ? options->outliers.max_mahalanobis
                        : DefaultMahalanobisThreshold(static_cast<size_t>(s.features)));
    }
    w.FieldInt("rows_scored", s.rows_scored);
    w.FieldInt("outlier_rows", s.outlier_rows);
    w.FieldInt("unscored_rows", s.unscored_rows);
    w.FieldInt("window_fill", s.window_fill);
    w.FieldInt("windows", s.windows);
    w.FieldInt("drifted_windows", s.drifted_windows);
    if (s.last) {
      w.Key("last_window");
      w.BeginObject();
      w.FieldInt("rows", s.last->rows);
      w.FieldInt("timestamp", s.last->at_ms);
      w.FieldBool("drifted", s.last->drifted);
      w.Key("features");
      w.BeginArray();
      for (const auto& fd : s.last->features) {
        w.BeginObject();
        w.Field("name", fd.name);
        w.FieldDouble("psi", fd.psi);
        w.FieldDouble("ks", fd.ks);
        w.FieldBool("drifted", fd.drifted);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace tamga
