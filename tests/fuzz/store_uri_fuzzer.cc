// core/store_uri.h: --backend-store-uri / --artifacts-destination. Properties: parsing never throws or reads
// out of bounds; a parsed URI's redacted form never contains its password (when the password is not also
// elsewhere in the URI); an S3 bucket always obeys the naming rules.
#include <cstdint>
#include <string>

#include "core/store_uri.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  std::string_view s = in.Rest();
  auto b = ParseBackendStoreUri(s);
  if (b.ok() && b->password.size() >= 4) {
    std::string red = b->Redacted();
    std::string without = s.size() > 0 ? std::string(s) : "";
    size_t first = without.find(b->password);
    if (first != std::string::npos && without.find(b->password, first + 1) == std::string::npos &&
        without.find('%') == std::string::npos) {
      TAMGA_FUZZ_ASSERT(red.find(b->password) == std::string::npos, s);
    }
  }
  auto a = ParseArtifactsUri(s);
  if (a.ok() && a->kind == StoreUri::Kind::kS3) {
    TAMGA_FUZZ_ASSERT(a->bucket.size() >= 3 && a->bucket.size() <= 63, s);
  }
  return 0;
}
