#pragma once
// A progress line for transfers and hashing (docs/data.md): done/total bytes, files, rate and ETA, redrawn on
// stderr five times a second when stderr is a terminal (or TAMGA_PROGRESS=1), silent otherwise; the
// commands print their own summary line. Add is thread-safe.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace tamga {

class Progress {
 public:
  Progress(std::string label, int64_t total_bytes, int64_t total_files);
  ~Progress();  // finishes the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void Add(int64_t bytes, int64_t files) {
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    files_.fetch_add(files, std::memory_order_relaxed);
  }
  void Finish();
  double Seconds() const;
  int64_t bytes() const { return bytes_.load(); }

 private:
  void Draw(bool final);
  std::string label_;
  int64_t total_bytes_, total_files_;
  std::atomic<int64_t> bytes_{0}, files_{0};
  int64_t start_ns_;
  bool enabled_;
  bool finished_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread drawer_;
};

// "1.5 GiB", "730 MiB/s", "2m05s".
std::string HumanBytes(double bytes);
std::string HumanDuration(double seconds);

}  // namespace tamga
