// serving/protocols MLflow scoring (/invocations): JSON (dataframe_split, dataframe_records, instances,
// inputs) and CSV bodies decoded against a model signature. Input: selector byte, content type line, body.
// Properties: errors are InvalidArgument or Unimplemented (unsupported content type); accepted tensors are
// well-formed and encode (EncodeInvocationsResponse) to valid JSON.
#include <cstdint>
#include <string>

#include "core/json_parse.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_signatures.h"
#include "serving/protocols/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  const ModelSignature& sig = fuzz::FuzzSignature(in.Byte());
  std::string_view content_type = in.Line();
  std::string_view body = in.Rest();
  auto tensors = ParseInvocations(content_type, body, sig);
  if (!tensors.ok()) {
    StatusCode c = tensors.status().code();
    TAMGA_FUZZ_ASSERT(c == StatusCode::kInvalidArgument || c == StatusCode::kUnimplemented, body);
    return 0;
  }
  for (const auto& t : *tensors) TAMGA_FUZZ_ASSERT(ValidateTensor(t).ok(), body);
  std::string out = EncodeInvocationsResponse(*tensors);
  TAMGA_FUZZ_ASSERT(ParseJson(out).ok(), out);
  return 0;
}
