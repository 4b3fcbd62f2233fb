#pragma once
// Serialisation of tracking entities in MLflow's JSON mapping (snake_case names, int64 as numbers,
// NaN/Infinity as strings, empty repeated fields and unset optionals omitted).
#include <string>

#include "core/json_writer.h"
#include "storage/entities.h"

namespace tamga {

void WriteExperiment(JsonWriter& w, const Experiment& e);
void WriteRunInfo(JsonWriter& w, const RunInfo& info);
void WriteRun(JsonWriter& w, const Run& run);
void WriteMetric(JsonWriter& w, const MetricPoint& m);
// "key": [{"key":..,"value":..}, ...], omitted when empty.
void WriteKeyValueList(JsonWriter& w, const char* field, const std::vector<KeyValue>& kvs);

}  // namespace tamga
