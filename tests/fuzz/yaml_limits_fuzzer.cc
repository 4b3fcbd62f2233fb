// core/yaml_limits.h: the non-recursive pre-scan that bounds nesting and aliases before yaml-cpp sees text.
// Properties: a tighter limit never accepts what a looser one refused; text that passes the default limits
// is parsed by yaml-cpp without crashing (yaml-cpp's own exceptions are fine: the caller catches them), and
// an alias-free tree that passed is no deeper than twice the limit (the scan bounds what yaml-cpp recurses
// on).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/yaml_limits.h"
#include "fuzz/fuzz_input.h"

namespace {

int Depth(const YAML::Node& n, int level) {
  if (level > 1000) return level;
  int deepest = level;
  if (n.IsMap()) {
    for (const auto& kv : n) deepest = std::max(deepest, Depth(kv.second, level + 1));
  } else if (n.IsSequence()) {
    for (const auto& item : n) deepest = std::max(deepest, Depth(item, level + 1));
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t knobs = in.Byte();
  std::string text(in.Rest());

  YamlLimits tight;
  tight.max_depth = 1 + knobs % 16;
  tight.max_aliases = knobs / 16;
  tight.max_bytes = 1024;
  Status loose = CheckYamlStructure(text);
  Status strict = CheckYamlStructure(text, tight);
  if (!loose.ok()) TAMGA_FUZZ_ASSERT(!strict.ok(), text);
  if (!loose.ok()) return 0;
  YamlLimits no_aliases;
  no_aliases.max_aliases = 0;
  bool alias_free = CheckYamlStructure(text, no_aliases).ok();
  try {
    YAML::Node root = YAML::Load(text);
    if (alias_free) {
      // Without aliases the tree is what the scan saw; allow for a map and a sequence per counted level.
      int d = Depth(root, 0);
      TAMGA_FUZZ_ASSERT(d <= 2 * no_aliases.max_depth + 2, text);
    }
  } catch (const YAML::Exception&) {
  }
  return 0;
}
