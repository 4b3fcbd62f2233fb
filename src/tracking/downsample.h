#pragma once
// Min/max-preserving downsampling of a metric history for charts (docs/ui.md, "Charts"): M4 (Jugel et al.,
// VLDB 2014). The x range is cut into equal-width buckets; each bucket keeps its first and last point (by x)
// and its lowest and highest point (by y), so a line chart drawn from the result at one bucket per pixel
// column is the same as one drawn from every point, and every extreme value is exact. Unlike MLflow's
// 320 evenly spaced samples, a spike between samples never disappears. Pure functions, no I/O.
#include <cstdint>
#include <vector>

namespace tamga {

struct XYPoint {
  double x;  // step, or timestamp in ms
  double y;
};

struct DownsampleResult {
  std::vector<XYPoint> points;  // ascending x (ties keep input order); at most max(4, max_points)
  int64_t input_points = 0;     // points in [x_min, x_max] with a finite y
  int64_t non_finite = 0;       // points in range dropped because y was NaN or infinite
};

// Keeps points with x_min <= x <= x_max and finite y, then reduces them to at most `max_points` (4 per
// bucket, max_points / 4 buckets) when there are more. The input need not be sorted.
DownsampleResult DownsampleM4(const std::vector<XYPoint>& in, double x_min, double x_max, int64_t max_points);

}  // namespace tamga
