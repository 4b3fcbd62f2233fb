#include "data/client/data_workflow.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "data/client/parallel.h"
#include "data/client/workspace.h"
#include "data/dataset_ref.h"
#include "data/digest.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

std::string DatasetNameFrom(const std::string& base) {
  std::string n;
  for (char c : base)
    n += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '-';
  while (!n.empty() && !std::isalnum(static_cast<unsigned char>(n[0]))) n.erase(0, 1);
  return n.substr(0, 128);
}

namespace {

// The digest of a workspace file: from the hash cache, else by reading it (and remembering it).
Result<std::string> DigestOf(const DataContext& ctx, const WalkedFile& f, int64_t now_ns) {
  FileKey key = FileKey::Of(f.st);
  if (auto known = ctx.hashes ? ctx.hashes->Lookup(key) : std::nullopt) return *known;
  TAMGA_ASSIGN_OR_RETURN(FileDigest d, HashFile(f.full));
  if (ctx.hashes && d.size == key.size) ctx.hashes->Insert(key, d.digest, now_ns);
  return d.digest;
}

// Creates `dir` below `root` (both on disk), refusing a symbolic link or a file on the way.
Status MakeDirs(const std::string& root, const std::string& rel_dir, std::set<std::string>* made,
                std::mutex* mu) {
  if (rel_dir.empty()) return Status::Ok();
  {
    std::lock_guard<std::mutex> l(*mu);
    if (made->count(rel_dir)) return Status::Ok();
  }
  std::string cur = root;
  size_t pos = 0;
  while (pos <= rel_dir.size()) {
    size_t slash = rel_dir.find('/', pos);
    std::string seg = rel_dir.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    cur += "/" + seg;
    struct stat st {};
    if (::lstat(cur.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode))
        return FailedPrecondition(cur + " is a symbolic link; checkout does not write through links");
      if (!S_ISDIR(st.st_mode))
        return FailedPrecondition(cur + " is a file where the data needs a folder (use --force)");
    } else if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return Internal("create " + cur + ": " + std::strerror(errno));
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  std::lock_guard<std::mutex> l(*mu);
  made->insert(rel_dir);
  return Status::Ok();
}

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

Result<std::vector<std::string>> FindPointers(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return Internal("list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const auto& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec) && !it->is_symlink(ec) && !name.empty() && name[0] == '.') {
      it.disable_recursion_pending();
      continue;
    }
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".tamga") == 0 && it->is_regular_file(ec))
      out.push_back(p.lexically_normal().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Manifest> LoadManifest(const DataContext& ctx, const std::string& dataset, const std::string& digest) {
  auto text = ctx.cache->ReadBytes(digest, int64_t{4} << 30);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound && ctx.remote != nullptr) {
    TAMGA_RETURN_IF_ERROR(ctx.remote->FetchObject(dataset, digest, ctx.cache));
    text = ctx.cache->ReadBytes(digest, int64_t{4} << 30);
  }
  if (!text.ok()) return text.status();
  return DecodeManifest(*text);
}

Result<AddResult> AddPath(const DataContext& ctx, const std::string& path, const std::string& name) {
  auto t0 = std::chrono::steady_clock::now();
  AddResult r;
  r.pointer_path = PointerPathFor(path);
  auto previous = ReadPointer(r.pointer_path);
  if (!previous.ok() && previous.status().code() != StatusCode::kNotFound) return previous.status();
  std::string dataset = !name.empty()   ? name
                        : previous.ok() ? previous->dataset
                                        : DatasetNameFrom(BaseName(path));
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(dataset));
  ScanOptions so;
  so.ingest = true;
  so.threads = ctx.threads;
  TAMGA_ASSIGN_OR_RETURN(ScanResult scan, ScanPath(path, ctx.hashes, ctx.cache, so));
  TAMGA_ASSIGN_OR_RETURN(std::string manifest, ctx.cache->PutBytes(EncodeManifest(scan.manifest)));
  DataPointer& p = r.pointer;
  p.dataset = dataset;
  p.path = BaseName(path);
  p.is_file = scan.is_file;
  p.manifest = manifest;
  p.files = static_cast<int64_t>(scan.manifest.files.size());
  p.size = scan.manifest.TotalSize();
  r.changed = !previous.ok() || previous->manifest != manifest || previous->dataset != dataset;
  // The version stays with the pointer while the data it names is the same.
  if (!r.changed) p.version = previous->version;
  TAMGA_RETURN_IF_ERROR(WritePointer(r.pointer_path, p));
  r.hashed_files = scan.hashed_files;
  r.hashed_bytes = scan.hashed_bytes;
  r.skipped = scan.skipped;
  r.seconds = Since(t0);
  return r;
}

Result<PushResult> PushPointer(const DataContext& ctx, const std::string& pointer_path,
                               const PushOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  if (ctx.remote == nullptr) return FailedPrecondition("push needs a server");
  TAMGA_ASSIGN_OR_RETURN(DataPointer p, ReadPointer(pointer_path));
  TAMGA_ASSIGN_OR_RETURN(std::string text, ctx.cache->ReadBytes(p.manifest, int64_t{4} << 30));
  TAMGA_ASSIGN_OR_RETURN(Manifest m, DecodeManifest(text));
  TAMGA_RETURN_IF_ERROR(ctx.remote->EnsureDataset(p.dataset));
  std::unordered_map<std::string, int64_t> sizes;
  for (const auto& f : m.files) sizes.emplace(f.digest, f.size);
  sizes.emplace(p.manifest, static_cast<int64_t>(text.size()));
  std::vector<std::string> digests;
  digests.reserve(sizes.size());
  for (const auto& [g, _] : sizes) digests.push_back(g);
  TAMGA_ASSIGN_OR_RETURN(auto missing, ctx.remote->Missing(p.dataset, digests));
  std::vector<DatasetObject> upload;
  int64_t bytes = 0;
  for (const auto& g : missing) {
    auto it = sizes.find(g);
    if (it == sizes.end()) continue;
    if (!ctx.cache->Has(g, it->second))
      return FailedPrecondition("object " + g + " of " + pointer_path +
                                " is not in the local cache; run `tamga data add` on its data again");
    upload.push_back({g, it->second});
    bytes += it->second;
  }
  // Big objects first: the parallel uploads finish together.
  std::sort(upload.begin(), upload.end(),
            [](const DatasetObject& a, const DatasetObject& b) { return a.size > b.size; });
  PushResult r;
  {
    Progress progress("push " + p.dataset, bytes, static_cast<int64_t>(upload.size()));
    TAMGA_ASSIGN_OR_RETURN(auto t, ctx.remote->Upload(p.dataset, upload, ctx.cache, &progress));
    r.uploaded_objects = t.objects;
    r.uploaded_bytes = t.bytes;
  }
  nlohmann::json body = {{"name", p.dataset}, {"manifest", p.manifest}, {"tags", o.tags}};
  if (!o.message.empty()) body["message"] = o.message;
  TAMGA_ASSIGN_OR_RETURN(auto v, ctx.remote->Call("POST", "/api/2.0/tamga/datasets/versions/create", body));
  if (!v.contains("version") || !v["version"].contains("version") ||
      !v["version"]["version"].is_number_integer())
    return Internal("unexpected answer from versions/create");
  p.version = v["version"]["version"].get<int64_t>();
  r.created = v.value("created", false);
  TAMGA_RETURN_IF_ERROR(WritePointer(pointer_path, p));
  r.pointer = p;
  r.total_objects = static_cast<int64_t>(sizes.size());
  r.seconds = Since(t0);
  return r;
}

Result<Fetched> FetchVersion(const DataContext& ctx, const std::string& dataset, const std::string& manifest,
                             bool download) {
  Fetched r;
  TAMGA_ASSIGN_OR_RETURN(r.manifest, LoadManifest(ctx, dataset, manifest));
  std::vector<DatasetObject> need;
  std::set<std::string> seen;
  int64_t need_bytes = 0;
  for (const auto& f : r.manifest.files) {
    if (seen.insert(f.digest).second && !ctx.cache->Has(f.digest, f.size)) {
      need.push_back({f.digest, f.size});
      need_bytes += f.size;
    }
  }
  if (need.empty()) return r;
  if (!download || ctx.remote == nullptr)
    return FailedPrecondition(std::to_string(need.size()) +
                              " object(s) are not in the local cache; run `tamga data pull`");
  std::sort(need.begin(), need.end(),
            [](const DatasetObject& a, const DatasetObject& b) { return a.size > b.size; });
  Progress progress("pull " + dataset, need_bytes, static_cast<int64_t>(need.size()));
  TAMGA_ASSIGN_OR_RETURN(auto t, ctx.remote->Download(dataset, need, ctx.cache, &progress));
  r.downloaded_objects = t.objects;
  r.downloaded_bytes = t.bytes;
  return r;
}

Result<CheckoutResult> PullManifest(const DataContext& ctx, const std::string& dataset,
                                    const std::string& manifest, const std::string& dest, bool is_file,
                                    bool force, bool download) {
  auto t0 = std::chrono::steady_clock::now();
  CheckoutResult r;
  TAMGA_ASSIGN_OR_RETURN(Fetched fetched, FetchVersion(ctx, dataset, manifest, download));
  const Manifest& m = fetched.manifest;
  r.downloaded_objects = fetched.downloaded_objects;
  r.downloaded_bytes = fetched.downloaded_bytes;
  if (is_file && m.files.size() != 1) return InvalidArgument("a file pointer's manifest must hold one file");

  // 2. The workspace as it is.
  std::string root = dest;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st {};
  if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return FailedPrecondition(root + " is a symbolic link; checkout does not write through links");
  std::unordered_map<std::string, WalkedFile> present;
  bool exists = ::lstat(root.c_str(), &st) == 0;
  if (exists) {
    if (is_file != S_ISREG(st.st_mode)) {
      if (!force)
        return FailedPrecondition(root + (is_file ? " is a folder" : " is a file") + " where the data is " +
                                  (is_file ? "a file" : "a folder") + " (use --force to replace it)");
      std::error_code ec;
      fs::remove_all(root, ec);
      exists = false;
    }
  }
  if (exists) {
    bool walked_file = false;
    int64_t skipped = 0;
    TAMGA_ASSIGN_OR_RETURN(auto files, WalkPath(root, &walked_file, &skipped));
    for (auto& f : files) {
      std::string rel = is_file ? m.files[0].path : f.rel;
      present.emplace(rel, std::move(f));
    }
  } else if (!is_file) {
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return Internal("create " + root + ": " + ec.message());
  }

  // 3. Decide per file; refuse to lose bytes the cache could not restore.
  const int64_t now = NowNs();
  std::vector<const ManifestEntry*> to_write;
  std::vector<std::string> to_remove, conflicts;
  std::mutex mu;
  std::vector<const ManifestEntry*> entries;
  for (const auto& f : m.files) entries.push_back(&f);
  std::vector<int> decision(entries.size(), 0);  // 0 write, 1 unchanged, 2 conflict-write
  TAMGA_RETURN_IF_ERROR(ParallelFor(entries.size(), ctx.threads, [&](size_t i) -> Status {
    auto it = present.find(entries[i]->path);
    if (it == present.end()) return Status::Ok();
    TAMGA_ASSIGN_OR_RETURN(std::string d, DigestOf(ctx, it->second, now));
    if (d == entries[i]->digest) {
      decision[i] = 1;
    } else if (!ctx.cache->Has(d, static_cast<int64_t>(it->second.st.st_size))) {
      decision[i] = 2;
    }
    return Status::Ok();
  }));
  std::set<std::string> wanted;
  for (size_t i = 0; i < entries.size(); ++i) {
    wanted.insert(entries[i]->path);
    if (decision[i] == 1) {
      ++r.unchanged;
      continue;
    }
    if (decision[i] == 2) conflicts.push_back(entries[i]->path);
    to_write.push_back(entries[i]);
  }
  for (const auto& [rel, f] : present) {
    if (wanted.count(rel)) continue;
    to_remove.push_back(rel);
    auto d = DigestOf(ctx, f, now);
    if (!d.ok() || !ctx.cache->Has(*d, static_cast<int64_t>(f.st.st_size))) conflicts.push_back(rel);
  }
  if (ctx.hashes) TAMGA_RETURN_IF_ERROR(ctx.hashes->Flush());
  if (!conflicts.empty() && !force) {
    std::sort(conflicts.begin(), conflicts.end());
    std::string list;
    for (size_t i = 0; i < conflicts.size() && i < 10; ++i) list += "\n  " + conflicts[i];
    if (conflicts.size() > 10) list += "\n  ... and " + std::to_string(conflicts.size() - 10) + " more";
    return FailedPrecondition("checkout would overwrite or delete " + std::to_string(conflicts.size()) +
                              " file(s) whose contents are not saved in the cache:" + list +
                              "\nRun `tamga data add` to keep them, or use --force to discard them.");
  }

  // 4. Apply.
  std::set<std::string> made;
  std::mutex made_mu;
  TAMGA_RETURN_IF_ERROR(ParallelFor(to_write.size(), ctx.threads, [&](size_t i) -> Status {
    const ManifestEntry& e = *to_write[i];
    std::string target = is_file ? root : root + "/" + e.path;
    if (!is_file) TAMGA_RETURN_IF_ERROR(MakeDirs(root, Parent(e.path), &made, &made_mu));
    struct stat cur {};
    if (::lstat(target.c_str(), &cur) == 0 && S_ISDIR(cur.st_mode)) {
      if (!force) return FailedPrecondition(target + " is a folder where the data has a file (use --force)");
      std::error_code ec;
      fs::remove_all(target, ec);
    }
    return ctx.cache->Materialize(e.digest, target, ctx.link);
  }));
  r.written = static_cast<int64_t>(to_write.size());
  for (const auto& rel : to_remove) {
    std::string target = root + "/" + rel;
    if (::unlink(target.c_str()) == 0) ++r.removed;
  }
  r.seconds = Since(t0);
  return r;
}

Result<CheckoutResult> PullPointer(const DataContext& ctx, const std::string& pointer_path, bool force,
                                   bool download) {
  TAMGA_ASSIGN_OR_RETURN(DataPointer p, ReadPointer(pointer_path));
  return PullManifest(ctx, p.dataset, p.manifest, DataPathOf(pointer_path, p), p.is_file, force, download);
}

Result<StatusResult> PointerStatus(const DataContext& ctx, const std::string& pointer_path) {
  StatusResult r;
  TAMGA_ASSIGN_OR_RETURN(r.pointer, ReadPointer(pointer_path));
  TAMGA_ASSIGN_OR_RETURN(Manifest m, LoadManifest(ctx, r.pointer.dataset, r.pointer.manifest));
  std::string path = DataPathOf(pointer_path, r.pointer);
  ScanOptions so;
  so.threads = ctx.threads;
  auto scan = ScanPath(path, ctx.hashes, ctx.cache, so);
  if (!scan.ok()) {
    if (scan.status().code() != StatusCode::kNotFound) return scan.status();
    r.missing_path = true;
    r.diff = DiffManifests(m, Manifest{});
    return r;
  }
  r.diff = DiffManifests(m, scan->manifest);
  return r;
}

}  // namespace tamga
