#include "http/fast_log_parser.h"

#include <simdjson.h>

#include <cmath>
#include <limits>

// The DOM API is used (not On-Demand) because it picks the best SIMD kernel at run time, so the binary
// stays portable across x86-64 CPUs while still parsing at GB/s.
namespace tamga {
namespace {
namespace dom = simdjson::dom;

bool ReadString(dom::element v, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->assign(s);
  return true;
}

bool ReadInt(dom::element v, int64_t* out) {
  if (v.is_int64()) return !v.get_int64().get(*out);
  if (v.is_uint64()) return false;
  if (v.is_double()) {
    double d = v.get_double().value_unsafe();
    if (std::floor(d) != d || std::fabs(d) > 9e18) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool ReadDouble(dom::element v, double* out) {
  if (v.is_number()) return !v.get_double().get(*out);
  std::string_view s;
  if (v.get_string().get(s)) return false;
  if (s == "NaN")
    *out = std::nan("");
  else if (s == "Infinity")
    *out = std::numeric_limits<double>::infinity();
  else if (s == "-Infinity")
    *out = -std::numeric_limits<double>::infinity();
  else
    return false;
  return true;
}

// Fills one metric; returns false unless key/value/timestamp are present and well-typed.
bool ReadMetric(dom::object obj, MetricPoint* m) {
  bool has_key = false, has_value = false, has_ts = false;
  for (auto [k, v] : obj) {
    if (k == "key") {
      if (!ReadString(v, &m->key) || m->key.empty()) return false;
      has_key = true;
    } else if (k == "value") {
      if (!ReadDouble(v, &m->value)) return false;
      has_value = true;
    } else if (k == "timestamp") {
      if (!ReadInt(v, &m->timestamp)) return false;
      has_ts = true;
    } else if (k == "step") {
      if (!v.is_null() && !ReadInt(v, &m->step)) return false;
    }
    // unknown fields are ignored, like MLflow (3.x adds model_id, dataset_name, dataset_digest)
  }
  return has_key && has_value && has_ts;
}

bool ReadKeyValue(dom::object obj, KeyValue* kv) {
  bool has_key = false;
  for (auto [k, v] : obj) {
    if (k == "key") {
      if (!ReadString(v, &kv->key) || kv->key.empty()) return false;
      has_key = true;
    } else if (k == "value") {
      if (!v.is_null() && !ReadString(v, &kv->value)) return false;
    }
  }
  return has_key;
}

template <typename T, typename Fn>
bool ReadArray(dom::element v, std::vector<T>* out, Fn read) {
  dom::array arr;
  if (v.get_array().get(arr)) return false;
  out->reserve(arr.size());
  for (dom::element elem : arr) {
    dom::object obj;
    if (elem.get_object().get(obj)) return false;
    T item{};
    if (!read(obj, &item)) return false;
    out->push_back(std::move(item));
  }
  return true;
}

bool Parse(std::string_view body, dom::object* obj) {
  thread_local dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root)) return false;
  return !root.get_object().get(*obj);
}

}  // namespace

std::optional<LogBatchRequest> TryParseLogBatch(std::string_view body) {
  dom::object obj;
  if (!Parse(body, &obj)) return std::nullopt;
  LogBatchRequest req;
  std::string run_uuid;
  for (auto [k, v] : obj) {
    bool ok = true;
    if (v.is_null()) continue;
    if (k == "run_id")
      ok = ReadString(v, &req.run_id);
    else if (k == "run_uuid")
      ok = ReadString(v, &run_uuid);
    else if (k == "metrics")
      ok = ReadArray(v, &req.metrics, ReadMetric);
    else if (k == "params")
      ok = ReadArray(v, &req.params, ReadKeyValue);
    else if (k == "tags")
      ok = ReadArray(v, &req.tags, ReadKeyValue);
    if (!ok) return std::nullopt;
  }
  if (req.run_id.empty()) req.run_id = run_uuid;
  if (req.run_id.empty()) return std::nullopt;
  return req;
}

std::optional<LogBatchRequest> TryParseLogMetric(std::string_view body) {
  dom::object obj;
  if (!Parse(body, &obj)) return std::nullopt;
  LogBatchRequest req;
  std::string run_uuid;
  dom::element run_id_el, uuid_el;
  if (!obj["run_id"].get(run_id_el) && !ReadString(run_id_el, &req.run_id)) return std::nullopt;
  if (!obj["run_uuid"].get(uuid_el) && !ReadString(uuid_el, &run_uuid)) return std::nullopt;
  if (req.run_id.empty()) req.run_id = run_uuid;
  if (req.run_id.empty()) return std::nullopt;
  MetricPoint m;
  if (!ReadMetric(obj, &m)) return std::nullopt;
  req.metrics.push_back(std::move(m));
  return req;
}

}  // namespace tamga
