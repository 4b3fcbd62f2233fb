#include "agent/agent.h"

#include "agent/agent_impl.h"

#include "core/json_parse.h"
#include "core/subprocess.h"

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

#include "agent/agent_client.h"
#include "agent/env_capture.h"
#include "agent/host_info.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/port_file.h"
#include "gpu/gpu_metrics.h"
#include "http/http_server.h"
#include "http/router.h"
#include "jobs/job_wire.h"

namespace tamga {
namespace fs = std::filesystem;

namespace {

void OnSignal(int) { g_agent_stop = true; }

}  // namespace

GpuSnapshot JobAgent::Impl::Snap() {
  MutexLock l(&probe_mu);
  if (probe) snapshot = probe->Snapshot();
  snapshot_at = SteadyClock::now();
  return snapshot;
}

GpuSnapshot JobAgent::Impl::RecentSnap() {
  {
    MutexLock l(&probe_mu);
    if (SteadyClock::now() - snapshot_at < std::chrono::seconds(1)) return snapshot;
  }
  return Snap();
}

std::string JobAgent::Impl::RenderMetrics() {
  std::vector<GpuJobUse> uses;
  {
    MutexLock l(&mu);
    for (const auto& [id, run] : running) {
      pid_t g = run->pgid;
      if (g == -2) continue;
      uses.push_back(
          {id, run->job.spec.queue, run->job.gpu_uuids, g > 0 ? GroupPids(g) : std::vector<uint32_t>{}});
    }
  }
  GpuMetricsContext ctx;
  ctx.hostname = cfg.name;
  ctx.gpus_enabled = probe != nullptr;
  ctx.disabled_reason = "GPUs disabled (--gpus none)";
  ctx.offered_uuids.assign(allowed.begin(), allowed.end());
  return RenderGpuMetrics(RecentSnap(), uses, ctx) + metrics.Render();
}

void JobAgent::Impl::StartMetrics() {
  if (cfg.metrics_port < 0) return;
  router.Add(HttpMethod::kGet, "/metrics", [this](HttpRequest&, Responder respond) {
    respond(HttpResponse::Text(RenderMetrics(), 200, "text/plain; version=0.0.4; charset=utf-8"));
  });
  router.Add(HttpMethod::kGet, "/health",
             [](HttpRequest&, Responder respond) { respond(HttpResponse::Text("OK")); });
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
              {{"host", cfg.metrics_host},
               {"port", std::to_string(cfg.metrics_port)},
               {"error", server.status().message()}});
    return;
  }
  metrics_server = std::move(*server);
  WritePortFile(cfg.metrics_port_file, metrics_server->port());
  TAMGA_LOG(
      kInfo, "agent metrics",
      {{"url", "http://" + cfg.metrics_host + ":" + std::to_string(metrics_server->port()) + "/metrics"}});
  metrics_thread = std::thread([this] { metrics_server->Run(); });
}

void JobAgent::Impl::StopMetrics() {
  if (!metrics_server) return;
  metrics_server->Shutdown();
  if (metrics_thread.joinable()) metrics_thread.join();
}

AgentReport JobAgent::Impl::Report() {
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

void JobAgent::Impl::ResolveAllowedGpus() {
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

Status JobAgent::Impl::Register() {
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

Status JobAgent::Impl::Deliver(const std::string& path, const nlohmann::json& body, int attempts) {
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

void JobAgent::Impl::HeartbeatLoop() {
  while (!g_agent_stop) Contained("heartbeat", [this] { HeartbeatOnce(); });
}

void JobAgent::Impl::HeartbeatOnce() {
  {
    for (int i = 0; i < cfg.heartbeat_ms / 50 && !g_agent_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_agent_stop) return;
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

void JobAgent::Impl::Reap(bool all) {
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

Status JobAgent::Impl::Loop() {
  for (int attempt = 0;; ++attempt) {
    Status s = Register();
    if (s.ok()) break;
    if (s.code() != StatusCode::kUnavailable || g_agent_stop) return s;
    TAMGA_LOG(kWarn, "cannot register with the server; retrying", {{"error", s.message()}});
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  TAMGA_LOG(kInfo, "agent ready",
            {{"agent", agent_id},
             {"server", cfg.server},
             {"gpus", !probe              ? "off (--gpus none)"
                      : gpu_error.empty() ? "on"
                                          : gpu_error}});
  std::thread hb([this] { HeartbeatLoop(); });
  while (!g_agent_stop) Contained("lease", [this] { LeaseOnce(); });
  TAMGA_LOG(kInfo, "agent stopping; ending running jobs");
  {
    MutexLock l(&mu);
    for (auto& [id, run] : running) run->stop_for_shutdown = true;
  }
  Reap(true);
  hb.join();
  // A clean stop is not a lost agent: the server forgets this one at once (its jobs were reported above).
  auto d = client.Post("/api/2.0/tamga/agents/" + agent_id + "/deregister",
                       {{"report", nlohmann::json::parse(AgentReportJson(Report()))}}, 5000);
  if (!d.ok()) TAMGA_LOG(kWarn, "cannot deregister from the server", {{"error", d.status().message()}});
  return Status::Ok();
}

void JobAgent::Impl::LeaseOnce() {
  {
    Reap(false);
    auto r = client.Post(
        "/api/2.0/tamga/agents/" + agent_id + "/lease",
        {{"report", nlohmann::json::parse(AgentReportJson(Report()))}, {"wait_ms", cfg.lease_wait_ms}},
        cfg.lease_wait_ms + 15000);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound)
        (void)Register();
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
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
    if (auto t = r->find("tracking_token"); t != r->end() && t->is_string())
      run->tracking_token = t->get<std::string>();
    TAMGA_LOG(kInfo, "job leased", {{"job", job->id}, {"gpus", std::to_string(job->gpu_uuids.size())}});
    MutexLock l(&mu);
    running[job->id] = run;
    run->thread = std::thread([this, run] {
      Contained("run job", [&] { RunJob(run); });
      // The scratch folder the agent made for the job goes with it (its outputs belong in the run).
      if (run->job.spec.working_dir.empty() && !cfg.keep_job_dirs) {
        std::error_code ec;
        fs::remove_all(fs::absolute(cfg.work_dir).string() + "/jobs/" + run->job.id, ec);
      }
      run->pgid = -2;  // finished: reaped by the loop
    });
  }
}

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

std::string CheckGpuSelection(const std::string& v) {
  if (v == "all" || v == "none") return "";
  size_t pos = 0;
  for (;;) {
    size_t comma = v.find(',', pos);
    std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    bool index = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos;
    bool uuid = item.rfind("GPU-", 0) == 0 || item.rfind("MIG-", 0) == 0;
    if (!index && !uuid) return "'" + item + "' is not all, none, an NVML index or a GPU-/MIG- UUID";
    if (comma == std::string::npos) return "";
    pos = comma + 1;
  }
}

}  // namespace tamga
