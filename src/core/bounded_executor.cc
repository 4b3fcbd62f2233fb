#include "core/bounded_executor.h"

#include <exception>

#include "core/log.h"

namespace tamga {

BoundedExecutor::BoundedExecutor(const Options& options) : options_(options) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { Loop(); });
}

BoundedExecutor::~BoundedExecutor() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool BoundedExecutor::TrySubmit(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= options_.max_queued) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void BoundedExecutor::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      UniqueLock lock(&mu_);
      cv_.wait(lock.native(), [this] {
        mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
        return stopping_ || !queue_.empty();
      });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      TAMGA_LOG(kError, "background task threw", {{"pool", options_.name}, {"error", e.what()}});
    } catch (...) {
      TAMGA_LOG(kError, "background task threw", {{"pool", options_.name}, {"error", "unknown"}});
    }
  }
}

}  // namespace tamga
