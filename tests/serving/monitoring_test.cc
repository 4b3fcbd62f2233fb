// Reference statistics, outlier scores and drift (serving/monitoring/reference_stats.h, drift_monitor.h).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "serving/monitoring/drift_monitor.h"
#include "serving/monitoring/reference_stats.h"

namespace tamga {
namespace {

// n rows of k standard-normal features; feature 1 follows feature 0 (correlation 0.95); `shift` moves
// feature 2.
FeatureRows Sample(uint64_t seed, int64_t n, size_t k, double shift = 0, double scale = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  FeatureRows f;
  for (size_t c = 0; c < k; ++c) f.names.push_back("f" + std::to_string(c));
  f.rows = n;
  for (int64_t r = 0; r < n; ++r) {
    std::vector<double> row(k);
    for (auto& v : row) v = normal(rng);
    if (k > 1) row[1] = 0.95 * row[0] + std::sqrt(1 - 0.95 * 0.95) * row[1];
    if (k > 2) row[2] = row[2] * scale + shift;
    f.values.insert(f.values.end(), row.begin(), row.end());
  }
  return f;
}

ReferenceStats Build(const FeatureRows& rows) {
  ReferenceStatsBuilder b;
  EXPECT_TRUE(b.Add(rows).ok());
  auto s = b.Finish();
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(ReferenceStatsTest, MomentsQuantilesAndJsonRoundTrip) {
  ReferenceStats s = Build(Sample(1, 20000, 4));
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.rows, 20000);
  for (const auto& f : s.features) {
    EXPECT_NEAR(f.mean, 0, 0.03);
    EXPECT_NEAR(f.stddev, 1, 0.03);
    ASSERT_EQ(f.quantiles.size(), 101u);
    EXPECT_NEAR(f.quantiles[50], 0, 0.04);
    EXPECT_NEAR(f.quantiles[16], -0.994, 0.05);  // the normal's 16th percentile
  }
  EXPECT_NEAR(s.Cdf(3, 0), 0.5, 0.02);
  EXPECT_EQ(s.Cdf(3, -100), 0);
  EXPECT_EQ(s.Cdf(3, 100), 1);
  ASSERT_EQ(s.precision.size(), 16u);
  auto back = ReferenceStats::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->features[2].quantiles, s.features[2].quantiles);
  EXPECT_EQ(back->precision, s.precision);
}

TEST(ReferenceStatsTest, RefusesMalformedJson) {
  ReferenceStats s = Build(Sample(1, 100, 2));
  std::string good = s.ToJson();
  for (std::string bad : {std::string("[]"), std::string("{}"), std::string("{\"rows\":1,\"features\":[]}"),
                          std::string("{\"rows\":1,\"features\":[{\"name\":\"a\",\"mean\":0,\"stddev\":1,"
                                      "\"quantiles\":[1,0]}]}"),
                          good.substr(0, good.size() / 2), std::string(100000, '[')}) {
    EXPECT_FALSE(ReferenceStats::FromJson(bad).ok()) << bad.substr(0, 80);
  }
  // Quantiles out of order are refused (the CDF needs them ascending).
  std::string swapped = good;
  auto at = swapped.find("\"quantiles\":[");
  ASSERT_NE(at, std::string::npos);
  swapped.insert(at + 13, "1e300,");
  EXPECT_FALSE(ReferenceStats::FromJson(swapped).ok());
}

TEST(ReferenceStatsTest, NeedsFiniteRowsAndStableColumns) {
  ReferenceStatsBuilder b;
  FeatureRows one = Sample(1, 1, 3);
  EXPECT_TRUE(b.Add(one).ok());
  EXPECT_FALSE(b.Finish().ok());  // one row
  FeatureRows other = Sample(2, 5, 2);
  EXPECT_FALSE(b.Add(other).ok());  // columns changed
  FeatureRows nan = Sample(3, 5, 3);
  nan.values[0] = NAN;
  EXPECT_TRUE(b.Add(nan).ok());
  auto s = b.Finish();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rows, 6);
  EXPECT_EQ(s->sample_rows, 5);  // the NaN row is counted, not sampled
}

TEST(ReferenceStatsTest, FeaturesOfTensors) {
  Tensor a;
  a.name = "x";
  a.dtype = DataType::kFp32;
  a.shape = {2, 3};
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  a.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  Tensor b;
  b.name = "age";
  b.dtype = DataType::kInt64;
  b.shape = {2};
  std::vector<int64_t> w = {30, 40};
  b.data.assign(reinterpret_cast<const char*>(w.data()), w.size() * 8);
  Tensor s;
  s.name = "text";
  s.dtype = DataType::kBytes;
  s.shape = {2};
  FeatureRows f = FeaturesOf({a, s, b});
  ASSERT_EQ(f.names, (std::vector<std::string>{"x_0", "x_1", "x_2", "age"}));
  EXPECT_EQ(f.values, (std::vector<double>{1, 2, 3, 30, 4, 5, 6, 40}));
}

TEST(OutlierTest, PlantedOutliersAreFlaggedAndNormalRowsAreNot) {
  ReferenceStats s = Build(Sample(1, 20000, 16));
  FeatureRows rows = Sample(9, 1000, 16);
  // Row 10: one feature 8 sigma out. Row 20: f0 and f1 against their correlation, each only 2.2 sigma.
  rows.values[10 * 16 + 7] = 8;
  rows.values[20 * 16 + 0] = 2.2;
  rows.values[20 * 16 + 1] = -2.2;
  rows.values[30 * 16 + 4] = NAN;
  std::vector<RowOutlier> out;
  ScoreOutliers(s, rows, OutlierOptions{}, &out);
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_TRUE(out[10].outlier);
  EXPECT_EQ(out[10].feature, 7);
  EXPECT_NEAR(out[10].max_abs_z, 8, 0.3);
  EXPECT_TRUE(out[20].outlier);
  EXPECT_LT(out[20].max_abs_z, 4);
  EXPECT_GT(out[20].mahalanobis, 10);
  EXPECT_TRUE(out[30].outlier);  // a non-finite value
  int flagged = 0;
  for (const auto& o : out) flagged += o.outlier;
  // Normal rows: the chi-square 0.999 threshold flags about one in a thousand.
  EXPECT_LE(flagged, 3 + 4);
  EXPECT_NEAR(DefaultMahalanobisThreshold(16), std::sqrt(39.25), 0.1);
}

TEST(OutlierTest, MahalanobisHoldsAcrossWildlyDifferentScales) {
  // f1 = 1e30 * f0 (plus noise): a row against that relation is an outlier at any scale.
  FeatureRows rows = Sample(1, 5000, 3);
  for (int64_t r = 0; r < rows.rows; ++r) rows.values[r * 3 + 1] *= 1e30;
  ReferenceStats s = Build(rows);
  ASSERT_EQ(s.precision.size(), 9u);
  FeatureRows probe;
  probe.names = rows.names;
  probe.rows = 2;
  probe.values = {2, 2 * 0.95e30, 0, 2, -2 * 0.95e30, 0};  // along the relation, then against it
  std::vector<RowOutlier> out;
  ScoreOutliers(s, probe, OutlierOptions{}, &out);
  EXPECT_FALSE(out[0].outlier) << out[0].mahalanobis;
  EXPECT_TRUE(out[1].outlier) << out[1].mahalanobis;
  EXPECT_GT(out[1].mahalanobis, 10);
}

TEST(DriftTest, UnshiftedWindowsDoNotDriftShiftedOnesDo) {
  ReferenceStats s = Build(Sample(1, 5000, 8));
  MonitoringOptions o;
  for (uint64_t seed = 10; seed < 30; ++seed) {
    FeatureRows w = Sample(seed, 1000, 8);
    DriftReport r = EvaluateDrift(s, w.values, w.rows, o);
    EXPECT_FALSE(r.drifted) << "seed " << seed;
    for (const auto& f : r.features) {
      EXPECT_LT(f.ks, 0.1);
      EXPECT_LT(f.psi, 0.05);
    }
  }
  FeatureRows shifted = Sample(40, 1000, 8, /*shift=*/0.5);
  DriftReport r = EvaluateDrift(s, shifted.values, shifted.rows, o);
  EXPECT_TRUE(r.drifted);
  for (size_t f = 0; f < r.features.size(); ++f) EXPECT_EQ(r.features[f].drifted, f == 2) << f;
  EXPECT_GT(r.features[2].ks, 0.15);
  // A wider spread with the same mean: KS and PSI see it too.
  FeatureRows wide = Sample(41, 1000, 8, 0, /*scale=*/2);
  EXPECT_TRUE(EvaluateDrift(s, wide.values, wide.rows, o).features[2].drifted);
}

TEST(DriftTest, DriftEventsCarryNoShellMetacharacters) {
  DriftReport r;
  r.features = {{"f0", 0, 0, false}, {"$(id>/tmp/x) \"a\"", 1, 1, true}, {"age.years", 1, 1, true}};
  EXPECT_EQ(DriftEventText("7", r), "drift:v7:__id__tmp_x___a_,age.years");
}

TEST(DriftTest, DiscreteFeaturesCompareWithoutFalseAlarms) {
  // A 0/1 feature (70% zeros): ties everywhere, quantile points repeated.
  std::mt19937_64 rng(3);
  auto draw = [&](int64_t n, double p_one) {
    FeatureRows f;
    f.names = {"flag"};
    f.rows = n;
    std::bernoulli_distribution b(p_one);
    for (int64_t i = 0; i < n; ++i) f.values.push_back(b(rng) ? 1 : 0);
    return f;
  };
  ReferenceStats s = Build(draw(5000, 0.3));
  MonitoringOptions o;
  DriftReport same = EvaluateDrift(s, draw(1000, 0.3).values, 1000, o);
  EXPECT_FALSE(same.drifted) << same.features[0].ks << " " << same.features[0].psi;
  DriftReport moved = EvaluateDrift(s, draw(1000, 0.6).values, 1000, o);
  EXPECT_TRUE(moved.drifted);
  EXPECT_NEAR(moved.features[0].ks, 0.3, 0.06);
}

TEST(DriftTest, VersionMonitorClosesWindowsAndCounts) {
  VersionMonitor m;
  MonitoringOptions o;
  o.enabled = true;
  o.window_rows = 500;
  FeatureRows rows = Sample(5, 200, 4);
  EXPECT_FALSE(m.Observe(rows, o).scored);  // no statistics yet
  m.SetStats(std::make_shared<const ReferenceStats>(Build(Sample(1, 5000, 4))));
  EXPECT_FALSE(m.Observe(Sample(5, 10, 3), o).scored);  // the wrong width
  auto a = m.Observe(rows, o);
  auto b = m.Observe(rows, o);
  EXPECT_TRUE(a.scored && !a.drift && !b.drift);
  auto c = m.Observe(rows, o);
  ASSERT_TRUE(c.drift.has_value());
  EXPECT_EQ(c.drift->rows, 500);
  auto snap = m.Get();
  EXPECT_EQ(snap.windows, 1);
  EXPECT_EQ(snap.rows_scored, 600);
  EXPECT_EQ(snap.unscored_rows, 10);
  EXPECT_EQ(snap.window_fill, 100);  // the rest of the batch that closed the window starts the next
  // A batch of several windows closes each of them.
  auto big = m.Observe(Sample(6, 1250, 4), o);
  ASSERT_TRUE(big.drift.has_value());
  EXPECT_EQ(m.Get().windows, 3);
  EXPECT_EQ(m.Get().window_fill, 350);
}

}  // namespace
}  // namespace tamga
