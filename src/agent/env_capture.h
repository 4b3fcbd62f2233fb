#pragma once
// Automatic environment capture for a job's run: code (git commit, branch, remote, a hash and a capped
// copy of the uncommitted diff), the Python the job runs and its packages (python_env.h; else the project's
// lockfile), CUDA/cuDNN/NCCL packages, the machine (OS, CPU, memory, GPU models/UUIDs, NVIDIA driver and CUDA
// versions) and the exact command line and environment (values of secret-looking variables masked). MLflow's
// standard tag names are used where they exist (mlflow.source.git.commit, mlflow.source.git.branch,
// mlflow.source.git.repoURL).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/hmac.h"  // Sha256Hex
#include "core/result.h"
#include "gpu/gpu_probe.h"

#include "core/secrets.h"
#include "core/utf8.h"

namespace tamga {

struct CapturedEnvironment {
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, std::string>> files;  // artifact path under the run -> content
};

constexpr size_t kMaxDiffBytes = 500000;

CapturedEnvironment CaptureEnvironment(const std::string& dir, const std::vector<std::string>& command,
                                       const std::map<std::string, std::string>& env, const GpuSnapshot& gpus,
                                       const std::vector<std::string>& gpu_uuids);

// Runs argv in `dir` and returns its stdout (at most `max_bytes`); an error when it cannot start, fails,
// or runs past `timeout_ms` (then it is killed).
Result<std::string> RunAndCapture(const std::vector<std::string>& argv, const std::string& dir,
                                  size_t max_bytes, int timeout_ms);

// LooksSecret (core/secrets.h) masks variables; SanitizeUtf8 (core/utf8.h) keeps output valid JSON text.

}  // namespace tamga
