#include "serving/monitoring/reference_stats.h"

#include <algorithm>
#include <cmath>

#include "core/json_parse.h"
#include "core/json_writer.h"

namespace tamga {
namespace {

constexpr double kConstantMovedZ = 1e9;

bool IsFeatureTensor(const Tensor& t) {
  if (t.dtype == DataType::kBytes) return false;
  if (t.shape.size() == 1) return true;
  return t.shape.size() == 2 && t.shape[1] >= 1;
}

// Cholesky factorisation of a symmetric positive definite k×k matrix (lower L, in place); false if not.
bool Cholesky(std::vector<double>& a, size_t k) {
  for (size_t j = 0; j < k; ++j) {
    double d = a[j * k + j];
    for (size_t p = 0; p < j; ++p) d -= a[j * k + p] * a[j * k + p];
    if (!(d > 0) || !std::isfinite(d)) return false;
    double l = std::sqrt(d);
    a[j * k + j] = l;
    for (size_t i = j + 1; i < k; ++i) {
      double s = a[i * k + j];
      for (size_t p = 0; p < j; ++p) s -= a[i * k + p] * a[j * k + p];
      a[i * k + j] = s / l;
    }
  }
  return true;
}

// Inverse of a symmetric positive definite matrix through its Cholesky factor; empty when singular even
// after a small ridge (constant or collinear features).
std::vector<double> InverseSpd(const std::vector<double>& cov, size_t k) {
  double mean_diag = 0;
  for (size_t i = 0; i < k; ++i) mean_diag += cov[i * k + i];
  mean_diag = std::max(mean_diag / static_cast<double>(k), 1e-12);
  for (double ridge = 1e-9 * mean_diag; ridge <= mean_diag; ridge *= 100) {
    std::vector<double> l = cov;
    for (size_t i = 0; i < k; ++i) l[i * k + i] += ridge;
    if (!Cholesky(l, k)) continue;
    // Solve L Y = I, then L^T X = Y, column by column.
    std::vector<double> inv(k * k, 0), col(k);
    for (size_t c = 0; c < k; ++c) {
      for (size_t i = 0; i < k; ++i) {
        double s = i == c ? 1 : 0;
        for (size_t p = 0; p < i; ++p) s -= l[i * k + p] * col[p];
        col[i] = s / l[i * k + i];
      }
      for (size_t ii = k; ii-- > 0;) {
        double s = col[ii];
        for (size_t p = ii + 1; p < k; ++p) s -= l[p * k + ii] * inv[p * k + c];
        inv[ii * k + c] = s / l[ii * k + ii];
      }
    }
    bool finite = std::all_of(inv.begin(), inv.end(), [](double v) { return std::isfinite(v); });
    if (finite) return inv;
  }
  return {};
}

// Interpolated position of x among the quantile points: the share of the reference at or below x (upper)
// or strictly below x (lower).
double QuantileCdf(const std::vector<double>& q, double x, bool upper) {
  const size_t n = q.size();
  if (n == 0 || std::isnan(x)) return 0;
  if (x < q.front()) return 0;
  if (x > q.back() || (upper && x == q.back())) return 1;
  const double step = 1.0 / static_cast<double>(n - 1);
  if (upper) {
    size_t b = static_cast<size_t>(std::upper_bound(q.begin(), q.end(), x) - q.begin()) - 1;  // q[b] <= x
    if (b + 1 >= n) return 1;
    double span = q[b + 1] - q[b];
    double frac = span > 0 ? (x - q[b]) / span : 0;
    return (static_cast<double>(b) + frac) * step;
  }
  size_t a = static_cast<size_t>(std::lower_bound(q.begin(), q.end(), x) - q.begin());  // q[a] >= x
  if (a == 0) return 0;
  double span = q[a] - q[a - 1];
  double frac = span > 0 ? (x - q[a - 1]) / span : 1;
  return (static_cast<double>(a - 1) + frac) * step;
}

}  // namespace

FeatureRows FeaturesOf(const std::vector<Tensor>& inputs) {
  FeatureRows f;
  std::vector<const Tensor*> used;
  int64_t rows = -1;
  for (const Tensor& t : inputs) {
    if (!IsFeatureTensor(t)) continue;
    if (rows >= 0 && t.shape[0] != rows) continue;  // inputs of another batch size are not row features
    rows = t.shape[0];
    used.push_back(&t);
    int64_t width = t.shape.size() == 2 ? t.shape[1] : 1;
    if (width == 1) {
      f.names.push_back(t.name);
    } else {
      for (int64_t i = 0; i < width; ++i) f.names.push_back(t.name + "_" + std::to_string(i));
    }
  }
  if (rows <= 0 || f.names.empty()) return {};
  f.rows = rows;
  const size_t k = f.names.size();
  f.values.resize(static_cast<size_t>(rows) * k);
  size_t col = 0;
  for (const Tensor* t : used) {
    int64_t width = t->shape.size() == 2 ? t->shape[1] : 1;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < width; ++c) {
        f.values[static_cast<size_t>(r) * k + col + static_cast<size_t>(c)] =
            ElementAsDouble(*t, r * width + c);
      }
    }
    col += static_cast<size_t>(width);
  }
  return f;
}

double ReferenceStats::Cdf(size_t f, double x) const { return QuantileCdf(features[f].quantiles, x, true); }
double ReferenceStats::CdfBelow(size_t f, double x) const {
  return QuantileCdf(features[f].quantiles, x, false);
}

std::string ReferenceStats::ToJson() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.FieldInt("rows", rows);
  w.FieldInt("sample_rows", sample_rows);
  w.Key("features");
  w.BeginArray();
  for (const FeatureStats& f : features) {
    w.BeginObject();
    w.Field("name", f.name);
    w.Key("mean");
    w.Double(f.mean);
    w.Key("stddev");
    w.Double(f.stddev);
    w.Key("quantiles");
    w.BeginArray();
    for (double q : f.quantiles) w.Double(q);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("precision");
  w.BeginArray();
  for (double p : precision) w.Double(p);
  w.EndArray();
  w.EndObject();
  return out;
}

Result<ReferenceStats> ReferenceStats::FromJson(std::string_view text) {
  TAMGA_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(text));
  auto bad = [](const std::string& why) { return InvalidArgument("Reference statistics: " + why); };
  if (!j.is_object()) return bad("not an object");
  ReferenceStats s;
  if (!j.contains("rows") || !j["rows"].is_number_integer()) return bad("'rows' must be an integer");
  s.rows = j["rows"].get<int64_t>();
  if (j.contains("sample_rows") && j["sample_rows"].is_number_integer())
    s.sample_rows = j["sample_rows"].get<int64_t>();
  if (!j.contains("features") || !j["features"].is_array()) return bad("'features' must be an array");
  const auto& fs = j["features"];
  if (fs.empty() || fs.size() > kMaxFeatures) return bad("between 1 and 1024 features");
  for (const auto& f : fs) {
    if (!f.is_object()) return bad("a feature must be an object");
    FeatureStats st;
    if (!f.contains("name") || !f["name"].is_string()) return bad("a feature needs a name");
    st.name = f["name"].get<std::string>();
    if (!f.contains("mean") || !f["mean"].is_number() || !f.contains("stddev") || !f["stddev"].is_number())
      return bad("feature '" + st.name + "' needs mean and stddev");
    st.mean = f["mean"].get<double>();
    st.stddev = f["stddev"].get<double>();
    if (!std::isfinite(st.mean) || !std::isfinite(st.stddev) || st.stddev < 0)
      return bad("feature '" + st.name + "': mean and stddev must be finite");
    if (!f.contains("quantiles") || !f["quantiles"].is_array() || f["quantiles"].size() != kQuantiles)
      return bad("feature '" + st.name + "' needs 101 quantiles");
    for (const auto& q : f["quantiles"]) {
      if (!q.is_number()) return bad("quantiles must be numbers");
      double v = q.get<double>();
      if (!std::isfinite(v) || (!st.quantiles.empty() && v < st.quantiles.back()))
        return bad("quantiles of '" + st.name + "' must be finite and ascending");
      st.quantiles.push_back(v);
    }
    s.features.push_back(std::move(st));
  }
  if (j.contains("precision")) {
    if (!j["precision"].is_array()) return bad("'precision' must be an array");
    const size_t k = s.features.size();
    const auto& p = j["precision"];
    if (!p.empty() && p.size() != k * k) return bad("'precision' must be a k x k matrix");
    for (const auto& v : p) {
      if (!v.is_number() || !std::isfinite(v.get<double>())) return bad("'precision' must be finite numbers");
      s.precision.push_back(v.get<double>());
    }
  }
  return s;
}

ReferenceStatsBuilder::ReferenceStatsBuilder(size_t max_sample_rows, uint64_t seed)
    : max_rows_(std::max<size_t>(max_sample_rows, 2)), rng_(seed) {}

Status ReferenceStatsBuilder::Add(const FeatureRows& batch) {
  if (batch.rows == 0) return Status::Ok();
  if (names_.empty()) {
    if (batch.cols() == 0) return InvalidArgument("the reference set has no numeric features");
    if (batch.cols() > ReferenceStats::kMaxFeatures)
      return InvalidArgument("the reference set has more than 1024 numeric features");
    names_ = batch.names;
  } else if (batch.names != names_) {
    return InvalidArgument("the reference set's features changed between batches");
  }
  const size_t k = names_.size();
  for (int64_t r = 0; r < batch.rows; ++r) {
    ++seen_;
    const double* row = batch.values.data() + static_cast<size_t>(r) * k;
    if (!std::all_of(row, row + k, [](double v) { return std::isfinite(v); })) continue;
    ++finite_seen_;
    size_t sampled = sample_.size() / k;
    if (sampled < max_rows_) {
      sample_.insert(sample_.end(), row, row + k);
      continue;
    }
    // Reservoir sampling: the row replaces a sampled one with probability max_rows / finite rows seen.
    uint64_t pick = std::uniform_int_distribution<uint64_t>(0, static_cast<uint64_t>(finite_seen_) - 1)(rng_);
    if (pick < max_rows_) std::copy(row, row + k, sample_.begin() + static_cast<ptrdiff_t>(pick * k));
  }
  return Status::Ok();
}

Result<ReferenceStats> ReferenceStatsBuilder::Finish() const {
  const size_t k = names_.size();
  const size_t n = k == 0 ? 0 : sample_.size() / k;
  if (k == 0 || n < 2) {
    return FailedPrecondition("reference statistics need at least 2 rows of finite numeric features");
  }
  ReferenceStats s;
  s.rows = seen_;
  s.sample_rows = static_cast<int64_t>(n);
  std::vector<double> mean(k, 0);
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c < k; ++c) mean[c] += sample_[r * k + c];
  for (double& m : mean) m /= static_cast<double>(n);
  std::vector<double> column(n);
  for (size_t c = 0; c < k; ++c) {
    FeatureStats f;
    f.name = names_[c];
    f.mean = mean[c];
    double ss = 0;
    for (size_t r = 0; r < n; ++r) {
      column[r] = sample_[r * k + c];
      ss += (column[r] - mean[c]) * (column[r] - mean[c]);
    }
    f.stddev = std::sqrt(ss / static_cast<double>(n - 1));
    std::sort(column.begin(), column.end());
    for (int q = 0; q < ReferenceStats::kQuantiles; ++q) {
      double pos = static_cast<double>(q) / (ReferenceStats::kQuantiles - 1) * static_cast<double>(n - 1);
      size_t lo = static_cast<size_t>(pos);
      size_t hi = std::min(lo + 1, n - 1);
      f.quantiles.push_back(column[lo] + (column[hi] - column[lo]) * (pos - static_cast<double>(lo)));
    }
    s.features.push_back(std::move(f));
  }
  if (k <= ReferenceStats::kMaxMahalanobisFeatures) {
    std::vector<double> cov(k * k, 0);
    std::vector<double> d(k);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < k; ++c) d[c] = sample_[r * k + c] - mean[c];
      for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j <= i; ++j) cov[i * k + j] += d[i] * d[j];
    }
    // Inverted as a correlation matrix, then scaled back: features of wildly different scales (1 and 1e30)
    // stay well conditioned. A constant feature is left out of the correlations (its z-score flags it).
    std::vector<double> sd(k);
    for (size_t c = 0; c < k; ++c) sd[c] = s.features[c].stddev > 0 ? s.features[c].stddev : 0;
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j <= i; ++j) {
        double r = 0;
        if (i == j) {
          r = 1;
        } else if (sd[i] > 0 && sd[j] > 0) {
          r = cov[i * k + j] / static_cast<double>(n - 1) / (sd[i] * sd[j]);
        }
        cov[i * k + j] = cov[j * k + i] = r;
      }
    }
    s.precision = InverseSpd(cov, k);
    for (size_t i = 0; i < k && !s.precision.empty(); ++i) {
      for (size_t j = 0; j < k; ++j) {
        double si = sd[i] > 0 ? sd[i] : 1, sj = sd[j] > 0 ? sd[j] : 1;
        s.precision[i * k + j] /= si * sj;
        if (!std::isfinite(s.precision[i * k + j]))
          s.precision.clear();  // out of double's range: no Mahalanobis
        if (s.precision.empty()) break;
      }
    }
  }
  return s;
}

double DefaultMahalanobisThreshold(size_t features) {
  // Wilson-Hilferty: the chi-square quantile for k degrees of freedom at z = 3.09 (0.999).
  double k = static_cast<double>(std::max<size_t>(features, 1));
  double t = 1 - 2 / (9 * k) + 3.0902 * std::sqrt(2 / (9 * k));
  return std::sqrt(k * t * t * t);
}

void ScoreOutliers(const ReferenceStats& stats, const FeatureRows& rows, const OutlierOptions& options,
                   std::vector<RowOutlier>* out) {
  const size_t k = stats.size();
  out->assign(static_cast<size_t>(rows.rows), RowOutlier{});
  if (rows.cols() != k || k == 0) return;
  const bool maha = stats.precision.size() == k * k;
  const double max_maha =
      options.max_mahalanobis > 0 ? options.max_mahalanobis : DefaultMahalanobisThreshold(k);
  double d[ReferenceStats::kMaxMahalanobisFeatures];
  for (int64_t r = 0; r < rows.rows; ++r) {
    const double* x = rows.values.data() + static_cast<size_t>(r) * k;
    RowOutlier& o = (*out)[static_cast<size_t>(r)];
    bool finite = true;
    for (size_t c = 0; c < k; ++c) {
      const FeatureStats& f = stats.features[c];
      double delta = x[c] - f.mean;
      double z = f.stddev > 0 ? std::fabs(delta) / f.stddev : (delta == 0 ? 0 : kConstantMovedZ);
      if (!std::isfinite(x[c])) {
        z = kConstantMovedZ;
        finite = false;
      }
      if (z > o.max_abs_z) {
        o.max_abs_z = std::min(z, kConstantMovedZ);
        o.feature = static_cast<int>(c);
      }
      if (maha) d[c] = delta;
    }
    if (maha && finite) {
      const double* p = stats.precision.data();
      double m2 = 0;
      for (size_t i = 0; i < k; ++i) {
        double acc = 0;
        const double* pi = p + i * k;
        for (size_t j = 0; j < k; ++j) acc += pi[j] * d[j];
        m2 += d[i] * acc;
      }
      if (std::isnan(m2)) m2 = INFINITY;  // overflow in a hostile precision matrix: as far out as it gets
      o.mahalanobis = std::sqrt(std::max(m2, 0.0));
    }
    o.outlier = !finite || o.max_abs_z > options.max_z || (o.mahalanobis >= 0 && o.mahalanobis > max_maha);
  }
}

}  // namespace tamga
