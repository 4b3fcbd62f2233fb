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

}  // namespace tamga
