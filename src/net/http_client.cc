#include "net/http_client.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace tamga {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string HttpClientResponse::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

Result<ParsedUrl> ParseHttpUrl(const std::string& url) {
  ParsedUrl out;
  std::string rest;
  auto lower = url.substr(0, 8);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    out.port = "80";
  } else if (lower.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    out.https = true;
    out.port = "443";
  } else {
    return InvalidArgument("Invalid URL '" + url.substr(0, 200) + "': only http:// and https:// are allowed");
  }
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.target[0] == '?') out.target = "/" + out.target;
  if (authority.find('@') != std::string::npos) {
    return InvalidArgument("Invalid URL '" + url.substr(0, 200) + "': credentials in URLs are not allowed");
  }
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("Invalid URL '" + url.substr(0, 200) + "'");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return InvalidArgument("Invalid URL '" + url.substr(0, 200) + "'");
      out.port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  bool port_ok = !out.port.empty() && out.port.size() <= 5 &&
                 out.port.find_first_not_of("0123456789") == std::string::npos && std::stoi(out.port) > 0 &&
                 std::stoi(out.port) < 65536;
  bool host_ok = !out.host.empty() && out.host.find_first_of(" \t\r\n/\\") == std::string::npos;
  for (char c : out.target) host_ok &= static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
  if (!port_ok || !host_ok) return InvalidArgument("Invalid URL '" + url.substr(0, 200) + "'");
  return out;
}

namespace {

// One request/response over `stream` with async operations, so the tcp_stream deadline (set by the
// caller) bounds every step; the caller runs the io_context.
template <typename Stream>
struct Exchange : std::enable_shared_from_this<Exchange<Stream>> {
  Stream& stream;
  http::request<http::span_body<const char>> request;  // the body is the caller's, not copied
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  beast::error_code ec;
  bool done = false;

  Exchange(Stream& s, http::request<http::span_body<const char>> r, size_t limit)
      : stream(s), request(std::move(r)) {
    parser.body_limit(limit);
    parser.eager(true);
    if (request.method() == http::verb::head) parser.skip(true);  // a HEAD answer has no body to wait for
  }
  void Start() {
    auto self = this->shared_from_this();
    http::async_write(stream, request, [self](beast::error_code e, size_t) {
      if (e) return self->Finish(e);
      http::async_read(self->stream, self->buffer, self->parser,
                       [self](beast::error_code e2, size_t) { self->Finish(e2); });
    });
  }
  void Finish(beast::error_code e) {
    ec = e;
    done = true;
  }
};

Status NetError(const std::string& what, const std::string& host, const beast::error_code& ec) {
  if (ec == beast::error::timeout)
    return Status(StatusCode::kDeadlineExceeded, what + " " + host + " timed out");
  return Unavailable(what + " " + host + ": " + ec.message());
}

template <typename Stream>
Result<HttpClientResponse> RunExchange(net::io_context& ioc, Stream& stream, const ParsedUrl& u,
                                       const HttpClientRequest& req) {
  http::request<http::span_body<const char>> r{http::string_to_verb(req.method), u.target, 11};
  if (r.method() == http::verb::unknown) return InvalidArgument("unknown HTTP method " + req.method);
  r.set(http::field::host, u.host + ((u.https ? u.port == "443" : u.port == "80") ? "" : ":" + u.port));
  r.set(http::field::user_agent, "tamga/" BOOST_BEAST_VERSION_STRING);
  for (const auto& [k, v] : req.headers) r.set(k, v);
  const std::string& body = req.body_ref ? *req.body_ref : req.body;
  r.body() = beast::span<const char>(body.data(), body.size());
  r.prepare_payload();
  auto ex = std::make_shared<Exchange<Stream>>(stream, std::move(r), req.max_response_bytes);
  ex->Start();
  ioc.restart();
  ioc.run();
  if (ex->ec && ex->ec != http::error::body_limit) return NetError("exchange with", u.host, ex->ec);
  auto& res = ex->parser.get();
  HttpClientResponse out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(name, std::string(f.value()));
  }
  out.body = std::move(res.body());
  return out;
}

// The streaming exchange: every step under its own deadline; body pieces through the request's callbacks.
template <typename Stream>
Result<HttpClientResponse> RunStreamingExchange(net::io_context& ioc, Stream& stream, const ParsedUrl& u,
                                                const HttpClientRequest& req) {
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(req.timeout_ms, 1));
  auto step = [&](auto initiate) -> beast::error_code {
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(timeout);
    initiate([&ec](beast::error_code e, size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    return ec;
  };
  http::request<http::buffer_body> r{http::string_to_verb(req.method), u.target, 11};
  if (r.method() == http::verb::unknown) return InvalidArgument("unknown HTTP method " + req.method);
  r.set(http::field::host, u.host + ((u.https ? u.port == "443" : u.port == "80") ? "" : ":" + u.port));
  r.set(http::field::user_agent, "tamga/" BOOST_BEAST_VERSION_STRING);
  for (const auto& [k, v] : req.headers) r.set(k, v);
  const std::string& fixed = req.body_ref ? *req.body_ref : req.body;
  const int64_t total = req.body_reader ? req.body_size : static_cast<int64_t>(fixed.size());
  r.content_length(static_cast<uint64_t>(total));
  r.body().data = nullptr;
  r.body().more = true;
  http::request_serializer<http::buffer_body> sr{r};
  if (auto ec = step([&](auto h) { http::async_write_header(stream, sr, h); }))
    return NetError("send to", u.host, ec);
  std::vector<char> buf(1 << 20);
  int64_t sent = 0;
  while (sent < total) {
    size_t n = 0;
    if (req.body_reader) {
      TAMGA_ASSIGN_OR_RETURN(
          n, req.body_reader(buf.data(), static_cast<size_t>(std::min<int64_t>(
                                             total - sent, static_cast<int64_t>(buf.size())))));
      if (n == 0) return Internal("the request body ended before its announced size");
      r.body().data = buf.data();
    } else {
      n = static_cast<size_t>(std::min<int64_t>(total - sent, 1 << 20));
      r.body().data = const_cast<char*>(fixed.data() + sent);
    }
    r.body().size = n;
    sent += static_cast<int64_t>(n);
    r.body().more = sent < total;
    auto ec = step([&](auto h) { http::async_write(stream, sr, h); });
    if (ec && ec != http::error::need_buffer) return NetError("send to", u.host, ec);
  }
  if (!sr.is_done()) {
    r.body().data = nullptr;
    r.body().size = 0;
    r.body().more = false;
    auto ec = step([&](auto h) { http::async_write(stream, sr, h); });
    if (ec && ec != http::error::need_buffer) return NetError("send to", u.host, ec);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // (boost::none compares as exceeded in 1.74)
  if (auto ec = step([&](auto h) { http::async_read_header(stream, buffer, parser, h); }))
    return NetError("exchange with", u.host, ec);
  HttpClientResponse out;
  out.status = parser.get().result_int();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(name, std::string(f.value()));
  }
  const bool deliver = req.on_body && out.status >= 200 && out.status < 300;
  while (!parser.is_done()) {
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    auto ec = step([&](auto h) { http::async_read(stream, buffer, parser, h); });
    if (ec && ec != http::error::need_buffer) return NetError("exchange with", u.host, ec);
    size_t got = buf.size() - parser.get().body().size;
    if (got == 0) continue;
    if (deliver) {
      TAMGA_RETURN_IF_ERROR(req.on_body(std::string_view(buf.data(), got)));
    } else if (out.body.size() < req.max_response_bytes) {
      out.body.append(buf.data(), std::min(got, req.max_response_bytes - out.body.size()));
    }
  }
  return out;
}

template <typename Stream>
Result<HttpClientResponse> ExchangeOnce(net::io_context& ioc, Stream& stream, const ParsedUrl& u,
                                        const HttpClientRequest& req) {
  if (req.body_reader || req.on_body) return RunStreamingExchange(ioc, stream, u, req);
  return RunExchange(ioc, stream, u, req);
}

std::string& DefaultCaFileSlot() {
  static std::string path;
  return path;
}

Result<std::shared_ptr<X509>> ReadPemCertificate(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!bio) return InvalidArgument("cannot read the certificate " + path);
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr) return InvalidArgument("no PEM certificate in " + path);
  return std::shared_ptr<X509>(cert, &X509_free);
}

}  // namespace

Result<HttpClientResponse> HttpCall(const HttpClientRequest& req) {
  TAMGA_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(req.url));
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto resolved = resolver.resolve(u.host, u.port, ec);
    if (ec) return Unavailable("resolve " + u.host + ": " + ec.message());
    // Connect only to addresses the policy allows: the check and the connect use the same resolved address.
    std::vector<tcp::endpoint> endpoints;
    Status denied = Status::Ok();
    for (const auto& entry : resolved) {
      tcp::endpoint ep = entry.endpoint();
      Status s = req.policy ? req.policy->Check(u.host, ep.address().to_string()) : Status::Ok();
      if (s.ok())
        endpoints.push_back(ep);
      else if (denied.ok())
        denied = s;
    }
    if (endpoints.empty()) return denied.ok() ? Unavailable("resolve " + u.host + ": no addresses") : denied;
    auto timeout = std::chrono::milliseconds(std::max<int64_t>(req.timeout_ms, 1));
    auto connect = [&](beast::tcp_stream& s) -> Status {
      beast::error_code cec;
      s.expires_after(timeout);  // one deadline for the whole call
      s.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { cec = e; });
      ioc.run();
      if (cec) return NetError("connect to", u.host + ":" + u.port, cec);
      return Status::Ok();
    };
    if (!u.https) {
      beast::tcp_stream stream(ioc);
      TAMGA_RETURN_IF_ERROR(connect(stream));
      auto out = ExchangeOnce(ioc, stream, u, req);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return out;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(ssl::verify_peer);
    const std::string& ca = req.ca_file.empty() ? DefaultCaFile() : req.ca_file;
    if (!ca.empty()) {
      ctx.load_verify_file(ca, ec);
      if (ec) return InvalidArgument("cannot read the CA file " + ca + ": " + ec.message());
    }
    std::shared_ptr<X509> pinned;
    if (!req.pinned_cert_file.empty()) {
      TAMGA_ASSIGN_OR_RETURN(pinned, ReadPemCertificate(req.pinned_cert_file));
      // The pinned certificate is its own trust anchor (a self-signed one verifies against itself).
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.native_handle()), pinned.get());
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
      return Unavailable("TLS SNI setup failed for " + u.host);
    }
    if (pinned) {
      // Only the leaf decides: it must be the pinned certificate, whatever signed it.
      stream.set_verify_callback([pinned](bool, ssl::verify_context& vc) {
        X509_STORE_CTX* sc = vc.native_handle();
        if (X509_STORE_CTX_get_error_depth(sc) > 0) return true;
        X509* leaf = X509_STORE_CTX_get_current_cert(sc);
        return leaf != nullptr && X509_cmp(leaf, pinned.get()) == 0;
      });
    } else {
      stream.set_verify_callback(ssl::host_name_verification(u.host));
    }
    TAMGA_RETURN_IF_ERROR(connect(beast::get_lowest_layer(stream)));
    beast::error_code hec;
    stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { hec = e; });
    ioc.restart();
    ioc.run();
    if (hec) return NetError("TLS handshake with", u.host, hec);
    return ExchangeOnce(ioc, stream, u, req);
  } catch (const std::exception& e) {
    return Unavailable(std::string("HTTP call failed: ") + e.what());
  }
}

void SetDefaultCaFile(const std::string& path) { DefaultCaFileSlot() = path; }
const std::string& DefaultCaFile() { return DefaultCaFileSlot(); }

}  // namespace tamga
