#include "registry/event_hub.h"
#include "core/contain.h"

#include <vector>

namespace tamga {

EventHub::EventHub(int64_t last_seq) : last_seq_(last_seq), thread_([this] { Loop(); }) {}

EventHub::~EventHub() { Shutdown(); }

void EventHub::Publish(int64_t seq) {
  if (relay_) relay_(seq);
  PublishFromPeer(seq);
}

void EventHub::PublishFromPeer(int64_t seq) {
  {
    MutexLock lock(&mu_);
    if (seq <= last_seq_) return;
    last_seq_ = seq;
  }
  cv_.notify_all();
}

int64_t EventHub::last_seq() {
  MutexLock lock(&mu_);
  return last_seq_;
}

void EventHub::WaitAsync(int64_t after, int64_t timeout_ms, std::function<void(bool)> fn) {
  {
    UniqueLock lock(&mu_);
    if (!stopping_ && last_seq_ <= after && timeout_ms > 0) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      waiters_.emplace(deadline, Waiter{after, std::move(fn)});
      cv_.notify_all();
      return;
    }
  }
  fn(last_seq() <= after);
}

bool EventHub::Wait(int64_t after, int64_t timeout_ms) {
  UniqueLock lock(&mu_);
  cv_.wait_for(lock.native(), std::chrono::milliseconds(timeout_ms), [&] {
    mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
    return stopping_ || last_seq_ > after;
  });
  return last_seq_ > after;
}

void EventHub::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventHub::Loop() {
  UniqueLock lock(&mu_);
  for (;;) {
    std::vector<std::pair<std::function<void(bool)>, bool>> ready;
    auto now = std::chrono::steady_clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      bool fired = last_seq_ > it->second.after;
      if (fired || it->first <= now || stopping_) {
        ready.emplace_back(std::move(it->second.fn), !fired);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (!ready.empty()) {
      lock.unlock();
      for (auto& entry : ready) {
        auto& fn = entry.first;
        bool timed_out = entry.second;
        (void)CallContained("event wait callback", [&fn, timed_out] { fn(timed_out); });
      }
      lock.lock();
      continue;
    }
    if (stopping_) return;
    int64_t seen = last_seq_;
    size_t count = waiters_.size();
    auto woke = [&] {
      mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return stopping_ || last_seq_ != seen || waiters_.size() != count;
    };
    if (waiters_.empty())
      cv_.wait(lock.native(), woke);
    else
      cv_.wait_until(lock.native(), waiters_.begin()->first, woke);
  }
}

}  // namespace tamga
