#include "http/byte_range.h"

#include <algorithm>

namespace tamga {
namespace {

bool Number(std::string_view d, int64_t* out) {
  if (d.empty() || d.size() > 18) return false;
  int64_t v = 0;
  for (char c : d) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<ByteRange> ParseByteRange(std::string_view h, int64_t size) {
  if (h.size() > 64 || h.substr(0, 6) != "bytes=" || h.find(',') != std::string_view::npos || size < 0) {
    return std::nullopt;
  }
  std::string_view spec = h.substr(6);
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a_text = spec.substr(0, dash), b_text = spec.substr(dash + 1);
  int64_t a = 0, b = 0;
  if (a_text.empty()) {  // a suffix: the last b bytes
    if (!Number(b_text, &b)) return std::nullopt;
    if (b == 0 || size == 0) return ByteRange{false, 0, 0};
    return ByteRange{true, std::max<int64_t>(0, size - b), size - 1};
  }
  if (!Number(a_text, &a)) return std::nullopt;
  if (b_text.empty()) {
    b = size - 1;
  } else if (!Number(b_text, &b) || b < a) {
    return std::nullopt;
  }
  if (a >= size) return ByteRange{false, 0, 0};
  return ByteRange{true, a, std::min(b, size - 1)};
}

}  // namespace tamga
