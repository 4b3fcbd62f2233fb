#include "gpu/gpu_metrics.h"

#include <cstdio>
#include <functional>
#include <map>
#include <set>

namespace tamga {

std::string PromLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// One series of a GPU: the device labels plus the owning job's.
struct Series {
  const GpuInfo* gpu;
  std::string labels;
};

void Family(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, const char* name, const std::string& labels, double value) {
  *out += name;
  *out += '{';
  *out += labels;
  *out += "} ";
  *out += Number(value);
  *out += '\n';
}

}  // namespace

std::string RenderGpuMetrics(const GpuSnapshot& snap, const std::vector<GpuJobUse>& jobs,
                             const GpuMetricsContext& ctx) {
  std::string out;
  bool available = ctx.gpus_enabled && snap.available;
  std::string reason = !ctx.gpus_enabled ? ctx.disabled_reason : snap.error;
  Family(&out, "tamga_agent_nvml_available", "gauge",
         "1 when the agent reads its GPUs through NVML; 0 (with the reason) when it runs CPU jobs only");
  Sample(&out, "tamga_agent_nvml_available", "reason=\"" + PromLabelValue(available ? "" : reason) + "\"",
         available ? 1 : 0);
  Family(&out, "tamga_agent_running_jobs", "gauge", "Jobs this agent is running");
  out += "tamga_agent_running_jobs " + std::to_string(jobs.size()) + "\n";

  std::vector<const GpuInfo*> gpus;
  if (available) {
    std::set<std::string> offered(ctx.offered_uuids.begin(), ctx.offered_uuids.end());
    for (const auto& g : snap.gpus) {
      if (offered.empty() || offered.count(g.uuid)) gpus.push_back(&g);
    }
  }
  Family(&out, "tamga_agent_gpus", "gauge", "GPUs this agent offers to jobs");
  out += "tamga_agent_gpus " + std::to_string(gpus.size()) + "\n";
  if (gpus.empty()) return out;

  // Who holds each GPU.
  std::map<std::string, std::vector<const GpuJobUse*>> holders;
  for (const auto& j : jobs) {
    for (const auto& u : j.gpu_uuids) holders[u].push_back(&j);
  }
  std::vector<Series> series;
  for (const GpuInfo* g : gpus) {
    std::string base = "gpu=\"" + std::to_string(g->index) + "\",UUID=\"" + PromLabelValue(g->uuid) +
                       "\",pci_bus_id=\"" + PromLabelValue(g->pci_bus_id) + "\",device=\"nvidia" +
                       std::to_string(g->index) + "\",modelName=\"" + PromLabelValue(g->name) +
                       "\",Hostname=\"" + PromLabelValue(ctx.hostname) + "\",DCGM_FI_DRIVER_VERSION=\"" +
                       PromLabelValue(snap.driver_version) + "\"";
    auto it = holders.find(g->uuid);
    if (it == holders.end()) {
      series.push_back({g, base + ",job_id=\"\",queue=\"\""});
    } else {
      for (const GpuJobUse* j : it->second) {
        series.push_back({g, base + ",job_id=\"" + PromLabelValue(j->job_id) + "\",queue=\"" +
                                 PromLabelValue(j->queue) + "\""});
      }
    }
  }

  struct Field {
    const char* name;
    const char* type;
    const char* help;
    std::function<double(const GpuInfo&)> value;  // NaN-free; a negative reading means "not supported"
  };
  const Field fields[] = {
      {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).",
       [](const GpuInfo& g) { return g.used_bytes < 0 ? -1.0 : g.used_bytes / kMiB; }},
      {"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).",
       [](const GpuInfo& g) { return g.free_bytes < 0 ? -1.0 : g.free_bytes / kMiB; }},
      {"DCGM_FI_DEV_FB_TOTAL", "gauge", "Framebuffer memory total (in MiB).",
       [](const GpuInfo& g) { return g.total_bytes <= 0 ? -1.0 : g.total_bytes / kMiB; }},
      {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).",
       [](const GpuInfo& g) { return static_cast<double>(g.utilization_gpu); }},
      {"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).",
       [](const GpuInfo& g) { return static_cast<double>(g.utilization_memory); }},
      {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).",
       [](const GpuInfo& g) { return static_cast<double>(g.temperature_c); }},
      {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).",
       [](const GpuInfo& g) { return g.power_watts; }},
      {"DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "Power management limit (in W).",
       [](const GpuInfo& g) { return g.power_limit_watts; }},
      {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors.",
       [](const GpuInfo& g) { return static_cast<double>(g.ecc_uncorrected_volatile); }},
      {"DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed",
       [](const GpuInfo& g) { return g.row_remap_failure ? 1.0 : 0.0; }},
  };
  for (const Field& f : fields) {
    bool any = false;
    for (const Series& s : series) {
      double v = f.value(*s.gpu);
      if (v < 0) continue;
      if (!any) Family(&out, f.name, f.type, f.help);
      any = true;
      Sample(&out, f.name, s.labels, v);
    }
  }

  Family(&out, "tamga_gpu_healthy", "gauge",
         "0 for a GPU excluded from placement (ECC, row remap), with the reason");
  for (const GpuInfo* g : gpus) {
    Sample(&out, "tamga_gpu_healthy",
           "gpu=\"" + std::to_string(g->index) + "\",UUID=\"" + PromLabelValue(g->uuid) + "\",reason=\"" +
               PromLabelValue(g->health_reason) + "\"",
           g->healthy ? 1 : 0);
  }

  // Memory each job's processes hold on each of its GPUs.
  bool any = false;
  for (const auto& j : jobs) {
    std::set<uint32_t> pids(j.pids.begin(), j.pids.end());
    for (const GpuInfo* g : gpus) {
      bool placed = false;
      for (const auto& u : j.gpu_uuids) placed = placed || u == g->uuid;
      int64_t used = 0;
      bool seen = false;
      for (const auto& p : g->processes) {
        if (!pids.count(p.pid)) continue;
        seen = true;
        if (p.used_bytes > 0) used += p.used_bytes;
      }
      if (!placed && !seen) continue;  // a job that touches a GPU it was not given still shows up
      if (!any) {
        Family(&out, "tamga_job_gpu_memory_used_bytes", "gauge",
               "GPU memory held by the job's processes, per GPU (bytes)");
      }
      any = true;
      Sample(&out, "tamga_job_gpu_memory_used_bytes",
             "job_id=\"" + PromLabelValue(j.job_id) + "\",queue=\"" + PromLabelValue(j.queue) + "\",gpu=\"" +
                 std::to_string(g->index) + "\",UUID=\"" + PromLabelValue(g->uuid) + "\"",
             static_cast<double>(used));
    }
  }
  return out;
}

}  // namespace tamga
