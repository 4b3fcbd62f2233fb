#pragma once
// HttpClient: a small blocking HTTP/1.1 client (http and https) for outbound calls: webhook deliveries
// and the `tamga` CLI talking to a server. Every call has a deadline covering resolve, connect, TLS,
// write and read, so a slow or silent peer costs at most `timeout_ms`. Response bodies beyond
// `max_response_bytes` are cut (the call still succeeds). HTTPS verifies the peer against the system
// CA store and the host name. Redirects are never followed (a 3xx is returned as it is). When a
// DestinationPolicy is given, every resolved address is checked and only allowed ones are connected to.
// Thread-safe: each call uses its own connection.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "net/destination_policy.h"

namespace tamga {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, sent instead of `body` without a copy (large uploads); borrowed for the call's duration.
  const std::string* body_ref = nullptr;
  // Streaming (transfers of any size, docs/data.md): the request body is read from `body_reader` (called
  // until it has given `body_size` bytes; an error aborts the call), and a 2xx response body is handed to
  // `on_body` piece by piece instead of being collected (other answers are collected as usual, so their
  // error JSON can be read). With either set, `timeout_ms` bounds each read or write, not the whole call.
  std::function<Result<size_t>(char* buf, size_t n)> body_reader;
  int64_t body_size = 0;
  std::function<Status(std::string_view piece)> on_body;
  int64_t timeout_ms = 10000;
  size_t max_response_bytes = 64 << 20;
  // Fences user-supplied URLs (webhooks); null = no restriction (operator-configured servers). Borrowed.
  const DestinationPolicy* policy = nullptr;
  // HTTPS trust: certificates in this PEM file are trusted besides the system store ("" = the process
  // default, SetDefaultCaFile). `pinned_cert_file`: the peer must present exactly this certificate (its
  // host name is then not checked): the server's own calls to itself over HTTPS.
  std::string ca_file;
  std::string pinned_cert_file;
};

// The CA file every HTTPS call trusts when its request names none: `--ca-file` or TAMGA_CA_FILE of our
// clients (CLI, agent, `tamga serve`). Set once at start-up, before calls are made.
void SetDefaultCaFile(const std::string& path);
const std::string& DefaultCaFile();

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const;
};

struct ParsedUrl {
  bool https = false;
  std::string host;
  std::string port;
  std::string target;  // path + query, at least "/"
};
// InvalidArgument unless the URL is http(s)://host[:port][/path].
Result<ParsedUrl> ParseHttpUrl(const std::string& url);

// Unavailable on connection failures, DeadlineExceeded on timeouts, InvalidArgument on bad URLs,
// PermissionDenied when the policy allows none of the resolved addresses.
Result<HttpClientResponse> HttpCall(const HttpClientRequest& req);

}  // namespace tamga
