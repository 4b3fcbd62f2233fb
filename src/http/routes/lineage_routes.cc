// Lineage (/api/2.0/tamga/lineage?uri=...; docs/data.md): a model's data, code, environment and job, or a
// dataset version's runs and model versions. With auth on, parts the caller may not read are listed without
// their details ("hidden": true).
#include "http/mlflow_json.h"
#include "http/registry_json.h"
#include "http/routes/route_context.h"
#include "jobs/job_wire.h"
#include "lineage/lineage_service.h"

namespace tamga {
namespace {

bool Can(const RouteContext& ctx, const HttpRequest& req, ObjectKind kind, const std::string& id) {
  if (ctx.auth == nullptr || !req.principal || req.principal->is_admin) return true;
  return Allows(ctx.auth->Effective(*req.principal, kind, id), Permission::kRead);
}

void WriteMap(JsonWriter& w, const char* key, const std::map<std::string, std::string>& m) {
  w.Key(key);
  w.BeginObject();
  for (const auto& [k, v] : m) w.Field(k, v);
  w.EndObject();
}

void WriteDatasets(JsonWriter& w, const RouteContext& ctx, const HttpRequest& req,
                   const std::vector<LineageDataset>& list) {
  w.Key("datasets");
  w.BeginArray();
  for (const auto& d : list) {
    w.BeginObject();
    w.Field("name", d.name);
    if (d.version > 0) {
      w.FieldInt("version", d.version);
      w.Field("uri", DatasetService::TamgaUri(d.name, d.version));
      if (!Can(ctx, req, ObjectKind::kDataset, d.name)) {
        w.FieldBool("hidden", true);
        w.EndObject();
        continue;
      }
      w.Field("manifest", d.manifest);
      w.FieldInt("file_count", d.files);
      w.FieldInt("total_size", d.size);
    }
    w.FieldBool("tamga", d.version > 0);
    if (!d.context.empty()) w.Field("context", d.context);
    if (!d.digest.empty()) w.Field("digest", d.digest);
    if (!d.source.empty()) w.Field("source", d.source);
    w.EndObject();
  }
  w.EndArray();
}

Result<std::string> ModelAnswer(const RouteContext& ctx, const HttpRequest& req, const ModelLineage& l) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (l.model_version) {
    w.Key("model_version");
    WriteModelVersion(w, *l.model_version);
  }
  if (l.run) {
    bool readable = Can(ctx, req, ObjectKind::kExperiment, l.run->info.experiment_id);
    w.Key("run");
    if (readable) {
      WriteRun(w, *l.run);
    } else {
      w.BeginObject();
      w.Field("run_id", l.run->info.run_id);
      w.FieldBool("hidden", true);
      w.EndObject();
    }
    w.Key("parent_runs");
    w.BeginArray();
    for (const auto& p : l.parent_runs) {
      if (Can(ctx, req, ObjectKind::kExperiment, p.experiment_id)) WriteRunInfo(w, p);
    }
    w.EndArray();
    if (readable) {
      WriteDatasets(w, ctx, req, l.datasets);
      WriteMap(w, "code", l.code);
      WriteMap(w, "environment", l.environment);
      if (l.job) {
        w.Key("job");
        w.Raw(JobJson(*l.job));
      }
    }
  }
  w.EndObject();
  return body;
}

Result<std::string> DatasetAnswer(const RouteContext& ctx, const HttpRequest& req, const DatasetLineage& l) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("dataset_version");
  w.BeginObject();
  w.Field("name", l.dataset.name);
  w.FieldInt("version", l.version.version);
  w.Field("uri", DatasetService::TamgaUri(l.dataset.name, l.version.version));
  w.Field("manifest", l.version.manifest);
  w.FieldInt("file_count", l.version.file_count);
  w.FieldInt("total_size", l.version.total_size);
  w.FieldInt("creation_timestamp", l.version.created_ms);
  w.EndObject();
  w.Key("runs");
  w.BeginArray();
  for (const auto& u : l.runs) {
    if (ctx.auth != nullptr && req.principal && !req.principal->is_admin) {
      auto info = ctx.store->GetRunInfo(u.run_id);
      if (!info.ok() || !Can(ctx, req, ObjectKind::kExperiment, info->experiment_id)) continue;
    }
    w.BeginObject();
    w.Field("run_id", u.run_id);
    if (!u.context.empty()) w.Field("context", u.context);
    w.FieldInt("timestamp", u.created_ms);
    w.EndObject();
  }
  w.EndArray();
  w.Key("model_versions");
  w.BeginArray();
  for (const auto& mv : l.model_versions) {
    if (!Can(ctx, req, ObjectKind::kRegisteredModel, mv.name)) continue;
    WriteModelVersion(w, mv);
  }
  w.EndArray();
  w.EndObject();
  return body;
}

}  // namespace

void RegisterLineageRoutes(Router& router, const RouteContext& ctx) {
  if (ctx.lineage == nullptr) return;
  router.Add(HttpMethod::kGet, "/api/2.0/tamga/lineage", [ctx](HttpRequest& req, Responder respond) {
    auto run = [&]() -> Result<std::string> {
      TAMGA_ASSIGN_OR_RETURN(auto f, RequestFields::FromQueryString(req.query));
      TAMGA_ASSIGN_OR_RETURN(std::string uri, f.RequiredString("uri"));
      if (LineageService::IsDatasetUri(uri)) {
        TAMGA_ASSIGN_OR_RETURN(auto l, ctx.lineage->OfDataset(uri));
        return DatasetAnswer(ctx, req, l);
      }
      TAMGA_ASSIGN_OR_RETURN(auto l, ctx.lineage->OfModel(uri));
      return ModelAnswer(ctx, req, l);
    };
    auto body = run();
    respond(body.ok() ? HttpResponse::Json(std::move(*body)) : ErrorResponse(body.status()));
  });
}

}  // namespace tamga
