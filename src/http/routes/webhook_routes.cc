// MLflow 3 webhooks (/api/2.0/mlflow/webhooks[/{id}[/test]]) and Tamga's delivery log
// (/api/2.0/tamga/webhooks/{id}/deliveries).

#include "core/utf8.h"
#include "http/registry_json.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

Result<std::vector<std::string>> ParseEvents(const RequestFields& f) {
  std::vector<std::string> out;
  const auto& raw = f.raw();
  if (!raw.contains("events") || raw["events"].is_null()) return out;
  if (!raw["events"].is_array()) return InvalidParamValue("events", raw["events"]);
  for (const auto& e : raw["events"]) {
    std::string entity, action;
    if (e.is_string()) {
      std::string s = e.get<std::string>();
      size_t dot = s.find('.');
      if (dot == std::string::npos)
        return InvalidArgument("Invalid webhook event '" + std::string(Utf8Prefix(s, 100)) + "'");
      entity = s.substr(0, dot);
      action = s.substr(dot + 1);
    } else if (e.is_object() && e.contains("entity") && e.contains("action") && e["entity"].is_string() &&
               e["action"].is_string()) {
      entity = e["entity"].get<std::string>();
      action = e["action"].get<std::string>();
    } else {
      return InvalidParamValue("events", e);
    }
    TAMGA_ASSIGN_OR_RETURN(std::string name, CanonicalWebhookEvent(entity, action));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

Result<WebhookSpec> ParseSpec(const RequestFields& f) {
  WebhookSpec spec;
  TAMGA_ASSIGN_OR_RETURN(spec.name, f.OptString("name"));
  TAMGA_ASSIGN_OR_RETURN(spec.description, f.OptString("description"));
  TAMGA_ASSIGN_OR_RETURN(spec.url, f.OptString("url"));
  TAMGA_ASSIGN_OR_RETURN(spec.secret, f.OptString("secret"));
  TAMGA_ASSIGN_OR_RETURN(spec.model_name, f.OptString("model_name"));
  if (f.Has("events")) {
    TAMGA_ASSIGN_OR_RETURN(auto events, ParseEvents(f));
    spec.events = std::move(events);
  }
  TAMGA_ASSIGN_OR_RETURN(auto status, f.OptString("status"));
  if (status) {
    if (*status == "ACTIVE" || *status == "1")
      spec.status = WebhookStatus::kActive;
    else if (*status == "DISABLED" || *status == "2")
      spec.status = WebhookStatus::kDisabled;
    else
      return InvalidArgument("Invalid webhook status '" + status->substr(0, 50) +
                             "'. Use ACTIVE or DISABLED.");
  }
  return spec;
}

HttpResponse WebhookResponse(const Webhook& h) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("webhook");
  WriteWebhook(w, h);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

std::function<void(Result<Webhook>)> RespondWebhook(Responder respond) {
  return [respond = std::move(respond)](Result<Webhook> h) {
    respond(h.ok() ? WebhookResponse(*h) : ErrorResponse(h.status()));
  };
}

// The id from "/api/2.0/mlflow/webhooks/<id>" (prefix remainder), rejecting nested paths.
Result<std::string> WebhookIdOf(const HttpRequest& req, const char* suffix) {
  std::string rest = req.path_params.empty() ? "" : req.path_params[0];
  std::string s(suffix);
  if (!s.empty()) {
    if (rest.size() <= s.size() || rest.compare(rest.size() - s.size(), s.size(), s) != 0) {
      return NotFound("Unknown webhook route");
    }
    rest.resize(rest.size() - s.size());
  }
  if (rest.empty() || rest.find('/') != std::string::npos || rest.size() > 64) {
    return NotFound("Webhook with ID " + std::string(Utf8Prefix(rest, 64)) + " not found");
  }
  return rest;
}

template <typename Fn>
Handler IdHandler(const char* suffix, Fn fn) {
  return [suffix, fn](HttpRequest& req, Responder respond) {
    auto id = WebhookIdOf(req, suffix);
    if (!id.ok()) return respond(ErrorResponse(id.status()));
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    Status s = fn(*id, *fields, respond);
    if (!s.ok()) respond(ErrorResponse(s));
  };
}

}  // namespace

void RegisterWebhookRoutes(Router& router, const RouteContext& ctx) {
  WebhookService* hooks = ctx.webhooks;
  const std::string base = std::string(kMlflowApi) + "/webhooks";

  router.Add(HttpMethod::kPost, base,
             FieldsHandler([hooks](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto spec, ParseSpec(f));
               hooks->Create(std::move(spec), RespondWebhook(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base,
             RequestFieldsHandler([hooks, ctx](const HttpRequest& req, const RequestFields& f,
                                               Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
               TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
               // With auth on, a non-admin lists the hooks of models they MANAGE.
               std::function<bool(const Webhook&)> visible;
               if (ctx.auth != nullptr && req.principal && !req.principal->is_admin) {
                 const Principal& who = *req.principal;
                 AuthService* auth = ctx.auth;
                 visible = [&who, auth](const Webhook& h) {
                   return !h.model_name.empty() &&
                          Allows(auth->Effective(who, ObjectKind::kRegisteredModel, h.model_name),
                                 Permission::kManage);
                 };
               }
               TAMGA_ASSIGN_OR_RETURN(auto page, hooks->List(max.value_or(100), token.value_or(""), visible));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("webhooks");
               w.BeginArray();
               for (const auto& h : page.webhooks) WriteWebhook(w, h);
               w.EndArray();
               if (!page.next_page_token.empty()) w.Field("next_page_token", page.next_page_token);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.AddPrefix(
      HttpMethod::kGet, base + "/",
      IdHandler("", [hooks](const std::string& id, const RequestFields&, Responder respond) -> Status {
        TAMGA_ASSIGN_OR_RETURN(auto h, hooks->Get(id));
        respond(WebhookResponse(h));
        return Status::Ok();
      }));

  router.AddPrefix(
      HttpMethod::kPatch, base + "/",
      IdHandler("", [hooks](const std::string& id, const RequestFields& f, Responder respond) -> Status {
        TAMGA_ASSIGN_OR_RETURN(auto spec, ParseSpec(f));
        hooks->Update(id, std::move(spec), RespondWebhook(std::move(respond)));
        return Status::Ok();
      }));

  router.AddPrefix(
      HttpMethod::kDelete, base + "/",
      IdHandler("", [hooks](const std::string& id, const RequestFields&, Responder respond) -> Status {
        hooks->Delete(id, EmptyOk(std::move(respond)));
        return Status::Ok();
      }));

  router.AddPrefix(
      HttpMethod::kPost, base + "/",
      IdHandler("/test", [hooks](const std::string& id, const RequestFields& f, Responder respond) -> Status {
        std::optional<std::string> event;
        TAMGA_ASSIGN_OR_RETURN(auto ev, f.OptObject("event"));
        if (ev) {
          TAMGA_ASSIGN_OR_RETURN(std::string entity, ev->RequiredString("entity"));
          TAMGA_ASSIGN_OR_RETURN(std::string action, ev->RequiredString("action"));
          TAMGA_ASSIGN_OR_RETURN(event, CanonicalWebhookEvent(entity, action));
        }
        TAMGA_RETURN_IF_ERROR(hooks->Get(id).status());
        // The test call blocks on the receiver (bounded by the delivery timeout): it runs on the service's
        // bounded test pool, off the I/O threads; a full pool answers 429.
        hooks->TestAsync(id, event, [respond = std::move(respond)](Result<WebhookTestResult> result) {
          if (!result.ok()) return respond(ErrorResponse(result.status()));
          std::string body;
          JsonWriter w(&body);
          w.BeginObject();
          w.Key("result");
          w.BeginObject();
          w.FieldBool("success", result->success);
          if (result->response_status) w.FieldInt("response_status", result->response_status);
          if (result->response_status) w.Field("response_body", result->response_body);
          if (!result->error_message.empty()) w.Field("error_message", result->error_message);
          w.EndObject();
          w.EndObject();
          respond(HttpResponse::Json(std::move(body)));
        });
        return Status::Ok();
      }));

  router.AddPrefix(
      HttpMethod::kGet, "/api/2.0/tamga/webhooks/",
      IdHandler("/deliveries",
                [hooks](const std::string& id, const RequestFields& f, Responder respond) -> Status {
                  TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
                  TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
                  TAMGA_ASSIGN_OR_RETURN(auto page,
                                         hooks->ListDeliveries(id, max.value_or(100), token.value_or("")));
                  std::string body;
                  JsonWriter w(&body);
                  w.BeginObject();
                  w.Key("deliveries");
                  w.BeginArray();
                  for (const auto& d : page.deliveries) WriteWebhookDelivery(w, d);
                  w.EndArray();
                  if (!page.next_page_token.empty()) w.Field("next_page_token", page.next_page_token);
                  w.EndObject();
                  respond(HttpResponse::Json(std::move(body)));
                  return Status::Ok();
                }));
}

}  // namespace tamga
