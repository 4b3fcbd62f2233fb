#pragma once
// Subprocesses, one way for every caller (the agent's jobs and environment capture, the GitOps writer's git,
// the Python serving worker): spawn from an argv list (no shell), in the child's own process group so the
// whole tree can be signalled, with an explicit environment (MinimalEnvironment: nothing secret leaks from
// the server or agent by inheritance), stdin from /dev/null and every descriptor not named closed in the
// child; wait with a deadline; kill the group. Functions are thread-safe; a pid is owned by whoever spawned
// it and must be reaped (Wait/WaitFor/TryWait) exactly once.
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tamga {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on the child's PATH
  std::string working_dir;        // "" = the caller's
  std::vector<std::string> env;   // the child's whole environment, "NAME=value" (see MinimalEnvironment)
  int stdout_fd = -1;             // -1 = /dev/null
  int stderr_fd = -1;             // -1 = /dev/null
  std::vector<std::pair<int, int>> pass_fds;  // {descriptor here, number in the child}
  bool own_process_group = true;              // the child leads a new group (pgid == pid)
};

struct ExitInfo {
  bool exited = false;  // exited normally: `code` is its status; otherwise killed by `signal`
  int code = -1;
  int signal = 0;
  bool ok() const { return exited && code == 0; }
  std::string Describe() const;  // "exit code 3", "killed by signal 9 (SIGKILL)"
};

// NotFound when the program cannot be found or executed (ENOENT/EACCES), Internal for other failures.
Result<pid_t> Spawn(const SpawnOptions& options);

// Reaps pid if it has ended; nullopt while it runs.
std::optional<ExitInfo> TryWait(pid_t pid);
// Blocks until pid ends.
ExitInfo Wait(pid_t pid);
// Waits up to timeout_ms; past it the process group is killed (SIGKILL), the child reaped, and
// DeadlineExceeded returned.
Result<ExitInfo> WaitFor(pid_t pid, int64_t timeout_ms);
// Sends sig to every process of the group led by pgid (ignores a group that is gone).
void SignalGroup(pid_t pgid, int sig);

struct CapturedRun {
  ExitInfo exit;
  std::string out;  // at most max_bytes each; the rest is read and dropped
  std::string err;
};
// Runs to completion with stdout and stderr captured (both drained together, so neither pipe can fill and
// stall the child). DeadlineExceeded after timeout_ms, also for a child that closed its pipes but does not
// exit; Aborted as soon as `cancelled` (checked every 200 ms) says so. In both cases the group is killed.
// NotFound as Spawn.
Result<CapturedRun> RunCaptured(SpawnOptions options, size_t max_bytes, int64_t timeout_ms,
                                const std::function<bool()>& cancelled = {});

// What a child gets from this process's environment: only variables a program needs to run (PATH, HOME, USER,
// locale, TZ, TMPDIR, proxies and CA bundles, Python and CUDA/NVIDIA runtime settings), then `extra` on top.
// Credentials and Tamga's own settings are not inherited; a job or model declares what it needs.
std::vector<std::string> MinimalEnvironment(const std::map<std::string, std::string>& extra = {});

}  // namespace tamga
