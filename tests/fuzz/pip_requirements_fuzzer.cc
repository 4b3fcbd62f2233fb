// registry/mlmodel.h PipRequirementsFromText / PipRequirementsFromConda and core/pip_requirements.h, on a
// model's requirements.txt or conda.yaml as uploaded. Properties: no crash, hang or escaped exception (YAML
// depth and alias expansion bounded); errors are InvalidArgument; an accepted result passes
// CheckPipRequirements again and no line of it starts, after blanks, with '-' (no pip option reaches pip).
#include <cstdint>
#include <string>

#include "core/pip_requirements.h"
#include "fuzz/fuzz_input.h"
#include "registry/mlmodel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  if (size == 0) return 0;
  bool conda = data[0] & 1;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto out = conda ? PipRequirementsFromConda(text) : PipRequirementsFromText(text);
  if (!out.ok()) {
    TAMGA_FUZZ_ASSERT(out.status().code() == StatusCode::kInvalidArgument, text);
    return 0;
  }
  TAMGA_FUZZ_ASSERT(CheckPipRequirements(*out).ok(), *out);
  size_t pos = 0;
  while (pos < out->size()) {
    size_t nl = out->find('\n', pos);
    std::string line = out->substr(pos, nl - pos);
    size_t start = line.find_first_not_of(" \t");
    TAMGA_FUZZ_ASSERT(start == std::string::npos || line[start] != '-', *out);
    pos = nl + 1;
  }
  return 0;
}
