// core/uri.h: Python-urlparse splitting and unquoting of arbitrary text (model-version sources, artifact
// locations). Properties: the parts are pieces of the input (scheme lower-cased); a URI without '#' has no
// fragment and without '?' no query; Unquote never grows the text; UnquoteFully is a fixed point of
// unquote_plus; IsLocalUri holds for every input without a scheme.
#include <cstdint>
#include <string>

#include "core/uri.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  std::string_view s = in.Rest();

  UriParts p = ParseUri(s);
  TAMGA_FUZZ_ASSERT(p.path.size() + p.netloc.size() + p.query.size() + p.fragment.size() + p.params.size() +
                            p.scheme.size() <=
                        s.size(),
                    s);
  TAMGA_FUZZ_ASSERT(s.find(p.path) != std::string_view::npos, s);
  if (s.find('#') == std::string_view::npos) TAMGA_FUZZ_ASSERT(p.fragment.empty(), s);
  if (s.find('?') == std::string_view::npos) TAMGA_FUZZ_ASSERT(p.query.empty(), s);
  if (p.scheme.empty()) TAMGA_FUZZ_ASSERT(IsLocalUri(s), s);

  std::string once = Unquote(s, false);
  TAMGA_FUZZ_ASSERT(once.size() <= s.size(), s);
  std::string full = UnquoteFully(s);
  TAMGA_FUZZ_ASSERT(full.size() <= s.size(), s);
  if (s.size() < 4096) TAMGA_FUZZ_ASSERT(Unquote(full, true) == full || full.size() < s.size(), s);
  return 0;
}
