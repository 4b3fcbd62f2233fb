// Reference statistics as stored by a reference-score test (src/serving/monitoring/reference_stats.h) and
// what serving computes with them (outlier scores, drift windows).
// Byte 0 picks how many features the probe rows have; the rest is the statistics' JSON.
// Properties: no crash, hang or escaped exception; errors are InvalidArgument; accepted statistics
// round-trip through ToJson; scoring and drift of probe rows (finite, NaN, huge) stay in range.
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "serving/monitoring/drift_monitor.h"
#include "serving/monitoring/reference_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t width = in.Byte();
  std::string text(in.Rest());
  auto stats = ReferenceStats::FromJson(text);
  if (!stats.ok()) {
    TAMGA_FUZZ_ASSERT(stats.status().code() == StatusCode::kInvalidArgument, "error not InvalidArgument");
    return 0;
  }
  auto again = ReferenceStats::FromJson(stats->ToJson());
  TAMGA_FUZZ_ASSERT(again.ok() && again->size() == stats->size(), "statistics do not round-trip");
  size_t k = width % 2 == 0 ? stats->size() : width % 8;  // matching width, or any
  FeatureRows rows;
  for (size_t c = 0; c < k; ++c) rows.names.push_back("f" + std::to_string(c));
  const double probes[] = {0, 1, -1e308, 1e308, NAN, INFINITY, 3.5};
  rows.rows = 7;
  for (double p : probes)
    for (size_t c = 0; c < k; ++c) rows.values.push_back(c % 2 ? p : -p);
  std::vector<RowOutlier> out;
  ScoreOutliers(*stats, rows, OutlierOptions{}, &out);
  TAMGA_FUZZ_ASSERT(out.size() == 7, "one score per row");
  for (const auto& o : out) TAMGA_FUZZ_ASSERT(!(o.max_abs_z < 0), "negative z");
  if (k == stats->size()) {
    MonitoringOptions mo;
    DriftReport r = EvaluateDrift(*stats, rows.values, rows.rows, mo);
    for (const auto& f : r.features) {
      TAMGA_FUZZ_ASSERT(f.ks >= 0 && f.ks <= 1.0000001, "KS distance out of [0, 1]");
      TAMGA_FUZZ_ASSERT(!std::isnan(f.psi), "PSI is NaN");
    }
  }
  return 0;
}
