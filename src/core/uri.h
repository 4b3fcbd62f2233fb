#pragma once
// URI splitting with the rules of Python's urllib.parse (urlparse / unquote), so that checks Tamga makes on
// MLflow request fields (model-version sources, experiment artifact locations) accept and refuse exactly
// what MLflow's server does. Not a validating RFC 3986 parser. Pure functions; thread-safe.
#include <string>
#include <string_view>

namespace tamga {

struct UriParts {
  std::string scheme;  // lower-cased; "" when there is none
  std::string netloc;  // the part after "//" up to the path; "" when absent
  std::string path;
  std::string params;  // ";params" of the last segment, only for schemes urllib gives params to
  std::string query;
  std::string fragment;
};

// urllib.parse.urlparse.
UriParts ParseUri(std::string_view uri);

// urllib.parse.unquote / unquote_plus: %XX decoded, malformed escapes kept as they are.
std::string Unquote(std::string_view s, bool plus_is_space = false);

// unquote_plus applied until the text stops changing (at most 64 rounds), as MLflow's source checks do.
std::string UnquoteFully(std::string_view s);

// MLflow's is_local_uri for artifact and source URIs: no scheme, or file: without a remote host.
bool IsLocalUri(std::string_view uri);

}  // namespace tamga
