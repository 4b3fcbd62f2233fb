#pragma once
// Limits for YAML that arrives from outside the process (MLmodel files in uploaded or downloaded models).
// yaml-cpp recurses per nesting level and expands aliases, so a few hundred bytes can overflow the stack or
// explode in memory. CheckYamlStructure is a linear, non-recursive scan run before yaml-cpp sees the text:
// it bounds nesting (block indentation levels, "- " markers and flow brackets together) and the number of
// aliases. It errs on the side of rejecting odd YAML; MLmodel files are plain. Pure; thread-safe.
#include <string_view>

#include "core/status.h"

namespace tamga {

struct YamlLimits {
  int max_depth = 64;
  int max_aliases = 64;
  size_t max_bytes = 4 << 20;
};

// InvalidArgument naming the limit exceeded; Ok otherwise (malformed YAML is left to the parser).
Status CheckYamlStructure(std::string_view text, const YamlLimits& limits = {});

}  // namespace tamga
