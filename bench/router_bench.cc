// Router overhead (docs/rollouts.md §2): the cost ModelManager::Route adds to a request, per policy, with
// real loaded versions (a model directory made by tests/serving/make_models.py). Times each call with the
// steady clock and prints p50/p99 in nanoseconds; the clock's own cost is printed alongside.
//   tamga_router_bench MODEL_DIR [calls]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "serving/lifecycle/model_manager.h"

using namespace tamga;

namespace {

struct Figures {
  double p50, p99;
};

template <typename Fn>
Figures Time(int calls, Fn fn) {
  std::vector<int64_t> ns(calls);
  for (int i = 0; i < calls; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn(i);
    ns[i] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(ns.begin(), ns.end());
  return {static_cast<double>(ns[calls / 2]), static_cast<double>(ns[calls * 99 / 100])};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tamga_router_bench MODEL_DIR [calls]\n");
    return 2;
  }
  std::string dir = argv[1];
  int calls = argc > 2 ? std::max(1000, std::atoi(argv[2])) : 1000000;
  MetricsRegistry metrics;
  ModelManager models(ServingOptions{}, &metrics);
  auto load = [&](const std::string& name, const TrafficPolicy& p, const std::vector<std::string>& versions) {
    if (!models.SetPolicy(name, p).ok()) std::abort();
    for (size_t i = 0; i < p.variants.size(); ++i) {
      Status s = models.LoadVariant(name, p.variants[i].name, versions[i], dir);
      if (!s.ok()) {
        std::fprintf(stderr, "load failed: %s\n", s.message().c_str());
        std::exit(1);
      }
    }
  };
  TrafficPolicy single;
  load("single", single, {"1"});
  TrafficPolicy canary;
  canary.variants = {{"stable", 90}, {"candidate", 10}};
  load("canary", canary, {"1", "2"});
  TrafficPolicy ab = canary;
  ab.mode = TrafficMode::kAb;
  ab.sticky_header = "x-user";
  load("ab", ab, {"1", "2"});
  TrafficPolicy shadow;
  shadow.mode = TrafficMode::kShadow;
  shadow.variants = {{"primary", 1}, {"candidate", 0, true}};
  load("shadow", shadow, {"1", "2"});

  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("user-" + std::to_string(i * 7919));
  size_t sink = 0;
  Figures clock = Time(calls, [&](int) { ++sink; });
  auto route = [&](const char* name, const ModelManager::HeaderLookup* header) {
    return Time(calls, [&](int) {
      auto h = models.Route(name, "", header);
      sink += h.ok() ? h->shadows.size() + 1 : 0;
    });
  };
  int key_index = 0;
  ModelManager::HeaderLookup header = [&](const std::string&) { return keys[++key_index & 1023]; };
  std::printf("== router overhead per request (ModelManager::Route, %d calls, 1 thread)\n", calls);
  std::printf("%-34s p50 %6.0f ns  p99 %6.0f ns\n", "clock only (timing cost)", clock.p50, clock.p99);
  Figures f = route("single", nullptr);
  std::printf("%-34s p50 %6.0f ns  p99 %6.0f ns\n", "single variant", f.p50, f.p99);
  f = route("canary", nullptr);
  std::printf("%-34s p50 %6.0f ns  p99 %6.0f ns\n", "canary 90/10", f.p50, f.p99);
  f = route("ab", &header);
  std::printf("%-34s p50 %6.0f ns  p99 %6.0f ns\n", "ab sticky header (1024 keys)", f.p50, f.p99);
  f = route("shadow", nullptr);
  std::printf("%-34s p50 %6.0f ns  p99 %6.0f ns\n", "shadow (primary + 1 mirror)", f.p50, f.p99);
  return sink == 0 ? 1 : 0;
}
