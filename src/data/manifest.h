#pragma once
// A dataset version's manifest (docs/data.md): every file's relative path, size and SHA-256, sorted by path.
// It is stored as an object itself, so a version is named by the digest of its manifest (as a git tree or
// DVC's `.dir`). The text form is canonical (one encoding per manifest), one line per file:
//
//   tamga-manifest 1\n
//   <sha256> <size> <path>\n ...
//
// Paths are '/'-separated, relative, without empty, "." or ".." segments, control characters or a
// backslash, at most 4096 bytes (255 per segment): a manifest can never name a place outside the folder it
// is checked out into. Pure functions, thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tamga {

struct ManifestEntry {
  std::string path;
  int64_t size = 0;
  std::string digest;
  bool operator==(const ManifestEntry&) const = default;
};

struct Manifest {
  std::vector<ManifestEntry> files;  // sorted by path, paths unique
  int64_t TotalSize() const;
};

struct ManifestLimits {
  size_t max_entries = 20'000'000;           // files per version
  size_t max_bytes = size_t{4} << 30;        // encoded size
  int64_t max_file_size = int64_t{1} << 44;  // 16 TiB per file
};

// InvalidArgument (naming the problem) unless `path` is a safe relative data path (see above).
Status ValidateDataPath(std::string_view path);

// Sorts by path; InvalidArgument on an invalid or repeated path, size or digest.
Status Canonicalize(Manifest* m);
// The canonical text; `m` must be canonical.
std::string EncodeManifest(const Manifest& m);
// Parses and checks the text: InvalidArgument (with the line number) on anything but a canonical manifest
// within the limits.
Result<Manifest> DecodeManifest(std::string_view text, const ManifestLimits& limits = {});

struct ManifestDiff {
  std::vector<ManifestEntry> added;                               // in `to` only
  std::vector<ManifestEntry> removed;                             // in `from` only
  std::vector<std::pair<ManifestEntry, ManifestEntry>> modified;  // same path, other content
  size_t unchanged = 0;
  bool empty() const { return added.empty() && removed.empty() && modified.empty(); }
};
// Both canonical. Linear in the sizes.
ManifestDiff DiffManifests(const Manifest& from, const Manifest& to);

}  // namespace tamga
