#include "registry/registry_validation.h"

#include <cctype>

#include "core/ids.h"
#include "core/utf8.h"
#include "tracking/validation.h"

namespace tamga {

Status ValidateModelName(const std::string& name) {
  if (name.empty()) return InvalidArgument("Registered model name cannot be empty.");
  if (name.size() > RegistryLimits::kMaxModelName) {
    return InvalidArgument("Registered model name '" + std::string(Utf8Prefix(name, 64)) +
                           "...' exceeds the maximum length of " +
                           std::to_string(RegistryLimits::kMaxModelName) + " characters.");
  }
  bool path_like = name == "." || name == ".." || name.find('/') != std::string::npos ||
                   name.find('\\') != std::string::npos;
  bool bad_char = false;
  for (unsigned char c : name) bad_char |= c < 0x20 || c == 0x7f || c == '@' || c == ':';
  if (path_like || bad_char) {
    return InvalidArgument(
        "Invalid registered model name '" + name +
        "'. Names must not contain '/', '\\\\', '@', ':' or control characters, and must not "
        "be '.' or '..'.");
  }
  return Status::Ok();
}

Result<int64_t> ParseModelVersion(const std::string& version) {
  int64_t v = 0;
  if (!ParseDecimalId(version, &v) || v < 1) {
    return InvalidArgument("Model version must be an integer, got '" + std::string(Utf8Prefix(version, 100)) +
                           "'");
  }
  return v;
}

Status ValidateAlias(const std::string& alias) {
  bool ok = !alias.empty() && alias.size() <= RegistryLimits::kMaxAlias;
  for (unsigned char c : alias) ok &= std::isalnum(c) || c == '_' || c == '-';
  if (!ok) {
    return InvalidArgument(
        "Invalid alias name: '" + std::string(Utf8Prefix(alias, 300)) +
        "'. Aliases may only contain alphanumerics, underscores, and dashes, and must be 1 to " +
        std::to_string(RegistryLimits::kMaxAlias) + " characters long.");
  }
  std::string lower;
  for (unsigned char c : alias) lower += static_cast<char>(std::tolower(c));
  if (lower == "latest") {
    return InvalidArgument("'" + alias + "' alias name (case insensitive) is reserved.");
  }
  if (lower.size() > 1 && lower[0] == 'v') {
    bool digits = true;
    for (size_t i = 1; i < lower.size(); ++i)
      digits &= std::isdigit(static_cast<unsigned char>(lower[i])) != 0;
    if (digits) {
      return InvalidArgument("Version alias name '" + alias +
                             "' is reserved: aliases of the form v<number> look like version numbers.");
    }
  }
  return Status::Ok();
}

Result<std::string> CanonicalStage(const std::string& stage) {
  std::string lower;
  for (unsigned char c : stage) lower += static_cast<char>(std::tolower(c));
  if (lower == "none") return std::string("None");
  if (lower == "staging") return std::string("Staging");
  if (lower == "production") return std::string("Production");
  if (lower == "archived") return std::string("Archived");
  return InvalidArgument("Invalid Model Version stage: " + std::string(Utf8Prefix(stage, 100)) +
                         ". Value must be one of None, Staging, Production, Archived.");
}

bool IsReservedVersionTag(const std::string& key) {
  return key.rfind(kReferenceTestTagPrefix, 0) == 0 || key.rfind(kRolloutTagPrefix, 0) == 0;
}

Status ValidateRegistryTag(const KeyValue& tag) {
  if (tag.key.empty()) return InvalidArgument("Missing value for required parameter 'key'");
  if (IsReservedVersionTag(tag.key)) {
    return InvalidArgument("Tag key '" + std::string(Utf8Prefix(tag.key, 64)) +
                           "' is reserved: the server sets it (reference-score tests, rollouts)");
  }
  TAMGA_RETURN_IF_ERROR(ValidateEntityKey("tag", tag.key));
  if (tag.key.size() > RegistryLimits::kMaxTagKey) {
    return InvalidArgument("Tag key '" + std::string(Utf8Prefix(tag.key, 64)) + "...' had length " +
                           std::to_string(tag.key.size()) + ", which exceeded length limit of " +
                           std::to_string(RegistryLimits::kMaxTagKey));
  }
  if (tag.value.size() > RegistryLimits::kMaxTagValue) {
    return InvalidArgument("Tag value for key '" + tag.key + "' had length " +
                           std::to_string(tag.value.size()) + ", which exceeded length limit of " +
                           std::to_string(RegistryLimits::kMaxTagValue));
  }
  return Status::Ok();
}

Status ValidateDescription(const std::optional<std::string>& description) {
  if (description && description->size() > RegistryLimits::kMaxDescription) {
    return InvalidArgument("Description had length " + std::to_string(description->size()) +
                           ", which exceeded length limit of " +
                           std::to_string(RegistryLimits::kMaxDescription));
  }
  return Status::Ok();
}

}  // namespace tamga
