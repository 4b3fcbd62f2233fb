#pragma once
// Escapes text for HTML and XML content and attribute values: & < > " ' become character references.
// The login page (HTML) and S3 request bodies (XML) use it. Pure.
#include <string>
#include <string_view>

namespace tamga {

std::string MarkupEscape(std::string_view s);

}  // namespace tamga
