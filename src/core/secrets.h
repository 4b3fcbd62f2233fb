#pragma once
// What counts as a secret when Tamga shows configuration back: environment variables and settings whose names
// look like credentials have their values replaced by kRedacted in API responses, run tags and logs.
#include <string>
#include <string_view>

namespace tamga {

inline constexpr const char* kRedacted = "***";

// True when a variable's name looks like it holds a credential (SECRET, TOKEN, PASSWORD, KEY, AUTH, ...,
// *_PAT).
bool LooksSecret(std::string_view name);

// A URL's password replaced by kRedacted ("postgres://u:***@h/db"); other values unchanged.
std::string RedactUrlPassword(std::string_view value);

}  // namespace tamga
