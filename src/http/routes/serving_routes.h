#pragma once
// Serving routes (`tamga serve`): MLflow scoring (/invocations, /ping, /health, /version) and the Open
// Inference Protocol REST API (/v2, /v2/health/*, /v2/models/{m}[/versions/{v}][/ready|/infer]), plus
// /metrics. Errors: MLflow's {"error_code","message"} on /invocations, OIP's {"error"} on /v2.
#include "core/metrics.h"
#include "http/router.h"
#include "serving/lifecycle/model_manager.h"

namespace tamga {

struct ServingRouteContext {
  ModelManager* models = nullptr;
  MetricsRegistry* metrics = nullptr;
  std::string default_model;  // the model /invocations scores
};

void RegisterServingRoutes(Router& router, const ServingRouteContext& ctx);

}  // namespace tamga
