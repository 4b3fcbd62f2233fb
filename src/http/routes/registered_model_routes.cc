// /api/2.0/mlflow/registered-models/*
#include "http/registry_json.h"
#include "http/routes/route_context.h"

namespace tamga {

HttpResponse RegisteredModelResponse(const RegisteredModel& m) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("registered_model");
  WriteRegisteredModel(w, m);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

HttpResponse ModelVersionResponse(const ModelVersion& v) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("model_version");
  WriteModelVersion(w, v);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

HttpResponse ModelVersionListResponse(const char* field, const std::vector<ModelVersion>& versions,
                                      const std::string& next_page_token) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (!versions.empty()) {
    w.Key(field);
    w.BeginArray();
    for (const auto& v : versions) WriteModelVersion(w, v);
    w.EndArray();
  }
  if (!next_page_token.empty()) w.Field("next_page_token", next_page_token);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

Result<RegistrySearchRequest> ParseRegistrySearch(const RequestFields& f, int64_t default_max) {
  RegistrySearchRequest req;
  TAMGA_ASSIGN_OR_RETURN(auto filter, f.OptString("filter"));
  req.filter = filter.value_or("");
  TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
  req.max_results = max.value_or(default_max);
  TAMGA_ASSIGN_OR_RETURN(req.order_by, f.StringList("order_by"));
  TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
  req.page_token = token.value_or("");
  return req;
}

DoneWithFn<RegisteredModel> RespondModel(Responder respond) {
  return [respond = std::move(respond)](Result<RegisteredModel> m) {
    respond(m.ok() ? RegisteredModelResponse(*m) : ErrorResponse(m.status()));
  };
}

void RegisterRegisteredModelRoutes(Router& router, const RouteContext& ctx) {
  RegistryService* r = ctx.registry;
  const std::string base = std::string(kMlflowApi) + "/registered-models/";

  router.Add(HttpMethod::kPost, base + "create",
             RequestFieldsHandler([r, ctx](const HttpRequest& http, const RequestFields& f,
                                           Responder respond) -> Status {
               CreateRegisteredModelRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(req.tags, ParseTagList(f));
               TAMGA_ASSIGN_OR_RETURN(req.description, f.OptString("description"));
               auto principal = http.principal;
               auto done = RespondModel(std::move(respond));
               r->CreateRegisteredModel(std::move(req), [done, ctx, principal](Result<RegisteredModel> m) {
                 if (m.ok() && ctx.auth && principal)
                   ctx.auth->GrantCreator(*principal, ObjectKind::kRegisteredModel, m->name);
                 done(std::move(m));
               });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto m, r->GetRegisteredModel(name));
               respond(RegisteredModelResponse(m));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "rename",
             FieldsHandler([r, ctx](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string new_name, f.RequiredString("new_name"));
               auto done = RespondModel(std::move(respond));
               AuthService* auth = ctx.auth;
               r->RenameRegisteredModel(name, new_name,
                                        [done, auth, name, new_name](Result<RegisteredModel> m) {
                                          if (m.ok() && auth)
                                            auth->RenameObject(ObjectKind::kRegisteredModel, name, new_name);
                                          done(std::move(m));
                                        });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPatch, base + "update",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(auto description, f.OptString("description"));
               r->UpdateRegisteredModel(name, std::move(description), RespondModel(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kDelete, base + "delete",
             FieldsHandler([r, ctx](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               AuthService* auth = ctx.auth;
               r->DeleteRegisteredModel(name, [respond, auth, name](Status s) {
                 if (s.ok() && auth) auth->ForgetObject(ObjectKind::kRegisteredModel, name);
                 respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
               });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "search",
             RequestFieldsHandler(
                 [r, ctx](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
                   TAMGA_ASSIGN_OR_RETURN(auto req, ParseRegistrySearch(f, 100));
                   req.scope = ModelScope(ctx, http);
                   TAMGA_ASSIGN_OR_RETURN(auto result, r->SearchRegisteredModels(req));
                   std::string body;
                   JsonWriter w(&body);
                   w.BeginObject();
                   if (!result.models.empty()) {
                     w.Key("registered_models");
                     w.BeginArray();
                     for (const auto& m : result.models) WriteRegisteredModel(w, m);
                     w.EndArray();
                   }
                   if (!result.next_page_token.empty()) w.Field("next_page_token", result.next_page_token);
                   w.EndObject();
                   respond(HttpResponse::Json(std::move(body)));
                   return Status::Ok();
                 }));

  auto latest = FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
    TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    TAMGA_ASSIGN_OR_RETURN(auto stages, f.StringList("stages"));
    TAMGA_ASSIGN_OR_RETURN(auto versions, r->GetLatestVersions(name, stages));
    respond(ModelVersionListResponse("model_versions", versions, ""));
    return Status::Ok();
  });
  router.Add(HttpMethod::kPost, base + "get-latest-versions", latest);
  router.Add(HttpMethod::kGet, base + "get-latest-versions", latest);

  router.Add(HttpMethod::kPost, base + "set-tag",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
               r->SetRegisteredModelTag(name, {key, value.value_or("")}, EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kDelete, base + "delete-tag",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               r->DeleteRegisteredModelTag(name, std::move(key), EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "alias",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               r->SetAlias(name, std::move(alias), version, EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kDelete, base + "alias",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
               r->DeleteAlias(name, std::move(alias), EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "alias",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
               TAMGA_ASSIGN_OR_RETURN(auto v, r->GetVersionByAlias(name, alias));
               respond(ModelVersionResponse(v));
               return Status::Ok();
             }));
}

}  // namespace tamga
