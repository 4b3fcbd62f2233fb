#pragma once
// Pointer files (docs/data.md): `data.tamga` beside the folder or file `data`, small enough to commit to git
// in its place (as DVC's `.dvc` files). JSON (which is also YAML):
//   {"tamga_data": 1, "dataset": "mnist", "path": "data", "kind": "dir", "manifest": "<sha256>",
//    "files": 70000, "size": 54000000, "version": 3}
// `version` appears once the data is pushed. A pointer is read with limits and checked: its path must stay
// in the pointer's folder, its manifest must be a digest. Pure functions plus file I/O; thread-safe.
#include <cstdint>
#include <string>

#include "core/result.h"

namespace tamga {

struct DataPointer {
  std::string dataset;
  std::string path;  // relative to the pointer's folder: one segment, no '/'
  bool is_file = false;
  std::string manifest;
  int64_t files = 0;
  int64_t size = 0;
  int64_t version = 0;  // 0 = not pushed
};

// The pointer file's path for a data path ("data/" -> "data.tamga").
std::string PointerPathFor(const std::string& data_path);
// A pointer file's data path (its folder + `path`).
std::string DataPathOf(const std::string& pointer_path, const DataPointer& p);

Result<DataPointer> ParsePointer(std::string_view text);
std::string FormatPointer(const DataPointer& p);
// NotFound, InvalidArgument (naming the file) for a pointer that is not valid.
Result<DataPointer> ReadPointer(const std::string& path);
// Written atomically (temporary file + rename).
Status WritePointer(const std::string& path, const DataPointer& p);

}  // namespace tamga
