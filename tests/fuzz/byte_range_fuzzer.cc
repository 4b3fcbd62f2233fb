// http/byte_range.h: the Range header of artifact downloads. Properties: a usable range lies inside the body
// (0 <= first <= last < size); an unsatisfiable one is reported only for a start past the end or an empty
// suffix; the parse never reads past 64 characters (longer values are refused).
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "http/byte_range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  int64_t body = static_cast<int64_t>(in.Byte()) << (in.Byte() % 40);
  std::string_view h = in.Rest();
  auto r = ParseByteRange(h, body);
  if (h.size() > 64) TAMGA_FUZZ_ASSERT(!r, h);
  if (r && r->satisfiable) {
    TAMGA_FUZZ_ASSERT(r->first >= 0 && r->first <= r->last && r->last < body, h);
  }
  return 0;
}
