#include "http/request_fields.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "artifacts/artifact_path.h"
#include "core/json_parse.h"
#include "core/python_repr.h"
#include "core/utf8.h"

namespace tamga {
using nlohmann::json;

Status MissingParam(const std::string& key) {
  return InvalidArgument("Missing value for required parameter '" + key +
                         "'. See the API docs for more information about request parameters.");
}

Status InvalidParamValue(const std::string& key, const json& value) {
  return InvalidArgument("Invalid value " + PythonStr(value) + " for parameter '" + key +
                         "' supplied. Hint: Value was of type '" + PythonTypeName(value) +
                         "'. See the API docs for more information about request parameters.");
}

namespace {

// Through core's limited parser: nesting beyond kMaxJsonDepth is a 400 before anything recursive touches it.
Result<json> ParseBody(std::string_view text) {
  TAMGA_ASSIGN_OR_RETURN(json j, ParseJson(text));
  if (j.is_string()) {  // old clients double-encode
    std::string inner = j.get<std::string>();
    TAMGA_ASSIGN_OR_RETURN(j, ParseJson(inner));
  }
  if (!j.is_object()) return InvalidArgument("Request body must be a JSON object");
  return j;
}

Result<json> FromQuery(std::string_view query) {
  json j = json::object();
  size_t i = 0;
  while (i < query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return InvalidArgument("Malformed query string");
    if (!IsValidUtf8(*key) || !IsValidUtf8(*value)) return InvalidArgument("Query string is not valid UTF-8");
    // key[] and key[0] (UI style) are list entries.
    bool list = false;
    size_t br = key->find('[');
    if (br != std::string::npos && key->back() == ']') {
      key->resize(br);
      list = true;
    }
    if (!j.contains(*key)) {
      j[*key] = list ? json::array({*value}) : json(*value);
    } else {
      json& cur = j[*key];
      if (!cur.is_array()) cur = json::array({cur});
      cur.push_back(*value);
    }
  }
  return j;
}

}  // namespace

Result<RequestFields> RequestFields::FromJsonText(std::string_view text) {
  bool blank = true;
  for (char c : text) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank) return RequestFields(json::object());
  TAMGA_ASSIGN_OR_RETURN(json j, ParseBody(text));
  return RequestFields(std::move(j));
}

Result<RequestFields> RequestFields::FromQueryString(std::string_view query) {
  TAMGA_ASSIGN_OR_RETURN(json j, FromQuery(query));
  return RequestFields(std::move(j), true);
}

Result<RequestFields> RequestFields::From(const HttpRequest& req) {
  if (req.method == HttpMethod::kGet || req.method == HttpMethod::kHead) {
    TAMGA_ASSIGN_OR_RETURN(json j, FromQuery(req.query));
    return RequestFields(std::move(j), true);
  }
  std::string type = req.Header("content-type");
  std::string media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool blank = true;
  for (char c : req.body) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (media != "application/json" && !(blank && media.empty())) {
    return InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].");
  }
  return FromJsonText(req.body);
}

Result<std::string> RequestFields::RequiredString(const char* key) const {
  TAMGA_ASSIGN_OR_RETURN(auto v, OptString(key));
  if (!v || v->empty()) return MissingParam(key);
  return *v;
}

Result<std::optional<std::string>> RequestFields::OptString(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (from_query_ && it->is_array() && it->size() == 1 &&
      (*it)[0].is_string()) {  // repeated query key collapsed
    return std::optional<std::string>((*it)[0].get<std::string>());
  }
  // Pre-0.9 clients send experiment_id as an int; MLflow converts that one field. Other numbers are refused.
  if ((it->is_number_integer() || it->is_number_unsigned()) && std::string_view(key) == "experiment_id") {
    return std::optional<std::string>(it->dump());
  }
  return InvalidParamValue(key, *it);
}

Result<std::optional<int64_t>> RequestFields::OptInt(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<int64_t>();
  const json* v = &*it;
  if (from_query_ && v->is_array() && v->size() == 1) v = &(*v)[0];
  if (v->is_number_unsigned()) {  // checked first: nlohmann counts unsigned as integer too
    uint64_t u = v->get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return InvalidParamValue(key, *v);
    return std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) return std::optional<int64_t>(static_cast<int64_t>(d));
    return InvalidParamValue(key, *v);
  }
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    int64_t out;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return std::optional<int64_t>(out);
  }
  return InvalidParamValue(key, *v);
}

Result<int64_t> RequestFields::RequiredInt(const char* key) const {
  TAMGA_ASSIGN_OR_RETURN(auto v, OptInt(key));
  if (!v) return MissingParam(key);
  return *v;
}

Result<double> RequestFields::RequiredDouble(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return MissingParam(key);
  const json* v = &*it;
  if (from_query_ && v->is_array() && v->size() == 1) v = &(*v)[0];
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s == "NaN" || s == "nan") return std::nan("");
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
  }
  return InvalidParamValue(key, *v);
}

Result<std::optional<bool>> RequestFields::OptBool(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<bool>();
  if (it->is_boolean()) return std::optional<bool>(it->get<bool>());
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "true" || s == "True") return std::optional<bool>(true);
    if (s == "false" || s == "False") return std::optional<bool>(false);
  }
  return InvalidParamValue(key, *it);
}

Result<std::vector<std::string>> RequestFields::StringList(const char* key) const {
  std::vector<std::string> out;
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) return InvalidParamValue(key, *it);
  for (const auto& e : *it) {
    if (e.is_string())
      out.push_back(e.get<std::string>());
    else if (e.is_number_integer())
      out.push_back(e.dump());
    else
      return InvalidParamValue(key, *it);
  }
  return out;
}

Result<std::vector<RequestFields>> RequestFields::ObjectList(const char* key) const {
  std::vector<RequestFields> out;
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidParamValue(key, *it);
  for (const auto& e : *it) {
    if (!e.is_object()) return InvalidParamValue(key, *it);
    out.emplace_back(e);
  }
  return out;
}

Result<std::optional<RequestFields>> RequestFields::OptObject(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<RequestFields>();
  if (!it->is_object()) return InvalidParamValue(key, *it);
  return std::optional<RequestFields>(RequestFields(*it));
}

}  // namespace tamga
