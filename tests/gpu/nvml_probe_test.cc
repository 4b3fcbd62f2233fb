// The real NVML loader (dlopen + dlsym) against fake libnvidia-ml builds: complete, missing a required
// symbol, returning errors, and absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gpu/gpu_probe.h"

namespace tamga {
namespace {

class NvmlProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("fake-nvml-" + std::to_string(::getpid()) + ".json");
    setenv("FAKE_NVML_CONFIG", path_.c_str(), 1);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void Script(const std::string& json) { std::ofstream(path_) << json; }
  std::filesystem::path path_;
};

constexpr const char* kTwoGpus = R"({"driver": "550.54.15", "cuda": 12040, "gpus": [
  {"uuid": "GPU-aaaa", "name": "NVIDIA A100-SXM4-40GB", "total": 42949672960, "used": 10737418240, "util": 37,
   "mem_util": 12, "temp": 51, "power_mw": 123456, "power_limit_mw": 400000, "ecc_uncorrected": 0,
   "processes": [{"pid": 4242, "used": 10737418240}]},
  {"uuid": "GPU-bbbb", "name": "NVIDIA A100-SXM4-40GB", "total": 42949672960, "used": 0, "ecc_uncorrected": 2}]})";

TEST_F(NvmlProbeTest, ReadsEveryFieldThroughDlopen) {
  Script(kTwoGpus);
  auto probe = NewNvmlProbe(TAMGA_FAKE_NVML);
  GpuSnapshot s = probe->Snapshot();
  ASSERT_TRUE(s.available) << s.error;
  EXPECT_EQ(s.driver_version, "550.54.15");
  EXPECT_EQ(s.cuda_driver_version, "12.4");
  ASSERT_EQ(s.gpus.size(), 2u);
  const GpuInfo& a = s.gpus[0];
  EXPECT_EQ(a.uuid, "GPU-aaaa");
  EXPECT_EQ(a.name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(a.total_bytes, 42949672960);
  EXPECT_EQ(a.used_bytes, 10737418240);
  EXPECT_EQ(a.free_bytes, 42949672960 - 10737418240);
  EXPECT_EQ(a.utilization_gpu, 37);
  EXPECT_EQ(a.utilization_memory, 12);
  EXPECT_EQ(a.temperature_c, 51);
  EXPECT_DOUBLE_EQ(a.power_watts, 123.456);
  EXPECT_DOUBLE_EQ(a.power_limit_watts, 400.0);
  EXPECT_EQ(a.pci_bus_id, "00000000:01:00.0");
  ASSERT_EQ(a.processes.size(), 1u);
  EXPECT_EQ(a.processes[0].pid, 4242u);
  EXPECT_EQ(a.processes[0].used_bytes, 10737418240);
  EXPECT_TRUE(a.healthy);
  // Optional readings the driver does not support stay unknown; uncorrectable ECC errors make it unhealthy.
  const GpuInfo& b = s.gpus[1];
  EXPECT_EQ(b.utilization_gpu, -1);
  EXPECT_EQ(b.temperature_c, -1);
  EXPECT_FALSE(b.healthy);
  EXPECT_NE(b.health_reason.find("ECC"), std::string::npos);
}

TEST_F(NvmlProbeTest, ReadingsFollowTheScript) {
  Script(kTwoGpus);
  auto probe = NewNvmlProbe(TAMGA_FAKE_NVML);
  ASSERT_EQ(probe->Snapshot().gpus.size(), 2u);
  Script(R"({"gpus": [{"uuid": "GPU-cccc", "total": 100, "used": 40}]})");
  GpuSnapshot s = probe->Snapshot();
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].free_bytes, 60);
}

TEST_F(NvmlProbeTest, ManyProcessesUseTheCountThenFillProtocol) {
  std::string procs;
  for (int i = 0; i < 40; ++i)
    procs += (i ? "," : "") + std::string(R"({"pid": )") + std::to_string(1000 + i) + R"(, "used": 1})";
  Script(R"({"gpus": [{"uuid": "GPU-p", "total": 100, "used": 40, "processes": [)" + procs + "]}]}");
  GpuSnapshot s = NewNvmlProbe(TAMGA_FAKE_NVML)->Snapshot();
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].processes.size(), 40u);
}

TEST_F(NvmlProbeTest, InitErrorIsReportedNotFatal) {
  Script(R"({"init_error": 9, "gpus": []})");
  GpuSnapshot s = NewNvmlProbe(TAMGA_FAKE_NVML)->Snapshot();
  EXPECT_FALSE(s.available);
  EXPECT_NE(s.error.find("Driver Not Loaded"), std::string::npos) << s.error;
}

TEST_F(NvmlProbeTest, PerDeviceErrorsDegradeThatDevice) {
  Script(R"({"gpus": [{"uuid": "GPU-m", "total": 100, "used": 0, "memory_error": 15, "process_error": 3}]})");
  GpuSnapshot s = NewNvmlProbe(TAMGA_FAKE_NVML)->Snapshot();
  ASSERT_TRUE(s.available);
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_FALSE(s.gpus[0].healthy);
  EXPECT_TRUE(s.gpus[0].processes.empty());
}

TEST_F(NvmlProbeTest, LibraryLackingARequiredSymbolIsUnavailable) {
  Script(kTwoGpus);
  GpuSnapshot s = NewNvmlProbe(TAMGA_FAKE_NVML_NO_UUID)->Snapshot();
  EXPECT_FALSE(s.available);
  EXPECT_NE(s.error.find("nvmlDeviceGetUUID"), std::string::npos) << s.error;
}

TEST_F(NvmlProbeTest, MissingLibraryIsUnavailable) {
  GpuSnapshot s = NewNvmlProbe("/nonexistent/libnvidia-ml.so.1")->Snapshot();
  EXPECT_FALSE(s.available);
  EXPECT_FALSE(s.error.empty());
  EXPECT_TRUE(s.gpus.empty());
}

}  // namespace
}  // namespace tamga
