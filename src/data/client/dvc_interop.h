#pragma once
// DVC interop (docs/data.md, "DVC"): an existing DVC project comes over without its workspace data being
// re-added — its `.dvc` pointer files are read and their objects taken from DVC's cache or a local remote
// folder (`files/md5/ab/cdef…` of DVC 3, or `ab/cdef…` of DVC 2), each verified against its MD5 while it is
// copied into the Tamga cache — and a dataset version can be written out as a DVC remote folder with a `.dvc`
// file, so `dvc pull` reads Tamga's data. Formats as DVC documents them: a `.dvc` file is YAML with
// `outs: [{md5, size, nfiles?, hash?, path}]`, a directory's md5 ends in ".dir" and names a JSON listing
// `[{"md5": …, "relpath": …}, …]` sorted by relpath.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/client/data_workflow.h"

namespace tamga {

struct DvcOut {
  std::string md5;  // without ".dir"
  bool is_dir = false;
  int64_t size = -1;  // -1: not stated
  std::string path;   // relative to the .dvc file's folder
};
// InvalidArgument for anything but a `.dvc` file with at least one well-formed out (YAML limits apply).
Result<std::vector<DvcOut>> ParseDvcFile(std::string_view yaml);

struct DvcDirEntry {
  std::string md5;
  std::string relpath;
};
Result<std::vector<DvcDirEntry>> ParseDvcDirListing(std::string_view json);
std::string EncodeDvcDirListing(std::vector<DvcDirEntry> entries);  // sorted by relpath

struct DvcImportOptions {
  std::vector<std::string> object_roots;  // DVC caches or local remotes, searched in order
  std::string name;  // dataset name for a project with one out ("" = the out's base name)
};
struct DvcImported {
  std::string dvc_file;
  AddResult added;  // the Tamga pointer written beside it
};
// Imports every `.dvc` file under `project` (skipping .git and .dvc). NotFound naming an object no root has;
// InvalidArgument for an object whose bytes do not match its MD5, or a path that leaves the project.
Result<std::vector<DvcImported>> ImportDvcProject(const DataContext& ctx, const std::string& project,
                                                  const DvcImportOptions& o);
// The local remote folders a project's `.dvc/config` names (url = a path, relative to .dvc/).
std::vector<std::string> DvcLocalRemotes(const std::string& project);

struct DvcExported {
  std::string dvc_file_text;  // a .dvc file naming the export
  int64_t written = 0;        // objects written (others were there)
};
// Writes the manifest's files (all in the local cache) into `remote` in DVC 3's layout, with the .dir
// listing, and returns the .dvc file for them under `out_path`.
Result<DvcExported> ExportDvcRemote(const DataContext& ctx, const Manifest& m, const std::string& remote,
                                    const std::string& out_path);

}  // namespace tamga
