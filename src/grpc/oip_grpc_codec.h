#pragma once
// Conversions between the Open Inference Protocol gRPC messages and serving tensors. Pure functions; every
// malformed request is InvalidArgument naming the problem. Only src/grpc sees the generated protobuf types.
#include <vector>

#include "core/result.h"
#include "grpc/proto/inference.pb.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {

// The request's inputs as tensors (typed `contents` or `raw_input_contents`), matched against the signature
// and ordered like it.
Result<std::vector<Tensor>> DecodeGrpcInputs(const inference::ModelInferRequest& req,
                                             const ModelSignature& sig);

// Fills `resp.outputs` (and `raw_output_contents` when `raw`), keeping only the requested outputs when the
// request names some; an unknown requested output is InvalidArgument.
Status EncodeGrpcOutputs(const inference::ModelInferRequest& req, std::vector<Tensor> outputs, bool raw,
                         inference::ModelInferResponse* resp);

void FillGrpcMetadata(const std::string& model, const std::string& version, const std::string& platform,
                      const ModelSignature& sig, inference::ModelMetadataResponse* resp);

}  // namespace tamga
