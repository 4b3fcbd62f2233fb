#include "core/uri.h"

#include <cctype>

namespace tamga {
namespace {

bool UsesParams(const std::string& scheme) {
  for (const char* s : {"", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtspu",
                        "sip", "sips", "mms", "sftp", "tel"}) {
    if (scheme == s) return true;
  }
  return false;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

UriParts ParseUri(std::string_view uri) {
  UriParts out;
  std::string_view rest = uri;
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool ok = true;
    for (size_t i = 1; i < colon && ok; ++i) {
      char c = rest[i];
      ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (ok) {
      for (char c : rest.substr(0, colon))
        out.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rest.remove_prefix(colon + 1);
    }
  }
  if (rest.substr(0, 2) == "//") {
    size_t end = rest.find_first_of("/?#", 2);
    out.netloc =
        std::string(rest.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    out.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    out.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (UsesParams(out.scheme)) {
    size_t last_slash = rest.rfind('/');
    size_t semicolon = rest.find(';', last_slash == std::string_view::npos ? 0 : last_slash);
    if (semicolon != std::string_view::npos) {
      out.params = std::string(rest.substr(semicolon + 1));
      rest = rest.substr(0, semicolon);
    }
  }
  out.path = std::string(rest);
  return out;
}

std::string Unquote(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int h = Hex(s[i + 1]), l = Hex(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out.push_back(static_cast<char>(h * 16 + l));
        i += 2;
        continue;
      }
    }
    out.push_back(c == '+' && plus_is_space ? ' ' : c);
  }
  return out;
}

std::string UnquoteFully(std::string_view s) {
  std::string current(s);
  for (int round = 0; round < 64; ++round) {
    std::string next = Unquote(current, true);
    if (next == current) break;
    current = std::move(next);
  }
  return current;
}

bool IsLocalUri(std::string_view uri) {
  UriParts p = ParseUri(uri);
  if (p.scheme.empty()) return true;
  if (p.scheme != "file") return false;
  std::string host = p.netloc.substr(0, p.netloc.find(':'));
  return host.empty() || host == "." || host.rfind("localhost", 0) == 0 || host.rfind("127.0.0.1", 0) == 0;
}

}  // namespace tamga
