#pragma once
// What counts as a secret when Tamga shows configuration back: environment variables and settings whose names
// look like credentials have their values replaced by kRedacted in API responses, run tags and logs.
#include <string_view>

namespace tamga {

inline constexpr const char* kRedacted = "***";

// True when a variable's name looks like it holds a credential (SECRET, TOKEN, PASSWORD, KEY, AUTH, ...).
bool LooksSecret(std::string_view name);

}  // namespace tamga
