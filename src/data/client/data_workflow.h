#pragma once
// The steps behind `tamga data add|push|pull|checkout|status` (docs/data.md), on a local cache, a hash cache
// and (for push and pull) a server. Each returns what it did, for the CLI to print; none prints.
//
// Checkout never loses work: a workspace file it would overwrite or delete must be one whose bytes are in
// the local cache (so they can be restored), unless `force`. It writes only below the data path and refuses
// to write through a symbolic link.
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/client/data_remote.h"
#include "data/client/hash_cache.h"
#include "data/client/local_cache.h"
#include "data/client/pointer_file.h"
#include "data/manifest.h"

namespace tamga {

struct DataContext {
  LocalCache* cache = nullptr;
  HashCache* hashes = nullptr;
  DataRemote* remote = nullptr;  // null: offline steps only
  LinkMode link = LinkMode::kReflink;
  int threads = 0;  // hashing threads; 0 = every core
};

struct AddResult {
  std::string pointer_path;
  DataPointer pointer;
  int64_t hashed_files = 0;
  int64_t hashed_bytes = 0;
  int64_t skipped = 0;
  bool changed = false;  // the manifest differs from the pointer's previous one
  double seconds = 0;
};
// Hashes `path` into the cache and writes its pointer file; `name` "" = the pointer's dataset, else the
// path's base name.
Result<AddResult> AddPath(const DataContext& ctx, const std::string& path, const std::string& name);

struct PushOptions {
  std::vector<std::string> tags;
  std::string message;
};
struct PushResult {
  DataPointer pointer;
  int64_t uploaded_objects = 0;
  int64_t uploaded_bytes = 0;
  int64_t total_objects = 0;
  bool created = false;  // a new version (else the latest already had this data)
  double seconds = 0;
};
Result<PushResult> PushPointer(const DataContext& ctx, const std::string& pointer_path, const PushOptions& o);

struct CheckoutResult {
  int64_t written = 0;  // files placed
  int64_t unchanged = 0;
  int64_t removed = 0;
  int64_t downloaded_objects = 0;
  int64_t downloaded_bytes = 0;
  double seconds = 0;
};
// Downloads what the local cache lacks (with a remote), then checks out into `dest` (a folder; or the file
// path itself when `is_file`).
Result<CheckoutResult> PullManifest(const DataContext& ctx, const std::string& dataset,
                                    const std::string& manifest, const std::string& dest, bool is_file,
                                    bool force, bool download);

// The manifest and every object it names in the local cache, downloading what is missing (with a remote).
struct Fetched {
  Manifest manifest;
  int64_t downloaded_objects = 0;
  int64_t downloaded_bytes = 0;
};
Result<Fetched> FetchVersion(const DataContext& ctx, const std::string& dataset, const std::string& manifest,
                             bool download);

// pull/checkout of a pointer file: its dataset's manifest into its data path.
Result<CheckoutResult> PullPointer(const DataContext& ctx, const std::string& pointer_path, bool force,
                                   bool download);

struct StatusResult {
  DataPointer pointer;
  ManifestDiff diff;  // from the pointer's manifest to the workspace
  bool missing_path = false;
};
Result<StatusResult> PointerStatus(const DataContext& ctx, const std::string& pointer_path);

// The manifest with this digest from the cache, fetched from the remote when missing there.
Result<Manifest> LoadManifest(const DataContext& ctx, const std::string& dataset, const std::string& digest);

// A dataset name from a file or folder name: characters a name cannot hold become '-'.
std::string DatasetNameFrom(const std::string& base);

// Pointer files under `dir` (recursively, skipping .git and hidden folders), sorted.
Result<std::vector<std::string>> FindPointers(const std::string& dir);

}  // namespace tamga
