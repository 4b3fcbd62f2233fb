// The agent's GPU metrics: dcgm-exporter names and units, per-job labels, shared GPUs, unsupported readings,
// no NVML, label escaping, and a well-formed exposition (one HELP/TYPE per family, its samples together).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "gpu/gpu_metrics.h"

namespace tamga {
namespace {

constexpr int64_t MiB = int64_t{1} << 20;
constexpr int64_t GiB = int64_t{1} << 30;

GpuInfo Gpu(int index, const std::string& uuid, int64_t used) {
  GpuInfo g;
  g.index = index;
  g.uuid = uuid;
  g.name = "NVIDIA A100-SXM4-40GB";
  g.pci_bus_id = "00000000:0" + std::to_string(index) + ":00.0";
  g.total_bytes = 40 * GiB;
  g.used_bytes = used;
  g.free_bytes = 40 * GiB - used;
  g.utilization_gpu = 87;
  g.utilization_memory = 40;
  g.temperature_c = 61;
  g.power_watts = 250.5;
  g.power_limit_watts = 400;
  g.ecc_uncorrected_volatile = 0;
  return g;
}

GpuSnapshot TwoGpus() {
  GpuSnapshot s;
  s.available = true;
  s.driver_version = "550.54.15";
  s.gpus = {Gpu(0, "GPU-aaaa", 12 * GiB), Gpu(1, "GPU-bbbb", 0)};
  return s;
}

// Parses the exposition: "name{labels}" -> value; checks the format on the way.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::set<std::string> typed, closed;
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "family declared twice: " << name;
      if (!current.empty()) closed.insert(current);
      current = name;
      continue;
    }
    size_t sp = line.rfind(' ');
    std::string key = line.substr(0, sp);
    std::string name = key.substr(0, key.find('{'));
    EXPECT_EQ(name, current) << "sample outside its family: " << line;
    EXPECT_FALSE(closed.count(name)) << line;
    EXPECT_TRUE(out.emplace(key, std::stod(line.substr(sp + 1))).second) << "duplicate series: " << line;
  }
  return out;
}

std::string DeviceLabels(int index, const std::string& uuid, const std::string& job,
                         const std::string& queue) {
  return "gpu=\"" + std::to_string(index) + "\",UUID=\"" + uuid + "\",pci_bus_id=\"00000000:0" +
         std::to_string(index) + ":00.0\",device=\"nvidia" + std::to_string(index) +
         "\",modelName=\"NVIDIA "
         "A100-SXM4-40GB\",Hostname=\"node-1\",DCGM_FI_DRIVER_VERSION=\"550.54.15\",job_id=\"" +
         job + "\",queue=\"" + queue + "\"";
}

TEST(GpuMetrics, DcgmNamesUnitsAndTheJobOnEachGpu) {
  GpuSnapshot s = TwoGpus();
  s.gpus[0].processes = {{4242, 10 * GiB}, {4243, 2 * GiB}, {999, 1 * GiB}};
  GpuMetricsContext ctx;
  ctx.hostname = "node-1";
  auto m = Parse(RenderGpuMetrics(s, {{"job-1", "train", {"GPU-aaaa"}, {4242, 4243}}}, ctx));
  std::string a = DeviceLabels(0, "GPU-aaaa", "job-1", "train");
  std::string b = DeviceLabels(1, "GPU-bbbb", "", "");
  EXPECT_EQ(m["DCGM_FI_DEV_FB_USED{" + a + "}"], 12 * 1024);  // MiB, as dcgm-exporter
  EXPECT_EQ(m["DCGM_FI_DEV_FB_FREE{" + a + "}"], 28 * 1024);
  EXPECT_EQ(m["DCGM_FI_DEV_FB_TOTAL{" + b + "}"], 40 * 1024);
  EXPECT_EQ(m["DCGM_FI_DEV_FB_USED{" + b + "}"], 0);
  EXPECT_EQ(m["DCGM_FI_DEV_GPU_UTIL{" + a + "}"], 87);
  EXPECT_EQ(m["DCGM_FI_DEV_MEM_COPY_UTIL{" + a + "}"], 40);
  EXPECT_EQ(m["DCGM_FI_DEV_GPU_TEMP{" + a + "}"], 61);
  EXPECT_DOUBLE_EQ(m["DCGM_FI_DEV_POWER_USAGE{" + a + "}"], 250.5);
  EXPECT_EQ(m["DCGM_FI_DEV_POWER_MGMT_LIMIT{" + a + "}"], 400);
  EXPECT_EQ(m["DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{" + a + "}"], 0);
  EXPECT_EQ(m["DCGM_FI_DEV_ROW_REMAP_FAILURE{" + a + "}"], 0);
  // Only the job's own processes count towards its memory (pid 999 is someone else's).
  EXPECT_EQ(
      m["tamga_job_gpu_memory_used_bytes{job_id=\"job-1\",queue=\"train\",gpu=\"0\",UUID=\"GPU-aaaa\"}"],
      12 * GiB);
  EXPECT_EQ(
      m.count(
          "tamga_job_gpu_memory_used_bytes{job_id=\"job-1\",queue=\"train\",gpu=\"1\",UUID=\"GPU-bbbb\"}"),
      0u);
  EXPECT_EQ(m["tamga_agent_nvml_available{reason=\"\"}"], 1);
  EXPECT_EQ(m["tamga_agent_gpus"], 2);
  EXPECT_EQ(m["tamga_agent_running_jobs"], 1);
  EXPECT_EQ(m["tamga_gpu_healthy{gpu=\"0\",UUID=\"GPU-aaaa\",reason=\"\"}"], 1);
  // Every device series carries the job labels (idle ones empty): 2 GPUs x 10 fields.
  int dcgm = 0;
  for (const auto& [k, v] : m) dcgm += k.rfind("DCGM_FI_", 0) == 0;
  EXPECT_EQ(dcgm, 2 * 10);
}

TEST(GpuMetrics, ASharedGpuHasOneSeriesPerJobAndPerJobMemoryDoesNotDoubleCount) {
  GpuSnapshot s = TwoGpus();
  s.gpus[0].processes = {{10, 8 * GiB}, {20, 4 * GiB}};
  auto m = Parse(RenderGpuMetrics(s, {{"job-a", "q", {"GPU-aaaa"}, {10}}, {"job-b", "q", {"GPU-aaaa"}, {20}}},
                                  {"node-1", true, "", {}}));
  EXPECT_EQ(m["DCGM_FI_DEV_FB_USED{" + DeviceLabels(0, "GPU-aaaa", "job-a", "q") + "}"], 12 * 1024);
  EXPECT_EQ(m["DCGM_FI_DEV_FB_USED{" + DeviceLabels(0, "GPU-aaaa", "job-b", "q") + "}"], 12 * 1024);
  EXPECT_EQ(m.count("DCGM_FI_DEV_FB_USED{" + DeviceLabels(0, "GPU-aaaa", "", "") + "}"), 0u);
  EXPECT_EQ(m["tamga_job_gpu_memory_used_bytes{job_id=\"job-a\",queue=\"q\",gpu=\"0\",UUID=\"GPU-aaaa\"}"],
            8 * GiB);
  EXPECT_EQ(m["tamga_job_gpu_memory_used_bytes{job_id=\"job-b\",queue=\"q\",gpu=\"0\",UUID=\"GPU-aaaa\"}"],
            4 * GiB);
}

TEST(GpuMetrics, AJobOnAGpuItWasNotGivenStillShowsUp) {
  GpuSnapshot s = TwoGpus();
  s.gpus[1].processes = {{10, 3 * GiB}};
  auto m = Parse(RenderGpuMetrics(s, {{"job-a", "q", {"GPU-aaaa"}, {10}}}, {"h", true, "", {}}));
  EXPECT_EQ(m["tamga_job_gpu_memory_used_bytes{job_id=\"job-a\",queue=\"q\",gpu=\"0\",UUID=\"GPU-aaaa\"}"],
            0);
  EXPECT_EQ(m["tamga_job_gpu_memory_used_bytes{job_id=\"job-a\",queue=\"q\",gpu=\"1\",UUID=\"GPU-bbbb\"}"],
            3 * GiB);
}

TEST(GpuMetrics, UnsupportedReadingsAreLeftOutNotSentinels) {
  GpuSnapshot s = TwoGpus();
  for (auto& g : s.gpus) {
    g.temperature_c = -1;
    g.power_watts = -1;
    g.power_limit_watts = -1;
    g.ecc_uncorrected_volatile = -1;
  }
  s.gpus[0].utilization_gpu = -1;  // one GPU without utilization (a MIG device)
  std::string text = RenderGpuMetrics(s, {}, {"h", true, "", {}});
  auto m = Parse(text);
  for (const char* gone : {"DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_POWER_MGMT_LIMIT",
                           "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"}) {
    EXPECT_EQ(text.find(gone), std::string::npos) << gone;
  }
  int util = 0;
  for (const auto& [k, v] : m) util += k.rfind("DCGM_FI_DEV_GPU_UTIL{", 0) == 0;
  EXPECT_EQ(util, 1);
  EXPECT_EQ(text.find("9223372036854775"), std::string::npos);
}

TEST(GpuMetrics, WithoutNvmlTheAgentSaysWhyAndShowsNoGpu) {
  GpuSnapshot s;
  s.available = false;
  s.error = "libnvidia-ml.so.1: cannot open shared object file: No such file or directory";
  auto m = Parse(RenderGpuMetrics(s, {{"job-1", "cpu", {}, {1}}}, {"h", true, "", {}}));
  EXPECT_EQ(m["tamga_agent_nvml_available{reason=\"" + s.error + "\"}"], 0);
  EXPECT_EQ(m["tamga_agent_gpus"], 0);
  EXPECT_EQ(m["tamga_agent_running_jobs"], 1);
  for (const auto& [k, v] : m) EXPECT_NE(k.rfind("DCGM_", 0), 0u) << k;

  // --gpus none: NVML may be fine, but this agent offers nothing.
  auto off = Parse(RenderGpuMetrics(TwoGpus(), {}, {"h", false, "GPUs disabled (--gpus none)", {}}));
  EXPECT_EQ(off["tamga_agent_nvml_available{reason=\"GPUs disabled (--gpus none)\"}"], 0);
  EXPECT_EQ(off["tamga_agent_gpus"], 0);
}

TEST(GpuMetrics, OnlyOfferedGpusAreReported) {
  auto m = Parse(RenderGpuMetrics(TwoGpus(), {}, {"node-1", true, "", {"GPU-bbbb"}}));
  EXPECT_EQ(m["tamga_agent_gpus"], 1);
  EXPECT_EQ(m.count("DCGM_FI_DEV_FB_USED{" + DeviceLabels(0, "GPU-aaaa", "", "") + "}"), 0u);
  EXPECT_EQ(m.count("DCGM_FI_DEV_FB_USED{" + DeviceLabels(1, "GPU-bbbb", "", "") + "}"), 1u);
}

TEST(GpuMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(PromLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  GpuSnapshot s = TwoGpus();
  s.gpus[0].name = "Weird \"GPU\"\nline";
  s.gpus[0].healthy = false;
  s.gpus[0].health_reason = "uncorrectable ECC errors: 3";
  std::string text = RenderGpuMetrics(s, {{"job\"x", "q\\1", {"GPU-aaaa"}, {}}}, {"h", true, "", {}});
  Parse(text);  // one sample per line: no raw newline leaked out of a label
  EXPECT_NE(text.find("modelName=\"Weird \\\"GPU\\\"\\nline\""), std::string::npos);
  EXPECT_NE(text.find("job_id=\"job\\\"x\",queue=\"q\\\\1\""), std::string::npos);
  EXPECT_NE(
      text.find("tamga_gpu_healthy{gpu=\"0\",UUID=\"GPU-aaaa\",reason=\"uncorrectable ECC errors: 3\"} 0"),
      std::string::npos);
}

}  // namespace
}  // namespace tamga
