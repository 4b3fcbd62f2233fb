#include "agent/agent.h"

#include "core/subprocess.h"
#include "core/json_parse.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/port_file.h"
#include "gpu/gpu_metrics.h"
#include "http/http_server.h"
#include "http/router.h"
#include "agent/agent_client.h"
#include "agent/env_capture.h"
#include "agent/host_info.h"
#include "jobs/job_wire.h"
#include "core/mutex.h"


namespace tamga {
namespace fs = std::filesystem;

namespace {

using SteadyClock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

}  // namespace

struct JobAgent::Impl {
  struct Running {
    Job job;
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
  MetricFamily* finished_total = metrics.Counter("tamga_agent_jobs_finished_total", "Jobs this agent ended, by state");
  Router router;
  std::unique_ptr<HttpServer> metrics_server;
  std::thread metrics_thread;

  Impl(AgentConfig c, std::unique_ptr<GpuProbe> p) : cfg(std::move(c)), probe(std::move(p)), client(cfg.server) {}

  GpuSnapshot Snap() {
    MutexLock l(&probe_mu);
    if (probe) snapshot = probe->Snapshot();
    snapshot_at = SteadyClock::now();
    return snapshot;
  }

  // For scrapes: a snapshot at most 1 s old, so a scrape storm does not turn into an NVML storm.
  GpuSnapshot RecentSnap() {
    {
      MutexLock l(&probe_mu);
      if (SteadyClock::now() - snapshot_at < std::chrono::seconds(1)) return snapshot;
    }
    return Snap();
  }

  std::string RenderMetrics() {
    std::vector<GpuJobUse> uses;
    {
      MutexLock l(&mu);
      for (const auto& [id, run] : running) {
        pid_t g = run->pgid;
        if (g == -2) continue;
        uses.push_back({id, run->job.spec.queue, run->job.gpu_uuids, g > 0 ? GroupPids(g) : std::vector<uint32_t>{}});
      }
    }
    GpuMetricsContext ctx;
    ctx.hostname = cfg.name;
    ctx.gpus_enabled = probe != nullptr;
    ctx.disabled_reason = "GPUs disabled (--gpus none)";
    ctx.offered_uuids.assign(allowed.begin(), allowed.end());
    return RenderGpuMetrics(RecentSnap(), uses, ctx) + metrics.Render();
  }

  // Starts /metrics on its own thread; a failure is logged, not fatal.
  void StartMetrics() {
    if (cfg.metrics_port < 0) return;
    router.Add(HttpMethod::kGet, "/metrics", [this](HttpRequest&, Responder respond) {
      respond(HttpResponse::Text(RenderMetrics(), 200, "text/plain; version=0.0.4; charset=utf-8"));
    });
    router.Add(HttpMethod::kGet, "/health", [](HttpRequest&, Responder respond) { respond(HttpResponse::Text("OK")); });
    HttpServer::Options o;
    o.host = cfg.metrics_host;
    o.port = cfg.metrics_port;
    o.threads = 1;
    o.handle_signals = false;
    o.drain_timeout_ms = 2000;
    o.max_body_bytes = 64 << 10;
    o.max_upload_bytes = 0;
    auto server = HttpServer::Create(o, &router, &metrics, &clock);
    if (!server.ok()) {
      TAMGA_LOG(kError, "cannot serve agent metrics; running without /metrics",
                {{"host", cfg.metrics_host}, {"port", std::to_string(cfg.metrics_port)}, {"error", server.status().message()}});
      return;
    }
    metrics_server = std::move(*server);
    WritePortFile(cfg.metrics_port_file, metrics_server->port());
    TAMGA_LOG(kInfo, "agent metrics", {{"url", "http://" + cfg.metrics_host + ":" + std::to_string(metrics_server->port()) + "/metrics"}});
    metrics_thread = std::thread([this] { metrics_server->Run(); });
  }

  void StopMetrics() {
    if (!metrics_server) return;
    metrics_server->Shutdown();
    if (metrics_thread.joinable()) metrics_thread.join();
  }

  AgentReport Report() {
    AgentReport r;
    r.name = cfg.name;
    r.queues = cfg.queues;
    r.cpus = cfg.cpus;
    r.memory_bytes = cfg.memory_bytes;
    GpuSnapshot s = Snap();
    r.gpus_enabled = probe && s.available;
    r.gpu_error = !probe ? "GPUs disabled (--gpus none)" : s.error;
    if (r.gpus_enabled) r.gpus = s.gpus;
    r.allowed_gpus = allowed;
    MutexLock l(&mu);
    for (const auto& [id, run] : running) {
      pid_t g = run->pgid;
      if (g == -2) continue;  // finished and reported; reaped by the lease loop
      r.job_pids[id] = g > 0 ? GroupPids(g) : std::vector<uint32_t>{};
    }
    return r;
  }

  void ResolveAllowedGpus() {
    if (!probe || cfg.gpus == "all" || cfg.gpus.empty()) return;
    GpuSnapshot s = Snap();
    std::stringstream ss(cfg.gpus);
    std::string item;
    while (std::getline(ss, item, ',')) {
      for (const auto& g : s.gpus) {
        if (item == g.uuid || item == std::to_string(g.index)) allowed.insert(g.uuid);
      }
    }
    if (allowed.empty()) allowed.insert("none-matched");  // nothing of --gpus exists: offer no GPU
  }

  Status Register() {
    std::string state = cfg.state_file.empty() ? cfg.work_dir + "/agent-id" : cfg.state_file;
    std::string known;
    std::ifstream(state) >> known;
    nlohmann::json body = {{"agent_id", known}, {"report", nlohmann::json::parse(AgentReportJson(Report()))}};
    auto r = client.Post("/api/2.0/tamga/agents/register", body);
    if (!r.ok()) return r.status();
    agent_id = r->value("agent_id", "");
    std::ofstream(state) << agent_id << "\n";
    return Status::Ok();
  }

  // Retries a report to the server until it lands or the server refuses it for good.
  Status Deliver(const std::string& path, const nlohmann::json& body, int attempts = 600) {
    Status last = Status::Ok();
    for (int i = 0; i < attempts; ++i) {
      auto r = client.Post(path, body);
      if (r.ok()) return Status::Ok();
      last = r.status();
      if (last.code() != StatusCode::kUnavailable) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 100 * (i + 1))));
    }
    return last;
  }

  void SendLogs(const std::string& job_id, const std::string& stream, std::string& buf) {
    if (buf.empty()) return;
    std::string data = SanitizeUtf8(buf);
    buf.clear();
    nlohmann::json body = {{"agent_id", agent_id}, {"stream", stream}, {"data", data}};
    Status s = Deliver("/api/2.0/tamga/jobs/" + job_id + "/logs", body, 30);
    if (!s.ok()) TAMGA_LOG(kWarn, "cannot send job logs", {{"job", job_id}, {"error", s.message()}});
  }

  void Finish(const std::string& job_id, JobState state, const std::string& reason, std::optional<int> code) {
    finished_total->Add({{"state", JobStateName(state)}}, 1);
    nlohmann::json body = {{"agent_id", agent_id}, {"state", JobStateName(state)}, {"reason", reason}};
    if (code) body["exit_code"] = *code;
    Status s = Deliver("/api/2.0/tamga/jobs/" + job_id + "/finish", body);
    if (s.ok()) {
      TAMGA_LOG(kInfo, "job finished", {{"job", job_id}, {"state", JobStateName(state)}, {"reason", reason}});
    } else {
      TAMGA_LOG(kWarn, "job finished but the server did not take the report",
                {{"job", job_id}, {"state", JobStateName(state)}, {"error", s.message()}});
    }
  }

  // Sends what CaptureEnvironment found (run tags and files under the run's artifacts "tamga/").
  void UploadEnvironment(const Job& job, const CapturedEnvironment& ce, double start_overhead_ms) {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& [k, v] : ce.tags) tags.push_back({{"key", k}, {"value", v}});
    tags.push_back({{"key", "tamga.job.agent"}, {"value", cfg.name}});
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%.2f", start_overhead_ms);
    tags.push_back({{"key", "tamga.job.start_overhead_ms"}, {"value", ms}});
    auto r = client.Post("/api/2.0/mlflow/runs/log-batch", {{"run_id", job.run_id}, {"tags", tags}});
    if (!r.ok()) TAMGA_LOG(kWarn, "cannot record the job's environment", {{"job", job.id}, {"error", r.status().message()}});
    std::string exp = job.spec.experiment_id.empty() ? std::string("0") : job.spec.experiment_id;
    for (const auto& [path, content] : ce.files) {
      Status s = client.Put("/api/2.0/mlflow-artifacts/artifacts/" + exp + "/" + job.run_id + "/artifacts/" + path, content);
      if (!s.ok()) TAMGA_LOG(kWarn, "cannot upload an environment file", {{"job", job.id}, {"path", path}, {"error", s.message()}});
    }
  }

  // Stops the job's process group: SIGTERM, the grace period, SIGKILL. Returns when the main process ended.
  void Terminate(Running& r, pid_t pid, int* status) {
    pid_t g = r.pgid;
    if (g > 0) kill(-g, SIGTERM);
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(cfg.grace_ms);
    while (SteadyClock::now() < deadline) {
      if (waitpid(pid, status, WNOHANG) == pid) {
        if (g > 0) kill(-g, SIGKILL);  // stragglers of the group
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (g > 0) kill(-g, SIGKILL);
    waitpid(pid, status, 0);
  }

  // After an abort, the GPUs go back to the pool only once NVML no longer lists the job's processes.
  void WaitGpuRelease(const Job& job, const std::vector<uint32_t>& pids) {
    if (!probe || job.gpu_uuids.empty() || pids.empty()) return;
    auto deadline = SteadyClock::now() + std::chrono::seconds(30);
    while (SteadyClock::now() < deadline) {
      GpuSnapshot s = Snap();
      bool held = false;
      for (const auto& g : s.gpus) {
        for (const auto& p : g.processes) {
          for (uint32_t pid : pids) held = held || p.pid == pid;
        }
      }
      if (!held) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    TAMGA_LOG(kWarn, "the job's processes still hold GPU memory 30 s after the abort", {{"job", job.id}});
  }

  void RunJob(std::shared_ptr<Running> r) {
    const Job& job = r->job;
    std::string dir = job.spec.working_dir;
    std::error_code ec;
    if (dir.empty()) {
      dir = fs::absolute(cfg.work_dir).string() + "/jobs/" + job.id;
      fs::create_directories(dir, ec);
      if (ec) return Finish(job.id, JobState::kLost, "agent cannot create " + dir + ": " + ec.message(), std::nullopt);
    } else if (!fs::is_directory(dir, ec)) {
      return Finish(job.id, JobState::kFailed, "working_dir " + dir + " does not exist on agent " + cfg.name, std::nullopt);
    }
    if (!job.spec.git_repo.empty()) {
      std::string src = dir + "/src";
      auto c = RunAndCapture({"git", "clone", "--quiet", "--", job.spec.git_repo, src}, dir, 1 << 20, 600000);
      if (!c.ok()) return Finish(job.id, JobState::kFailed, "git clone " + job.spec.git_repo + " failed", std::nullopt);
      if (!job.spec.git_commit.empty()) {
        auto co = RunAndCapture({"git", "checkout", "--quiet", job.spec.git_commit, "--"}, src, 1 << 20, 60000);
        if (!co.ok()) return Finish(job.id, JobState::kFailed, "git checkout " + job.spec.git_commit + " failed", std::nullopt);
      }
      dir = src;
    }
    // The job's environment: what a program needs to run (MinimalEnvironment: not the agent's credentials), the
    // spec's own variables, then what Tamga sets.
    std::map<std::string, std::string> env;
    for (const auto& kv : MinimalEnvironment()) env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    for (const auto& [k, v] : job.spec.env) env[k] = v;
    std::string visible;
    for (const auto& u : job.gpu_uuids) visible += (visible.empty() ? "" : ",") + u;
    env["CUDA_VISIBLE_DEVICES"] = visible;  // by UUID; empty hides every GPU from a CPU job
    env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
    env["MLFLOW_TRACKING_URI"] = cfg.server;
    env["MLFLOW_RUN_ID"] = job.run_id;
    env["TAMGA_JOB_ID"] = job.id;
    // Captured before the job can change anything; sent once it runs (off the start path).
    CapturedEnvironment captured = CaptureEnvironment(dir, job.spec.command, env, Snap(), job.gpu_uuids);

    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
      return Finish(job.id, JobState::kLost, "agent cannot create pipes", std::nullopt);
    }
    SpawnOptions so;
    so.argv = job.spec.command;
    so.working_dir = dir;
    so.env = MinimalEnvironment(env);
    so.stdout_fd = out_pipe[1];
    so.stderr_fd = err_pipe[1];
    int64_t ooms_before = OomKills();
    auto spawned = Spawn(so);  // own process group: abort and timeout signal the whole tree
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (!spawned.ok()) {
      close(out_pipe[0]);
      close(err_pipe[0]);
      const std::string& program = job.spec.command[0];
      std::string why = spawned.status().code() == StatusCode::kNotFound
                            ? "command not found: " + program
                            : "cannot start " + program + ": " + spawned.status().message();
      std::string line = why + "\n";
      SendLogs(job.id, "agent", line);
      UploadEnvironment(job, captured, 0);
      return Finish(job.id, JobState::kFailed, why, std::nullopt);
    }
    pid_t pid = *spawned;
    r->pgid = pid;
    double overhead_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - r->leased_at).count();
    (void)Deliver("/api/2.0/tamga/jobs/" + job.id + "/started", {{"agent_id", agent_id}}, 30);
    UploadEnvironment(job, captured, overhead_ms);

    std::string bufs[2];
    const char* names[2] = {"stdout", "stderr"};
    int fds[2] = {out_pipe[0], err_pipe[0]};
    bool open_fd[2] = {true, true};
    auto start = SteadyClock::now();
    auto last_flush = start;
    bool exited = false, timed_out = false, aborted = false, shutdown = false;
    int status = 0;
    SteadyClock::time_point exited_at;
    std::vector<uint32_t> pids_seen;
    auto next_pid_scan = start;
    char chunk[65536];
    while (open_fd[0] || open_fd[1]) {
      pollfd p[2];
      int n = 0;
      for (int i = 0; i < 2; ++i) {
        if (open_fd[i]) p[n++] = {fds[i], POLLIN, 0};
      }
      poll(p, n, 100);
      for (int k = 0; k < n; ++k) {
        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int i = p[k].fd == fds[0] ? 0 : 1;
        ssize_t got = read(fds[i], chunk, sizeof(chunk));
        if (got <= 0) {
          open_fd[i] = false;
          continue;
        }
        bufs[i].append(chunk, got);
      }
      auto now = SteadyClock::now();
      if (now >= next_pid_scan) {  // for the GPU release check after an abort
        for (uint32_t gp : GroupPids(pid)) {
          if (std::find(pids_seen.begin(), pids_seen.end(), gp) == pids_seen.end()) pids_seen.push_back(gp);
        }
        next_pid_scan = now + std::chrono::seconds(1);
      }
      if (now - last_flush > std::chrono::milliseconds(250) || bufs[0].size() + bufs[1].size() > (256 << 10)) {
        for (int i = 0; i < 2; ++i) SendLogs(job.id, names[i], bufs[i]);
        last_flush = now;
      }
      if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        exited_at = now;
      }
      if (exited && now - exited_at > std::chrono::seconds(2)) {
        kill(-pid, SIGKILL);  // background processes of the job keep the pipes open; they end with it
        break;
      }
      if (!exited && (r->abort || r->stop_for_shutdown ||
                      (job.spec.timeout_s > 0 && now - start > std::chrono::seconds(job.spec.timeout_s)))) {
        aborted = r->abort;
        shutdown = !aborted && r->stop_for_shutdown;
        timed_out = !aborted && !shutdown;
        std::string note = std::string(aborted ? "abort requested" : shutdown ? "agent stopping" : "timeout") +
                           ": SIGTERM to the process group, SIGKILL after " + std::to_string(cfg.grace_ms) + " ms\n";
        SendLogs(job.id, "agent", note);
        Terminate(*r, pid, &status);
        exited = true;
        exited_at = SteadyClock::now();
      }
    }
    if (!exited) waitpid(pid, &status, 0);
    for (int i = 0; i < 2; ++i) {
      close(fds[i]);
      SendLogs(job.id, names[i], bufs[i]);
    }
    if (aborted) {
      WaitGpuRelease(job, pids_seen);
      return Finish(job.id, JobState::kAborted, "aborted by user", std::nullopt);
    }
    if (shutdown) return Finish(job.id, JobState::kLost, "agent " + cfg.name + " stopped while the job ran", std::nullopt);
    if (timed_out) return Finish(job.id, JobState::kFailed, "timeout after " + std::to_string(job.spec.timeout_s) + " s", std::nullopt);
    if (WIFEXITED(status)) {
      int code = WEXITSTATUS(status);
      return Finish(job.id, code == 0 ? JobState::kSucceeded : JobState::kFailed, code == 0 ? "" : DescribeWaitStatus(status), code);
    }
    std::string why = DescribeWaitStatus(status);
    int64_t ooms_after = OomKills();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && ooms_before >= 0 && ooms_after > ooms_before) {
      why = "oom: killed by the kernel's OOM killer";
    }
    Finish(job.id, JobState::kFailed, why, std::nullopt);
  }

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

  void HeartbeatLoop() {
    while (!g_stop) Contained("heartbeat", [this] { HeartbeatOnce(); });
  }

  void HeartbeatOnce() {
    {
      for (int i = 0; i < cfg.heartbeat_ms / 50 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (g_stop) return;
      auto r = client.Post("/api/2.0/tamga/agents/" + agent_id + "/heartbeat",
                           {{"report", nlohmann::json::parse(AgentReportJson(Report()))}});
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kNotFound) {
          TAMGA_LOG(kWarn, "the server does not know this agent (it was declared lost); registering again");
          (void)Register();
        }
        return;
      }
      auto abort_it = r->find("abort");
      if (abort_it == r->end() || !abort_it->is_array()) return;
      MutexLock l(&mu);
      for (const auto& entry : *abort_it) {
        if (!entry.is_string()) continue;
        const std::string id = entry.get<std::string>();
        auto it = running.find(id);
        if (it != running.end() && !it->second->abort.exchange(true)) {
          TAMGA_LOG(kInfo, "abort requested", {{"job", id}});
        }
      }
    }
  }

  void Reap(bool all) {
    std::vector<std::shared_ptr<Running>> done;
    {
      MutexLock l(&mu);
      for (auto it = running.begin(); it != running.end();) {
        if (all || it->second->pgid == -2) {
          done.push_back(it->second);
          it = running.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& d : done) {
      if (d->thread.joinable()) d->thread.join();
    }
  }

  Status Loop() {
    for (int attempt = 0;; ++attempt) {
      Status s = Register();
      if (s.ok()) break;
      if (s.code() != StatusCode::kUnavailable || g_stop) return s;
      TAMGA_LOG(kWarn, "cannot register with the server; retrying", {{"error", s.message()}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    TAMGA_LOG(kInfo, "agent ready", {{"agent", agent_id}, {"server", cfg.server}, {"gpus", gpu_error.empty() ? "on" : gpu_error}});
    std::thread hb([this] { HeartbeatLoop(); });
    while (!g_stop) Contained("lease", [this] { LeaseOnce(); });
    TAMGA_LOG(kInfo, "agent stopping; ending running jobs");
    {
      MutexLock l(&mu);
      for (auto& [id, run] : running) run->stop_for_shutdown = true;
    }
    Reap(true);
    hb.join();
    return Status::Ok();
  }

  void LeaseOnce() {
    {
      Reap(false);
      auto r = client.Post("/api/2.0/tamga/agents/" + agent_id + "/lease",
                           {{"report", nlohmann::json::parse(AgentReportJson(Report()))}, {"wait_ms", cfg.lease_wait_ms}},
                           cfg.lease_wait_ms + 15000);
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kNotFound) (void)Register();
        else std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return;
      }
      if (!r->contains("job")) return;
      auto job = JobFromJson(DumpJson((*r)["job"]));
      if (!job.ok()) {
        TAMGA_LOG(kError, "cannot read a leased job", {{"error", job.status().message()}});
        return;
      }
      auto run = std::make_shared<Running>();
      run->job = *job;
      TAMGA_LOG(kInfo, "job leased", {{"job", job->id}, {"gpus", std::to_string(job->gpu_uuids.size())}});
      MutexLock l(&mu);
      running[job->id] = run;
      run->thread = std::thread([this, run] {
        Contained("run job", [&] { RunJob(run); });
        run->pgid = -2;  // finished: reaped by the loop
      });
    }
  }
};

JobAgent::JobAgent(AgentConfig config, std::unique_ptr<GpuProbe> probe)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(probe))) {}
JobAgent::~JobAgent() = default;

Status JobAgent::Run() {
  auto& c = impl_->cfg;
  if (c.server.empty()) return InvalidArgument("--server is required");
  if (c.queues.empty()) return InvalidArgument("at least one --queue is required");
  if (c.cpus <= 0) c.cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (c.memory_bytes < 0) c.memory_bytes = MemTotal();
  if (c.name.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    c.name = host;
  }
  std::error_code ec;
  fs::create_directories(c.work_dir, ec);
  if (ec) return InvalidArgument("cannot create --work-dir " + c.work_dir + ": " + ec.message());
  if (impl_->probe) {
    GpuSnapshot s = impl_->Snap();
    if (!s.available) impl_->gpu_error = s.error;
    impl_->ResolveAllowedGpus();
  }
  // Warm the pip-freeze cache now, so the first job does not pay for it.
  std::thread([] { (void)CaptureEnvironment("/", {}, {}, GpuSnapshot{}, {}); }).detach();
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  impl_->StartMetrics();
  Status s = impl_->Loop();
  impl_->StopMetrics();
  return s;
}

}  // namespace tamga
