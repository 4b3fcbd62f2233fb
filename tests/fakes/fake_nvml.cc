// A fake libnvidia-ml for tests: exports the NVML C functions Tamga resolves with dlsym, answering from a
// JSON script named by FAKE_NVML_CONFIG, re-read on every nvmlDeviceGetCount so a test can change the
// readings while an agent runs. Built three ways (tests/CMakeLists.txt): complete, without
// nvmlDeviceGetUUID (FAKE_NVML_NO_UUID: a library that lacks a required symbol), and complete but driven
// to return errors by the script ("init_error", "memory_error", "process_error").
//
// Script: {"driver": "550.54.15", "cuda": 12040, "init_error": 0,
//          "gpus": [{"uuid": "GPU-...", "name": "...", "total": bytes, "used": bytes, "util": 3, "mem_util":
//          1,
//                    "temp": 40, "power_mw": 70000, "power_limit_mw": 300000, "ecc_uncorrected": 0,
//                    "remap_failure": false, "memory_error": 0, "process_error": 0,
//                    "processes": [{"pid": 123, "used": bytes}]}]}
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

std::mutex mu;
nlohmann::json script = nlohmann::json::object();

void Load() {
  const char* path = std::getenv("FAKE_NVML_CONFIG");
  if (!path) return;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_object()) script = j;
}

const nlohmann::json* Gpu(void* dev) {
  size_t i = reinterpret_cast<size_t>(dev) - 1;
  if (!script.contains("gpus") || i >= script["gpus"].size()) return nullptr;
  return &script["gpus"][i];
}

int CopyStr(const std::string& s, char* buf, unsigned int len) {
  if (s.size() + 1 > len) return 7;  // INSUFFICIENT_SIZE
  std::memcpy(buf, s.c_str(), s.size() + 1);
  return 0;
}

struct Memory {
  unsigned long long total, free, used;
};
struct Utilization {
  unsigned int gpu, memory;
};
struct ProcessInfo {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
struct PciInfo {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};

}  // namespace

extern "C" {

int nvmlInitWithFlags(unsigned int) {
  std::lock_guard<std::mutex> l(mu);
  Load();
  return script.value("init_error", 0);
}
int nvmlInit_v2() { return nvmlInitWithFlags(0); }
int nvmlShutdown() { return 0; }
const char* nvmlErrorString(int rc) {
  switch (rc) {
    case 0:
      return "Success";
    case 3:
      return "Not Supported";
    case 9:
      return "Driver Not Loaded";
    case 15:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}
int nvmlSystemGetDriverVersion(char* buf, unsigned int len) {
  std::lock_guard<std::mutex> l(mu);
  return CopyStr(script.value("driver", std::string("550.54.15")), buf, len);
}
int nvmlSystemGetCudaDriverVersion(int* v) {
  std::lock_guard<std::mutex> l(mu);
  *v = script.value("cuda", 12040);
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned int* n) {
  std::lock_guard<std::mutex> l(mu);
  Load();
  *n = script.contains("gpus") ? static_cast<unsigned int>(script["gpus"].size()) : 0;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void** dev) {
  *dev = reinterpret_cast<void*>(static_cast<size_t>(i) + 1);
  return 0;
}
int nvmlDeviceGetName(void* dev, char* buf, unsigned int len) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  return g ? CopyStr(g->value("name", std::string("Fake GPU")), buf, len) : 2;
}
#ifndef FAKE_NVML_NO_UUID
int nvmlDeviceGetUUID(void* dev, char* buf, unsigned int len) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  return g ? CopyStr(g->value("uuid", std::string()), buf, len) : 2;
}
#endif
int nvmlDeviceGetMemoryInfo(void* dev, Memory* m) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g) return 2;
  if (int e = g->value("memory_error", 0)) return e;
  m->total = g->value("total", 0ULL);
  m->used = g->value("used", 0ULL);
  m->free = m->total > m->used ? m->total - m->used : 0;
  return 0;
}
int nvmlDeviceGetPciInfo_v3(void* dev, PciInfo* p) {
  std::memset(p, 0, sizeof(*p));
  std::snprintf(p->busId, sizeof(p->busId), "00000000:%02zx:00.0", reinterpret_cast<size_t>(dev));
  return 0;
}
int nvmlDeviceGetUtilizationRates(void* dev, Utilization* u) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g || !g->contains("util")) return 3;
  u->gpu = g->value("util", 0u);
  u->memory = g->value("mem_util", 0u);
  return 0;
}
int nvmlDeviceGetTemperature(void* dev, unsigned int, unsigned int* t) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g || !g->contains("temp")) return 3;
  *t = g->value("temp", 0u);
  return 0;
}
int nvmlDeviceGetPowerUsage(void* dev, unsigned int* mw) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g || !g->contains("power_mw")) return 3;
  *mw = g->value("power_mw", 0u);
  return 0;
}
int nvmlDeviceGetEnforcedPowerLimit(void* dev, unsigned int* mw) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g || !g->contains("power_limit_mw")) return 3;
  *mw = g->value("power_limit_mw", 0u);
  return 0;
}
int nvmlDeviceGetTotalEccErrors(void* dev, unsigned int, unsigned int, unsigned long long* n) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g || !g->contains("ecc_uncorrected")) return 3;
  *n = g->value("ecc_uncorrected", 0ULL);
  return 0;
}
int nvmlDeviceGetRemappedRows(void* dev, unsigned int* c, unsigned int* u, unsigned int* p, unsigned int* f) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g) return 2;
  *c = *u = *p = 0;
  *f = g->value("remap_failure", false) ? 1 : 0;
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(void* dev, unsigned int* count, ProcessInfo* infos) {
  std::lock_guard<std::mutex> l(mu);
  auto* g = Gpu(dev);
  if (!g) return 2;
  if (int e = g->value("process_error", 0)) return e;
  const auto procs = g->value("processes", nlohmann::json::array());
  if (*count < procs.size()) {
    *count = static_cast<unsigned int>(procs.size());
    return 7;  // INSUFFICIENT_SIZE, count written back
  }
  *count = static_cast<unsigned int>(procs.size());
  for (size_t i = 0; i < procs.size(); ++i) {
    infos[i].pid = procs[i].value("pid", 0u);
    infos[i].usedGpuMemory = procs[i].value("used", 0ULL);
    infos[i].gpuInstanceId = infos[i].computeInstanceId = 0xFFFFFFFFu;
  }
  return 0;
}

}  // extern "C"
