#include "http/routes/route_context.h"

#include <algorithm>

#include "http/access_control.h"
#include "http/routes/serving_routes.h"

namespace tamga {

std::shared_ptr<void> EnterLongPoll(const RouteContext& ctx, const HttpRequest& req) {
  if (!ctx.long_polls) return std::make_shared<int>(0);
  return ctx.long_polls->TryEnter(req.remote_addr);
}

Status TooManyLongPolls() {
  return ResourceExhausted(
      "Too many concurrent long-polls from this client; close some or poll without waiting");
}

std::function<bool(const std::string&)> ExperimentFilter(const RouteContext& ctx, const HttpRequest& req) {
  if (ctx.auth == nullptr || !req.principal) return nullptr;
  auto v =
      std::make_shared<AuthService::Visibility>(ctx.auth->Readable(*req.principal, ObjectKind::kExperiment));
  if (v->mode == AuthService::Visibility::Mode::kAll) return nullptr;
  std::sort(v->ids.begin(), v->ids.end());
  return [v](const std::string& id) {
    bool listed = std::binary_search(v->ids.begin(), v->ids.end(), id);
    return v->mode == AuthService::Visibility::Mode::kOnly ? listed : !listed;
  };
}

std::optional<RegistryQuery::NameScope> ModelScope(const RouteContext& ctx, const HttpRequest& req) {
  if (ctx.auth == nullptr || !req.principal) return std::nullopt;
  auto v = ctx.auth->Readable(*req.principal, ObjectKind::kRegisteredModel);
  if (v.mode == AuthService::Visibility::Mode::kAll) return std::nullopt;
  return RegistryQuery::NameScope{v.mode == AuthService::Visibility::Mode::kOnly, std::move(v.ids)};
}

void GrantCreator(const RouteContext& ctx, const HttpRequest& req, ObjectKind kind, const std::string& id) {
  if (ctx.auth != nullptr && req.principal) ctx.auth->GrantCreator(*req.principal, kind, id);
}

Handler Forwarded(const RouteContext& ctx, Handler handler) {
  LeaderForwarder* forward = ctx.job_leader;
  if (forward == nullptr) return handler;
  return [forward, ctx, handler = std::move(handler)](HttpRequest& req, Responder respond) {
    if (LeaderForwarder::IsLongPoll(req) && forward->Forwards()) {
      // A forwarded wait counts against its client's long-poll limit here, as it would on the leader.
      std::shared_ptr<void> ticket = EnterLongPoll(ctx, req);
      if (!ticket) return respond(ErrorResponse(TooManyLongPolls()));
      Responder release = [ticket, respond](HttpResponse r) { respond(std::move(r)); };
      if (forward->Forward(req, release)) return;
    } else if (forward->Forward(req, respond)) {
      return;
    }
    handler(req, std::move(respond));
  };
}

Status RegisterServerRoutes(Router& router, const RouteContext& ctx, MetricsRegistry* metrics) {
  for (auto add : {RegisterOpsRoutes, RegisterExperimentRoutes, RegisterRunRoutes, RegisterMetricRoutes,
                   RegisterArtifactRoutes, RegisterPromptlabRoutes, RegisterRegisteredModelRoutes,
                   RegisterModelVersionRoutes, RegisterTamgaRegistryRoutes, RegisterWebhookRoutes,
                   RegisterDeployRoutes, RegisterLoggedModelRoutes, RegisterJobRoutes,
                   RegisterJobPolicyRoutes, RegisterLoginRoutes, RegisterUiRoutes, RegisterUiApiRoutes}) {
    add(router, ctx);
  }
  ServingRouteContext sctx{ctx.served, metrics, "", /*standalone=*/false};
  RegisterServingRoutes(router, sctx);
  for (auto add : {RegisterModelTestRoutes, RegisterAuthRoutes, RegisterDatasetRoutes, RegisterLineageRoutes,
                   RegisterTriggerRoutes}) {
    add(router, ctx);
  }
  if (auto missing = RoutesWithoutRule(router); !missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Internal("routes without an access rule (add them to src/http/routes/access_rules.cc): " + list);
  }
  return Status::Ok();
}

}  // namespace tamga
