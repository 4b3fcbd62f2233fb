// GpuProbe over NVML, loaded with dlopen so that machines without the NVIDIA driver run the same binary.
// Versioned symbols are resolved newest first (e.g. nvmlDeviceGetComputeRunningProcesses_v3, then the
// unversioned v1 call), as NVML's own header maps them. Optional functions that are missing or answer
// NOT_SUPPORTED leave their fields at "unknown" (-1); only the ones needed to identify GPUs and their
// memory are required.
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/log.h"
#include "gpu/gpu_probe.h"
#include "gpu/nvml/nvml_api.h"

namespace tamga {
namespace {

using namespace nvml;

class NvmlProbe final : public GpuProbe {
 public:
  explicit NvmlProbe(std::string library) : library_(std::move(library)) {}
  ~NvmlProbe() override {
    if (initialized_ && shutdown_) shutdown_();
    if (handle_) dlclose(handle_);
  }

  GpuSnapshot Snapshot() override {
    GpuSnapshot snap;
    if (!initialized_ && !Init(&snap.error)) {
      if (!reported_) {
        TAMGA_LOG(kWarn, "NVML not available; GPUs will not be used",
                  {{"library", library_}, {"error", snap.error}});
        reported_ = true;
      }
      return snap;
    }
    snap.available = true;
    char buf[256];
    if (driver_version_ && driver_version_(buf, sizeof(buf)) == NVML_SUCCESS)
      snap.driver_version = Str(buf, sizeof(buf));
    if (nvml_version_ && nvml_version_(buf, sizeof(buf)) == NVML_SUCCESS)
      snap.nvml_version = Str(buf, sizeof(buf));
    int cuda = 0;
    if (cuda_version_ && cuda_version_(&cuda) == NVML_SUCCESS && cuda > 0) {
      snap.cuda_driver_version = std::to_string(cuda / 1000) + "." + std::to_string((cuda % 1000) / 10);
    }
    unsigned int count = 0;
    nvmlReturn_t rc = get_count_(&count);
    if (rc != NVML_SUCCESS) {
      snap.available = false;
      snap.error = "nvmlDeviceGetCount: " + ErrorString(rc);
      return snap;
    }
    for (unsigned int i = 0; i < count && i < 64; ++i) {
      nvmlDevice_t dev = nullptr;
      rc = get_handle_(i, &dev);
      if (rc != NVML_SUCCESS) continue;  // e.g. NO_PERMISSION for a GPU of another container
      GpuInfo g;
      g.index = static_cast<int>(i);
      char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {0};
      if (get_name_(dev, name, sizeof(name)) == NVML_SUCCESS) g.name = Str(name, sizeof(name));
      char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {0};
      if (get_uuid_(dev, uuid, sizeof(uuid)) != NVML_SUCCESS) continue;  // unusable without a stable identity
      g.uuid = Str(uuid, sizeof(uuid));
      nvmlMemory_t mem{};
      if (get_memory_(dev, &mem) == NVML_SUCCESS) {
        g.total_bytes = static_cast<int64_t>(mem.total);
        g.used_bytes = static_cast<int64_t>(mem.used);
        g.free_bytes = static_cast<int64_t>(mem.free);
      } else {
        g.healthy = false;
        g.health_reason = "memory info unavailable";
      }
      if (pci_) {
        nvmlPciInfo_t pci{};
        if (pci_(dev, &pci) == NVML_SUCCESS) g.pci_bus_id = Str(pci.busId, sizeof(pci.busId));
      }
      nvmlUtilization_t util{};
      if (utilization_ && utilization_(dev, &util) == NVML_SUCCESS) {
        g.utilization_gpu = static_cast<int>(util.gpu);
        g.utilization_memory = static_cast<int>(util.memory);
      }
      unsigned int v = 0;
      if (temperature_ && temperature_(dev, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS)
        g.temperature_c = static_cast<int>(v);
      if (power_ && power_(dev, &v) == NVML_SUCCESS) g.power_watts = v / 1000.0;
      if (power_limit_ && power_limit_(dev, &v) == NVML_SUCCESS) g.power_limit_watts = v / 1000.0;
      unsigned long long ecc = 0;
      if (ecc_ && ecc_(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &ecc) == NVML_SUCCESS) {
        g.ecc_uncorrected_volatile = static_cast<int64_t>(ecc);
      }
      unsigned int corr = 0, unc = 0, pending = 0, failed = 0;
      if (remapped_ && remapped_(dev, &corr, &unc, &pending, &failed) == NVML_SUCCESS)
        g.row_remap_failure = failed != 0;
      ReadProcesses(dev, &g);
      ApplyHealthRules(&g);
      snap.gpus.push_back(std::move(g));
    }
    return snap;
  }

 private:
  static std::string Str(const char* buf, size_t cap) { return std::string(buf, strnlen(buf, cap)); }

  std::string ErrorString(nvmlReturn_t rc) const {
    const char* s = error_string_ ? error_string_(rc) : nullptr;
    return (s ? std::string(s) : std::string("NVML error")) + " (" + std::to_string(rc) + ")";
  }

  template <typename Fn>
  Fn Sym(std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (void* p = dlsym(handle_, n)) return reinterpret_cast<Fn>(p);
    }
    return nullptr;
  }

  bool Init(std::string* error) {
    if (!handle_) {
      handle_ = dlopen(library_.c_str(), RTLD_LAZY | RTLD_LOCAL);
      if (!handle_) {
        const char* e = dlerror();
        *error = e ? e : ("cannot load " + library_);
        return false;
      }
    }
    error_string_ = Sym<ErrorStringFn>({"nvmlErrorString"});
    auto init_flags = Sym<InitWithFlagsFn>({"nvmlInitWithFlags"});
    auto init = Sym<InitFn>({"nvmlInit_v2", "nvmlInit"});
    shutdown_ = Sym<ShutdownFn>({"nvmlShutdown"});
    get_count_ = Sym<GetCountFn>({"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
    get_handle_ = Sym<GetHandleByIndexFn>({"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
    get_name_ = Sym<GetStringFn>({"nvmlDeviceGetName"});
    get_uuid_ = Sym<GetStringFn>({"nvmlDeviceGetUUID"});
    get_memory_ = Sym<GetMemoryInfoFn>({"nvmlDeviceGetMemoryInfo"});
    std::string missing;
    if (!init_flags && !init) missing += " nvmlInit";
    if (!get_count_) missing += " nvmlDeviceGetCount";
    if (!get_handle_) missing += " nvmlDeviceGetHandleByIndex";
    if (!get_name_) missing += " nvmlDeviceGetName";
    if (!get_uuid_) missing += " nvmlDeviceGetUUID";
    if (!get_memory_) missing += " nvmlDeviceGetMemoryInfo";
    if (!missing.empty()) {
      *error = library_ + " lacks required functions:" + missing;
      return false;
    }
    driver_version_ = Sym<SystemStringFn>({"nvmlSystemGetDriverVersion"});
    nvml_version_ = Sym<SystemStringFn>({"nvmlSystemGetNVMLVersion"});
    cuda_version_ =
        Sym<SystemCudaVersionFn>({"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"});
    pci_ = Sym<GetPciInfoFn>({"nvmlDeviceGetPciInfo_v3"});
    utilization_ = Sym<GetUtilizationFn>({"nvmlDeviceGetUtilizationRates"});
    temperature_ = Sym<GetTemperatureFn>({"nvmlDeviceGetTemperature"});
    power_ = Sym<GetUintFn>({"nvmlDeviceGetPowerUsage"});
    power_limit_ = Sym<GetUintFn>({"nvmlDeviceGetEnforcedPowerLimit"});
    ecc_ = Sym<GetTotalEccErrorsFn>({"nvmlDeviceGetTotalEccErrors"});
    remapped_ = Sym<GetRemappedRowsFn>({"nvmlDeviceGetRemappedRows"});
    processes_ = Sym<GetProcessesFn>({"nvmlDeviceGetComputeRunningProcesses_v3"});
    processes_v1_ = Sym<GetProcessesV1Fn>({"nvmlDeviceGetComputeRunningProcesses"});
    nvmlReturn_t rc = init_flags ? init_flags(NVML_INIT_FLAG_NO_GPUS) : init();
    if (rc != NVML_SUCCESS) {
      *error = "nvmlInit: " + ErrorString(rc);
      return false;
    }
    initialized_ = true;
    return true;
  }

  // The count-then-fill protocol, with headroom because the list changes between the two calls.
  void ReadProcesses(nvmlDevice_t dev, GpuInfo* g) {
    for (unsigned int cap = 16; cap <= 4096; cap *= 4) {
      unsigned int n = cap;
      if (processes_) {
        std::vector<nvmlProcessInfo_t> buf(cap);
        nvmlReturn_t rc = processes_(dev, &n, buf.data());
        if (rc == NVML_ERROR_INSUFFICIENT_SIZE) continue;
        if (rc != NVML_SUCCESS) return;
        for (unsigned int i = 0; i < n && i < cap; ++i) {
          g->processes.push_back({buf[i].pid, buf[i].usedGpuMemory == NVML_VALUE_NOT_AVAILABLE
                                                  ? -1
                                                  : static_cast<int64_t>(buf[i].usedGpuMemory)});
        }
        return;
      }
      if (processes_v1_) {
        std::vector<nvmlProcessInfo_v1_t> buf(cap);
        nvmlReturn_t rc = processes_v1_(dev, &n, buf.data());
        if (rc == NVML_ERROR_INSUFFICIENT_SIZE) continue;
        if (rc != NVML_SUCCESS) return;
        for (unsigned int i = 0; i < n && i < cap; ++i) {
          g->processes.push_back({buf[i].pid, buf[i].usedGpuMemory == NVML_VALUE_NOT_AVAILABLE
                                                  ? -1
                                                  : static_cast<int64_t>(buf[i].usedGpuMemory)});
        }
      }
      return;
    }
  }

  const std::string library_;
  void* handle_ = nullptr;
  bool initialized_ = false;
  bool reported_ = false;
  ErrorStringFn error_string_ = nullptr;
  ShutdownFn shutdown_ = nullptr;
  GetCountFn get_count_ = nullptr;
  GetHandleByIndexFn get_handle_ = nullptr;
  GetStringFn get_name_ = nullptr;
  GetStringFn get_uuid_ = nullptr;
  GetMemoryInfoFn get_memory_ = nullptr;
  SystemStringFn driver_version_ = nullptr;
  SystemStringFn nvml_version_ = nullptr;
  SystemCudaVersionFn cuda_version_ = nullptr;
  GetPciInfoFn pci_ = nullptr;
  GetUtilizationFn utilization_ = nullptr;
  GetTemperatureFn temperature_ = nullptr;
  GetUintFn power_ = nullptr;
  GetUintFn power_limit_ = nullptr;
  GetTotalEccErrorsFn ecc_ = nullptr;
  GetRemappedRowsFn remapped_ = nullptr;
  GetProcessesFn processes_ = nullptr;
  GetProcessesV1Fn processes_v1_ = nullptr;
};

}  // namespace

void ApplyHealthRules(GpuInfo* gpu) {
  if (gpu->ecc_uncorrected_volatile > 0) {
    gpu->healthy = false;
    gpu->health_reason =
        std::to_string(gpu->ecc_uncorrected_volatile) + " uncorrectable ECC error(s) since driver load";
  }
  if (gpu->row_remap_failure) {
    gpu->healthy = false;
    gpu->health_reason = "row remapping failed";
  }
}

std::unique_ptr<GpuProbe> NewNvmlProbe(std::string library) {
  if (library.empty()) {
    const char* env = std::getenv("TAMGA_NVML_LIBRARY");
    library = env && *env ? env : "libnvidia-ml.so.1";
  }
  return std::make_unique<NvmlProbe>(std::move(library));
}

}  // namespace tamga
