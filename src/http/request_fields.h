#pragma once
// RequestFields: the fields of an MLflow API request, from the JSON body (POST/PATCH/DELETE) or the
// query string (GET), with MLflow's conversion rules: repeated query keys (and key[] / key[0]) become
// lists, numeric strings are accepted for integers, "NaN"/"Infinity" strings for doubles, a JSON string
// holding JSON is decoded twice, an empty body is {}. Getters return InvalidArgument with MLflow's
// messages ("Missing value for required parameter 'x'", "Invalid value ... for parameter 'x' supplied").
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/python_repr.h"  // PythonStr, for callers building MLflow-style messages
#include "core/result.h"
#include "http/http_types.h"

namespace tamga {

class RequestFields {
 public:
  static Result<RequestFields> From(const HttpRequest& req);
  static Result<RequestFields> FromJsonText(std::string_view text);
  // The query string's fields whatever the method (MLflow's upload-artifact reads POST query arguments).
  static Result<RequestFields> FromQueryString(std::string_view query);
  explicit RequestFields(nlohmann::json j, bool from_query = false)
      : j_(std::move(j)), from_query_(from_query) {}

  Result<std::string> RequiredString(const char* key) const;
  Result<std::optional<std::string>> OptString(const char* key) const;
  // Integers: JSON numbers or decimal strings.
  Result<std::optional<int64_t>> OptInt(const char* key) const;
  Result<int64_t> RequiredInt(const char* key) const;
  // Doubles: numbers or "NaN"/"Infinity"/"-Infinity"/numeric strings.
  Result<double> RequiredDouble(const char* key) const;
  Result<std::optional<bool>> OptBool(const char* key) const;
  // A list of strings; a single string is taken as a one-element list.
  Result<std::vector<std::string>> StringList(const char* key) const;
  // A list of objects (absent → empty).
  Result<std::vector<RequestFields>> ObjectList(const char* key) const;
  Result<std::optional<RequestFields>> OptObject(const char* key) const;
  bool Has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& raw() const { return j_; }

 private:
  nlohmann::json j_;
  bool from_query_ = false;  // repeated query keys arrive as lists; a single value may be a 1-list
};

Status MissingParam(const std::string& key);
// MLflow's "Invalid value <value> for parameter '<key>' supplied. Hint: Value was of type '<type>'. ..."
// with the value and type printed as Python prints them (str() of the json.loads value).
Status InvalidParamValue(const std::string& key, const nlohmann::json& value);

}  // namespace tamga
