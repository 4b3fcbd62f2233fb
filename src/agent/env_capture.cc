#include "agent/env_capture.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/secrets.h"
#include "core/subprocess.h"
#include "core/utf8.h"

namespace tamga {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

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
  auto tag = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) out.tags.push_back({k, std::string(Utf8Prefix(v, 5000))});
  };
  // Code.
  auto commit = RunAndCapture({"git", "rev-parse", "HEAD"}, dir, 4096, 10000);
  if (commit.ok()) {
    tag("mlflow.source.git.commit", Trim(*commit));
    auto branch = RunAndCapture({"git", "rev-parse", "--abbrev-ref", "HEAD"}, dir, 4096, 10000);
    if (branch.ok()) tag("mlflow.source.git.branch", Trim(*branch));
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
  // Python packages: pip freeze, else the project's lockfile. pip freeze costs about half a second, and the
  // installed packages rarely change between two jobs of one agent: its answer is reused for 30 s.
  static std::mutex freeze_mu;
  static std::chrono::steady_clock::time_point freeze_at;
  static Result<std::string> freeze_cached = NotFound("not run");
  Result<std::string> freeze = NotFound("not run");
  {
    std::lock_guard<std::mutex> l(freeze_mu);
    if (freeze_at.time_since_epoch().count() == 0 ||
        std::chrono::steady_clock::now() - freeze_at > std::chrono::seconds(30)) {
      freeze_cached = RunAndCapture({"python3", "-m", "pip", "freeze"}, "/", 4 << 20, 60000);
      freeze_at = std::chrono::steady_clock::now();
    }
    freeze = freeze_cached;
  }
  if (freeze.ok() && !freeze->empty()) {
    tag("tamga.env.pip_freeze_sha256", Sha256Hex(*freeze));
    out.files.push_back({"tamga/requirements-frozen.txt", *freeze});
  } else {
    for (const char* lock : {"uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt"}) {
      std::ifstream in(dir + "/" + lock, std::ios::binary);
      if (!in) continue;
      std::stringstream ss;
      ss << in.rdbuf();
      tag("tamga.env.lockfile", lock);
      tag("tamga.env.lockfile_sha256", Sha256Hex(ss.str()));
      out.files.push_back({std::string("tamga/") + lock, ss.str().substr(0, 4 << 20)});
      break;
    }
  }
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
