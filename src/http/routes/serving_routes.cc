#include "http/routes/serving_routes.h"

#include "core/json_writer.h"
#include "serving/protocols/codec.h"
#include "tamga/build_info.h"

namespace tamga {
namespace {

// HTTP statuses come from the one table (status_to_http.cc); only the body shape differs per protocol.
int OipStatus(const Status& s) { return HttpStatusFor(s.code()).first; }

HttpResponse OipError(const Status& s) { return HttpResponse::Json(V2Error(s.message()), OipStatus(s)); }

// MLflow's scoring server answers an unsupported content type (our Unimplemented) with 415 and plain text.
HttpResponse MlflowErrorResponse(const Status& s) {
  if (s.code() == StatusCode::kUnimplemented) return HttpResponse::Text(s.message(), 415);
  int status = OipStatus(s);
  if (status == 501) status = 400;
  return HttpResponse::Json(MlflowError(s.message()), status);
}

// "/v2/models/<rest>": name, optional version, and the action ("", "ready", "infer").
struct V2Path {
  std::string model;
  std::string version;
  std::string action;
};

Result<V2Path> ParseV2Path(const std::string& rest) {
  std::vector<std::string> parts;
  size_t s = 0;
  for (;;) {
    size_t c = rest.find('/', s);
    parts.push_back(rest.substr(s, c == std::string::npos ? std::string::npos : c - s));
    if (c == std::string::npos) break;
    s = c + 1;
  }
  V2Path p;
  if (parts.empty() || parts[0].empty()) return NotFound("no model name in the path");
  p.model = parts[0];
  size_t i = 1;
  if (i < parts.size() && parts[i] == "versions") {
    if (i + 1 >= parts.size() || parts[i + 1].empty()) return NotFound("no version in the path");
    p.version = parts[i + 1];
    i += 2;
  }
  if (i < parts.size()) p.action = parts[i++];
  if (i != parts.size() || (p.action != "" && p.action != "ready" && p.action != "infer")) {
    return NotFound("unknown route /v2/models/" + rest.substr(0, 200));
  }
  return p;
}

// Which version (and traffic variant) answered: a header on every scoring response.
void AddVersionHeaders(HttpResponse& r, const std::string& version, const std::string& variant) {
  r.headers.push_back({"Tamga-Model-Version", version});
  r.headers.push_back({"Tamga-Variant", variant});
}

// Outlier flags of a monitored request (docs/rollouts.md §7): how many rows, and which (the first 100).
void AddOutlierHeaders(HttpResponse& r, const OutlierReport& o) {
  if (!o.scored) return;
  r.headers.push_back({"Tamga-Outliers", std::to_string(o.outlier_rows.size())});
  if (o.outlier_rows.empty()) return;
  std::string rows;
  for (size_t i = 0; i < o.outlier_rows.size() && i < 100; ++i) {
    rows += (i ? "," : "") + std::to_string(o.outlier_rows[i]);
  }
  r.headers.push_back({"Tamga-Outlier-Rows", rows});
}

// Retry-After on a 503 from a sleeping or waking endpoint: about a cold start.
HttpResponse RetryLater(HttpResponse r) {
  if (r.status == 503) r.headers.push_back({"Retry-After", "2"});
  return r;
}

// Route failed with `s`: when `model` is snoozed (docs/rollouts.md §8) the request waits for it to wake,
// bounded by its wake timeout, then `retry` runs it again (`keep` first copies what the retry needs), or
// `refuse` answers 503. False when the model is not asleep: the caller answers `s` itself.
bool WaitForWake(ModelManager* models, const std::string& model, const Status& s, int64_t bytes,
                 const std::function<void()>& keep, std::function<void()> retry,
                 std::function<void(const Status&)> refuse) {
  if (s.code() != StatusCode::kUnavailable) return false;
  int64_t wait = models->WakeWaitMs(model);
  if (wait < 0) return false;
  if (wait == 0) {
    refuse(s);
    return true;
  }
  keep();
  models->AwaitServing(model, wait, bytes, [models, model, retry, refuse, s](bool ready) {
    if (ready) return retry();
    auto st = models->GetStatus(model);
    if (!st.ok()) return refuse(Unavailable("model '" + model.substr(0, 200) + "' was removed while waking"));
    if (!st->last_error.empty())
      return refuse(
          Unavailable("model '" + model.substr(0, 200) + "' could not be woken: " + st->last_error));
    refuse(Unavailable(s.message() +
                       " (not awake within the deployment's wake_timeout_s, or too many waiting)"));
  });
  return true;
}

// MLflow scoring of `model`: one handle (routed by the traffic policy) decodes, runs and converts. A
// snoozed endpoint is waited for once (`may_wait`).
void Invocations(ModelManager* models, const std::string& model, HttpRequest& req, Responder respond,
                 bool may_wait) {
  ModelManager::HeaderLookup header = [&req](const std::string& n) { return req.Header(n); };
  auto h = models->Route(model, "", &header);
  if (!h.ok()) {
    auto copy = std::make_shared<HttpRequest>();
    auto retry = [models, model, copy, respond] { Invocations(models, model, *copy, respond, false); };
    auto refuse = [respond](const Status& st) { respond(RetryLater(MlflowErrorResponse(st))); };
    if (may_wait && WaitForWake(
                        models, model, h.status(), static_cast<int64_t>(req.body.size()),
                        [&] { *copy = req; }, retry, refuse))
      return;
    return respond(MlflowErrorResponse(h.status()));
  }
  auto inputs = ParseInvocations(req.Header("content-type"), req.body, h->version->signature);
  if (!inputs.ok()) {
    models->RecordInvalidInput(*h, "mlflow");
    return respond(MlflowErrorResponse(inputs.status()));
  }
  std::string variant = h->variant;
  auto outliers = std::make_shared<const OutlierReport>(models->Observe(*h, *inputs));
  models->Infer(*h, std::move(*inputs), "mlflow",
                [respond, variant, outliers](Result<std::vector<Tensor>> out, InferTimings,
                                             std::shared_ptr<LoadedVersion> ver) {
                  if (!out.ok()) return respond(MlflowErrorResponse(out.status()));
                  HttpResponse r = HttpResponse::Json(
                      EncodeInvocationsResponse(ver->mlflow_view->ToMlflowPredictions(std::move(*out))));
                  AddVersionHeaders(r, ver->version, variant);
                  AddOutlierHeaders(r, *outliers);
                  respond(std::move(r));
                });
}

// V2 infer (REST): one handle decodes, runs and encodes. A snoozed endpoint is waited for once.
void V2Infer(ModelManager* models, HttpRequest& req, Responder respond, bool may_wait) {
  auto p = ParseV2Path(req.path_params.empty() ? "" : req.path_params[0]);
  if (!p.ok()) return respond(OipError(p.status()));
  if (p->action != "infer") return respond(OipError(NotFound("unknown route")));
  ModelManager::HeaderLookup header = [&req](const std::string& n) { return req.Header(n); };
  auto h = models->Route(p->model, p->version, &header);
  if (!h.ok()) {
    auto copy = std::make_shared<HttpRequest>();
    auto retry = [models, copy, respond] { V2Infer(models, *copy, respond, false); };
    auto refuse = [respond](const Status& st) { respond(RetryLater(OipError(st))); };
    if (may_wait && WaitForWake(
                        models, p->model, h.status(), static_cast<int64_t>(req.body.size()),
                        [&] { *copy = req; }, retry, refuse))
      return;
    return respond(OipError(h.status()));
  }
  const ModelSignature& signature = h->version->signature;
  std::string_view body = req.body;
  std::string_view json = body, binary;
  std::string header_len = req.Header("inference-header-content-length");
  bool raw = false;
  if (!header_len.empty()) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(header_len.c_str(), &end, 10);
    if (end == header_len.c_str() || *end != '\0' || n > body.size()) {
      models->RecordInvalidInput(*h, "v2");
      return respond(OipError(InvalidArgument("invalid Inference-Header-Content-Length")));
    }
    raw = n == 0;
    json = body.substr(0, n);
    binary = body.substr(n);
  }
  auto parsed = raw ? ParseV2RawRequest(binary, signature) : ParseV2InferRequest(json, binary, signature);
  if (!parsed.ok()) {
    models->RecordInvalidInput(*h, "v2");
    return respond(OipError(parsed.status()));
  }
  auto request = std::make_shared<V2InferRequest>(std::move(*parsed));
  std::vector<Tensor> inputs = std::move(request->inputs);
  std::string model = p->model;
  std::string variant = h->variant;
  auto outliers = std::make_shared<const OutlierReport>(models->Observe(*h, inputs));
  models->Infer(*h, std::move(inputs), "v2",
                [respond, request, model, variant, outliers](Result<std::vector<Tensor>> out, InferTimings,
                                                             std::shared_ptr<LoadedVersion> ver) {
                  if (!out.ok()) return respond(OipError(out.status()));
                  auto enc = EncodeV2InferResponse(model, ver->version, *request, *out);
                  if (!enc.ok()) return respond(OipError(enc.status()));
                  HttpResponse r = HttpResponse::Json(std::move(enc->body));
                  if (enc->json_size != r.body.size()) {
                    r.content_type = "application/octet-stream";
                    r.headers.push_back({"Inference-Header-Content-Length", std::to_string(enc->json_size)});
                  }
                  AddVersionHeaders(r, ver->version, variant);
                  AddOutlierHeaders(r, *outliers);
                  respond(std::move(r));
                });
}

}  // namespace

void RegisterServingRoutes(Router& router, const ServingRouteContext& ctx) {
  ModelManager* models = ctx.models;
  MetricsRegistry* metrics = ctx.metrics;
  std::string default_model = ctx.default_model;

  const bool standalone = ctx.standalone;
  if (standalone) {
    auto health = [models](HttpRequest&, Responder respond) {
      respond(models->AllReady() ? HttpResponse::Json("\n") : HttpResponse::Json("\n", 503));
    };
    router.Add(HttpMethod::kGet, "/ping", health);
    router.Add(HttpMethod::kGet, "/health", health);
    router.Add(HttpMethod::kGet, "/version", [](HttpRequest&, Responder respond) {
      respond(HttpResponse::Text(std::string("tamga ") + kVersion));
    });
    router.Add(HttpMethod::kGet, "/metrics", [metrics](HttpRequest&, Responder respond) {
      respond(HttpResponse::Text(metrics->Render(), 200, "text/plain; version=0.0.4; charset=utf-8"));
    });
    router.Add(HttpMethod::kPost, "/invocations",
               [models, default_model](HttpRequest& req, Responder respond) {
                 Invocations(models, default_model, req, std::move(respond), true);
               });
  } else {
    router.AddPrefix(HttpMethod::kPost, "/endpoints/", [models](HttpRequest& req, Responder respond) {
      std::string rest = req.path_params.empty() ? "" : req.path_params[0];
      size_t slash = rest.find('/');
      if (slash == std::string::npos || slash == 0 || rest.substr(slash) != "/invocations") {
        return respond(
            HttpResponse::Json(MlflowError("unknown route; use POST /endpoints/{name}/invocations"), 404));
      }
      Invocations(models, rest.substr(0, slash), req, std::move(respond), true);
    });
  }

  router.Add(HttpMethod::kGet, "/v2", [](HttpRequest&, Responder respond) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Field("name", "tamga");
    w.Field("version", kVersion);
    w.Key("extensions");
    w.BeginArray();
    w.String("binary_tensor_data");
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });
  router.Add(HttpMethod::kGet, "/v2/health/live",
             [](HttpRequest&, Responder respond) { respond(HttpResponse::Json("{\"live\":true}")); });
  // {"ready": bool, "models": [{name, state, version?, loading_version?, error?}]}: why a model is not ready
  // (loading which version, or the load error), so a failing readiness probe explains itself.
  router.Add(HttpMethod::kGet, "/v2/health/ready", [models, standalone](HttpRequest&, Responder respond) {
    bool ready = models->AllReady(/*vacuous_ready=*/!standalone);
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.FieldBool("ready", ready);
    w.Key("models");
    w.BeginArray();
    for (const auto& m : models->List()) {
      w.BeginObject();
      w.Field("name", m.name);
      w.Field("state", ModelStateName(m.state));
      if (!m.serving_version.empty()) w.Field("version", m.serving_version);
      if (!m.loading_version.empty()) w.Field("loading_version", m.loading_version);
      if (!m.last_error.empty()) w.Field("error", m.last_error);
      if (m.variants.size() > 1 || (m.variants.size() == 1 && m.variants[0].name != kPrimaryVariant)) {
        w.Field("traffic", TrafficModeName(m.mode));
        w.Key("variants");
        w.BeginArray();
        for (const auto& v : m.variants) {
          w.BeginObject();
          w.Field("name", v.name);
          w.Field("state", ModelStateName(v.state));
          if (!v.serving_version.empty()) w.Field("version", v.serving_version);
          if (!v.loading_version.empty()) w.Field("loading_version", v.loading_version);
          if (!v.last_error.empty()) w.Field("error", v.last_error);
          w.FieldDouble("weight", v.weight);
          w.FieldBool("shadow", v.shadow);
          w.EndObject();
        }
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body), ready ? 200 : 503));
  });

  router.AddPrefix(HttpMethod::kGet, "/v2/models/", [models](HttpRequest& req, Responder respond) {
    auto p = ParseV2Path(req.path_params.empty() ? "" : req.path_params[0]);
    if (!p.ok()) return respond(OipError(p.status()));
    if (p->action == "infer") return respond(OipError(NotFound("use POST for infer")));
    auto v = models->Get(p->model, p->version);
    if (p->action == "ready") {
      bool ready = v.ok();
      if (!ready && v.status().code() == StatusCode::kNotFound) return respond(OipError(v.status()));
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      w.Field("name", p->model);
      w.FieldBool("ready", ready);
      w.EndObject();
      return respond(HttpResponse::Json(std::move(body), ready ? 200 : 503));
    }
    if (!v.ok()) return respond(OipError(v.status()));
    respond(HttpResponse::Json(EncodeV2Metadata(p->model, (*v)->version, (*v)->platform, (*v)->signature)));
  });

  router.AddPrefix(HttpMethod::kPost, "/v2/models/", [models](HttpRequest& req, Responder respond) {
    V2Infer(models, req, std::move(respond), true);
  });
}

}  // namespace tamga
