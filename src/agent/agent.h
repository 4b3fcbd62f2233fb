#pragma once
// `tamga agent`: pulls jobs from a Tamga server and runs them on this machine.
//
// Loop: register (capabilities: CPUs, memory, GPUs from the probe), then long-poll for a lease; each leased
// job runs on its own thread: scratch directory (or the spec's working_dir; a git repo is cloned at the
// commit), environment capture onto the job's MLflow run, the command in its own process group with
// CUDA_VISIBLE_DEVICES=GPU-<uuid>,... (never NVML indices), stdout/stderr streamed to the server, exit
// status classified into a reason. A heartbeat thread keeps leases alive and receives aborts: SIGTERM to the
// process group, a grace period, SIGKILL, then the GPU probe must show the job's processes gone before
// the abort is confirmed (so the GPU really is free when it returns to the pool). Several jobs run at
// once when the server finds they fit.
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "gpu/gpu_probe.h"

namespace tamga {

// --gpus: "" when `v` is all, none, or comma-separated NVML indices / GPU-… / MIG-… UUIDs; else the reason.
std::string CheckGpuSelection(const std::string& v);

struct AgentConfig {
  std::string server;               // http://host:5000
  std::string token;                // agent token (--token; else TAMGA_TOKEN / MLflow's variables)
  std::vector<std::string> queues;  // in priority order
  std::string gpus = "all";         // all | none | comma-separated NVML indices or UUIDs
  std::string name;                 // default: hostname
  int cpus = 0;                     // 0 = number of cores
  int64_t memory_bytes = -1;        // -1 = MemTotal
  std::string work_dir = "./tamga-agent";
  bool keep_job_dirs = false;  // keep <work_dir>/jobs/<id> after the job ends (debugging)
  int heartbeat_ms = 2000;
  int grace_ms = 10000;  // SIGTERM -> SIGKILL
  int lease_wait_ms = 10000;
  std::string state_file;  // agent id is kept here across restarts ("" = <work_dir>/agent-id)
  // GPU metrics under dcgm-exporter's names (gpu/gpu_metrics.h) on http://metrics_host:metrics_port/metrics.
  // -1 = off, 0 = pick a free port. A port that cannot be bound is logged and the agent runs on without it:
  // metrics are never a reason to stop running jobs.
  std::string metrics_host = "0.0.0.0";
  int metrics_port = 9401;
  std::string metrics_port_file;  // the bound metrics port is written here
};

class JobAgent {
 public:
  // `probe` may be null (GPUs off).
  JobAgent(AgentConfig config, std::unique_ptr<GpuProbe> probe);
  ~JobAgent();
  // Runs until SIGINT/SIGTERM (then stops taking jobs, aborts running ones and reports them) or a fatal
  // error.
  Status Run();
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tamga
