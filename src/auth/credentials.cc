#include "auth/credentials.h"

#include <openssl/evp.h>

#include <cctype>

namespace tamga {
namespace {

Status Refuse(const std::string& why) { return Status(StatusCode::kUnauthenticated, why); }

bool SchemeIs(std::string_view value, std::string_view scheme, std::string_view* rest) {
  if (value.size() <= scheme.size() || value[scheme.size()] != ' ') return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return false;
  }
  size_t start = value.find_first_not_of(' ', scheme.size());
  *rest = start == std::string_view::npos ? std::string_view() : value.substr(start);
  return true;
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Standard base64 with padding, as RFC 7617 uses it; anything else is refused.
Result<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return Refuse("malformed Basic credentials");
  for (char c : in) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
      return Refuse("malformed Basic credentials");
  }
  size_t pad = in.size() - in.find_last_not_of('=') - 1;
  if (pad > 2 || in.find('=') < in.size() - pad) return Refuse("malformed Basic credentials");
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return Refuse("malformed Basic credentials");
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

}  // namespace

Result<Credential> ParseAuthorization(std::string_view header) {
  if (header.empty()) return Refuse("no credentials");
  if (header.size() > kMaxAuthorizationBytes) return Refuse("the Authorization header is too large");
  if (HasControl(header)) return Refuse("the Authorization header contains control characters");
  std::string_view rest;
  Credential c;
  if (SchemeIs(header, "basic", &rest)) {
    TAMGA_ASSIGN_OR_RETURN(std::string decoded, DecodeBase64(rest));
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return Refuse("malformed Basic credentials");
    c.kind = Credential::Kind::kBasic;
    c.username = decoded.substr(0, colon);
    c.secret = decoded.substr(colon + 1);
    if (c.username.empty() || c.secret.empty()) return Refuse("empty user name or password");
    if (c.username.size() > kMaxUsernameBytes) return Refuse("the user name is too long");
    if (HasControl(c.username) || HasControl(c.secret))
      return Refuse("control characters in the credentials");
    return c;
  }
  if (SchemeIs(header, "bearer", &rest)) {
    if (rest.empty() || rest.find(' ') != std::string_view::npos) return Refuse("malformed Bearer token");
    c.kind = Credential::Kind::kBearer;
    c.secret = std::string(rest);
    return c;
  }
  return Refuse("unsupported Authorization scheme (use Basic or Bearer)");
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    pos = end + 1;
  }
  return {};
}

}  // namespace tamga
