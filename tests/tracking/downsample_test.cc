#include "tracking/downsample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace tamga {
namespace {

TEST(DownsampleM4, SmallInputsPassThroughSorted) {
  std::vector<XYPoint> in = {{3, 1}, {1, 2}, {2, 3}};
  auto r = DownsampleM4(in, -INFINITY, INFINITY, 100);
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_EQ(r.points[0].x, 1);
  EXPECT_EQ(r.points[2].x, 3);
  EXPECT_EQ(r.input_points, 3);
}

TEST(DownsampleM4, KeepsEveryExtremeAndTheEnds) {
  std::vector<XYPoint> in;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  for (int i = 0; i < 1000000; ++i) in.push_back({static_cast<double>(i), noise(rng)});
  in[123457].y = 1e6;
  in[987].y = -1e6;
  auto r = DownsampleM4(in, -INFINITY, INFINITY, 2000);
  EXPECT_LE(r.points.size(), 2000u);
  EXPECT_GE(r.points.size(), 1500u);
  EXPECT_EQ(r.points.front().x, 0);
  EXPECT_EQ(r.points.back().x, 999999);
  auto [lo, hi] = std::minmax_element(r.points.begin(), r.points.end(),
                                      [](const XYPoint& a, const XYPoint& b) { return a.y < b.y; });
  EXPECT_EQ(hi->y, 1e6);
  EXPECT_EQ(hi->x, 123457);
  EXPECT_EQ(lo->y, -1e6);
  EXPECT_TRUE(std::is_sorted(r.points.begin(), r.points.end(),
                             [](const XYPoint& a, const XYPoint& b) { return a.x < b.x; }));
  // Every bucket's own min and max survive: the extremes of any bucket-aligned window are exact.
  double width = 1000000.0 / 500;
  for (int b = 0; b < 500; b += 37) {
    double want_max = -INFINITY;
    for (const auto& p : in) {
      if (p.x >= b * width && p.x < (b + 1) * width) want_max = std::max(want_max, p.y);
    }
    double got_max = -INFINITY;
    for (const auto& p : r.points) {
      if (p.x >= b * width && p.x < (b + 1) * width) got_max = std::max(got_max, p.y);
    }
    EXPECT_EQ(got_max, want_max) << "bucket " << b;
  }
}

TEST(DownsampleM4, RangeAndNonFinite) {
  std::vector<XYPoint> in;
  for (int i = 0; i < 100; ++i)
    in.push_back({static_cast<double>(i), i == 50 ? NAN : i == 51 ? INFINITY : 1.0 * i});
  auto r = DownsampleM4(in, 40, 59, 1000);
  EXPECT_EQ(r.input_points, 18);
  EXPECT_EQ(r.non_finite, 2);
  EXPECT_EQ(r.points.front().x, 40);
  EXPECT_EQ(r.points.back().x, 59);
  auto none = DownsampleM4(in, 200, 300, 10);
  EXPECT_TRUE(none.points.empty());
}

TEST(DownsampleM4, SameXEverywhereAndUnsortedInput) {
  std::vector<XYPoint> in;
  for (int i = 0; i < 1000; ++i) in.push_back({5, static_cast<double>(i % 17)});
  auto r = DownsampleM4(in, -INFINITY, INFINITY, 8);
  EXPECT_LE(r.points.size(), 4u);
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& p : r.points) {
    lo = std::min(lo, p.y);
    hi = std::max(hi, p.y);
  }
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 16);
  std::vector<XYPoint> shuffled;
  for (int i = 999; i >= 0; --i) shuffled.push_back({static_cast<double>(i), static_cast<double>(i)});
  auto s = DownsampleM4(shuffled, -INFINITY, INFINITY, 40);
  EXPECT_TRUE(std::is_sorted(s.points.begin(), s.points.end(),
                             [](const XYPoint& a, const XYPoint& b) { return a.x < b.x; }));
  EXPECT_EQ(s.points.front().x, 0);
  EXPECT_EQ(s.points.back().x, 999);
}

}  // namespace
}  // namespace tamga
