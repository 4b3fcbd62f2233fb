#pragma once
// GPU admission for serving (`--device auto`, docs/rollouts.md §9). Before a model version loads, Admit picks
// the GPU with the most free memory after reservations — NVML's free memory minus the job scheduler's
// reservation ledger (gpu/placement.h, the same rule jobs are placed by) minus the loads this process has in
// flight — and refuses with ResourceExhausted when the model's estimated memory fits on no GPU, instead of
// starving the jobs and models already there (the variant keeps its old version). A machine without NVML
// or GPUs serves on the CPU.
//
// The reservation of a load lasts until Release (the load finished: its memory now shows in NVML's "used",
// or it failed). CUDA ordinals: with CUDA_DEVICE_ORDER=PCI_BUS_ID (set by the server when it is unset) CUDA
// numbers GPUs in NVML's order; with CUDA_VISIBLE_DEVICES set, only those GPUs are candidates, numbered in
// that list's order.
//
// Thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/result.h"
#include "gpu/gpu_probe.h"
#include "gpu/placement.h"

namespace tamga {

struct GpuGrant {
  std::string device = "cpu";  // "cpu" or "cuda:<ordinal>"
  std::string uuid;            // the GPU's UUID ("" on the CPU)
  int64_t bytes = 0;           // the reservation while loading
  int64_t free_before = -1;    // effective free memory of that GPU at admission
  int64_t id = 0;              // for Release
};

class GpuAdmission {
 public:
  // The job scheduler's reservations (null: none known, e.g. `tamga serve` on its own).
  using LedgerFn = std::function<std::vector<GpuReservation>()>;
  GpuAdmission(std::unique_ptr<GpuProbe> probe, LedgerFn ledger, std::string cuda_visible_devices);

  // A GPU for a model needing `bytes`; the CPU when the machine has no usable GPU. ResourceExhausted naming
  // the need and the best GPU's free memory when none fits.
  Result<GpuGrant> Admit(const std::string& what, int64_t bytes);
  void Release(const GpuGrant& grant);
  // The memory the process uses on `uuid` now (NVML's per-process figure for this pid), -1 when unknown.
  int64_t ProcessBytes(const std::string& uuid);

 private:
  std::unique_ptr<GpuProbe> probe_;
  LedgerFn ledger_;
  std::vector<std::string> visible_;  // CUDA_VISIBLE_DEVICES entries; empty = all
  Mutex mu_;                          // also serialises the probe (thread-compatible)
  int64_t next_id_ GUARDED_BY(mu_) = 1;
  std::vector<std::pair<int64_t, GpuReservation>> loading_ GUARDED_BY(mu_);
};

// For a server whose runtime device is "auto": sets CUDA_DEVICE_ORDER=PCI_BUS_ID when unset (before anything
// initialises CUDA) and returns an admission over NVML (gpu_probe.h) and `ledger`; null for any other device.
std::unique_ptr<GpuAdmission> MakeGpuAdmission(const std::string& device, GpuAdmission::LedgerFn ledger);

// What a model directory will need on a GPU, estimated: 1.5 × its files (weights, plus activations and
// allocator slack) + 256 MiB of CUDA context and workspace, per runtime instance.
int64_t EstimateGpuBytes(const std::string& model_dir, int instances);

}  // namespace tamga
