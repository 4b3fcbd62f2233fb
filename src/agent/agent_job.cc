// One job's life on the agent: scratch directory and git checkout, environment capture, spawn in its own
// process group with a minimal environment, streamed output, abort/timeout, GPU release, the outcome.
#include "agent/agent_impl.h"
#include "agent/job_data.h"

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
#include "agent/job_code.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/port_file.h"
#include "core/secrets.h"
#include "gpu/gpu_metrics.h"
#include "http/http_server.h"
#include "http/router.h"
#include "jobs/job_wire.h"

namespace tamga {
namespace fs = std::filesystem;

void JobAgent::Impl::SendLogs(const std::string& job_id, const std::string& stream, std::string& buf) {
  if (buf.empty()) return;
  std::string data = SanitizeUtf8(buf);
  buf.clear();
  nlohmann::json body = {{"agent_id", agent_id}, {"stream", stream}, {"data", data}};
  Status s = Deliver("/api/2.0/tamga/jobs/" + job_id + "/logs", body, 30);
  if (!s.ok()) TAMGA_LOG(kWarn, "cannot send job logs", {{"job", job_id}, {"error", s.message()}});
}

void JobAgent::Impl::Finish(const std::string& job_id, JobState state, const std::string& reason,
                            std::optional<int> code) {
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

void JobAgent::Impl::UploadEnvironment(const Running& running, const CapturedEnvironment& ce,
                                       double start_overhead_ms) {
  const Job& job = running.job;
  AgentClient run_client =
      running.tracking_token.empty() ? client : AgentClient(cfg.server, "Bearer " + running.tracking_token);
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& [k, v] : ce.tags) tags.push_back({{"key", k}, {"value", v}});
  tags.push_back({{"key", "tamga.job.agent"}, {"value", cfg.name}});
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.2f", start_overhead_ms);
  tags.push_back({{"key", "tamga.job.start_overhead_ms"}, {"value", ms}});
  auto r = run_client.Post("/api/2.0/mlflow/runs/log-batch", {{"run_id", job.run_id}, {"tags", tags}});
  if (!r.ok())
    TAMGA_LOG(kWarn, "cannot record the job's environment",
              {{"job", job.id}, {"error", r.status().message()}});
  std::string exp = job.spec.experiment_id.empty() ? std::string("0") : job.spec.experiment_id;
  for (const auto& [path, content] : ce.files) {
    Status s = run_client.Put(
        "/api/2.0/mlflow-artifacts/artifacts/" + exp + "/" + job.run_id + "/artifacts/" + path, content);
    if (!s.ok())
      TAMGA_LOG(kWarn, "cannot upload an environment file",
                {{"job", job.id}, {"path", path}, {"error", s.message()}});
  }
}

void JobAgent::Impl::Terminate(Running& r, pid_t pid, int* status) {
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

void JobAgent::Impl::WaitGpuRelease(const Job& job, const std::vector<uint32_t>& pids) {
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

void JobAgent::Impl::RunJob(std::shared_ptr<Running> r) {
  const Job& job = r->job;
  std::string dir = job.spec.working_dir;
  std::error_code ec;
  if (dir.empty()) {
    dir = fs::absolute(cfg.work_dir).string() + "/jobs/" + job.id;
    fs::create_directories(dir, ec);
    if (ec)
      return Finish(job.id, JobState::kLost, "agent cannot create " + dir + ": " + ec.message(),
                    std::nullopt);
  } else if (!fs::is_directory(dir, ec)) {
    return Finish(job.id, JobState::kFailed, "working_dir " + dir + " does not exist on agent " + cfg.name,
                  std::nullopt);
  }
  // The code the submitter shipped (git checkout + their changes, or their directory), then its venv.
  // A server or network failure makes the job lost (requeued); anything else fails it with the reason.
  // Preparation is bounded by the job's timeout (else 30 minutes) and stops at once on an abort.
  PrepContext prep;
  prep.deadline =
      SteadyClock::now() + std::chrono::seconds(job.spec.timeout_s > 0 ? job.spec.timeout_s : 1800);
  prep.cancelled = [r] { return r->abort.load() || r->stop_for_shutdown.load(); };
  prep.secrets = SecretPartsOfUrl(job.spec.git_repo);
  auto fail = [&](const Status& st, const std::string& what) {
    if (r->abort) return Finish(job.id, JobState::kAborted, "aborted by user while preparing", std::nullopt);
    if (r->stop_for_shutdown)
      return Finish(job.id, JobState::kLost, "agent " + cfg.name + " stopped while preparing", std::nullopt);
    JobState state = st.code() == StatusCode::kUnavailable ? JobState::kLost : JobState::kFailed;
    std::string why = st.code() == StatusCode::kDeadlineExceeded && job.spec.timeout_s > 0
                          ? "timeout after " + std::to_string(job.spec.timeout_s) + " s while preparing: "
                          : what + ": ";
    Finish(job.id, state, RedactParts(why + st.message(), prep.secrets), std::nullopt);
  };
  if (!job.spec.git_repo.empty() || !job.spec.code.empty()) {
    auto tree = PrepareJobTree(client, cfg.work_dir, job.spec, dir, prep);
    if (!tree.ok()) return fail(tree.status(), "cannot prepare the job's code");
    dir = *tree;
  }
  std::string venv;
  if (!job.spec.code.requirements_sha256.empty()) {
    auto v =
        PrepareRequirementsVenv(client, cfg.work_dir, job.spec.code.requirements_sha256, "python3", prep);
    if (!v.ok()) return fail(v.status(), "cannot re-create the job's Python environment");
    venv = *v;
  }
  // Its datasets, checked out from this agent's cache and recorded as the run's inputs (as the submitter).
  std::map<std::string, std::string> data_env;
  if (!job.spec.data.empty()) {
    std::string auth = r->tracking_token.empty() ? client.authorization() : "Bearer " + r->tracking_token;
    AgentClient run_client(cfg.server, auth);
    auto prepared = PrepareJobData({cfg.server, auth, cfg.work_dir + "/data-cache"}, job, dir, run_client);
    if (!prepared.ok()) return fail(prepared.status(), "cannot check out the job's data");
    data_env = std::move(*prepared);
  }
  // The job's environment: what a program needs to run (MinimalEnvironment: not the agent's credentials),
  // the spec's own variables, then what Tamga sets.
  std::map<std::string, std::string> env;
  for (const auto& kv : MinimalEnvironment()) env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  for (const auto& [k, v] : job.spec.env) env[k] = v;
  for (const auto& [k, v] : data_env) env[k] = v;
  if (!venv.empty()) {
    env["VIRTUAL_ENV"] = venv;
    env["PATH"] = venv + "/bin:" + env["PATH"];
  }
  std::string visible;
  for (const auto& u : job.gpu_uuids) visible += (visible.empty() ? "" : ",") + u;
  env["CUDA_VISIBLE_DEVICES"] = visible;  // by UUID; empty hides every GPU from a CPU job
  env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
  env["MLFLOW_TRACKING_URI"] = cfg.server;
  env["MLFLOW_RUN_ID"] = job.run_id;
  // Auth on: the job logs to its run as its submitter (the agent's own token works only on agent routes).
  if (!r->tracking_token.empty()) env["MLFLOW_TRACKING_TOKEN"] = r->tracking_token;
  env["TAMGA_JOB_ID"] = job.id;
  // Captured before the job can change anything; sent once it runs (off the start path).
  CapturedEnvironment captured = CaptureEnvironment(dir, job.spec.command, env, Snap(), job.gpu_uuids);
  if (r->abort) return Finish(job.id, JobState::kAborted, "aborted by user before it started", std::nullopt);
  // What the submitter recorded about its source (branch, remote, the commit of a tree shipped without a
  // remote) wins over what this checkout says (a detached HEAD, the agent's git cache).
  std::erase_if(captured.tags, [&](const auto& t) {
    return job.spec.tags.count(t.first) > 0 ||
           (t.first == "mlflow.source.git.repoURL" && !job.spec.git_repo.empty());
  });
  if (!job.spec.git_repo.empty() && !job.spec.tags.count("mlflow.source.git.repoURL"))
    captured.tags.push_back({"mlflow.source.git.repoURL", job.spec.git_repo});

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Finish(job.id, JobState::kLost, "agent cannot create pipes", std::nullopt);
  }
  SpawnOptions so;
  so.argv = job.spec.command;
  // A job whose command is `tamga ...` (e.g. `tamga score --queue`) runs this agent's own binary.
  if (!so.argv.empty() && so.argv[0] == "tamga") {
    std::error_code self_ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", self_ec);
    if (!self_ec) so.argv[0] = self.string();
  }
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
    UploadEnvironment(*r, captured, 0);
    return Finish(job.id, JobState::kFailed, why, std::nullopt);
  }
  pid_t pid = *spawned;
  r->pgid = pid;
  double overhead_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - r->leased_at).count();
  (void)Deliver("/api/2.0/tamga/jobs/" + job.id + "/started", {{"agent_id", agent_id}}, 30);
  UploadEnvironment(*r, captured, overhead_ms);

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
      std::string note = std::string(aborted    ? "abort requested"
                                     : shutdown ? "agent stopping"
                                                : "timeout") +
                         ": SIGTERM to the process group, SIGKILL after " + std::to_string(cfg.grace_ms) +
                         " ms\n";
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
  if (shutdown)
    return Finish(job.id, JobState::kLost, "agent " + cfg.name + " stopped while the job ran", std::nullopt);
  if (timed_out)
    return Finish(job.id, JobState::kFailed, "timeout after " + std::to_string(job.spec.timeout_s) + " s",
                  std::nullopt);
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    return Finish(job.id, code == 0 ? JobState::kSucceeded : JobState::kFailed,
                  code == 0 ? "" : DescribeWaitStatus(status), code);
  }
  std::string why = DescribeWaitStatus(status);
  int64_t ooms_after = OomKills();
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && ooms_before >= 0 && ooms_after > ooms_before) {
    why = "oom: killed by the kernel's OOM killer";
  }
  Finish(job.id, JobState::kFailed, why, std::nullopt);
}

}  // namespace tamga
