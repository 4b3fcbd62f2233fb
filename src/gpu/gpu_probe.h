#pragma once
// GpuProbe: what the GPUs of this machine look like now (identity, memory, utilization, thermals, power,
// running processes, health). The NVML implementation (nvml/nvml_probe.h) loads libnvidia-ml.so.1 with
// dlopen at run time, so the binary runs on machines without a driver: there Snapshot() reports
// available = false with the reason, once, and jobs run CPU-only.
//
// Thread-compatible: one caller at a time per probe.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tamga {

struct GpuProcess {
  uint32_t pid = 0;
  int64_t used_bytes = -1;  // -1 when the driver does not say
};

struct GpuInfo {
  int index = 0;     // NVML index: for display only, never for pinning (not stable, not the CUDA index)
  std::string uuid;  // "GPU-..." — what jobs are pinned by (CUDA_VISIBLE_DEVICES=GPU-...)
  std::string name;
  std::string pci_bus_id;
  int64_t total_bytes = 0;
  int64_t used_bytes = 0;
  int64_t free_bytes = 0;
  int utilization_gpu = -1;  // percent, -1 = not supported
  int utilization_memory = -1;
  int temperature_c = -1;
  double power_watts = -1;
  double power_limit_watts = -1;
  int64_t ecc_uncorrected_volatile = -1;  // -1 = ECC off or not supported
  bool row_remap_failure = false;
  bool healthy = true;
  std::string health_reason;  // why not healthy
  std::vector<GpuProcess> processes;
};

struct GpuSnapshot {
  bool available = false;
  std::string error;  // why not available ("libnvidia-ml.so.1: cannot open shared object file", ...)
  std::string driver_version;
  std::string cuda_driver_version;  // "12.4"
  std::string nvml_version;
  std::vector<GpuInfo> gpus;
};

class GpuProbe {
 public:
  virtual ~GpuProbe() = default;
  virtual GpuSnapshot Snapshot() = 0;
};

// NVML through dlopen(`library`) (default "libnvidia-ml.so.1"; env TAMGA_NVML_LIBRARY overrides it).
std::unique_ptr<GpuProbe> NewNvmlProbe(std::string library = "");

// Health rule shared by probes: uncorrectable ECC errors since driver load or a row-remap failure make a
// GPU unhealthy (excluded from placement).
void ApplyHealthRules(GpuInfo* gpu);

}  // namespace tamga
