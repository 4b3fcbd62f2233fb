#pragma once
// JobService: queues, jobs and agents. The working set (every job not yet finished, the agents, the lease
// long-polls) lives in memory, indexed per queue by (priority desc, submission order); every change is
// written to the JobStore before it is acknowledged, and Load() rebuilds the working set after a restart.
//
// Agents pull: Lease() long-polls for the best job the agent can fit now (scheduler.h), Heartbeat() keeps
// the agent's leases alive and returns the jobs to abort, Finish() reports the outcome. An agent silent for
// longer than the agent timeout is lost: its jobs are requeued per their retry policy (infrastructure
// failure) or end "lost". Each job owns an MLflow run created at submit (SCHEDULED -> RUNNING -> FINISHED |
// FAILED | KILLED), so its params, metrics and artifacts show up in tracking.
//
// Thread-safe. Callbacks run outside the service's lock, on the calling thread or the sweeper thread.
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/random.h"
#include "jobs/job_wire.h"
#include "jobs/scheduler.h"
#include "storage/job_store.h"
#include "tracking/tracking_service.h"

namespace tamga {

struct QuotaSummary {
  TeamQuota quota;
  TeamUsage usage;
};

struct QueueSummary {
  QueueInfo queue;
  int queued = 0;
  int running = 0;  // leased + running
  int agents = 0;   // live agents serving it
  std::vector<QuotaSummary> quotas;
};

struct AgentSummary {
  std::string id;
  AgentReport report;
  int64_t last_seen_ms = 0;
  bool live = false;
  std::vector<std::string> jobs;
};

// A point-in-time view for metrics and dashboards (Stats()).
struct JobQueueStats {
  std::string queue;
  int queued = 0;
  int leased = 0;
  int running = 0;
  double oldest_wait_s = 0;  // the longest a queued job has waited since submission; 0 when none
};
struct JobStats {
  std::vector<JobQueueStats> queues;
  int agents_live = 0;
  int agents_lost = 0;
};

struct LogsPage {
  std::vector<JobLogChunk> chunks;
  int64_t next_after = 0;
  bool done = false;  // the job has ended and every chunk was returned
};

class JobService {
 public:
  struct Options {
    int64_t agent_timeout_ms = 30000;               // no heartbeat for this long = agent lost
    int64_t forget_lost_agent_ms = 15 * 60 * 1000;  // then listed as lost this long, then forgotten
    int64_t max_wait_ms = 30000;                    // longest lease/log long-poll
    size_t scan_limit = 512;                        // queued jobs examined per queue per lease decision
    int64_t max_log_chunk = 1 << 20;
    // Stored output per job (all attempts); past it output is dropped after one marker chunk, so a job that
    // prints forever cannot fill the disk.
    int64_t max_log_bytes_per_job = int64_t{256} << 20;
  };
  JobService(Options options, JobStore* store, TrackingService* tracking, Clock* clock, Random* random);
  ~JobService();

  Status Load();
  void Start();     // the sweeper: lease expiry, long-poll deadlines
  void Shutdown();  // answers pending long-polls, stops the sweeper

  // Queues. A queue exists once created here or named by an agent.
  Result<QueueInfo> PutQueue(QueueInfo q);
  std::vector<QueueSummary> ListQueues();
  // Also answers before Load() (on a replica that does not run the scheduler), from the job store.
  bool QueueExists(const std::string& name);

  // Resource tiers (admins define them; a job names one) and team quotas on queues (docs/jobs.md). Changes
  // are stored before they apply. A quota's queue must exist; quotas stated in a tier are resolved now.
  Result<ResourceTier> PutTier(ResourceTier tier);
  Status DeleteTier(const std::string& name);  // NotFound
  std::vector<ResourceTier> ListTiers();
  Result<TeamQuota> PutQuota(const std::string& json);                    // InvalidArgument, NotFound
  Status DeleteQuota(const std::string& queue, const std::string& team);  // NotFound
  std::vector<QuotaSummary> ListQuotas(const std::string& queue);         // "" = every queue
  // The team a job on `queue` is charged to when its submitter names none: the first of `teams` with a quota
  // on that queue; "" when none has one.
  std::string QuotaTeam(const std::string& queue, const std::vector<std::string>& teams);

  // Users. A spec naming a tier gets the tier's resources; a team past its max_queued quota is refused
  // (ResourceExhausted).
  // Told when a job starts running and when it ends (OpenLineage events, docs/data.md), outside the service's
  // lock; it must not block. Set before Start().
  enum class JobEvent { kStarted, kEnded };
  using JobObserver = std::function<void(const Job&, JobEvent)>;
  void SetObserver(JobObserver observer) { observer_ = std::move(observer); }

  void Submit(JobSpec spec, std::function<void(Result<Job>)> done);
  // Up to kMaxJobBatch jobs at once, all or none: their runs in one tracking transaction, the jobs in one
  // jobs.db transaction. Errors name the spec ("jobs[3]: ..."). Answers in the order given.
  void SubmitBatch(std::vector<JobSpec> specs, std::function<void(Result<std::vector<Job>>)> done);
  Result<Job> Get(const std::string& id);
  Result<std::vector<Job>> List(const JobListQuery& q);
  Result<Job> Abort(const std::string& id);
  void ReadLogs(const std::string& id, int64_t after, int64_t wait_ms,
                std::function<void(Result<LogsPage>)> done);

  // Agents.
  Result<std::string> RegisterAgent(const std::string& agent_id, AgentReport report);
  std::vector<AgentSummary> ListAgents();
  // Every live agent's GPU reservations (its running jobs' promised memory, by GPU UUID): what serving's GPU
  // admission subtracts on a machine it shares with an agent (docs/rollouts.md §9).
  std::vector<GpuReservation> GpuLedger();
  void Lease(const std::string& agent_id, AgentReport report, int64_t wait_ms,
             std::function<void(Result<std::optional<Job>>)> done);
  // Returns the agent's jobs whose abort was requested.
  Result<std::vector<std::string>> Heartbeat(const std::string& agent_id, AgentReport report);
  Status Started(const std::string& job_id, const std::string& agent_id);
  Result<int64_t> AppendLog(const std::string& job_id, const std::string& agent_id, const std::string& stream,
                            const std::string& data);
  Status Finish(const std::string& job_id, const std::string& agent_id, JobState state,
                const std::string& reason, std::optional<int> exit_code);
  // A clean stop: the agent is forgotten at once (not counted lost); jobs it still holds are requeued.
  Status Deregister(const std::string& agent_id);

  // For the benchmark and tests: runs one sweeper pass now.
  void Sweep();

  JobStats Stats();
  // Exports the job metrics (docs/jobs.md, "Metrics") on `metrics`: counters as jobs are leased, requeued
  // and end; gauges (queue depth, oldest wait, jobs and agents by state) at scrape time. Call once, before
  // Start(); `metrics` must outlive the service.
  void ExportMetrics(MetricsRegistry* metrics);

 private:
  struct Agent {
    std::string id;
    AgentReport report;
    int64_t last_seen_ms = 0;
    bool live = true;
  };
  struct LeaseWaiter {
    std::string agent_id;
    int64_t deadline_ms;
    std::function<void(Result<std::optional<Job>>)> done;
  };
  struct LogWaiter {
    std::string job_id;
    int64_t after;
    int64_t deadline_ms;
    std::function<void(Result<LogsPage>)> done;
  };
  struct PendingSubmit {  // one request's jobs: written in the same transaction
    std::vector<Job> jobs;
    std::function<void(Result<std::vector<Job>>)> done;
  };
  using Callbacks = std::vector<std::function<void()>>;
  using QueueKey = std::pair<std::pair<int, int64_t>, std::string>;  // (-priority, seq), id

  void DoShutdown();
  void SubmitLoop();
  void WriteSubmits(std::vector<PendingSubmit>& batch);  // one jobs.db transaction, then the answers
  Status Persist(const Job& job);
  void Enqueue(const Job& job) REQUIRES(mu_);
  void Dequeue(const Job& job) REQUIRES(mu_);
  int RunningIn(const std::string& queue) const REQUIRES(mu_);
  AgentView ViewOf(const Agent& a) const REQUIRES(mu_);
  void AdoptReport(Agent& a, AgentReport report) REQUIRES(mu_);
  std::optional<Job> TryLease(Agent& a) REQUIRES(mu_);
  void ServeWaiters(Callbacks* out) REQUIRES(mu_);
  void ForgetLease(const Job& job) REQUIRES(mu_);
  void EndJob(Job& job, JobState state, const std::string& reason, std::optional<int> exit_code,
              Callbacks* out) REQUIRES(mu_);
  void Requeue(Job& job, const std::string& why, Callbacks* out) REQUIRES(mu_);
  void MarkAgentLost(Agent& a, Callbacks* out) REQUIRES(mu_);
  void UpdateRun(const std::string& run_id, RunStatus status, bool ended);
  Result<LogsPage> LogsNow(const std::string& id, int64_t after);
  Agent* LiveAgent(const std::string& id) REQUIRES(mu_);
  void CountLease(const Job& job) REQUIRES(mu_);  // job_metrics.cc
  void CountEnd(const Job& job) REQUIRES(mu_);
  void CountRequeue(const Job& job) REQUIRES(mu_);
  void CollectMetrics();
  // job_service_quotas.cc
  using TeamKey = std::pair<std::string, std::string>;  // (queue, team)
  Status LoadPolicies() REQUIRES(mu_);
  void Charge(const Job& job, int queued, int running) REQUIRES(mu_);
  // Tier resolution and the max_queued check for a submission; reserves its queued slots (pending_).
  Status AdmitSpecs(std::vector<JobSpec>& specs) REQUIRES(mu_);
  void ReleasePending(const std::vector<Job>& jobs) REQUIRES(mu_);
  std::map<std::string, TeamQuotaView> QuotaViews(const std::string& queue) const REQUIRES(mu_);

  // Set once by ExportMetrics() before any job moves; the families live in the registry.
  MetricsRegistry* metrics_ = nullptr;
  MetricFamily* leases_ = nullptr;
  MetricFamily* finished_ = nullptr;
  MetricFamily* requeues_ = nullptr;
  MetricFamily* wait_ = nullptr;
  int collector_ = 0;

  const Options options_;
  JobStore* store_;
  TrackingService* tracking_;
  Clock* clock_;
  Random* random_;

  Mutex mu_;
  int64_t next_seq_ GUARDED_BY(mu_) = 1;
  bool loaded_ GUARDED_BY(mu_) = false;  // Load() ran: the working set is here
  std::map<std::string, QueueInfo> queues_ GUARDED_BY(mu_);
  std::map<std::string, Job> active_ GUARDED_BY(mu_);  // queued, leased, running
  std::map<std::string, std::set<QueueKey>> queued_ GUARDED_BY(mu_);
  std::map<std::string, std::multiset<int64_t>> queued_since_ GUARDED_BY(mu_);  // created_ms of queued jobs
  std::map<std::string, int> running_ GUARDED_BY(mu_);                          // per queue
  std::map<std::string, Agent> agents_ GUARDED_BY(mu_);
  std::map<std::string, ResourceTier> tiers_ GUARDED_BY(mu_);
  std::map<TeamKey, TeamQuota> quotas_ GUARDED_BY(mu_);
  std::map<TeamKey, TeamUsage> usage_ GUARDED_BY(mu_);  // jobs with a team, whether or not it has a quota
  std::map<TeamKey, int> pending_ GUARDED_BY(mu_);      // submissions admitted, not yet queued
  std::map<std::string, std::set<std::string>> agent_jobs_ GUARDED_BY(mu_);  // leased + running per agent
  std::list<LeaseWaiter> lease_waiters_ GUARDED_BY(mu_);
  std::list<LogWaiter> log_waiters_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::condition_variable cv_;
  std::thread sweeper_;
  std::once_flag shutdown_once_;
  Mutex submit_mu_;
  std::condition_variable submit_cv_;
  std::unordered_map<std::string, int64_t> log_bytes_ GUARDED_BY(mu_);  // stored output of active jobs
  std::vector<PendingSubmit> submits_ GUARDED_BY(submit_mu_);           // runs created, jobs not yet written
  bool submit_stop_ GUARDED_BY(submit_mu_) = false;
  std::thread submitter_;
  JobObserver observer_;
};

}  // namespace tamga
