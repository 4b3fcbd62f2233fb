#include "data/client/pointer_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "data/dataset_ref.h"
#include "data/digest.h"
#include "data/manifest.h"

namespace tamga {

std::string PointerPathFor(const std::string& data_path) {
  std::string p = data_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p + ".tamga";
}

std::string DataPathOf(const std::string& pointer_path, const DataPointer& p) {
  std::filesystem::path dir = std::filesystem::path(pointer_path).parent_path();
  return (dir / p.path).string();
}

Result<DataPointer> ParsePointer(std::string_view text) {
  if (text.size() > 64 * 1024) return InvalidArgument("pointer file larger than 64 KiB");
  TAMGA_ASSIGN_OR_RETURN(auto j, ParseJson(text));
  if (!j.is_object()) return InvalidArgument("a pointer file is a JSON object");
  auto str = [&](const char* k) -> Result<std::string> {
    if (!j.contains(k) || !j[k].is_string())
      return InvalidArgument(std::string("pointer file: '") + k + "' missing");
    return j[k].get<std::string>();
  };
  auto num = [&](const char* k, bool required) -> Result<int64_t> {
    if (!j.contains(k)) {
      if (required) return InvalidArgument(std::string("pointer file: '") + k + "' missing");
      return int64_t{0};
    }
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < 0)
      return InvalidArgument(std::string("pointer file: '") + k + "' must be a non-negative integer");
    return j[k].get<int64_t>();
  };
  if (!j.contains("tamga_data") || j["tamga_data"] != 1)
    return InvalidArgument("not a Tamga pointer file (expected \"tamga_data\": 1)");
  DataPointer p;
  TAMGA_ASSIGN_OR_RETURN(p.dataset, str("dataset"));
  TAMGA_RETURN_IF_ERROR(ValidateDatasetName(p.dataset));
  TAMGA_ASSIGN_OR_RETURN(p.path, str("path"));
  TAMGA_RETURN_IF_ERROR(ValidateDataPath(p.path));
  if (p.path.find('/') != std::string::npos)
    return InvalidArgument("pointer file: 'path' must name a file or folder beside the pointer");
  TAMGA_ASSIGN_OR_RETURN(std::string kind, str("kind"));
  if (kind != "dir" && kind != "file") return InvalidArgument("pointer file: 'kind' is 'dir' or 'file'");
  p.is_file = kind == "file";
  TAMGA_ASSIGN_OR_RETURN(p.manifest, str("manifest"));
  TAMGA_RETURN_IF_ERROR(CheckDigest(p.manifest, "manifest digest"));
  TAMGA_ASSIGN_OR_RETURN(p.files, num("files", false));
  TAMGA_ASSIGN_OR_RETURN(p.size, num("size", false));
  TAMGA_ASSIGN_OR_RETURN(p.version, num("version", false));
  return p;
}

std::string FormatPointer(const DataPointer& p) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.FieldInt("tamga_data", 1);
  w.Field("dataset", p.dataset);
  w.Field("path", p.path);
  w.Field("kind", p.is_file ? "file" : "dir");
  w.Field("manifest", p.manifest);
  w.FieldInt("files", p.files);
  w.FieldInt("size", p.size);
  if (p.version > 0) w.FieldInt("version", p.version);
  w.EndObject();
  // One field per line: diffs of pointer files in git read well.
  std::string pretty;
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (in_string) {
      pretty += c;
      if (c == '\\' && i + 1 < out.size())
        pretty += out[++i];
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') {
      pretty += "{\n  ";
    } else if (c == '}') {
      pretty += "\n}";
    } else if (c == ',') {
      pretty += ",\n  ";
    } else if (c == ':') {
      pretty += ": ";
    } else {
      pretty += c;
    }
  }
  return pretty + "\n";
}

Result<DataPointer> ReadPointer(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("No pointer file " + path);
  std::string text(64 * 1024 + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto p = ParsePointer(text);
  if (!p.ok()) return InvalidArgument(path + ": " + p.status().message());
  return p;
}

Status WritePointer(const std::string& path, const DataPointer& p) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << FormatPointer(p);
    if (!out) return Internal("write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Internal("write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace tamga
