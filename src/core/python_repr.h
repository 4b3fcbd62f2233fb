#pragma once
// Values printed as Python prints them, for error messages that must read exactly as MLflow's server writes
// them (it formats request values with str() / repr() of what json.loads made of them). Bounded to ~400
// bytes, cut at a character boundary, always valid UTF-8. Pure functions; thread-safe.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace tamga {

// str(): strings bare, True/False/None, numbers as Python, lists and dicts as repr().
std::string PythonStr(const nlohmann::json& value);
// repr() of a string: 'text' (or "it's"), with Python's escapes.
std::string PythonRepr(std::string_view s);
// type(value).__name__: str, int, float, bool, list, dict, NoneType.
const char* PythonTypeName(const nlohmann::json& value);

}  // namespace tamga
