#pragma once
// Traffic between the variants of one endpoint (docs/rollouts.md §2): the policy as data, the pure
// choice functions the model manager routes with, output comparison for shadow traffic, and the in-memory
// per-variant figures a rollout controller reads.
//
// TrafficPolicy and the functions are values/pure; VariantStats is thread-safe (atomics).
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "serving/tensor.h"

namespace tamga {

// The variant of an endpoint served without a traffic policy (`tamga serve`, a plain local deployment).
inline constexpr const char* kPrimaryVariant = "primary";

enum class TrafficMode {
  kCanary,  // weighted random draw per request (one variant: everything to it)
  kAb,      // weighted, sticky by the hash of a request header
  kShadow,  // one serving variant answers; shadow variants get mirrored copies
};
const char* TrafficModeName(TrafficMode m);

struct TrafficVariant {
  std::string name;
  double weight = 1;    // relative share among serving variants; ignored for shadows
  bool shadow = false;  // receives mirrored copies only, never answers the caller
};

struct TrafficPolicy {
  TrafficMode mode = TrafficMode::kCanary;
  std::vector<TrafficVariant> variants{TrafficVariant{kPrimaryVariant}};
  std::string sticky_header;   // kAb: lower-case header (gRPC metadata) name whose value is the key
  double shadow_sample = 1.0;  // share of requests mirrored to each shadow variant
  double shadow_atol = 1e-6;   // |a - b| > atol + rtol * |b| is a disagreement
  double shadow_rtol = 1e-4;
};

// Index into `weights` (all >= 0, sum > 0) for a draw `u` in [0, 1): the variant whose cumulative
// share covers u. Returns -1 when the weights sum to 0.
int PickWeighted(const std::vector<double>& weights, double u);
// Stable hash of a sticky key (64-bit FNV-1a of salt, NUL, key) mapped to [0, 1).
double StickyDraw(std::string_view salt, std::string_view key);
// A uniform draw in [0, 1) from a per-thread generator (seeded once per thread).
double RandomDraw();

// How a shadow's outputs compare with the primary's.
struct OutputComparison {
  bool comparable = true;    // same output count, dtypes and shapes
  bool agree = true;         // every element within tolerance (BYTES: equal)
  double max_abs_delta = 0;  // largest |primary - shadow| over numeric elements
};
OutputComparison CompareOutputs(const std::vector<Tensor>& primary, const std::vector<Tensor>& shadow,
                                double atol, double rtol);

// Figures of one variant since it was created; a controller diffs two snapshots to get a window.
struct VariantSnapshot {
  static constexpr int kLatencyBuckets = 32;  // bucket i: latency < 2^i microseconds (last: +Inf)
  uint64_t requests = 0;                      // answered (success + failure)
  uint64_t failures = 0;
  uint64_t invalid = 0;  // refused before inference (bad input)
  std::array<uint64_t, kLatencyBuckets> latency{};
  uint64_t shadow_agree = 0, shadow_disagree = 0, shadow_failed = 0, shadow_dropped = 0;
  double shadow_delta_sum = 0;  // sum of max_abs_delta over compared responses

  VariantSnapshot Minus(const VariantSnapshot& earlier) const;
  // Upper bound (seconds) of the bucket holding quantile q of the latency counts; 0 with no requests.
  double LatencyQuantile(double q) const;
};

class VariantStats {
 public:
  void Answered(bool ok, int64_t latency_ns);
  void Invalid() { invalid_.fetch_add(1, std::memory_order_relaxed); }
  void ShadowCompared(const OutputComparison& c);
  void ShadowFailed() { shadow_failed_.fetch_add(1, std::memory_order_relaxed); }
  void ShadowDropped() { shadow_dropped_.fetch_add(1, std::memory_order_relaxed); }
  VariantSnapshot Snapshot() const;

 private:
  std::atomic<uint64_t> requests_{0}, failures_{0}, invalid_{0};
  std::array<std::atomic<uint64_t>, VariantSnapshot::kLatencyBuckets> latency_{};
  std::atomic<uint64_t> shadow_agree_{0}, shadow_disagree_{0}, shadow_failed_{0}, shadow_dropped_{0};
  std::atomic<uint64_t> shadow_delta_micro_{0};  // sum of max_abs_delta in 1e-6 units (saturating)
};

}  // namespace tamga
