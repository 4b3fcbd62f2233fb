#pragma once
// Internal to tamga_agent: the agent's state (JobAgent::Impl), shared by agent.cc (registration, the lease
// and heartbeat loops, /metrics) and agent_job.cc (one job's life: prepare, spawn, stream, abort, finish).
// Not a public header.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent.h"
#include "agent/agent_client.h"
#include "agent/env_capture.h"
#include "core/client_credentials.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "http/http_server.h"
#include "http/router.h"
#include "jobs/job_wire.h"

namespace tamga {

using SteadyClock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: the loops stop leasing and the running jobs are ended.
inline std::atomic<bool> g_agent_stop{false};

struct JobAgent::Impl {
  struct Running {
    Job job;
    std::string tracking_token;  // the submitter's token for this job (auth on), from the lease
    SteadyClock::time_point leased_at = SteadyClock::now();
    std::atomic<pid_t> pgid{-1};
    std::atomic<bool> abort{false};
    std::atomic<bool> stop_for_shutdown{false};
    std::thread thread;
  };

  AgentConfig cfg;
  std::unique_ptr<GpuProbe> probe;
  AgentClient client;
  std::string agent_id;
  std::string gpu_error;
  std::set<std::string> allowed;  // UUIDs from --gpus
  Mutex mu;
  std::map<std::string, std::shared_ptr<Running>> running GUARDED_BY(mu);
  Mutex probe_mu;
  GpuSnapshot snapshot GUARDED_BY(probe_mu);
  SteadyClock::time_point snapshot_at GUARDED_BY(probe_mu);
  // /metrics
  SystemClock clock;
  MetricsRegistry metrics;
  MetricFamily* finished_total =
      metrics.Counter("tamga_agent_jobs_finished_total", "Jobs this agent ended, by state");
  Router router;
  std::unique_ptr<HttpServer> metrics_server;
  std::thread metrics_thread;

  Impl(AgentConfig c, std::unique_ptr<GpuProbe> p)
      : cfg(std::move(c)), probe(std::move(p)), client(cfg.server, ClientAuthorization(cfg.token)) {}

  GpuSnapshot Snap();

  // For scrapes: a snapshot at most 1 s old, so a scrape storm does not turn into an NVML storm.
  GpuSnapshot RecentSnap();

  std::string RenderMetrics();

  // Starts /metrics on its own thread; a failure is logged, not fatal.
  void StartMetrics();

  void StopMetrics();

  AgentReport Report();

  void ResolveAllowedGpus();

  Status Register();

  // Retries a report to the server until it lands or the server refuses it for good.
  Status Deliver(const std::string& path, const nlohmann::json& body, int attempts = 600);

  void SendLogs(const std::string& job_id, const std::string& stream, std::string& buf);

  void Finish(const std::string& job_id, JobState state, const std::string& reason, std::optional<int> code);

  // Sends what CaptureEnvironment found (run tags and files under the run's artifacts "tamga/").
  // With the job's own token when it has one (auth on: the run is its submitter's, not the agent's).
  void UploadEnvironment(const Running& r, const CapturedEnvironment& ce, double start_overhead_ms);

  // Stops the job's process group: SIGTERM, the grace period, SIGKILL. Returns when the main process ended.
  void Terminate(Running& r, pid_t pid, int* status);

  // After an abort, the GPUs go back to the pool only once NVML no longer lists the job's processes.
  void WaitGpuRelease(const Job& job, const std::vector<uint32_t>& pids);

  void RunJob(std::shared_ptr<Running> r);

  // One step of a loop, with exceptions contained: a malformed server answer or a library error is logged and
  // the agent keeps running its jobs.
  template <typename Fn>
  static void Contained(const char* what, Fn&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      TAMGA_LOG(kError, "agent step failed", {{"step", what}, {"error", e.what()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } catch (...) {
      TAMGA_LOG(kError, "agent step failed", {{"step", what}, {"error", "unknown exception"}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  void HeartbeatLoop();

  void HeartbeatOnce();

  void Reap(bool all);

  Status Loop();

  void LeaseOnce();
};

}  // namespace tamga
