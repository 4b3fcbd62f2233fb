#pragma once
// What counts as a secret when Tamga shows configuration back: environment variables and settings whose names
// look like credentials have their values replaced by kRedacted in API responses, run tags and logs.
#include <string>
#include <string_view>
#include <vector>

namespace tamga {

inline constexpr const char* kRedacted = "***";

// True when a variable's name looks like it holds a credential (SECRET, TOKEN, PASSWORD, KEY, AUTH, ...,
// *_PAT).
bool LooksSecret(std::string_view name);

// A URL's password replaced by kRedacted ("postgres://u:***@h/db"); other values unchanged.
std::string RedactUrlPassword(std::string_view value);
// For URLs that carry credentials anywhere (git remotes): the whole userinfo, the query and the fragment
// replaced ("https://***@host/r.git?***"). SecretPartsOfUrl returns those parts as they appear, so text that
// quotes them (a tool's error message) can be masked too.
std::string RedactUrlCredentials(std::string_view value);
std::vector<std::string> SecretPartsOfUrl(std::string_view value);
// Every occurrence of each non-empty part replaced by kRedacted.
std::string RedactParts(std::string text, const std::vector<std::string>& parts);

}  // namespace tamga
