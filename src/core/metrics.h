#pragma once
// MetricsRegistry: Prometheus-style counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4). Thread-safe: families and label children are created under a mutex,
// observations use atomics. Families are owned by the registry; pointers stay valid for its lifetime.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mutex.h"

namespace tamga {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  void Render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class MetricFamily {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  MetricFamily(std::string name, std::string help, Type type, std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), type_(type), bounds_(std::move(bounds)) {}

  // Counter/gauge cell for the given label values (created on first use).
  std::atomic<double>* Value(const Labels& labels);
  void Add(const Labels& labels, double delta);
  void Set(const Labels& labels, double value);
  Histogram* Hist(const Labels& labels);
  // Drops every cell whose labels start with `prefix` (the same names, in order): series that no longer
  // exist (a version unloaded, features replaced) stop being exported. Only for families whose callers do
  // not keep the pointers Value/Hist return.
  void RemovePrefix(const Labels& prefix);
  void Render(std::string* out) const;

 private:
  static std::string LabelKey(const Labels& labels);
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<double> bounds_;
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<std::atomic<double>>> values_ GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Histogram>> hists_ GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  MetricFamily* Counter(const std::string& name, const std::string& help);
  MetricFamily* Gauge(const std::string& name, const std::string& help);
  MetricFamily* HistogramFamily(const std::string& name, const std::string& help, std::vector<double> bounds);
  std::string Render() const;
  // A function run before each Render() to set gauges computed at scrape time (queue depths). It may call
  // the registry; it must not call Render(). RemoveCollector before what it reads goes away.
  int AddCollector(std::function<void()> fn);
  void RemoveCollector(int id);

  static std::vector<double> LatencyBuckets();  // seconds, 50us .. 10s
  static std::vector<double> SizeBuckets();     // 1 .. 16384, powers of 2-ish

 private:
  MetricFamily* Get(const std::string& name, const std::string& help, MetricFamily::Type type,
                    std::vector<double> bounds);
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>> families_ GUARDED_BY(mu_);
  mutable Mutex collectors_mu_;  // taken before mu_, never after
  int next_collector_ GUARDED_BY(collectors_mu_) = 1;
  std::map<int, std::function<void()>> collectors_ GUARDED_BY(collectors_mu_);
};

}  // namespace tamga
