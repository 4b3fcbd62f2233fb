// `tamga jobs render`: the manifest carries the job's command, resources and GPU facts, and quotes every
// user-provided string (no YAML injection).
#include <gtest/gtest.h>

#include "jobs/k8s_render.h"

namespace tamga {
namespace {

TEST(K8sRender, GpuJob) {
  Job j;
  j.id = "job-00ab12cd34ef";
  j.run_id = "abc123";
  j.spec.queue = "gpu";
  j.spec.command = {"python3", "train.py", "--name", "a\"b\nc: d"};
  j.spec.env = {{"A", "1"}};
  j.spec.resources.cpus = 4;
  j.spec.resources.memory_bytes = 16LL << 30;
  j.spec.resources.gpus = 2;
  j.spec.resources.gpu_memory_bytes = 20LL << 30;
  j.spec.timeout_s = 3600;
  j.spec.max_retries = 1;
  K8sJobOptions o;
  o.gpu_product = "NVIDIA-A100-SXM4-40GB";
  o.tracking_uri = "http://tamga:5000";
  std::string y = RenderK8sJob(j, o);
  EXPECT_NE(y.find("kind: Job"), std::string::npos);
  EXPECT_NE(y.find("name: job-00ab12cd34ef"), std::string::npos);
  EXPECT_NE(y.find("nvidia.com/gpu: 2"), std::string::npos);
  EXPECT_NE(y.find("nvidia.com/gpu.product: \"NVIDIA-A100-SXM4-40GB\""), std::string::npos);
  EXPECT_NE(y.find("key: nvidia.com/gpu.memory"), std::string::npos);
  EXPECT_NE(y.find("values: [\"21474\"]"), std::string::npos);  // > 21474 MB, i.e. >= 20 GiB
  EXPECT_NE(y.find("activeDeadlineSeconds: 3600"), std::string::npos);
  EXPECT_NE(y.find("backoffLimit: 1"), std::string::npos);
  EXPECT_NE(y.find("- \"a\\\"b\\nc: d\""), std::string::npos) << y;
  EXPECT_NE(y.find("value: \"abc123\""), std::string::npos);
  // GPUs only in limits.
  size_t req = y.find("requests:"), lim = y.find("limits:");
  EXPECT_EQ(y.substr(req, lim - req).find("nvidia.com/gpu"), std::string::npos);
}

TEST(K8sRender, CpuJobHasNoGpuBits) {
  Job j;
  j.id = "job-1";
  j.spec.command = {"true"};
  std::string y = RenderK8sJob(j, {});
  EXPECT_EQ(y.find("nvidia.com"), std::string::npos);
  EXPECT_EQ(y.find("activeDeadlineSeconds"), std::string::npos);
}

}  // namespace
}  // namespace tamga
