#pragma once
// MLflow's input rules for tracking entities (names, lengths, batch limits), in one place.
// Pure functions returning InvalidArgument with MLflow's messages. Thread-safe.
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/entities.h"

namespace tamga {

struct TrackingLimits {
  static constexpr size_t kMaxEntityKey = 250;
  static constexpr size_t kMaxParamValue = 6000;   // longer values are truncated (MLflow default)
  static constexpr size_t kMaxRunTagValue = 8000;  // MLflow 3.x; longer values are truncated
  static constexpr size_t kMaxExperimentTagValue = 5000;
  static constexpr size_t kMaxExperimentName = 500;
  static constexpr size_t kMaxRunName = 250;
  static constexpr size_t kMaxBatchMetrics = 1000;
  static constexpr size_t kMaxBatchParams = 100;
  static constexpr size_t kMaxBatchTags = 100;
  static constexpr size_t kMaxBatchTotal = 1000;
  static constexpr size_t kMaxDatasetName = 500;
  static constexpr size_t kMaxDatasetDigest = 36;
  static constexpr size_t kMaxDatasetSource = 65535;
  static constexpr size_t kMaxDatasetSchema = 1048575;
  static constexpr size_t kMaxDatasetProfile = 16777215;
  static constexpr size_t kMaxInputTagKey = 255;
  static constexpr size_t kMaxInputTagValue = 500;
  static constexpr int64_t kMaxSearchResults = 50000;
  static constexpr size_t kMaxSearchExperiments = 10000;  // distinct experiment_ids in one runs/search
};

// kind: "metric" | "param" | "tag" — used in the message ("Invalid metric name: ...").
Status ValidateEntityKey(std::string_view kind, const std::string& key);
Status ValidateExperimentName(const std::string& name);
Status ValidateExperimentTag(const KeyValue& tag);
Status ValidateRunIdFormat(const std::string& run_id);
Status ValidateDatasetInput(const DatasetInput& input);
// Truncates over-long values the way MLflow does (silently); keys are validated, not truncated.
void TruncateParamValue(std::string* value);
void TruncateRunTagValue(std::string* value);

}  // namespace tamga
