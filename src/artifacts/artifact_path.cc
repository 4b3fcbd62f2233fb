#include "artifacts/artifact_path.h"

namespace tamga {

Result<std::string> ValidateArtifactPath(std::string_view path, bool allow_root) {
  if (path.size() > 4096) return InvalidArgument("Invalid path: longer than 4096 characters");
  if (!path.empty() && path[0] == '/') return InvalidArgument("Invalid path");
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (!seg.empty()) {
      if (seg == "." || seg == "..") return InvalidArgument("Invalid path");
      for (char c : seg) {
        if (c == '\\' || c == '#' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          return InvalidArgument("Invalid path");
        }
      }
      if (seg.size() > 255) return InvalidArgument("Invalid path: segment longer than 255 characters");
      if (!out.empty()) out.push_back('/');
      out.append(seg);
    }
    i = j + 1;
  }
  if (out.empty() && !allow_root) return InvalidArgument("Invalid path");
  return out;
}

namespace {
std::string& DirectRootSlot() {
  static std::string root;
  return root;
}
}  // namespace

void SetDirectArtifactRoot(std::string root) {
  while (!root.empty() && root.back() == '/') root.pop_back();
  DirectRootSlot() = std::move(root);
}

std::optional<std::string> ProxiedArtifactPath(std::string_view uri) {
  const std::string& direct = DirectRootSlot();
  if (!direct.empty() && uri.substr(0, direct.size()) == direct &&
      (uri.size() == direct.size() || uri[direct.size()] == '/')) {
    std::string_view rest = uri.substr(direct.size());
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    return std::string(rest);  // s3:// URIs are not percent-encoded
  }
  std::string_view rest;
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  constexpr std::string_view kProxy = "/api/2.0/mlflow-artifacts/artifacts";
  if (uri.substr(0, kScheme.size()) == kScheme) {
    rest = uri.substr(kScheme.size());
    if (rest.substr(0, 2) == "//") {  // mlflow-artifacts://host:port/path
      size_t slash = rest.find('/', 2);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
  } else if (uri.substr(0, 7) == "http://" || uri.substr(0, 8) == "https://") {
    size_t pos = uri.find(kProxy);
    if (pos == std::string_view::npos) return std::nullopt;
    rest = uri.substr(pos + kProxy.size());
  } else {
    return std::nullopt;
  }
  while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
  // A URI's path is percent-encoded: decoded once, it names the same place the proxy's URL path does (the
  // proxy decodes its request path once), so a location like "mlflow-artifacts:/enc%41" is "encA" everywhere.
  return PercentDecode(rest, false);
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tamga
