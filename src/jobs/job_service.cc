#include "jobs/job_service.h"
#include "core/contain.h"
#include "core/utf8.h"

#include <cstdio>

#include "core/ids.h"
#include "core/log.h"
#include "jobs/job_internal.h"

namespace tamga {

using jobs_internal::FromRecord;
using jobs_internal::ToRecord;

JobService::JobService(Options options, JobStore* store, TrackingService* tracking, Clock* clock,
                       Random* random)
    : options_(options), store_(store), tracking_(tracking), clock_(clock), random_(random) {}

JobService::~JobService() {
  Shutdown();
  if (metrics_) metrics_->RemoveCollector(collector_);
}

Status JobService::Load() {
  MutexLock lock(&mu_);
  loaded_ = true;
  TAMGA_ASSIGN_OR_RETURN(auto queues, store_->ListQueues());
  for (const auto& q : queues)
    queues_[q.name] = QueueInfo{q.name, q.max_concurrency, q.strategy, q.created_ms};
  TAMGA_RETURN_IF_ERROR(LoadPolicies());
  TAMGA_ASSIGN_OR_RETURN(int64_t max_seq, store_->MaxJobSeq());
  next_seq_ = max_seq + 1;
  TAMGA_ASSIGN_OR_RETURN(auto records, store_->ActiveJobs());
  int64_t now = clock_->NowMillis();
  for (const auto& r : records) {
    auto j = FromRecord(r);
    if (!j.ok()) {
      TAMGA_LOG(kError, "skipping unreadable job", {{"job", r.id}, {"error", j.status().message()}});
      continue;
    }
    active_[j->id] = *j;
    if (j->attempts > 0) {
      auto bytes = store_->LogBytes(j->id);
      if (bytes.ok()) log_bytes_[j->id] = *bytes;
    }
    if (j->state == JobState::kQueued) {
      Enqueue(*j);
    } else {
      running_[j->spec.queue]++;
      Charge(*j, 0, 1);
      agent_jobs_[j->agent_id].insert(j->id);
    }
  }
  // Agents get one agent timeout from now to reconnect before their jobs count as lost.
  TAMGA_ASSIGN_OR_RETURN(auto agents, store_->ListAgents());
  for (const auto& a : agents) {
    bool has_jobs = false;
    for (const auto& [id, j] : active_) has_jobs = has_jobs || j.agent_id == a.id;
    if (!has_jobs) continue;
    Agent ag;
    ag.id = a.id;
    ag.report.name = a.name;
    ag.last_seen_ms = now;
    agents_[a.id] = ag;
  }
  TAMGA_LOG(kInfo, "job queues loaded",
            {{"queues", std::to_string(queues_.size())}, {"active_jobs", std::to_string(active_.size())}});
  return Status::Ok();
}

void JobService::Start() {
  submitter_ = std::thread([this] { SubmitLoop(); });
  sweeper_ = std::thread([this] {
    UniqueLock lock(&mu_);
    while (!stopping_) {
      cv_.wait_for(lock.native(), std::chrono::milliseconds(200));
      if (stopping_) break;
      lock.unlock();
      (void)CallContained("job sweeper", [this] { Sweep(); });
      lock.lock();
    }
  });
}

void JobService::Shutdown() {
  // Concurrent callers (the HTTP server's shutdown hook and the composition root) wait for the first.
  std::call_once(shutdown_once_, [this] { DoShutdown(); });
}

void JobService::DoShutdown() {
  Callbacks out;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& w : lease_waiters_) out.push_back([d = std::move(w.done)] { d(std::optional<Job>()); });
    lease_waiters_.clear();
    for (auto& w : log_waiters_)
      out.push_back([d = std::move(w.done)] { d(Unavailable("server shutting down")); });
    log_waiters_.clear();
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  {
    MutexLock lock(&submit_mu_);
    submit_stop_ = true;
  }
  submit_cv_.notify_all();
  if (submitter_.joinable()) submitter_.join();  // drains the submissions already accepted
  for (auto& f : out) f();
}

Status JobService::Persist(const Job& job) { return store_->PutJob(ToRecord(job)); }

void JobService::Enqueue(const Job& job) {
  queued_[job.spec.queue].insert({{-job.spec.priority, job.seq}, job.id});
  queued_since_[job.spec.queue].insert(job.created_ms);
  Charge(job, 1, 0);
}

void JobService::Dequeue(const Job& job) {
  auto it = queued_.find(job.spec.queue);
  if (it != queued_.end() && it->second.erase({{-job.spec.priority, job.seq}, job.id}) > 0) {
    auto& since = queued_since_[job.spec.queue];
    auto at = since.find(job.created_ms);
    if (at != since.end()) since.erase(at);
    Charge(job, -1, 0);
  }
}

int JobService::RunningIn(const std::string& queue) const {
  auto it = running_.find(queue);
  return it == running_.end() ? 0 : it->second;
}

JobService::Agent* JobService::LiveAgent(const std::string& id) {
  auto it = agents_.find(id);
  return it == agents_.end() || !it->second.live ? nullptr : &it->second;
}

// ---- users --------------------------------------------------------------------------------------------

void JobService::Submit(JobSpec spec, std::function<void(Result<Job>)> done) {
  std::vector<JobSpec> one;
  one.push_back(std::move(spec));
  SubmitBatch(std::move(one), [done = std::move(done)](Result<std::vector<Job>> r) {
    if (!r.ok()) return done(r.status());
    done(std::move(r->front()));
  });
}

void JobService::SubmitBatch(std::vector<JobSpec> specs, std::function<void(Result<std::vector<Job>>)> done) {
  if (specs.empty()) return done(InvalidArgument("no jobs to submit"));
  if (specs.size() > kMaxJobBatch)
    return done(InvalidArgument("at most " + std::to_string(kMaxJobBatch) + " jobs per batch"));
  {
    MutexLock lock(&mu_);
    if (stopping_) return done(Unavailable("the server is shutting down; submit again in a moment"));
    for (size_t i = 0; i < specs.size(); ++i) {
      if (queues_.count(specs[i].queue)) continue;
      std::string where = specs.size() == 1 ? "" : "jobs[" + std::to_string(i) + "]: ";
      return done(NotFound(where + "queue '" + specs[i].queue +
                           "' does not exist; create it (tamga queues create " + specs[i].queue +
                           ") or start an agent that serves it"));
    }
    Status admitted = AdmitSpecs(specs);
    if (!admitted.ok()) return done(admitted);
  }
  std::vector<std::string> ids;
  std::vector<CreateRunRequest> runs;
  int64_t now_ms = clock_->NowMillis();
  ids.reserve(specs.size());
  runs.reserve(specs.size());
  for (const auto& spec : specs) {
    // Time-ordered (ms, then 48 random bits): inserts into jobs.db stay on the B-tree's right edge.
    char id[40];
    std::snprintf(id, sizeof(id), "job-%012llx%012llx",
                  static_cast<unsigned long long>(now_ms & 0xffffffffffffLL),
                  static_cast<unsigned long long>(random_->Next() & 0xffffffffffffULL));
    ids.push_back(id);
    CreateRunRequest run;
    run.experiment_id = spec.experiment_id.empty() ? "0" : spec.experiment_id;
    run.run_name = spec.run_name;
    std::string cmdline;
    for (const auto& a : spec.command) cmdline += (cmdline.empty() ? "" : " ") + a;
    run.tags = {{"mlflow.source.type", "JOB"},
                {"mlflow.source.name", std::string(Utf8Prefix(cmdline, 5000))},
                {"tamga.job.queue", spec.queue},
                {"tamga.job.id", ids.back()}};
    for (const auto& [k, v] : spec.tags) run.tags.push_back({k, v});
    runs.push_back(std::move(run));
  }
  tracking_->CreateRuns(
      std::move(runs),
      [this, ids = std::move(ids), specs = std::move(specs),
       done = std::move(done)](Result<std::vector<Run>> r) mutable {
        if (!r.ok()) {
          std::vector<Job> unreserve(specs.size());
          for (size_t i = 0; i < specs.size(); ++i) unreserve[i].spec = specs[i];
          {
            MutexLock lock(&mu_);
            ReleasePending(unreserve);
          }
          return done(r.status());
        }
        PendingSubmit p;
        p.jobs.resize(specs.size());
        for (size_t i = 0; i < specs.size(); ++i) {
          p.jobs[i].id = std::move(ids[i]);
          p.jobs[i].spec = std::move(specs[i]);
          p.jobs[i].run_id = (*r)[i].info.run_id;
        }
        p.done = std::move(done);
        {
          MutexLock lock(&submit_mu_);
          if (!submit_stop_) {
            submits_.push_back(std::move(p));
            submit_cv_.notify_one();
            return;
          }
        }
        // The submitter has stopped (shutdown) while this request's runs were being written: store its jobs
        // here, so the request is answered before the HTTP drain ends and no acknowledged run lacks its job.
        std::vector<PendingSubmit> late;
        late.push_back(std::move(p));
        WriteSubmits(late);
      },
      "jobs");
}

// Group commit of submissions: every request that arrived while the previous batch was being written goes
// into the next transaction, so the jobs database sees one commit per batch, not per job.
void JobService::SubmitLoop() {
  UniqueLock lock(&submit_mu_);
  for (;;) {
    submit_cv_.wait(lock.native(), [&] {
      submit_mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return submit_stop_ || !submits_.empty();
    });
    if (submits_.empty()) return;
    std::vector<PendingSubmit> batch;
    batch.swap(submits_);
    lock.unlock();
    WriteSubmits(batch);
    lock.lock();
  }
}

void JobService::WriteSubmits(std::vector<PendingSubmit>& batch) {
  Callbacks out;
  Status s;
  {
    MutexLock l(&mu_);
    for (const auto& p : batch) ReleasePending(p.jobs);  // queued below, or refused: no longer pending
    std::vector<JobRecord> records;
    int64_t now = clock_->NowMillis();
    for (auto& p : batch) {
      for (auto& job : p.jobs) {
        job.seq = next_seq_++;
        job.created_ms = now;
        job.state = JobState::kQueued;
        records.push_back(ToRecord(job));
      }
    }
    s = store_->PutJobs(records);
    if (s.ok()) {
      for (auto& p : batch) {
        for (const auto& job : p.jobs) {
          active_[job.id] = job;
          Enqueue(job);
        }
      }
      ServeWaiters(&out);
    }
  }
  for (auto& f : out) f();
  for (auto& p : batch) {
    if (s.ok())
      p.done(std::move(p.jobs));
    else
      p.done(s);
  }
}

Result<Job> JobService::Get(const std::string& id) {
  {
    MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it != active_.end()) return it->second;
  }
  TAMGA_ASSIGN_OR_RETURN(auto r, store_->GetJob(id));
  return FromRecord(r);
}

Result<std::vector<Job>> JobService::List(const JobListQuery& q) {
  TAMGA_ASSIGN_OR_RETURN(auto records, store_->ListJobs(q));
  std::vector<Job> out;
  MutexLock lock(&mu_);
  for (const auto& r : records) {
    auto it = active_.find(r.id);
    if (it != active_.end()) {
      out.push_back(it->second);
      continue;
    }
    auto j = FromRecord(r);
    if (j.ok()) out.push_back(std::move(*j));
  }
  return out;
}

Result<Job> JobService::Abort(const std::string& id) {
  Callbacks out;
  {
    MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it == active_.end()) {
      auto r = store_->GetJob(id);
      if (!r.ok()) return r.status();
      return FailedPrecondition("job " + id + " already ended (" + r->state + ")");
    }
    Job& job = it->second;
    if (job.state == JobState::kQueued) {
      EndJob(job, JobState::kAborted, "aborted by user before it started", std::nullopt, &out);
    } else {
      // The agent learns it from its next heartbeat, stops the process group and confirms.
      job.abort_requested = true;
      TAMGA_RETURN_IF_ERROR(Persist(job));
    }
  }
  for (auto& f : out) f();
  return Get(id);
}

Result<LogsPage> JobService::LogsNow(const std::string& id, int64_t after) {
  TAMGA_ASSIGN_OR_RETURN(auto chunks, store_->ReadLogs(id, after, 1000));
  LogsPage page;
  page.next_after = chunks.empty() ? after : chunks.back().seq;
  page.chunks = std::move(chunks);
  bool ended;
  {
    MutexLock lock(&mu_);
    ended = !active_.count(id);
  }
  page.done = ended && page.chunks.size() < 1000;
  return page;
}

void JobService::ReadLogs(const std::string& id, int64_t after, int64_t wait_ms,
                          std::function<void(Result<LogsPage>)> done) {
  auto exists = Get(id);
  if (!exists.ok()) return done(exists.status());
  auto page = LogsNow(id, after);
  if (!page.ok() || !page->chunks.empty() || page->done || wait_ms <= 0) return done(std::move(page));
  {
    MutexLock lock(&mu_);
    if (active_.count(id) && !stopping_) {
      log_waiters_.push_back(
          {id, after, clock_->NowMillis() + std::min(wait_ms, options_.max_wait_ms), std::move(done)});
      return;
    }
  }
  done(LogsNow(id, after));
}

Status JobService::Started(const std::string& job_id, const std::string& agent_id) {
  std::string run_id;
  std::optional<Job> started;
  {
    MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end() || it->second.agent_id != agent_id) {
      return FailedPrecondition("job " + std::string(Utf8Prefix(job_id, 64)) + " is not leased to agent " +
                                agent_id.substr(0, 64));
    }
    Job& j = it->second;
    j.state = JobState::kRunning;
    j.started_ms = clock_->NowMillis();
    TAMGA_RETURN_IF_ERROR(Persist(j));
    run_id = j.run_id;
    if (observer_) started = j;
  }
  UpdateRun(run_id, RunStatus::kRunning, false);
  if (started) observer_(*started, JobEvent::kStarted);
  return Status::Ok();
}

Result<int64_t> JobService::AppendLog(const std::string& job_id, const std::string& agent_id,
                                      const std::string& stream, const std::string& data) {
  if (stream != "stdout" && stream != "stderr" && stream != "agent")
    return InvalidArgument("stream must be stdout, stderr or agent");
  if (static_cast<int64_t>(data.size()) > options_.max_log_chunk)
    return InvalidArgument("log chunk larger than 1 MiB");
  std::string stored_stream = stream, stored = data;
  {
    MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end() || it->second.agent_id != agent_id) {
      return FailedPrecondition("job " + std::string(Utf8Prefix(job_id, 64)) + " is not running on agent " +
                                agent_id.substr(0, 64));
    }
    // Bytes are reserved under the lock, so concurrent appends cannot together pass the limit.
    int64_t& used = log_bytes_[job_id];
    int64_t limit = options_.max_log_bytes_per_job;
    if (used > limit) return int64_t{0};  // past the limit and already marked: dropped
    if (used + static_cast<int64_t>(data.size()) > limit) {
      stored_stream = "agent";
      stored = "[tamga: this job's output reached the limit of " + std::to_string(limit) +
               " bytes (--job-log-limit); further output is dropped]\n";
      used = limit + 1;
    } else {
      used += static_cast<int64_t>(data.size());
    }
  }
  TAMGA_ASSIGN_OR_RETURN(int64_t seq, store_->AppendLog(job_id, stored_stream, stored));
  Callbacks out;
  {
    MutexLock lock(&mu_);
    for (auto it = log_waiters_.begin(); it != log_waiters_.end();) {
      if (it->job_id == job_id) {
        out.push_back(
            [this, d = std::move(it->done), id = job_id, after = it->after] { d(LogsNow(id, after)); });
        it = log_waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& f : out) f();
  return seq;
}

void JobService::UpdateRun(const std::string& run_id, RunStatus status, bool ended) {
  if (run_id.empty()) return;
  UpdateRunRequest u;
  u.run_id = run_id;
  u.status = status;
  if (ended) u.end_time = clock_->NowMillis();
  tracking_->UpdateRun(u, [run_id](Result<RunInfo> r) {
    if (!r.ok())
      TAMGA_LOG(kWarn, "cannot update the job's run", {{"run_id", run_id}, {"error", r.status().message()}});
  });
}

void JobService::ForgetLease(const Job& job) {
  running_[job.spec.queue]--;
  Charge(job, 0, -1);
  auto aj = agent_jobs_.find(job.agent_id);
  if (aj != agent_jobs_.end()) aj->second.erase(job.id);
}

void JobService::EndJob(Job& job, JobState state, const std::string& reason, std::optional<int> exit_code,
                        Callbacks* out) {
  if (job.state == JobState::kQueued)
    Dequeue(job);
  else
    ForgetLease(job);
  job.state = state;
  job.reason = reason;
  job.exit_code = exit_code;
  job.ended_ms = clock_->NowMillis();
  job.waiting_for.clear();
  Status s = Persist(job);
  if (!s.ok()) TAMGA_LOG(kError, "cannot persist a finished job", {{"job", job.id}, {"error", s.message()}});
  RunStatus rs = state == JobState::kSucceeded ? RunStatus::kFinished
                 : state == JobState::kAborted ? RunStatus::kKilled
                                               : RunStatus::kFailed;
  std::string run_id = job.run_id, id = job.id;
  out->push_back([this, run_id, rs] { UpdateRun(run_id, rs, true); });
  if (observer_) out->push_back([this, ended = job] { observer_(ended, JobEvent::kEnded); });
  for (auto it = log_waiters_.begin(); it != log_waiters_.end();) {
    if (it->job_id == id) {
      out->push_back([this, d = std::move(it->done), id, after = it->after] { d(LogsNow(id, after)); });
      it = log_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  TAMGA_LOG(kInfo, "job ended", {{"job", id}, {"state", JobStateName(state)}, {"reason", reason}});
  CountEnd(job);
  active_.erase(id);
  log_bytes_.erase(id);
  ServeWaiters(out);
}

void JobService::Requeue(Job& job, const std::string& why, Callbacks* out) {
  ForgetLease(job);
  job.state = JobState::kQueued;
  job.reason = why + " (attempt " + std::to_string(job.attempts) + " of " +
               std::to_string(job.spec.max_retries + 1) + ")";
  job.agent_id.clear();
  job.gpu_uuids.clear();
  job.lease_expires_ms = 0;
  job.started_ms = 0;
  Status s = Persist(job);
  if (!s.ok()) TAMGA_LOG(kError, "cannot persist a requeue", {{"job", job.id}, {"error", s.message()}});
  Enqueue(job);
  std::string run_id = job.run_id;
  out->push_back([this, run_id] { UpdateRun(run_id, RunStatus::kScheduled, false); });
  TAMGA_LOG(kWarn, "job requeued", {{"job", job.id}, {"reason", job.reason}});
  CountRequeue(job);
  ServeWaiters(out);
}

Status JobService::Finish(const std::string& job_id, const std::string& agent_id, JobState state,
                          const std::string& reason, std::optional<int> exit_code) {
  if (!IsTerminal(state)) return InvalidArgument("state must be succeeded, failed, aborted or lost");
  Callbacks out;
  {
    MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end()) {
      auto r = store_->GetJob(job_id);
      if (!r.ok()) return r.status();
      if (r->state == JobStateName(state)) return Status::Ok();  // a retried report
      return FailedPrecondition("job " + std::string(Utf8Prefix(job_id, 64)) + " already ended (" + r->state +
                                ")");
    }
    Job& job = it->second;
    if (job.agent_id != agent_id) {
      return FailedPrecondition("job " + std::string(Utf8Prefix(job_id, 64)) + " is not leased to agent " +
                                agent_id.substr(0, 64));
    }
    std::string why(Utf8Prefix(reason, 2000));  // cut at a character boundary: stored text stays UTF-8
    if (state == JobState::kLost && !job.abort_requested && job.attempts <= job.spec.max_retries) {
      Requeue(job, "requeued: " + why, &out);
    } else {
      EndJob(job, state, why, exit_code, &out);
    }
  }
  for (auto& f : out) f();
  return Status::Ok();
}

void JobService::MarkAgentLost(Agent& a, Callbacks* out) {
  a.live = false;
  TAMGA_LOG(kWarn, "agent lost", {{"agent", a.id}, {"name", a.report.name}});
  std::vector<std::string> ids;
  auto aj = agent_jobs_.find(a.id);
  if (aj != agent_jobs_.end()) ids.assign(aj->second.begin(), aj->second.end());
  for (const auto& id : ids) {
    Job& j = active_.at(id);
    if (j.abort_requested) {
      EndJob(j, JobState::kAborted, "aborted by user; agent lost before confirming", std::nullopt, out);
    } else if (j.attempts <= j.spec.max_retries) {
      Requeue(j, "requeued: agent " + a.id + " lost", out);
    } else {
      EndJob(j, JobState::kLost, "agent " + a.id + " lost; no retries left", std::nullopt, out);
    }
  }
}

}  // namespace tamga
