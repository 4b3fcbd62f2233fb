#pragma once
// Parsing JSON that arrives from outside the process (request bodies, agent reports, files users upload) with
// limits, and serialising parsed values without a way to throw. nlohmann's parser is iterative but copying,
// comparing and dumping recurse, so nesting is bounded before anything is built: CheckJsonDepth is a linear
// scan that never recurses. Thread-safe (pure functions).
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

// Deepest nesting of arrays/objects accepted anywhere (PostgreSQL's jsonb and most gateways sit near here).
constexpr int kMaxJsonDepth = 128;
// Most arrays + objects in one document (numbers and strings are not counted): bounds the parsed tree's
// memory.
constexpr size_t kMaxJsonContainers = 1000000;

// InvalidArgument when text nests arrays/objects deeper than max_depth or holds more than kMaxJsonContainers
// of them; Ok otherwise (also for malformed text, which the parser then rejects). Brackets inside strings are
// not counted.
Status CheckJsonDepth(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses untrusted text: InvalidArgument("Malformed JSON ...") or the depth error; never throws.
Result<nlohmann::json> ParseJson(std::string_view text);
Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text);

// dump() that never throws: invalid UTF-8 in strings becomes U+FFFD.
std::string DumpJson(const nlohmann::json& j);
std::string DumpJson(const nlohmann::ordered_json& j);

}  // namespace tamga
