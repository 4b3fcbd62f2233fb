// serving/protocols Open Inference Protocol (KServe V2) REST: JSON requests, the binary tensor extension
// (JSON head + raw bytes, split as Inference-Header-Content-Length would) and raw binary requests.
// Input: selector byte (signature, mode), 2-byte little-endian JSON length, bytes. Properties: errors are
// InvalidArgument; accepted inputs are well-formed tensors matching the signature, and echoing them back
// (EncodeV2InferResponse) yields a body whose JSON part parses.
#include <cstdint>
#include <string>

#include "core/json_parse.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_signatures.h"
#include "serving/protocols/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  const ModelSignature& sig = fuzz::FuzzSignature(mode);
  size_t json_len = in.Byte();
  json_len |= static_cast<size_t>(in.Byte()) << 8;
  std::string_view bytes = in.Rest();

  Result<V2InferRequest> req = InvalidArgument("unset");
  if (mode & 0x80) {
    req = ParseV2RawRequest(bytes, sig);
  } else {
    size_t n = std::min(json_len, bytes.size());
    if (mode & 0x40) n = bytes.size();  // plain JSON, no binary part
    req = ParseV2InferRequest(bytes.substr(0, n), bytes.substr(n), sig);
  }
  if (!req.ok()) {
    TAMGA_FUZZ_ASSERT(req.status().code() == StatusCode::kInvalidArgument, bytes);
    return 0;
  }
  for (const auto& t : req->inputs) TAMGA_FUZZ_ASSERT(ValidateTensor(t).ok(), bytes);
  auto resp = EncodeV2InferResponse("m", "1", *req, req->inputs);
  if (resp.ok()) {
    TAMGA_FUZZ_ASSERT(resp->json_size <= resp->body.size(), bytes);
    std::string_view head(resp->body.data(), resp->json_size);
    TAMGA_FUZZ_ASSERT(ParseJson(head).ok(), head);
  }
  return 0;
}
