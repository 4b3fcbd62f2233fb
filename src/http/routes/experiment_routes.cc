// /api/2.0/mlflow/experiments/*
#include "http/mlflow_json.h"
#include "http/routes/route_context.h"

namespace tamga {

// Shared with run_routes.cc (declared in route_context.h).
Result<ViewType> ParseViewTypeField(const RequestFields& f, const char* key) {
  TAMGA_ASSIGN_OR_RETURN(auto v, f.OptString(key));
  if (!v || v->empty() || *v == "ACTIVE_ONLY" || *v == "1") return ViewType::kActiveOnly;
  if (*v == "DELETED_ONLY" || *v == "2") return ViewType::kDeletedOnly;
  if (*v == "ALL" || *v == "3") return ViewType::kAll;
  return InvalidArgument("Invalid value \"" + v->substr(0, 100) + "\" for parameter '" + key + "' supplied.");
}

Result<std::vector<KeyValue>> ParseKeyValueList(const RequestFields& f, const char* field) {
  std::vector<KeyValue> out;
  TAMGA_ASSIGN_OR_RETURN(auto list, f.ObjectList(field));
  for (const auto& t : list) {
    TAMGA_ASSIGN_OR_RETURN(std::string key, t.RequiredString("key"));
    TAMGA_ASSIGN_OR_RETURN(auto value, t.OptString("value"));
    out.push_back({key, value.value_or("")});
  }
  return out;
}

Result<std::vector<KeyValue>> ParseTagList(const RequestFields& f) { return ParseKeyValueList(f, "tags"); }

namespace {

HttpResponse ExperimentResponse(const Experiment& e) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("experiment");
  WriteExperiment(w, e);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

}  // namespace

void RegisterExperimentRoutes(Router& router, const RouteContext& ctx) {
  TrackingService* t = ctx.tracking;
  const std::string base = std::string(kMlflowApi) + "/experiments/";

  router.Add(HttpMethod::kPost, base + "create",
             RequestFieldsHandler(
                 [t, ctx](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
                   CreateExperimentRequest req;
                   TAMGA_ASSIGN_OR_RETURN(req.name, f.RequiredString("name"));
                   TAMGA_ASSIGN_OR_RETURN(auto loc, f.OptString("artifact_location"));
                   req.artifact_location = loc.value_or("");
                   TAMGA_ASSIGN_OR_RETURN(req.tags, ParseTagList(f));
                   auto principal = http.principal;
                   t->CreateExperiment(std::move(req), [respond, ctx, principal](Result<std::string> id) {
                     if (!id.ok()) return respond(ErrorResponse(id.status()));
                     if (ctx.auth && principal)
                       ctx.auth->GrantCreator(*principal, ObjectKind::kExperiment, *id);
                     std::string body;
                     JsonWriter w(&body);
                     w.BeginObject();
                     w.Field("experiment_id", *id);
                     w.EndObject();
                     respond(HttpResponse::Json(std::move(body)));
                   });
                   return Status::Ok();
                 }));

  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               TAMGA_ASSIGN_OR_RETURN(Experiment e, t->GetExperiment(id));
               respond(ExperimentResponse(e));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "get-by-name",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("experiment_name"));
               TAMGA_ASSIGN_OR_RETURN(Experiment e, t->GetExperimentByName(name));
               respond(ExperimentResponse(e));
               return Status::Ok();
             }));

  auto search = RequestFieldsHandler(
      [t, ctx](const HttpRequest& http, const RequestFields& f, Responder respond) -> Status {
        SearchExperimentsRequest req;
        req.visible = ExperimentFilter(ctx, http);
        TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
        req.max_results = max.value_or(1000);
        TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
        req.page_token = token.value_or("");
        TAMGA_ASSIGN_OR_RETURN(auto filter, f.OptString("filter"));
        req.filter = filter.value_or("");
        TAMGA_ASSIGN_OR_RETURN(req.order_by, f.StringList("order_by"));
        TAMGA_ASSIGN_OR_RETURN(req.view, ParseViewTypeField(f, "view_type"));
        TAMGA_ASSIGN_OR_RETURN(ExperimentPage page, t->SearchExperiments(req));
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        if (!page.experiments.empty()) {
          w.Key("experiments");
          w.BeginArray();
          for (const auto& e : page.experiments) WriteExperiment(w, e);
          w.EndArray();
        }
        if (!page.next_page_token.empty()) w.Field("next_page_token", page.next_page_token);
        w.EndObject();
        respond(HttpResponse::Json(std::move(body)));
        return Status::Ok();
      });
  router.Add(HttpMethod::kPost, base + "search", search);
  router.Add(HttpMethod::kGet, base + "search", search);

  router.Add(HttpMethod::kPost, base + "delete",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               t->DeleteExperiment(id, EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "restore",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               t->RestoreExperiment(id, EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "update",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               TAMGA_ASSIGN_OR_RETURN(std::string name, f.RequiredString("new_name"));
               t->RenameExperiment(id, name, EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "set-experiment-tag",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
               t->SetExperimentTag(id, {key, value.value_or("")}, EmptyOk(respond));
               return Status::Ok();
             }));
  // The UI's dataset list: distinct datasets the experiments' runs logged as inputs.
  router.Add(HttpMethod::kPost, base + "search-datasets",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(auto ids, f.StringList("experiment_ids"));
               TAMGA_ASSIGN_OR_RETURN(auto summaries, t->SearchDatasets(ids));
               std::string body;
               JsonWriter w(&body);
               w.BeginObject();
               w.Key("dataset_summaries");
               w.BeginArray();
               for (const auto& d : summaries) {
                 w.BeginObject();
                 w.Field("experiment_id", d.experiment_id);
                 w.Field("name", d.name);
                 w.Field("digest", d.digest);
                 w.Key("context");
                 if (d.context) {
                   w.String(*d.context);
                 } else {
                   w.Null();
                 }
                 w.EndObject();
               }
               w.EndArray();
               w.EndObject();
               respond(HttpResponse::Json(std::move(body)));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "delete-experiment-tag",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               t->DeleteExperimentTag(id, key, EmptyOk(respond));
               return Status::Ok();
             }));
}

}  // namespace tamga
