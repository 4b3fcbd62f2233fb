#include "storage/metric_series.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace tamga {
namespace {

// The paged collector must agree with "sort everything, dedupe, slice" on random chunk layouts.
TEST(HistoryCollector, PagesMatchBruteForce) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::vector<PackedPoint>> chunks(1 + rng() % 8);
    std::vector<PackedPoint> all;
    for (auto& c : chunks) {
      int n = 1 + rng() % 40;
      for (int i = 0; i < n; ++i) {
        PackedPoint p{int64_t(rng() % 30), int64_t(rng() % 3), double(rng() % 4)};
        c.push_back(p);
        all.push_back(p);
      }
    }
    std::sort(all.begin(), all.end(), PointLess);
    all.erase(std::unique(all.begin(), all.end(), PointEqual), all.end());
    // Chunks are fed by ascending min step, as the store does.
    std::sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) {
      auto mn = [](const auto& c) { return std::min_element(c.begin(), c.end(), PointLess)->step; };
      return mn(a) < mn(b);
    });
    int64_t page_size = 1 + rng() % 10;
    std::vector<PackedPoint> got;
    std::optional<HistoryCursor> cursor;
    for (int guard = 0; guard < 1000; ++guard) {
      HistoryCollector c(cursor, page_size);
      for (const auto& chunk : chunks) {
        int64_t mn = std::min_element(chunk.begin(), chunk.end(), PointLess)->step;
        if (!c.WantsChunkWithMinStep(mn)) break;
        c.Feed(chunk);
      }
      HistoryPage page = c.Finish();
      for (const auto& p : page.points) got.push_back({p.step, p.timestamp, p.value});
      if (!page.next) break;
      cursor = page.next;
    }
    ASSERT_EQ(got.size(), all.size()) << "trial " << trial;
    for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(PointEqual(got[i], all[i]));
  }
}

TEST(MetricChunk, EncodeDecodeRoundTrip) {
  std::vector<PackedPoint> pts = {{1, 2, 3.5}, {-4, 5, std::nan("")}};
  std::vector<PackedPoint> out;
  ASSERT_TRUE(DecodeChunk(EncodeChunk(pts), &out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].step, 1);
  EXPECT_TRUE(std::isnan(out[1].value));
  EXPECT_FALSE(DecodeChunk("abc", &out));
}

}  // namespace
}  // namespace tamga
