#include "auth/tokens.h"

#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

#include "core/hmac.h"

namespace tamga {

std::string Base64UrlNoPad(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string NewAccessToken() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness for a token");
  return std::string(kTokenPrefix) +
         Base64UrlNoPad(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

std::string TokenDigest(std::string_view token) { return Sha256Hex(token); }

bool LooksLikeAccessToken(std::string_view v) {
  if (v.size() != kTokenPrefix.size() + 43 || v.substr(0, kTokenPrefix.size()) != kTokenPrefix) return false;
  for (char c : v.substr(kTokenPrefix.size())) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace tamga
