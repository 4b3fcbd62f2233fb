#include "jobs/scheduler.h"

namespace tamga {

std::string FitJob(const Job& job, const AgentView& agent, const QueueView& queue,
                   std::vector<std::string>* gpus) {
  const ResourceRequest& r = job.spec.resources;
  if (queue.max_concurrency > 0 && queue.running >= queue.max_concurrency) {
    return "queue '" + job.spec.queue + "' runs its maximum of " + std::to_string(queue.max_concurrency) +
           " job(s)";
  }
  if (auto t = queue.teams.find(job.spec.team); !job.spec.team.empty() && t != queue.teams.end()) {
    const TeamQuota& q = t->second.quota;
    const TeamUsage& u = t->second.usage;
    std::string who = "team '" + job.spec.team + "' quota on queue '" + job.spec.queue + "': ";
    if (q.max_running >= 0 && u.running >= q.max_running) {
      return who + std::to_string(u.running) + " of " + std::to_string(q.max_running) +
             " running jobs in use";
    }
    if (q.max_gpus >= 0 && r.gpus > 0 && u.gpus + r.gpus > q.max_gpus) {
      return who + std::to_string(u.gpus) + " of " + std::to_string(q.max_gpus) +
             " GPUs in use; this job needs " + std::to_string(r.gpus);
    }
  }
  if (r.cpus > agent.cpus_free) {
    return "needs " + std::to_string(r.cpus) + " CPU(s); agent " + agent.id + " has " +
           std::to_string(agent.cpus_free) + " free";
  }
  if (r.memory_bytes > 0 && agent.memory_free >= 0 && r.memory_bytes > agent.memory_free) {
    return "needs " + std::to_string(r.memory_bytes >> 20) + " MiB of memory; agent " + agent.id + " has " +
           std::to_string(agent.memory_free >> 20) + " MiB free";
  }
  if (r.gpus > 0) {
    if (!agent.gpus_enabled)
      return "needs " + std::to_string(r.gpus) + " GPU(s); agent " + agent.id + " runs CPU jobs only";
    GpuPlacement p =
        PlaceGpus({r.gpus, r.gpu_memory_bytes}, agent.gpus, agent.ledger, queue.strategy, agent.allowed_gpus);
    if (!p.fits()) return p.why_not + " (agent " + agent.id + ")";
    *gpus = std::move(p.uuids);
  }
  return "";
}

SchedulerDecision PickJob(const AgentView& agent, const std::vector<std::vector<const Job*>>& queued,
                          const std::map<std::string, QueueView>& queues) {
  SchedulerDecision d;
  std::vector<size_t> pos(queued.size(), 0);
  std::map<std::string, QueueView> views = queues;
  for (;;) {
    // The next candidate: highest priority, then the agent's queue order, then FIFO.
    int best = -1;
    for (size_t q = 0; q < queued.size(); ++q) {
      if (pos[q] >= queued[q].size()) continue;
      const Job* j = queued[q][pos[q]];
      if (best < 0) {
        best = static_cast<int>(q);
        continue;
      }
      const Job* b = queued[best][pos[best]];
      if (j->spec.priority > b->spec.priority) best = static_cast<int>(q);
    }
    if (best < 0) return d;
    const Job* job = queued[best][pos[best]++];
    const QueueView& qv = views[job->spec.queue];
    std::vector<std::string> gpus;
    std::string why = FitJob(*job, agent, qv, &gpus);
    if (why.empty()) {
      d.lease = LeaseChoice{job, std::move(gpus)};
      return d;
    }
    d.waiting[job->id] = why;
  }
}

}  // namespace tamga
