#include "tracking/validation.h"

#include <cctype>

#include "core/utf8.h"

namespace tamga {

Status ValidateEntityKey(std::string_view kind, const std::string& key) {
  std::string k(kind);
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'key'");
  if (key.size() > TrackingLimits::kMaxEntityKey) {
    return InvalidArgument(k + " '" + std::string(Utf8Prefix(key, 64)) + "...' had length " +
                           std::to_string(key.size()) + ", which exceeded length limit of " +
                           std::to_string(TrackingLimits::kMaxEntityKey));
  }
  for (char c : key) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ' ' ||
              c == '/' || (static_cast<unsigned char>(c) >= 0x80);  // \w is Unicode-aware in Python
    if (!ok) {
      return InvalidArgument(
          "Invalid " + k + " name: '" + key +
          "'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
          "spaces ( ), and slashes (/).");
    }
  }
  // Must be a normalised relative path: no leading '/', no '.'/'..' segments, no '//' runs.
  bool bad_path = key[0] == '/' || key == "." || key.find("//") != std::string::npos;
  size_t i = 0;
  while (!bad_path && i <= key.size()) {
    size_t j = key.find('/', i);
    if (j == std::string::npos) j = key.size();
    std::string_view seg(key.data() + i, j - i);
    if (seg == ".." || (seg == "." && key.size() > 1)) bad_path = true;
    i = j + 1;
  }
  if (bad_path) {
    return InvalidArgument("Invalid " + k + " name: '" + key +
                           "'. Names cannot contain '..' or '.' path segments or start with '/'.");
  }
  return Status::Ok();
}

Status ValidateExperimentName(const std::string& name) {
  if (name.empty()) return InvalidArgument("Invalid experiment name: ''. Expected a non-empty string.");
  if (name.size() > TrackingLimits::kMaxExperimentName) {
    return InvalidArgument("Experiment name exceeds the maximum length of " +
                           std::to_string(TrackingLimits::kMaxExperimentName) + " characters");
  }
  return Status::Ok();
}

Status ValidateExperimentTag(const KeyValue& tag) {
  TAMGA_RETURN_IF_ERROR(ValidateEntityKey("tag", tag.key));
  if (tag.value.size() > TrackingLimits::kMaxExperimentTagValue) {
    return InvalidArgument("Tag value '" + std::string(Utf8Prefix(tag.value, 64)) + "...' had length " +
                           std::to_string(tag.value.size()) + ", which exceeded length limit of " +
                           std::to_string(TrackingLimits::kMaxExperimentTagValue));
  }
  return Status::Ok();
}

Status ValidateRunIdFormat(const std::string& run_id) {
  if (run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  bool ok = run_id.size() <= 256 && std::isalnum(static_cast<unsigned char>(run_id[0]));
  for (char c : run_id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok) return InvalidArgument("Invalid run ID: '" + std::string(Utf8Prefix(run_id, 300)) + "'");
  return Status::Ok();
}

static Status Length(const char* what, const std::string& v, size_t limit) {
  if (v.size() <= limit) return Status::Ok();
  return InvalidArgument(std::string(what) + " had length " + std::to_string(v.size()) +
                         ", which exceeded length limit of " + std::to_string(limit));
}

Status ValidateDatasetInput(const DatasetInput& in) {
  const Dataset& d = in.dataset;
  if (d.name.empty()) return InvalidArgument("Missing value for required parameter 'datasets.dataset.name'");
  if (d.digest.empty())
    return InvalidArgument("Missing value for required parameter 'datasets.dataset.digest'");
  if (d.source_type.empty()) {
    return InvalidArgument("Missing value for required parameter 'datasets.dataset.source_type'");
  }
  if (d.source.empty())
    return InvalidArgument("Missing value for required parameter 'datasets.dataset.source'");
  TAMGA_RETURN_IF_ERROR(Length("Dataset name", d.name, TrackingLimits::kMaxDatasetName));
  TAMGA_RETURN_IF_ERROR(Length("Dataset digest", d.digest, TrackingLimits::kMaxDatasetDigest));
  TAMGA_RETURN_IF_ERROR(Length("Dataset source", d.source, TrackingLimits::kMaxDatasetSource));
  TAMGA_RETURN_IF_ERROR(Length("Dataset schema", d.schema, TrackingLimits::kMaxDatasetSchema));
  TAMGA_RETURN_IF_ERROR(Length("Dataset profile", d.profile, TrackingLimits::kMaxDatasetProfile));
  for (const auto& t : in.tags) {
    if (t.key.empty()) return InvalidArgument("Missing value for required parameter 'datasets.tags.key'");
    TAMGA_RETURN_IF_ERROR(Length("Input tag key", t.key, TrackingLimits::kMaxInputTagKey));
    TAMGA_RETURN_IF_ERROR(Length("Input tag value", t.value, TrackingLimits::kMaxInputTagValue));
  }
  return Status::Ok();
}

// Cuts at a UTF-8 character boundary so the stored value stays valid text.
static void TruncateUtf8(std::string* v, size_t limit) {
  if (v->size() <= limit) return;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>((*v)[n]) & 0xC0) == 0x80) --n;
  v->resize(n);
}
void TruncateParamValue(std::string* v) { TruncateUtf8(v, TrackingLimits::kMaxParamValue); }
void TruncateRunTagValue(std::string* v) { TruncateUtf8(v, TrackingLimits::kMaxRunTagValue); }

}  // namespace tamga
