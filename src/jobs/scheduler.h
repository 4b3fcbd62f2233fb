#pragma once
// The scheduler's decision as a pure function over values: given the queued jobs of the queues an agent
// serves (each queue already in its order: priority high to low, then FIFO), the agent's free resources
// and GPU snapshot with its reservation ledger, and the queues' limits, which job does the agent lease,
// on which GPUs? Order across queues: job priority first, then the agent's queue order (the first queue
// it names wins ties), then submission order. The first job that fits is taken (best-effort FIFO: a job
// that does not fit does not block smaller ones behind it; its `why` is reported as the reason it waits).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gpu/placement.h"
#include "jobs/job_types.h"

namespace tamga {

struct AgentView {
  std::string id;
  std::vector<std::string> queues;  // the agent's order
  int cpus_free = 0;
  int64_t memory_free = -1;   // -1 = not reported (memory requests are not checked)
  bool gpus_enabled = false;  // false: CPU-only agent (no NVML, or --gpus none)
  std::vector<GpuInfo> gpus;
  std::vector<GpuReservation> ledger;  // reservations of the agent's running jobs
  std::set<std::string> allowed_gpus;  // --gpus 0,1 as UUIDs; empty = all
};

// A team's quota on the queue with what its jobs hold now.
struct TeamQuotaView {
  TeamQuota quota;
  TeamUsage usage;
};

struct QueueView {
  int max_concurrency = 0;  // 0 = unlimited
  int running = 0;          // leased + running jobs of the queue, all agents
  PlacementStrategy strategy = PlacementStrategy::kSpread;
  std::map<std::string, TeamQuotaView> teams;  // by team: quotas on this queue
};

struct LeaseChoice {
  const Job* job = nullptr;
  std::vector<std::string> gpu_uuids;
};

struct SchedulerDecision {
  std::optional<LeaseChoice> lease;
  std::map<std::string, std::string>
      waiting;  // job id -> why it does not fit this agent (examined jobs only)
};

// `queued[i]` holds the candidates of `agent.queues[i]`, in queue order (the caller may truncate each list).
SchedulerDecision PickJob(const AgentView& agent, const std::vector<std::vector<const Job*>>& queued,
                          const std::map<std::string, QueueView>& queues);

// Why `job` cannot run on `agent` now ("" when it fits); fills `gpus` when it fits.
std::string FitJob(const Job& job, const AgentView& agent, const QueueView& queue,
                   std::vector<std::string>* gpus);

}  // namespace tamga
