// Outlier scoring and drift cost (docs/rollouts.md §7): what ModelManager::Observe adds to a monitored
// request, per row, for 16 features — extracting the features from the request tensor, z-scores and the
// Mahalanobis distance — and the cost of closing one drift window (PSI + KS per feature), on one thread.
//   tamga_monitoring_bench [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "serving/monitoring/drift_monitor.h"
#include "serving/monitoring/reference_stats.h"

using namespace tamga;

namespace {

Tensor Request(std::mt19937_64& rng, int64_t rows, int64_t k) {
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(rows * k));
  for (auto& x : v) x = normal(rng);
  Tensor t;
  t.name = "input-0";
  t.dtype = DataType::kFp32;
  t.shape = {rows, k};
  t.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return t;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(10, std::atoi(argv[1])) : 2000;
  const int64_t k = 16;
  std::mt19937_64 rng(1);
  ReferenceStatsBuilder builder;
  for (int i = 0; i < 20; ++i) {
    if (!builder.Add(FeaturesOf({Request(rng, 1000, k)})).ok()) return 1;
  }
  auto stats = builder.Finish();
  if (!stats.ok()) return 1;
  OutlierOptions options;
  std::vector<RowOutlier> out;
  int64_t sink = 0;
  std::printf(
      "== outlier scoring, %lld features (FeaturesOf + z-scores + Mahalanobis), median of %d rounds\n",
      static_cast<long long>(k), rounds);
  for (int64_t rows : {1, 16, 256}) {
    std::vector<Tensor> req = {Request(rng, rows, k)};
    std::vector<double> total, score;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      FeatureRows f = FeaturesOf(req);
      auto t1 = std::chrono::steady_clock::now();
      ScoreOutliers(*stats, f, options, &out);
      auto t2 = std::chrono::steady_clock::now();
      for (const auto& o : out) sink += o.outlier;
      total.push_back(std::chrono::duration<double, std::nano>(t2 - t0).count() / static_cast<double>(rows));
      score.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / static_cast<double>(rows));
    }
    std::printf("batch %4lld rows: %7.0f ns/row (scoring alone %6.0f ns/row)\n", static_cast<long long>(rows),
                Median(total), Median(score));
  }
  MonitoringOptions mo;
  FeatureRows window = FeaturesOf({Request(rng, mo.window_rows, k)});
  std::vector<double> evals;
  for (int r = 0; r < std::max(10, rounds / 100); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    DriftReport d = EvaluateDrift(*stats, window.values, window.rows, mo);
    evals.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    sink += d.drifted;
  }
  std::printf(
      "== drift window of %lld rows x %lld features (PSI + KS): %.0f us per window, %.0f ns per row\n",
      static_cast<long long>(mo.window_rows), static_cast<long long>(k), Median(evals),
      Median(evals) * 1000 / static_cast<double>(mo.window_rows));
  return sink < 0 ? 1 : 0;
}
