#pragma once
// The Range header of a GET (RFC 9110 14.1.2), for downloads that resume and previews that read only the
// head of a large artifact. One range is honoured; several ranges, other units or malformed values mean
// "no usable range" (the whole body is sent, as the RFC allows).
#include <cstdint>
#include <optional>
#include <string_view>

namespace tamga {

struct ByteRange {
  bool satisfiable = true;  // false: answer 416 with "Content-Range: bytes */<size>"
  int64_t first = 0;        // inclusive
  int64_t last = 0;         // inclusive, < size
};

// "bytes=a-b", "bytes=a-" or "bytes=-n" over a body of `size` bytes; nullopt when there is no usable range.
// Reads at most 64 characters of the value; numbers of more than 18 digits are malformed.
std::optional<ByteRange> ParseByteRange(std::string_view header, int64_t size);

}  // namespace tamga
