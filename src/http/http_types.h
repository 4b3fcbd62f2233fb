#pragma once
// Transport-neutral HTTP request/response values passed between the Beast server and route handlers.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "artifacts/blob_store.h"
#include "auth/principal.h"
#include "core/result.h"

namespace tamga {

enum class HttpMethod { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;                          // raw request target: path + optional "?query"
  std::string path;                            // target before '?', not percent-decoded
  std::string query;                           // after '?', not decoded
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::vector<std::string> path_params;  // filled by the router for prefix routes: the remainder
  std::string remote_addr;               // peer IP address (per-client limits); empty when unknown
  // Who the request acts for, set by the access gate before the handler runs; null when auth is off.
  std::shared_ptr<const Principal> principal;
  std::string access_object;   // the object the access check resolved (audit)
  bool access_denied = false;  // the gate refused it (and audited the refusal)

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A response body produced piece by piece (artifact downloads, large generated JSON). Read on the
// connection's I/O thread, one buffer at a time.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Total size when known up front (sent as Content-Length); nullopt streams with chunked encoding.
  virtual std::optional<int64_t> size() const = 0;
  // Fills up to n bytes; 0 means the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // False when the next Read may wait on the network (an object store's chunk not arrived yet): the server
  // then reads on a worker thread, so its I/O thread keeps serving other connections meanwhile.
  virtual bool ReadReady() const { return true; }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed from here instead of `body` (downloads).
  std::shared_ptr<BodySource> stream;

  static HttpResponse Json(std::string body, int status = 200) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static HttpResponse Text(std::string body, int status = 200,
                           std::string type = "text/plain; charset=utf-8") {
    HttpResponse r;
    r.status = status;
    r.content_type = std::move(type);
    r.body = std::move(body);
    return r;
  }
};

// Completes a request exactly once; callable from any thread.
using Responder = std::function<void(HttpResponse)>;

// A route handler: parse + validate, call a service, map the result. May respond asynchronously.
using Handler = std::function<void(HttpRequest& req, Responder respond)>;

// Receives a streamed request body (artifact uploads). Write is called per chunk on the I/O thread.
class UploadSink {
 public:
  virtual ~UploadSink() = default;
  virtual Status Write(std::string_view chunk) = 0;
  virtual void Finish(Responder respond) = 0;
  // True when Write(n bytes) or Finish may wait on the network (object store part uploads): the server then
  // calls them on a worker thread, as for BodySource::ReadReady.
  virtual bool WriteMayBlock(size_t n) const { return false; }
  virtual bool FinishMayBlock() const { return false; }
};

// Decides from the request head whether to accept a streamed body; an error is answered without
// reading the body.
using UploadHandler = std::function<Result<std::unique_ptr<UploadSink>>(const HttpRequest& head)>;

// MLflow's error JSON ({"error_code", "message"}) with the HTTP status mapped from the Status.
HttpResponse ErrorResponse(const Status& status);
// "GET", "POST" ... ("OTHER" for methods the router does not know).
const char* HttpMethodName(HttpMethod m);
// The MLflow error_code name and HTTP status for a Status code (status_to_http.cc).
std::pair<int, const char*> HttpStatusFor(StatusCode code);

}  // namespace tamga
