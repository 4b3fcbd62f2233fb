// MLflow model signatures (MLmodel `signature.inputs/outputs`, JSON text) as tensor specs.
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {
namespace {

std::optional<DataType> FromNumpyDtype(const std::string& d) {
  static const std::pair<const char*, DataType> kMap[] = {
      {"float32", DataType::kFp32},  {"float64", DataType::kFp64},  {"float16", DataType::kFp16},
      {"int8", DataType::kInt8},     {"int16", DataType::kInt16},   {"int32", DataType::kInt32},
      {"int64", DataType::kInt64},   {"uint8", DataType::kUint8},   {"uint16", DataType::kUint16},
      {"uint32", DataType::kUint32}, {"uint64", DataType::kUint64}, {"bool", DataType::kBool},
      {"object", DataType::kBytes},  {"str", DataType::kBytes},     {"bytes", DataType::kBytes}};
  for (const auto& [n, t] : kMap) {
    if (d == n) return t;
  }
  return std::nullopt;
}

std::optional<DataType> FromColumnType(const std::string& t) {
  if (t == "double") return DataType::kFp64;
  if (t == "float") return DataType::kFp32;
  if (t == "long") return DataType::kInt64;
  if (t == "integer") return DataType::kInt32;
  if (t == "boolean") return DataType::kBool;
  if (t == "string" || t == "binary") return DataType::kBytes;
  return std::nullopt;
}

Result<std::vector<TensorSpec>> ParseSchema(const std::string& text, const char* prefix, ModelSignature* sig,
                                            bool inputs) {
  std::vector<TensorSpec> out;
  if (text.empty()) return out;
  auto parsed = ParseJson(text);
  if (!parsed.ok())
    return InvalidArgument(std::string("MLmodel signature ") + prefix + ": " + parsed.status().message());
  const nlohmann::json& j = *parsed;
  if (!j.is_array())
    return InvalidArgument(std::string("MLmodel signature ") + prefix + " is not a JSON list");
  bool columns = false;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string()) {
      return InvalidArgument("MLmodel signature entry without a type");
    }
    std::string type = e["type"].get<std::string>();
    TensorSpec spec;
    spec.name = e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>()
                                                            : std::string(prefix) + "-" + std::to_string(i);
    if (type == "tensor") {
      auto it = e.find("tensor-spec");
      nlohmann::json ts = it != e.end() && it->is_object() ? *it : nlohmann::json::object();
      auto dtype_it = ts.find("dtype");
      std::string dtype = dtype_it != ts.end() && dtype_it->is_string() ? dtype_it->get<std::string>() : "";
      auto dt = FromNumpyDtype(dtype);
      if (!dt)
        return InvalidArgument("MLmodel signature: unsupported tensor dtype '" + dtype.substr(0, 40) + "'");
      spec.dtype = *dt;
      if (ts.contains("shape") && ts["shape"].is_array()) {
        for (const auto& d : ts["shape"]) spec.shape.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
      }
      out.push_back(std::move(spec));
    } else {
      auto dt = FromColumnType(type);
      if (!dt) return InvalidArgument("MLmodel signature: unsupported column type " + type);
      columns = true;
      spec.dtype = *dt;
      spec.shape = {-1};
      if (inputs && e.contains("name") && e["name"].is_string()) {
        sig->columns.push_back(e["name"].get<std::string>());
        sig->column_specs.push_back(spec);
      }
      out.push_back(std::move(spec));
    }
  }
  if (columns) {
    // A column-based schema describes one table; native runtimes take it as one [rows, columns] matrix.
    TensorSpec table;
    table.name = std::string(prefix) + "-0";
    table.dtype = DataType::kFp32;
    table.shape = out.size() == 1 ? std::vector<int64_t>{-1}
                                  : std::vector<int64_t>{-1, static_cast<int64_t>(out.size())};
    if (inputs) table.shape = {-1, static_cast<int64_t>(out.size())};
    out = {table};
  }
  return out;
}

}  // namespace

Result<ModelSignature> ParseMlflowSignature(const std::string& inputs_json, const std::string& outputs_json) {
  ModelSignature sig;
  TAMGA_ASSIGN_OR_RETURN(sig.inputs, ParseSchema(inputs_json, "input", &sig, true));
  TAMGA_ASSIGN_OR_RETURN(sig.outputs, ParseSchema(outputs_json, "output", &sig, false));
  return sig;
}

}  // namespace tamga
