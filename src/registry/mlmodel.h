#pragma once
// Reading an MLflow model's MLmodel file (YAML) from the artifact store: its flavors and signature,
// as JSON text, for the resolve endpoint, serving and deployment rendering. Thread-safe.
#include <string>

#include "artifacts/blob_store.h"
#include "core/result.h"

namespace tamga {

struct MlmodelInfo {
  std::string flavors_json = "{}";  // the `flavors` mapping, converted to JSON
  std::string signature_json;       // the `signature` mapping as JSON, "" when absent
  std::string mlflow_version;       // "" when absent
};

// Parses MLmodel text. InvalidArgument when it is not a YAML mapping.
Result<MlmodelInfo> ParseMlmodel(const std::string& yaml_text);
// Reads <model_dir>/MLmodel from the store. NotFound when absent; files over 1 MiB are refused.
Result<MlmodelInfo> ReadMlmodel(BlobStore& blobs, const std::string& model_dir);

}  // namespace tamga
