#pragma once
// GPU metrics in the Prometheus text format under dcgm-exporter's names, so the Grafana dashboards and
// alerts teams already have for dcgm-exporter work on a Tamga agent's /metrics unchanged.
//
// Per GPU (labels gpu, UUID, pci_bus_id, device, modelName, Hostname, DCGM_FI_DRIVER_VERSION, plus job_id and
// queue of the job placed on it):
//   DCGM_FI_DEV_FB_USED / _FB_FREE / _FB_TOTAL (MiB), DCGM_FI_DEV_GPU_UTIL / _MEM_COPY_UTIL (%),
//   DCGM_FI_DEV_GPU_TEMP (C), DCGM_FI_DEV_POWER_USAGE / _POWER_MGMT_LIMIT (W),
//   DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, DCGM_FI_DEV_ROW_REMAP_FAILURE.
// A reading the driver does not support is left out (dcgm-exporter prints a blank sentinel such as
// 9223372036854775794; an absent series is what PromQL handles well). An idle GPU has job_id="" and
// queue=""; a GPU shared by several jobs (memory-based placement allows it) gets one series per job, the
// way dcgm-exporter repeats a time-sliced GPU once per pod. Per-job memory that does not double count:
//   tamga_job_gpu_memory_used_bytes{job_id, queue, gpu, UUID}  (sum over the job's processes on that GPU)
// Agent-level:
//   tamga_agent_nvml_available{reason}  1, or 0 with why (no driver, --gpus none, ...)
//   tamga_agent_gpus                    GPUs this agent offers
//   tamga_gpu_healthy{gpu, UUID, reason}  0 for a GPU excluded from placement
//   tamga_agent_running_jobs
//
// Pure: the caller takes the snapshot and says which job holds what.
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/gpu_probe.h"

namespace tamga {

struct GpuJobUse {
  std::string job_id;
  std::string queue;
  std::vector<std::string> gpu_uuids;  // where the job was placed
  std::vector<uint32_t> pids;          // the job's processes now (its process group)
};

struct GpuMetricsContext {
  std::string hostname;
  bool gpus_enabled = true;  // false with --gpus none
  std::string disabled_reason;
  std::vector<std::string> offered_uuids;  // empty = every GPU of the snapshot
};

std::string RenderGpuMetrics(const GpuSnapshot& snapshot, const std::vector<GpuJobUse>& jobs,
                             const GpuMetricsContext& context);

// Prometheus label-value escaping (backslash, double quote, newline).
std::string PromLabelValue(const std::string& value);

}  // namespace tamga
