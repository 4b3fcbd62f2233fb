#pragma once
// Names of datasets and tags and the references users write (docs/data.md): `name` (the latest version),
// `name@3` or `name@v3` (version 3), `name@train-2026-11` (a tag). A tag can never look like a version
// number, so a reference has one meaning. Pure; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

// 1-128 of [A-Za-z0-9._-], starting with a letter or digit.
Status ValidateDatasetName(std::string_view name);
// 1-64 of [A-Za-z0-9._-], starting with a letter or digit, not of the form [v]<digits>.
Status ValidateTagName(std::string_view tag);
// 3, "3" or "v3" as a version number; nullopt when `ref` is not of that form.
std::optional<int64_t> VersionNumberOf(std::string_view ref);

struct DatasetRef {
  std::string name;
  std::string ref;  // "" = latest
};
// "name[@ref]"; InvalidArgument on an invalid name or reference.
Result<DatasetRef> ParseDatasetRef(std::string_view text);
std::string FormatDatasetRef(const std::string& name, int64_t version);

}  // namespace tamga
