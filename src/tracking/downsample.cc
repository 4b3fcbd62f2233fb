#include "tracking/downsample.h"

#include <algorithm>
#include <cmath>

namespace tamga {

DownsampleResult DownsampleM4(const std::vector<XYPoint>& in, double x_min, double x_max,
                              int64_t max_points) {
  DownsampleResult out;
  std::vector<XYPoint> kept;
  kept.reserve(in.size());
  double lo = INFINITY, hi = -INFINITY;
  for (const XYPoint& p : in) {
    if (!(p.x >= x_min && p.x <= x_max)) continue;
    if (!std::isfinite(p.y)) {
      ++out.non_finite;
      continue;
    }
    kept.push_back(p);
    lo = std::min(lo, p.x);
    hi = std::max(hi, p.x);
  }
  out.input_points = static_cast<int64_t>(kept.size());
  max_points = std::max<int64_t>(max_points, 4);
  if (out.input_points <= max_points) {
    std::stable_sort(kept.begin(), kept.end(), [](const XYPoint& a, const XYPoint& b) { return a.x < b.x; });
    out.points = std::move(kept);
    return out;
  }
  const int64_t buckets = max_points / 4;
  const double width = (hi - lo) / static_cast<double>(buckets);
  struct Bucket {
    int64_t first = -1, last = -1, min = -1, max = -1;
  };
  std::vector<Bucket> b(static_cast<size_t>(buckets));
  for (size_t i = 0; i < kept.size(); ++i) {
    const XYPoint& p = kept[i];
    int64_t k = width > 0 ? static_cast<int64_t>((p.x - lo) / width) : 0;
    k = std::clamp<int64_t>(k, 0, buckets - 1);
    Bucket& c = b[static_cast<size_t>(k)];
    auto idx = static_cast<int64_t>(i);
    if (c.first < 0) {
      c.first = c.last = c.min = c.max = idx;
      continue;
    }
    if (p.x < kept[c.first].x) c.first = idx;
    if (p.x >= kept[c.last].x) c.last = idx;
    if (p.y < kept[c.min].y) c.min = idx;
    if (p.y > kept[c.max].y) c.max = idx;
  }
  out.points.reserve(static_cast<size_t>(max_points));
  for (const Bucket& c : b) {
    if (c.first < 0) continue;
    int64_t ids[4] = {c.first, c.min, c.max, c.last};
    std::sort(ids, ids + 4,
              [&](int64_t a, int64_t z) { return kept[a].x != kept[z].x ? kept[a].x < kept[z].x : a < z; });
    for (int j = 0; j < 4; ++j) {
      if (j > 0 && ids[j] == ids[j - 1]) continue;
      out.points.push_back(kept[ids[j]]);
    }
  }
  return out;
}

}  // namespace tamga
