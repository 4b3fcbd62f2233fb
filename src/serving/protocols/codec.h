#pragma once
// Request/response codecs of the serving protocols: Open Inference Protocol (KServe V2) REST JSON with the
// binary tensor extension, and MLflow's /invocations (dataframe_split, dataframe_records, instances,
// inputs, CSV). Pure functions over bytes and tensors; every malformed input is InvalidArgument with a
// message naming the problem. Thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

struct V2RequestedOutput {
  std::string name;
  std::optional<bool> binary;
};

struct V2InferRequest {
  std::string id;
  std::vector<Tensor> inputs;              // signature order
  std::vector<V2RequestedOutput> outputs;  // empty = all
  bool binary_output = false;              // request-level binary_data_output
};

// `json` is the JSON part; `binary` the bytes after it (binary extension), empty otherwise.
Result<V2InferRequest> ParseV2InferRequest(std::string_view json, std::string_view binary,
                                           const ModelSignature& sig);
// Raw binary request (Inference-Header-Content-Length: 0): the body is the one input's bytes; batch 1, at
// most one other variable dimension, deduced from the size. Every output comes back binary.
Result<V2InferRequest> ParseV2RawRequest(std::string_view body, const ModelSignature& sig);
// Checks names, dtypes and shapes against the signature and orders the inputs like it.
Result<std::vector<Tensor>> MatchInputs(std::vector<Tensor> inputs, const ModelSignature& sig);

struct V2EncodedResponse {
  std::string body;
  size_t json_size = 0;  // == body.size() when nothing is binary
};
Result<V2EncodedResponse> EncodeV2InferResponse(const std::string& model, const std::string& version,
                                                const V2InferRequest& req,
                                                const std::vector<Tensor>& outputs);
std::string EncodeV2Metadata(const std::string& model, const std::string& version,
                             const std::string& platform, const ModelSignature& sig);
std::string V2Error(const std::string& message);

// MLflow scoring: `content_type` is the raw header. Returns inputs in signature order.
Result<std::vector<Tensor>> ParseInvocations(std::string_view content_type, std::string_view body,
                                             const ModelSignature& sig);
// {"predictions": ...}: one output -> its (nested) list; several -> {name: list}.
std::string EncodeInvocationsResponse(const std::vector<Tensor>& outputs);
std::string MlflowError(const std::string& message);

}  // namespace tamga
