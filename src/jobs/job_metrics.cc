// JobService's metrics (job_service.h ExportMetrics, docs/jobs.md "Metrics").
#include <algorithm>

#include "jobs/job_service.h"

namespace tamga {

void JobService::ExportMetrics(MetricsRegistry* metrics) {
  leases_ = metrics->Counter("tamga_job_leases_total", "Jobs handed to an agent, per queue");
  finished_ = metrics->Counter("tamga_jobs_finished_total", "Jobs that ended, per queue and final state");
  requeues_ = metrics->Counter("tamga_job_requeues_total",
                               "Jobs put back in their queue after an agent was lost or reported it lost");
  wait_ = metrics->HistogramFamily("tamga_job_queue_wait_seconds", "Time from submission to lease, per queue",
                                   {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600});
  metrics_ = metrics;
  collector_ = metrics->AddCollector([this] { CollectMetrics(); });
}

void JobService::CountLease(const Job& job) {
  if (!metrics_) return;
  Labels q = {{"queue", job.spec.queue}};
  leases_->Add(q, 1);
  wait_->Hist(q)->Observe(std::max<int64_t>(0, clock_->NowMillis() - job.created_ms) / 1000.0);
}

void JobService::CountEnd(const Job& job) {
  if (metrics_) finished_->Add({{"queue", job.spec.queue}, {"state", JobStateName(job.state)}}, 1);
}

void JobService::CountRequeue(const Job& job) {
  if (metrics_) requeues_->Add({{"queue", job.spec.queue}}, 1);
}

JobStats JobService::Stats() {
  JobStats st;
  MutexLock lock(&mu_);
  int64_t now = clock_->NowMillis();
  std::map<std::string, JobQueueStats> by_queue;
  for (const auto& [name, q] : queues_) by_queue[name].queue = name;
  // O(queues + jobs held by agents), not O(queued jobs): a scrape must not stall leases behind a long queue.
  for (const auto& [name, keys] : queued_) {
    JobQueueStats& q = by_queue[name];
    q.queue = name;
    q.queued = static_cast<int>(keys.size());
    auto since = queued_since_.find(name);
    if (since != queued_since_.end() && !since->second.empty())
      q.oldest_wait_s = std::max<int64_t>(0, now - *since->second.begin()) / 1000.0;
  }
  for (const auto& [agent, ids] : agent_jobs_) {
    for (const auto& id : ids) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      JobQueueStats& q = by_queue[it->second.spec.queue];
      q.queue = it->second.spec.queue;
      if (it->second.state == JobState::kLeased) q.leased++;
      if (it->second.state == JobState::kRunning) q.running++;
    }
  }
  for (auto& [name, q] : by_queue) st.queues.push_back(q);
  for (const auto& [id, a] : agents_) (a.live ? st.agents_live : st.agents_lost)++;
  return st;
}

void JobService::CollectMetrics() {
  JobStats st = Stats();
  MetricFamily* depth = metrics_->Gauge("tamga_job_queue_depth", "Jobs waiting in the queue");
  MetricFamily* oldest =
      metrics_->Gauge("tamga_job_queue_oldest_wait_seconds", "How long the oldest queued job has waited");
  MetricFamily* jobs = metrics_->Gauge("tamga_jobs", "Unfinished jobs per queue and state");
  MetricFamily* agents = metrics_->Gauge("tamga_agents", "Agents known to the server, by state");
  for (const auto& q : st.queues) {
    depth->Set({{"queue", q.queue}}, q.queued);
    oldest->Set({{"queue", q.queue}}, q.oldest_wait_s);
    jobs->Set({{"queue", q.queue}, {"state", "queued"}}, q.queued);
    jobs->Set({{"queue", q.queue}, {"state", "leased"}}, q.leased);
    jobs->Set({{"queue", q.queue}, {"state", "running"}}, q.running);
  }
  agents->Set({{"state", "live"}}, st.agents_live);
  agents->Set({{"state", "lost"}}, st.agents_lost);
}

}  // namespace tamga
