#pragma once
// AccessGate: the seam through which the HTTP transport asks "may this request run?" (docs/identity.md).
// The transport calls it at three points: at the request head (authentication, before any body is read, so
// an anonymous client cannot make the server read a large body), after the body (the object-level check,
// which may need a field of the body), and after the response (the audit log). The server's implementation
// is AccessControl (http/access_control.h); with auth off there is no gate. Implementations are thread-safe.
#include <functional>
#include <optional>

#include "http/http_types.h"
#include "http/router.h"

namespace tamga {

class AccessGate {
 public:
  virtual ~AccessGate() = default;

  enum class Verdict { kAdmit, kDeny, kPending };
  using Resume = std::function<void(std::optional<HttpResponse> denial)>;

  // Sets req.principal. kDeny fills *denial. kPending: the answer needs slow work (a password hash); `resume`
  // is then called exactly once, from any thread, with nullopt to admit. Upload routes (bodies streamed to a
  // sink) are also authorised here, since their body is never held.
  virtual Verdict AdmitHead(HttpRequest& req, const RouteMatch& match, HttpResponse* denial,
                            Resume resume) = 0;
  // After the body, before the handler: the route's rule on the object the request names. nullopt admits.
  virtual std::optional<HttpResponse> AdmitBody(HttpRequest& req, const RouteMatch& match) = 0;
  // After the response is written (audit).
  virtual void Completed(const HttpRequest& req, const RouteMatch& match, int status) = 0;
};

}  // namespace tamga
