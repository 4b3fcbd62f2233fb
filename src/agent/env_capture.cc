#include "agent/env_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/python_env.h"
#include "core/secrets.h"
#include "core/subprocess.h"
#include "core/utf8.h"

namespace tamga {

Result<std::string> RunAndCapture(const std::vector<std::string>& argv, const std::string& dir,
                                  size_t max_bytes, int timeout_ms) {
  SpawnOptions so;
  so.argv = argv;
  so.working_dir = dir;
  so.env = MinimalEnvironment();
  TAMGA_ASSIGN_OR_RETURN(CapturedRun run, RunCaptured(std::move(so), max_bytes, timeout_ms));
  if (!run.exit.ok()) return Internal(argv[0] + " failed (" + run.exit.Describe() + ")");
  return std::move(run.out);
}

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string ReadFirstMatch(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::string v = line.substr(prefix.size());
      size_t s = v.find_first_not_of(" \t:=\"");
      v = s == std::string::npos ? "" : v.substr(s);
      while (!v.empty() && (v.back() == '"' || v.back() == ' ')) v.pop_back();
      return v;
    }
  }
  return "";
}

// A regular file's bytes (not followed through a symlink, never blocking on a FIFO), at most `max` of them;
// nullopt for anything else.
std::optional<std::string> ReadRegularFile(const std::string& path, size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  std::string data(std::min<size_t>(static_cast<size_t>(st.st_size), max), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

// The version in the first line starting with one of `prefixes` ("name=version" / "name==version").
std::optional<std::string> FirstVersion(const std::string& lines, std::initializer_list<const char*> prefixes,
                                        char sep) {
  std::stringstream ss(lines);
  std::string line;
  while (std::getline(ss, line)) {
    for (const char* p : prefixes) {
      if (line.rfind(p, 0) != 0) continue;
      size_t at = line.find(sep);
      if (at == std::string::npos) continue;
      size_t v = line.find_first_not_of(sep, at);
      if (v != std::string::npos) return line.substr(v);
    }
  }
  return std::nullopt;
}

std::string ShellQuote(const std::string& a) {
  if (!a.empty() &&
      a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") ==
          std::string::npos) {
    return a;
  }
  std::string out = "'";
  for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

CapturedEnvironment CaptureEnvironment(const std::string& dir, const std::vector<std::string>& command,
                                       const std::map<std::string, std::string>& env, const GpuSnapshot& gpus,
                                       const std::vector<std::string>& gpu_uuids) {
  CapturedEnvironment out;
  std::string python_packages;
  auto tag = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) out.tags.push_back({k, std::string(Utf8Prefix(v, 5000))});
  };
  // Code.
  auto commit = RunAndCapture({"git", "rev-parse", "HEAD"}, dir, 4096, 10000);
  if (commit.ok()) {
    tag("mlflow.source.git.commit", Trim(*commit));
    auto branch = RunAndCapture({"git", "rev-parse", "--abbrev-ref", "HEAD"}, dir, 4096, 10000);
    if (branch.ok() && Trim(*branch) != "HEAD")
      tag("mlflow.source.git.branch", Trim(*branch));  // not detached
    auto remote = RunAndCapture({"git", "ls-remote", "--get-url"}, dir, 4096, 10000);
    if (remote.ok() && Trim(*remote) != "origin") tag("mlflow.source.git.repoURL", Trim(*remote));
    auto diff = RunAndCapture({"git", "diff", "HEAD"}, dir, 64 << 20, 30000);
    if (diff.ok()) {
      tag("tamga.git.dirty", diff->empty() ? "false" : "true");
      if (!diff->empty()) {
        tag("tamga.git.diff_sha256", Sha256Hex(*diff));
        tag("tamga.git.diff_bytes", std::to_string(diff->size()));
        if (diff->size() > kMaxDiffBytes) {
          tag("tamga.git.diff_truncated", "true");
          out.files.push_back({"tamga/git.diff", diff->substr(0, kMaxDiffBytes)});
        } else {
          out.files.push_back({"tamga/git.diff", *diff});
        }
      }
    }
  }
  // Python: the interpreter the job runs (python_env.h), its packages, and the CUDA stack around it.
  auto interp = ResolveJobInterpreter(command, env, dir);
  if (interp) {
    tag("tamga.env.python_resolved_by", interp->how);
    auto py = InspectPython(interp->path, env);
    if (py.ok()) {
      tag("tamga.env.python_executable", py->executable);
      tag("tamga.env.python_version", py->version);
      tag("tamga.env.python_env", py->kind);
      tag("tamga.env.python_prefix", py->prefix);
      if (!py->packages.empty()) {
        tag("tamga.env.pip_freeze_sha256", Sha256Hex(py->packages));
        out.files.push_back({"tamga/requirements-frozen.txt", py->packages});
      }
      if (!py->conda_packages.empty()) out.files.push_back({"tamga/conda-packages.txt", py->conda_packages});
      python_packages = py->packages;
    } else {
      tag("tamga.env.python_error", py.status().message());
    }
  }
  // The tree's own lock file too (lineage records its digest beside the frozen packages), whether or not the
  // interpreter's packages could be listed.
  {
    for (const char* lock : {"uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt"}) {
      // The job's tree is the submitter's: a lockfile that is a symlink, a FIFO or a device is not read.
      auto text = ReadRegularFile(dir + "/" + lock, 4 << 20);
      if (!text) continue;
      tag("tamga.env.lockfile", lock);
      tag("tamga.env.lockfile_sha256", Sha256Hex(*text));
      out.files.push_back({std::string("tamga/") + lock, *text});
      break;
    }
  }
  std::string os_packages = OsGpuPackages();
  if (!os_packages.empty()) out.files.push_back({"tamga/os-packages.txt", os_packages});
  // CUDA toolkit, cuDNN, NCCL: the OS packages first, else the pip wheels NVIDIA ships them as.
  tag("tamga.env.cuda_toolkit",
      FirstVersion(os_packages, {"cuda-cudart-", "cuda-toolkit-", "nvidia-cuda-toolkit="}, '=')
          .value_or(FirstVersion(python_packages, {"nvidia-cuda-runtime-cu"}, '=').value_or("")));
  tag("tamga.env.cudnn", FirstVersion(os_packages, {"libcudnn"}, '=')
                             .value_or(FirstVersion(python_packages, {"nvidia-cudnn-cu"}, '=').value_or("")));
  tag("tamga.env.nccl", FirstVersion(os_packages, {"libnccl"}, '=')
                            .value_or(FirstVersion(python_packages, {"nvidia-nccl-cu"}, '=').value_or("")));
  // Machine.
  utsname u{};
  if (uname(&u) == 0) {
    tag("tamga.env.os", std::string(u.sysname) + " " + u.release + " " + u.machine);
    tag("tamga.env.hostname", u.nodename);
  }
  tag("tamga.env.os_release", ReadFirstMatch("/etc/os-release", "PRETTY_NAME"));
  tag("tamga.env.cpu", ReadFirstMatch("/proc/cpuinfo", "model name"));
  tag("tamga.env.cpu_count", std::to_string(std::thread::hardware_concurrency()));
  tag("tamga.env.memory", ReadFirstMatch("/proc/meminfo", "MemTotal"));
  if (gpus.available) {
    tag("tamga.env.nvidia_driver", gpus.driver_version);
    tag("tamga.env.cuda_driver", gpus.cuda_driver_version);
    std::string names, uuids;
    for (const auto& g : gpus.gpus) {
      for (const auto& want : gpu_uuids) {
        if (g.uuid != want) continue;
        names += (names.empty() ? "" : ",") + g.name;
        uuids += (uuids.empty() ? "" : ",") + g.uuid;
      }
    }
    tag("tamga.env.gpu", names);
    tag("tamga.env.gpu_uuids", uuids);
  }
  // Command and environment.
  std::string cmdline;
  for (const auto& a : command) cmdline += (cmdline.empty() ? "" : " ") + ShellQuote(a);
  tag("tamga.job.command", cmdline);
  nlohmann::ordered_json envj = nlohmann::ordered_json::object();
  for (const auto& [k, v] : env)
    envj[k] = LooksSecret(k) ? std::string(kRedacted) : RedactUrlPassword(SanitizeUtf8(v));
  out.files.push_back(
      {"tamga/environment.json", envj.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)});
  return out;
}

}  // namespace tamga
