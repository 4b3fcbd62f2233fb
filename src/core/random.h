#pragma once
// Random: the seam for randomness (ids, generated run names). Thread-safe.
#include <cstdint>
#include <mutex>
#include <random>

#include "core/mutex.h"

namespace tamga {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;
};

// A 64-bit Mersenne Twister seeded from std::random_device; a mutex makes it shareable.
class SystemRandom final : public Random {
 public:
  SystemRandom() : gen_(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}
  explicit SystemRandom(uint64_t seed) : gen_(seed) {}
  uint64_t Next() override {
    MutexLock lock(&mu_);
    return gen_();
  }

 private:
  Mutex mu_;
  std::mt19937_64 gen_ GUARDED_BY(mu_);
};

}  // namespace tamga
