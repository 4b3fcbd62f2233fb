#include "core/json_parse.h"

namespace tamga {

Status CheckJsonDepth(std::string_view text, int max_depth) {
  int depth = 0;
  size_t containers = 0;
  bool in_string = false;
  const char* p = text.data();
  const char* end = p + text.size();
  for (; p < end; ++p) {
    char c = *p;
    if (in_string) {
      if (c == '\\')
        ++p;  // skip the escaped character (a quote included)
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        // Each container costs a heap node in the parsed tree (about 20x the 3 bytes of "[],"), so their
        // number is bounded too: 16M empty arrays in a 50 MB body must not become a gigabyte.
        if (++containers > kMaxJsonContainers) {
          return InvalidArgument("JSON has more than " + std::to_string(kMaxJsonContainers) +
                                 " arrays and objects");
        }
        if (++depth > max_depth) {
          return InvalidArgument("JSON nesting exceeds the limit of " + std::to_string(max_depth) +
                                 " levels");
        }
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

namespace {
template <typename J>
Result<J> ParseLimited(std::string_view text) {
  TAMGA_RETURN_IF_ERROR(CheckJsonDepth(text));
  J j = J::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("Malformed JSON in request body");
  return j;
}
}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text) { return ParseLimited<nlohmann::json>(text); }
Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text) {
  return ParseLimited<nlohmann::ordered_json>(text);
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace tamga
