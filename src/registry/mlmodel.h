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

// True when only the Python worker can serve the model: a python_function flavor and neither a pytorch nor
// an xgboost flavor (the native runtimes' rule in serving/runtime/model_loader.cc).
bool NeedsPythonWorker(const MlmodelInfo& info);

// The model's pip requirements as requirements.txt lines: its requirements.txt when present, else the
// `pip:` list of its conda.yaml; "" when it has neither. Files over 256 KiB, options that fetch from other
// places (-r, -c, --index-url, -e, ...) and NUL bytes are refused (InvalidArgument): the lines go into a
// Dockerfile build.
Result<std::string> ReadPipRequirements(BlobStore& blobs, const std::string& model_dir);
// The same from the files' text (the parsers ReadPipRequirements uses; fuzzed).
Result<std::string> PipRequirementsFromText(const std::string& requirements_txt);
Result<std::string> PipRequirementsFromConda(const std::string& conda_yaml);

}  // namespace tamga
