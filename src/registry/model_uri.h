#pragma once
// Model URIs, resolved by one function that every subsystem uses (serving, deploy, CLI, the resolve
// endpoint):
//   models:/<name>/<version>     a version number
//   models:/<name>@<alias>       the version an alias points to
//   models:/<name>/<stage>       the newest version in a stage (None/Staging/Production/Archived, any case)
//   models:/<name>/latest        the newest live version
//   models:/<model_id>           an MLflow 3.x logged model (m-<32 hex>)
// A trailing "/<path>" after the version/alias selects a file or folder inside the model.
// Pure parsing plus reads through a RegistryReader; thread-safe.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "storage/registry_store.h"

namespace tamga {

struct ModelUri {
  enum class Kind { kVersion, kAlias, kStage, kLatest, kLoggedModel };
  Kind kind = Kind::kVersion;
  std::string name;      // registered model name (empty for kLoggedModel)
  int64_t version = 0;   // kVersion
  std::string alias;     // kAlias
  std::string stage;     // kStage, canonical
  std::string model_id;  // kLoggedModel
  std::string sub_path;  // "" or a relative path inside the model
};

// InvalidArgument with a message naming the accepted forms.
Result<ModelUri> ParseModelUri(std::string_view uri);

struct ResolvedModel {
  std::optional<ModelVersion> version;  // absent for a logged model that is not registered
  std::optional<LoggedModel> logged_model;
  std::string run_id;  // the version's run_id, else the run named by a runs:/ source
  // Where the files are: a registry-owned copy or the source (mlflow-artifacts:/..., s3://...).
  std::string artifact_location;
  // The same location as a path in Tamga's own artifact store; "" when the files live elsewhere.
  std::string blob_path;
};

// NotFound for an unknown model/version/alias/stage match (message names what was missing).
Result<ResolvedModel> ResolveModelUri(RegistryReader& registry, const ModelUri& uri);

// "runs:/<run_id>/<path>" -> {run_id, path} (leading slashes of the rest and trailing ones of the path
// dropped); nullopt for other URIs.
struct RunsUri {
  std::string run_id;
  std::string path;
};
std::optional<RunsUri> ParseRunsUri(std::string_view uri);

// "mlflow-artifacts:/a/b", "mlflow-artifacts://host:port/a/b" and "http(s)://host/api/2.0/mlflow-artifacts/
// artifacts/a/b" -> "a/b" (validated and normalised); nullopt for other schemes and invalid paths.
std::optional<std::string> ProxiedBlobPath(std::string_view uri);

}  // namespace tamga
