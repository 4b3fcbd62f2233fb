#include "core/secrets.h"

#include <cctype>
#include <string>

namespace tamga {

bool LooksSecret(std::string_view name) {
  std::string u;
  u.reserve(name.size());
  for (char c : name) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* p : {"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "KEY", "CREDENTIAL", "AUTH",
                        "PRIVATE", "SESSION", "COOKIE", "DSN", "CERT", "SIGNATURE"}) {
    if (u.find(p) != std::string::npos) return true;
  }
  return false;
}

}  // namespace tamga
