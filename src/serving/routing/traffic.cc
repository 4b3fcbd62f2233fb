#include "serving/routing/traffic.h"

#include <cmath>
#include <cstring>
#include <random>

namespace tamga {
const char* TrafficModeName(TrafficMode m) {
  switch (m) {
    case TrafficMode::kCanary:
      return "canary";
    case TrafficMode::kAb:
      return "ab";
    case TrafficMode::kShadow:
      return "shadow";
  }
  return "canary";
}

int PickWeighted(const std::vector<double>& weights, double u) {
  double total = 0;
  for (double w : weights) total += w > 0 ? w : 0;
  if (!(total > 0)) return -1;
  double target = u * total, acc = 0;
  int last = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] > 0)) continue;
    acc += weights[i];
    last = static_cast<int>(i);
    if (target < acc) return last;
  }
  return last;  // u rounding up to 1
}

double StickyDraw(std::string_view salt, std::string_view key) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(salt);
  mix(std::string_view("\0", 1));
  mix(key);
  // FNV's low bits mix poorly: finish with a 64-bit avalanche (splitmix64's finaliser).
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double RandomDraw() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

OutputComparison CompareOutputs(const std::vector<Tensor>& primary, const std::vector<Tensor>& shadow,
                                double atol, double rtol) {
  OutputComparison c;
  if (primary.size() != shadow.size()) {
    c.comparable = c.agree = false;
    return c;
  }
  for (size_t k = 0; k < primary.size(); ++k) {
    const Tensor& a = primary[k];
    const Tensor& b = shadow[k];
    if (a.shape != b.shape) {
      c.comparable = c.agree = false;
      return c;
    }
    if (a.dtype == DataType::kBytes || b.dtype == DataType::kBytes) {
      if (a.dtype != b.dtype) {
        c.comparable = c.agree = false;
        return c;
      }
      if (a.data != b.data) c.agree = false;
      continue;
    }
    int64_t n = a.NumElements();
    if (static_cast<int64_t>(a.data.size()) < n * static_cast<int64_t>(DataTypeSize(a.dtype)) ||
        static_cast<int64_t>(b.data.size()) < n * static_cast<int64_t>(DataTypeSize(b.dtype))) {
      c.comparable = c.agree = false;
      return c;
    }
    for (int64_t i = 0; i < n; ++i) {
      double x = ElementAsDouble(a, i), y = ElementAsDouble(b, i);
      if (std::isnan(x) || std::isnan(y)) {
        if (std::isnan(x) != std::isnan(y)) c.agree = false;
        continue;
      }
      double d = std::fabs(x - y);
      if (d > c.max_abs_delta) c.max_abs_delta = d;
      if (d > atol + rtol * std::fabs(x)) c.agree = false;
    }
  }
  return c;
}

VariantSnapshot VariantSnapshot::Minus(const VariantSnapshot& e) const {
  VariantSnapshot d = *this;
  d.requests -= e.requests;
  d.failures -= e.failures;
  d.invalid -= e.invalid;
  for (int i = 0; i < kLatencyBuckets; ++i) d.latency[i] -= e.latency[i];
  d.shadow_agree -= e.shadow_agree;
  d.shadow_disagree -= e.shadow_disagree;
  d.shadow_failed -= e.shadow_failed;
  d.shadow_dropped -= e.shadow_dropped;
  d.shadow_delta_sum -= e.shadow_delta_sum;
  return d;
}

double VariantSnapshot::LatencyQuantile(double q) const {
  uint64_t total = 0;
  for (uint64_t n : latency) total += n;
  if (total == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  uint64_t acc = 0;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    acc += latency[i];
    if (acc >= rank) return std::ldexp(1.0, i) * 1e-6;
  }
  return std::ldexp(1.0, kLatencyBuckets - 1) * 1e-6;
}

void VariantStats::Answered(bool ok, int64_t latency_ns) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!ok) failures_.fetch_add(1, std::memory_order_relaxed);
  uint64_t us = latency_ns > 0 ? static_cast<uint64_t>(latency_ns) / 1000 : 0;
  int b = 0;
  while (b < VariantSnapshot::kLatencyBuckets - 1 && (uint64_t{1} << b) <= us) ++b;
  latency_[b].fetch_add(1, std::memory_order_relaxed);
}

void VariantStats::ShadowCompared(const OutputComparison& c) {
  (c.agree ? shadow_agree_ : shadow_disagree_).fetch_add(1, std::memory_order_relaxed);
  double micro = c.max_abs_delta * 1e6;
  uint64_t add =
      micro >= 1e15 || std::isnan(micro) ? uint64_t{1000000000000000} : static_cast<uint64_t>(micro);
  shadow_delta_micro_.fetch_add(add, std::memory_order_relaxed);
}

VariantSnapshot VariantStats::Snapshot() const {
  VariantSnapshot s;
  s.requests = requests_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  s.invalid = invalid_.load(std::memory_order_relaxed);
  for (int i = 0; i < VariantSnapshot::kLatencyBuckets; ++i)
    s.latency[i] = latency_[i].load(std::memory_order_relaxed);
  s.shadow_agree = shadow_agree_.load(std::memory_order_relaxed);
  s.shadow_disagree = shadow_disagree_.load(std::memory_order_relaxed);
  s.shadow_failed = shadow_failed_.load(std::memory_order_relaxed);
  s.shadow_dropped = shadow_dropped_.load(std::memory_order_relaxed);
  s.shadow_delta_sum = static_cast<double>(shadow_delta_micro_.load(std::memory_order_relaxed)) * 1e-6;
  return s;
}

}  // namespace tamga
