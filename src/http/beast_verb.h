#pragma once
// The Beast verb -> HttpMethod mapping the transport uses (http_session.cc), shared with the HTTP request
// fuzzer so both map methods the same way.
#include <boost/beast/http/verb.hpp>

#include "http/http_types.h"

namespace tamga {

HttpMethod ToHttpMethod(boost::beast::http::verb v);

}  // namespace tamga
