// JobService, the agent side: registration, the reports agents send, the lease decision (through the pure
// scheduler) and the lease long-polls, heartbeats. Shares the service's lock and state (job_service.h).
#include <cstdio>

#include "core/log.h"
#include "jobs/job_service.h"

namespace tamga {

// ---- agents -------------------------------------------------------------------------------------------

Result<std::string> JobService::RegisterAgent(const std::string& agent_id, AgentReport report) {
  if (report.queues.empty()) return InvalidArgument("an agent must serve at least one queue");
  if (report.cpus < 0) return InvalidArgument("cpus must be >= 0");
  std::string id = agent_id;
  if (id.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "agent-%08llx",
                  static_cast<unsigned long long>(random_->Next() & 0xffffffffULL));
    id = buf;
  }
  Callbacks out;
  {
    MutexLock lock(&mu_);
    int64_t now = clock_->NowMillis();
    for (const auto& q : report.queues) {
      if (!queues_.count(q)) {
        QueueInfo qi{q, 0, "spread", now};
        TAMGA_RETURN_IF_ERROR(store_->PutQueue({q, 0, "spread", now}));
        queues_[q] = qi;
      }
    }
    TAMGA_RETURN_IF_ERROR(store_->PutAgent({id, report.name, "{}", now}));
    Agent& a = agents_[id];
    a.id = id;
    a.report = std::move(report);
    a.last_seen_ms = now;
    a.live = true;
    TAMGA_LOG(kInfo, "agent registered",
              {{"agent", id}, {"name", a.report.name}, {"gpus", std::to_string(a.report.gpus.size())}});
  }
  return id;
}

std::vector<AgentSummary> JobService::ListAgents() {
  MutexLock lock(&mu_);
  std::vector<AgentSummary> out;
  for (const auto& [id, a] : agents_) {
    AgentSummary s{id, a.report, a.last_seen_ms, a.live, {}};
    auto aj = agent_jobs_.find(id);
    if (aj != agent_jobs_.end()) s.jobs.assign(aj->second.begin(), aj->second.end());
    out.push_back(std::move(s));
  }
  return out;
}

// The agent's latest report replaces the previous one. Name and queues are kept when the report omits them;
// queues the server does not know yet (e.g. after a restart from an older database) are created.
void JobService::AdoptReport(Agent& a, AgentReport report) {
  if (report.name.empty()) report.name = a.report.name;
  if (report.queues.empty()) report.queues = a.report.queues;
  for (const auto& q : report.queues) {
    if (queues_.count(q) || q.empty() || q.size() > 64) continue;
    QueueInfo qi{q, 0, "spread", clock_->NowMillis()};
    if (store_->PutQueue({q, 0, "spread", qi.created_ms}).ok()) queues_[q] = qi;
  }
  a.report = std::move(report);
}

std::vector<GpuReservation> JobService::GpuLedger() {
  MutexLock lock(&mu_);
  std::vector<GpuReservation> out;
  for (const auto& [id, a] : agents_) {
    if (!a.live) continue;
    AgentView v = ViewOf(a);
    out.insert(out.end(), v.ledger.begin(), v.ledger.end());
  }
  return out;
}

AgentView JobService::ViewOf(const Agent& a) const {
  AgentView v;
  v.id = a.id;
  v.queues = a.report.queues;
  v.cpus_free = a.report.cpus;
  v.memory_free = a.report.memory_bytes;
  v.gpus_enabled = a.report.gpus_enabled;
  v.gpus = a.report.gpus;
  v.allowed_gpus = a.report.allowed_gpus;
  auto aj = agent_jobs_.find(a.id);
  if (aj == agent_jobs_.end()) return v;
  for (const auto& id : aj->second) {
    const Job& j = active_.at(id);
    v.cpus_free -= j.spec.resources.cpus;
    if (v.memory_free >= 0) v.memory_free -= j.spec.resources.memory_bytes;
    std::vector<uint32_t> pids;
    auto p = a.report.job_pids.find(id);
    if (p != a.report.job_pids.end()) pids = p->second;
    for (const auto& u : j.gpu_uuids) {
      v.ledger.push_back(
          {u, id, j.spec.resources.gpu_memory_bytes, j.spec.resources.gpu_memory_bytes == 0, pids});
    }
  }
  return v;
}

std::optional<Job> JobService::TryLease(Agent& a) {
  AgentView view = ViewOf(a);
  std::vector<std::vector<const Job*>> candidates;
  std::map<std::string, QueueView> qviews;
  for (const auto& qn : a.report.queues) {
    std::vector<const Job*> list;
    auto it = queued_.find(qn);
    if (it != queued_.end()) {
      for (const auto& key : it->second) {
        if (list.size() >= options_.scan_limit) break;
        list.push_back(&active_.at(key.second));
      }
    }
    candidates.push_back(std::move(list));
    QueueView qv;
    auto q = queues_.find(qn);
    if (q != queues_.end()) {
      qv.max_concurrency = q->second.max_concurrency;
      qv.strategy = ParsePlacementStrategy(q->second.strategy).value_or(PlacementStrategy::kSpread);
    }
    qv.running = RunningIn(qn);
    qv.teams = QuotaViews(qn);
    qviews[qn] = qv;
  }
  SchedulerDecision d = PickJob(view, candidates, qviews);
  for (const auto& [id, why] : d.waiting) active_.at(id).waiting_for = why;
  if (!d.lease) return std::nullopt;
  Job& job = active_.at(d.lease->job->id);
  Job before = job;
  Dequeue(job);
  job.state = JobState::kLeased;
  job.agent_id = a.id;
  job.gpu_uuids = d.lease->gpu_uuids;
  job.attempts++;
  job.waiting_for.clear();
  job.reason.clear();
  job.lease_expires_ms = clock_->NowMillis() + options_.agent_timeout_ms;
  Status s = Persist(job);
  if (!s.ok()) {
    TAMGA_LOG(kError, "cannot persist a lease; the job stays queued",
              {{"job", job.id}, {"error", s.message()}});
    job = before;
    Enqueue(job);
    return std::nullopt;
  }
  running_[job.spec.queue]++;
  Charge(job, 0, 1);
  agent_jobs_[a.id].insert(job.id);
  CountLease(job);
  return job;
}

void JobService::ServeWaiters(Callbacks* out) {
  for (auto it = lease_waiters_.begin(); it != lease_waiters_.end();) {
    Agent* a = LiveAgent(it->agent_id);
    if (!a) {
      out->push_back(
          [d = std::move(it->done)] { d(NotFound("agent is not registered (lost?); register again")); });
      it = lease_waiters_.erase(it);
      continue;
    }
    auto job = TryLease(*a);
    if (job) {
      out->push_back([d = std::move(it->done), j = *job] { d(std::optional<Job>(j)); });
      it = lease_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void JobService::Lease(const std::string& agent_id, AgentReport report, int64_t wait_ms,
                       std::function<void(Result<std::optional<Job>>)> done) {
  std::optional<Job> job;
  std::function<void(Result<std::optional<Job>>)>
      replaced;  // an older poll of the same agent, answered empty
  bool known = false, waiting = false;
  {
    MutexLock lock(&mu_);
    Agent* a = LiveAgent(agent_id);
    if (a) {
      known = true;
      a->last_seen_ms = clock_->NowMillis();
      AdoptReport(*a, std::move(report));
      job = TryLease(*a);
      if (!job && wait_ms > 0 && !stopping_) {
        for (auto it = lease_waiters_.begin(); it != lease_waiters_.end();) {
          if (it->agent_id == agent_id) {  // a newer poll replaces an older one
            replaced = std::move(it->done);
            it = lease_waiters_.erase(it);
          } else {
            ++it;
          }
        }
        lease_waiters_.push_back(
            {agent_id, clock_->NowMillis() + std::min(wait_ms, options_.max_wait_ms), std::move(done)});
        waiting = true;
      }
    }
  }
  // Callbacks run outside the lock.
  if (replaced) replaced(std::optional<Job>());
  if (!known)
    return done(NotFound("agent '" + agent_id.substr(0, 64) + "' is not registered (lost?); register again"));
  if (!waiting) done(std::move(job));
}

Result<std::vector<std::string>> JobService::Heartbeat(const std::string& agent_id, AgentReport report) {
  MutexLock lock(&mu_);
  Agent* a = LiveAgent(agent_id);
  if (!a) return NotFound("agent '" + agent_id.substr(0, 64) + "' is not registered (lost?); register again");
  int64_t now = clock_->NowMillis();
  a->last_seen_ms = now;
  AdoptReport(*a, std::move(report));
  std::vector<std::string> abort;
  // Jobs the agent still runs but no longer owns (declared lost and requeued meanwhile): stop them.
  for (const auto& [id, pids] : a->report.job_pids) {
    auto it = active_.find(id);
    if (it == active_.end() || it->second.agent_id != agent_id) abort.push_back(id);
  }
  auto aj = agent_jobs_.find(agent_id);
  if (aj != agent_jobs_.end()) {
    for (const auto& id : aj->second) {
      Job& j = active_.at(id);
      j.lease_expires_ms = now + options_.agent_timeout_ms;
      if (j.abort_requested) abort.push_back(id);
    }
  }
  return abort;
}

Status JobService::Deregister(const std::string& agent_id) {
  Callbacks out;
  {
    MutexLock lock(&mu_);
    auto it = agents_.find(agent_id);
    if (it == agents_.end()) return NotFound("agent '" + agent_id.substr(0, 64) + "' is not registered");
    // Jobs it still holds are handled as if it were lost (requeued per their retry policy).
    if (it->second.live) MarkAgentLost(it->second, &out);
    agent_jobs_.erase(agent_id);
    agents_.erase(it);
    TAMGA_LOG(kInfo, "agent deregistered", {{"agent", agent_id}});
  }
  for (auto& f : out) f();
  return Status::Ok();
}

void JobService::Sweep() {
  Callbacks out;
  {
    MutexLock lock(&mu_);
    int64_t now = clock_->NowMillis();
    for (auto it = agents_.begin(); it != agents_.end();) {
      Agent& a = it->second;
      if (a.live && now - a.last_seen_ms > options_.agent_timeout_ms) MarkAgentLost(a, &out);
      // A lost agent is listed (and counted in tamga_agents{state="lost"}) for a while, then forgotten.
      auto aj = agent_jobs_.find(a.id);
      bool idle = aj == agent_jobs_.end() || aj->second.empty();
      if (!a.live && idle && now - a.last_seen_ms > options_.forget_lost_agent_ms) {
        agent_jobs_.erase(a.id);
        it = agents_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = lease_waiters_.begin(); it != lease_waiters_.end();) {
      if (it->deadline_ms <= now) {
        out.push_back([d = std::move(it->done)] { d(std::optional<Job>()); });
        it = lease_waiters_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = log_waiters_.begin(); it != log_waiters_.end();) {
      if (it->deadline_ms <= now) {
        out.push_back(
            [this, d = std::move(it->done), id = it->job_id, after = it->after] { d(LogsNow(id, after)); });
        it = log_waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& f : out) f();
}

}  // namespace tamga
