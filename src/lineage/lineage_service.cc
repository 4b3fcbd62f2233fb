#include "lineage/lineage_service.h"

#include <set>

namespace tamga {
namespace {

const std::string* TagOf(const Run& run, const std::string& key) {
  for (const auto& t : run.tags)
    if (t.key == key) return &t.value;
  return nullptr;
}

}  // namespace

bool LineageService::IsDatasetUri(const std::string& uri) {
  return uri.rfind("tamga-data://", 0) == 0 || (uri.rfind("models:/", 0) != 0 && uri.rfind("runs:/", 0) != 0);
}

std::vector<LineageDataset> LineageService::DatasetsOf(const Run& run) {
  std::vector<LineageDataset> out;
  std::set<std::pair<std::string, int64_t>> seen;
  auto add_version = [&](const std::string& name, int64_t version, const std::string& context,
                         const DatasetInput* in) {
    if (!seen.insert({name, version}).second) return;
    LineageDataset l;
    l.name = name;
    l.version = version;
    l.context = context;
    if (in) {
      l.digest = in->dataset.digest;
      l.source = in->dataset.source;
    }
    auto d = datasets_->Get(name);
    if (d.ok()) {
      auto v = datasets_->Resolve(*d, std::to_string(version));
      if (v.ok()) {
        l.manifest = v->manifest;
        l.files = v->file_count;
        l.size = v->total_size;
      }
    }
    out.push_back(std::move(l));
  };
  auto uses = datasets_->UsesByRun(run.info.run_id);
  if (uses.ok()) {
    for (const auto& u : *uses) {
      const DatasetInput* match = nullptr;
      for (const auto& in : run.inputs) {
        auto ref = DatasetService::TamgaUriIn(in.dataset.source);
        if (ref && ref->name == u.dataset) match = &in;
      }
      add_version(u.dataset, u.version, u.context, match);
    }
  }
  for (const auto& in : run.inputs) {  // MLflow inputs that are not (or no longer) Tamga datasets
    auto ref = DatasetService::TamgaUriIn(in.dataset.source);
    bool recorded = false;
    for (const auto& l : out) recorded = recorded || (ref && l.name == ref->name);
    if (recorded) continue;
    LineageDataset l;
    l.name = in.dataset.name;
    l.digest = in.dataset.digest;
    l.source = in.dataset.source;
    for (const auto& t : in.tags)
      if (t.key == "mlflow.data.context") l.context = t.value;
    out.push_back(std::move(l));
  }
  return out;
}

Result<ModelLineage> LineageService::OfModel(const std::string& uri) {
  ModelLineage l;
  std::string run_id;
  if (uri.rfind("runs:/", 0) == 0) {
    std::string rest = uri.substr(6);
    run_id = rest.substr(0, rest.find('/'));
    if (run_id.empty()) return InvalidArgument("Invalid URI '" + uri.substr(0, 200) + "': runs:/<run_id>");
  } else {
    TAMGA_ASSIGN_OR_RETURN(ResolvedModel m, registry_->Resolve(uri));
    l.model_version = m.version;
    run_id = m.run_id;
  }
  if (run_id.empty()) return l;  // a version registered without a run: nothing more is known
  auto run = tracking_->GetRun(run_id);
  if (!run.ok()) {
    // A version whose run was deleted still has its lineage so far; a runs:/ URI must name a run.
    if (run.status().code() == StatusCode::kNotFound && l.model_version) return l;
    return run.status();
  }
  l.run = *run;
  // Parents (MLflow's nested runs), nearest first, at most 16 (a cycle cannot loop).
  std::set<std::string> visited = {run_id};
  auto parent_of = [](const Run& r) -> std::optional<std::string> {
    if (const std::string* p = TagOf(r, "mlflow.parentRunId")) return *p;
    return std::nullopt;
  };
  for (auto parent = parent_of(*run);
       parent && l.parent_runs.size() < 16 && visited.insert(*parent).second;) {
    auto p = tracking_->GetRun(*parent);
    if (!p.ok()) break;
    l.parent_runs.push_back(p->info);
    parent = parent_of(*p);
  }
  l.datasets = DatasetsOf(*run);
  static const std::pair<const char*, const char*> kCode[] = {
      {"mlflow.source.git.repoURL", "repo"},    {"mlflow.source.git.commit", "commit"},
      {"mlflow.source.git.branch", "branch"},   {"mlflow.source.name", "source_name"},
      {"mlflow.source.type", "source_type"},    {"tamga.git.dirty", "dirty"},
      {"tamga.git.diff_sha256", "diff_sha256"}, {"tamga.git.diff_bytes", "diff_bytes"},
      {"tamga.job.command", "command"}};
  for (const auto& [tag, key] : kCode)
    if (const std::string* v = TagOf(*run, tag)) l.code[key] = *v;
  for (const auto& t : run->tags)
    if (t.key.rfind("tamga.env.", 0) == 0 && t.key != "tamga.env.hostname")
      l.environment[t.key.substr(10)] = t.value;
  if (jobs_ != nullptr) {
    if (const std::string* job_id = TagOf(*run, "tamga.job.id")) {
      auto j = jobs_->Get(*job_id);
      if (j.ok()) l.job = *j;
    }
  }
  return l;
}

Result<std::vector<ModelVersion>> LineageService::ModelVersionsOfRun(const std::string& run_id) {
  bool hex = !run_id.empty() && run_id.size() <= 64;
  for (char c : run_id) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex) return std::vector<ModelVersion>{};
  RegistrySearchRequest req;
  req.filter = "run_id = '" + run_id + "'";  // hex digits only (checked above)
  req.max_results = 100;
  TAMGA_ASSIGN_OR_RETURN(auto found, registry_->SearchModelVersions(req));
  return std::move(found.versions);
}

Result<DatasetLineage> LineageService::OfDataset(const std::string& uri) {
  std::string text = uri.rfind("tamga-data://", 0) == 0 ? uri.substr(13) : uri;
  TAMGA_ASSIGN_OR_RETURN(DatasetRef ref, ParseDatasetRef(text));
  DatasetLineage l;
  TAMGA_ASSIGN_OR_RETURN(l.dataset, datasets_->Get(ref.name));
  TAMGA_ASSIGN_OR_RETURN(l.version, datasets_->Resolve(l.dataset, ref.ref));
  TAMGA_ASSIGN_OR_RETURN(l.runs, datasets_->UsesOf(l.dataset, l.version.version, 1000));
  for (const auto& u : l.runs) {
    if (l.model_versions.size() >= 1000) break;
    RegistrySearchRequest req;
    req.filter = "run_id = '" + u.run_id + "'";  // run ids are 32 hex digits (checked when recorded)
    bool hex = !u.run_id.empty() && u.run_id.size() <= 64;
    for (char c : u.run_id) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
    if (!hex) continue;
    req.max_results = 100;
    auto found = registry_->SearchModelVersions(req);
    if (!found.ok()) continue;
    for (auto& mv : found->versions) l.model_versions.push_back(std::move(mv));
  }
  return l;
}

}  // namespace tamga
