#include "registry/mlmodel.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "core/json_parse.h"
#include "core/pip_requirements.h"
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

namespace {

Result<std::string> ReadSmall(BlobStore& blobs, const std::string& model_dir, const std::string& name,
                              int64_t limit) {
  TAMGA_ASSIGN_OR_RETURN(auto reader, blobs.OpenReader(model_dir.empty() ? name : model_dir + "/" + name));
  if (reader->size() > limit)
    return InvalidArgument(name + " is larger than " + std::to_string(limit >> 10) + " KiB");
  std::string text(static_cast<size_t>(reader->size()), '\0');
  size_t done = 0;
  while (done < text.size()) {
    TAMGA_ASSIGN_OR_RETURN(size_t n, reader->Read(text.data() + done, text.size() - done));
    if (n == 0) break;
    done += n;
  }
  text.resize(done);
  return text;
}

}  // namespace

Result<MlmodelInfo> ReadMlmodel(BlobStore& blobs, const std::string& model_dir) {
  auto text = ReadSmall(blobs, model_dir, "MLmodel", 1 << 20);
  if (!text.ok() && text.status().code() == StatusCode::kInvalidArgument)
    return InvalidArgument("MLmodel is larger than 1 MiB");
  TAMGA_RETURN_IF_ERROR(text.status());
  return ParseMlmodel(*text);
}

bool NeedsPythonWorker(const MlmodelInfo& info) {
  auto flavors = nlohmann::json::parse(info.flavors_json, nullptr, false);
  if (!flavors.is_object()) return false;
  return flavors.contains("python_function") && !flavors.contains("pytorch") && !flavors.contains("xgboost");
}

namespace {

Result<std::string> JoinChecked(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (line.find_first_of("\r\n") != std::string::npos) return InvalidArgument("a requirement spans lines");
    out += line + "\n";
  }
  Status checked = CheckPipRequirements(out);
  if (!checked.ok()) return InvalidArgument(checked.message() + " (in a rendered image build)");
  return out;
}

}  // namespace

Result<std::string> PipRequirementsFromText(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return JoinChecked(lines);
}

Result<std::string> PipRequirementsFromConda(const std::string& conda_yaml) {
  Status limits = CheckYamlStructure(conda_yaml);
  if (!limits.ok()) return InvalidArgument("conda.yaml: " + limits.message());
  std::vector<std::string> lines;
  try {
    YAML::Node root = YAML::Load(conda_yaml);
    YAML::Node deps = root.IsMap() ? root["dependencies"] : YAML::Node();
    if (deps && deps.IsSequence()) {
      for (const auto& d : deps) {
        if (!d.IsMap() || !d["pip"]) continue;
        if (!d["pip"].IsSequence())
          return InvalidArgument("conda.yaml: 'pip' must be a list of requirements");
        for (const auto& p : d["pip"]) {
          if (!p.IsScalar()) return InvalidArgument("conda.yaml: every pip requirement must be a string");
          lines.push_back(p.Scalar());
        }
      }
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("conda.yaml is not valid YAML: ") + e.what());
  }
  return JoinChecked(lines);
}

Result<std::string> ReadPipRequirements(BlobStore& blobs, const std::string& model_dir) {
  constexpr int64_t kLimit = 256 << 10;
  auto req = ReadSmall(blobs, model_dir, "requirements.txt", kLimit);
  if (req.ok()) return PipRequirementsFromText(*req);
  if (req.status().code() != StatusCode::kNotFound) return req.status();
  auto conda = ReadSmall(blobs, model_dir, "conda.yaml", kLimit);
  if (!conda.ok()) {
    if (conda.status().code() == StatusCode::kNotFound) return std::string();
    return conda.status();
  }
  return PipRequirementsFromConda(*conda);
}

}  // namespace tamga
