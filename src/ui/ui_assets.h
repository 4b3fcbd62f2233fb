#pragma once
// The web UI's static assets (web/, docs/ui.md): built by web/build.mjs and embedded in the binary, or read
// from a folder given with `tamga server --ui-dir` (UI development without relinking). Depends on core only,
// no other subsystem.
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tamga {

struct UiAsset {
  std::string_view name;          // "index.html", "app.3f2a9c0d1e2b.js" (no directories)
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view gzip;   // the same bytes gzip-compressed (level 9); may be empty
  std::string_view etag;   // content hash, unquoted
  bool immutable = false;  // content-hashed name: cacheable forever
};

// The assets compiled into this binary; empty when it was built with -DTAMGA_BUILD_UI=OFF.
std::span<const UiAsset> EmbeddedUiAssets();

// Where the server finds its assets: the embedded set, or a folder written by web/build.mjs.
class UiAssets {
 public:
  virtual ~UiAssets() = default;
  // nullptr when there is no such asset. The returned asset stays valid as long as this object.
  virtual const UiAsset* Find(std::string_view name) const = 0;
  virtual bool Empty() const = 0;
};

std::unique_ptr<UiAssets> NewEmbeddedUiAssets();
// Loads every file of `dir` (as web/build.mjs wrote it: NAME and NAME.gz) once, at start-up.
// Returns nullptr and sets *error when the folder cannot be read or has no index.html.
std::unique_ptr<UiAssets> LoadUiAssetsFromDir(const std::string& dir, std::string* error);

}  // namespace tamga
