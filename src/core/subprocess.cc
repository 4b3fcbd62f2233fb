#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace tamga {

std::string ExitInfo::Describe() const {
  if (exited) return "exit code " + std::to_string(code);
  const char* name = sigabbrev_np(signal);
  return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
}

Result<pid_t> Spawn(const SpawnOptions& o) {
  if (o.argv.empty() || o.argv[0].empty()) return InvalidArgument("empty command");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (o.stdout_fd >= 0)
    posix_spawn_file_actions_adddup2(&fa, o.stdout_fd, 1);
  else
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (o.stderr_fd >= 0)
    posix_spawn_file_actions_adddup2(&fa, o.stderr_fd, 2);
  else
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  int highest = 2;
  for (const auto& [from, to] : o.pass_fds) {
    posix_spawn_file_actions_adddup2(&fa, from, to);
    highest = std::max(highest, to);
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, highest + 1);  // descriptors leaked without CLOEXEC too
  if (!o.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.working_dir.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (o.own_process_group) flags |= POSIX_SPAWN_SETPGROUP;
  posix_spawnattr_setflags(&attr, flags);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  std::vector<std::string> args = o.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> envs = o.env;
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  // posix_spawnp searches the PATH of *this* process; the child's PATH is what the caller set in env, so look
  // the program up there first.
  std::string program = args[0];
  if (program.find('/') == std::string::npos) {
    for (const auto& e : envs) {
      if (e.rfind("PATH=", 0) != 0) continue;
      std::string path = e.substr(5);
      size_t pos = 0;
      while (pos <= path.size()) {
        size_t colon = path.find(':', pos);
        std::string dir = path.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
        pos = colon == std::string::npos ? path.size() + 1 : colon + 1;
        std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) {
          program = candidate;
          break;
        }
      }
      break;
    }
  }
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT || rc == EACCES || rc == ENOEXEC) {
    return NotFound("cannot run " + args[0] + ": " + std::strerror(rc));
  }
  if (rc != 0) return Internal("cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

namespace {
ExitInfo FromStatus(int status) {
  ExitInfo e;
  if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  }
  return e;
}
}  // namespace

std::optional<ExitInfo> TryWait(pid_t pid) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid) return FromStatus(status);
  if (r < 0) return ExitInfo{};  // not our child (already reaped): report it as ended
  return std::nullopt;
}

ExitInfo Wait(pid_t pid) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  return r == pid ? FromStatus(status) : ExitInfo{};
}

void SignalGroup(pid_t pgid, int sig) {
  if (pgid > 0) ::kill(-pgid, sig);
}

Result<ExitInfo> WaitFor(pid_t pid, int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (auto e = TryWait(pid)) return *e;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  SignalGroup(pid, SIGKILL);
  ::kill(pid, SIGKILL);
  Wait(pid);
  return Status(StatusCode::kDeadlineExceeded, "timed out after " + std::to_string(timeout_ms) + " ms");
}

Result<CapturedRun> RunCaptured(SpawnOptions options, size_t max_bytes, int64_t timeout_ms,
                                const std::function<bool()>& cancelled) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  options.stdout_fd = out[1];
  options.stderr_fd = err[1];
  auto pid = Spawn(options);
  ::close(out[1]);
  ::close(err[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    ::close(err[0]);
    return pid.status();
  }
  CapturedRun run;
  std::string* sinks[2] = {&run.out, &run.err};
  int fds[2] = {out[0], err[0]};
  bool open[2] = {true, true};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false, aborted = false;
  char buf[65536];
  while (open[0] || open[1]) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (cancelled && cancelled()) {
      aborted = true;
      break;
    }
    if (cancelled) left = std::min<int64_t>(left, 200);
    pollfd p[2];
    int n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i) {
      if (!open[i]) continue;
      p[n] = {fds[i], POLLIN, 0};
      which[n++] = i;
    }
    int r = ::poll(p, n, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int k = 0; k < n && r > 0; ++k) {
      if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[which[k]], buf, sizeof(buf));
      if (got <= 0) {
        open[which[k]] = false;
        continue;
      }
      std::string* s = sinks[which[k]];
      if (s->size() < max_bytes)
        s->append(buf, std::min<size_t>(static_cast<size_t>(got), max_bytes - s->size()));
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  // Pipes closed: the child may still run (it closed them itself, or a grandchild held them).
  // Usually it exits as its pipes close: poll from 0.1 ms up, so a short-lived child costs no fixed sleep.
  auto pause = std::chrono::microseconds(100);
  while (!timed_out && !aborted) {
    if (auto done = TryWait(*pid)) {
      run.exit = *done;
      return run;
    }
    if (std::chrono::steady_clock::now() >= deadline) timed_out = true;
    if (cancelled && cancelled()) aborted = true;
    if (!timed_out && !aborted) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(50000));
    }
  }
  SignalGroup(*pid, SIGKILL);
  ::kill(*pid, SIGKILL);
  Wait(*pid);
  if (aborted) return Aborted(options.argv[0] + " was stopped (aborted)");
  return Status(StatusCode::kDeadlineExceeded, options.argv[0] + " timed out");
}

std::vector<std::string> MinimalEnvironment(const std::map<std::string, std::string>& extra) {
  static const char* kPassThrough[] = {
      "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
      "TZ", "TMPDIR", "TERM",
      // proxies and trust stores (enterprise networks)
      "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE",
      "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
      // Python and GPU runtimes
      "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "CUDA_HOME",
      "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "OMP_NUM_THREADS"};
  std::map<std::string, std::string> env;
  for (const char* name : kPassThrough) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace tamga
