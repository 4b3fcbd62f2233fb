// GPU admission for serving (serving/lifecycle/gpu_admission.h) through the real NVML loader (dlopen) and a
// fake libnvidia-ml driven by a JSON script: placement by effective free memory after the job scheduler's
// reservations and the loads in flight, refusal when nothing fits, CUDA_VISIBLE_DEVICES, no GPU at all.
#include "serving/lifecycle/gpu_admission.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tamga {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

class GpuAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("fake-nvml-serving-" + std::to_string(::getpid()) + ".json");
    setenv("FAKE_NVML_CONFIG", path_.c_str(), 1);
    // GPU-a: 4 GiB free. GPU-b: 12 GiB free.
    Script(R"({"driver": "550.54.15", "cuda": 12040, "gpus": [
      {"uuid": "GPU-a", "name": "L4", "total": 25769803776, "used": 21474836480},
      {"uuid": "GPU-b", "name": "L4", "total": 25769803776, "used": 12884901888}]})");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void Script(const std::string& json) { std::ofstream(path_) << json; }
  GpuAdmission Make(GpuAdmission::LedgerFn ledger = nullptr, std::string visible = "") {
    return GpuAdmission(NewNvmlProbe(TAMGA_FAKE_NVML), std::move(ledger), std::move(visible));
  }
  std::filesystem::path path_;
};

TEST_F(GpuAdmissionTest, PicksTheGpuWithTheMostFreeMemory) {
  GpuAdmission a = Make();
  auto g = a.Admit("m", 2 * kGiB);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->uuid, "GPU-b");
  EXPECT_EQ(g->device, "cuda:1");  // NVML (PCI bus) order
  EXPECT_EQ(g->free_before, 12 * kGiB);
}

TEST_F(GpuAdmissionTest, TheJobSchedulersReservationsCount) {
  // A job promised 10 GiB on GPU-b and has not allocated it yet: GPU-b has 2 GiB left, GPU-a 4 GiB.
  GpuAdmission a = Make([] { return std::vector<GpuReservation>{{"GPU-b", "job-1", 10 * kGiB, false, {}}}; });
  auto g = a.Admit("m", 3 * kGiB);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->uuid, "GPU-a");
  a.Release(*g);
  auto no = a.Admit("big", 5 * kGiB);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(no.status().message().find("needs an estimated 5.00 GiB"), std::string::npos)
      << no.status().ToString();
  EXPECT_NE(no.status().message().find("GPU-a"), std::string::npos) << no.status().ToString();
}

TEST_F(GpuAdmissionTest, LoadsInFlightAreReservedUntilReleased) {
  GpuAdmission a = Make();
  auto first = a.Admit("one", 10 * kGiB);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->uuid, "GPU-b");
  auto second = a.Admit("two", 10 * kGiB);  // GPU-b's 12 GiB are promised to the first load
  EXPECT_FALSE(second.ok());
  a.Release(*first);
  EXPECT_TRUE(a.Admit("two", 10 * kGiB).ok());
}

TEST_F(GpuAdmissionTest, CudaVisibleDevicesLimitsAndRenumbers) {
  GpuAdmission a = Make(nullptr, "GPU-a");
  auto g = a.Admit("m", 1 * kGiB);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->uuid, "GPU-a");
  EXPECT_EQ(g->device, "cuda:0");
  GpuAdmission none = Make(nullptr, "GPU-zzz");
  auto cpu = none.Admit("m", 1 * kGiB);
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->device, "cpu");
}

TEST_F(GpuAdmissionTest, UnhealthyGpusAreNeverChosenAndNoGpuMeansCpu) {
  Script(R"({"gpus": [{"uuid": "GPU-a", "total": 25769803776, "used": 0, "ecc_uncorrected": 3}]})");
  GpuAdmission a = Make();
  auto g = a.Admit("m", kGiB);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("no healthy GPU"), std::string::npos) << g.status().ToString();
  Script(R"({"init_error": 9})");
  auto cpu = Make().Admit("m", kGiB);
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->device, "cpu");
}

TEST_F(GpuAdmissionTest, EstimatesFromTheModelFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("est-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "data");
  std::ofstream(dir / "data" / "model.pth") << std::string(1 << 20, 'x');
  EXPECT_EQ(EstimateGpuBytes(dir.string(), 2), 2 * ((1 << 20) + (1 << 19) + 256 * (int64_t{1} << 20)));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tamga
