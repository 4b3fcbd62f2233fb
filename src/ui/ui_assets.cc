#include "ui/ui_assets.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/hmac.h"

namespace tamga {
namespace {

class EmbeddedAssets : public UiAssets {
 public:
  const UiAsset* Find(std::string_view name) const override {
    for (const UiAsset& a : EmbeddedUiAssets()) {
      if (a.name == name) return &a;
    }
    return nullptr;
  }
  bool Empty() const override { return EmbeddedUiAssets().empty(); }
};

std::string_view TypeFor(std::string_view name) {
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

bool ReadAll(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

class DirAssets : public UiAssets {
 public:
  struct Owned {
    std::string name, type, body, gzip, etag;
  };
  explicit DirAssets(std::vector<Owned> files) : files_(std::move(files)) {
    for (const Owned& f : files_) {
      bool hashed = std::count(f.name.begin(), f.name.end(), '.') >= 2 && f.name.rfind("app.", 0) == 0;
      views_.push_back(UiAsset{f.name, f.type, f.body, f.gzip, f.etag, hashed});
    }
  }
  const UiAsset* Find(std::string_view name) const override {
    for (const UiAsset& a : views_) {
      if (a.name == name) return &a;
    }
    return nullptr;
  }
  bool Empty() const override { return views_.empty(); }

 private:
  std::vector<Owned> files_;
  std::vector<UiAsset> views_;
};

}  // namespace

std::unique_ptr<UiAssets> NewEmbeddedUiAssets() { return std::make_unique<EmbeddedAssets>(); }

std::unique_ptr<UiAssets> LoadUiAssetsFromDir(const std::string& dir, std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<DirAssets::Owned> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    auto ends = [&](std::string_view s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (ends(".gz") || ends(".cc")) continue;
    DirAssets::Owned f;
    f.name = name;
    f.type = std::string(TypeFor(name));
    if (!ReadAll(e.path(), &f.body)) {
      *error = "cannot read " + e.path().string();
      return nullptr;
    }
    ReadAll(fs::path(e.path()).concat(".gz"), &f.gzip);  // optional
    f.etag = Sha256Hex(f.body).substr(0, 12);
    files.push_back(std::move(f));
  }
  if (ec) {
    *error = "cannot list --ui-dir " + dir + ": " + ec.message();
    return nullptr;
  }
  bool has_index =
      std::any_of(files.begin(), files.end(), [](const auto& f) { return f.name == "index.html"; });
  if (!has_index) {
    *error = "--ui-dir " + dir + " has no index.html (build it with: node web/build.mjs --out " + dir + ")";
    return nullptr;
  }
  return std::make_unique<DirAssets>(std::move(files));
}

}  // namespace tamga
