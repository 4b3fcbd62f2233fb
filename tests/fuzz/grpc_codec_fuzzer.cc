// grpc OIP ModelInferRequest decoding: the bytes are parsed as the protobuf message (as gRPC would), then
// DecodeGrpcInputs turns typed `contents` or `raw_input_contents` into tensors against a signature, and
// EncodeGrpcOutputs echoes them. Input: selector byte, protobuf bytes. Properties: errors are
// InvalidArgument; decoded tensors are well-formed.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_signatures.h"
#include "grpc/oip_grpc_codec.h"
#include "serving/protocols/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  const ModelSignature& sig = fuzz::FuzzSignature(mode);
  std::string_view bytes = in.Rest();
  inference::ModelInferRequest req;
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return 0;
  auto tensors = DecodeGrpcInputs(req, sig);
  if (!tensors.ok()) {
    TAMGA_FUZZ_ASSERT(tensors.status().code() == StatusCode::kInvalidArgument, req.ShortDebugString());
    return 0;
  }
  for (const auto& t : *tensors) TAMGA_FUZZ_ASSERT(ValidateTensor(t).ok(), req.ShortDebugString());
  inference::ModelInferResponse resp;
  Status s = EncodeGrpcOutputs(req, *tensors, mode & 0x80, &resp);
  if (!s.ok()) TAMGA_FUZZ_ASSERT(s.code() == StatusCode::kInvalidArgument, req.ShortDebugString());
  return 0;
}
