// Open Inference Protocol (KServe V2) REST: infer request/response JSON, binary tensor extension, metadata.
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "serving/protocols/codec.h"
#include "serving/protocols/json_tensor.h"

namespace tamga {

using namespace serving_internal;

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 28;  // 256 Mi elements per tensor

Result<std::vector<int64_t>> ParseShape(const nlohmann::json& j, const std::string& name) {
  if (!j.is_array()) return InvalidArgument("input '" + name + "': 'shape' must be a list of integers");
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (const auto& d : j) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      return InvalidArgument("input '" + name + "': 'shape' must be a list of non-negative integers");
    }
    int64_t v = d.get<int64_t>();
    if (v > 0 && n > kMaxElements / v) return InvalidArgument("input '" + name + "' is too large");
    n *= v;
    shape.push_back(v);
  }
  if (shape.size() > 8) return InvalidArgument("input '" + name + "' has more than 8 dimensions");
  return shape;
}

std::optional<bool> BoolParam(const nlohmann::json& params, const char* key) {
  if (!params.is_object() || !params.contains(key) || !params[key].is_boolean()) return std::nullopt;
  return params[key].get<bool>();
}

}  // namespace

std::string V2Error(const std::string& message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("error", message);
  w.EndObject();
  return out;
}

Result<std::vector<Tensor>> MatchInputs(std::vector<Tensor> inputs, const ModelSignature& sig) {
  if (inputs.size() != sig.inputs.size()) {
    std::string want;
    for (const auto& s : sig.inputs) want += (want.empty() ? "" : ", ") + s.name;
    return InvalidArgument("expected " + std::to_string(sig.inputs.size()) + " input(s) [" + want +
                           "], got " + std::to_string(inputs.size()));
  }
  std::vector<Tensor> ordered(sig.inputs.size());
  std::vector<bool> filled(sig.inputs.size(), false);
  for (auto& t : inputs) {
    size_t idx = sig.inputs.size();
    for (size_t i = 0; i < sig.inputs.size(); ++i) {
      if (sig.inputs[i].name == t.name) idx = i;
    }
    if (idx == sig.inputs.size()) {
      if (sig.inputs.size() == 1 && inputs.size() == 1)
        idx = 0;  // one input: any name is that input
      else
        return InvalidArgument("unexpected input '" + t.name.substr(0, 100) + "'");
    }
    if (filled[idx]) return InvalidArgument("input '" + t.name.substr(0, 100) + "' given twice");
    const TensorSpec& spec = sig.inputs[idx];
    if (sig.dtypes_known && t.dtype != spec.dtype) {
      return InvalidArgument("input '" + spec.name + "': expected datatype " + DataTypeName(spec.dtype) +
                             ", got " + DataTypeName(t.dtype));
    }
    bool any_rank = !sig.shapes_known;
    if (!any_rank && !ShapeMatches(t.shape, spec.shape)) {
      return InvalidArgument("input '" + spec.name + "': expected shape " + ShapeString(spec.shape) +
                             ", got " + ShapeString(t.shape));
    }
    if (sig.batched && t.shape.empty())
      return InvalidArgument("input '" + spec.name + "' needs a batch dimension");
    t.name = spec.name;
    ordered[idx] = std::move(t);
    filled[idx] = true;
  }
  if (sig.batched) {
    for (const auto& t : ordered) {
      if (t.Rows() != ordered[0].Rows())
        return InvalidArgument("inputs disagree on the batch size (dimension 0)");
    }
  }
  return ordered;
}

Result<V2InferRequest> ParseV2InferRequest(std::string_view json, std::string_view binary,
                                           const ModelSignature& sig) {
  auto parsed = ParseJson(json);
  if (!parsed.ok())
    return InvalidArgument("malformed JSON in the inference request: " + parsed.status().message());
  nlohmann::json& j = *parsed;
  if (!j.is_object()) return InvalidArgument("the inference request must be a JSON object");
  V2InferRequest req;
  if (j.contains("id")) {
    if (!j["id"].is_string()) return InvalidArgument("'id' must be a string");
    req.id = j["id"].get<std::string>();
  }
  if (j.contains("parameters")) {
    if (!j["parameters"].is_object()) return InvalidArgument("'parameters' must be an object");
    req.binary_output = BoolParam(j["parameters"], "binary_data_output").value_or(false);
  }
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty()) {
    return InvalidArgument("'inputs' must be a non-empty list");
  }
  size_t binary_off = 0;
  std::vector<Tensor> inputs;
  for (const auto& in : j["inputs"]) {
    if (!in.is_object()) return InvalidArgument("each input must be an object");
    if (!in.contains("name") || !in["name"].is_string())
      return InvalidArgument("each input needs a string 'name'");
    Tensor t;
    t.name = in["name"].get<std::string>();
    if (!in.contains("datatype") || !in["datatype"].is_string()) {
      return InvalidArgument("input '" + t.name + "' needs a string 'datatype'");
    }
    auto dt = ParseDataType(in["datatype"].get<std::string>());
    if (!dt)
      return InvalidArgument("input '" + t.name + "': unknown datatype '" +
                             in["datatype"].get<std::string>().substr(0, 20) + "'");
    t.dtype = *dt;
    if (!in.contains("shape")) return InvalidArgument("input '" + t.name + "' needs a 'shape'");
    TAMGA_ASSIGN_OR_RETURN(t.shape, ParseShape(in["shape"], t.name));
    int64_t n = t.NumElements();
    const nlohmann::json params = in.value("parameters", nlohmann::json::object());
    if (params.is_object() && params.contains("binary_data_size")) {
      if (!params["binary_data_size"].is_number_unsigned()) {
        return InvalidArgument("input '" + t.name + "': binary_data_size must be a non-negative integer");
      }
      size_t size = params["binary_data_size"].get<size_t>();
      if (size > binary.size() - binary_off) {
        return InvalidArgument("input '" + t.name + "': binary_data_size exceeds the binary data sent");
      }
      t.data.assign(binary.substr(binary_off, size));
      binary_off += size;
    } else {
      if (!in.contains("data")) return InvalidArgument("input '" + t.name + "' needs 'data'");
      if (t.dtype != DataType::kBytes) t.data.reserve(static_cast<size_t>(n) * DataTypeSize(t.dtype));
      auto count = AppendElements(in["data"], t.dtype, &t);
      if (!count.ok()) return InvalidArgument("input '" + t.name + "': " + count.status().message());
      if (*count != n) {
        return InvalidArgument("input '" + t.name + "': shape " + ShapeString(t.shape) + " needs " +
                               std::to_string(n) + " elements, 'data' has " + std::to_string(*count));
      }
    }
    TAMGA_RETURN_IF_ERROR(ValidateTensor(t));
    inputs.push_back(std::move(t));
  }
  if (binary_off != binary.size()) return InvalidArgument("binary data left over after the last input");
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) return InvalidArgument("'outputs' must be a list");
    for (const auto& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return InvalidArgument("each requested output needs a string 'name'");
      }
      V2RequestedOutput ro;
      ro.name = o["name"].get<std::string>();
      bool known = false;
      for (const auto& s : sig.outputs) known |= s.name == ro.name;
      if (!known) return InvalidArgument("unknown output '" + ro.name.substr(0, 100) + "'");
      ro.binary = BoolParam(o.value("parameters", nlohmann::json::object()), "binary_data");
      req.outputs.push_back(std::move(ro));
    }
  }
  TAMGA_ASSIGN_OR_RETURN(req.inputs, MatchInputs(std::move(inputs), sig));
  return req;
}

Result<V2InferRequest> ParseV2RawRequest(std::string_view body, const ModelSignature& sig) {
  if (sig.inputs.size() != 1) {
    return InvalidArgument(
        "a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; this one "
        "has " +
        std::to_string(sig.inputs.size()));
  }
  if (!sig.shapes_known) {
    return InvalidArgument("a raw binary request needs a model whose signature declares the input shape");
  }
  const TensorSpec& spec = sig.inputs[0];
  Tensor t;
  t.name = spec.name;
  t.dtype = spec.dtype;
  t.shape = spec.shape;
  if (sig.batched && !t.shape.empty()) t.shape[0] = 1;
  if (t.dtype == DataType::kBytes) {
    if (t.shape.size() > 1 || body.size() > UINT32_MAX) {
      return InvalidArgument("a raw binary BYTES request needs an input of shape [1]");
    }
    t.shape.assign(1, 1);
    uint32_t len = static_cast<uint32_t>(body.size());
    t.data.assign(reinterpret_cast<const char*>(&len), 4);
    t.data.append(body);
  } else {
    int64_t fixed = 1;
    int variable = -1;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape[i] >= 0) {
        fixed *= t.shape[i];
      } else if (variable >= 0) {
        return InvalidArgument(
            "a raw binary request needs an input with at most one variable dimension besides the batch");
      } else {
        variable = static_cast<int>(i);
      }
    }
    size_t row = static_cast<size_t>(fixed) * DataTypeSize(t.dtype);
    if (variable >= 0) {
      if (row == 0 || body.size() % row != 0) {
        return InvalidArgument("raw body of " + std::to_string(body.size()) +
                               " bytes is not a whole number of " + DataTypeName(t.dtype) +
                               " elements of shape " + ShapeString(spec.shape));
      }
      t.shape[variable] = static_cast<int64_t>(body.size() / row);
    }
    t.data.assign(body.data(), body.size());
  }
  TAMGA_RETURN_IF_ERROR(ValidateTensor(t));
  V2InferRequest req;
  req.binary_output = true;
  req.inputs.push_back(std::move(t));
  return req;
}

Result<V2EncodedResponse> EncodeV2InferResponse(const std::string& model, const std::string& version,
                                                const V2InferRequest& req,
                                                const std::vector<Tensor>& outputs) {
  V2EncodedResponse out;
  std::string binary;
  JsonWriter w(&out.body);
  w.BeginObject();
  w.Field("model_name", model);
  if (!version.empty()) w.Field("model_version", version);
  w.Field("id", req.id);
  w.Key("outputs");
  w.BeginArray();
  for (const auto& t : outputs) {
    bool wanted = req.outputs.empty();
    bool as_binary = req.binary_output;
    for (const auto& ro : req.outputs) {
      if (ro.name == t.name) {
        wanted = true;
        if (ro.binary) as_binary = *ro.binary;
      }
    }
    if (!wanted) continue;
    if (t.dtype == DataType::kFp16) as_binary = true;
    w.BeginObject();
    w.Field("name", t.name);
    w.Field("datatype", DataTypeName(t.dtype));
    w.Key("shape");
    w.BeginArray();
    for (int64_t d : t.shape) w.Int(d);
    w.EndArray();
    if (as_binary) {
      w.Key("parameters");
      w.BeginObject();
      w.FieldInt("binary_data_size", static_cast<int64_t>(t.data.size()));
      w.EndObject();
      binary.append(t.data);
    } else {
      w.Key("data");
      WriteElements(w, t, true);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.json_size = out.body.size();
  out.body.append(binary);
  return out;
}

std::string EncodeV2Metadata(const std::string& model, const std::string& version,
                             const std::string& platform, const ModelSignature& sig) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("name", model);
  w.Key("versions");
  w.BeginArray();
  w.String(version);
  w.EndArray();
  w.Field("platform", platform);
  for (const char* key : {"inputs", "outputs"}) {
    const auto& specs = std::string(key) == "inputs" ? sig.inputs : sig.outputs;
    w.Key(key);
    w.BeginArray();
    for (const auto& s : specs) {
      w.BeginObject();
      serving_internal::WriteTensorHead(w, s.name, s.dtype, s.shape);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return out;
}

}  // namespace tamga
