#pragma once
// Validation and mapping of artifact paths and URIs. Pure functions, thread-safe.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

// Accepts a relative path made of '/'-separated segments; rejects absolute paths, '..' and '.' segments,
// backslashes, '#', NUL and control characters, and over-long paths (InvalidArgument "Invalid path").
// Returns the path with empty segments and trailing slashes removed ("" is the root when allow_root).
Result<std::string> ValidateArtifactPath(std::string_view path, bool allow_root);

// "mlflow-artifacts:/1/abc/artifacts" -> "1/abc/artifacts". Also accepts "mlflow-artifacts:1/..." and
// http(s)://host/api/2.0/mlflow-artifacts/artifacts/... (any host: such a URI names this server's proxy, as
// in MLflow). The path is percent-decoded once, as the proxy decodes its URL path; nullopt for other schemes
// and malformed escapes. Not validated: callers pass the result through ValidateArtifactPath.
// With a direct root set (SetDirectArtifactRoot), URIs below it ("s3://bucket/prefix/1/abc/artifacts") map
// the same way: the server reads the bucket MLflow clients write to in direct mode.
std::optional<std::string> ProxiedArtifactPath(std::string_view uri);

// MLflow's direct mode (--default-artifact-root s3://bucket/prefix): set once at start-up, before requests.
void SetDirectArtifactRoot(std::string root);

// Percent-decodes a URL path or query component ('+' kept). Returns nullopt on bad escapes.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace tamga
