#include "registry/mlmodel.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "core/json_parse.h"
#include "core/yaml_limits.h"

namespace tamga {
namespace {

// Aliases make a small document a huge tree: the conversion stops past kMaxNodes nodes (depth is bounded by
// CheckYamlStructure before parsing).
constexpr int64_t kMaxNodes = 100000;

nlohmann::json ToJson(const YAML::Node& n, int64_t* budget) {
  if (--*budget < 0) throw std::length_error("MLmodel expands to more than 100000 nodes");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = ToJson(kv.second, budget);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : n) j.push_back(ToJson(item, budget));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted in the source: keep it a string
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      try {
        size_t used = 0;
        long long i = std::stoll(s, &used);
        if (used == s.size()) return i;
        double d = std::stod(s, &used);
        if (used == s.size()) return d;
      } catch (...) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace

Result<MlmodelInfo> ParseMlmodel(const std::string& yaml_text) {
  Status limits = CheckYamlStructure(yaml_text);
  if (!limits.ok()) return InvalidArgument("MLmodel: " + limits.message());
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) return InvalidArgument("MLmodel is not a YAML mapping");
    MlmodelInfo info;
    int64_t budget = kMaxNodes;
    if (root["flavors"] && root["flavors"].IsMap())
      info.flavors_json = DumpJson(ToJson(root["flavors"], &budget));
    if (root["signature"] && root["signature"].IsMap()) {
      info.signature_json = DumpJson(ToJson(root["signature"], &budget));
    }
    if (root["mlflow_version"] && root["mlflow_version"].IsScalar()) {
      info.mlflow_version = root["mlflow_version"].Scalar();
    }
    return info;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("MLmodel is not valid YAML: ") + e.what());
  }
}

Result<MlmodelInfo> ReadMlmodel(BlobStore& blobs, const std::string& model_dir) {
  TAMGA_ASSIGN_OR_RETURN(auto reader,
                         blobs.OpenReader(model_dir.empty() ? "MLmodel" : model_dir + "/MLmodel"));
  if (reader->size() > (1 << 20)) return InvalidArgument("MLmodel is larger than 1 MiB");
  std::string text(static_cast<size_t>(reader->size()), '\0');
  size_t done = 0;
  while (done < text.size()) {
    TAMGA_ASSIGN_OR_RETURN(size_t n, reader->Read(text.data() + done, text.size() - done));
    if (n == 0) break;
    done += n;
  }
  text.resize(done);
  return ParseMlmodel(text);
}

}  // namespace tamga
