#include "core/ids.h"

#include <array>
#include <charconv>

namespace tamga {

std::string NewRunId(Random& random) {
  uint64_t hi = random.Next();
  uint64_t lo = random.Next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = kHex[(hi >> (4 * i)) & 0xf];
  for (int i = 0; i < 16; ++i) out[31 - i] = kHex[(lo >> (4 * i)) & 0xf];
  return out;
}

std::string NewTimeOrderedId(Random& random, int64_t unix_ms) {
  uint64_t ts = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms) & 0xffffffffffffULL;
  uint64_t hi = (ts << 16) | 0x7000 | (random.Next() & 0x0fff);                   // version 7, rand_a
  uint64_t lo = (random.Next() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC variant, rand_b
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) out[15 - i] = kHex[(hi >> (4 * i)) & 0xf];
  for (int i = 0; i < 16; ++i) out[31 - i] = kHex[(lo >> (4 * i)) & 0xf];
  return out;
}

std::string NewRunName(Random& random) {
  static constexpr std::array<const char*, 24> kAdjectives = {
      "amazing",  "brave",  "calm",  "clever", "dapper",  "eager",      "fearless", "gentle",
      "glorious", "honest", "jolly", "kindly", "lively",  "merciful",   "nimble",   "polite",
      "quick",    "rare",   "sassy", "silent", "stylish", "thundering", "upbeat",   "wise"};
  static constexpr std::array<const char*, 24> kNouns = {
      "ant", "bat",   "bear", "cat",  "crane", "deer",  "dove", "eel",  "finch", "fox",   "goat", "hawk",
      "hen", "koala", "lark", "mole", "owl",   "panda", "ram",  "seal", "skunk", "sloth", "toad", "wolf"};
  uint64_t r = random.Next();
  std::string name = kAdjectives[r % kAdjectives.size()];
  name += '-';
  name += kNouns[(r >> 8) % kNouns.size()];
  name += '-';
  name += std::to_string((r >> 16) % 1000);
  return name;
}

bool IsHex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool ParseDecimalId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

}  // namespace tamga
