#include "http/mlflow_json.h"

#include <charconv>

namespace tamga {

void WriteKeyValueList(JsonWriter& w, const char* field, const std::vector<KeyValue>& kvs) {
  if (kvs.empty()) return;
  w.Key(field);
  w.BeginArray();
  for (const auto& kv : kvs) {
    w.BeginObject();
    w.Field("key", kv.key);
    w.Field("value", kv.value);
    w.EndObject();
  }
  w.EndArray();
}

void WriteExperiment(JsonWriter& w, const Experiment& e) {
  w.BeginObject();
  w.Field("experiment_id", e.experiment_id);
  w.Field("name", e.name);
  w.Field("artifact_location", e.artifact_location);
  w.Field("lifecycle_stage", LifecycleStageName(e.lifecycle_stage));
  w.FieldInt("last_update_time", e.last_update_time);
  w.FieldInt("creation_time", e.creation_time);
  WriteKeyValueList(w, "tags", e.tags);
  w.EndObject();
}

void WriteRunInfo(JsonWriter& w, const RunInfo& info) {
  w.BeginObject();
  w.Field("run_uuid", info.run_id);
  w.Field("experiment_id", info.experiment_id);
  w.Field("run_name", info.run_name);
  w.Field("user_id", info.user_id);
  w.Field("status", RunStatusName(info.status));
  w.FieldInt("start_time", info.start_time);
  if (info.end_time) w.FieldInt("end_time", *info.end_time);
  w.Field("artifact_uri", info.artifact_uri);
  w.Field("lifecycle_stage", LifecycleStageName(info.lifecycle_stage));
  w.Field("run_id", info.run_id);
  w.EndObject();
}

void WriteMetric(JsonWriter& w, const MetricPoint& m) {
  w.BeginObject();
  w.Field("key", m.key);
  w.FieldDouble("value", m.value);
  w.FieldInt("timestamp", m.timestamp);
  w.FieldInt("step", m.step);
  w.EndObject();
}

void WriteRun(JsonWriter& w, const Run& run) {
  w.BeginObject();
  w.Key("info");
  WriteRunInfo(w, run.info);
  w.Key("data");
  w.BeginObject();
  if (!run.metrics.empty()) {
    w.Key("metrics");
    w.BeginArray();
    for (const auto& m : run.metrics) WriteMetric(w, m);
    w.EndArray();
  }
  WriteKeyValueList(w, "params", run.params);
  WriteKeyValueList(w, "tags", run.tags);
  w.EndObject();
  w.Key("inputs");
  w.BeginObject();
  if (!run.inputs.empty()) {
    w.Key("dataset_inputs");
    w.BeginArray();
    for (const auto& in : run.inputs) {
      w.BeginObject();
      WriteKeyValueList(w, "tags", in.tags);
      w.Key("dataset");
      w.BeginObject();
      w.Field("name", in.dataset.name);
      w.Field("digest", in.dataset.digest);
      w.Field("source_type", in.dataset.source_type);
      w.Field("source", in.dataset.source);
      if (!in.dataset.schema.empty()) w.Field("schema", in.dataset.schema);
      if (!in.dataset.profile.empty()) w.Field("profile", in.dataset.profile);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  if (!run.outputs.empty()) {  // MLflow 3.x: the logged models the run produced
    w.Key("outputs");
    w.BeginObject();
    w.Key("model_outputs");
    w.BeginArray();
    for (const auto& o : run.outputs) {
      w.BeginObject();
      w.Field("model_id", o.model_id);
      w.FieldInt("step", o.step);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
}

std::string HistoryPointPrefix(const std::string& key) {
  std::string prefix = "{\"key\":";
  AppendJsonString(&prefix, key);
  prefix += ",\"value\":";
  return prefix;
}

void AppendHistoryPoint(std::string* out, const std::string& prefix, const HistoryPoint& p) {
  char buf[24];
  out->append(prefix);
  AppendJsonDouble(out, p.value);
  out->append(",\"timestamp\":");
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), p.timestamp).ptr);
  out->append(",\"step\":");
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), p.step).ptr);
  out->push_back('}');
}

void AppendHistoryTail(std::string* out, bool had_points, const std::string& next_page_token) {
  if (had_points) out->push_back(']');
  if (!next_page_token.empty()) {
    if (had_points) out->push_back(',');
    out->append("\"next_page_token\":");
    AppendJsonString(out, next_page_token);
  }
  out->push_back('}');
}

void AppendMetricHistoryJson(std::string* out, const std::string& key,
                             const std::vector<HistoryPoint>& points, const std::string& next_page_token) {
  std::string prefix = HistoryPointPrefix(key);
  out->reserve(out->size() + 64 + points.size() * (prefix.size() + 48));
  out->append(points.empty() ? "{" : "{\"metrics\":[");
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out->push_back(',');
    AppendHistoryPoint(out, prefix, points[i]);
  }
  AppendHistoryTail(out, !points.empty(), next_page_token);
}

}  // namespace tamga
