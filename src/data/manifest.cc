#include "data/manifest.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "core/utf8.h"
#include "data/digest.h"

namespace tamga {

namespace {
constexpr std::string_view kHeader = "tamga-manifest 1\n";

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 120));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}
}  // namespace

int64_t Manifest::TotalSize() const {
  int64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

Status ValidateDataPath(std::string_view path) {
  auto bad = [&](const char* why) {
    return InvalidArgument("Invalid data path '" + Shown(path) + "': " + why);
  };
  if (path.empty()) return bad("empty");
  if (path.size() > 4096) return bad("longer than 4096 bytes");
  if (path.front() == '/') return bad("absolute paths are not allowed");
  if (!IsValidUtf8(path)) return bad("not valid UTF-8");
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return bad("control characters are not allowed");
    if (c == '\\') return bad("backslashes are not allowed");
  }
  size_t pos = 0;
  int depth = 0;
  while (pos <= path.size()) {
    if (++depth > 128) return bad("deeper than 128 folders");
    size_t slash = path.find('/', pos);
    std::string_view seg =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    if (seg.size() > 255) return bad("a path segment is longer than 255 bytes");
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return Status::Ok();
}

namespace {
Status CheckEntry(const ManifestEntry& e, const ManifestLimits& limits) {
  TAMGA_RETURN_IF_ERROR(ValidateDataPath(e.path));
  TAMGA_RETURN_IF_ERROR(CheckDigest(e.digest));
  if (e.size < 0 || e.size > limits.max_file_size)
    return InvalidArgument("Invalid size " + std::to_string(e.size) + " for '" + Shown(e.path) + "'");
  return Status::Ok();
}

// A file cannot also be a folder of the same version ("a" and "a/b"). Each distinct folder is looked up
// once, so the work is linear in the manifest's size (depth is bounded by ValidateDataPath).
Status CheckNoFileIsAFolder(const Manifest& m) {
  std::unordered_set<std::string_view> files, folders;
  files.reserve(m.files.size());
  for (const auto& f : m.files) files.insert(f.path);
  for (const auto& f : m.files) {
    std::string_view p = f.path;
    for (size_t slash = p.rfind('/'); slash != std::string_view::npos; slash = p.rfind('/')) {
      p = p.substr(0, slash);
      if (!folders.insert(p).second) break;
      if (files.count(p) != 0) return InvalidArgument("'" + Shown(p) + "' is both a file and a folder");
    }
  }
  return Status::Ok();
}
}  // namespace

Status Canonicalize(Manifest* m) {
  ManifestLimits limits;
  if (m->files.size() > limits.max_entries) return InvalidArgument("Too many files in one version");
  for (const auto& e : m->files) TAMGA_RETURN_IF_ERROR(CheckEntry(e, limits));
  std::sort(m->files.begin(), m->files.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  for (size_t i = 1; i < m->files.size(); ++i) {
    if (m->files[i].path == m->files[i - 1].path)
      return InvalidArgument("The path '" + Shown(m->files[i].path) + "' appears twice");
  }
  return CheckNoFileIsAFolder(*m);
  return Status::Ok();
}

std::string EncodeManifest(const Manifest& m) {
  std::string out(kHeader);
  out.reserve(kHeader.size() + m.files.size() * 100);
  for (const auto& f : m.files) {
    out += f.digest;
    out += ' ';
    out += std::to_string(f.size);
    out += ' ';
    out += f.path;
    out += '\n';
  }
  return out;
}

Result<Manifest> DecodeManifest(std::string_view text, const ManifestLimits& limits) {
  if (text.size() > limits.max_bytes) return InvalidArgument("Manifest larger than the limit");
  if (text.substr(0, kHeader.size()) != kHeader)
    return InvalidArgument("Not a Tamga manifest (expected the line 'tamga-manifest 1')");
  Manifest m;
  size_t pos = kHeader.size();
  size_t line = 1;
  while (pos < text.size()) {
    ++line;
    auto bad = [&](const std::string& why) {
      return InvalidArgument("Manifest line " + std::to_string(line) + ": " + why);
    };
    if (m.files.size() >= limits.max_entries) return bad("too many files");
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return bad("missing the final newline");
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (l.size() < 68 || l[64] != ' ') return bad("expected '<sha256> <size> <path>'");
    ManifestEntry e;
    e.digest = std::string(l.substr(0, 64));
    std::string_view rest = l.substr(65);
    size_t sp = rest.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp > 19) return bad("expected '<sha256> <size> <path>'");
    std::string_view num = rest.substr(0, sp);
    if (num.size() > 1 && num[0] == '0') return bad("size with a leading zero");
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), e.size);
    if (ec != std::errc() || p != num.data() + num.size()) return bad("invalid size");
    e.path = std::string(rest.substr(sp + 1));
    Status s = CheckEntry(e, limits);
    if (!s.ok()) return bad(s.message());
    if (!m.files.empty()) {
      const std::string& prev = m.files.back().path;
      if (!(prev < e.path)) return bad("paths not sorted or repeated");
    }
    m.files.push_back(std::move(e));
  }
  TAMGA_RETURN_IF_ERROR(CheckNoFileIsAFolder(m));
  return m;
}

ManifestDiff DiffManifests(const Manifest& from, const Manifest& to) {
  ManifestDiff d;
  size_t i = 0, j = 0;
  while (i < from.files.size() || j < to.files.size()) {
    if (j == to.files.size() || (i < from.files.size() && from.files[i].path < to.files[j].path)) {
      d.removed.push_back(from.files[i++]);
    } else if (i == from.files.size() || to.files[j].path < from.files[i].path) {
      d.added.push_back(to.files[j++]);
    } else {
      if (from.files[i].digest != to.files[j].digest || from.files[i].size != to.files[j].size)
        d.modified.emplace_back(from.files[i], to.files[j]);
      else
        ++d.unchanged;
      ++i;
      ++j;
    }
  }
  return d;
}

}  // namespace tamga
