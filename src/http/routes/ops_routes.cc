// Operational routes: /health, /version, /metrics, server info.
#include "http/routes/route_context.h"
#include "tamga/build_info.h"

namespace tamga {

void RegisterOpsRoutes(Router& router, const RouteContext& ctx) {
  router.Add(HttpMethod::kGet, "/health", [](HttpRequest&, Responder respond) {
    respond(HttpResponse::Text("OK", 200, "text/html; charset=utf-8"));
  });
  router.Add(HttpMethod::kGet, "/version", [](HttpRequest&, Responder respond) {
    respond(HttpResponse::Text(kMlflowCompatVersion, 200, "text/html; charset=utf-8"));
  });
  MetricsRegistry* metrics = ctx.metrics;
  metrics->Gauge("tamga_build_info", "Build information")
      ->Set({{"version", kVersion}, {"commit", kGitCommit}, {"mlflow_compat", kMlflowCompatVersion}}, 1);
  router.Add(HttpMethod::kGet, "/metrics", [metrics](HttpRequest&, Responder respond) {
    respond(HttpResponse::Text(metrics->Render(), 200, "text/plain; version=0.0.4; charset=utf-8"));
  });
  router.Add(HttpMethod::kGet, "/api/2.0/tamga/version", [](HttpRequest&, Responder respond) {
    respond(HttpResponse::Json(std::string("{\"version\":\"") + kVersion + "\",\"commit\":\"" + kGitCommit +
                               "\",\"mlflow_compat\":\"" + kMlflowCompatVersion + "\"}"));
  });
  // Probed by MLflow 3.x clients; "no workspaces" is the classic single-tenant server.
  router.Add(HttpMethod::kGet, "/api/3.0/mlflow/server-info", [](HttpRequest&, Responder respond) {
    respond(HttpResponse::Json("{\"store_type\":\"SqlStore\",\"workspaces_enabled\":false}"));
  });
}

}  // namespace tamga
