// /api/2.0/mlflow/runs/* except metric logging (metric_routes.cc).
#include "core/json_parse.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/mlflow_json.h"
#include "http/routes/route_context.h"

namespace tamga {

Result<std::string> RunIdOf(const RequestFields& f) {
  TAMGA_ASSIGN_OR_RETURN(auto id, f.OptString("run_id"));
  if (id && !id->empty()) return *id;
  TAMGA_ASSIGN_OR_RETURN(auto uuid, f.OptString("run_uuid"));
  if (uuid && !uuid->empty()) return *uuid;
  return MissingParam("run_id");
}

HttpResponse RunResponse(const Run& run) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("run");
  WriteRun(w, run);
  w.EndObject();
  return HttpResponse::Json(std::move(body));
}

namespace {

Result<DatasetInput> ParseDatasetInput(const RequestFields& f) {
  DatasetInput in;
  TAMGA_ASSIGN_OR_RETURN(in.tags, ParseTagList(f));
  TAMGA_ASSIGN_OR_RETURN(auto ds, f.OptObject("dataset"));
  if (!ds) return MissingParam("datasets.dataset");
  auto str = [&](const char* key, std::string* out) -> Status {
    auto v = ds->OptString(key);
    if (!v.ok()) return v.status();
    *out = v->value_or("");
    return Status::Ok();
  };
  TAMGA_RETURN_IF_ERROR(str("name", &in.dataset.name));
  TAMGA_RETURN_IF_ERROR(str("digest", &in.dataset.digest));
  TAMGA_RETURN_IF_ERROR(str("source_type", &in.dataset.source_type));
  TAMGA_RETURN_IF_ERROR(str("source", &in.dataset.source));
  TAMGA_RETURN_IF_ERROR(str("schema", &in.dataset.schema));
  TAMGA_RETURN_IF_ERROR(str("profile", &in.dataset.profile));
  return in;
}

}  // namespace

void RegisterRunRoutes(Router& router, const RouteContext& ctx) {
  TrackingService* t = ctx.tracking;
  const std::string base = std::string(kMlflowApi) + "/runs/";

  router.Add(HttpMethod::kPost, base + "create",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               CreateRunRequest req;
               TAMGA_ASSIGN_OR_RETURN(auto exp, f.OptString("experiment_id"));
               req.experiment_id = exp.value_or("0");
               TAMGA_ASSIGN_OR_RETURN(auto user, f.OptString("user_id"));
               req.user_id = user.value_or("");
               TAMGA_ASSIGN_OR_RETURN(auto name, f.OptString("run_name"));
               req.run_name = name.value_or("");
               TAMGA_ASSIGN_OR_RETURN(req.start_time, f.OptInt("start_time"));
               TAMGA_ASSIGN_OR_RETURN(req.tags, ParseTagList(f));
               t->CreateRun(std::move(req), [respond](Result<Run> run) {
                 if (!run.ok()) return respond(ErrorResponse(run.status()));
                 // runs/create answers without "inputs" (as MLflow does).
                 std::string body;
                 JsonWriter w(&body);
                 w.BeginObject();
                 w.Key("run");
                 w.BeginObject();
                 w.Key("info");
                 WriteRunInfo(w, run->info);
                 w.Key("data");
                 w.BeginObject();
                 WriteKeyValueList(w, "tags", run->tags);
                 w.EndObject();
                 w.EndObject();
                 w.EndObject();
                 respond(HttpResponse::Json(std::move(body)));
               });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "update",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               UpdateRunRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(auto status, f.OptString("status"));
               if (status) {
                 RunStatus st;
                 if (!ParseRunStatus(*status, &st)) {
                   return InvalidArgument("Invalid value \"" + status->substr(0, 100) +
                                          "\" for parameter 'status' supplied.");
                 }
                 req.status = st;
               }
               TAMGA_ASSIGN_OR_RETURN(req.end_time, f.OptInt("end_time"));
               TAMGA_ASSIGN_OR_RETURN(req.run_name, f.OptString("run_name"));
               t->UpdateRun(std::move(req), [respond](Result<RunInfo> info) {
                 if (!info.ok()) return respond(ErrorResponse(info.status()));
                 std::string body;
                 JsonWriter w(&body);
                 w.BeginObject();
                 w.Key("run_info");
                 WriteRunInfo(w, *info);
                 w.EndObject();
                 respond(HttpResponse::Json(std::move(body)));
               });
               return Status::Ok();
             }));

  router.Add(HttpMethod::kPost, base + "delete",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
               t->DeleteRun(id, EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "restore",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
               t->RestoreRun(id, EmptyOk(respond));
               return Status::Ok();
             }));

  router.Add(HttpMethod::kGet, base + "get",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(Run run, t->GetRun(id));
               respond(RunResponse(run));
               return Status::Ok();
             }));

  auto search = FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
    SearchRunsRequest req;
    TAMGA_ASSIGN_OR_RETURN(req.experiment_ids, f.StringList("experiment_ids"));
    TAMGA_ASSIGN_OR_RETURN(auto filter, f.OptString("filter"));
    req.filter = filter.value_or("");
    TAMGA_ASSIGN_OR_RETURN(req.view, ParseViewTypeField(f, "run_view_type"));
    TAMGA_ASSIGN_OR_RETURN(auto max, f.OptInt("max_results"));
    req.max_results = max.value_or(1000);
    TAMGA_ASSIGN_OR_RETURN(req.order_by, f.StringList("order_by"));
    TAMGA_ASSIGN_OR_RETURN(auto token, f.OptString("page_token"));
    req.page_token = token.value_or("");
    TAMGA_ASSIGN_OR_RETURN(RunsPage page, t->SearchRuns(req));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    if (!page.runs.empty()) {
      w.Key("runs");
      w.BeginArray();
      for (const auto& r : page.runs) WriteRun(w, r);
      w.EndArray();
    }
    if (!page.next_page_token.empty()) w.Field("next_page_token", page.next_page_token);
    w.EndObject();
    respond(HttpResponse::Json(std::move(body)));
    return Status::Ok();
  });
  router.Add(HttpMethod::kPost, base + "search", search);
  router.Add(HttpMethod::kGet, base + "search", search);

  router.Add(HttpMethod::kPost, base + "set-tag",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               LogBatchRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
               req.tags.push_back({key, value.value_or("")});
               t->LogBatch(std::move(req), EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "delete-tag",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               t->DeleteTag(id, key, EmptyOk(respond));
               return Status::Ok();
             }));
  router.Add(HttpMethod::kPost, base + "log-parameter",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               LogBatchRequest req;
               TAMGA_ASSIGN_OR_RETURN(req.run_id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
               TAMGA_ASSIGN_OR_RETURN(auto value, f.OptString("value"));
               req.params.push_back({key, value.value_or("")});
               t->LogBatch(std::move(req), EmptyOk(respond));
               return Status::Ok();
             }));
  // Inputs that name a Tamga dataset (tamga-data://NAME@REF in their source) are also recorded as the
  // dataset version's uses, for lineage (docs/data.md) — after the inputs themselves are stored.
  router.Add(
      HttpMethod::kPost, base + "log-inputs",
      RequestFieldsHandler([t, ctx, data = ctx.datasets](const HttpRequest& req, const RequestFields& f,
                                                         Responder respond) -> Status {
        TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
        if (!f.Has("datasets")) return MissingParam("datasets");
        TAMGA_ASSIGN_OR_RETURN(auto list, f.ObjectList("datasets"));
        std::vector<DatasetInput> inputs;
        for (const auto& d : list) {
          TAMGA_ASSIGN_OR_RETURN(DatasetInput in, ParseDatasetInput(d));
          inputs.push_back(std::move(in));
        }
        std::vector<DatasetInput> tamga_inputs;
        if (data != nullptr) {
          for (const auto& in : inputs)
            if (DatasetService::TamgaUriIn(in.dataset.source)) tamga_inputs.push_back(in);
        }
        if (tamga_inputs.empty()) {
          t->LogInputs(id, std::move(inputs), EmptyOk(respond));
          return Status::Ok();
        }
        std::function<bool(const std::string&)> may_read;
        if (ctx.auth != nullptr && req.principal && !req.principal->is_admin) {
          may_read = [auth = ctx.auth, who = req.principal](const std::string& name) {
            return Allows(auth->Effective(*who, ObjectKind::kDataset, name), Permission::kRead);
          };
        }
        t->LogInputs(id, std::move(inputs), [respond, data, id, tamga_inputs, may_read](Status s) {
          if (s.ok()) {
            auto r = data->RecordInputs(id, tamga_inputs, may_read);
            if (!r.ok())
              TAMGA_LOG(kWarn, "cannot record dataset uses",
                        {{"run_id", id}, {"error", r.status().message()}});
          }
          respond(s.ok() ? HttpResponse::Json("{}") : ErrorResponse(s));
        });
        return Status::Ok();
      }));
  router.Add(HttpMethod::kPost, base + "log-model",
             FieldsHandler([t](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(std::string id, RunIdOf(f));
               TAMGA_ASSIGN_OR_RETURN(std::string model_json, f.RequiredString("model_json"));
               auto parsed = RequestFields::FromJsonText(model_json);
               if (!parsed.ok())
                 return InvalidArgument("Malformed model info. \n" +
                                        std::string(Utf8Prefix(model_json, 200)) + "\nis not a valid JSON.");
               t->LogModel(id, DumpJson(parsed->raw()), EmptyOk(respond));
               return Status::Ok();
             }));
}

}  // namespace tamga
