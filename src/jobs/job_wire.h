#pragma once
// The jobs API's wire types, shared by the server (http/routes/job_routes.cc, JobService) and its clients
// (the agent, the CLI): what an agent reports about itself, and the JSON forms of jobs, agent reports and
// GPUs. Parsers take untrusted text: every field is type- and range-checked (InvalidArgument naming it),
// nesting is bounded, and nothing throws. Pure functions; thread-safe.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "gpu/gpu_probe.h"
#include "jobs/job_types.h"

namespace tamga {

// What an agent says about itself when it registers and with every lease/heartbeat.
struct AgentReport {
  std::string name;
  std::vector<std::string> queues;
  int cpus = 0;               // total CPUs it offers
  int64_t memory_bytes = -1;  // total memory it offers; -1 = unknown
  bool gpus_enabled = false;
  std::string gpu_error;      // why not (NVML missing, --gpus none)
  std::vector<GpuInfo> gpus;  // the latest snapshot
  std::set<std::string> allowed_gpus;
  std::map<std::string, std::vector<uint32_t>> job_pids;  // running job -> its process ids
};

// JSON of a job for the API and the agent. Users see env values whose names look secret as "***"; only the
// lease to the agent that runs the job reveals them.
enum class SecretView { kRedacted, kRevealed };
std::string JobJson(const Job& job, SecretView view = SecretView::kRedacted);
Result<Job> JobFromJson(const std::string& json);

// AgentReport as JSON (the agent API's body) and back; InvalidArgument naming the field.
std::string AgentReportJson(const AgentReport& r);
Result<AgentReport> ParseAgentReport(const std::string& json);
std::string GpuInfoJson(const GpuInfo& g);

}  // namespace tamga
