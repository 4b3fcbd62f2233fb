#include "data/dataset_ref.h"

#include <charconv>

namespace tamga {
namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 80));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return out;
}

Status CheckName(std::string_view s, size_t max, const char* what) {
  bool ok = !s.empty() && s.size() <= max && NameChar(s[0]) && s[0] != '.' && s[0] != '_' && s[0] != '-';
  for (char c : s) ok = ok && NameChar(c);
  if (ok) return Status::Ok();
  return InvalidArgument(std::string("Invalid ") + what + " '" + Shown(s) + "': use 1-" +
                         std::to_string(max) +
                         " letters, digits, '.', '_' or '-', starting with a letter or digit");
}

}  // namespace

Status ValidateDatasetName(std::string_view name) { return CheckName(name, 128, "dataset name"); }

Status ValidateTagName(std::string_view tag) {
  TAMGA_RETURN_IF_ERROR(CheckName(tag, 64, "tag"));
  std::string_view digits = tag[0] == 'v' ? tag.substr(1) : tag;
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos)
    return InvalidArgument("Invalid tag '" + Shown(tag) + "': it reads as a version number");
  if (VersionNumberOf(tag))
    return InvalidArgument("Invalid tag '" + Shown(tag) + "': it reads as a version number");
  return Status::Ok();
}

std::optional<int64_t> VersionNumberOf(std::string_view ref) {
  if (!ref.empty() && ref[0] == 'v') ref.remove_prefix(1);
  if (ref.empty() || ref.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), v);
  if (ec != std::errc() || p != ref.data() + ref.size() || v < 0) return std::nullopt;
  return v;
}

Result<DatasetRef> ParseDatasetRef(std::string_view text) {
  DatasetRef out;
  size_t at = text.find('@');
  out.name = std::string(text.substr(0, at));
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(out.name));
  if (at != std::string_view::npos) {
    out.ref = std::string(text.substr(at + 1));
    if (!VersionNumberOf(out.ref)) TAMGA_RETURN_IF_ERROR(ValidateTagName(out.ref));
  }
  return out;
}

std::string FormatDatasetRef(const std::string& name, int64_t version) {
  return name + "@v" + std::to_string(version);
}

}  // namespace tamga
