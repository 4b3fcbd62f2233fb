#pragma once
// Personal access and service tokens (docs/identity.md): 256 random bits shown once as `tmg_<base64url>`,
// stored only as their SHA-256. Thread-safe.
#include <string>
#include <string_view>

namespace tamga {

inline constexpr std::string_view kTokenPrefix = "tmg_";

std::string NewAccessToken();
// base64url without padding (RFC 4648 section 5).
std::string Base64UrlNoPad(std::string_view bytes);
// Hex SHA-256 of the whole token: what the store keeps and looks up.
std::string TokenDigest(std::string_view token);
// `tmg_` + 43 base64url characters: a Bearer value worth looking up as ours (else it may be an OIDC JWT).
bool LooksLikeAccessToken(std::string_view value);

}  // namespace tamga
