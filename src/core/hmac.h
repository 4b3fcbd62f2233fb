#pragma once
// Hashing via OpenSSL: keyed (webhook signatures) and plain SHA-256 (content addresses, token digests, cache
// keys). Pure functions, thread-safe.
#include <string>
#include <string_view>

namespace tamga {

// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);
// Raw 32-byte SHA-256, and the same as 64 lower-case hex digits.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
// Bytes as lower-case hex digits (two per byte).
std::string HexEncode(std::string_view bytes);

}  // namespace tamga
