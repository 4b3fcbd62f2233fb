#pragma once
// The credentials a request carries (docs/identity.md): HTTP Basic (`MLFLOW_TRACKING_USERNAME`/`PASSWORD`,
// the password may be a personal access token) or Bearer (`MLFLOW_TRACKING_TOKEN`: a personal access token or
// an OIDC access token). Parsing only: no lookup, no verification. Pure; thread-safe.
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

inline constexpr size_t kMaxAuthorizationBytes = 8192;  // a JWT with many groups fits; more is refused
inline constexpr size_t kMaxUsernameBytes = 256;

struct Credential {
  enum class Kind { kBasic, kBearer };
  Kind kind = Kind::kBasic;
  std::string username;  // Basic only
  std::string secret;    // the password or token (Basic), the token (Bearer)
};

// Parses an Authorization header value. Unauthenticated (a 401) for an unknown scheme, malformed base64, a
// missing ':' in Basic, an empty username or secret, control characters, or values past the limits. The
// scheme is case-insensitive (RFC 9110); one or more spaces separate it from its value.
Result<Credential> ParseAuthorization(std::string_view header);

// The value of cookie `name` in a Cookie header ("" when absent): the first `name=` pair, as browsers send
// them ("a=1; b=2"); a view into `header`.
std::string_view CookieValue(std::string_view header, std::string_view name);

}  // namespace tamga
