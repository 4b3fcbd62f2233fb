#pragma once
// EventHub: tells in-process followers of the registry outbox that new events committed.
//
// The outbox itself is the durable table (storage/registry_store.h); the hub only carries "the newest
// committed seq is now N" so followers wake without polling. Long-poll HTTP requests wait asynchronously
// (no thread parked per request); worker threads (webhook fan-out, deploy follower) wait blocking.
// Thread-safe. One internal thread runs async callbacks and timeouts; callbacks must be quick.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/mutex.h"

namespace tamga {

class EventHub {
 public:
  explicit EventHub(int64_t last_seq);
  ~EventHub();  // Shutdown()

  // Called after a commit that appended events up to `seq` (older values are ignored); also handed to the
  // relay, if any (several replicas: it tells the others).
  void Publish(int64_t seq);
  // Another replica committed events up to `seq`: wakes waiters here, relays nothing.
  void PublishFromPeer(int64_t seq);
  // Set before the hub is shared; runs on the publishing thread, must not block.
  void SetRelay(std::function<void(int64_t seq)> relay) { relay_ = std::move(relay); }
  int64_t last_seq();

  // Calls `fn(timed_out)` once: as soon as last_seq() > after, or after `timeout_ms`, or at shutdown
  // (timed_out = true). Runs on the hub's thread.
  void WaitAsync(int64_t after, int64_t timeout_ms, std::function<void(bool timed_out)> fn);
  // Blocks until last_seq() > after, the timeout passes or Shutdown(); returns last_seq() > after.
  bool Wait(int64_t after, int64_t timeout_ms);
  // Wakes every waiter (async ones with timed_out = true) and stops the thread. Idempotent.
  void Shutdown();

 private:
  struct Waiter {
    int64_t after;
    std::function<void(bool)> fn;
  };
  void Loop();

  Mutex mu_;
  std::condition_variable cv_;
  int64_t last_seq_ GUARDED_BY(mu_);
  std::multimap<std::chrono::steady_clock::time_point, Waiter> waiters_ GUARDED_BY(mu_);  // by deadline
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::function<void(int64_t)> relay_;
};

}  // namespace tamga
