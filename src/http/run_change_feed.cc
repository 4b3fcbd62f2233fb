#include "http/run_change_feed.h"

#include <algorithm>
#include <chrono>
#include <memory>

namespace tamga {

// Numbers start at the wall clock in microseconds, so a client still holding a number from before a restart
// is below every number given after it (its next wait is woken by the next write).
RunChangeFeed::RunChangeFeed() : hub_(0) {
  seq_ = std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count();
}

void RunChangeFeed::Bump(const std::string& run_id) {
  int64_t seq;
  {
    MutexLock lock(&mu_);
    if (runs_.size() >= kMaxRuns && runs_.find(run_id) == runs_.end()) runs_.clear();
    // Never behind the wall clock: replicas number changes alike, so a number one replica gave is
    // comparable on another (docs/scale-out.md).
    seq = std::max(seq_ + 1, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count()));
    seq_ = seq;
    runs_[run_id] = seq;
  }
  hub_.Publish(seq);
}

int64_t RunChangeFeed::last() {
  MutexLock lock(&mu_);
  return seq_;
}

int64_t RunChangeFeed::SeqOf(const std::vector<std::string>& run_ids) {
  MutexLock lock(&mu_);
  int64_t best = 0;
  for (const auto& id : run_ids) {
    auto it = runs_.find(id);
    if (it != runs_.end()) best = std::max(best, it->second);
  }
  return best;
}

void RunChangeFeed::WaitAsync(std::vector<std::string> run_ids, int64_t after, int64_t timeout_ms,
                              std::function<void()> fn) {
  auto w = std::make_shared<Waiter>();
  w->run_ids = std::move(run_ids);
  w->after = after;
  w->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  w->fn = std::move(fn);
  Step(w, false);
}

// Other runs' writes wake the hub too: re-check ours and wait again for the time that is left.
void RunChangeFeed::Step(const std::shared_ptr<Waiter>& w, bool timed_out) {
  int64_t left =
      std::chrono::duration_cast<std::chrono::milliseconds>(w->deadline - std::chrono::steady_clock::now())
          .count();
  if (timed_out || left <= 0 || SeqOf(w->run_ids) > w->after) {
    auto fn = std::move(w->fn);
    if (fn) fn();
    return;
  }
  hub_.WaitAsync(last(), left, [this, w](bool t) { Step(w, t); });
}

}  // namespace tamga
