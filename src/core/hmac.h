#pragma once
// Keyed hashing for signatures (webhooks) via OpenSSL. Pure functions, thread-safe.
#include <string>
#include <string_view>

namespace tamga {

// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);

}  // namespace tamga
