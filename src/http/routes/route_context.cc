#include "http/routes/route_context.h"

namespace tamga {

std::shared_ptr<void> EnterLongPoll(const RouteContext& ctx, const HttpRequest& req) {
  if (!ctx.long_polls) return std::make_shared<int>(0);
  return ctx.long_polls->TryEnter(req.remote_addr);
}

Status TooManyLongPolls() {
  return ResourceExhausted(
      "Too many concurrent long-polls from this client; close some or poll without waiting");
}

}  // namespace tamga
