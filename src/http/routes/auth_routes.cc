// Identity routes (docs/identity.md), registered only with --auth on:
//   MLflow's auth API, wire-compatible with mlflow.server.auth.client.AuthServiceClient:
//     /api/2.0/mlflow/users/{create,get,update-password,update-admin,delete}
//     /api/2.0/mlflow/{experiments,registered-models}/permissions/{create,get,update,delete}
//   Tamga's: POST/GET /api/2.0/tamga/tokens, DELETE /api/2.0/tamga/tokens/{id}, GET /api/2.0/tamga/whoami,
//     GET /api/2.0/tamga/users, GET /api/2.0/tamga/audit.
// Who may call each is the access rule (routes/access_rules.cc); handlers add what a rule cannot say (a
// token is revoked by its owner or an admin; agent tokens are made by admins).
#include <map>

#include "core/ids.h"
#include "core/json_writer.h"
#include "http/access_control.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

void WriteUser(JsonWriter& w, const UserRecord& u, const std::vector<GrantRecord>& grants) {
  w.BeginObject();
  w.FieldInt("id", u.id);
  w.Field("username", u.username);
  w.FieldBool("is_admin", u.is_admin);
  for (const char* kind : {"experiment", "registered_model"}) {
    w.Key(std::string(kind) + "_permissions");
    w.BeginArray();
    for (const auto& g : grants) {
      if (g.object_kind != kind) continue;
      w.BeginObject();
      w.Field(std::string(kind) == "experiment" ? "experiment_id" : "name", g.object_id);
      w.FieldInt("user_id", u.id);
      w.Field("permission", g.permission);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

HttpResponse UserResponse(AuthService* auth, const UserRecord& u) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("user");
  WriteUser(w, u, auth->GrantsOf(u.id));
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

HttpResponse GrantResponse(ObjectKind kind, const GrantRecord& g) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key(kind == ObjectKind::kExperiment ? "experiment_permission" : "registered_model_permission");
  w.BeginObject();
  w.Field(kind == ObjectKind::kExperiment ? "experiment_id" : "name", g.object_id);
  int64_t user_id = 0;
  (void)ParseDecimalId(g.subject_id, &user_id);  // grants to users carry a decimal id
  w.FieldInt("user_id", user_id);
  w.Field("permission", g.permission);
  w.EndObject();
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

void WriteToken(JsonWriter& w, const TokenRecord& t, const std::string& username) {
  w.BeginObject();
  w.Field("id", t.id);
  w.Field("name", t.name);
  w.Field("username", username);
  w.Field("role", t.role);
  w.Key("queues");
  w.BeginArray();
  size_t start = 0;
  while (start < t.queues.size()) {
    size_t comma = t.queues.find(',', start);
    if (comma == std::string::npos) comma = t.queues.size();
    w.String(t.queues.substr(start, comma - start));
    start = comma + 1;
  }
  w.EndArray();
  w.FieldInt("created_ms", t.created_ms);
  w.FieldInt("expires_ms", t.expires_ms);
  w.FieldInt("last_used_ms", t.last_used_ms);
  w.EndObject();
}

// How a principal signed in (whoami). A switch, not an array: -Wswitch names a kind added without a name.
const char* AuthenticatedBy(Principal::Kind kind) {
  switch (kind) {
    case Principal::Kind::kAnonymous:
      return "anonymous";
    case Principal::Kind::kUser:
      return "password";
    case Principal::Kind::kToken:
      return "token";
    case Principal::Kind::kAgent:
      return "agent";
    case Principal::Kind::kOidc:
      return "oidc";
    case Principal::Kind::kSession:
      return "session";
  }
  return "unknown";
}

void RegisterPermissionRoutes(Router& router, const RouteContext& ctx, ObjectKind kind) {
  AuthService* auth = ctx.auth;
  const bool exp = kind == ObjectKind::kExperiment;
  const std::string base =
      std::string(kMlflowApi) + (exp ? "/experiments/permissions/" : "/registered-models/permissions/");
  const char* id_field = exp ? "experiment_id" : "name";
  router.Add(HttpMethod::kPost, base + "create",
             FieldsHandler([=](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString(id_field));
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(std::string perm, f.RequiredString("permission"));
               TAMGA_ASSIGN_OR_RETURN(Permission p, ParsePermission(perm));
               // As in MLflow, a permission may name an object that does not exist (yet).
               TAMGA_ASSIGN_OR_RETURN(GrantRecord g, auth->CreateGrant(kind, id, username, p));
               respond(GrantResponse(kind, g));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([=](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString(id_field));
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(GrantRecord g, auth->GetGrant(kind, id, username));
               respond(GrantResponse(kind, g));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPatch, base + "update",
             FieldsHandler([=](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString(id_field));
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(std::string perm, f.RequiredString("permission"));
               TAMGA_ASSIGN_OR_RETURN(Permission p, ParsePermission(perm));
               TAMGA_RETURN_IF_ERROR(auth->UpdateGrant(kind, id, username, p));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kDelete, base + "delete",
             FieldsHandler([=](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString(id_field));
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_RETURN_IF_ERROR(auth->DeleteGrant(kind, id, username));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
}

void RegisterUserRoutes(Router& router, AuthService* auth) {
  const std::string base = std::string(kMlflowApi) + "/users/";
  router.Add(HttpMethod::kPost, base + "create",
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(std::string password, f.RequiredString("password"));
               TAMGA_ASSIGN_OR_RETURN(UserRecord u, auth->CreateUser(username, password, false));
               respond(UserResponse(auth, u));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(UserRecord u, auth->GetUser(username));
               respond(UserResponse(auth, u));
               return Status::Ok();
             }));
  router.Add(
      HttpMethod::kPatch, base + "update-password",
      RequestFieldsHandler(
          [auth](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
            TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
            TAMGA_ASSIGN_OR_RETURN(std::string password, f.RequiredString("password"));
            TAMGA_ASSIGN_OR_RETURN(UserRecord target, auth->GetUser(username));
            if (target.source == "oidc") {
              return FailedPrecondition(
                  "User '" + username +
                  "' signs in through the OIDC identity provider and has no password here.");
            }
            // A token (or an OIDC session) must not become a permanent password: oneself needs a password
            // sign-in.
            if (!http.principal->is_admin && http.principal->kind != Principal::Kind::kUser) {
              return PermissionDenied(
                  "Permission denied: changing your password needs a password sign-in (HTTP Basic with the "
                  "current password), not a token.");
            }
            TAMGA_RETURN_IF_ERROR(auth->UpdatePassword(username, password));
            respond(HttpResponse::Json("{}"));
            return Status::Ok();
          }));
  router.Add(HttpMethod::kPatch, base + "update-admin",
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_ASSIGN_OR_RETURN(auto is_admin, f.OptBool("is_admin"));
               if (!is_admin) return InvalidArgument("Missing value for required parameter 'is_admin'.");
               TAMGA_RETURN_IF_ERROR(auth->UpdateAdmin(username, *is_admin));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kDelete, base + "delete",
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
               TAMGA_RETURN_IF_ERROR(auth->DeleteUser(username));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kGet, "/api/2.0/tamga/users", [auth](HttpRequest&, Responder respond) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("users");
    w.BeginArray();
    for (const auto& u : auth->ListUsers()) {
      w.BeginObject();
      w.FieldInt("id", u.id);
      w.Field("username", u.username);
      w.FieldBool("is_admin", u.is_admin);
      w.Field("source", u.source);
      w.FieldInt("created_ms", u.created_ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });
}

void RegisterTokenRoutes(Router& router, AuthService* auth, Clock* clock) {
  const std::string base = "/api/2.0/tamga/tokens";
  router.Add(
      HttpMethod::kPost, base,
      RequestFieldsHandler([auth, clock](const HttpRequest& http, const RequestFields& f,
                                         Responder respond) -> Status {
        const Principal& who = *http.principal;
        AuthService::CreateTokenRequest req;
        TAMGA_ASSIGN_OR_RETURN(req.name, f.RequiredString("name"));
        TAMGA_ASSIGN_OR_RETURN(auto role, f.OptString("role"));
        req.role = role.value_or("user");
        TAMGA_ASSIGN_OR_RETURN(req.queues, f.StringList("queues"));
        TAMGA_ASSIGN_OR_RETURN(auto username, f.OptString("username"));
        TAMGA_ASSIGN_OR_RETURN(auto days, f.OptInt("expires_in_days"));
        int64_t d = days.value_or(90);
        if (d < 0 || d > 3650) return InvalidArgument("expires_in_days is 0 (never) to 3650.");
        req.expires_ms = d == 0 ? 0 : clock->NowMillis() + d * 86400000;
        std::string owner = username.value_or(who.username);
        if ((owner != who.username || req.role != "user") && !who.is_admin) {
          return PermissionDenied("Permission denied: only an admin makes tokens for other users or agents.");
        }
        // A stolen token, an admin's included, must not make itself permanent.
        if ((who.kind == Principal::Kind::kToken || who.kind == Principal::Kind::kOidc ||
             who.kind == Principal::Kind::kSession) &&
            req.expires_ms == 0) {
          return PermissionDenied("A token cannot make a token that never expires; sign in with a password.");
        }
        TAMGA_ASSIGN_OR_RETURN(UserRecord u, auth->GetUser(owner));
        req.user_id = u.id;
        TAMGA_ASSIGN_OR_RETURN(auto created, auth->CreateToken(req));
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        w.Field("token", created.secret);
        w.Key("token_info");
        WriteToken(w, created.record, u.username);
        w.EndObject();
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      }));
  router.Add(HttpMethod::kGet, base,
             RequestFieldsHandler(
                 [auth](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
                   const Principal& who = *http.principal;
                   TAMGA_ASSIGN_OR_RETURN(auto all, f.OptBool("all"));
                   int64_t own_id = -1;  // the in-process principal has no user id: it lists nothing
                   (void)ParseDecimalId(who.user_id, &own_id);
                   std::optional<int64_t> only = own_id;
                   if (all.value_or(false)) {
                     if (!who.is_admin)
                       return PermissionDenied("Permission denied: only an admin lists every token.");
                     only.reset();
                   }
                   std::string body;
                   JsonWriter w(&body);
                   w.BeginObject();
                   w.Key("tokens");
                   w.BeginArray();
                   std::map<int64_t, std::string> names;  // one pass over the users, not one per token
                   for (const auto& u : auth->ListUsers()) names[u.id] = u.username;
                   for (const auto& t : auth->ListTokens(only)) WriteToken(w, t, names[t.user_id]);
                   w.EndArray();
                   w.EndObject();
                   respond(HttpResponse::Json(std::move(body)));
                   return Status::Ok();
                 }));
  router.AddPrefix(HttpMethod::kDelete, base + "/", [auth](HttpRequest& req, Responder respond) {
    const Principal& who = *req.principal;
    auto t = auth->GetToken(req.path_params[0]);
    if (!t.ok()) return respond(ErrorResponse(t.status()));
    if (!who.is_admin && std::to_string(t->user_id) != who.user_id) {
      return respond(
          ErrorResponse(NotFound("Token '" + req.path_params[0].substr(0, 64) + "' does not exist")));
    }
    Status s = auth->RevokeToken(t->id);
    respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
  });
  router.Add(HttpMethod::kGet, "/api/2.0/tamga/whoami", [](HttpRequest& req, Responder respond) {
    const Principal& who = *req.principal;
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Field("username", who.username);
    w.FieldBool("is_admin", who.is_admin);
    w.Field("authenticated_by", AuthenticatedBy(who.kind));
    w.Key("teams");
    w.BeginArray();
    for (const auto& t : who.teams) w.String(t);
    w.EndArray();
    if (!who.agent_queues.empty()) {
      w.Key("queues");
      w.BeginArray();
      for (const auto& q : who.agent_queues) w.String(q);
      w.EndArray();
    }
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });
}

void RegisterAuditRoute(Router& router, AuthService* auth) {
  router.Add(
      HttpMethod::kGet, "/api/2.0/tamga/audit",
      FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
        AuditQuery q;
        TAMGA_ASSIGN_OR_RETURN(auto after, f.OptInt("after"));
        TAMGA_ASSIGN_OR_RETURN(auto since, f.OptInt("since_ms"));
        TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
        TAMGA_ASSIGN_OR_RETURN(auto principal, f.OptString("principal"));
        TAMGA_ASSIGN_OR_RETURN(auto outcome, f.OptString("outcome"));
        q.after_seq = after.value_or(0);
        q.since_ms = since.value_or(0);
        q.max_results = max.value_or(100);
        if (q.max_results <= 0 || q.max_results > 10000) return InvalidArgument("max_results is 1 to 10000.");
        q.principal = principal.value_or("");
        q.outcome = outcome.value_or("");
        if (!q.outcome.empty() && q.outcome != "ok" && q.outcome != "failed" && q.outcome != "denied") {
          return InvalidArgument("outcome is ok, failed or denied.");
        }
        TAMGA_ASSIGN_OR_RETURN(auto rows, auth->audit()->Read(q));
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        w.Key("entries");
        w.BeginArray();
        for (const auto& a : rows) {
          w.BeginObject();
          w.FieldInt("seq", a.seq);
          w.FieldInt("time_ms", a.time_ms);
          w.Field("principal", a.principal);
          w.Field("method", a.method);
          w.Field("route", a.route);
          w.Field("object", a.object);
          w.FieldInt("status", a.status);
          w.Field("outcome", a.outcome);
          w.Field("remote_addr", a.remote_addr);
          w.EndObject();
        }
        w.EndArray();
        if (!rows.empty()) w.FieldInt("next_after", rows.back().seq);
        w.EndObject();
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      }));
}

// Tamga's permissions API: grants to users or teams on any object (experiments, registered models, queues,
// deployments, webhooks); the caller needs MANAGE on the object (the rule). And local teams.
// A grant names an object that exists (a typo would otherwise grant nothing, silently).
Status CheckGrantObject(const RouteContext& ctx, ObjectKind kind, const std::string& id) {
  switch (kind) {
    case ObjectKind::kExperiment:
      return ctx.store->GetExperiment(id).status();
    case ObjectKind::kRegisteredModel:
      return ctx.store->registry().GetRegisteredModel(id).status();
    case ObjectKind::kQueue:
      if (ctx.jobs == nullptr || ctx.jobs->QueueExists(id)) return Status::Ok();
      return NotFound("Queue '" + id.substr(0, 128) + "' does not exist.");
    case ObjectKind::kDeployment:
      return ctx.store->registry().GetDeployment(id).status();
    case ObjectKind::kWebhook:
      return ctx.store->registry().GetWebhook(id).status();
    case ObjectKind::kDataset:
      if (ctx.datasets == nullptr) return NotFound("Datasets are not enabled on this server.");
      return ctx.datasets->Get(id).status();
    case ObjectKind::kCapability:
      if (id == kCapabilityRunCode || id == kCapabilityConfigureKubernetes) return Status::Ok();
      return InvalidArgument("Unknown capability '" + id.substr(0, 64) + "'. Capabilities: " +
                             kCapabilityRunCode + ", " + kCapabilityConfigureKubernetes + ".");
  }
  return Status::Ok();
}

void RegisterGrantRoutes(Router& router, const RouteContext& ctx) {
  AuthService* auth = ctx.auth;
  const std::string base = "/api/2.0/tamga/permissions";
  auto subject_of = [](const RequestFields& f) -> Result<AuthService::Subject> {
    TAMGA_ASSIGN_OR_RETURN(auto user, f.OptString("user"));
    TAMGA_ASSIGN_OR_RETURN(auto team, f.OptString("team"));
    if (user.has_value() == team.has_value())
      return InvalidArgument("Name exactly one of 'user' and 'team'.");
    return AuthService::Subject{team.has_value(), team ? *team : *user};
  };
  router.Add(HttpMethod::kPut, base,
             FieldsHandler([auth, ctx, subject_of](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string kind_name, f.RequiredString("object_kind"));
               TAMGA_ASSIGN_OR_RETURN(ObjectKind kind, ParseObjectKind(kind_name));
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("object_id"));
               TAMGA_ASSIGN_OR_RETURN(auto subject, subject_of(f));
               TAMGA_ASSIGN_OR_RETURN(std::string perm, f.RequiredString("permission"));
               TAMGA_ASSIGN_OR_RETURN(Permission p, ParsePermission(perm));
               TAMGA_RETURN_IF_ERROR(CheckGrantObject(ctx, kind, id));
               TAMGA_RETURN_IF_ERROR(auth->SetGrant(kind, id, subject, p));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kDelete, base,
             FieldsHandler([auth, subject_of](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string kind_name, f.RequiredString("object_kind"));
               TAMGA_ASSIGN_OR_RETURN(ObjectKind kind, ParseObjectKind(kind_name));
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("object_id"));
               TAMGA_ASSIGN_OR_RETURN(auto subject, subject_of(f));
               TAMGA_RETURN_IF_ERROR(auth->RemoveGrant(kind, id, subject));
               respond(HttpResponse::Json("{}"));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kGet, base,
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string kind_name, f.RequiredString("object_kind"));
               TAMGA_ASSIGN_OR_RETURN(ObjectKind kind, ParseObjectKind(kind_name));
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("object_id"));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("permissions");
               w.BeginArray();
               for (const auto& g : auth->GrantsOn(kind, id)) {
                 w.BeginObject();
                 w.Field(g.subject_kind == "team" ? "team" : "user", g.subject);
                 w.Field("permission", g.permission);
                 w.EndObject();
               }
               w.EndArray();
               w.Field("default_permission", PermissionName(auth->default_permission()));
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  const std::string teams = "/api/2.0/tamga/teams";
  router.Add(HttpMethod::kPut, teams + "/members",
             RequestFieldsHandler(
                 [auth](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(std::string team, f.RequiredString("team"));
                   TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
                   TAMGA_ASSIGN_OR_RETURN(auto role, f.OptString("role"));
                   if (!auth->MayManageTeam(*http.principal, team)) {
                     return PermissionDenied(
                         "Permission denied: only an admin or a maintainer of the team changes its members.");
                   }
                   if (role.value_or("member") == "maintainer" && !http.principal->is_admin) {
                     // Maintainers add members; making maintainers is for admins.
                     return PermissionDenied("Permission denied: only an admin makes team maintainers.");
                   }
                   TAMGA_RETURN_IF_ERROR(auth->SetTeamMember(team, username, role.value_or("member")));
                   respond(HttpResponse::Json("{}"));
                   return Status::Ok();
                 }));
  router.Add(HttpMethod::kDelete, teams + "/members",
             RequestFieldsHandler(
                 [auth](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(std::string team, f.RequiredString("team"));
                   TAMGA_ASSIGN_OR_RETURN(std::string username, f.RequiredString("username"));
                   if (!auth->MayManageTeam(*http.principal, team)) {
                     return PermissionDenied(
                         "Permission denied: only an admin or a maintainer of the team changes its members.");
                   }
                   TAMGA_RETURN_IF_ERROR(auth->RemoveTeamMember(team, username));
                   respond(HttpResponse::Json("{}"));
                   return Status::Ok();
                 }));
  router.Add(HttpMethod::kGet, teams,
             FieldsHandler([auth](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto team, f.OptString("team"));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("members");
               w.BeginArray();
               for (const auto& m : auth->TeamMembers(team.value_or(""))) {
                 w.BeginObject();
                 w.Field("team", m.team);
                 w.Field("username", m.username);
                 w.Field("role", m.role);
                 w.EndObject();
               }
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));
}

}  // namespace

void RegisterAuthRoutes(Router& router, const RouteContext& ctx) {
  if (ctx.auth == nullptr) return;
  RegisterUserRoutes(router, ctx.auth);
  RegisterPermissionRoutes(router, ctx, ObjectKind::kExperiment);
  RegisterPermissionRoutes(router, ctx, ObjectKind::kRegisteredModel);
  RegisterTokenRoutes(router, ctx.auth, ctx.clock);
  RegisterAuditRoute(router, ctx.auth);
  RegisterGrantRoutes(router, ctx);
  // Every route with its rule: what an operator reads to know who may call what, and what the
  // authorization matrix test checks for completeness. Registered last; reads the finished router.
  const Router* all = &router;
  router.Add(HttpMethod::kGet, "/api/2.0/tamga/routes", [all](HttpRequest&, Responder respond) {
    std::map<std::pair<HttpMethod, std::string>, const AccessRule*> rules;
    for (const auto& row : AccessRules()) rules[{row.method, row.route}] = &row.rule;
    static const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Key("routes");
    w.BeginArray();
    for (const auto& [method, route] : all->Routes()) {
      if (route.rfind("/ajax-api/", 0) == 0) continue;  // aliases of /api/ routes, same rule
      w.BeginObject();
      w.Field("method", kMethods[static_cast<int>(method)]);
      w.Field("route", route);
      auto it = rules.find({method, route});
      if (it != rules.end()) {
        w.Field("rule", AccessRuleKindName(it->second->kind));
        w.Field("permission", PermissionName(it->second->need));
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
  });
}

}  // namespace tamga
