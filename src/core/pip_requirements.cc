#include "core/pip_requirements.h"

namespace tamga {

Status CheckPipRequirements(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return InvalidArgument("requirements contain a control character (byte " + std::to_string(c) +
                             " at offset " + std::to_string(i) + ")");
    }
    if (c >= 0x80) {
      // pip strips Unicode spaces (U+00A0, U+3000, ...) before it looks for options, and package
      // specifiers are ASCII: anything else is refused rather than second-guessed.
      return InvalidArgument("requirements contain a non-ASCII character at offset " + std::to_string(i) +
                             " (only ASCII package specifiers are accepted)");
    }
    bool nel = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85;
    bool ls_ps =
        c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9);
    bool bom = c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBB &&
               static_cast<unsigned char>(text[i + 2]) == 0xBF;
    if (nel || ls_ps || bom) {
      return InvalidArgument("requirements contain a Unicode line break or byte-order mark at offset " +
                             std::to_string(i));
    }
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find_first_of("\r\n", pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    for (size_t i = start; i < line.size(); ++i) {
      bool word_start = i == start || line[i - 1] == ' ' || line[i - 1] == '\t';
      if (!word_start) continue;
      if (line[i] == '#') break;  // a comment
      // --hash only narrows what pip accepts (hash-pinned requirement files): the one option allowed.
      if (line.compare(i, 7, "--hash=") == 0 && i > start) continue;
      if (line[i] == '-') {
        return InvalidArgument("requirement option '" + line.substr(i, 40) +
                               "' is not allowed (only package specifiers)");
      }
    }
  }
  return Status::Ok();
}

}  // namespace tamga
