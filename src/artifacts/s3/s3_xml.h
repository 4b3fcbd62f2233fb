#pragma once
// The XML of S3 answers (ListObjectsV2, InitiateMultipartUpload, errors) as the S3 blob store will read them
// (docs/scale-out.md). A small, bounded parser: no DTDs (so no entity expansion), at most `max_depth` nesting
// and `max_elements` elements, and documents of at most 16 MiB; attributes are read past, not kept. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tamga {

struct XmlElement {
  std::string name;  // without a namespace prefix ("s3:Key" -> "Key")
  std::string text;  // the element's own text, entities decoded
  std::vector<XmlElement> children;

  const XmlElement* Child(std::string_view n) const;
  std::string ChildText(std::string_view n) const;  // "" when absent
};

struct XmlLimits {
  size_t max_bytes = 16u << 20;
  int max_depth = 32;
  size_t max_elements = 200000;
};

Result<XmlElement> ParseXml(std::string_view doc, const XmlLimits& limits = {});

struct S3Object {
  std::string key;
  int64_t size = 0;
  std::string etag;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;  // "folders" with a delimiter
  bool truncated = false;
  std::string next_continuation_token;
};

Result<S3ListPage> ParseListObjectsV2(std::string_view xml);
// <Error><Code>..</Code><Message>..</Message></Error>; nullopt when the body is not an S3 error.
std::optional<std::pair<std::string, std::string>> ParseS3Error(std::string_view xml);
// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

}  // namespace tamga
