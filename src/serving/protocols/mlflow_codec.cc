// MLflow scoring protocol (/invocations): pandas-style JSON (dataframe_split, dataframe_records), TF-serving
// style JSON (instances, inputs) and CSV, turned into the model's input tensors.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/json_parse.h"
#include "core/json_writer.h"
#include "serving/protocols/codec.h"
#include "serving/protocols/json_tensor.h"

namespace tamga {

using namespace serving_internal;
using ojson = nlohmann::ordered_json;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

Result<Tensor> ToTensor(const nlohmann::json& value, const TensorSpec& spec) {
  Tensor t;
  t.name = spec.name;
  t.dtype = spec.dtype;
  TAMGA_ASSIGN_OR_RETURN(t.shape, NestedShape(value));
  auto count = AppendElements(value, spec.dtype, &t);
  if (!count.ok()) return InvalidArgument("input '" + spec.name + "': " + count.status().message());
  if (*count != t.NumElements())
    return InvalidArgument("input '" + spec.name + "': the data is not rectangular");
  return t;
}

nlohmann::json Plain(const ojson& v) { return nlohmann::json::parse(DumpJson(v)); }

// Rows given as objects keyed by column name -> [[...], ...] in the model's column order.
Result<nlohmann::json> RowsFromRecords(const ojson& records, const ModelSignature& sig) {
  if (!records.is_array()) return InvalidArgument("records must be a list of objects");
  std::vector<std::string> columns = sig.columns;
  if (columns.empty() && !records.empty() && records[0].is_object()) {
    for (const auto& [k, v] : records[0].items()) columns.push_back(k);
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : records) {
    if (!r.is_object()) return InvalidArgument("each record must be an object");
    nlohmann::json row = nlohmann::json::array();
    for (const auto& c : columns) {
      if (!r.contains(c)) return InvalidArgument("missing column '" + c.substr(0, 100) + "' in a record");
      row.push_back(Plain(r[c]));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<nlohmann::json> RowsFromSplit(const ojson& split, const ModelSignature& sig) {
  if (!split.is_object() || !split.contains("data") || !split["data"].is_array()) {
    return InvalidArgument("dataframe_split needs a 'data' list of rows");
  }
  nlohmann::json data = Plain(split["data"]);
  if (sig.columns.empty() || !split.contains("columns")) return data;
  if (!split["columns"].is_array()) return InvalidArgument("dataframe_split 'columns' must be a list");
  std::vector<std::string> given;
  for (const auto& c : split["columns"]) given.push_back(c.is_string() ? c.get<std::string>() : c.dump());
  std::vector<size_t> pick;
  for (const auto& want : sig.columns) {
    auto it = std::find(given.begin(), given.end(), want);
    if (it == given.end()) return InvalidArgument("missing column '" + want.substr(0, 100) + "'");
    pick.push_back(static_cast<size_t>(it - given.begin()));
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : data) {
    if (!r.is_array() || r.size() != given.size())
      return InvalidArgument("each row must have one value per column");
    nlohmann::json row = nlohmann::json::array();
    for (size_t i : pick) row.push_back(r[i]);
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<Tensor>> FromNamed(const ojson& obj, const ModelSignature& sig) {
  std::vector<Tensor> out;
  for (const auto& [name, value] : obj.items()) {
    const TensorSpec* spec = nullptr;
    for (const auto& s : sig.inputs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) return InvalidArgument("unexpected input '" + name.substr(0, 100) + "'");
    TAMGA_ASSIGN_OR_RETURN(Tensor t, ToTensor(Plain(value), *spec));
    out.push_back(std::move(t));
  }
  return MatchInputs(std::move(out), sig);
}

Result<std::vector<Tensor>> Single(const nlohmann::json& value, const ModelSignature& sig) {
  if (sig.inputs.size() != 1) {
    return InvalidArgument("this model takes " + std::to_string(sig.inputs.size()) +
                           " inputs; send them by name ({\"inputs\": {\"<name>\": [...]}})");
  }
  TAMGA_ASSIGN_OR_RETURN(Tensor t, ToTensor(value, sig.inputs[0]));
  std::vector<Tensor> v;
  v.push_back(std::move(t));
  return MatchInputs(std::move(v), sig);
}

// Rows of a table (already in the signature's column order) as the model's inputs: one [rows, columns]
// tensor, or one tensor per column when the model takes columns separately.
Result<std::vector<Tensor>> Table(const nlohmann::json& rows, const ModelSignature& sig) {
  if (!sig.column_tensors) return Single(rows, sig);
  if (!rows.is_array()) return InvalidArgument("the table's data must be a list of rows");
  std::vector<nlohmann::json> cols(sig.inputs.size(), nlohmann::json::array());
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != sig.inputs.size()) {
      return InvalidArgument("each row must have " + std::to_string(sig.inputs.size()) +
                             " values, one per column");
    }
    for (size_t i = 0; i < cols.size(); ++i) cols[i].push_back(row[i]);
  }
  std::vector<Tensor> out;
  for (size_t i = 0; i < cols.size(); ++i) {
    TAMGA_ASSIGN_OR_RETURN(Tensor t, ToTensor(cols[i], sig.inputs[i]));
    out.push_back(std::move(t));
  }
  return MatchInputs(std::move(out), sig);
}

// Is CSV column `name` a string column of a per-column model (kept as text rather than parsed as a number)?
bool TextColumn(const ModelSignature& sig, const std::string& name) {
  if (!sig.column_tensors) return false;
  for (const auto& s : sig.inputs) {
    if (s.name == name) return s.dtype == DataType::kBytes;
  }
  return false;
}

Result<std::vector<Tensor>> FromCsv(std::string_view body, const ModelSignature& sig) {
  std::vector<std::vector<std::string>> lines;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line(body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    std::vector<std::string> cells;
    size_t s = 0;
    for (;;) {
      size_t c = line.find(',', s);
      std::string cell = Trim(line.substr(s, c == std::string::npos ? std::string::npos : c - s));
      if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"')
        cell = cell.substr(1, cell.size() - 2);
      cells.push_back(cell);
      if (c == std::string::npos) break;
      s = c + 1;
    }
    lines.push_back(std::move(cells));
  }
  if (lines.empty()) return InvalidArgument("the CSV body is empty (a header row is required)");
  ojson split = {{"columns", lines[0]}, {"data", ojson::array()}};
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].size() != lines[0].size()) {
      return InvalidArgument("CSV row " + std::to_string(i) + " has " + std::to_string(lines[i].size()) +
                             " fields; the header has " + std::to_string(lines[0].size()));
    }
    ojson row = ojson::array();
    for (size_t c = 0; c < lines[i].size(); ++c) {
      const std::string& cell = lines[i][c];
      if (TextColumn(sig, lines[0][c])) {
        row.push_back(cell);
        continue;
      }
      char* end = nullptr;
      double d = std::strtod(cell.c_str(), &end);
      if (cell.empty() || end != cell.c_str() + cell.size()) {
        return InvalidArgument("CSV row " + std::to_string(i) + ": '" + cell.substr(0, 50) +
                               "' is not a number");
      }
      row.push_back(d);
    }
    split["data"].push_back(std::move(row));
  }
  TAMGA_ASSIGN_OR_RETURN(auto rows, RowsFromSplit(split, sig));
  return Table(rows, sig);
}

}  // namespace

std::string MlflowError(const std::string& message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("error_code", "BAD_REQUEST");
  w.Field("message", message);
  w.EndObject();
  return out;
}

Result<std::vector<Tensor>> ParseInvocations(std::string_view content_type, std::string_view body,
                                             const ModelSignature& sig) {
  std::string ct = Lower(content_type);
  std::string media = Trim(ct.substr(0, ct.find(';')));
  if (ct.find(';') != std::string::npos) {
    std::string params = ct.substr(ct.find(';') + 1);
    if (params.find("charset") != std::string::npos && params.find("utf-8") == std::string::npos) {
      return Unimplemented("Unsupported charset in content type: " +
                           std::string(content_type).substr(0, 100));
    }
  }
  if (media == "text/csv") return FromCsv(body, sig);
  if (media != "application/json") {
    return Unimplemented(
        "This predictor only supports the following content types: Types: ['text/csv', "
        "'application/json']. Got '" +
        std::string(content_type).substr(0, 100) + "'.");
  }
  auto parsed = ParseOrderedJson(body);
  if (!parsed.ok()) {
    bool too_deep = parsed.status().message().rfind("JSON nesting", 0) == 0;
    return InvalidArgument("Failed to parse input from JSON: " +
                           (too_deep ? parsed.status().message() : std::string("malformed JSON")));
  }
  ojson& j = *parsed;
  if (!j.is_object()) {
    return InvalidArgument(
        "Failed to parse input: the body must be a JSON object with one of the keys "
        "'dataframe_split', 'dataframe_records', 'instances', 'inputs'");
  }
  static const char* kKeys[] = {"dataframe_split", "dataframe_records", "instances", "inputs"};
  std::vector<std::string> found;
  for (const char* k : kKeys) {
    if (j.contains(k)) found.push_back(k);
  }
  if (found.size() != 1) {
    return InvalidArgument(
        "The input must contain exactly one of the keys 'dataframe_split', 'dataframe_records', "
        "'instances', 'inputs'; got " +
        std::to_string(found.size()));
  }
  const ojson& v = j[found[0]];
  if (found[0] == "dataframe_split") {
    TAMGA_ASSIGN_OR_RETURN(auto rows, RowsFromSplit(v, sig));
    return Table(rows, sig);
  }
  if (found[0] == "dataframe_records") {
    TAMGA_ASSIGN_OR_RETURN(auto rows, RowsFromRecords(v, sig));
    return Table(rows, sig);
  }
  if (found[0] == "instances") {
    if (!v.is_array()) return InvalidArgument("'instances' must be a list");
    if (!v.empty() && v[0].is_object()) {
      if (sig.inputs.size() > 1) {
        // Row objects of named tensors: {"a": [...], "b": [...]} per row -> stack per name.
        ojson cols = ojson::object();
        for (const auto& row : v) {
          if (!row.is_object()) return InvalidArgument("'instances' mixes objects and values");
          for (const auto& [k, x] : row.items()) cols[k].push_back(x);
        }
        return FromNamed(cols, sig);
      }
      TAMGA_ASSIGN_OR_RETURN(auto rows, RowsFromRecords(v, sig));
      return Table(rows, sig);
    }
    return Single(Plain(v), sig);
  }
  if (v.is_object()) return FromNamed(v, sig);
  return Single(Plain(v), sig);
}

std::string EncodeInvocationsResponse(const std::vector<Tensor>& outputs) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("predictions");
  if (outputs.size() == 1) {
    WriteElements(w, outputs[0], false);
  } else {
    w.BeginObject();
    for (const auto& t : outputs) {
      w.Key(t.name);
      WriteElements(w, t, false);
    }
    w.EndObject();
  }
  w.EndObject();
  return out;
}

}  // namespace tamga
