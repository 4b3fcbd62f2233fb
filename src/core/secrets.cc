#include "core/secrets.h"

#include <cctype>
#include <string>

namespace tamga {

bool LooksSecret(std::string_view name) {
  std::string u;
  u.reserve(name.size());
  for (char c : name) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* p :
       {"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "SESSION",
        "COOKIE", "DSN", "SIGNATURE", "JWT", "BEARER", "CONN_STR", "CONNECTION_STRING"}) {
    if (u.find(p) != std::string::npos) return true;
  }
  // Personal access tokens (GITHUB_PAT, HF_PAT); a suffix, so PATH and PYTHONPATH stay visible.
  return u.size() >= 4 && u.compare(u.size() - 4, 4, "_PAT") == 0;
}

std::string RedactUrlPassword(std::string_view value) {
  // scheme://user:password@host... -> scheme://user:***@host...
  size_t scheme = value.find("://");
  if (scheme == std::string_view::npos) return std::string(value);
  size_t start = scheme + 3;
  size_t end = value.find_first_of("/?#", start);
  std::string_view authority =
      value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(value);
  size_t colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(value);
  std::string out(value.substr(0, start + colon + 1));
  out += kRedacted;
  out += value.substr(start + at);
  return out;
}

namespace {

// Where a URL's secret parts are: [begin, end) ranges of its userinfo (when it holds a password, or any
// userinfo over http(s), where a bare token is the usual form), its query and its fragment. Only URLs with a
// scheme: "git@host:repo" (scp-like) and ssh://git@host carry a user name, not a secret.
std::vector<std::pair<size_t, size_t>> SecretRanges(std::string_view value) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t scheme = value.find("://");
  if (scheme == std::string_view::npos) return out;
  std::string name;
  for (char c : value.substr(0, scheme))
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t start = scheme + 3;
  size_t end = value.find_first_of("/?#", start);
  size_t auth_end = end == std::string_view::npos ? value.size() : end;
  size_t at = value.rfind('@', auth_end == 0 ? 0 : auth_end - 1);
  if (at != std::string_view::npos && at >= start && at < auth_end) {
    bool password = value.substr(start, at - start).find(':') != std::string_view::npos;
    if (password || name == "http" || name == "https") out.push_back({start, at});
  }
  size_t q = value.find('?', start);
  size_t f = value.find('#', start);
  if (q != std::string_view::npos)
    out.push_back({q + 1, f != std::string_view::npos && f > q ? f : value.size()});
  if (f != std::string_view::npos) out.push_back({f + 1, value.size()});
  return out;
}

}  // namespace

std::vector<std::string> SecretPartsOfUrl(std::string_view value) {
  std::vector<std::string> parts;
  for (auto [b, e] : SecretRanges(value)) {
    if (e > b) parts.emplace_back(value.substr(b, e - b));
  }
  return parts;
}

std::string RedactParts(std::string text, const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    if (p.size() < 4) continue;  // too short to mask everywhere it appears without garbling the message
    for (size_t at = text.find(p); at != std::string::npos; at = text.find(p, at + 3))
      text.replace(at, p.size(), kRedacted);
  }
  return text;
}

std::string RedactUrlCredentials(std::string_view value) {
  std::string out;
  size_t pos = 0;
  for (auto [b, e] : SecretRanges(value)) {
    if (b < pos || e <= b) continue;
    out += value.substr(pos, b - pos);
    out += kRedacted;
    pos = e;
  }
  out += value.substr(pos);
  return out;
}

}  // namespace tamga
