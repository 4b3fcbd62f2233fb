// MLflow 3.x logged models (/api/2.0/mlflow/logged-models[...]) and runs/outputs.
//   POST   logged-models                         create (PENDING)
//   POST   logged-models/search                  search
//   GET    logged-models/{id}                    get
//   PATCH  logged-models/{id}                    finalize {status}
//   DELETE logged-models/{id}                    soft delete
//   PATCH  logged-models/{id}/tags               set tags
//   DELETE logged-models/{id}/tags/{key}         delete a tag
//   POST   logged-models/{id}/params             log params
//   GET    logged-models/{id}/artifacts/directories?artifact_directory_path=   list files
//   GET    logged-models/{id}/artifacts/files?artifact_file_path=              download a file
//   POST   runs/outputs                          link models to the run that produced them
#include "artifacts/artifact_path.h"
#include "core/utf8.h"
#include "http/registry_json.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

HttpResponse ModelResponse(const LoggedModel& m) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("model");
  WriteLoggedModel(w, m);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

std::function<void(Result<LoggedModel>)> RespondModel(Responder respond) {
  return [respond = std::move(respond)](Result<LoggedModel> m) {
    respond(m.ok() ? ModelResponse(*m) : ErrorResponse(m.status()));
  };
}

// The remainder after ".../logged-models/": "<id>" plus an optional "/<sub>" (sub may contain '/').
struct ModelPath {
  std::string id;
  std::string sub;
};

ModelPath SplitModelPath(const HttpRequest& req) {
  std::string rest = req.path_params.empty() ? "" : req.path_params[0];
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

Status UnknownRoute(const HttpRequest& req) {
  return NotFound("No logged-models route for " + std::string(Utf8Prefix(req.path, 200)));
}

Result<std::string> ModelArtifactBase(LoggedModelService* models, const std::string& id) {
  TAMGA_ASSIGN_OR_RETURN(LoggedModel m, models->Get(id));
  auto base = ProxiedArtifactPath(m.artifact_uri);
  if (!base) return NotFound("The files of logged model " + id + " are not stored by this server");
  return *base;
}

}  // namespace

void RegisterLoggedModelRoutes(Router& router, const RouteContext& ctx) {
  LoggedModelService* models = ctx.logged_models;
  BlobStore* blobs = ctx.blobs;
  const std::string base = std::string(kMlflowApi) + "/logged-models";

  router.Add(HttpMethod::kPost, base,
             FieldsHandler([models](const RequestFields& f, Responder respond) -> Status {
               CreateLoggedModelRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.experiment_id, f.RequiredString("experiment_id"));
               TAMGA_ASSIGN_OR_RETURN(req.name, f.OptString("name"));
               TAMGA_ASSIGN_OR_RETURN(req.model_type, f.OptString("model_type"));
               TAMGA_ASSIGN_OR_RETURN(req.source_run_id, f.OptString("source_run_id"));
               TAMGA_ASSIGN_OR_RETURN(req.params, ParseKeyValueList(f, "params"));
               TAMGA_ASSIGN_OR_RETURN(req.tags, ParseKeyValueList(f, "tags"));
               models->Create(std::move(req), RespondModel(std::move(respond)));
               return Status::Ok();
             }));

  router.Add(
      HttpMethod::kPost, base + "/search",
      FieldsHandler([models](const RequestFields& f, Responder respond) -> Status {
        LoggedModelSearchRequest req;
        TAMGA_ASSIGN_OR_RETURN(req.experiment_ids, f.StringList("experiment_ids"));
        TAMGA_ASSIGN_OR_RETURN(auto filter, f.OptString("filter"));
        req.filter = filter.value_or("");
        TAMGA_ASSIGN_OR_RETURN(auto datasets, f.ObjectList("datasets"));
        req.has_datasets = !datasets.empty();
        TAMGA_ASSIGN_OR_RETURN(auto order, f.ObjectList("order_by"));
        for (const auto& o : order) {
          LoggedModelOrder lo;
          TAMGA_ASSIGN_OR_RETURN(lo.field_name, o.RequiredString("field_name"));
          TAMGA_ASSIGN_OR_RETURN(auto asc, o.OptBool("ascending"));
          lo.ascending = asc.value_or(true);
          if (o.Has("dataset_name") || o.Has("dataset_digest")) {
            return InvalidArgument("Ordering logged models by dataset-scoped metrics is not supported");
          }
          req.order_by.push_back(std::move(lo));
        }
        TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
        req.max_results = max.value_or(50);
        TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
        req.page_token = token.value_or("");
        TAMGA_ASSIGN_OR_RETURN(auto page, models->Search(req));
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        w.Key("models");
        w.BeginArray();
        for (const auto& m : page.models) WriteLoggedModel(w, m);
        w.EndArray();
        if (!page.next_page_token.empty()) w.Field("next_page_token", page.next_page_token);
        w.EndObject();
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      }));

  router.AddPrefix(HttpMethod::kGet, base + "/", [models, blobs](HttpRequest& req, Responder respond) {
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    ModelPath p = SplitModelPath(req);
    auto run = [&]() -> Status {
      if (p.sub.empty()) {
        TAMGA_ASSIGN_OR_RETURN(LoggedModel m, models->Get(p.id));
        respond(ModelResponse(m));
        return Status::Ok();
      }
      if (p.sub == "artifacts/directories") {
        TAMGA_ASSIGN_OR_RETURN(auto raw, fields->OptString("artifact_directory_path"));
        TAMGA_ASSIGN_OR_RETURN(std::string rel, ValidateArtifactPath(raw.value_or(""), true));
        TAMGA_ASSIGN_OR_RETURN(std::string root, ModelArtifactBase(models, p.id));
        std::string dir = rel.empty() ? root : root + "/" + rel;
        TAMGA_ASSIGN_OR_RETURN(std::string body,
                               ArtifactListJson(blobs, dir, rel.empty() ? "" : rel + "/", nullptr));
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      }
      if (p.sub == "artifacts/files") {
        TAMGA_ASSIGN_OR_RETURN(std::string raw, fields->RequiredString("artifact_file_path"));
        TAMGA_ASSIGN_OR_RETURN(std::string rel, ValidateArtifactPath(raw, false));
        TAMGA_ASSIGN_OR_RETURN(std::string root, ModelArtifactBase(models, p.id));
        respond(ArtifactDownload(blobs, root + "/" + rel));
        return Status::Ok();
      }
      return UnknownRoute(req);
    };
    Status s = run();
    if (!s.ok()) respond(ErrorResponse(s));
  });

  router.AddPrefix(HttpMethod::kPatch, base + "/", [models](HttpRequest& req, Responder respond) {
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    ModelPath p = SplitModelPath(req);
    auto run = [&]() -> Status {
      if (p.sub.empty()) {
        TAMGA_ASSIGN_OR_RETURN(std::string raw, fields->RequiredString("status"));
        TAMGA_ASSIGN_OR_RETURN(LoggedModelStatus status, ParseLoggedModelStatus(raw));
        models->Finalize(p.id, status, RespondModel(respond));
        return Status::Ok();
      }
      if (p.sub == "tags") {
        TAMGA_ASSIGN_OR_RETURN(auto tags, ParseKeyValueList(*fields, "tags"));
        models->SetTags(p.id, std::move(tags), EmptyOk(respond));
        return Status::Ok();
      }
      return UnknownRoute(req);
    };
    Status s = run();
    if (!s.ok()) respond(ErrorResponse(s));
  });

  router.AddPrefix(HttpMethod::kDelete, base + "/", [models](HttpRequest& req, Responder respond) {
    ModelPath p = SplitModelPath(req);
    if (p.sub.empty()) return models->Delete(p.id, EmptyOk(std::move(respond)));
    if (p.sub.rfind("tags/", 0) == 0) {
      auto key = PercentDecode(p.sub.substr(5), false);
      if (!key) return respond(ErrorResponse(InvalidArgument("Invalid tag key in the path")));
      return models->DeleteTag(p.id, *key, EmptyOk(std::move(respond)));
    }
    respond(ErrorResponse(UnknownRoute(req)));
  });

  router.AddPrefix(HttpMethod::kPost, base + "/", [models](HttpRequest& req, Responder respond) {
    ModelPath p = SplitModelPath(req);
    if (p.sub != "params") return respond(ErrorResponse(UnknownRoute(req)));
    auto fields = RequestFields::From(req);
    if (!fields.ok()) return respond(ErrorResponse(fields.status()));
    auto params = ParseKeyValueList(*fields, "params");
    if (!params.ok()) return respond(ErrorResponse(params.status()));
    models->LogParams(p.id, std::move(*params), EmptyOk(std::move(respond)));
  });

  router.Add(HttpMethod::kPost, std::string(kMlflowApi) + "/runs/outputs",
             FieldsHandler([models](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(auto list, f.ObjectList("models"));
               std::vector<RunOutput> outputs;
               for (const auto& o : list) {
                 RunOutput out;
                 TAMGA_ASSIGN_OR_RETURN(out.model_id, o.RequiredString("model_id"));
                 TAMGA_ASSIGN_OR_RETURN(auto step, o.OptInt("step"));
                 out.step = step.value_or(0);
                 outputs.push_back(std::move(out));
               }
               models->LogOutputs(run_id, std::move(outputs), EmptyOk(std::move(respond)));
               return Status::Ok();
             }));
}

}  // namespace tamga
