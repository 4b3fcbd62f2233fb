#pragma once
// Clock: the seam through which all code reads time. Thread-safe implementations only.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tamga {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (MLflow's timestamp unit).
  virtual int64_t NowMillis() = 0;
  // Monotonic nanoseconds, for latency measurement.
  virtual int64_t MonotonicNanos() = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// ManualClock: simulated time for tests; advances only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms = 1700000000000) : now_ms_(now_ms) {}
  int64_t NowMillis() override { return now_ms_.load(); }
  int64_t MonotonicNanos() override { return now_ms_.load() * 1000000; }
  void Advance(int64_t ms) { now_ms_ += ms; }
  void Set(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace tamga
