// HTTP/1.1 request parsing as src/http/http_session.cc does it: Boost.Beast's request_parser reads the head
// (header limit 64 KiB) into an empty_body parser, which is then moved into a string_body parser with the
// JSON body limit (64 MiB), fed in pieces as they arrive off the socket. The head is then turned into an
// HttpRequest the same way (method, target split at '?', lower-cased header names) and matched against a
// router. Input: one byte choosing where the stream is split, then the raw bytes. Properties: no crash; a
// parse that finishes has a head and a body within the limits.
// Boost assertions stay on, through the handler below, which lets one known-harmless assertion pass.
#define BOOST_ENABLE_ASSERT_HANDLER
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "fuzz/fuzz_input.h"
#include "http/beast_verb.h"
#include "http/router.h"

namespace boost {

// Boost 1.74's Beast asserts n >= 5 (and n >= 3) in parse_chunk_header, which a valid sequence of put() calls
// reaches; the code after it correctly asks for more input (boostorg/beast#2861, fixed in Boost 1.86).
// Release builds compile the assertion out. Every other Boost assertion aborts.
void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strstr(function, "parse_chunk_header") &&
      (!std::strcmp(expr, "n >= 5") || !std::strcmp(expr, "n >= 3"))) {
    return;
  }
  std::fprintf(stderr, "Boost assertion failed: %s in %s (%s:%ld)\n", expr, function, file, line);
  std::abort();
}
void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line) {
  std::fprintf(stderr, "Boost assertion failed: %s (%s) in %s (%s:%ld)\n", expr, msg, function, file, line);
  std::abort();
}

}  // namespace boost

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr size_t kMaxHeaderBytes = 64 << 10;  // HttpServer::Options::max_header_bytes
constexpr size_t kMaxBodyBytes = 64 << 20;    // HttpServer::Options::max_body_bytes

const tamga::Router& FuzzRouter() {
  static const tamga::Router* router = [] {
    auto* r = new tamga::Router();
    auto noop = [](tamga::HttpRequest&, tamga::Responder respond) {
      respond(tamga::HttpResponse::Json("{}"));
    };
    r->Add(tamga::HttpMethod::kPost, "/api/2.0/mlflow/runs/log-batch", noop);
    r->Add(tamga::HttpMethod::kGet, "/api/2.0/mlflow/runs/get", noop);
    r->AddPrefix(tamga::HttpMethod::kGet, "/api/2.0/mlflow-artifacts/artifacts/", noop);
    r->AddPrefix(tamga::HttpMethod::kPost, "/api/2.0/tamga/jobs/", noop);
    return r;
  }();
  return *router;
}

// Feeds `bytes` to the parser in pieces of at most `chunk` bytes, as async reads would; returns what was
// consumed. Stops at an error, at need_more with nothing left, or when `until_header` and the head is done.
template <class Parser>
size_t Feed(Parser& p, std::string_view bytes, size_t chunk, bool until_header, beast::error_code& ec) {
  size_t used = 0;
  size_t avail = std::min(chunk, bytes.size());  // bytes "received" so far
  while (!p.is_done() && !(until_header && p.is_header_done())) {
    std::string_view window = bytes.substr(used, avail - used);
    size_t n = p.put(boost::asio::buffer(window.data(), window.size()), ec);
    used += n;
    if (ec && ec != http::error::need_more) break;
    ec = {};
    if (n == 0) {
      if (avail == bytes.size()) {  // end of stream: tell the parser, as a closed socket would
        if (p.got_some())
          p.put_eof(ec);
        else
          ec = http::error::end_of_stream;
        break;
      }
      avail = std::min(bytes.size(), avail + chunk);
    }
  }
  return used;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tamga::fuzz::FuzzInput in(data, size);
  size_t chunk = 1 + in.Byte();  // 1..256 bytes per simulated read
  if (chunk > 200) chunk = 1 << 16;
  std::string_view bytes = in.Rest();

  http::request_parser<http::empty_body> head_parser;
  head_parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  head_parser.body_limit(kMaxBodyBytes);
  beast::error_code ec;
  size_t used = Feed(head_parser, bytes, chunk, true, ec);
  if (ec || !head_parser.is_header_done()) return 0;

  const auto& head = head_parser.get();
  tamga::HttpRequest req;
  req.method = tamga::ToHttpMethod(head.method());
  req.target = std::string(head.target());
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& field : head) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    req.headers[name] = std::string(field.value());
  }
  (void)FuzzRouter().Match(req);
  TAMGA_FUZZ_ASSERT(used <= kMaxHeaderBytes, bytes);

  auto length = head_parser.content_length();
  if (length && *length > kMaxBodyBytes) return 0;  // answered 413 without reading the body
  http::request_parser<http::string_body> body_parser(std::move(head_parser));
  body_parser.body_limit(kMaxBodyBytes);
  if (!body_parser.is_done()) Feed(body_parser, bytes.substr(used), chunk, false, ec);
  if (!ec && body_parser.is_done()) {
    const std::string& body = body_parser.get().body();
    TAMGA_FUZZ_ASSERT(body.size() <= kMaxBodyBytes, bytes);
    if (length) TAMGA_FUZZ_ASSERT(body.size() == *length, bytes);
  }
  return 0;
}
