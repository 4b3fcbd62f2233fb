// Reading an MLflow model directory (MLmodel, signature) and choosing the runtime.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iterator>

#include <filesystem>

#include "core/log.h"
#include "core/yaml_limits.h"
#include "serving/runtime/model_runtime.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

std::string Scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : std::string(); }

// `rel` resolved under `root`; InvalidArgument when it is absolute or escapes the directory.
Result<std::string> Inside(const fs::path& root, const std::string& rel, const std::string& what) {
  if (rel.empty()) return std::string();
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(root / rel, ec);
  fs::path root_canon = fs::weakly_canonical(root, ec);
  if (fs::path(rel).is_absolute() || canon.string().rfind(root_canon.string() + "/", 0) != 0) {
    return InvalidArgument(what + " path '" + rel.substr(0, 200) + "' escapes the model directory");
  }
  return canon.string();
}

Result<std::string> SingleFileWithExtension(const fs::path& dir, const std::string& ext) {
  std::string found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ext) {
      if (!found.empty()) return InvalidArgument("more than one " + ext + " file in " + dir.string());
      found = e.path().string();
    }
  }
  if (found.empty()) return InvalidArgument("no MLmodel file and no " + ext + " file in " + dir.string());
  return found;
}

}  // namespace

Result<ModelLayout> InspectModelDir(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec || !fs::exists(p, ec)) return NotFound("model path " + path + " does not exist");
  ModelLayout layout;
  if (fs::is_regular_file(p, ec)) {
    if (p.extension() != ".pt" && p.extension() != ".pth") {
      return InvalidArgument("a model file must be a TorchScript .pt/.pth file: " + path);
    }
    layout.flavor = "pytorch";
    layout.model_file = p.string();
    return layout;
  }
  fs::path mlmodel = p / "MLmodel";
  if (!fs::exists(mlmodel, ec)) {
    layout.flavor = "pytorch";
    TAMGA_ASSIGN_OR_RETURN(layout.model_file, SingleFileWithExtension(p, ".pt"));
    return layout;
  }
  YAML::Node root;
  try {
    std::ifstream in(mlmodel, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Status limits = CheckYamlStructure(text);
    if (!limits.ok()) return InvalidArgument(mlmodel.string() + ": " + limits.message());
    root = YAML::Load(text);
  } catch (const std::exception& e) {
    return InvalidArgument("cannot parse " + mlmodel.string() + ": " + e.what());
  }
  YAML::Node flavors = root["flavors"];
  if (!flavors || !flavors.IsMap()) return InvalidArgument(mlmodel.string() + " has no flavors");
  if (YAML::Node sig = root["signature"]; sig && sig.IsMap()) {
    layout.signature_inputs_json = Scalar(sig["inputs"]);
    layout.signature_outputs_json = Scalar(sig["outputs"]);
  }
  layout.model_dir = p.string();
  if (YAML::Node py = flavors["python_function"]; py && py.IsMap()) {
    PyfuncFlavor f;
    f.loader_module = Scalar(py["loader_module"]);
    f.data = Scalar(py["data"]);
    f.code = Scalar(py["code"]);
    if (f.loader_module.empty())
      return InvalidArgument(mlmodel.string() + ": python_function flavor has no loader_module");
    TAMGA_RETURN_IF_ERROR(Inside(p, f.data, "python_function data").status());
    TAMGA_RETURN_IF_ERROR(Inside(p, f.code, "python_function code").status());
    layout.pyfunc = f;
  }
  if (YAML::Node x = flavors["xgboost"]; x && x.IsMap()) {
    layout.flavor = "xgboost";
    std::string data = Scalar(x["data"]);
    if (data.empty()) data = "model.xgb";
    layout.model_file = (p / data).string();
    layout.model_class = Scalar(x["model_class"]);
  } else if (YAML::Node t = flavors["pytorch"]; t && t.IsMap()) {
    layout.flavor = "pytorch";
    std::string data = Scalar(t["model_data"]);
    if (data.empty()) data = "data";
    fs::path d = p / data;
    layout.model_file = fs::is_directory(d, ec) ? (d / "model.pth").string() : d.string();
  } else if (layout.pyfunc) {
    layout.flavor = "python_function";
    layout.model_file = p.string();
    return layout;
  } else {
    return InvalidArgument("model at " + path +
                           " has no flavor Tamga can serve (pytorch, xgboost, python_function)");
  }
  if (layout.model_file.find("..") != std::string::npos && !fs::exists(layout.model_file, ec)) {
    return InvalidArgument("model file path escapes the model directory");
  }
  fs::path canon = fs::weakly_canonical(layout.model_file, ec);
  fs::path root_canon = fs::weakly_canonical(p, ec);
  if (canon.string().rfind(root_canon.string() + "/", 0) != 0) {
    return InvalidArgument("model file path escapes the model directory");
  }
  if (!fs::exists(canon, ec)) return InvalidArgument("model file " + canon.string() + " does not exist");
  layout.model_file = canon.string();
  return layout;
}

Result<std::unique_ptr<ModelRuntime>> LoadModelRuntime(const ModelLayout& layout,
                                                       const RuntimeOptions& options) {
  if (layout.flavor == "python_function") return LoadPythonRuntime(layout, options);
  Result<std::unique_ptr<ModelRuntime>> native = Unimplemented("no runtime for flavor " + layout.flavor);
  if (layout.flavor == "xgboost") native = LoadXgboostRuntime(layout, options);
  if (layout.flavor == "pytorch") native = LoadTorchScriptRuntime(layout, options);
  if (native.ok() || !layout.pyfunc || native.status().code() != StatusCode::kInvalidArgument) return native;
  TAMGA_LOG(kWarn, "native runtime cannot load the model; using the Python worker",
            {{"flavor", layout.flavor}, {"error", native.status().message()}});
  return LoadPythonRuntime(layout, options);
}

}  // namespace tamga
