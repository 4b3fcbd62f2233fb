#pragma once
// Identifier formats shared by all subsystems (MLflow's where MLflow defines them).
#include <string>
#include <string_view>

#include "core/random.h"

namespace tamga {

// 32 lowercase hex characters, like Python's uuid4().hex (version/variant bits set).
std::string NewRunId(Random& random);
// "adjective-noun-NNN", like MLflow's generated run names.
std::string NewRunName(Random& random);
bool IsHex32(std::string_view s);
// A decimal, non-negative int64 without sign or leading junk.
bool ParseDecimalId(std::string_view s, int64_t* out);

}  // namespace tamga
