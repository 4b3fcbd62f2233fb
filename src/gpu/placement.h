#pragma once
// GPU placement: which GPUs a job gets, decided by memory, not by count. Pure functions over values
// (a snapshot, the reservation ledger, a request), so every decision is testable without a GPU.
//
// Effective free memory of a GPU = NVML free − the outstanding part of every reservation on it, where a
// reservation is memory promised to a job that has started but may not have allocated yet: outstanding =
// promised − what the job's processes already use on that GPU (already counted in NVML's "used"). So two
// launches in a row never both see the same free memory, and a job that has allocated is not counted twice.
//
// A request with gpu_memory_bytes == 0 asks for whole GPUs: only GPUs with no reservation and no process.
// A whole-GPU reservation makes its GPU unavailable to everyone else. Unhealthy GPUs are never chosen.
// Jobs are pinned by UUID.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gpu/gpu_probe.h"

namespace tamga {

enum class PlacementStrategy {
  kSpread,  // worst fit: the GPUs with the most effective free memory (least loaded)
  kPack,    // best fit: the GPUs with the least effective free memory that still fit (bin packing)
};
const char* PlacementStrategyName(PlacementStrategy s);
std::optional<PlacementStrategy> ParsePlacementStrategy(const std::string& s);

struct GpuReservation {
  std::string uuid;
  std::string job_id;
  int64_t bytes = 0;           // promised memory; ignored when `whole`
  bool whole = false;          // the job has the GPU to itself
  std::vector<uint32_t> pids;  // the job's processes, to discount what they already allocated
};

struct GpuRequest {
  int count = 0;
  int64_t memory_bytes = 0;  // per GPU; 0 = whole GPUs
};

struct GpuPlacement {
  std::vector<std::string> uuids;  // empty when it does not fit
  std::string why_not;             // human reason when it does not fit
  bool fits() const { return !uuids.empty(); }
};

// Effective free memory of `gpu` after outstanding reservations (never below 0), and whether a whole-GPU
// reservation or a foreign process holds it.
int64_t EffectiveFree(const GpuInfo& gpu, const std::vector<GpuReservation>& ledger);

// Picks `request.count` distinct GPUs among `gpus` restricted to `allowed` (empty = all). Deterministic:
// ties are broken by UUID.
GpuPlacement PlaceGpus(const GpuRequest& request, const std::vector<GpuInfo>& gpus,
                       const std::vector<GpuReservation>& ledger, PlacementStrategy strategy,
                       const std::set<std::string>& allowed = {});

// Reservations a placement adds to the ledger.
std::vector<GpuReservation> ReservationsFor(const GpuPlacement& p, const GpuRequest& request,
                                            const std::string& job_id);

}  // namespace tamga
