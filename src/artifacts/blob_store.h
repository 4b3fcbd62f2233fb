#pragma once
// BlobStore: byte streams under relative, validated paths ("1/<run_id>/artifacts/model/MLmodel").
// Artifacts (and later datasets) live here. Writers stream (no whole-file buffering) and publish
// atomically on Commit(): readers never observe a half-written blob. Thread-safe; readers/writers are
// used by one thread at a time. Implementations: local filesystem today, S3-compatible later.
//
// Paths must have passed ValidateArtifactPath (artifact_path.h); implementations re-check them.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tamga {

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // destroying an uncommitted writer discards its bytes
  virtual Status Append(std::string_view data) = 0;
  // Whether Append(n bytes) or Commit may wait on the network (callers on an I/O thread move them off it).
  virtual bool AppendMayBlock(size_t n) const { return false; }
  virtual bool CommitMayBlock() const { return false; }
  // Publishes the blob at its path (replacing any previous one). Internal on I/O errors.
  virtual Status Commit() = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual int64_t size() const = 0;
  // Reads up to n bytes; returns 0 at end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // False when the next Read may wait on the network.
  virtual bool ReadReady() const { return true; }
  // Moves a fresh reader to `offset` (HTTP range reads); the default reads and drops the bytes before it.
  virtual Status SkipTo(int64_t offset) {
    char buf[16384];
    while (offset > 0) {
      TAMGA_ASSIGN_OR_RETURN(size_t got,
                             Read(buf, static_cast<size_t>(std::min<int64_t>(offset, sizeof buf))));
      if (got == 0) break;
      offset -= static_cast<int64_t>(got);
    }
    return Status::Ok();
  }
};

struct BlobEntry {
  std::string name;  // base name within the listed directory
  bool is_dir = false;
  int64_t size = 0;  // files only
};

// Multipart uploads whose parts the client sends straight to the object store (MLflow's proxy multipart:
// `mpu/create|complete|abort`): presigned part URLs, then completion by the server. Object stores only.
class DirectMultipart {
 public:
  virtual ~DirectMultipart() = default;
  struct Created {
    std::string upload_id;
    std::vector<std::string> part_urls;  // part i+1 is PUT to part_urls[i]
  };
  virtual Result<Created> CreateDirectUpload(const std::string& path, int num_parts) = 0;
  virtual Status CompleteDirectUpload(const std::string& path, const std::string& upload_id,
                                      const std::vector<std::pair<int, std::string>>& part_etags) = 0;
  virtual Status AbortDirectUpload(const std::string& path, const std::string& upload_id) = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual Result<std::unique_ptr<BlobWriter>> OpenWriter(const std::string& path) = 0;
  // NotFound when absent; InvalidArgument when the path is a directory.
  virtual Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& path) = 0;
  // Entries of a directory sorted by name; NotFound when it does not exist. "" lists the root.
  virtual Result<std::vector<BlobEntry>> List(const std::string& dir) = 0;
  // Deletes a blob or a whole directory; NotFound when absent.
  virtual Status Delete(const std::string& path) = 0;
  // Copies the blob or directory tree at `from` to `to` (which must not exist yet), published at once:
  // readers see all of `to` or none of it. The copy is independent of the original (deleting or
  // overwriting `from` later leaves `to` intact). NotFound when `from` is absent; AlreadyExists when `to`
  // exists. Local: hard links where possible (O(1) per file), else a byte copy; S3: server-side copy.
  virtual Status CopyTree(const std::string& from, const std::string& to) = 0;
  // Null when the store cannot take parts directly (the local folder).
  virtual DirectMultipart* direct_multipart() { return nullptr; }

  // Batches of small blobs (dataset objects, docs/data.md): a writer whose Commit publishes without waiting
  // for the disk, and one call that makes every blob published that way durable. A caller acknowledges
  // such writes only after SyncUnsynced returned Ok. Default: plain writers, nothing to sync (S3 is durable
  // on commit).
  virtual Result<std::unique_ptr<BlobWriter>> OpenUnsyncedWriter(const std::string& path) {
    return OpenWriter(path);
  }
  virtual Status SyncUnsynced() { return Status::Ok(); }
  // Whether the blob exists (a file). Default: by opening it.
  virtual Result<bool> Exists(const std::string& path) {
    auto r = OpenReader(path);
    if (r.ok()) return true;
    if (r.status().code() == StatusCode::kNotFound) return false;
    return r.status();
  }
  // True when calls may wait on the network (an object store): callers on an I/O thread move them off it.
  virtual bool IsRemote() const { return false; }
};

}  // namespace tamga
