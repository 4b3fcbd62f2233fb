// registry/mlmodel.h ParseMlmodel: an MLmodel file (YAML) as uploaded with a model, then its signature
// through serving's ParseMlflowSignature as `tamga serve` reads it. Properties: no crash, hang or escaped
// exception (yaml-cpp's recursion and alias expansion are bounded); flavors_json and signature_json are valid
// JSON.
#include <cstdint>
#include <string>

#include "core/json_parse.h"
#include "fuzz/fuzz_input.h"
#include "registry/mlmodel.h"
#include "serving/runtime/model_runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto info = ParseMlmodel(text);
  if (!info.ok()) {
    TAMGA_FUZZ_ASSERT(info.status().code() == StatusCode::kInvalidArgument, text);
    return 0;
  }
  auto flavors = ParseJson(info->flavors_json);
  TAMGA_FUZZ_ASSERT(flavors.ok(), info->flavors_json);
  if (info->signature_json.empty()) return 0;
  auto sig = ParseJson(info->signature_json);
  TAMGA_FUZZ_ASSERT(sig.ok(), info->signature_json);
  // MLflow stores signature.inputs/outputs as JSON text inside the YAML.
  std::string inputs, outputs;
  if (sig->is_object()) {
    if (sig->contains("inputs") && (*sig)["inputs"].is_string()) inputs = (*sig)["inputs"].get<std::string>();
    if (sig->contains("outputs") && (*sig)["outputs"].is_string())
      outputs = (*sig)["outputs"].get<std::string>();
  }
  auto parsed = ParseMlflowSignature(inputs, outputs);
  if (!parsed.ok())
    TAMGA_FUZZ_ASSERT(parsed.status().code() == StatusCode::kInvalidArgument, inputs + "\n" + outputs);
  return 0;
}
