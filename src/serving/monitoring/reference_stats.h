#pragma once
// Reference statistics of a model's inputs and per-row outlier scores against them (docs/rollouts.md §7).
//
// The statistics come from the reference set a version was tested with (the reference-score test's inputs,
// read by the same CSV reader that feeds the model): per feature the mean, standard deviation and a 101-point
// quantile summary (q0, q1, ..., q100), and the inverse covariance (precision) matrix of all features for
// the Mahalanobis distance. Serving scores each request row against them (z-scores, Mahalanobis) and the
// drift monitor (drift_monitor.h) compares windows of rows with the quantile summaries.
//
// Plain values; ReferenceStatsBuilder is thread-compatible.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "serving/tensor.h"

namespace tamga {

// Numeric features of a batch of inputs: rows × columns, row-major. Columns come from the numeric input
// tensors in order: a [rows] or [rows, 1] tensor is one column named after the input, a [rows, k] tensor k
// columns named <input>_<i>. BYTES inputs, scalars and tensors of rank > 2 are not features.
struct FeatureRows {
  std::vector<std::string> names;
  int64_t rows = 0;
  std::vector<double> values;  // rows * names.size()
  size_t cols() const { return names.size(); }
};
FeatureRows FeaturesOf(const std::vector<Tensor>& inputs);

struct FeatureStats {
  std::string name;
  double mean = 0;
  double stddev = 0;
  std::vector<double> quantiles;  // ReferenceStats::kQuantiles points, ascending: q0 (min) .. q100 (max)
};

struct ReferenceStats {
  static constexpr int kQuantiles = 101;
  static constexpr size_t kMaxFeatures = 1024;
  static constexpr size_t kMaxMahalanobisFeatures = 256;
  int64_t rows = 0;         // rows seen
  int64_t sample_rows = 0;  // rows the figures were computed from (a uniform sample of at most 100,000)
  std::vector<FeatureStats> features;
  std::vector<double> precision;  // k×k inverse covariance, row-major; empty: no Mahalanobis (k > 256)

  size_t size() const { return features.size(); }
  // The reference distribution function of feature `f` at x (right-continuous, interpolated between the
  // quantile points: 1% resolution) and its left limit (the share strictly below x).
  double Cdf(size_t f, double x) const;
  double CdfBelow(size_t f, double x) const;

  std::string ToJson() const;
  // InvalidArgument for anything but what ToJson writes (bounded: kMaxFeatures, ascending finite quantiles,
  // a square precision matrix of finite values).
  static Result<ReferenceStats> FromJson(std::string_view json);
};

// Accumulates feature rows (a reservoir sample of at most `max_sample_rows` rows; rows with a non-finite
// value are counted but not sampled) and computes the statistics.
class ReferenceStatsBuilder {
 public:
  explicit ReferenceStatsBuilder(size_t max_sample_rows = 100000, uint64_t seed = 20261203);
  // InvalidArgument when the columns differ from the first batch's or exceed kMaxFeatures.
  Status Add(const FeatureRows& batch);
  // FailedPrecondition with fewer than 2 finite rows or no features.
  Result<ReferenceStats> Finish() const;

 private:
  size_t max_rows_;
  std::mt19937_64 rng_;
  std::vector<std::string> names_;
  int64_t seen_ = 0;
  int64_t finite_seen_ = 0;
  std::vector<double> sample_;  // row-major
};

struct OutlierOptions {
  double max_z = 4;            // a feature further than this many standard deviations from its mean
  double max_mahalanobis = 0;  // distance; 0 = sqrt of the chi-square 0.999 quantile for k features
};

struct RowOutlier {
  double max_abs_z = 0;     // the largest |z| of the row's features (1e9 for a constant feature that moved)
  int feature = -1;         // which feature had it
  double mahalanobis = -1;  // -1 when the stats have no precision matrix
  bool outlier = false;
};

// The Mahalanobis threshold used when OutlierOptions::max_mahalanobis is 0.
double DefaultMahalanobisThreshold(size_t features);

// Scores every row of `rows` (which must have stats.size() columns) into `out` (resized).
void ScoreOutliers(const ReferenceStats& stats, const FeatureRows& rows, const OutlierOptions& options,
                   std::vector<RowOutlier>* out);

}  // namespace tamga
