// Deployments (/api/2.0/tamga/deployments[/{name}[/render]]) and ad-hoc rendering of a model URI
// (/api/2.0/tamga/deploy/render).
#include <algorithm>
#include <thread>

#include "core/bounded_executor.h"
#include "core/json_parse.h"
#include "core/json_writer.h"
#include "core/utf8.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

void WriteDeployment(JsonWriter& w, const DeploymentRecord& d) {
  w.BeginObject();
  w.Field("name", d.name);
  w.Field("model_name", d.model_name);
  w.Key("spec");
  w.Raw(d.spec);
  w.FieldInt("creation_timestamp", d.creation_timestamp);
  w.FieldInt("last_updated_timestamp", d.last_updated_timestamp);
  if (!d.rendered_version.empty()) w.Field("rendered_version", d.rendered_version);
  if (d.rendered_event_seq) w.FieldInt("rendered_event_seq", d.rendered_event_seq);
  w.EndObject();
}

HttpResponse DeploymentResponse(const DeploymentRecord& d) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("deployment");
  WriteDeployment(w, d);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

// "files": [{"path", "content"}] — rendered or written deployment files.
void WriteFiles(JsonWriter& w, const std::vector<RenderedFile>& files) {
  w.Key("files");
  w.BeginArray();
  for (const auto& f : files) {
    w.BeginObject();
    w.Field("path", f.path);
    w.Field("content", f.content);
    w.EndObject();
  }
  w.EndArray();
}

Result<std::string> NameOf(const HttpRequest& req, const std::string& suffix) {
  std::string rest = req.path_params.empty() ? "" : req.path_params[0];
  if (!suffix.empty()) {
    if (rest.size() <= suffix.size() ||
        rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return NotFound("Unknown deployment route");
    }
    rest.resize(rest.size() - suffix.size());
  }
  if (rest.empty() || rest.size() > 64 || rest.find('/') != std::string::npos) {
    return NotFound("Deployment '" + std::string(Utf8Prefix(rest, 64)) + "' not found");
  }
  return rest;
}

// Deployment files are rendered and committed off the I/O thread (file and git I/O).
template <typename Fn>
void Offload(Fn fn) {
  std::thread(std::move(fn)).detach();
}

}  // namespace

void RegisterDeployRoutes(Router& router, const RouteContext& ctx) {
  DeployService* deploy = ctx.deploy;
  const std::string base = "/api/2.0/tamga/deployments";

  router.Add(HttpMethod::kPost, base, [deploy, ctx](HttpRequest& req, Responder respond) {
    if (req.Header("content-type").find("application/json") == std::string::npos) {
      return respond(
          ErrorResponse(InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].")));
    }
    auto query = RequestFields::FromQueryString(req.query);
    if (!query.ok()) return respond(ErrorResponse(query.status()));
    auto allow_missing = query->OptBool("allow_missing");
    if (!allow_missing.ok()) return respond(ErrorResponse(allow_missing.status()));
    // The creator of a deployment gets MANAGE on it (as for experiments and models).
    PrincipalPtr who = req.principal;
    deploy->Put(req.body, allow_missing->value_or(false), [respond, ctx, who](Result<DeploymentRecord> d) {
      if (d.ok() && ctx.auth != nullptr && who && d->creation_timestamp == d->last_updated_timestamp)
        ctx.auth->GrantCreator(*who, ObjectKind::kDeployment, d->name);
      respond(d.ok() ? DeploymentResponse(*d) : ErrorResponse(d.status()));
    });
  });

  router.Add(HttpMethod::kGet, base, [deploy, ctx](HttpRequest& req, Responder respond) {
    auto list = deploy->List();
    if (list.ok() && ctx.auth != nullptr && req.principal && !req.principal->is_admin) {
      auto visible = ctx.auth->Readable(*req.principal, ObjectKind::kDeployment);
      list->erase(std::remove_if(list->begin(), list->end(),
                                 [&](const DeploymentRecord& d) { return !visible.Allows(d.name); }),
                  list->end());
    }
    if (!list.ok()) return respond(ErrorResponse(list.status()));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("deployments");
    w.BeginArray();
    for (const auto& d : *list) WriteDeployment(w, d);
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });

  // Reading a deployment's folder and git log runs on two threads with a short queue: a flood of GETs is
  // answered 429 instead of starting a thread each.
  BoundedExecutor::Options po;
  po.name = "gitops-read";
  po.threads = 2;
  po.max_queued = 16;
  auto pool = std::shared_ptr<BoundedExecutor>(new BoundedExecutor(po));
  RolloutController* rollouts = ctx.rollouts;
  PayloadLogger* payloads = ctx.payloads;
  ModelManager* served = ctx.served;
  router.AddPrefix(
      HttpMethod::kGet, base + "/",
      [deploy, pool, rollouts, payloads, served](HttpRequest& req, Responder respond) {
        // .../<name>/files: what the GitOps folder holds and the commits that changed it (file and git I/O:
        // off the I/O thread).
        if (auto files = NameOf(req, "/files"); files.ok()) {
          bool queued = pool->TrySubmit([deploy, name = *files, respond] {
            auto w = deploy->WrittenFiles(name);
            if (!w.ok()) return respond(ErrorResponse(w.status()));
            std::string body;
            JsonWriter j(&body);
            j.BeginObject();
            WriteFiles(j, w->files);
            j.Key("commits");
            j.BeginArray();
            for (const auto& c : w->commits) {
              j.BeginObject();
              j.Field("commit", c.hash);
              j.FieldInt("timestamp", c.time_s * 1000);
              j.Field("message", c.subject);
              j.EndObject();
            }
            j.EndArray();
            j.EndObject();
            respond(HttpResponse::Json(std::move(body)));
          });
          if (!queued)
            respond(
                ErrorResponse(ResourceExhausted("Too many deployment file reads at once; retry shortly")));
          return;
        }
        // .../<name>/payloads?from=&to=&version=&max_results=: the payload log (docs/rollouts.md §6).
        if (auto logged = NameOf(req, "/payloads"); logged.ok()) {
          if (payloads == nullptr)
            return respond(ErrorResponse(NotFound("payload logs are not kept by this server")));
          if (auto d = deploy->Get(*logged); !d.ok()) return respond(ErrorResponse(d.status()));
          auto fields = RequestFields::From(req);
          if (!fields.ok()) return respond(ErrorResponse(fields.status()));
          PayloadQuery q;
          q.model = *logged;
          auto get = [&]() -> Status {
            TAMGA_ASSIGN_OR_RETURN(auto from, fields->OptInt("from"));
            TAMGA_ASSIGN_OR_RETURN(auto to, fields->OptInt("to"));
            TAMGA_ASSIGN_OR_RETURN(auto version, fields->OptString("version"));
            TAMGA_ASSIGN_OR_RETURN(auto max, fields->OptInt("max_results"));
            q.from_ms = from.value_or(0);
            q.to_ms = to.value_or(INT64_MAX);
            q.version = version.value_or("");
            q.max_results = max.value_or(100);
            if (q.max_results < 1 || q.max_results > 1000)
              return InvalidArgument("max_results must be in [1, 1000]");
            return Status::Ok();
          };
          if (Status s = get(); !s.ok()) return respond(ErrorResponse(s));
          bool queued = pool->TrySubmit([payloads, q, respond] {
            auto rows = payloads->Query(q);
            if (!rows.ok()) return respond(ErrorResponse(rows.status()));
            std::string body;
            JsonWriter w(&body);
            w.BeginObject();
            w.Key("payloads");
            w.BeginArray();
            for (const auto& r : *rows) w.Raw(r);
            w.EndArray();
            w.EndObject();
            respond(HttpResponse::Json(std::move(body)));
          });
          if (!queued) respond(ErrorResponse(ResourceExhausted("Too many reads at once; retry shortly")));
          return;
        }
        // .../<name>/monitoring: outliers and drift of a served local deployment (docs/rollouts.md §7).
        if (auto monitored = NameOf(req, "/monitoring"); monitored.ok()) {
          if (served == nullptr) return respond(ErrorResponse(NotFound("this server serves no deployments")));
          if (auto d = deploy->Get(*monitored); !d.ok()) return respond(ErrorResponse(d.status()));
          auto figures = served->Monitoring(*monitored);
          if (!figures.ok()) return respond(ErrorResponse(figures.status()));
          auto options = served->MonitoringOf(*monitored);
          return respond(HttpResponse::Json(MonitoringJson(*monitored, options.get(), *figures)));
        }
        // .../<name>/rollout: the progressive rollout's state (docs/rollouts.md §3).
        if (auto rollout = NameOf(req, "/rollout"); rollout.ok()) {
          if (rollouts == nullptr)
            return respond(ErrorResponse(NotFound("rollouts are not run by this server")));
          auto j = rollouts->StatusJson(*rollout);
          return respond(j.ok() ? HttpResponse::Json(std::move(*j)) : ErrorResponse(j.status()));
        }
        auto name = NameOf(req, "");
        if (!name.ok()) return respond(ErrorResponse(name.status()));
        auto d = deploy->Get(*name);
        respond(d.ok() ? DeploymentResponse(*d) : ErrorResponse(d.status()));
      });

  router.AddPrefix(HttpMethod::kDelete, base + "/", [deploy, ctx](HttpRequest& req, Responder respond) {
    auto name = NameOf(req, "");
    if (!name.ok()) return respond(ErrorResponse(name.status()));
    AuthService* auth = ctx.auth;
    deploy->Delete(*name, [auth, name = *name, respond](Status s) {
      if (s.ok() && auth != nullptr) auth->ForgetObject(ObjectKind::kDeployment, name);
      respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
    });
  });

  router.AddPrefix(HttpMethod::kPost, base + "/", [deploy, rollouts](HttpRequest& req, Responder respond) {
    // .../<name>/rollout/{promote,pause,resume,abort}
    for (const char* action : {"promote", "pause", "resume", "abort"}) {
      auto r = NameOf(req, std::string("/rollout/") + action);
      if (!r.ok()) continue;
      if (rollouts == nullptr) return respond(ErrorResponse(NotFound("rollouts are not run by this server")));
      Status s = rollouts->Command(*r, action, req.principal ? req.principal->Name() : "");
      if (!s.ok()) return respond(ErrorResponse(s));
      auto j = rollouts->StatusJson(*r);
      return respond(j.ok() ? HttpResponse::Json(std::move(*j)) : ErrorResponse(j.status()));
    }
    auto name = NameOf(req, "/render");
    if (!name.ok()) return respond(ErrorResponse(name.status()));
    TAMGA_CHECK(deploy != nullptr);
    Offload([deploy, name = *name, respond] {
      auto r = deploy->Render(name, "Rendered on request (tamga deploy render).");
      if (!r.ok()) return respond(ErrorResponse(r.status()));
      std::string body;
      JsonWriter w(&body);
      w.BeginObject();
      w.Field("version", std::to_string(r->version));
      w.FieldBool("changed", r->changed);
      if (!r->commit.empty()) w.Field("commit", r->commit);
      w.Key("files");
      w.BeginArray();
      for (const auto& f : r->files) w.String(f.path);
      w.EndArray();
      w.EndObject();
      respond(HttpResponse::Json(std::move(body)));
    });
  });

  router.Add(HttpMethod::kPost, "/api/2.0/tamga/deploy/render",
             FieldsHandler([deploy](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string uri, f.RequiredString("model_uri"));
               std::string spec;
               if (f.raw().contains("spec")) {
                 if (!f.raw()["spec"].is_object()) return InvalidParamValue("spec", f.raw()["spec"]);
                 spec = DumpJson(f.raw()["spec"]);
               }
               TAMGA_ASSIGN_OR_RETURN(auto files, deploy->RenderUri(uri, spec));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               WriteFiles(w, files);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));
}

}  // namespace tamga
