#pragma once
// Serialisation of tracking entities in MLflow's JSON mapping (snake_case names, int64 as numbers,
// NaN/Infinity as strings, empty repeated fields and unset optionals omitted).
#include <string>

#include "core/json_writer.h"
#include "storage/entities.h"
#include "storage/metadata_store.h"

namespace tamga {

void WriteExperiment(JsonWriter& w, const Experiment& e);
void WriteRunInfo(JsonWriter& w, const RunInfo& info);
void WriteRun(JsonWriter& w, const Run& run);
void WriteMetric(JsonWriter& w, const MetricPoint& m);
// Pieces of a get-history body, shared by the one-string and the streamed (history_body.h) writers.
// The per-point prefix {"key":<key>,"value": is escaped once per response, not once per point.
std::string HistoryPointPrefix(const std::string& key);
void AppendHistoryPoint(std::string* out, const std::string& prefix, const HistoryPoint& p);  // no comma
// Closes the metrics array (when there were points) and the object, adding next_page_token if set.
void AppendHistoryTail(std::string* out, bool had_points, const std::string& next_page_token);

// The whole get-history response body, {"metrics": [...], "next_page_token": ...}: the hottest
// serialisation in the server (a million points), written without per-point key escaping.
void AppendMetricHistoryJson(std::string* out, const std::string& key,
                             const std::vector<HistoryPoint>& points, const std::string& next_page_token);
// "key": [{"key":..,"value":..}, ...], omitted when empty.
void WriteKeyValueList(JsonWriter& w, const char* field, const std::vector<KeyValue>& kvs);

}  // namespace tamga
