// /api/2.0/mlflow/model-versions/*
#include "http/registry_json.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

DoneWithFn<ModelVersion> RespondVersion(Responder respond) {
  return [respond = std::move(respond)](Result<ModelVersion> v) {
    respond(v.ok() ? ModelVersionResponse(*v) : ErrorResponse(v.status()));
  };
}

}  // namespace

void RegisterModelVersionRoutes(Router& router, const RouteContext& ctx) {
  RegistryService* r = ctx.registry;
  const std::string base = std::string(kMlflowApi) + "/model-versions/";

  router.Add(HttpMethod::kPost, base + "create",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               CreateModelVersionRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(req.source, f.RequiredString("source"));
               TAMGA_ASSIGN_OR_RETURN(req.run_id, f.OptString("run_id"));
               TAMGA_ASSIGN_OR_RETURN(req.tags, ParseTagList(f));
               // Absent strings are stored as "", as MLflow stores its protobuf defaults (3.x clients read
               // an absent description as None).
               TAMGA_ASSIGN_OR_RETURN(auto run_link, f.OptString("run_link"));
               req.run_link = run_link.value_or("");
               TAMGA_ASSIGN_OR_RETURN(auto description, f.OptString("description"));
               req.description = description.value_or("");
               TAMGA_ASSIGN_OR_RETURN(req.model_id, f.OptString("model_id"));
               if (req.model_id && req.model_id->empty()) req.model_id.reset();
               r->CreateModelVersion(std::move(req), RespondVersion(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(auto v, r->GetModelVersion(name, version));
               respond(ModelVersionResponse(v));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPatch, base + "update",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(auto description, f.OptString("description"));
               r->UpdateModelVersion(name, version, std::move(description),
                                     RespondVersion(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "transition-stage",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(std::string stage, f.RequiredString("stage"));
               TAMGA_ASSIGN_OR_RETURN(auto archive, f.OptBool("archive_existing_versions"));
               r->TransitionStage(name, version, stage, archive.value_or(false),
                                  RespondVersion(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kDelete, base + "delete",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               r->DeleteModelVersion(name, version, EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "search",
             RequestFieldsHandler([r, ctx](const HttpRequest& http, const RequestFields& f,
                                           Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto req, ParseRegistrySearch(f, 10000));
               req.scope = ModelScope(ctx, http);
               TAMGA_ASSIGN_OR_RETURN(auto result, r->SearchModelVersions(req));
               respond(ModelVersionListResponse("model_versions", result.versions, result.next_page_token));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "get-download-uri",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(std::string uri, r->GetDownloadUri(name, version));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Field("artifact_uri", uri);
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "set-tag",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
               r->SetModelVersionTag(name, version, {key, value.value_or("")}, EmptyOk(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kDelete, base + "delete-tag",
             FieldsHandler([r](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
               TAMGA_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               r->DeleteModelVersionTag(name, version, std::move(key), EmptyOk(std::move(respond)));
               return Status::Ok();
             }));
}

}  // namespace tamga
