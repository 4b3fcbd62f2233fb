#pragma once
// UTF-8 helpers for text that crosses a trust boundary. Stored text may hold any bytes (older stores, process
// output, percent-decoded paths); serialisers call SanitizeUtf8 so what they emit is always valid UTF-8, and
// writers that shorten text cut at a code-point boundary with Utf8Prefix. Pure functions; thread-safe.
#include <cstddef>
#include <string>
#include <string_view>

namespace tamga {

// True when s is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The longest prefix of s of at most max_bytes that does not end inside a multi-byte sequence.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// s with every ill-formed sequence replaced by U+FFFD (one per maximal invalid subpart, as WHATWG decoders
// do).
std::string SanitizeUtf8(std::string_view s);
// Appends SanitizeUtf8(s) to out without a temporary.
void AppendSanitizedUtf8(std::string* out, std::string_view s);

// Length of the well-formed sequence starting at s[i] (1..4), or 0 when it is ill-formed there.
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace tamga
