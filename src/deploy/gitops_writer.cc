#include "deploy/gitops_writer.h"
#include "core/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

extern char** environ;

namespace tamga {
namespace fs = std::filesystem;

namespace {

Status WriteFileAtomic(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Internal("create " + path.parent_path().string() + ": " + ec.message());
  fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("write " + tmp.string());
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Internal("write " + tmp.string());
    }
    done += static_cast<size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Internal("publish " + path.string());
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<GitOpsWriter>> GitOpsWriter::Create(const Options& options) {
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec) return Internal("cannot create GitOps folder " + options.root + ": " + ec.message());
  Options o = options;
  o.root = fs::absolute(options.root).string();
  std::unique_ptr<GitOpsWriter> w(new GitOpsWriter(o));
  if (o.git && !fs::exists(fs::path(o.root) / ".git")) {
    TAMGA_RETURN_IF_ERROR(w->Git({"init", "-q"}).status());
  }
  return w;
}

Result<std::string> GitOpsWriter::Git(const std::vector<std::string>& args, int* exit_code) {
  std::vector<std::string> full = {"git",
                                   "-C",
                                   options_.root,
                                   "-c",
                                   "user.name=" + options_.author_name,
                                   "-c",
                                   "user.email=" + options_.author_email,
                                   "-c",
                                   "commit.gpgsign=false"};
  full.insert(full.end(), args.begin(), args.end());
  SpawnOptions so;
  so.argv = std::move(full);
  so.env = MinimalEnvironment();
  auto run = RunCaptured(std::move(so), 1 << 20, 120000);
  if (!run.ok()) return Internal("cannot run git: " + run.status().message());
  const std::string& out = run->out;
  const std::string& err = run->err;
  int code = run->exit.exited ? run->exit.code : -1;
  if (exit_code) {
    *exit_code = code;
    return out;
  }
  if (code != 0) return Internal("git " + args[0] + " failed: " + err.substr(0, 500));
  return out;
}

Result<GitOpsWriter::WriteResult> GitOpsWriter::Commit(const std::string& dir, const std::string& message) {
  WriteResult result;
  if (!options_.git) {
    result.changed = true;
    return result;
  }
  TAMGA_RETURN_IF_ERROR(Git({"add", "-A", "--", dir}).status());
  int code = 0;
  TAMGA_RETURN_IF_ERROR(Git({"diff", "--cached", "--quiet", "--", dir}, &code).status());
  if (code == 0) return result;  // nothing staged: same bytes as the last commit
  TAMGA_RETURN_IF_ERROR(Git({"commit", "-q", "-m", message, "--", dir}).status());
  TAMGA_ASSIGN_OR_RETURN(std::string head, Git({"rev-parse", "HEAD"}));
  while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
  result.changed = true;
  result.commit = head;
  return result;
}

Result<GitOpsWriter::WriteResult> GitOpsWriter::Write(const std::string& dir,
                                                      const std::vector<RenderedFile>& files,
                                                      const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  fs::path base = fs::path(options_.root) / dir;
  std::set<std::string> keep;
  bool changed = false;
  for (const auto& f : files) {
    fs::path p = fs::path(options_.root) / f.path;
    keep.insert(p.lexically_normal().string());
    std::ifstream in(p, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || !old.empty()) {
      if (old == f.content) continue;
    }
    changed = true;
    TAMGA_RETURN_IF_ERROR(WriteFileAtomic(p, f.content));
  }
  std::error_code ec;
  if (fs::exists(base, ec)) {
    for (const auto& entry : fs::directory_iterator(base, ec)) {
      if (entry.is_regular_file() && !keep.count(entry.path().lexically_normal().string())) {
        fs::remove(entry.path(), ec);
        changed = true;
      }
    }
  }
  auto result = Commit(dir, message);
  if (result.ok() && !options_.git) result->changed = changed;
  return result;
}

Result<GitOpsWriter::WriteResult> GitOpsWriter::Remove(const std::string& dir, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  // A deployment never rendered (a local one, or one whose model never resolved) has no folder: nothing to
  // remove or commit.
  if (!fs::exists(fs::path(options_.root) / dir, ec)) return WriteResult{};
  fs::remove_all(fs::path(options_.root) / dir, ec);
  if (ec) return Internal("remove " + dir + ": " + ec.message());
  return Commit(dir, message);
}

Result<std::vector<GitOpsWriter::CommitInfo>> GitOpsWriter::Log(const std::string& dir, int limit) {
  std::vector<CommitInfo> out;
  if (!options_.git) return out;
  std::lock_guard<std::mutex> lock(mu_);
  int code = 0;
  TAMGA_ASSIGN_OR_RETURN(
      std::string text,
      Git({"log", "-n", std::to_string(limit), "--format=%H%x1f%ct%x1f%s", "--", dir}, &code));
  if (code != 0) return out;  // no commits yet
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? text.size() : nl + 1;
    size_t a = line.find('\x1f'), b = a == std::string::npos ? a : line.find('\x1f', a + 1);
    if (b == std::string::npos) continue;
    CommitInfo c;
    c.hash = line.substr(0, a);
    c.time_s = std::strtoll(line.c_str() + a + 1, nullptr, 10);
    c.subject = line.substr(b + 1);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<RenderedFile>> GitOpsWriter::Read(const std::string& dir, size_t max_bytes) {
  std::vector<RenderedFile> out;
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  fs::path base = fs::path(options_.root) / dir;
  if (!fs::is_directory(base, ec)) return out;
  for (fs::recursive_directory_iterator it(base, ec), end; it != end && out.size() < 200; it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    RenderedFile f;
    f.path = fs::relative(it->path(), options_.root, ec).string();
    f.content.resize(max_bytes);
    in.read(f.content.data(), static_cast<std::streamsize>(max_bytes));
    f.content.resize(static_cast<size_t>(in.gcount()));
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const RenderedFile& a, const RenderedFile& b) { return a.path < b.path; });
  return out;
}

}  // namespace tamga
