#include "gpu/placement.h"

#include <algorithm>

namespace tamga {

const char* PlacementStrategyName(PlacementStrategy s) {
  return s == PlacementStrategy::kPack ? "pack" : "spread";
}

std::optional<PlacementStrategy> ParsePlacementStrategy(const std::string& s) {
  if (s == "spread" || s.empty()) return PlacementStrategy::kSpread;
  if (s == "pack") return PlacementStrategy::kPack;
  return std::nullopt;
}

namespace {

int64_t UsedBy(const GpuInfo& gpu, const std::vector<uint32_t>& pids) {
  int64_t used = 0;
  for (const auto& p : gpu.processes) {
    if (p.used_bytes > 0 && std::find(pids.begin(), pids.end(), p.pid) != pids.end()) used += p.used_bytes;
  }
  return used;
}

bool HeldWhole(const GpuInfo& gpu, const std::vector<GpuReservation>& ledger) {
  for (const auto& r : ledger) {
    if (r.uuid == gpu.uuid && r.whole) return true;
  }
  return false;
}

bool HasReservation(const GpuInfo& gpu, const std::vector<GpuReservation>& ledger) {
  for (const auto& r : ledger) {
    if (r.uuid == gpu.uuid) return true;
  }
  return false;
}

}  // namespace

int64_t EffectiveFree(const GpuInfo& gpu, const std::vector<GpuReservation>& ledger) {
  if (HeldWhole(gpu, ledger)) return 0;
  int64_t free = gpu.free_bytes;
  for (const auto& r : ledger) {
    if (r.uuid != gpu.uuid) continue;
    free -= std::max<int64_t>(0, r.bytes - UsedBy(gpu, r.pids));
  }
  return std::max<int64_t>(0, free);
}

GpuPlacement PlaceGpus(const GpuRequest& request, const std::vector<GpuInfo>& gpus,
                       const std::vector<GpuReservation>& ledger, PlacementStrategy strategy,
                       const std::set<std::string>& allowed) {
  GpuPlacement out;
  if (request.count <= 0) {
    out.why_not = "no GPUs requested";
    return out;
  }
  struct Candidate {
    const GpuInfo* gpu;
    int64_t free;
  };
  std::vector<Candidate> fit;
  int visible = 0, healthy = 0;
  for (const auto& g : gpus) {
    if (!allowed.empty() && !allowed.count(g.uuid)) continue;
    ++visible;
    if (!g.healthy) continue;
    ++healthy;
    int64_t free = EffectiveFree(g, ledger);
    if (request.memory_bytes == 0) {
      if (HasReservation(g, ledger) || !g.processes.empty()) continue;
    } else if (free < request.memory_bytes) {
      continue;
    }
    fit.push_back({&g, free});
  }
  if (static_cast<int>(fit.size()) < request.count) {
    if (visible < request.count) {
      out.why_not =
          "needs " + std::to_string(request.count) + " GPU(s); this agent has " + std::to_string(visible);
    } else if (healthy < request.count) {
      out.why_not =
          "needs " + std::to_string(request.count) + " GPU(s); only " + std::to_string(healthy) + " healthy";
    } else if (request.memory_bytes == 0) {
      out.why_not =
          "needs " + std::to_string(request.count) + " whole GPU(s); " + std::to_string(fit.size()) + " idle";
    } else {
      out.why_not = "needs " + std::to_string(request.count) + " GPU(s) with " +
                    std::to_string(request.memory_bytes >> 20) + " MiB free; " + std::to_string(fit.size()) +
                    " have it after reservations";
    }
    return out;
  }
  std::sort(fit.begin(), fit.end(), [strategy](const Candidate& a, const Candidate& b) {
    if (a.free != b.free) return strategy == PlacementStrategy::kSpread ? a.free > b.free : a.free < b.free;
    return a.gpu->uuid < b.gpu->uuid;
  });
  for (int i = 0; i < request.count; ++i) out.uuids.push_back(fit[i].gpu->uuid);
  return out;
}

std::vector<GpuReservation> ReservationsFor(const GpuPlacement& p, const GpuRequest& request,
                                            const std::string& job_id) {
  std::vector<GpuReservation> out;
  for (const auto& u : p.uuids) {
    GpuReservation r;
    r.uuid = u;
    r.job_id = job_id;
    r.bytes = request.memory_bytes;
    r.whole = request.memory_bytes == 0;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tamga
