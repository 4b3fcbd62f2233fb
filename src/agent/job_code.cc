#include "agent/job_code.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include "agent/env_capture.h"
#include "core/log.h"
#include "core/pip_requirements.h"
#include "core/secrets.h"
#include "core/subprocess.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

int64_t LeftMs(const PrepContext& prep) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(prep.deadline - std::chrono::steady_clock::now());
  return std::max<int64_t>(1, left.count());
}

// Runs a command; on failure the error carries the tail of its stderr (git and pip say what went wrong),
// with any password in a URL masked.
Status Run(const std::vector<std::string>& argv, const std::string& dir, const PrepContext& prep,
           const std::map<std::string, std::string>& extra_env = {}, std::string* out = nullptr) {
  std::map<std::string, std::string> env = {{"GIT_ALLOW_PROTOCOL", "http:https:ssh:git:file"},
                                            {"GIT_TERMINAL_PROMPT", "0"},
                                            {"GIT_HTTP_LOW_SPEED_LIMIT", "1000"},
                                            {"GIT_HTTP_LOW_SPEED_TIME", "60"}};
  for (const auto& [k, v] : extra_env) env[k] = v;
  SpawnOptions so;
  so.argv = argv;
  so.working_dir = dir;
  so.env = MinimalEnvironment(env);
  auto run = RunCaptured(std::move(so), out ? 64 << 20 : 1 << 20, LeftMs(prep), prep.cancelled);
  if (!run.ok()) return Status(run.status().code(), argv[0] + " " + argv[1] + ": " + run.status().message());
  if (!run->exit.ok()) {
    std::string err = run->err.size() > 1500 ? run->err.substr(run->err.size() - 1500) : run->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return Internal(RedactParts(argv[0] + " " + argv[1] + " failed (" + run->exit.Describe() + ")" +
                                    (err.empty() ? "" : ": " + RedactUrlCredentials(err)),
                                prep.secrets));
  }
  if (out) *out = std::move(run->out);
  return Status::Ok();
}

std::mutex& LockFor(const std::string& key) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::mutex>> locks;
  std::lock_guard<std::mutex> l(mu);
  auto& m = locks[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::string Unique() {
  return std::to_string(getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// A new file in the agent's own scratch folder: never through a symlink, never over an existing file.
Status WriteFile(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Internal("cannot write " + path);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

// `tar -tvzf --numeric-owner` (owner and group as uid/gid: a name with spaces cannot shift the size column):
// every member a regular file, folder or symlink, and the whole within the limits.
Status CheckArchive(const std::string& file, const std::string& dir, const PrepContext& prep) {
  std::string listing;
  TAMGA_RETURN_IF_ERROR(
      Run({"tar", "-tvzf", file, "--numeric-owner", "--quoting-style=escape"}, dir, prep, {}, &listing));
  int64_t total = 0, entries = 0;
  size_t pos = 0;
  while (pos < listing.size()) {
    size_t nl = listing.find('\n', pos);
    std::string line = listing.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? listing.size() : nl + 1;
    if (line.empty()) continue;
    char type = line[0];
    if (type != '-' && type != 'd' && type != 'l')
      return InvalidArgument("the code archive holds a member that is not a file, folder or symlink");
    std::istringstream fields(line);
    std::string mode, owner;
    int64_t size = 0;
    if (!(fields >> mode >> owner >> size)) return InvalidArgument("cannot read the code archive's listing");
    total += size;
    if (++entries > kMaxTreeEntries || total > kMaxTreeBytes) {
      return InvalidArgument("the code archive unpacks to more than " + std::to_string(kMaxTreeBytes >> 30) +
                             " GiB or " + std::to_string(kMaxTreeEntries) + " entries");
    }
  }
  return Status::Ok();
}

// The bare mirror of `url` under <work_dir>/git-cache, holding `commit` (fetched when missing). Returns the
// mirror's path and the commit's full hash.
Result<std::pair<std::string, std::string>> CachedRepo(const std::string& work_dir, const std::string& url,
                                                       const std::string& commit, const PrepContext& prep) {
  std::string cache = fs::absolute(work_dir).string() + "/git-cache/" + Sha256Hex(url).substr(0, 24) + ".git";
  std::lock_guard<std::mutex> l(LockFor(cache));
  std::error_code ec;
  bool fresh = false;
  if (!fs::exists(cache + "/HEAD", ec)) {
    fs::create_directories(fs::path(cache).parent_path(), ec);
    std::string tmp = cache + ".partial-" + Unique();
    Status s = Run({"git", "clone", "--bare", "--quiet", "--", url, tmp}, "/", prep);
    if (!s.ok()) {
      fs::remove_all(tmp, ec);
      return Status(s.code(), "cannot clone " + RedactUrlCredentials(url) + ": " + s.message());
    }
    fs::rename(tmp, cache, ec);
    if (ec) fs::remove_all(tmp, ec);
    fresh = true;
  }
  std::string want = commit.empty() ? "HEAD" : commit;
  auto resolve = [&]() -> Result<std::string> {
    SpawnOptions so;
    so.argv = {"git", "--git-dir=" + cache, "rev-parse", "--verify", "--quiet", want + "^{commit}"};
    so.env = MinimalEnvironment();
    TAMGA_ASSIGN_OR_RETURN(
        auto run, RunCaptured(std::move(so), 4096, std::min<int64_t>(30000, LeftMs(prep)), prep.cancelled));
    if (!run.exit.ok()) return NotFound(want);
    std::string sha = run.out.substr(0, run.out.find('\n'));
    return sha;
  };
  // A named commit already here is used as is; a branch or HEAD is refreshed first (it may have moved).
  bool is_hash = commit.size() == 40 && commit.find_first_not_of("0123456789abcdef") == std::string::npos;
  auto sha = resolve();
  if (!fresh && (!sha.ok() || !is_hash)) {
    (void)Run({"git", "--git-dir=" + cache, "fetch", "--quiet", "--prune", "--", url,
               "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
              "/", prep);
    sha = resolve();
  }
  if (!sha.ok() && is_hash) {  // not on a branch any more (or never was): ask for the commit itself
    (void)Run({"git", "--git-dir=" + cache, "fetch", "--quiet", "--", url, commit}, "/", prep);
    sha = resolve();
  }
  if (!sha.ok()) {
    if (prep.cancelled && prep.cancelled()) return Aborted("aborted");
    if (std::chrono::steady_clock::now() >= prep.deadline)
      return Status(StatusCode::kDeadlineExceeded, "fetching " + want);
    return NotFound("commit " + want + " is not in " + RedactUrlCredentials(url) +
                    " (was it pushed? `tamga jobs submit` ships unpushed commits as a patch)");
  }
  return std::make_pair(cache, *sha);
}

}  // namespace

Result<std::string> FetchCodeBlob(const AgentClient& client, const std::string& sha256, size_t max_bytes) {
  TAMGA_ASSIGN_OR_RETURN(std::string data, client.GetBytes("/api/2.0/mlflow-artifacts/artifacts/" +
                                                               std::string(kJobCodePrefix) + sha256,
                                                           max_bytes));
  if (Sha256Hex(data) != sha256) {
    return InvalidArgument("the stored code blob " + sha256.substr(0, 12) + "… does not match its hash");
  }
  return data;
}

Result<std::string> PrepareJobTree(const AgentClient& client, const std::string& work_dir,
                                   const JobSpec& spec, const std::string& job_dir, const PrepContext& prep) {
  std::string root = job_dir;
  if (!spec.git_repo.empty()) {
    TAMGA_ASSIGN_OR_RETURN(auto repo, CachedRepo(work_dir, spec.git_repo, spec.git_commit, prep));
    root = job_dir + "/src";
    TAMGA_RETURN_IF_ERROR(
        Run({"git", "clone", "--quiet", "--shared", "--no-checkout", "--", repo.first, root}, job_dir, prep));
    TAMGA_RETURN_IF_ERROR(Run({"git", "checkout", "--quiet", "--detach", repo.second}, root, prep));
    if (!spec.code.patch_sha256.empty()) {
      TAMGA_ASSIGN_OR_RETURN(std::string patch,
                             FetchCodeBlob(client, spec.code.patch_sha256, kMaxCodeBlobBytes));
      std::string file = job_dir + "/tamga-code.patch";
      TAMGA_RETURN_IF_ERROR(WriteFile(file, patch));
      // --index: new files are staged too, so the run's recorded diff (git diff HEAD) holds all of it.
      Status s = Run({"git", "apply", "--index", "--binary", "--whitespace=nowarn", file}, root, prep);
      if (!s.ok()) return Status(s.code(), "the submitter's changes do not apply: " + s.message());
    }
  } else if (!spec.code.archive_sha256.empty()) {
    TAMGA_ASSIGN_OR_RETURN(std::string tgz,
                           FetchCodeBlob(client, spec.code.archive_sha256, kMaxCodeBlobBytes));
    std::string file = job_dir + "/tamga-code.tar.gz";
    TAMGA_RETURN_IF_ERROR(WriteFile(file, tgz));
    TAMGA_RETURN_IF_ERROR(CheckArchive(file, job_dir, prep));
    root = job_dir + "/src";
    std::error_code ec;
    fs::create_directories(root, ec);
    // GNU tar refuses members with '..' and strips leading '/'; ownership and modes are ours.
    TAMGA_RETURN_IF_ERROR(Run(
        {"tar", "-xzf", file, "-C", root, "--no-same-owner", "--no-same-permissions", "--no-overwrite-dir"},
        job_dir, prep));
    fs::remove(file, ec);
    if (!spec.code.patch_sha256.empty()) {  // changes on top of a git tree shipped without a remote
      TAMGA_ASSIGN_OR_RETURN(std::string patch,
                             FetchCodeBlob(client, spec.code.patch_sha256, kMaxCodeBlobBytes));
      std::string pfile = job_dir + "/tamga-code.patch";
      TAMGA_RETURN_IF_ERROR(WriteFile(pfile, patch));
      // In a repository of its own (`git apply` inside some other checkout would take paths from its root),
      // with the shipped tree committed, so the run's recorded diff is exactly the submitter's changes.
      TAMGA_RETURN_IF_ERROR(Run({"git", "init", "--quiet", "."}, root, prep));
      TAMGA_RETURN_IF_ERROR(Run({"git", "add", "-A", "."}, root, prep));
      TAMGA_RETURN_IF_ERROR(Run({"git", "-c", "user.name=Tamga", "-c", "user.email=tamga@localhost", "commit",
                                 "--quiet", "--no-verify", "--allow-empty", "-m", "the submitted HEAD"},
                                root, prep));
      Status s = Run({"git", "apply", "--index", "--binary", "--whitespace=nowarn", pfile}, root, prep);
      if (!s.ok()) return Status(s.code(), "the submitter's changes do not apply: " + s.message());
    }
  }
  if (spec.code.subdir.empty()) return root;
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::path(root) / spec.code.subdir, ec);
  fs::path base = fs::weakly_canonical(root, ec);
  std::string d = dir.string(), b = base.string();
  if (ec || d.compare(0, b.size(), b) != 0 || (d.size() > b.size() && d[b.size()] != '/'))
    return InvalidArgument("code subdir " + spec.code.subdir + " leaves the tree");
  // Started in a folder the tree does not hold (an ignored build folder): made, so the command runs in the
  // same relative place as where it was submitted.
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) return Internal("cannot create " + d);
  return d;
}

Result<std::string> PrepareRequirementsVenv(const AgentClient& client, const std::string& work_dir,
                                            const std::string& requirements_sha256, const std::string& python,
                                            const PrepContext& prep) {
  std::string venv = fs::absolute(work_dir).string() + "/venvs/" + requirements_sha256;
  std::lock_guard<std::mutex> l(LockFor(venv));
  std::error_code ec;
  if (fs::exists(venv + "/.tamga-ready", ec)) return venv;
  TAMGA_ASSIGN_OR_RETURN(std::string req, FetchCodeBlob(client, requirements_sha256, 16 << 20));
  Status valid = CheckPipRequirements(req);
  if (!valid.ok()) return InvalidArgument("the recorded requirements: " + valid.message());
  // Made in place (entry-point scripts hard-code the venv's path, so it cannot be renamed into place);
  // `.tamga-ready`, written last, says it is complete, and a half-made one is removed and made again.
  fs::remove_all(venv, ec);
  fs::create_directories(fs::path(venv).parent_path(), ec);
  std::string req_file = venv + ".requirements-" + Unique() + ".txt";
  TAMGA_RETURN_IF_ERROR(WriteFile(req_file, req));
  std::map<std::string, std::string> pip_env;
  for (const char* k : {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX",
                        "PIP_TRUSTED_HOST", "PIP_CERT", "PIP_DEFAULT_TIMEOUT"}) {
    if (const char* v = std::getenv(k)) pip_env[k] = v;
  }
  pip_env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1";
  Status s = Run({python, "-m", "venv", venv}, "/", prep);
  if (s.ok()) {
    s = Run({venv + "/bin/python", "-m", "pip", "install", "--no-input", "--quiet", "-r", req_file}, "/",
            prep, pip_env);
  }
  fs::remove(req_file, ec);
  if (!s.ok()) {
    fs::remove_all(venv, ec);
    return Status(s.code(), "cannot install the recorded requirements: " + s.message());
  }
  TAMGA_RETURN_IF_ERROR(WriteFile(venv + "/.tamga-ready", "\n"));
  return venv;
}

}  // namespace tamga
