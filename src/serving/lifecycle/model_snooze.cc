// ModelManager: scale to zero (docs/rollouts.md §8). Who decides to snooze and how a woken endpoint is
// reloaded is the caller's business (src/server/local_serving.cc); the manager keeps the idle clock, the
// snoozed mark, and the requests waiting for the endpoint to serve again.
#include <chrono>

#include "core/clock.h"
#include "core/log.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {
namespace {

std::string Short(const std::string& s) { return s.substr(0, 200); }

}  // namespace

int64_t ModelManager::SteadyMillis() { return SystemClock().MonotonicNanos() / 1000000; }

void ModelManager::ConfigureSnooze(const std::string& name, const SnoozeOptions& options) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return;
  it->second.snooze = options;
  if (it->second.last_used_ms == 0) it->second.last_used_ms = SteadyMillis();
}

int64_t ModelManager::IdleMs(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second.last_used_ms == 0) return -1;
  return SteadyMillis() - it->second.last_used_ms;
}

Status ModelManager::Snooze(const std::string& name) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + Short(name) + "' is not served here");
  Entry& e = it->second;
  std::vector<std::shared_ptr<LoadedVersion>> unloaded;
  for (auto& v : e.variants) {
    if (v.serving) unloaded.push_back(std::move(v.serving));
    v.status.state = ModelState::kSnoozed;
    v.status.serving_version.clear();
    v.status.loading_version.clear();
  }
  e.snoozed = true;
  e.waking = false;
  // Running requests hold their handles: each version unloads once they finished.
  for (auto& old : unloaded) RetireUnused(&e, {std::move(old)});
  UpdateLoadedGauge();
  return Status::Ok();
}

int64_t ModelManager::WakeWaitMs(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end() || !it->second.snoozed) return -1;
  return it->second.snooze.wake_timeout_ms;
}

void ModelManager::AwaitServing(const std::string& name, int64_t timeout_ms, int64_t bytes,
                                std::function<void(bool)> ready) {
  int answer = -1;  // -1: queued; 0 / 1: answer now
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end() || shutting_down_) {
      answer = 0;
    } else {
      bool serving = false;
      for (const auto& v : it->second.variants) serving = serving || (v.serving && !v.status.shadow);
      Entry& e = it->second;
      if (serving) {
        answer = 1;
      } else if (e.waiters.size() >= kMaxWakeWaiters || e.waiting_bytes + bytes > kMaxWakeWaitBytes) {
        answer = 0;  // enough callers wait already: this one hears 503 and retries later
      } else {
        e.waiting_bytes += bytes;
        e.waiters.push_back({SteadyMillis() + timeout_ms, bytes, std::move(ready)});
        if (!waiter_thread_.joinable()) waiter_thread_ = std::thread([this] { WaiterLoop(); });
      }
    }
  }
  if (answer >= 0) ready(answer == 1);
}

std::vector<std::function<void(bool)>> ModelManager::TakeWaiters(const std::string& name, Entry& e) {
  std::vector<std::function<void(bool)>> out;
  for (auto& w : e.waiters) out.push_back(std::move(w.ready));
  e.waiters.clear();
  e.waiting_bytes = 0;
  if (e.snoozed) TAMGA_LOG(kInfo, "snoozed model awake", {{"model", Short(name)}});
  e.snoozed = false;
  e.waking = false;
  e.last_used_ms = SteadyMillis();
  return out;
}

void ModelManager::WaiterLoop() {
  while (!shutting_down_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::vector<std::function<void(bool)>> expired;
    {
      MutexLock lock(&mu_);
      int64_t now = SteadyMillis();
      for (auto& [name, e] : models_) {
        for (auto it = e.waiters.begin(); it != e.waiters.end();) {
          if (it->deadline_ms > now) {
            ++it;
            continue;
          }
          expired.push_back(std::move(it->ready));
          e.waiting_bytes -= it->bytes;
          it = e.waiters.erase(it);
        }
      }
    }
    for (auto& f : expired) f(false);
  }
}

}  // namespace tamga
