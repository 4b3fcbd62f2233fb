#include "data/client/dvc_interop.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/yaml_limits.h"
#include "data/client/parallel.h"
#include "data/dataset_ref.h"
#include "data/digest.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

std::string BaseOf(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::string text(max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max) return InvalidArgument(path + " is larger than " + std::to_string(max) + " bytes");
  return text;
}

// Where a root keeps the object: DVC 3's files/md5/ab/cdef, else DVC 2's ab/cdef.
std::string FindObject(const std::vector<std::string>& roots, const std::string& md5, bool dir) {
  std::string tail = md5.substr(0, 2) + "/" + md5.substr(2) + (dir ? ".dir" : "");
  for (const auto& r : roots) {
    for (const std::string& p : {r + "/files/md5/" + tail, r + "/" + tail}) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return p;
    }
  }
  return "";
}

std::string Md5Of(std::string_view bytes) {
  Md5Hasher h;
  h.Update(bytes);
  return h.FinishHex();
}

}  // namespace

Result<std::vector<DvcOut>> ParseDvcFile(std::string_view yaml) {
  YamlLimits limits;
  limits.max_bytes = 1 << 20;
  if (yaml.size() > limits.max_bytes) return InvalidArgument(".dvc file larger than 1 MiB");
  TAMGA_RETURN_IF_ERROR(CheckYamlStructure(yaml, limits));
  std::vector<DvcOut> outs;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap() || !root["outs"] || !root["outs"].IsSequence())
      return InvalidArgument("not a .dvc file (no 'outs' list)");
    for (const auto& o : root["outs"]) {
      if (!o.IsMap() || !o["md5"] || !o["path"] || !o["md5"].IsScalar() || !o["path"].IsScalar())
        return InvalidArgument(".dvc out without md5 and path");
      if (o["hash"] && o["hash"].as<std::string>() != "md5")
        return InvalidArgument("unsupported DVC hash '" + o["hash"].as<std::string>().substr(0, 40) +
                               "' (only md5 outs of DVC 3 and DVC 2 are read)");
      DvcOut out;
      out.md5 = o["md5"].as<std::string>();
      if (out.md5.size() > 4 && out.md5.compare(out.md5.size() - 4, 4, ".dir") == 0) {
        out.is_dir = true;
        out.md5.resize(out.md5.size() - 4);
      }
      if (!IsMd5Hex(out.md5)) return InvalidArgument("invalid md5 in .dvc file");
      out.path = o["path"].as<std::string>();
      TAMGA_RETURN_IF_ERROR(ValidateDataPath(out.path));
      if (o["size"]) out.size = o["size"].as<int64_t>();
      outs.push_back(std::move(out));
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("invalid .dvc file: ") + e.what());
  }
  if (outs.empty()) return InvalidArgument(".dvc file with no outs");
  return outs;
}

Result<std::vector<DvcDirEntry>> ParseDvcDirListing(std::string_view json) {
  TAMGA_ASSIGN_OR_RETURN(auto j, ParseJson(json));
  if (!j.is_array()) return InvalidArgument("a DVC .dir listing is a JSON list");
  std::vector<DvcDirEntry> out;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("md5") || !e.contains("relpath") || !e["md5"].is_string() ||
        !e["relpath"].is_string())
      return InvalidArgument("a .dir entry needs md5 and relpath");
    DvcDirEntry d{e["md5"].get<std::string>(), e["relpath"].get<std::string>()};
    if (!IsMd5Hex(d.md5)) return InvalidArgument("invalid md5 in a .dir listing");
    TAMGA_RETURN_IF_ERROR(ValidateDataPath(d.relpath));
    out.push_back(std::move(d));
  }
  return out;
}

std::string EncodeDvcDirListing(std::vector<DvcDirEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const DvcDirEntry& a, const DvcDirEntry& b) { return a.relpath < b.relpath; });
  std::string out = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ", ";
    out += "{\"md5\": \"" + entries[i].md5 + "\", \"relpath\": " + nlohmann::json(entries[i].relpath).dump() +
           "}";
  }
  return out + "]";
}

std::vector<std::string> DvcLocalRemotes(const std::string& project) {
  std::vector<std::string> out;
  for (const char* name : {"config", "config.local"}) {
    auto text = ReadSmallFile(project + "/.dvc/" + name, 1 << 20);
    if (!text.ok()) continue;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = line.substr(0, eq);
      key.erase(0, key.find_first_not_of(" \t"));
      key.erase(key.find_last_not_of(" \t") + 1);
      if (key != "url") continue;
      std::string url = line.substr(eq + 1);
      url.erase(0, url.find_first_not_of(" \t"));
      url.erase(url.find_last_not_of(" \t\r") + 1);
      if (url.empty() || url.find("://") != std::string::npos) continue;
      out.push_back(url[0] == '/' ? url : (fs::path(project) / ".dvc" / url).lexically_normal().string());
    }
  }
  return out;
}

Result<std::vector<DvcImported>> ImportDvcProject(const DataContext& ctx, const std::string& project,
                                                  const DvcImportOptions& o) {
  std::vector<std::string> dvc_files;
  std::error_code ec;
  fs::recursive_directory_iterator it(project, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return NotFound("cannot read the project folder " + project + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    std::string name = it->path().filename().string();
    if (it->is_directory(ec) && (name == ".git" || name == ".dvc")) {
      it.disable_recursion_pending();
      continue;
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".dvc") == 0 && it->is_regular_file(ec) &&
        !it->is_symlink(ec))
      dvc_files.push_back(it->path().lexically_normal().string());
  }
  std::sort(dvc_files.begin(), dvc_files.end());
  if (dvc_files.empty()) return NotFound("no .dvc files under " + project);

  std::vector<DvcImported> out;
  for (const auto& dvc : dvc_files) {
    TAMGA_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(dvc, 1 << 20));
    auto outs = ParseDvcFile(text);
    if (!outs.ok()) return InvalidArgument(dvc + ": " + outs.status().message());
    for (const DvcOut& d : *outs) {
      auto t0 = std::chrono::steady_clock::now();
      std::vector<DvcDirEntry> entries;
      if (d.is_dir) {
        std::string listing_path = FindObject(o.object_roots, d.md5, true);
        if (listing_path.empty())
          return NotFound(dvc + ": the listing " + d.md5 + ".dir of '" + d.path +
                          "' is in none of the DVC caches or remotes given");
        TAMGA_ASSIGN_OR_RETURN(std::string listing, ReadSmallFile(listing_path, size_t{1} << 30));
        if (Md5Of(listing) != d.md5) return InvalidArgument(listing_path + " does not match its md5");
        auto parsed = ParseDvcDirListing(listing);
        if (!parsed.ok()) return InvalidArgument(listing_path + ": " + parsed.status().message());
        entries = std::move(*parsed);
      } else {
        entries.push_back({d.md5, BaseOf(d.path)});
      }
      Manifest m;
      m.files.resize(entries.size());
      DvcImported r;
      std::atomic<int64_t> bytes{0};
      TAMGA_RETURN_IF_ERROR(ParallelFor(entries.size(), ctx.threads, [&](size_t i) -> Status {
        const DvcDirEntry& e = entries[i];
        std::string path = FindObject(o.object_roots, e.md5, false);
        if (path.empty())
          return NotFound(dvc + ": the object " + e.md5 + " of '" + e.relpath +
                          "' is in none of the DVC caches or remotes given");
        std::string md5;
        TAMGA_ASSIGN_OR_RETURN(auto in, ctx.cache->IngestFile(path, &md5));
        if (md5 != e.md5)
          return InvalidArgument(
              path + " (for '" + e.relpath + "') does not match its md5 " + e.md5 +
              " (a DVC 2 text file hashed after line-ending conversion, or a damaged cache)");
        m.files[i] = {e.relpath, in.digest.size, in.digest.digest};
        bytes.fetch_add(in.digest.size);
        return Status::Ok();
      }));
      TAMGA_RETURN_IF_ERROR(Canonicalize(&m));
      TAMGA_ASSIGN_OR_RETURN(std::string manifest, ctx.cache->PutBytes(EncodeManifest(m)));
      DataPointer& p = r.added.pointer;
      p.dataset = !o.name.empty() && outs->size() == 1 && dvc_files.size() == 1
                      ? o.name
                      : DatasetNameFrom(BaseOf(d.path));
      TAMGA_RETURN_IF_ERROR(ValidateDatasetName(p.dataset));
      p.path = BaseOf(d.path);
      p.is_file = !d.is_dir;
      p.manifest = manifest;
      p.files = static_cast<int64_t>(m.files.size());
      p.size = m.TotalSize();
      r.added.pointer_path = (fs::path(dvc).parent_path() / (d.path + ".tamga")).lexically_normal().string();
      std::error_code mk;
      fs::create_directories(fs::path(r.added.pointer_path).parent_path(), mk);
      TAMGA_RETURN_IF_ERROR(WritePointer(r.added.pointer_path, p));
      r.added.hashed_files = p.files;
      r.added.hashed_bytes = bytes.load();
      r.added.changed = true;
      r.added.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.dvc_file = dvc;
      out.push_back(std::move(r));
    }
  }
  return out;
}

Result<DvcExported> ExportDvcRemote(const DataContext& ctx, const Manifest& m, const std::string& remote,
                                    const std::string& out_path) {
  TAMGA_RETURN_IF_ERROR(ValidateDataPath(out_path));
  std::vector<DvcDirEntry> entries(m.files.size());
  std::atomic<int64_t> written{0};
  auto place = [&](const std::string& md5, const std::string& tmp, bool dir) -> Status {
    std::string final_path =
        remote + "/files/md5/" + md5.substr(0, 2) + "/" + md5.substr(2) + (dir ? ".dir" : "");
    std::error_code ec;
    fs::create_directories(fs::path(final_path).parent_path(), ec);
    if (fs::exists(final_path, ec)) {
      ::unlink(tmp.c_str());
      return Status::Ok();
    }
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      Status s = Internal("write " + final_path + ": " + std::strerror(errno));
      ::unlink(tmp.c_str());
      return s;
    }
    written.fetch_add(1);
    return Status::Ok();
  };
  std::error_code ec;
  fs::create_directories(remote + "/files/md5", ec);
  if (ec) return Internal("create " + remote + ": " + ec.message());
  TAMGA_RETURN_IF_ERROR(ParallelFor(m.files.size(), ctx.threads, [&](size_t i) -> Status {
    const ManifestEntry& f = m.files[i];
    int in = ::open(ctx.cache->ObjectPath(f.digest).c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return NotFound("object of '" + f.path + "' is not in the local cache");
    std::string tmp = remote + "/files/md5/.tamga-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
      ::close(in);
      return Internal("create " + tmp + ": " + std::strerror(errno));
    }
    Md5Hasher md5;
    Sha256Hasher sha;
    std::vector<char> buf(1 << 20);
    Status s = Status::Ok();
    for (;;) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      md5.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (::write(out, buf.data(), static_cast<size_t>(n)) != n) {
        s = Internal("write " + tmp + ": " + std::strerror(errno));
        break;
      }
    }
    ::close(in);
    ::close(out);
    if (s.ok() && sha.FinishHex() != f.digest) s = Internal("cached object of '" + f.path + "' is corrupted");
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    entries[i] = {md5.FinishHex(), f.path};
    return place(entries[i].md5, tmp, false);
  }));
  std::string listing = EncodeDvcDirListing(entries);
  std::string listing_md5 = Md5Of(listing);
  std::string tmp = remote + "/files/md5/.tamga-" + std::to_string(::getpid()) + "-dir";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << listing;
    if (!f) return Internal("write " + tmp);
  }
  TAMGA_RETURN_IF_ERROR(place(listing_md5, tmp, true));
  DvcExported r;
  r.written = written.load();
  r.dvc_file_text = "outs:\n- md5: " + listing_md5 + ".dir\n  size: " + std::to_string(m.TotalSize()) +
                    "\n  nfiles: " + std::to_string(m.files.size()) +
                    "\n  hash: md5\n  path: " + nlohmann::json(out_path).dump() + "\n";
  return r;
}

}  // namespace tamga
