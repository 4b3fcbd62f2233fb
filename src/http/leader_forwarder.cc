#include "http/leader_forwarder.h"

#include <set>

#include "core/log.h"
#include "http/http_types.h"
#include "net/http_client.h"

namespace tamga {
namespace {

HttpResponse Moving(const std::string& why) {
  HttpResponse r = ErrorResponse(Unavailable(why));
  r.headers.push_back({"Retry-After", "2"});
  return r;
}

}  // namespace

LeaderForwarder::LeaderForwarder(Options options, std::function<std::optional<std::string>()> leader_url)
    : options_(options), leader_url_(std::move(leader_url)) {
  BoundedExecutor::Options eo;
  eo.name = "leader-forward";
  eo.threads = options_.threads;
  eo.max_queued = options_.max_queued;
  pool_ = std::make_unique<BoundedExecutor>(eo);
  BoundedExecutor::Options lo;
  lo.name = "leader-forward-wait";
  lo.threads = options_.long_poll_threads;
  lo.max_queued = 8;  // a moment's slack while a thread picks the call up; beyond: 429
  long_pool_ = std::make_unique<BoundedExecutor>(lo);
}

bool LeaderForwarder::IsLongPoll(const HttpRequest& req) {
  auto ends_with = [&](std::string_view tail) {
    return req.path.size() >= tail.size() &&
           req.path.compare(req.path.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with("/lease") || (ends_with("/logs") && req.query.find("wait_ms=") != std::string::npos);
}

bool LeaderForwarder::Forward(HttpRequest& req, Responder& respond) {
  std::optional<std::string> leader = leader_url_();
  if (!leader) return false;
  if (!req.Header(kForwardedHeader).empty() || leader->empty()) {
    respond(Moving("The job scheduler is moving to another replica; retry shortly."));
    return true;
  }
  // End-to-end headers only: the connection's own (length, encoding, host) are the client's business.
  static const std::set<std::string> kHopByHop = {
      "connection", "keep-alive", "transfer-encoding",  "te", "trailer", "upgrade", "content-length",
      "host",       "expect",     "proxy-authorization"};
  auto call = std::make_shared<HttpClientRequest>();
  call->method = HttpMethodName(req.method);
  call->url = *leader + req.target;
  for (const auto& [k, v] : req.headers)
    if (!kHopByHop.count(k) && k != kForwardedHeader) call->headers.push_back({k, v});
  call->headers.push_back({kForwardedHeader, "1"});
  if (!req.remote_addr.empty()) call->headers.push_back({"x-forwarded-for", req.remote_addr});
  call->body = std::move(req.body);
  call->timeout_ms = options_.timeout_ms;
  call->max_response_bytes = options_.max_response_bytes;
  auto done = std::make_shared<Responder>(std::move(respond));
  const bool waits = IsLongPoll(req);
  BoundedExecutor* pool = waits ? long_pool_.get() : pool_.get();
  bool queued = pool->TrySubmit([call, done] {
    auto res = HttpCall(*call);
    if (!res.ok()) {
      TAMGA_LOG(kWarn, "forwarding to the leader failed", {{"error", res.status().ToString()}});
      (*done)(Moving("The replica running the job scheduler did not answer; retry shortly."));
      return;
    }
    HttpResponse out;
    out.status = res->status;
    out.body = std::move(res->body);
    out.content_type = res->Header("content-type");
    for (const char* h : {"retry-after", "www-authenticate", "cache-control"}) {
      std::string v = res->Header(h);
      if (!v.empty()) out.headers.push_back({h, v});
    }
    (*done)(std::move(out));
  });
  if (!queued && waits) {
    HttpResponse r = ErrorResponse(
        ResourceExhausted("Too many requests are waiting on the job scheduler's replica; retry shortly."));
    r.headers.push_back({"Retry-After", "1"});
    (*done)(std::move(r));
  } else if (!queued) {
    (*done)(Moving("Too many requests waiting for the job scheduler's replica; retry shortly."));
  }
  return true;
}

}  // namespace tamga
