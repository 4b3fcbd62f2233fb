#include "data/client/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/hmac.h"

namespace tamga {
namespace {

constexpr char kMagic[8] = {'T', 'G', 'H', 'C', 'A', 'C', 'H', '1'};
constexpr size_t kRecord = 72;  // dev, ino, size, mtime (4 x 8), digest (32), checksum (4), padding (4)
constexpr int64_t kRacyNs = int64_t{2} * 1000 * 1000 * 1000;

uint32_t Fnv(const char* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 16777619u;
  return h;
}

void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::string Encode(const FileKey& k, const std::string& raw_digest) {
  std::string r(kRecord, '\0');
  Put64(&r[0], k.dev);
  Put64(&r[8], k.ino);
  Put64(&r[16], static_cast<uint64_t>(k.size));
  Put64(&r[24], static_cast<uint64_t>(k.mtime_ns));
  std::memcpy(&r[32], raw_digest.data(), 32);
  uint32_t c = Fnv(r.data(), 64);
  std::memcpy(&r[64], &c, 4);
  return r;
}

std::string RawOf(const std::string& hex) {
  std::string out(32, '\0');
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < 32; ++i) out[i] = static_cast<char>(nib(hex[2 * i]) << 4 | nib(hex[2 * i + 1]));
  return out;
}

Status WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("write hash cache: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

FileKey FileKey::Of(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
          static_cast<int64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

size_t HashCache::KeyHash::operator()(const FileKey& k) const {
  return std::hash<uint64_t>()(k.ino * 0x9E3779B97F4A7C15ull ^ k.dev ^ static_cast<uint64_t>(k.mtime_ns) ^
                               (static_cast<uint64_t>(k.size) << 17));
}

Result<std::unique_ptr<HashCache>> HashCache::Open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec)
    return Internal("create " + std::filesystem::path(path).parent_path().string() + ": " + ec.message());
  std::unique_ptr<HashCache> c(new HashCache(path));
  TAMGA_RETURN_IF_ERROR(c->Load());
  return c;
}

HashCache::~HashCache() = default;

Status HashCache::Load() {
  // A new file gets its header once, here (appends never write it, so concurrent writers cannot misalign it).
  int created = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (created >= 0) {
    Status s = WriteAll(created, std::string(kMagic, sizeof kMagic));
    ::close(created);
    TAMGA_RETURN_IF_ERROR(s);
  }
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Ok();  // starts empty
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  MutexLock l(&mu_);
  if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return Status::Ok();
  for (size_t off = sizeof kMagic; off + kRecord <= data.size(); off += kRecord) {
    const char* r = data.data() + off;
    uint32_t c;
    std::memcpy(&c, r + 64, 4);
    ++records_on_disk_;
    if (c != Fnv(r, 64)) continue;
    FileKey k{Get64(r), Get64(r + 8), static_cast<int64_t>(Get64(r + 16)),
              static_cast<int64_t>(Get64(r + 24))};
    map_[k] = std::string(r + 32, 32);
  }
  return Status::Ok();
}

std::optional<std::string> HashCache::Lookup(const FileKey& key) const {
  MutexLock l(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return HexEncode(it->second);
}

void HashCache::Insert(const FileKey& key, const std::string& digest, int64_t now_ns) {
  if (now_ns - key.mtime_ns < kRacyNs) return;
  std::string raw = RawOf(digest);
  MutexLock l(&mu_);
  auto [it, inserted] = map_.emplace(key, raw);
  if (!inserted) {
    if (it->second == raw) return;
    it->second = raw;
  }
  pending_.emplace_back(key, std::move(raw));
}

Status HashCache::Flush() {
  MutexLock l(&mu_);
  if (pending_.empty()) return Status::Ok();
  // Mostly stale (files deleted or changed since): rewrite the live entries and replace the file.
  if (records_on_disk_ > 4096 && records_on_disk_ + pending_.size() > 2 * map_.size()) {
    std::string out(kMagic, sizeof kMagic);
    out.reserve(sizeof kMagic + map_.size() * kRecord);
    for (const auto& [k, d] : map_) out += Encode(k, d);
    std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("write " + tmp + ": " + std::strerror(errno));
    Status s = WriteAll(fd, out);
    ::close(fd);
    if (!s.ok() || ::rename(tmp.c_str(), path_.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return s.ok() ? Internal("replace " + path_ + ": " + std::strerror(errno)) : s;
    }
    records_on_disk_ = map_.size();
    pending_.clear();
    return Status::Ok();
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("open " + path_ + ": " + std::strerror(errno));
  std::string out;
  for (const auto& [k, d] : pending_) out += Encode(k, d);
  Status s = WriteAll(fd, out);
  ::close(fd);
  records_on_disk_ += pending_.size();
  pending_.clear();
  return s;
}

size_t HashCache::size() const {
  MutexLock l(&mu_);
  return map_.size();
}

}  // namespace tamga
