#pragma once
// Identifier formats shared by all subsystems (MLflow's where MLflow defines them).
#include <string>
#include <string_view>

#include "core/random.h"

namespace tamga {

// 32 lowercase hex characters, like Python's uuid4().hex (version/variant bits set).
std::string NewRunId(Random& random);
// 32 lowercase hex characters laid out as a UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random
// bits. Same shape as NewRunId for clients, but ids made close in time sort together, so B-tree inserts
// land on the same few pages instead of one random page each (what bounds run creation on SQLite).
std::string NewTimeOrderedId(Random& random, int64_t unix_ms);
// "adjective-noun-NNN", like MLflow's generated run names.
std::string NewRunName(Random& random);
bool IsHex32(std::string_view s);
// A decimal, non-negative int64 without sign or leading junk.
bool ParseDecimalId(std::string_view s, int64_t* out);

}  // namespace tamga
