// core/utf8.h: validation, sanitising and code-point-safe cutting of arbitrary bytes.
// Properties: SanitizeUtf8 always yields valid UTF-8 and leaves valid text unchanged; AppendSanitizedUtf8
// agrees with it; Utf8Prefix is a prefix within the limit that never splits a sequence of valid text;
// IsValidUtf8 agrees with walking the text by Utf8SequenceLength.
#include <cstdint>
#include <string>

#include "core/utf8.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  size_t cut = in.Byte();
  std::string_view s = in.Rest();

  bool valid = IsValidUtf8(s);
  size_t i = 0;
  bool walked = true;
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      walked = false;
      break;
    }
    TAMGA_FUZZ_ASSERT(n <= 4 && i + n <= s.size(), s);
    i += n;
  }
  TAMGA_FUZZ_ASSERT(walked == valid, s);

  std::string clean = SanitizeUtf8(s);
  TAMGA_FUZZ_ASSERT(IsValidUtf8(clean), s);
  if (valid) TAMGA_FUZZ_ASSERT(clean == s, s);
  std::string appended = "x";
  AppendSanitizedUtf8(&appended, s);
  TAMGA_FUZZ_ASSERT(appended == "x" + clean, s);

  std::string_view prefix = Utf8Prefix(s, cut);
  TAMGA_FUZZ_ASSERT(prefix.size() <= cut && prefix.data() == s.data(), s);
  if (valid) {
    TAMGA_FUZZ_ASSERT(IsValidUtf8(prefix), s);
    TAMGA_FUZZ_ASSERT(s.size() <= cut ? prefix.size() == s.size() : prefix.size() + 3 >= cut, s);
  }
  return 0;
}
