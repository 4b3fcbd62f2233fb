#include "storage/metric_series.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tamga {

std::string EncodeChunk(const std::vector<PackedPoint>& points) {
  std::string blob(points.size() * sizeof(PackedPoint), '\0');
  static_assert(sizeof(PackedPoint) == 24);
  std::memcpy(blob.data(), points.data(), blob.size());  // x86-64/aarch64: little-endian in memory
  return blob;
}

bool DecodeChunk(std::string_view blob, std::vector<PackedPoint>* out) {
  if (blob.size() % sizeof(PackedPoint) != 0) return false;
  size_t n = blob.size() / sizeof(PackedPoint);
  size_t old = out->size();
  out->resize(old + n);
  std::memcpy(out->data() + old, blob.data(), blob.size());
  return true;
}

static int CompareDoubles(double a, double b) {
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool PointLess(const PackedPoint& a, const PackedPoint& b) {
  if (a.step != b.step) return a.step < b.step;
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  return CompareDoubles(a.value, b.value) < 0;
}

bool PointEqual(const PackedPoint& a, const PackedPoint& b) {
  return a.step == b.step && a.timestamp == b.timestamp && CompareDoubles(a.value, b.value) == 0;
}

HistoryCollector::HistoryCollector(std::optional<HistoryCursor> after, int64_t max_results)
    : after_(after), max_results_(max_results) {}

bool HistoryCollector::After(const PackedPoint& p) const {
  if (!after_) return true;
  PackedPoint c{after_->step, after_->timestamp, after_->value};
  return PointLess(c, p);
}

void HistoryCollector::Normalize() {
  if (!sorted_) std::sort(points_.begin(), points_.end(), PointLess);
  points_.erase(std::unique(points_.begin(), points_.end(), PointEqual), points_.end());
  sorted_ = true;
}

bool HistoryCollector::WantsChunkWithMinStep(int64_t min_step) {
  if (max_results_ <= 0 || static_cast<int64_t>(points_.size()) < max_results_) return true;
  Normalize();
  if (static_cast<int64_t>(points_.size()) <= max_results_) return true;
  // More than a page is held: a chunk matters only if it may hold a point at or below the page's last
  // step (points are ordered by step first).
  return min_step <= points_[max_results_ - 1].step;
}

void HistoryCollector::Feed(const std::vector<PackedPoint>& chunk) {
  for (const auto& p : chunk) {
    if (!After(p)) continue;
    if (sorted_ && !points_.empty() && PointLess(p, points_.back())) sorted_ = false;
    points_.push_back(p);
  }
  // Bound memory for paged reads: keep only the smallest max_results + 1 distinct points.
  if (max_results_ > 0 && static_cast<int64_t>(points_.size()) > 4 * max_results_ + 1024) {
    Normalize();
    if (static_cast<int64_t>(points_.size()) > max_results_ + 1) points_.resize(max_results_ + 1);
  }
}

HistoryPage HistoryCollector::Finish() {
  Normalize();
  HistoryPage page;
  size_t n = points_.size();
  if (max_results_ > 0 && static_cast<int64_t>(n) > max_results_) {
    n = static_cast<size_t>(max_results_);
    const auto& last = points_[n - 1];
    page.next = HistoryCursor{last.step, last.timestamp, last.value};
  }
  points_.resize(n);
  page.points = std::move(points_);
  return page;
}

}  // namespace tamga
