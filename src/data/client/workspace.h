#pragma once
// Scanning a workspace path into a manifest (docs/data.md): the files under a folder (or one file), hashed in
// parallel on every core, each unchanged file answered by the hash cache without being read. With `ingest`,
// files are copied into the local cache as they are hashed (one read per changed file). Skipped: `.git`,
// `.dvc` and `.tamga` folders, `*.tamga` pointer files, symbolic links and special files (counted).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/client/hash_cache.h"
#include "data/client/local_cache.h"
#include "data/manifest.h"

namespace tamga {

struct ScanOptions {
  bool ingest = false;  // copy changed files into the cache (add), or only hash them (status)
  int threads = 0;      // 0 = every core
  // Called from worker threads as files complete (bytes of that file; hashed = it was read).
  std::function<void(int64_t bytes, bool hashed)> on_file;
};

struct ScanResult {
  Manifest manifest;
  bool is_file = false;      // the path is one file: the manifest holds it under its base name
  int64_t hashed_files = 0;  // read (not answered by the hash cache)
  int64_t hashed_bytes = 0;
  int64_t skipped = 0;  // links and special files
};

// NotFound when the path does not exist; InvalidArgument for a name a manifest cannot hold.
Result<ScanResult> ScanPath(const std::string& path, HashCache* hashes, LocalCache* cache,
                            const ScanOptions& o);

// The files under `path` with their stat, without hashing (status compares these with a manifest first).
struct WalkedFile {
  std::string rel;   // manifest path
  std::string full;  // on disk
  struct stat st;
};
Result<std::vector<WalkedFile>> WalkPath(const std::string& path, bool* is_file, int64_t* skipped);

}  // namespace tamga
