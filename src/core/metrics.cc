#include "core/metrics.h"

#include <cmath>

#include "core/json_writer.h"

namespace tamga {
namespace {
void AtomicAdd(std::atomic<double>* a, double d) {
  double cur = a->load(std::memory_order_relaxed);
  while (!a->compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}
std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  std::string s;
  AppendJsonDouble(&s, v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}
std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(&sum_, v);
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  uint64_t cum = 0;
  std::string sep = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    cum += counts_[i].load(std::memory_order_relaxed);
    std::string le = i < bounds_->size() ? FormatNumber((*bounds_)[i]) : "+Inf";
    *out += name + "_bucket{" + sep + "le=\"" + le + "\"} " + std::to_string(cum) + "\n";
  }
  std::string lb = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + lb + " " + FormatNumber(sum_.load()) + "\n";
  *out += name + "_count" + lb + " " + std::to_string(count_.load()) + "\n";
}

std::string MetricFamily::LabelKey(const Labels& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    if (!key.empty()) key.push_back(',');
    key += k + "=\"" + EscapeLabel(v) + "\"";
  }
  return key;
}

void MetricFamily::RemovePrefix(const Labels& prefix) {
  std::string key = LabelKey(prefix);
  MutexLock lock(&mu_);
  auto drop = [&](auto& map) {
    for (auto it = map.begin(); it != map.end();) {
      bool match =
          it->first == key || (it->first.size() > key.size() && it->first.compare(0, key.size(), key) == 0 &&
                               it->first[key.size()] == ',');
      it = match ? map.erase(it) : std::next(it);
    }
  };
  drop(values_);
  drop(hists_);
}

std::atomic<double>* MetricFamily::Value(const Labels& labels) {
  std::string key = LabelKey(labels);
  MutexLock lock(&mu_);
  auto& slot = values_[key];
  if (!slot) slot = std::make_unique<std::atomic<double>>(0);
  return slot.get();
}

void MetricFamily::Add(const Labels& labels, double delta) { AtomicAdd(Value(labels), delta); }
void MetricFamily::Set(const Labels& labels, double value) { Value(labels)->store(value); }

Histogram* MetricFamily::Hist(const Labels& labels) {
  std::string key = LabelKey(labels);
  MutexLock lock(&mu_);
  auto& slot = hists_[key];
  if (!slot) slot = std::make_unique<Histogram>(&bounds_);
  return slot.get();
}

void MetricFamily::Render(std::string* out) const {
  const char* type = type_ == Type::kCounter ? "counter" : type_ == Type::kGauge ? "gauge" : "histogram";
  *out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " " + type + "\n";
  MutexLock lock(&mu_);
  for (const auto& [key, v] : values_) {
    *out += name_ + (key.empty() ? "" : "{" + key + "}") + " " + FormatNumber(v->load()) + "\n";
  }
  for (const auto& [key, h] : hists_) h->Render(name_, key, out);
}

MetricFamily* MetricsRegistry::Get(const std::string& name, const std::string& help, MetricFamily::Type type,
                                   std::vector<double> bounds) {
  MutexLock lock(&mu_);
  auto& slot = families_[name];
  if (!slot) slot = std::make_unique<MetricFamily>(name, help, type, std::move(bounds));
  return slot.get();
}

MetricFamily* MetricsRegistry::Counter(const std::string& name, const std::string& help) {
  return Get(name, help, MetricFamily::Type::kCounter, {});
}
MetricFamily* MetricsRegistry::Gauge(const std::string& name, const std::string& help) {
  return Get(name, help, MetricFamily::Type::kGauge, {});
}
MetricFamily* MetricsRegistry::HistogramFamily(const std::string& name, const std::string& help,
                                               std::vector<double> bounds) {
  return Get(name, help, MetricFamily::Type::kHistogram, std::move(bounds));
}

int MetricsRegistry::AddCollector(std::function<void()> fn) {
  MutexLock lock(&collectors_mu_);
  int id = next_collector_++;
  collectors_[id] = std::move(fn);
  return id;
}

void MetricsRegistry::RemoveCollector(int id) {
  MutexLock lock(&collectors_mu_);
  collectors_.erase(id);
}

std::string MetricsRegistry::Render() const {
  {
    MutexLock collectors(&collectors_mu_);  // held while collectors run: RemoveCollector waits for them
    for (const auto& [id, fn] : collectors_) fn();
  }
  std::string out;
  MutexLock lock(&mu_);
  for (const auto& [name, f] : families_) f->Render(&out);
  return out;
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}
std::vector<double> MetricsRegistry::SizeBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
}

}  // namespace tamga
