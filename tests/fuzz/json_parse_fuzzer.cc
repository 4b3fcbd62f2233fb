// core/json_parse.h: the limited JSON parser every untrusted body goes through.
// Properties: never throws; anything nested deeper than kMaxJsonDepth is refused before parsing; what parses
// dumps (DumpJson, never throwing) to text that parses again to an equal value; CheckJsonDepth agrees with a
// smaller limit.
#include <cstdint>
#include <string>

#include "core/json_parse.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  int small_depth = 1 + in.Byte() % 8;
  std::string_view text = in.Rest();

  Status depth = CheckJsonDepth(text);
  Status small = CheckJsonDepth(text, small_depth);
  if (!depth.ok()) TAMGA_FUZZ_ASSERT(!small.ok(), text);  // deeper than 128 is deeper than 8

  auto j = ParseJson(text);
  if (!depth.ok()) TAMGA_FUZZ_ASSERT(!j.ok(), text);
  if (j.ok()) {
    std::string dumped = DumpJson(*j);
    auto again = ParseJson(dumped);
    TAMGA_FUZZ_ASSERT(again.ok(), dumped);
    // Invalid UTF-8 in strings becomes U+FFFD, so equality holds only when the first dump was lossless.
    if (DumpJson(*again) != dumped) fuzz::Fail("DumpJson is not stable", dumped);
  }
  auto o = ParseOrderedJson(text);
  TAMGA_FUZZ_ASSERT(o.ok() == j.ok(), text);
  if (o.ok()) {
    std::string dumped = DumpJson(*o);
    TAMGA_FUZZ_ASSERT(ParseOrderedJson(dumped).ok(), dumped);
  }
  return 0;
}
