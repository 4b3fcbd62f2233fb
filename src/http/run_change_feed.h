#pragma once
// RunChangeFeed: lets live charts long-poll for new metrics (GET /api/2.0/tamga/metrics/sampled?after=N
// &wait_ms=M). Every commit that logs metrics to a run (or updates it) takes the next sequence number and
// records it for the run; a wait ends as soon as one of its runs has a number above `after`, or at the
// timeout. Numbers are per run (a client learns nothing of other runs' writes) and start from the wall clock
// at start-up, so after a restart the next write to a run wakes a client holding an older number. In memory
// only. Thread-safe.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/thread_annotations.h"
#include "registry/event_hub.h"

namespace tamga {

class RunChangeFeed {
 public:
  RunChangeFeed();
  void Bump(const std::string& run_id);
  int64_t last();
  // The newest sequence number of any of these runs (0: none seen since start-up).
  int64_t SeqOf(const std::vector<std::string>& run_ids);
  // Calls fn() once, on the feed's thread: when one of the runs changes after `after`, at the timeout or at
  // shutdown.
  void WaitAsync(std::vector<std::string> run_ids, int64_t after, int64_t timeout_ms,
                 std::function<void()> fn);
  void Shutdown() { hub_.Shutdown(); }

 private:
  struct Waiter {
    std::vector<std::string> run_ids;
    int64_t after = 0;
    std::chrono::steady_clock::time_point deadline;
    std::function<void()> fn;
  };
  void Step(const std::shared_ptr<Waiter>& w, bool timed_out);

  static constexpr size_t kMaxRuns =
      100000;  // beyond: forget all (each then reads as unchanged until it logs)
  Mutex mu_;
  int64_t seq_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, int64_t> runs_ GUARDED_BY(mu_);
  EventHub hub_;
};

}  // namespace tamga
