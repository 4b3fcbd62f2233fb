// Retraining triggers (/api/2.0/tamga/triggers[/{name}[/fire]]; docs/data.md). Admins create, fire and delete
// them (a trigger queues jobs as the server); anyone signed in lists them and their firings.
#include "core/json_parse.h"
#include "core/utf8.h"
#include "deploy/deployment_spec.h"
#include "http/routes/route_context.h"
#include "triggers/trigger_service.h"

namespace tamga {
namespace {

void WriteTrigger(JsonWriter& w, const TriggerRecord& t) {
  w.BeginObject();
  w.Field("name", t.name);
  w.Field("kind", t.kind);
  if (t.kind == "dataset_tag") {
    w.Field("on_dataset", t.dataset + "@" + t.tag);
  } else if (t.kind == "drift") {
    w.Field("on_drift", t.dataset);
  } else {
    w.Field("schedule", t.cron);
    w.FieldInt("next_fire_timestamp", t.cursor);
  }
  w.Key("job");
  w.Raw(t.job_spec);
  if (!t.register_model.empty()) {
    w.Field("register_model", t.register_model);
    w.Field("model_path", t.model_path);
  }
  w.FieldBool("enabled", t.enabled);
  w.Field("created_by", t.created_by);
  w.FieldInt("creation_timestamp", t.created_ms);
  w.EndObject();
}

void WriteFiring(JsonWriter& w, const TriggerFiring& f) {
  w.BeginObject();
  w.FieldInt("id", f.id);
  w.Field("event", f.detail);
  w.Field("state", f.state);
  if (!f.job_id.empty()) w.Field("job_id", f.job_id);
  if (!f.run_id.empty()) w.Field("run_id", f.run_id);
  if (!f.model_version.empty()) w.Field("model_version", f.model_version);
  if (!f.reason.empty()) w.Field("reason", f.reason);
  w.FieldInt("creation_timestamp", f.created_ms);
  w.FieldInt("last_updated_timestamp", f.updated_ms);
  w.EndObject();
}

// "/api/2.0/tamga/triggers/<name>[/fire]" -> name, action.
Result<std::pair<std::string, std::string>> NameOf(const HttpRequest& req) {
  std::string rest = req.path_params.empty() ? "" : req.path_params[0];
  size_t slash = rest.find('/');
  std::string name = rest.substr(0, slash);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (name.empty() || name.size() > 128) return NotFound("No such trigger");
  return std::make_pair(name, action);
}

}  // namespace

void RegisterTriggerRoutes(Router& router, const RouteContext& ctx) {
  TriggerService* triggers = ctx.triggers;
  if (triggers == nullptr) return;
  const std::string base = "/api/2.0/tamga/triggers";

  DeployService* deploy = ctx.deploy;
  router.Add(HttpMethod::kPost, base,
             RequestFieldsHandler([triggers, deploy](const HttpRequest& req, const RequestFields& f,
                                                     Responder respond) -> Status {
               TriggerSpec spec;
               TAMGA_ASSIGN_OR_RETURN(spec.name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto on, f.OptString("on_dataset"));
               TAMGA_ASSIGN_OR_RETURN(auto cron, f.OptString("schedule"));
               TAMGA_ASSIGN_OR_RETURN(auto drift, f.OptString("on_drift"));
               spec.on_drift = drift.value_or("");
               // A drift trigger on a deployment that cannot drift would never fire: say so now.
               if (!spec.on_drift.empty() && deploy != nullptr) {
                 auto d = deploy->Get(spec.on_drift);
                 if (!d.ok() && d.status().code() == StatusCode::kNotFound)
                   return InvalidArgument("on_drift: no deployment named '" +
                                          std::string(Utf8Prefix(spec.on_drift, 64)) + "'");
                 if (d.ok()) {
                   auto parsed = ParseDeploymentSpec(d->spec);
                   if (parsed.ok() && !parsed->monitoring.enabled)
                     return InvalidArgument("on_drift: deployment '" + spec.on_drift +
                                            "' has no 'monitoring' section, so it never reports drift");
                 }
               }
               TAMGA_ASSIGN_OR_RETURN(auto model, f.OptString("register_model"));
               TAMGA_ASSIGN_OR_RETURN(auto path, f.OptString("model_path"));
               spec.on_dataset = on.value_or("");
               spec.cron = cron.value_or("");
               spec.register_model = model.value_or("");
               spec.model_path = path.value_or("model");
               const auto& raw = f.raw();
               if (!raw.contains("job") || !raw["job"].is_object())
                 return InvalidArgument("Missing value for required parameter 'job' (a job spec object)");
               spec.job_json = raw["job"].dump();
               spec.created_by = req.principal ? req.principal->Name() : "";
               TAMGA_ASSIGN_OR_RETURN(TriggerRecord t, triggers->Create(spec));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("trigger");
               WriteTrigger(w, t);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base, [triggers](HttpRequest&, Responder respond) {
    auto list = triggers->List();
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("triggers");
    w.BeginArray();
    for (const auto& t : *list) WriteTrigger(w, t);
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });

  router.AddPrefix(HttpMethod::kGet, base + "/", [triggers](HttpRequest& req, Responder respond) {
    auto run = [&]() -> Result<std::string> {
      TAMGA_ASSIGN_OR_RETURN(auto na, NameOf(req));
      if (!na.second.empty()) return NotFound("No such endpoint");
      TAMGA_ASSIGN_OR_RETURN(TriggerRecord t, triggers->Get(na.first));
      TAMGA_ASSIGN_OR_RETURN(auto firings, triggers->Firings(na.first, 100));
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      w.Key("trigger");
      WriteTrigger(w, t);
      w.Key("firings");
      w.BeginArray();
      for (const auto& f : firings) WriteFiring(w, f);
      w.EndArray();
      w.EndObject();
      return body;
    };
    auto body = run();
    respond(body.ok() ? HttpResponse::Json(std::move(*body)) : ErrorResponse(body.status()));
  });

  router.AddPrefix(HttpMethod::kDelete, base + "/", [triggers](HttpRequest& req, Responder respond) {
    auto na = NameOf(req);
    if (!na.ok()) return respond(ErrorResponse(na.status()));
    if (!na->second.empty()) return respond(ErrorResponse(NotFound("No such endpoint")));
    Status s = triggers->Delete(na->first);
    respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
  });

  router.AddPrefix(HttpMethod::kPost, base + "/", [triggers](HttpRequest& req, Responder respond) {
    auto na = NameOf(req);
    if (!na.ok()) return respond(ErrorResponse(na.status()));
    if (na->second != "fire") return respond(ErrorResponse(NotFound("No such endpoint")));
    auto f = triggers->FireNow(na->first);
    if (!f.ok()) return respond(ErrorResponse(f.status()));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("firing");
    WriteFiring(w, *f);
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });
}

}  // namespace tamga
