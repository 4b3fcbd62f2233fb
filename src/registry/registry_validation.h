#pragma once
// MLflow's input rules for registry entities, in one place. Pure functions returning InvalidArgument
// with MLflow's messages (plus Tamga's stricter name rule, documented in docs/registry.md). Thread-safe.
#include <string>

#include "core/result.h"
#include "storage/entities.h"

namespace tamga {

// Version tags only the server writes (the outcome of `tamga models validate`, docs/rollouts.md §4): clients
// can neither set nor delete them.
inline constexpr const char* kReferenceTestTagPrefix = "tamga.reference_test.";
// Version tags of progressive rollouts (rollout/rollout_controller.h), likewise server-only.
inline constexpr const char* kRolloutTagPrefix = "tamga.rollout.";
// A key under one of the server-only prefixes.
bool IsReservedVersionTag(const std::string& key);
// A registered-model tag: "true" (every alias) or a comma-separated list of aliases that may only point at a
// version whose reference test passed.
inline constexpr const char* kRequireReferenceTestTag = "tamga.require_reference_test";

struct RegistryLimits {
  static constexpr size_t kMaxModelName = 256;
  static constexpr size_t kMaxTagKey = 250;
  static constexpr size_t kMaxTagValue = 100000;  // MLflow 3.x (2.12: 5000)
  static constexpr size_t kMaxAlias = 255;
  static constexpr size_t kMaxDescription = 65536;
  static constexpr size_t kMaxSource = 65535;
  static constexpr size_t kMaxRunId = 256;  // model-version run_id: any string, as MLflow stores it
  static constexpr int64_t kMaxModelSearchResults = 1000;
  static constexpr int64_t kMaxVersionSearchResults = 200000;
};

// Non-empty, <= 256 chars, no control characters, not path-like ('/', '\', ".", ".."), no '@' or ':'
// (they would make models:/ URIs ambiguous).
Status ValidateModelName(const std::string& name);
// "1", "2", ... -> number; anything else is InvalidArgument "Model version must be an integer".
Result<int64_t> ParseModelVersion(const std::string& version);
// [A-Za-z0-9_-]+, <= 255, not "latest" (any case), not v<digits>.
Status ValidateAlias(const std::string& alias);
// Case-insensitive match to None/Staging/Production/Archived; InvalidArgument otherwise.
Result<std::string> CanonicalStage(const std::string& stage);
Status ValidateRegistryTag(const KeyValue& tag);
Status ValidateDescription(const std::optional<std::string>& description);

}  // namespace tamga
