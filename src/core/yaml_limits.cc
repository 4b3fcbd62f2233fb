#include "core/yaml_limits.h"

#include <string>
#include <vector>

namespace tamga {
namespace {

bool AnchorChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Trailing "|", "|-", ">+2" ...: a block scalar whose more-indented lines are text, not structure.
bool StartsBlockScalar(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  size_t i = line.size();
  while (i > 0 &&
         (line[i - 1] == '-' || line[i - 1] == '+' || std::isdigit(static_cast<unsigned char>(line[i - 1]))))
    --i;
  if (i == 0 || (line[i - 1] != '|' && line[i - 1] != '>')) return false;
  return i == 1 || line[i - 2] == ' ';
}

}  // namespace

Status CheckYamlStructure(std::string_view text, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgument("YAML document is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  auto too_deep = [&] {
    return InvalidArgument("YAML nesting exceeds the limit of " + std::to_string(limits.max_depth) +
                           " levels");
  };
  std::vector<size_t> indents;  // block indentation stack
  int flow = 0, aliases = 0;
  char quote = 0;
  long block_scalar_indent = -1;  // >= 0 while inside a block scalar opened at that indentation
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    bool blank = indent == line.size() || line[indent] == '#' || line[indent] == '\r';
    if (block_scalar_indent >= 0) {
      if (blank || static_cast<long>(indent) > block_scalar_indent) continue;
      block_scalar_indent = -1;
    }
    if (blank && quote == 0) continue;
    size_t i = indent;
    if (flow == 0 && quote == 0) {
      while (!indents.empty() && indents.back() > indent) indents.pop_back();
      if (indents.empty() || indents.back() < indent) indents.push_back(indent);
      int dashes = 0;
      while (i + 1 < line.size() && line[i] == '-' && line[i + 1] == ' ') {
        ++dashes;
        i += 2;
        while (i < line.size() && line[i] == ' ') ++i;
      }
      if (static_cast<int>(indents.size()) + dashes > limits.max_depth) return too_deep();
      if (StartsBlockScalar(line)) block_scalar_indent = static_cast<long>(indent);
    }
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (quote == '"' && c == '\\')
          ++i;
        else if (c == quote)
          quote = 0;
        continue;
      }
      bool token_start =
          i == 0 || line[i - 1] == ' ' || line[i - 1] == '[' || line[i - 1] == '{' || line[i - 1] == ',';
      if (c == '#' && (i == 0 || line[i - 1] == ' ')) break;  // comment
      if ((c == '"' || c == '\'') && token_start)
        quote = c;
      else if (c == '[' || c == '{') {
        if (++flow + static_cast<int>(indents.size()) > limits.max_depth) return too_deep();
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      } else if (c == '*' && token_start && i + 1 < line.size() && AnchorChar(line[i + 1])) {
        if (++aliases > limits.max_aliases) {
          return InvalidArgument("YAML document has more than " + std::to_string(limits.max_aliases) +
                                 " aliases");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace tamga
