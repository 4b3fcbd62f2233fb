#pragma once
// Packed metric-history chunks and the merge that turns chunks into an ordered history page.
// Backend-neutral: every MetadataStore stores a (run, key) history as chunks of 24-byte points
// (step, timestamp, value; little-endian) — see docs/architecture.md for why.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/metadata_store.h"

namespace tamga {

// The on-disk point layout is the in-memory HistoryPoint (24 bytes, no padding).
using PackedPoint = HistoryPoint;

// Points of one key, in the order logged.
std::string EncodeChunk(const std::vector<PackedPoint>& points);
// Returns false when the blob is not a whole number of points.
bool DecodeChunk(std::string_view blob, std::vector<PackedPoint>* out);

// (step, timestamp, value) order with NaN greater than any number and NaNs equal to each other.
bool PointLess(const PackedPoint& a, const PackedPoint& b);
bool PointEqual(const PackedPoint& a, const PackedPoint& b);

// Collects a history page from chunks fed in ascending min_step order. Feed() returns false once no
// further chunk (whose min_step is at least the given value) can contribute to the page.
class HistoryCollector {
 public:
  HistoryCollector(std::optional<HistoryCursor> after, int64_t max_results);
  bool WantsChunkWithMinStep(int64_t min_step);
  void Reserve(size_t n) { points_.reserve(n); }
  void Feed(const std::vector<PackedPoint>& points);
  HistoryPage Finish();

 private:
  bool After(const PackedPoint& p) const;
  void Normalize();  // sort + collapse duplicates
  std::optional<HistoryCursor> after_;
  int64_t max_results_;
  std::vector<PackedPoint> points_;
  bool sorted_ = true;
};

}  // namespace tamga
