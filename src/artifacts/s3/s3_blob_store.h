#pragma once
// S3BlobStore: BlobStore on an S3-compatible bucket (Ceph RGW, MinIO, AWS; docs/scale-out.md). Blob paths
// become keys under the configured prefix ("<prefix>/<path>"); folders are key prefixes.
//
// - Writes stream: bytes are cut into parts of `part_size` and uploaded as a multipart upload, at most
//   `parallel_parts` at once, so an upload of any size holds about (parallel_parts + 1) x part_size in
//   memory. A blob smaller than one part is a single PUT. Commit completes the upload and checks the object's
//   size with a HEAD (some servers answer CompleteMultipartUpload without an ETag); an abandoned writer
//   aborts its upload. S3 publishes an object atomically: readers see the old blob or the new one.
// - Reads stream in ranged GETs of `read_chunk` with one chunk fetched ahead, pinned to the ETag seen when
//   the reader opened (an object overwritten mid-read fails the read instead of mixing two versions).
// - CopyTree is a server-side copy per object (multipart copy above 5 GiB). Unlike the local store it is
//   not atomic: a reader listing `to` during the copy may see part of it. The registry copies into a fresh
//   folder no one reads before the copy returns, so that is enough for it.
// - S3 has no directories: a file and a folder may share a name ("a/b" and "a/b/c"); listing shows both.
//
// Thread-safe; readers and writers are used by one thread at a time.
#include <memory>
#include <string>

#include "artifacts/blob_store.h"
#include "artifacts/s3/s3_client.h"

namespace tamga {

class S3BlobStore final : public BlobStore, public DirectMultipart {
 public:
  struct Options {
    size_t part_size = 8u << 20;  // >= 5 MiB: S3 refuses smaller parts except the last
    int parallel_parts = 4;
    size_t read_chunk = 8u << 20;
    int parallel_copies = 8;
  };
  // Checks the bucket answers (a clear start-up error for a wrong endpoint, bucket or key).
  static Result<std::unique_ptr<S3BlobStore>> Create(const Options& options, S3Config config, Clock* clock);

  Result<std::unique_ptr<BlobWriter>> OpenWriter(const std::string& path) override;
  Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& path) override;
  Result<std::vector<BlobEntry>> List(const std::string& dir) override;
  Status Delete(const std::string& path) override;
  Status CopyTree(const std::string& from, const std::string& to) override;

  DirectMultipart* direct_multipart() override { return this; }
  Result<bool> Exists(const std::string& path) override;  // one HEAD
  bool IsRemote() const override { return true; }
  // Part URLs are presigned for an hour.
  Result<Created> CreateDirectUpload(const std::string& path, int num_parts) override;
  Status CompleteDirectUpload(const std::string& path, const std::string& upload_id,
                              const std::vector<std::pair<int, std::string>>& part_etags) override;
  Status AbortDirectUpload(const std::string& path, const std::string& upload_id) override;

  S3Client& client() { return *client_; }

 private:
  S3BlobStore(const Options& options, std::shared_ptr<S3Client> client)
      : options_(options), client_(std::move(client)) {}
  Result<std::string> Key(const std::string& path, bool allow_root) const;
  // Every key under `dir_key` + "/" (recursively), in key order.
  Result<std::vector<S3Object>> ListAll(const std::string& dir_key, size_t limit = SIZE_MAX);
  Status CopyObject(const std::string& from_key, int64_t size, const std::string& to_key);

  Options options_;
  std::shared_ptr<S3Client> client_;
};

}  // namespace tamga
