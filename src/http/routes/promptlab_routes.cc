// runs/create-promptlab-run: MLflow UI's prompt-engineering runs. One request makes a finished run with
// the model parameters, route and template as params, MLflow's two marker tags, and the evaluation table
// (eval_results_table.json) as an artifact. The "promptlab" model files MLflow also writes are not: they
// load only with MLflow's gateway package (docs/mlflow-compatibility.md).
#include <memory>

#include "artifacts/artifact_path.h"
#include "core/json_writer.h"
#include "http/routes/route_context.h"

namespace tamga {
namespace {

struct PromptlabRequest {
  CreateRunRequest run;
  std::vector<KeyValue> prompt_parameters;
  std::vector<KeyValue> model_parameters;
  std::vector<KeyValue> model_output_parameters;
  std::string prompt_template;
  std::string model_route;
  std::string model_input;
  std::optional<std::string> model_output;
};

// MLflow's assert_arg_exists: a falsy value ("" , [], null, 0) counts as missing.
Status RequireArg(const RequestFields& f, const char* key) {
  const auto& raw = f.raw();
  auto it = raw.find(key);
  bool missing = it == raw.end() || it->is_null() ||
                 (it->is_string() && it->get_ref<const std::string&>().empty()) ||
                 (it->is_array() && it->empty()) || (it->is_object() && it->empty()) ||
                 (it->is_boolean() && !it->get<bool>()) || (it->is_number() && it->get<double>() == 0);
  if (missing) return InvalidArgument(std::string("CreatePromptlabRun request must specify ") + key + ".");
  return Status::Ok();
}

// A list of {key, value}; values of any JSON type are kept as text (MLflow str()s them).
Result<std::vector<KeyValue>> ParamList(const RequestFields& f, const char* key) {
  std::vector<KeyValue> out;
  TAMGA_ASSIGN_OR_RETURN(auto list, f.ObjectList(key));
  for (const auto& item : list) {
    TAMGA_ASSIGN_OR_RETURN(std::string k, item.RequiredString("key"));
    auto it = item.raw().find("value");
    std::string v;
    if (it != item.raw().end() && !it->is_null())
      v = it->is_string() ? it->get<std::string>() : PythonStr(*it);
    out.push_back({std::move(k), std::move(v)});
  }
  return out;
}

Result<PromptlabRequest> ParsePromptlab(const RequestFields& f) {
  PromptlabRequest req;
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "experiment_id"));
  TAMGA_ASSIGN_OR_RETURN(req.run.experiment_id, f.RequiredString("experiment_id"));
  TAMGA_ASSIGN_OR_RETURN(auto run_name, f.OptString("run_name"));
  req.run.run_name = run_name.value_or("");
  TAMGA_ASSIGN_OR_RETURN(req.run.tags, ParseTagList(f));
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "prompt_template"));
  TAMGA_ASSIGN_OR_RETURN(req.prompt_template, f.RequiredString("prompt_template"));
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "prompt_parameters"));
  TAMGA_ASSIGN_OR_RETURN(req.prompt_parameters, ParamList(f, "prompt_parameters"));
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "model_route"));
  TAMGA_ASSIGN_OR_RETURN(req.model_route, f.RequiredString("model_route"));
  TAMGA_ASSIGN_OR_RETURN(req.model_parameters, ParamList(f, "model_parameters"));
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "model_input"));
  TAMGA_ASSIGN_OR_RETURN(req.model_input, f.RequiredString("model_input"));
  TAMGA_ASSIGN_OR_RETURN(req.model_output, f.OptString("model_output"));
  TAMGA_ASSIGN_OR_RETURN(req.model_output_parameters, ParamList(f, "model_output_parameters"));
  TAMGA_RETURN_IF_ERROR(RequireArg(f, "mlflow_version"));
  TAMGA_ASSIGN_OR_RETURN(auto user, f.OptString("user_id"));
  req.run.user_id = user.value_or("unknown");
  TAMGA_ASSIGN_OR_RETURN(req.run.start_time, f.OptInt("start_time"));
  return req;
}

// {"columns": [prompt params..., "prompt", "output", output params...], "data": [[values...]]}
std::string EvalResultsJson(const PromptlabRequest& req) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("columns");
  w.BeginArray();
  for (const auto& p : req.prompt_parameters) w.String(p.key);
  w.String("prompt");
  w.String("output");
  for (const auto& p : req.model_output_parameters) w.String(p.key);
  w.EndArray();
  w.Key("data");
  w.BeginArray();
  w.BeginArray();
  for (const auto& p : req.prompt_parameters) w.String(p.value);
  w.String(req.model_input);
  if (req.model_output) {
    w.String(*req.model_output);
  } else {
    w.Null();
  }
  for (const auto& p : req.model_output_parameters) w.String(p.value);
  w.EndArray();
  w.EndArray();
  w.EndObject();
  return body;
}

Status WriteEvalTable(BlobStore* blobs, const RunInfo& info, const std::string& json) {
  auto base = ProxiedArtifactPath(info.artifact_uri);
  if (!base) return InvalidArgument("Run artifacts are not stored by this server");
  TAMGA_ASSIGN_OR_RETURN(auto writer, blobs->OpenWriter(*base + "/eval_results_table.json"));
  TAMGA_RETURN_IF_ERROR(writer->Append(json));
  return writer->Commit();
}

}  // namespace

void RegisterPromptlabRoutes(Router& router, const RouteContext& ctx) {
  TrackingService* t = ctx.tracking;
  BlobStore* blobs = ctx.blobs;
  router.Add(HttpMethod::kPost, std::string(kMlflowApi) + "/runs/create-promptlab-run",
             FieldsHandler([t, blobs](const RequestFields& f, Responder respond) -> Status {
               TAMGA_ASSIGN_OR_RETURN(PromptlabRequest parsed, ParsePromptlab(f));
               auto req = std::make_shared<PromptlabRequest>(std::move(parsed));
               t->CreateRun(req->run, [t, blobs, req, respond](Result<Run> run) {
                 if (!run.ok()) return respond(ErrorResponse(run.status()));
                 std::string run_id = run->info.run_id;
                 RunInfo info = run->info;
                 // Whatever happens after the run exists, it ends FINISHED or FAILED, as MLflow's does.
                 auto finish = [t, req, respond, run_id](bool ok) {
                   UpdateRunRequest update;
                   update.run_id = run_id;
                   update.status = ok ? RunStatus::kFinished : RunStatus::kFailed;
                   update.end_time = t->clock()->NowMillis();
                   t->UpdateRun(update, [t, respond, run_id](Result<RunInfo> updated) {
                     if (!updated.ok()) return respond(ErrorResponse(updated.status()));
                     auto full = t->GetRun(run_id);
                     respond(full.ok() ? RunResponse(*full) : ErrorResponse(full.status()));
                   });
                 };
                 LogBatchRequest batch;
                 batch.run_id = run_id;
                 batch.params = req->model_parameters;
                 batch.params.push_back({"model_route", req->model_route});
                 batch.params.push_back({"prompt_template", req->prompt_template});
                 batch.tags.push_back(
                     {"mlflow.loggedArtifacts", R"([{"path": "eval_results_table.json", "type": "table"}])"});
                 batch.tags.push_back({"mlflow.runSourceType", "PROMPT_ENGINEERING"});
                 t->LogBatch(std::move(batch), [blobs, req, info, finish](Status s) {
                   if (s.ok()) s = WriteEvalTable(blobs, info, EvalResultsJson(*req));
                   finish(s.ok());
                 });
               });
               return Status::Ok();
             }));
}

}  // namespace tamga
