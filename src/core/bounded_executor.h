#pragma once
// BoundedExecutor: a fixed set of worker threads and a bounded queue, for blocking work that requests start
// (webhook tests, outbound calls). Unlike a thread per request it caps threads and memory: TrySubmit refuses
// work when the queue is full, and the caller answers 429. A task that throws is logged and contained.
// Thread-safe. The destructor runs the tasks already queued, then joins the workers.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include "core/mutex.h"

namespace tamga {

class BoundedExecutor {
 public:
  struct Options {
    std::string name = "pool";  // in log lines
    int threads = 4;
    size_t max_queued = 64;  // tasks waiting for a thread, beyond those running
  };

  explicit BoundedExecutor(const Options& options);
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False (and `task` is dropped, not run) when the queue is full or the executor is stopping.
  bool TrySubmit(std::function<void()> task);

 private:
  void Loop();

  const Options options_;
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tamga
