#pragma once
// Outliers and drift of what a served version receives, against its reference statistics
// (reference_stats.h; docs/rollouts.md §7).
//
// A VersionMonitor belongs to one loaded version. Observe scores a request's rows (z-scores, Mahalanobis)
// and adds them to the current window; every `window_rows` rows the window is compared per feature with the
// reference — the population stability index over the reference deciles and the Kolmogorov-Smirnov
// distance to the reference quantiles — and the report says which features drifted past the thresholds.
//
// Thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "serving/monitoring/reference_stats.h"

namespace tamga {

struct MonitoringOptions {
  bool enabled = false;
  OutlierOptions outliers;
  int64_t window_rows = 1000;  // rows per drift window (100 .. 1,000,000)
  double psi_threshold = 0.2;  // a feature drifted when its PSI or its KS distance is above these
  double ks_threshold = 0.1;
  int64_t event_cooldown_s = 3600;  // at most one drift event per endpoint this often
};

struct FeatureDrift {
  std::string name;
  double psi = 0;
  double ks = 0;
  bool drifted = false;
};

struct DriftReport {
  int64_t rows = 0;   // rows in the window
  int64_t at_ms = 0;  // when it closed
  std::vector<FeatureDrift> features;
  bool drifted = false;  // some feature drifted
};

// PSI of `sorted` (ascending, finite) against feature `f`'s reference, over bins at the reference deciles
// (merged where deciles coincide); shares floored at 1e-4.
double PopulationStabilityIndex(const ReferenceStats& stats, size_t f, const std::vector<double>& sorted);
// sup |F_window - F_reference| with ties handled (both sides of each distinct window value).
double KolmogorovSmirnovDistance(const ReferenceStats& stats, size_t f, const std::vector<double>& sorted);
// A window of `rows` rows (row-major, stats.size() columns) against the reference.
DriftReport EvaluateDrift(const ReferenceStats& stats, const std::vector<double>& window, int64_t rows,
                          const MonitoringOptions& options);

// A drift event as triggers see it ({event}): drift:v7:f2,f5 — the drifted features, with every character
// but letters, digits, '_', '-' and '.' made '_' (feature names come from CSV headers: never spaces or shell
// metacharacters, as every trigger event; docs/data.md).
std::string DriftEventText(const std::string& version, const DriftReport& report);

class VersionMonitor {
 public:
  void SetStats(std::shared_ptr<const ReferenceStats> stats);
  std::shared_ptr<const ReferenceStats> stats() const;

  struct Observation {
    bool scored = false;           // the version has statistics that fit these rows
    std::vector<RowOutlier> rows;  // per row when scored
    int64_t outliers = 0;
    std::optional<DriftReport>
        drift;  // set when these rows closed a window (the first drifted one, else the last)
    int64_t windows_closed = 0;
    int64_t windows_drifted = 0;
  };
  Observation Observe(const FeatureRows& rows, const MonitoringOptions& options);

  struct Snapshot {
    bool has_stats = false;
    int64_t features = 0;  // of the statistics
    int64_t rows_scored = 0;
    int64_t outlier_rows = 0;
    int64_t unscored_rows = 0;  // rows whose features did not match the statistics
    int64_t window_fill = 0;
    int64_t windows = 0;
    int64_t drifted_windows = 0;
    std::optional<DriftReport> last;
  };
  Snapshot Get() const;

 private:
  mutable Mutex mu_;
  std::shared_ptr<const ReferenceStats> stats_ GUARDED_BY(mu_);
  std::vector<double> window_ GUARDED_BY(mu_);
  int64_t window_rows_ GUARDED_BY(mu_) = 0;
  Snapshot figures_ GUARDED_BY(mu_);
};

}  // namespace tamga
