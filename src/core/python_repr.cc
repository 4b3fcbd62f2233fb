#include "core/python_repr.h"

#include <cmath>

#include "core/utf8.h"

namespace tamga {
using nlohmann::json;

namespace {

// Python's repr() of a JSON value as json.loads gives it (MLflow's messages print request values so).
void PyRepr(const json& v, std::string* out, bool top_level) {
  switch (v.type()) {
    case json::value_t::null:
      *out += "None";
      return;
    case json::value_t::boolean:
      *out += v.get<bool>() ? "True" : "False";
      return;
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        *out += "nan";
      } else if (std::isinf(d)) {
        *out += d > 0 ? "inf" : "-inf";
      } else {
        *out += v.dump();
      }
      return;
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      *out += v.dump();
      return;
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      if (top_level) {  // str() of a string is the string itself
        *out += s;
        return;
      }
      char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
      *out += quote;
      for (char c : s) {
        if (c == quote || c == '\\') *out += '\\';
        if (c == '\n') {
          *out += "\\n";
        } else if (c == '\t') {
          *out += "\\t";
        } else if (c == '\r') {
          *out += "\\r";
        } else {
          *out += c;
        }
      }
      *out += quote;
      return;
    }
    case json::value_t::array: {
      *out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) *out += ", ";
        first = false;
        PyRepr(e, out, false);
        if (out->size() > 400) break;
      }
      *out += ']';
      return;
    }
    case json::value_t::object: {
      *out += '{';
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) *out += ", ";
        first = false;
        PyRepr(json(k), out, false);
        *out += ": ";
        PyRepr(e, out, false);
        if (out->size() > 400) break;
      }
      *out += '}';
      return;
    }
    default:
      *out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

}  // namespace

const char* PythonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "NoneType";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_float:
      return "float";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "int";
    case json::value_t::string:
      return "str";
    case json::value_t::array:
      return "list";
    case json::value_t::object:
      return "dict";
    default:
      return "object";
  }
}

std::string PythonStr(const json& value) {
  std::string shown;
  PyRepr(value, &shown, true);
  if (shown.size() > 400) shown = std::string(Utf8Prefix(shown, 400)) + "...";
  return SanitizeUtf8(shown);
}

std::string PythonRepr(std::string_view s) {
  std::string out;
  PyRepr(json(std::string(Utf8Prefix(s, 400))), &out, false);
  return SanitizeUtf8(out);
}

}  // namespace tamga
