#include "data/client/local_cache.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace tamga {
namespace fs = std::filesystem;
namespace {

Status Errno(const std::string& what) { return Internal(what + ": " + std::strerror(errno)); }

Status WriteAll(int fd, const char* p, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + what);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Renames tmp into place under objects/ab/ (creating the folder), or drops it when the object appeared
// meanwhile (another process cached the same bytes).
Status Publish(const std::string& tmp, const std::string& final_path) {
  if (::rename(tmp.c_str(), final_path.c_str()) == 0) return Status::Ok();
  if (errno == ENOENT) {
    std::error_code ec;
    fs::create_directories(fs::path(final_path).parent_path(), ec);
    if (::rename(tmp.c_str(), final_path.c_str()) == 0) return Status::Ok();
  }
  Status s = Errno("store " + final_path);
  ::unlink(tmp.c_str());
  return s;
}

class CacheWriter final : public LocalCache::Writer {
 public:
  CacheWriter(int fd, std::string tmp, std::string final_path, std::string digest, int64_t size)
      : fd_(fd),
        tmp_(std::move(tmp)),
        final_(std::move(final_path)),
        digest_(std::move(digest)),
        size_(size) {}
  ~CacheWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!done_) ::unlink(tmp_.c_str());
  }
  Status Append(std::string_view bytes) override {
    got_ += static_cast<int64_t>(bytes.size());
    if (size_ >= 0 && got_ > size_) return InvalidArgument("object " + digest_ + " is longer than announced");
    hasher_.Update(bytes);
    return WriteAll(fd_, bytes.data(), bytes.size(), tmp_);
  }
  Status Commit() override {
    std::string got = hasher_.FinishHex();
    if (got != digest_ || (size_ >= 0 && got_ != size_))
      return InvalidArgument("object " + digest_ + " arrived with other bytes (they hash to " + got +
                             "); it was not stored");
    ::fchmod(fd_, 0444);
    ::close(fd_);
    fd_ = -1;
    TAMGA_RETURN_IF_ERROR(Publish(tmp_, final_));
    done_ = true;
    return Status::Ok();
  }

 private:
  int fd_;
  std::string tmp_, final_, digest_;
  int64_t size_;
  int64_t got_ = 0;
  Sha256Hasher hasher_;
  bool done_ = false;
};

// A copy of a cached object: a reflink when asked and the file system can, else copy_file_range (the kernel
// copies; the cache's bytes were verified when they entered it).
Status CopyFile(const std::string& from, const std::string& to_tmp, bool try_reflink, mode_t mode) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open " + from);
  int out = ::open(to_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    Status s = Errno("create " + to_tmp);
    ::close(in);
    return s;
  }
  Status s = Status::Ok();
  if (!(try_reflink && ::ioctl(out, FICLONE, in) == 0)) {
    for (;;) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t{1} << 30, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        std::vector<char> buf(1 << 20);  // an old kernel or file system: a plain copy
        for (;;) {
          ssize_t r = ::read(in, buf.data(), buf.size());
          if (r < 0 && errno == EINTR) continue;
          if (r < 0) s = Errno("read " + from);
          if (r <= 0) break;
          s = WriteAll(out, buf.data(), static_cast<size_t>(r), to_tmp);
          if (!s.ok()) break;
        }
        break;
      }
      if (n < 0) {
        s = Errno("copy " + from);
        break;
      }
      if (n == 0) break;
    }
  }
  ::fchmod(out, mode);
  ::close(in);
  ::close(out);
  if (!s.ok()) ::unlink(to_tmp.c_str());
  return s;
}

}  // namespace

Result<LinkMode> ParseLinkMode(const std::string& s) {
  if (s == "reflink" || s.empty()) return LinkMode::kReflink;
  if (s == "hardlink") return LinkMode::kHardlink;
  if (s == "copy") return LinkMode::kCopy;
  return InvalidArgument("Invalid link mode '" + s.substr(0, 40) + "': use reflink, hardlink or copy");
}

std::string LocalCache::DefaultRoot() {
  if (const char* d = std::getenv("TAMGA_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/tamga";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/tamga";
}

Result<std::unique_ptr<LocalCache>> LocalCache::Open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root + "/objects", ec);
  if (!ec) fs::create_directories(root + "/tmp", ec);
  if (ec) return Internal("create the cache folder " + root + ": " + ec.message());
  return std::unique_ptr<LocalCache>(new LocalCache(fs::absolute(root).lexically_normal().string()));
}

std::string LocalCache::ObjectPath(const std::string& digest) const {
  return root_ + "/objects/" + digest.substr(0, 2) + "/" + digest.substr(2);
}

bool LocalCache::Has(const std::string& digest, int64_t size) const {
  struct stat st {};
  return ::stat(ObjectPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size;
}

std::string LocalCache::TempPath() const {
  static std::atomic<uint64_t> n{0};
  return root_ + "/tmp/" + std::to_string(::getpid()) + "." + std::to_string(n.fetch_add(1));
}

Result<LocalCache::Ingested> LocalCache::IngestFile(const std::string& path, std::string* md5) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open " + path);
  ::posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::string tmp = TempPath();
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    Status s = Errno("create " + tmp);
    ::close(in);
    return s;
  }
  thread_local std::vector<char> buf(1 << 20);
  Sha256Hasher h;
  std::unique_ptr<Md5Hasher> m = md5 ? std::make_unique<Md5Hasher>() : nullptr;
  Ingested r;
  Status s = Status::Ok();
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Errno("read " + path);
      break;
    }
    if (n == 0) break;
    h.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (m) m->Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    r.digest.size += n;
    s = WriteAll(out, buf.data(), static_cast<size_t>(n), tmp);
    if (!s.ok()) break;
  }
  ::close(in);
  ::fchmod(out, 0444);
  ::close(out);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  r.digest.digest = h.FinishHex();
  if (m) *md5 = m->FinishHex();
  if (Has(r.digest.digest, r.digest.size)) {
    ::unlink(tmp.c_str());
    return r;
  }
  TAMGA_RETURN_IF_ERROR(Publish(tmp, ObjectPath(r.digest.digest)));
  r.stored = true;
  return r;
}

Result<std::unique_ptr<LocalCache::Writer>> LocalCache::NewWriter(const std::string& digest, int64_t size) {
  TAMGA_RETURN_IF_ERROR(CheckDigest(digest));
  std::string tmp = TempPath();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + tmp);
  return std::unique_ptr<Writer>(new CacheWriter(fd, tmp, ObjectPath(digest), digest, size));
}

Result<std::string> LocalCache::PutBytes(std::string_view bytes) {
  Sha256Hasher h;
  h.Update(bytes);
  std::string digest = h.FinishHex();
  if (Has(digest, static_cast<int64_t>(bytes.size()))) return digest;
  TAMGA_ASSIGN_OR_RETURN(auto w, NewWriter(digest, static_cast<int64_t>(bytes.size())));
  TAMGA_RETURN_IF_ERROR(w->Append(bytes));
  TAMGA_RETURN_IF_ERROR(w->Commit());
  return digest;
}

Result<std::string> LocalCache::ReadBytes(const std::string& digest, int64_t max_bytes) {
  TAMGA_RETURN_IF_ERROR(CheckDigest(digest));
  int fd = ::open(ObjectPath(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound("object " + digest + " is not in the local cache");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      ::close(fd);
      return InvalidArgument("object " + digest + " is larger than expected");
    }
  }
  ::close(fd);
  Sha256Hasher h;
  h.Update(out);
  if (h.FinishHex() != digest)
    return Internal("cached object " + digest + " is corrupted; delete " + ObjectPath(digest) +
                    " and pull again");
  return out;
}

Status LocalCache::Materialize(const std::string& digest, const std::string& dest, LinkMode mode) const {
  std::string src = ObjectPath(digest);
  std::string tmp = dest + ".tamga-tmp";
  ::unlink(tmp.c_str());
  if (mode == LinkMode::kHardlink && ::link(src.c_str(), tmp.c_str()) == 0) {
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      Status s = Errno("place " + dest);
      ::unlink(tmp.c_str());
      return s;
    }
    return Status::Ok();
  }
  TAMGA_RETURN_IF_ERROR(CopyFile(src, tmp, mode == LinkMode::kReflink, 0644));
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    Status s = Errno("place " + dest);
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

}  // namespace tamga
