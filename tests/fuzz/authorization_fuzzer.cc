// auth/credentials.h ParseAuthorization (and CookieValue) on arbitrary header values. Properties: errors are
// Unauthenticated; an accepted Basic credential has a non-empty user name (without ':') and secret, both free
// of control characters and within the limits; an accepted Bearer token has no space.
#include <cstdint>
#include <string>

#include "auth/credentials.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  std::string header(reinterpret_cast<const char*>(data), size);
  // The same bytes as a Cookie header: the session cookie's value is a piece of it without separators.
  std::string_view cookie = CookieValue(header, "tamga_session");
  TAMGA_FUZZ_ASSERT(cookie.empty() || (cookie.data() >= header.data() &&
                                       cookie.data() + cookie.size() <= header.data() + header.size()),
                    header);
  TAMGA_FUZZ_ASSERT(cookie.find(';') == std::string_view::npos, header);
  auto c = ParseAuthorization(header);
  if (!c.ok()) {
    TAMGA_FUZZ_ASSERT(c.status().code() == StatusCode::kUnauthenticated, header);
    return 0;
  }
  TAMGA_FUZZ_ASSERT(!c->secret.empty() && header.size() <= kMaxAuthorizationBytes, header);
  for (unsigned char ch : c->username + c->secret) TAMGA_FUZZ_ASSERT(ch >= 0x20 && ch != 0x7f, header);
  if (c->kind == Credential::Kind::kBasic) {
    TAMGA_FUZZ_ASSERT(!c->username.empty() && c->username.find(':') == std::string::npos, header);
    TAMGA_FUZZ_ASSERT(c->username.size() <= kMaxUsernameBytes, header);
  } else {
    TAMGA_FUZZ_ASSERT(c->secret.find(' ') == std::string::npos && c->username.empty(), header);
  }
  return 0;
}
