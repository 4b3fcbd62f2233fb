#include "serving/monitoring/drift_monitor.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

namespace tamga {
namespace {

constexpr double kShareFloor = 1e-4;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

double PopulationStabilityIndex(const ReferenceStats& stats, size_t f, const std::vector<double>& sorted) {
  if (sorted.empty()) return 0;
  const std::vector<double>& q = stats.features[f].quantiles;
  std::vector<double> edges;
  for (int d = 1; d <= 9; ++d) {
    double e = q[static_cast<size_t>(d * (ReferenceStats::kQuantiles - 1) / 10)];
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  const double n = static_cast<double>(sorted.size());
  double psi = 0, ref_prev = 0;
  size_t win_prev = 0;
  for (size_t j = 0; j <= edges.size(); ++j) {
    double ref_cum = j < edges.size() ? stats.Cdf(f, edges[j]) : 1.0;
    size_t win_cum =
        j < edges.size()
            ? static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), edges[j]) - sorted.begin())
            : sorted.size();
    double r = std::max(ref_cum - ref_prev, kShareFloor);
    double w = std::max(static_cast<double>(win_cum - win_prev) / n, kShareFloor);
    psi += (w - r) * std::log(w / r);
    ref_prev = ref_cum;
    win_prev = win_cum;
  }
  return psi;
}

double KolmogorovSmirnovDistance(const ReferenceStats& stats, size_t f, const std::vector<double>& sorted) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  double d = 0;
  size_t i = 0;
  while (i < sorted.size()) {
    double x = sorted[i];
    size_t j = i;
    while (j < sorted.size() && sorted[j] == x) ++j;
    double below = static_cast<double>(i) / n, at = static_cast<double>(j) / n;
    d = std::max(d, std::fabs(below - stats.CdfBelow(f, x)));
    d = std::max(d, std::fabs(at - stats.Cdf(f, x)));
    i = j;
  }
  return d;
}

DriftReport EvaluateDrift(const ReferenceStats& stats, const std::vector<double>& window, int64_t rows,
                          const MonitoringOptions& options) {
  DriftReport r;
  r.rows = rows;
  r.at_ms = NowMs();
  const size_t k = stats.size();
  std::vector<double> col;
  col.reserve(static_cast<size_t>(rows));
  for (size_t c = 0; c < k; ++c) {
    col.clear();
    for (int64_t i = 0; i < rows; ++i) {
      double v = window[static_cast<size_t>(i) * k + c];
      if (std::isfinite(v)) col.push_back(v);
    }
    std::sort(col.begin(), col.end());
    FeatureDrift fd;
    fd.name = stats.features[c].name;
    fd.psi = PopulationStabilityIndex(stats, c, col);
    fd.ks = KolmogorovSmirnovDistance(stats, c, col);
    fd.drifted = fd.psi > options.psi_threshold || fd.ks > options.ks_threshold;
    r.drifted = r.drifted || fd.drifted;
    r.features.push_back(std::move(fd));
  }
  return r;
}

std::string DriftEventText(const std::string& version, const DriftReport& report) {
  std::string features;
  for (const auto& f : report.features) {
    if (!f.drifted) continue;
    if (!features.empty()) features += ",";
    for (char c : f.name.substr(0, 64))
      features += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_';
    if (features.size() > 200) break;
  }
  std::string v;
  for (char c : version.substr(0, 20)) v += std::isdigit(static_cast<unsigned char>(c)) ? c : '_';
  return "drift:v" + v + ":" + features;
}

void VersionMonitor::SetStats(std::shared_ptr<const ReferenceStats> stats) {
  MutexLock lock(&mu_);
  stats_ = std::move(stats);
  window_.clear();
  window_rows_ = 0;
  figures_.has_stats = stats_ != nullptr;
  figures_.features = stats_ ? static_cast<int64_t>(stats_->size()) : 0;
  figures_.window_fill = 0;
}

std::shared_ptr<const ReferenceStats> VersionMonitor::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

VersionMonitor::Observation VersionMonitor::Observe(const FeatureRows& rows,
                                                    const MonitoringOptions& options) {
  Observation o;
  std::shared_ptr<const ReferenceStats> stats = this->stats();
  if (!stats || rows.rows == 0) return o;
  if (rows.cols() != stats->size()) {
    MutexLock lock(&mu_);
    figures_.unscored_rows += rows.rows;
    return o;
  }
  o.scored = true;
  ScoreOutliers(*stats, rows, options.outliers, &o.rows);
  for (const RowOutlier& r : o.rows) o.outliers += r.outlier ? 1 : 0;
  // Every window this batch completes is evaluated (a batch larger than a window closes several); the rest
  // starts the next one.
  std::vector<std::vector<double>> full;
  const int64_t window = std::max<int64_t>(options.window_rows, 1);
  const auto k = static_cast<int64_t>(rows.cols());
  {
    MutexLock lock(&mu_);
    if (stats_ != stats) return o;  // the statistics changed meanwhile: this batch belongs to no window
    figures_.rows_scored += rows.rows;
    figures_.outlier_rows += o.outliers;
    int64_t at = 0;
    while (at < rows.rows) {
      int64_t take = std::min<int64_t>(rows.rows - at, window - window_rows_);
      window_.insert(window_.end(), rows.values.begin() + static_cast<ptrdiff_t>(at * k),
                     rows.values.begin() + static_cast<ptrdiff_t>((at + take) * k));
      window_rows_ += take;
      at += take;
      if (window_rows_ >= window) {
        full.push_back(std::move(window_));
        window_.clear();
        window_rows_ = 0;
      }
    }
    figures_.window_fill = window_rows_;
  }
  for (const auto& w : full) {
    DriftReport report = EvaluateDrift(*stats, w, window, options);
    {
      MutexLock lock(&mu_);
      figures_.windows++;
      if (report.drifted) figures_.drifted_windows++;
      figures_.last = report;
    }
    ++o.windows_closed;
    if (report.drifted) ++o.windows_drifted;
    // The caller hears of the first drifted window of the batch, else of the last one.
    if (!o.drift || (!o.drift->drifted && report.drifted) || (!o.drift->drifted && !report.drifted))
      o.drift = std::move(report);
  }
  return o;
}

VersionMonitor::Snapshot VersionMonitor::Get() const {
  MutexLock lock(&mu_);
  return figures_;
}

}  // namespace tamga
