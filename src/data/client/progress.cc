#include "data/client/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace tamga {
namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string HumanDuration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) % 3600 / 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total_bytes, int64_t total_files)
    : label_(std::move(label)), total_bytes_(total_bytes), total_files_(total_files), start_ns_(NowNs()) {
  const char* force = std::getenv("TAMGA_PROGRESS");
  enabled_ = force ? std::string(force) == "1" : ::isatty(2) != 0;
  if (!enabled_) return;
  drawer_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      cv_.wait_for(l, std::chrono::milliseconds(200));
      if (!stop_) Draw(false);
    }
  });
}

Progress::~Progress() { Finish(); }

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (finished_) return;
    finished_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (drawer_.joinable()) drawer_.join();
  if (enabled_) Draw(true);
}

double Progress::Seconds() const { return static_cast<double>(NowNs() - start_ns_) / 1e9; }

void Progress::Draw(bool final) {
  double s = Seconds();
  double done = static_cast<double>(bytes_.load());
  double rate = s > 0 ? done / s : 0;
  int pct = total_bytes_ > 0 ? static_cast<int>(100.0 * done / static_cast<double>(total_bytes_)) : 100;
  std::string eta = rate > 0 && total_bytes_ > done
                        ? HumanDuration((static_cast<double>(total_bytes_) - done) / rate)
                        : "0.0s";
  std::fprintf(stderr, "\r%s %3d%% %s/%s  %s/s  ETA %s  %lld/%lld files\x1b[K%s", label_.c_str(), pct,
               HumanBytes(done).c_str(), HumanBytes(static_cast<double>(total_bytes_)).c_str(),
               HumanBytes(rate).c_str(), eta.c_str(), static_cast<long long>(files_.load()),
               static_cast<long long>(total_files_), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace tamga
