#pragma once
// HashCache: what `tamga data` remembers about files it hashed (docs/data.md), so an unchanged file is never
// read again: (device, inode, size, mtime in ns) -> SHA-256. Kept in one append-only file of fixed-size
// records, each with a checksum (a torn record from a crash is skipped); several processes may append at
// once. A file modified within two seconds of being hashed is not remembered (its mtime may not change on
// the next edit: git's "racy" case), so it is hashed again next time. Thread-safe.
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "core/result.h"

namespace tamga {

struct FileKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileKey&) const = default;
  static FileKey Of(const struct stat& st);
};

class HashCache {
 public:
  // Opens (creating) the cache file at `path`; a missing or unreadable file starts empty. Internal when the
  // folder cannot be written.
  static Result<std::unique_ptr<HashCache>> Open(const std::string& path);
  ~HashCache();
  std::optional<std::string> Lookup(const FileKey& key) const;
  // Remembers a digest; `now_ns` decides whether the file is too fresh to remember.
  void Insert(const FileKey& key, const std::string& digest, int64_t now_ns);
  // Appends what was inserted since the last flush (and compacts the file when it is mostly stale records).
  Status Flush();
  size_t size() const;

 private:
  struct KeyHash {
    size_t operator()(const FileKey& k) const;
  };
  explicit HashCache(std::string path) : path_(std::move(path)) {}
  Status Load();
  std::string path_;
  mutable Mutex mu_;
  std::unordered_map<FileKey, std::string, KeyHash> map_ GUARDED_BY(mu_);  // digest as 32 raw bytes
  std::vector<std::pair<FileKey, std::string>> pending_ GUARDED_BY(mu_);
  size_t records_on_disk_ GUARDED_BY(mu_) = 0;
};

}  // namespace tamga
