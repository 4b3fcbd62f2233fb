#pragma once
// Containing exceptions at the edges where they would otherwise end the process: a background thread's loop,
// a callback run on a shared thread (group commit, event hub, webhook pool). An exception becomes one log
// line naming the place and, where a Status is expected, Internal. Thread-safe (stateless).
#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "core/log.h"
#include "core/status.h"

namespace tamga {

// Calls fn() (returning Status or void); an exception is logged with `where` and becomes Internal.
template <typename Fn>
Status CallContained(const char* where, Fn&& fn) {
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      return Status::Ok();
    } else {
      return fn();
    }
  } catch (const std::exception& e) {
    TAMGA_LOG(kError, "exception contained", {{"where", where}, {"error", e.what()}});
    return Internal(std::string(where) + " failed: " + e.what());
  } catch (...) {
    TAMGA_LOG(kError, "exception contained", {{"where", where}, {"error", "unknown"}});
    return Internal(std::string(where) + " failed");
  }
}

// Runs a background thread's loop; if it throws, logs and runs it again a second later, until it returns.
// The loop must be restartable (it re-reads its cursor or state on entry).
template <typename Fn>
void RunLoopContained(const char* where, Fn&& loop) {
  for (;;) {
    Status s = CallContained(where, loop);
    if (s.ok()) return;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace tamga
