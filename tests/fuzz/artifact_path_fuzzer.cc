// artifacts/artifact_path.h: percent decoding, path validation and proxied-URI mapping of user-supplied
// paths. Properties: an accepted path is relative, has no '.', '..' or empty segment, no backslash, '#' or
// control character, and validates again to itself; PercentDecode never grows the text.
#include <cstdint>
#include <string>

#include "artifacts/artifact_path.h"
#include "fuzz/fuzz_input.h"

namespace {

void CheckAccepted(const std::string& p, std::string_view input) {
  if (p.empty()) return;
  TAMGA_FUZZ_ASSERT(p.front() != '/' && p.back() != '/', input);
  TAMGA_FUZZ_ASSERT(p.find('\\') == std::string::npos && p.find('#') == std::string::npos, input);
  for (unsigned char c : p) TAMGA_FUZZ_ASSERT(c >= 0x20, input);
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string::npos) slash = p.size();
    std::string_view seg(p.data() + start, slash - start);
    TAMGA_FUZZ_ASSERT(!seg.empty() && seg != "." && seg != "..", input);
    start = slash + 1;
  }
  auto again = tamga::ValidateArtifactPath(p, false);
  TAMGA_FUZZ_ASSERT(again.ok() && *again == p, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  uint8_t mode = in.Byte();
  std::string_view s = in.Rest();
  bool plus = mode & 1;
  bool allow_root = mode & 2;

  auto decoded = PercentDecode(s, plus);
  if (decoded) TAMGA_FUZZ_ASSERT(decoded->size() <= s.size(), s);
  auto direct = ValidateArtifactPath(s, allow_root);
  if (direct.ok()) {
    if (!allow_root) TAMGA_FUZZ_ASSERT(!direct->empty(), s);
    CheckAccepted(*direct, s);
  }
  if (decoded) {  // what the routes do: decode, then validate
    auto v = ValidateArtifactPath(*decoded, allow_root);
    if (v.ok()) CheckAccepted(*v, s);
  }
  auto proxied = ProxiedArtifactPath(s);
  if (proxied) (void)ValidateArtifactPath(*proxied, true);
  return 0;
}
