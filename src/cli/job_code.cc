#include "cli/job_code.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/env_capture.h"
#include "agent/python_env.h"
#include "core/subprocess.h"
#include "jobs/job_types.h"
#include "net/http_client.h"

extern char** environ;

namespace tamga {
namespace fs = std::filesystem;
namespace {

struct Out {
  std::string out, err;
};

Result<Out> Git(const std::vector<std::string>& args, const std::string& dir,
                const std::map<std::string, std::string>& env = {}, size_t max = 4 << 20) {
  SpawnOptions so;
  // A repository's own config must not run programs here (core.fsmonitor is a command git would start).
  so.argv = {"git", "-c", "core.fsmonitor=false"};
  so.argv.insert(so.argv.end(), args.begin(), args.end());
  so.working_dir = dir;
  so.env = MinimalEnvironment(env);
  TAMGA_ASSIGN_OR_RETURN(auto run, RunCaptured(std::move(so), max, 300000));
  if (!run.exit.ok()) {
    std::string err = run.err.substr(0, 600);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Internal("git " + args[0] + " failed: " + err);
  }
  if (run.out.size() >= max) return InvalidArgument("git " + args[0] + " printed more than the limit");
  return Out{std::move(run.out), std::move(run.err)};
}

std::string Line(const std::string& s) { return s.substr(0, s.find('\n')); }

// A private scratch folder (mkdtemp: mode 0700, unpredictable name), removed with everything in it.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "tamga-submit-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

std::string Size(int64_t n) {
  char buf[32];
  if (n < 1024) return std::to_string(n) + " B";
  if (n < (1 << 20)) return std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0), buf;
  return std::snprintf(buf, sizeof buf, "%.1f MiB", n / 1048576.0), buf;
}

// Stores `data` at tamga-code/<sha256> unless it is there already; returns the hash.
Result<std::string> Upload(const Common& c, const std::string& data) {
  std::string sha = Sha256Hex(data);
  std::string base = c.uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/api/2.0/mlflow-artifacts/artifacts/" + kJobCodePrefix + sha;
  HttpClientRequest head;
  head.method = "HEAD";
  head.url = url;
  AddAuth(c, &head);
  auto h = HttpCall(head);
  if (h.ok() && h->status == 200) return sha;
  HttpClientRequest put;
  put.method = "PUT";
  put.url = url;
  put.body = data;
  put.timeout_ms = 600000;
  AddAuth(c, &put);
  auto r = HttpCall(put);
  if (!r.ok()) return Unavailable("cannot upload the job's code to " + c.uri + ": " + r.status().message());
  if (r->status / 100 != 2)
    return Unavailable("uploading the job's code answered " + std::to_string(r->status) + ": " +
                       r->body.substr(0, 300));
  return sha;
}

std::map<std::string, std::string> LocalEnv() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// The remote the agent clones and the newest commit of HEAD it has.
Result<std::pair<std::string, std::string>> RemoteBase(const std::string& top) {
  auto remote_of = [](const std::string& ref) { return ref.substr(0, ref.find('/')); };
  std::string remote, base;
  auto upstream = Git({"rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"}, top);
  auto containing = Git({"branch", "-r", "--contains", "HEAD", "--format=%(refname:short)"}, top);
  if (containing.ok() && !Line(containing->out).empty()) {
    base = "HEAD";
    remote = upstream.ok() ? remote_of(Line(upstream->out)) : remote_of(Line(containing->out));
  } else {
    std::vector<std::string> candidates;
    if (upstream.ok() && !Line(upstream->out).empty()) candidates.push_back(Line(upstream->out));
    auto refs = Git({"for-each-ref", "--format=%(refname:short)", "refs/remotes"}, top);
    if (refs.ok()) {
      std::stringstream ss(refs->out);
      std::string r;
      while (std::getline(ss, r)) {
        if (!r.empty() && r.find('/') != std::string::npos) candidates.push_back(r);
      }
    }
    for (const auto& ref : candidates) {
      auto mb = Git({"merge-base", "HEAD", ref}, top);
      if (mb.ok() && !Line(mb->out).empty()) {
        base = Line(mb->out);
        remote = remote_of(ref);
        break;
      }
    }
  }
  if (base.empty()) {
    return FailedPrecondition(
        "this checkout shares no commit with a remote the agent could clone (no remote, or nothing "
        "pushed): push it, or ship the directory with --code dir");
  }
  TAMGA_ASSIGN_OR_RETURN(auto url, Git({"remote", "get-url", remote}, top));
  std::string u = Line(url.out);
  // Credentials in the remote URL (https://user:token@host/...) are not shipped: the job spec is visible to
  // every API client. Agents clone with their own git credentials.
  size_t scheme = u.find("://");
  size_t at = scheme == std::string::npos ? std::string::npos : u.find('@', scheme + 3);
  size_t slash = scheme == std::string::npos ? std::string::npos : u.find('/', scheme + 3);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    u = u.substr(0, scheme + 3) + u.substr(at + 1);
    std::cerr << "note: the remote URL's credentials are not shipped; agents clone with their own\n";
  }
  // A remote on this machine's file system: absolute, so an agent on the same machine finds it.
  if (u.find("://") == std::string::npos && u.find(':') == std::string::npos && !u.empty() && u[0] != '/')
    u = fs::weakly_canonical(fs::path(top) / u).string();
  TAMGA_ASSIGN_OR_RETURN(auto sha, Git({"rev-parse", base}, top));
  return std::make_pair(u, Line(sha.out));
}

Status ShipGit(const Common& c, const CodeOptions& o, const std::string& top, const std::string& prefix,
               nlohmann::json* spec) {
  auto found = RemoteBase(top);
  if (!found.ok() && found.status().code() != StatusCode::kFailedPrecondition) return found.status();
  // No remote the agent could clone: HEAD's tree itself (git archive: the same bytes for the same tree).
  std::pair<std::string, std::string> remote;
  std::string tree_sha;
  if (found.ok()) {
    remote = *found;
  } else {
    auto head = Git({"rev-parse", "--verify", "HEAD"}, top);
    if (!head.ok()) return FailedPrecondition("this checkout has no commit yet: commit, or use --code dir");
    remote.second = Line(head->out);
    auto tgz = Git({"archive", "--format=tar.gz", "HEAD"}, top, {}, static_cast<size_t>(o.max_bytes) + 1);
    if (!tgz.ok() || static_cast<int64_t>(tgz->out.size()) > o.max_bytes)
      return InvalidArgument("HEAD's tree packs to more than --max-code-mb (" + Size(o.max_bytes) + ")");
    TAMGA_ASSIGN_OR_RETURN(tree_sha, Upload(c, tgz->out));
    remote.first = top + " (no remote: HEAD's tree, " + Size(static_cast<int64_t>(tgz->out.size())) + ")";
  }
  // Everything not on the remote as one patch, made in a scratch index (the user's index is untouched).
  ScratchDir tmp;
  if (tmp.path.empty()) return Internal("cannot create a temporary folder");
  std::string scratch = tmp.path + "/index";
  struct {
    std::string b;
  } cleanup{tmp.path + "/paths"};
  std::map<std::string, std::string> idx = {{"GIT_INDEX_FILE", scratch}};
  TAMGA_RETURN_IF_ERROR(Git({"read-tree", "HEAD"}, top, idx).status());
  TAMGA_RETURN_IF_ERROR(Git({"add", "-u", "--", "."}, top, idx).status());
  // Untracked relative to HEAD's tree: also files added to the user's index but not committed.
  TAMGA_ASSIGN_OR_RETURN(auto untracked, Git({"ls-files", "--others", "--exclude-standard", "-z"}, top, idx));
  std::string keep;
  int kept = 0;
  std::vector<std::string> skipped;
  for (size_t pos = 0; pos < untracked.out.size();) {
    size_t end = untracked.out.find('\0', pos);
    if (end == std::string::npos) end = untracked.out.size();
    std::string path = untracked.out.substr(pos, end - pos);
    pos = end + 1;
    std::error_code ec;
    auto size = fs::file_size(fs::path(top) / path, ec);
    if (ec) continue;
    if (static_cast<int64_t>(size) > o.max_untracked_file_bytes) {
      skipped.push_back(path + " (" + Size(static_cast<int64_t>(size)) + ")");
      continue;
    }
    keep += path + '\0';
    ++kept;
  }
  if (kept > 0) {
    std::ofstream(cleanup.b, std::ios::binary) << keep;
    TAMGA_RETURN_IF_ERROR(
        Git({"add", "--pathspec-from-file=" + cleanup.b, "--pathspec-file-nul"}, top, idx).status());
  }
  auto patch = Git({"diff", "--cached", "--binary", "--full-index", remote.second}, top, idx,
                   static_cast<size_t>(o.max_bytes) + 1);
  if (!patch.ok() && patch.status().code() != StatusCode::kInvalidArgument) return patch.status();
  if (!patch.ok() || static_cast<int64_t>(patch->out.size()) > o.max_bytes) {
    return InvalidArgument("the changes not on the remote are larger than --max-code-mb (" +
                           Size(o.max_bytes) + "): commit and push them, or ignore large files");
  }
  nlohmann::json& code = (*spec)["code"];
  auto branch = Git({"symbolic-ref", "--quiet", "--short", "HEAD"}, top);
  if (branch.ok() && !Line(branch->out).empty() && !(*spec)["tags"].contains("mlflow.source.git.branch"))
    (*spec)["tags"]["mlflow.source.git.branch"] = Line(branch->out);
  if (tree_sha.empty()) {
    (*spec)["git_repo"] = remote.first;
    (*spec)["git_commit"] = remote.second;
  } else {
    code["archive_sha256"] = tree_sha;
    (*spec)["tags"]["mlflow.source.git.commit"] = remote.second;
  }
  if (!prefix.empty()) code["subdir"] = prefix;
  std::string what = remote.first + " @ " + remote.second.substr(0, 12);
  if (!patch->out.empty()) {
    TAMGA_ASSIGN_OR_RETURN(std::string sha, Upload(c, patch->out));
    code["patch_sha256"] = sha;
    what += " + " + Size(static_cast<int64_t>(patch->out.size())) + " of changes not on the remote";
    if (kept > 0) what += " (" + std::to_string(kept) + " untracked file" + (kept > 1 ? "s" : "") + ")";
  }
  std::cerr << "code: " << what << (prefix.empty() ? "" : ", runs in " + prefix) << "\n";
  for (const auto& s : skipped)
    std::cerr << "warning: untracked " << s << " is over --max-untracked-mb and is not shipped\n";
  return Status::Ok();
}

// .tamgaignore: a regular file (not a FIFO, device or symlink elsewhere) of at most 1 MiB, without NUL.
Status ReadIgnoreFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::Ok();  // none
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!regular || st.st_size > (1 << 20)) {
    ::close(fd);
    return InvalidArgument(path + " must be a regular file of at most 1 MiB");
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(done);
  if (out->find('\0') != std::string::npos) return InvalidArgument(path + " contains a NUL byte");
  return Status::Ok();
}

Status ShipDir(const Common& c, const CodeOptions& o, const std::string& dir, nlohmann::json* spec) {
  ScratchDir scratch;
  if (scratch.path.empty()) return Internal("cannot create a temporary folder");
  std::string tmp = scratch.path + "/code.tar.gz";
  std::string excludes = scratch.path + "/exclude";
  {
    std::ofstream ex(excludes);
    for (const char* p :
         {"./.git", "__pycache__", "*.pyc", "./.venv", "./venv", "node_modules", ".ipynb_checkpoints",
          "./mlruns", "./tamga-data", "./tamga-agent", "./tamga-model-cache"})
      ex << p << "\n";
    std::string patterns;
    TAMGA_RETURN_IF_ERROR(ReadIgnoreFile(dir + "/.tamgaignore", &patterns));
    std::istringstream ignore(patterns);
    std::string line;
    while (std::getline(ignore, line)) {
      // gitignore habits: "data/" means the folder (tar matches it without the slash), "/x" the top level.
      while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '/'))
        line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      if (line[0] == '/') line = "." + line;
      ex << line << "\n";
    }
  }
  SpawnOptions so;
  so.argv = {"tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--exclude-vcs",
             // any Tamga data folder (it holds tamga.lock) stays behind, whatever it is called
             "--exclude-tag-all=tamga.lock", "-X", excludes, "-I", "gzip -n", "-cf", tmp, "-C", dir, "."};
  so.env = MinimalEnvironment();
  TAMGA_ASSIGN_OR_RETURN(auto run, RunCaptured(std::move(so), 1 << 16, 600000));
  if (!run.exit.ok()) return Internal("tar of " + dir + " failed: " + run.err.substr(0, 400));
  std::error_code ec;
  auto size = static_cast<int64_t>(fs::file_size(tmp, ec));
  if (ec) return Internal("tar wrote no archive");
  if (size > o.max_bytes) {
    return InvalidArgument(dir + " packs to " + Size(size) + ", over --max-code-mb (" + Size(o.max_bytes) +
                           "): list what the job does not need in .tamgaignore, or use --code none");
  }
  std::ifstream in(tmp, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  TAMGA_ASSIGN_OR_RETURN(std::string sha, Upload(c, ss.str()));
  (*spec)["code"]["archive_sha256"] = sha;
  std::cerr << "code: " << dir << " (" << Size(size) << " packed)\n";
  return Status::Ok();
}

}  // namespace

Status ShipJobCode(const Common& c, const CodeOptions& o, const std::vector<std::string>& command,
                   nlohmann::json* spec) {
  std::error_code ec;
  std::string cwd = fs::current_path(ec).string();
  if (ec) return Internal("cannot read the current directory: " + ec.message());
  std::string mode = o.mode;
  if (mode == "auto") {
    bool explicit_place = spec->contains("working_dir") || spec->contains("git_repo");
    auto inside = Git({"rev-parse", "--is-inside-work-tree"}, cwd);
    mode = explicit_place ? "none" : (inside.ok() && Line(inside->out) == "true") ? "git" : "dir";
  }
  if (mode == "git") {
    TAMGA_ASSIGN_OR_RETURN(auto top, Git({"rev-parse", "--show-toplevel"}, cwd));
    TAMGA_ASSIGN_OR_RETURN(auto prefix, Git({"rev-parse", "--show-prefix"}, cwd));
    std::string p = Line(prefix.out);
    while (!p.empty() && p.back() == '/') p.pop_back();
    TAMGA_RETURN_IF_ERROR(ShipGit(c, o, Line(top.out), p, spec));
  } else if (mode == "dir") {
    TAMGA_RETURN_IF_ERROR(ShipDir(c, o, cwd, spec));
  } else if (mode != "none") {
    return InvalidArgument("--code must be auto, git, dir or none");
  }
  if (o.requirements) {
    std::map<std::string, std::string> env = LocalEnv();
    auto interp = ResolveJobInterpreter(command, env, cwd);
    if (!interp) return FailedPrecondition("--env requirements: no Python interpreter found for the command");
    TAMGA_ASSIGN_OR_RETURN(auto py, InspectPython(interp->path, env));
    if (py.packages.empty())
      return FailedPrecondition("--env requirements: " + interp->path +
                                " has no installed packages to record");
    TAMGA_ASSIGN_OR_RETURN(std::string sha, Upload(c, py.packages));
    (*spec)["code"]["requirements_sha256"] = sha;
    size_t n = static_cast<size_t>(std::count(py.packages.begin(), py.packages.end(), '\n'));
    std::cerr << "env: " << n << " packages of " << py.executable << " (Python " << py.version
              << "), installed on the agent into a venv cached by their hash\n";
  }
  return Status::Ok();
}

}  // namespace tamga
