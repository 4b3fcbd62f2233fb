#pragma once
// `tamga jobs render ID`: the same job as a Kubernetes batch/v1 Job, for teams that run agents as pods or
// want the cluster's scheduler: command and env, resources (cpu, memory, nvidia.com/gpu limits; GPUs only
// in limits, whole numbers, as the device plugin requires), the GPU model as a GPU Feature Discovery node
// selector (nvidia.com/gpu.product) and per-GPU memory as a minimum through node affinity on
// nvidia.com/gpu.memory (MB), MLflow run wiring, timeout as activeDeadlineSeconds and the retry policy as
// backoffLimit. Pure function.
#include <string>

#include "jobs/job_types.h"

namespace tamga {

struct K8sJobOptions {
  std::string image = "python:3.11-slim";
  std::string ns = "default";
  std::string tracking_uri;  // MLFLOW_TRACKING_URI inside the pod
  std::string gpu_product;   // optional nvidia.com/gpu.product node selector
};

std::string RenderK8sJob(const Job& job, const K8sJobOptions& options);

}  // namespace tamga
