#include "data/client/workspace.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "data/digest.h"

namespace tamga {
namespace {

bool SkippedName(const char* name, bool is_dir) {
  if (is_dir)
    return std::strcmp(name, ".git") == 0 || std::strcmp(name, ".dvc") == 0 ||
           std::strcmp(name, ".tamga") == 0;
  size_t n = std::strlen(name);
  return n > 6 && std::strcmp(name + n - 6, ".tamga") == 0;
}

int64_t NowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Status WalkDir(const std::string& full, const std::string& rel, std::vector<WalkedFile>* out,
               int64_t* skipped, int depth) {
  if (depth > 128) return InvalidArgument("Folders nested deeper than 128 levels under " + full);
  DIR* d = ::opendir(full.c_str());
  if (d == nullptr) return Internal("open folder " + full + ": " + std::strerror(errno));
  int dfd = ::dirfd(d);
  std::vector<std::pair<std::string, std::string>> subdirs;
  Status s = Status::Ok();
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    WalkedFile f;
    if (::fstatat(dfd, e->d_name, &f.st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished meanwhile
    bool is_dir = S_ISDIR(f.st.st_mode);
    if (SkippedName(e->d_name, is_dir)) continue;
    std::string child_rel = rel.empty() ? e->d_name : rel + "/" + e->d_name;
    if (is_dir) {
      subdirs.emplace_back(full + "/" + e->d_name, std::move(child_rel));
      continue;
    }
    if (!S_ISREG(f.st.st_mode)) {
      ++*skipped;
      continue;
    }
    s = ValidateDataPath(child_rel);
    if (!s.ok()) break;
    f.rel = std::move(child_rel);
    f.full = full + "/" + e->d_name;
    out->push_back(std::move(f));
  }
  ::closedir(d);
  TAMGA_RETURN_IF_ERROR(s);
  for (const auto& [sub_full, sub_rel] : subdirs)
    TAMGA_RETURN_IF_ERROR(WalkDir(sub_full, sub_rel, out, skipped, depth + 1));
  return Status::Ok();
}

}  // namespace

Result<std::vector<WalkedFile>> WalkPath(const std::string& path, bool* is_file, int64_t* skipped) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("No such file or folder: " + path);
    return Internal("stat " + path + ": " + std::strerror(errno));
  }
  std::vector<WalkedFile> out;
  *skipped = 0;
  if (S_ISREG(st.st_mode)) {
    *is_file = true;
    std::string base =
        path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    TAMGA_RETURN_IF_ERROR(ValidateDataPath(base));
    out.push_back({base, path, st});
    return out;
  }
  if (!S_ISDIR(st.st_mode)) return InvalidArgument(path + " is neither a file nor a folder");
  *is_file = false;
  std::string root = path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  TAMGA_RETURN_IF_ERROR(WalkDir(root, "", &out, skipped, 0));
  return out;
}

Result<ScanResult> ScanPath(const std::string& path, HashCache* hashes, LocalCache* cache,
                            const ScanOptions& o) {
  ScanResult r;
  TAMGA_ASSIGN_OR_RETURN(auto files, WalkPath(path, &r.is_file, &r.skipped));
  r.manifest.files.resize(files.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> hashed_files{0}, hashed_bytes{0};
  std::mutex err_mu;
  Status first_error = Status::Ok();
  const int64_t now = NowNs();
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < files.size(); i = next.fetch_add(1)) {
      const WalkedFile& f = files[i];
      FileKey key = FileKey::Of(f.st);
      ManifestEntry& e = r.manifest.files[i];
      e.path = f.rel;
      auto known = hashes ? hashes->Lookup(key) : std::nullopt;
      if (known && (!o.ingest || cache->Has(*known, key.size))) {
        e.digest = *known;
        e.size = key.size;
        if (o.on_file) o.on_file(e.size, false);
        continue;
      }
      Result<FileDigest> d = Internal("unset");
      if (o.ingest) {
        auto in = cache->IngestFile(f.full);
        d = in.ok() ? Result<FileDigest>(in->digest) : Result<FileDigest>(in.status());
      } else {
        d = HashFile(f.full);
      }
      if (!d.ok()) {
        std::lock_guard<std::mutex> l(err_mu);
        if (first_error.ok()) first_error = d.status();
        continue;
      }
      e.digest = d->digest;
      e.size = d->size;
      hashed_files.fetch_add(1);
      hashed_bytes.fetch_add(d->size);
      // Remembered only when the file is still the one that was read.
      struct stat after {};
      if (hashes && ::stat(f.full.c_str(), &after) == 0 && FileKey::Of(after) == key && key.size == d->size)
        hashes->Insert(key, d->digest, now);
      if (o.on_file) o.on_file(d->size, true);
    }
  };
  int n = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n = static_cast<int>(std::min<size_t>(static_cast<size_t>(n), std::max<size_t>(1, files.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  TAMGA_RETURN_IF_ERROR(first_error);
  if (hashes) TAMGA_RETURN_IF_ERROR(hashes->Flush());
  r.hashed_files = hashed_files.load();
  r.hashed_bytes = hashed_bytes.load();
  TAMGA_RETURN_IF_ERROR(Canonicalize(&r.manifest));
  return r;
}

}  // namespace tamga
