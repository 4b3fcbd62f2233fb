// artifacts/s3/s3_xml.h: the XML of S3 answers, from an S3 endpoint the operator chose (possibly wrong or
// hostile). Properties: never throws, crashes or recurses past the depth limit; a parsed listing has keys and
// non-negative sizes; a truncated one carries a continuation token.
#include <cstdint>
#include <string>

#include "artifacts/s3/s3_xml.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tamga;
  fuzz::FuzzInput in(data, size);
  std::string_view s = in.Rest();
  (void)ParseXml(s);
  auto page = ParseListObjectsV2(s);
  if (page.ok()) {
    for (const auto& o : page->objects) TAMGA_FUZZ_ASSERT(!o.key.empty() && o.size >= 0, s);
    if (page->truncated) TAMGA_FUZZ_ASSERT(!page->next_continuation_token.empty(), s);
  }
  (void)ParseS3Error(s);
  (void)ParseInitiateMultipartUpload(s);
  return 0;
}
