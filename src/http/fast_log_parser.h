#pragma once
// Fast path for the ingest hot spots (runs/log-batch, runs/log-metric): parses the JSON body with
// simdjson On-Demand straight into a LogBatchRequest. It handles well-formed requests only and returns
// nullopt on anything unusual (missing or mistyped fields, double-encoded bodies); callers then fall
// back to the general RequestFields path, which produces MLflow's exact error messages.
// Thread-safe (one parser per thread).
#include <optional>
#include <string_view>

#include "tracking/tracking_service.h"

namespace tamga {

std::optional<LogBatchRequest> TryParseLogBatch(std::string_view body);
// A log-metric body: {"run_id", "key", "value", "timestamp", "step"}.
std::optional<LogBatchRequest> TryParseLogMetric(std::string_view body);

}  // namespace tamga
