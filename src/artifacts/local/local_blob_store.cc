#include "artifacts/local/local_blob_store.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "artifacts/artifact_path.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

// A path the file system cannot hold is the caller's (400), not the store's failure.
Status Errno(const std::string& what) {
  if (errno == ENAMETOOLONG) return InvalidArgument("Invalid path: too long for the artifact store");
  return Internal(what + ": " + std::strerror(errno));
}

// Paths resolve beneath the root: no component may be a symbolic link (one placed inside the store, by a job
// or by hand, would otherwise lead reads, writes and deletes outside it). Components that do not exist yet
// are fine (a writer creates them as directories).
Status CheckNoSymlinks(const std::string& root, const std::string& clean) {
  std::string cur = root;
  size_t pos = 0;
  while (pos < clean.size()) {
    size_t slash = clean.find('/', pos);
    if (slash == std::string::npos) slash = clean.size();
    cur += '/';
    cur.append(clean, pos, slash - pos);
    pos = slash + 1;
    struct stat st;
    if (::lstat(cur.c_str(), &st) != 0) return Status::Ok();  // not there yet
    if (S_ISLNK(st.st_mode)) return InvalidArgument("Invalid path: it passes through a symbolic link");
  }
  return Status::Ok();
}

// open(2) beneath `root`: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it (5.6+),
// so the check and the open are one step; otherwise the component check above, then O_NOFOLLOW on the last
// one.
int OpenBeneath(const std::string& root, const std::string& clean, int flags) {
#ifdef SYS_openat2
  int rootfd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd >= 0) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, rootfd, clean.c_str(), &how, sizeof(how)));
    int saved = errno;
    ::close(rootfd);
    if (fd >= 0 || (saved != ENOSYS && saved != EPERM)) {
      if (fd < 0 && saved == ELOOP) saved = EACCES;  // a symlink on the way: refused, not "missing"
      errno = saved;
      return fd;
    }
  }
#endif
  if (!CheckNoSymlinks(root, clean).ok()) {
    errno = EACCES;
    return -1;
  }
  return ::open((root + "/" + clean).c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
}

class LocalBlobWriter final : public BlobWriter {
 public:
  LocalBlobWriter(int fd, std::string tmp, std::string final_path, bool sync = true)
      : fd_(fd), tmp_(std::move(tmp)), final_(std::move(final_path)), sync_(sync) {}
  ~LocalBlobWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write artifact");
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Commit() override {
    if (sync_ && ::fsync(fd_) != 0) return Errno("fsync artifact");
    ::close(fd_);
    fd_ = -1;
    fs::path parent = fs::path(final_).parent_path();
    // A concurrent delete may remove the parent between creating it and publishing: try again a few times.
    for (int attempt = 0;; ++attempt) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec == std::errc::filename_too_long)
        return InvalidArgument("Invalid path: too long for the artifact store");
      if (ec == std::errc::not_a_directory || ec == std::errc::file_exists)
        return InvalidArgument("a file exists where this artifact path needs a directory");
      if (!ec) {
        if (fs::is_directory(final_, ec)) return InvalidArgument("a directory exists at this artifact path");
        if (::rename(tmp_.c_str(), final_.c_str()) == 0) break;
        if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
          return InvalidArgument("a directory exists at this artifact path");
        if (errno == ENOTDIR)
          return InvalidArgument("a file exists where this artifact path needs a directory");
        if (errno != ENOENT) return Errno("publish artifact");
      } else if (ec != std::errc::no_such_file_or_directory) {
        return Internal("create directory: " + ec.message());
      }
      if (attempt == 3) return Aborted("the artifact's folder changed while it was written; retry");
    }
    committed_ = true;
    if (!sync_) return Status::Ok();
    int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return Status::Ok();
  }

 private:
  int fd_;
  std::string tmp_;
  std::string final_;
  bool sync_;
  bool committed_ = false;
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~LocalBlobReader() override { ::close(fd_); }
  int64_t size() const override { return size_; }
  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Errno("read artifact");
    }
  }
  Status SkipTo(int64_t offset) override {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return Errno("seek artifact");
    return Status::Ok();
  }

 private:
  int fd_;
  int64_t size_;
};

}  // namespace

Result<std::unique_ptr<LocalBlobStore>> LocalBlobStore::Create(const Options& options, Random* random) {
  std::error_code ec;
  fs::create_directories(fs::path(options.root) / ".tmp", ec);
  if (ec) return Internal("create artifact root " + options.root + ": " + ec.message());
  return std::unique_ptr<LocalBlobStore>(new LocalBlobStore(fs::absolute(options.root).string(), random));
}

Result<std::string> LocalBlobStore::FullPath(const std::string& path, bool allow_root) const {
  TAMGA_ASSIGN_OR_RETURN(std::string clean, ValidateArtifactPath(path, allow_root));
  if (clean == ".tmp" || clean.rfind(".tmp/", 0) == 0) return InvalidArgument("Invalid path");
  TAMGA_RETURN_IF_ERROR(CheckNoSymlinks(root_, clean));
  return clean.empty() ? root_ : root_ + "/" + clean;
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::OpenWriter(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string full, FullPath(path, false));
  char name[40];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(random_->Next()));
  std::string tmp = root_ + "/.tmp/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create artifact");
  return std::unique_ptr<BlobWriter>(new LocalBlobWriter(fd, tmp, full));
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::OpenUnsyncedWriter(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string full, FullPath(path, false));
  char name[40];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(random_->Next()));
  std::string tmp = root_ + "/.tmp/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create artifact");
  return std::unique_ptr<BlobWriter>(new LocalBlobWriter(fd, tmp, full, false));
}

Status LocalBlobStore::SyncUnsynced() {
  int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open the artifact root");
  int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return Errno("syncfs");
  return Status::Ok();
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::OpenReader(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string full, FullPath(path, false));
  std::string clean = full.substr(root_.size() + 1);
  int fd = OpenBeneath(root_, clean, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound("Artifact '" + path + "' does not exist");
    if (errno == EACCES || errno == ELOOP || errno == EXDEV) {
      return InvalidArgument("Invalid path: it passes through a symbolic link");
    }
    return Errno("open artifact");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("Artifact '" + path + "' is not a file");
  }
  return std::unique_ptr<BlobReader>(new LocalBlobReader(fd, st.st_size));
}

Result<std::vector<BlobEntry>> LocalBlobStore::List(const std::string& dir) {
  TAMGA_ASSIGN_OR_RETURN(std::string full, FullPath(dir, true));
  std::error_code ec;
  if (!fs::is_directory(full, ec)) return NotFound("Directory '" + dir + "' does not exist");
  std::vector<BlobEntry> out;
  for (const auto& entry : fs::directory_iterator(full, ec)) {
    std::string name = entry.path().filename().string();
    if (full == root_ && name == ".tmp") continue;
    BlobEntry e;
    e.name = name;
    e.is_dir = entry.is_directory(ec);
    if (!e.is_dir) e.size = static_cast<int64_t>(entry.file_size(ec));
    out.push_back(std::move(e));
  }
  if (ec) return Internal("list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const BlobEntry& a, const BlobEntry& b) { return a.name < b.name; });
  return out;
}

Status LocalBlobStore::Delete(const std::string& path) {
  TAMGA_ASSIGN_OR_RETURN(std::string full, FullPath(path, false));
  MutexLock lock(&tree_mu_);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(full, ec))) return NotFound("Artifact '" + path + "' does not exist");
  // Concurrent writers may add files while the tree is removed (ENOTEMPTY), and a concurrent delete may
  // remove parts of it first (ENOENT: that part is gone, as asked).
  for (int attempt = 0;; ++attempt) {
    ec.clear();
    fs::remove_all(full, ec);
    if (!ec || ec == std::errc::no_such_file_or_directory) return Status::Ok();
    if (ec != std::errc::directory_not_empty) return Internal("delete " + path + ": " + ec.message());
    if (attempt == 3) return Aborted("'" + path + "' kept changing while it was deleted; retry");
  }
}

namespace {

// Hard-links (or, across devices, copies and fsyncs) one file.
Status LinkOrCopy(const fs::path& src, const fs::path& dst) {
  if (::link(src.c_str(), dst.c_str()) == 0) return Status::Ok();
  std::error_code ec;
  fs::copy_file(src, dst, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return Aborted("artifacts changed while they were copied; retry");
  if (ec) return Internal("copy " + src.string() + ": " + ec.message());
  int fd = ::open(dst.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open copy");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync copy");
  return Status::Ok();
}

void SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Status LocalBlobStore::CopyTree(const std::string& from, const std::string& to) {
  TAMGA_ASSIGN_OR_RETURN(std::string src, FullPath(from, false));
  TAMGA_ASSIGN_OR_RETURN(std::string dst, FullPath(to, false));
  MutexLock lock(&tree_mu_);
  std::error_code ec;
  auto st = fs::symlink_status(src, ec);
  if (!fs::exists(st)) return NotFound("Artifact '" + from + "' does not exist");
  if (fs::exists(fs::symlink_status(dst, ec))) return AlreadyExists("Artifact '" + to + "' already exists");
  char name[40];
  std::snprintf(name, sizeof(name), "copy-%016llx", static_cast<unsigned long long>(random_->Next()));
  fs::path tmp = fs::path(root_) / ".tmp" / name;
  auto cleanup = [&tmp] {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
  };
  // Files that vanish or change kind while being copied mean the source changed under us: a retryable 409.
  auto copy_failed = [&](const std::error_code& e) {
    cleanup();
    if (e == std::errc::no_such_file_or_directory || e == std::errc::not_a_directory) {
      return Aborted("'" + from + "' changed while it was copied; retry");
    }
    return Internal("copy " + from + ": " + e.message());
  };
  if (fs::is_regular_file(st)) {
    Status s = LinkOrCopy(src, tmp);
    if (!s.ok()) return cleanup(), s;
  } else if (fs::is_directory(st)) {
    fs::create_directories(tmp, ec);
    if (ec) return copy_failed(ec);
    for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      fs::path rel = fs::relative(it->path(), src, ec);
      if (ec) break;
      auto est = it->symlink_status(ec);
      if (fs::is_directory(est)) {
        fs::create_directories(tmp / rel, ec);
      } else if (fs::is_regular_file(est)) {
        Status s = LinkOrCopy(it->path(), tmp / rel);
        if (!s.ok()) return cleanup(), s;
      }  // symlinks and special files are never created by the store; skip them
      if (ec) break;
    }
    if (ec) return copy_failed(ec);
  } else {
    return InvalidArgument("Artifact '" + from + "' is not a file or directory");
  }
  fs::create_directories(fs::path(dst).parent_path(), ec);
  if (ec || ::rename(tmp.c_str(), dst.c_str()) != 0) {
    std::string why = ec ? ec.message() : std::strerror(errno);
    cleanup();
    return Internal("publish copy " + to + ": " + why);
  }
  SyncDir(fs::path(dst).parent_path());
  return Status::Ok();
}

}  // namespace tamga
