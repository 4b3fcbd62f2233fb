#pragma once
// Copies every artifact from one destination to another (folder <-> S3), for `tamga admin migrate`: files the
// destination already has with the same size are skipped (so a rerun resumes), every copy is streamed, read
// back and its SHA-256 compared with the source's.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "artifacts/blob_store.h"
#include "core/clock.h"
#include "core/random.h"

namespace tamga {

struct ArtifactCopyReport {
  int64_t copied = 0;
  int64_t skipped = 0;
  int64_t bytes = 0;
};

// file:///dir, a path, or s3://bucket/prefix (S3 settings from the environment, as the server reads them).
Result<std::unique_ptr<BlobStore>> OpenBlobStore(const std::string& uri, Clock* clock, Random* random);

Result<ArtifactCopyReport> CopyArtifacts(const std::string& from, const std::string& to, Clock* clock,
                                         Random* random, const std::function<void(const std::string&)>& say);

}  // namespace tamga
