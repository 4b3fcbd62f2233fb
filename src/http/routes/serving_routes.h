#pragma once
// Serving routes (`tamga serve`): MLflow scoring (/invocations, /ping, /health, /version) and the Open
// Inference Protocol REST API (/v2, /v2/health/*, /v2/models/{m}[/versions/{v}][/ready|/infer]), plus
// /metrics; inside `tamga server`, /endpoints/{name}/invocations. Errors: MLflow's {"error_code","message"}
// on /invocations, OIP's {"error"} on /v2.
#include "core/metrics.h"
#include "http/router.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {

struct ServingRouteContext {
  ModelManager* models = nullptr;
  MetricsRegistry* metrics = nullptr;
  std::string default_model;  // the model /invocations scores
  // false inside `tamga server` (local deployments): no /ping, /health, /version, /metrics or /invocations
  // (the tracking server has its own); MLflow scoring is at /endpoints/{name}/invocations instead, and
  // /v2/health/ready is true when every local deployment serves (also when there are none).
  bool standalone = true;
};

void RegisterServingRoutes(Router& router, const ServingRouteContext& ctx);

}  // namespace tamga
