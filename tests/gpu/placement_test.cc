// GPU placement as a pure function: memory admission, the reservation ledger, spread vs pack, health,
// whole-GPU requests, and an exhaustive check that concurrent placements never overcommit a GPU.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "gpu/placement.h"

namespace tamga {
namespace {

constexpr int64_t GiB = int64_t{1} << 30;

GpuInfo Gpu(const std::string& uuid, int64_t total_gib, int64_t used_gib) {
  GpuInfo g;
  g.uuid = uuid;
  g.total_bytes = total_gib * GiB;
  g.used_bytes = used_gib * GiB;
  g.free_bytes = (total_gib - used_gib) * GiB;
  return g;
}

TEST(Placement, SpreadPicksTheLeastLoadedAndPackTheTightestFit) {
  std::vector<GpuInfo> gpus = {Gpu("GPU-a", 40, 30), Gpu("GPU-b", 40, 5), Gpu("GPU-c", 40, 20)};
  GpuRequest req{1, 8 * GiB};
  EXPECT_EQ(PlaceGpus(req, gpus, {}, PlacementStrategy::kSpread).uuids, std::vector<std::string>{"GPU-b"});
  EXPECT_EQ(PlaceGpus(req, gpus, {}, PlacementStrategy::kPack).uuids, std::vector<std::string>{"GPU-a"});
  GpuRequest two{2, 15 * GiB};
  EXPECT_EQ(PlaceGpus(two, gpus, {}, PlacementStrategy::kPack).uuids,
            (std::vector<std::string>{"GPU-c", "GPU-b"}));
}

TEST(Placement, ReservationsCountUntilTheJobAllocates) {
  std::vector<GpuInfo> gpus = {Gpu("GPU-a", 40, 0)};
  GpuReservation r{"GPU-a", "job-1", 30 * GiB, false, {100}};
  GpuRequest req{1, 20 * GiB};
  // Promised 30 GiB, not allocated yet: only 10 GiB effectively free.
  EXPECT_EQ(EffectiveFree(gpus[0], {r}), 10 * GiB);
  EXPECT_FALSE(PlaceGpus(req, gpus, {r}, PlacementStrategy::kSpread).fits());
  // The job allocated 25 GiB (NVML used rises, free falls): only its outstanding 5 GiB still counts.
  gpus[0] = Gpu("GPU-a", 40, 25);
  gpus[0].processes = {{100, 25 * GiB}};
  EXPECT_EQ(EffectiveFree(gpus[0], {r}), 10 * GiB);
  // It used more than promised: nothing outstanding, no double count.
  gpus[0] = Gpu("GPU-a", 40, 35);
  gpus[0].processes = {{100, 35 * GiB}};
  EXPECT_EQ(EffectiveFree(gpus[0], {r}), 5 * GiB);
}

TEST(Placement, UnhealthyGpusAreNeverChosen) {
  std::vector<GpuInfo> gpus = {Gpu("GPU-a", 40, 0), Gpu("GPU-b", 80, 0)};
  gpus[1].healthy = false;
  auto p = PlaceGpus({1, GiB}, gpus, {}, PlacementStrategy::kSpread);
  EXPECT_EQ(p.uuids, std::vector<std::string>{"GPU-a"});
  auto two = PlaceGpus({2, GiB}, gpus, {}, PlacementStrategy::kSpread);
  EXPECT_FALSE(two.fits());
  EXPECT_NE(two.why_not.find("healthy"), std::string::npos);
}

TEST(Placement, WholeGpuRequestsNeedIdleUnreservedGpus) {
  std::vector<GpuInfo> gpus = {Gpu("GPU-a", 40, 0), Gpu("GPU-b", 40, 1)};
  gpus[1].processes = {{7, GiB}};  // someone else's process
  auto p = PlaceGpus({1, 0}, gpus, {}, PlacementStrategy::kSpread);
  EXPECT_EQ(p.uuids, std::vector<std::string>{"GPU-a"});
  auto ledger = ReservationsFor(p, {1, 0}, "job-1");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_TRUE(ledger[0].whole);
  // Nobody shares a whole-GPU reservation, not even a small request.
  EXPECT_EQ(EffectiveFree(gpus[0], ledger), 0);
  EXPECT_FALSE(PlaceGpus({1, GiB}, {gpus[0]}, ledger, PlacementStrategy::kSpread).fits());
}

TEST(Placement, AllowedSetAndReasons) {
  std::vector<GpuInfo> gpus = {Gpu("GPU-a", 40, 0), Gpu("GPU-b", 40, 0)};
  EXPECT_EQ(PlaceGpus({1, GiB}, gpus, {}, PlacementStrategy::kSpread, {"GPU-b"}).uuids,
            std::vector<std::string>{"GPU-b"});
  auto p = PlaceGpus({3, GiB}, gpus, {}, PlacementStrategy::kSpread);
  EXPECT_FALSE(p.fits());
  EXPECT_NE(p.why_not.find("this agent has 2"), std::string::npos) << p.why_not;
  auto m = PlaceGpus({1, 50 * GiB}, gpus, {}, PlacementStrategy::kSpread);
  EXPECT_NE(m.why_not.find("51200 MiB"), std::string::npos) << m.why_not;
}

// Any sequence of placements, each added to the ledger before the next decision, never promises more
// memory on a GPU than it had free, and never shares a whole GPU.
TEST(Placement, SequentialPlacementsNeverOvercommit) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<GpuInfo> gpus;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) gpus.push_back(Gpu("GPU-" + std::to_string(i), 16 + rng() % 64, rng() % 16));
    std::vector<GpuReservation> ledger;
    auto strategy = rng() % 2 ? PlacementStrategy::kSpread : PlacementStrategy::kPack;
    for (int j = 0; j < 12; ++j) {
      GpuRequest req{1 + static_cast<int>(rng() % 3),
                     (rng() % 5 == 0) ? 0 : static_cast<int64_t>(1 + rng() % 24) * GiB};
      auto p = PlaceGpus(req, gpus, ledger, strategy);
      if (!p.fits()) continue;
      ASSERT_EQ(static_cast<int>(p.uuids.size()), req.count);
      std::set<std::string> distinct(p.uuids.begin(), p.uuids.end());
      ASSERT_EQ(distinct.size(), p.uuids.size());
      for (auto& r : ReservationsFor(p, req, "job-" + std::to_string(j))) ledger.push_back(r);
    }
    for (const auto& g : gpus) {
      int64_t promised = 0;
      int whole = 0, any = 0;
      for (const auto& r : ledger) {
        if (r.uuid != g.uuid) continue;
        ++any;
        if (r.whole)
          ++whole;
        else
          promised += r.bytes;
      }
      ASSERT_LE(promised, g.free_bytes) << "trial " << trial;
      if (whole) ASSERT_EQ(any, 1) << "a whole-GPU reservation was shared, trial " << trial;
    }
  }
}

}  // namespace
}  // namespace tamga
