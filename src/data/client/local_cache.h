#pragma once
// LocalCache: the object cache on a machine (docs/data.md), shared by every workspace of its user:
// <root>/objects/ab/cdef… holds each object once, read-only, under its SHA-256; <root>/hashes.v1 is the hash
// cache. Objects enter only with their bytes hashed on the way in (a file that changed while it was copied,
// or a download that does not match, is refused), so a cached object is trusted when it is linked or copied
// out. The root is $TAMGA_CACHE_DIR, else $XDG_CACHE_HOME/tamga, else ~/.cache/tamga. Thread-safe.
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "data/digest.h"

namespace tamga {

enum class LinkMode { kReflink, kHardlink, kCopy };
// "reflink" (a copy-on-write clone, else a copy), "hardlink" (read-only files shared with the cache, else a
// copy), "copy".
Result<LinkMode> ParseLinkMode(const std::string& s);

class LocalCache {
 public:
  static std::string DefaultRoot();
  // Creates the folders. Internal when it cannot.
  static Result<std::unique_ptr<LocalCache>> Open(const std::string& root);

  const std::string& root() const { return root_; }
  std::string ObjectPath(const std::string& digest) const;
  bool Has(const std::string& digest, int64_t size) const;

  // Copies `path` into the cache while hashing it; returns its digest and size (and the stat of the file as
  // it was read). Returns at once when `expected` (a digest) is already cached.
  struct Ingested {
    FileDigest digest;
    bool stored = false;  // a new object
  };
  // `md5`: also computes the file's MD5 in the same pass (DVC interop).
  Result<Ingested> IngestFile(const std::string& path, std::string* md5 = nullptr);

  // Receives one object's bytes (a download) into a temporary file; Commit checks the digest and publishes.
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual Status Append(std::string_view bytes) = 0;
    // InvalidArgument when the bytes do not hash to the expected digest (nothing is kept).
    virtual Status Commit() = 0;
  };
  // `size` -1: not known in advance (only the digest is checked).
  Result<std::unique_ptr<Writer>> NewWriter(const std::string& digest, int64_t size);
  // Stores bytes held in memory (a manifest) under their digest; returns the digest.
  Result<std::string> PutBytes(std::string_view bytes);
  Result<std::string> ReadBytes(const std::string& digest, int64_t max_bytes);

  // Places the object at `dest` (replacing what is there): reflink, hard link or copy per `mode`, each
  // falling back to a copy. Files get mode 0444 when hard-linked (they are the cache's), else 0644.
  Status Materialize(const std::string& digest, const std::string& dest, LinkMode mode) const;

 private:
  explicit LocalCache(std::string root) : root_(std::move(root)) {}
  std::string TempPath() const;
  std::string root_;
};

}  // namespace tamga
