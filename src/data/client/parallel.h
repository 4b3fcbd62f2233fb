#pragma once
// Runs fn(0..n-1) on `threads` threads (0 = every core); returns the first error. For the CLI's file work.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

namespace tamga {

template <typename Fn>
Status ParallelFor(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first = Status::Ok();
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
      }
    }
  };
  int t = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  t = static_cast<int>(std::min<size_t>(static_cast<size_t>(t), std::max<size_t>(1, n)));
  std::vector<std::thread> pool;
  for (int i = 1; i < t; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return first;
}

}  // namespace tamga
