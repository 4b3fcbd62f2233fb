#include "registry/model_uri.h"

#include "artifacts/artifact_path.h"
#include "core/ids.h"
#include "core/utf8.h"
#include "registry/registry_validation.h"

namespace tamga {

namespace {

Status BadUri(std::string_view uri) {
  return InvalidArgument("Invalid model URI '" + std::string(Utf8Prefix(uri, 300)) +
                         "'. Use models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/<stage>, "
                         "models:/<name>/latest or models:/<model_id>.");
}

bool IsLoggedModelId(std::string_view s) {
  return s.size() == 34 && std::string(Utf8Prefix(s, 2)) == "m-" && IsHex32(s.substr(2));
}

}  // namespace

Result<ModelUri> ParseModelUri(std::string_view uri) {
  constexpr std::string_view kScheme = "models:";
  if (uri.substr(0, kScheme.size()) != kScheme) return BadUri(uri);
  std::string_view rest = uri.substr(kScheme.size());
  // models:/x and models:///x (empty authority) are the same.
  if (std::string(Utf8Prefix(rest, 3)) == "///")
    rest.remove_prefix(3);
  else if (std::string(Utf8Prefix(rest, 1)) == "/")
    rest.remove_prefix(1);
  else
    return BadUri(uri);
  ModelUri out;
  size_t slash = rest.find('/');
  std::string_view first = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (first.empty()) return BadUri(uri);
  size_t at = first.find('@');
  if (at != std::string_view::npos) {
    out.kind = ModelUri::Kind::kAlias;
    out.name = std::string(first.substr(0, at));
    out.alias = std::string(first.substr(at + 1));
    if (out.name.empty() || out.alias.empty()) return BadUri(uri);
    out.sub_path = std::string(tail);
  } else if (tail.empty() && IsLoggedModelId(first)) {
    out.kind = ModelUri::Kind::kLoggedModel;
    out.model_id = std::string(first);
  } else {
    out.name = std::string(first);
    size_t next = tail.find('/');
    std::string selector(tail.substr(0, next));
    if (next != std::string_view::npos) out.sub_path = std::string(tail.substr(next + 1));
    int64_t v = 0;
    if (selector.empty()) return BadUri(uri);
    if (ParseDecimalId(selector, &v)) {
      out.kind = ModelUri::Kind::kVersion;
      out.version = v;
    } else if (selector == "latest") {
      out.kind = ModelUri::Kind::kLatest;
    } else {
      auto stage = CanonicalStage(selector);
      if (!stage.ok()) return BadUri(uri);
      out.kind = ModelUri::Kind::kStage;
      out.stage = *stage;
    }
  }
  if (!out.sub_path.empty()) {
    auto clean = ValidateArtifactPath(out.sub_path, true);
    if (!clean.ok()) return BadUri(uri);
    out.sub_path = *clean;
  }
  return out;
}

std::optional<RunsUri> ParseRunsUri(std::string_view uri) {
  constexpr std::string_view kScheme = "runs:/";
  if (uri.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  std::string_view rest = uri.substr(kScheme.size());
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  size_t slash = rest.find('/');
  RunsUri out;
  out.run_id = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash + 1));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

std::optional<std::string> ProxiedBlobPath(std::string_view uri) {
  auto proxied = ProxiedArtifactPath(uri);
  if (!proxied) return std::nullopt;
  auto clean = ValidateArtifactPath(*proxied, true);
  if (!clean.ok()) return std::nullopt;
  return *clean;
}

Result<ResolvedModel> ResolveModelUri(RegistryReader& registry, const ModelUri& uri) {
  ResolvedModel out;
  std::optional<ModelVersion> version;
  switch (uri.kind) {
    case ModelUri::Kind::kLoggedModel: {
      TAMGA_ASSIGN_OR_RETURN(auto m, registry.GetLoggedModel(uri.model_id));
      out.run_id = m.source_run_id;
      out.artifact_location = m.artifact_uri;
      out.logged_model = std::move(m);
      break;
    }
    case ModelUri::Kind::kVersion: {
      auto v = registry.GetModelVersion(uri.name, uri.version);
      if (v.status().code() == StatusCode::kNotFound) {
        return NotFound("Model Version (name=" + uri.name + ", version=" + std::to_string(uri.version) +
                        ") not found");
      }
      TAMGA_RETURN_IF_ERROR(v.status());
      version = std::move(*v);
      break;
    }
    case ModelUri::Kind::kAlias: {
      TAMGA_ASSIGN_OR_RETURN(auto v, registry.GetAliasVersion(uri.name, uri.alias));
      if (!v) return NotFound("Registered model alias " + uri.alias + " not found.");
      TAMGA_ASSIGN_OR_RETURN(auto mv, registry.GetModelVersion(uri.name, *v));
      version = std::move(mv);
      break;
    }
    case ModelUri::Kind::kStage:
    case ModelUri::Kind::kLatest: {
      RegistryQuery q;
      q.filter.push_back({FieldKind::kAttribute, "name", CompareOp::kEq, uri.name});
      q.max_results = 1;
      if (uri.kind == ModelUri::Kind::kStage) {
        // The newest version in the stage: stages are few, so read the model's latest-per-stage list.
        TAMGA_ASSIGN_OR_RETURN(auto model, registry.GetRegisteredModel(uri.name));
        for (auto& v : model.latest_versions) {
          if (v.current_stage == uri.stage) version = v;
        }
        if (!version)
          return NotFound("No versions of model with name '" + uri.name + "' and stage '" + uri.stage +
                          "' found");
      } else {
        TAMGA_ASSIGN_OR_RETURN(auto page, registry.SearchModelVersions(q));
        if (page.versions.empty()) {
          TAMGA_RETURN_IF_ERROR(registry.GetRegisteredModel(uri.name).status());
          return NotFound("No versions of model with name '" + uri.name + "' found");
        }
        version = std::move(page.versions[0]);
      }
      break;
    }
  }
  if (version) {
    out.run_id = version->run_id.value_or("");
    // MLflow leaves run_id empty for a "runs:/<id>/..." source; provenance still names that run.
    if (out.run_id.empty()) {
      if (auto runs = ParseRunsUri(version->source)) out.run_id = runs->run_id;
    }
    out.artifact_location = version->storage_location;
    out.version = std::move(version);
  }
  if (!uri.sub_path.empty()) out.artifact_location += "/" + uri.sub_path;
  out.blob_path = ProxiedBlobPath(out.artifact_location).value_or("");
  return out;
}

}  // namespace tamga
