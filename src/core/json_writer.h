#pragma once
// Fast append-only JSON text writer for hot responses (metric history, search results).
// Doubles follow MLflow's wire twist: NaN/Infinity/-Infinity are written as JSON strings.
// Not thread-safe; one writer per response.
#include <cstdint>
#include <string>
#include <string_view>

namespace tamga {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() {
    Sep();
    out_->push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_->push_back('}');
    first_ = false;
  }
  void BeginArray() {
    Sep();
    out_->push_back('[');
    first_ = true;
  }
  void EndArray() {
    out_->push_back(']');
    first_ = false;
  }
  void Key(std::string_view k);
  void String(std::string_view v);
  void Int(int64_t v);
  void Double(double v);
  void Bool(bool v);
  void Null() {
    Sep();
    out_->append("null");
  }
  // Appends already-serialised JSON (trusted text produced by this process) as one value.
  void Raw(std::string_view json) {
    Sep();
    out_->append(json);
  }

  // Convenience: "k": value pairs.
  void Field(std::string_view k, std::string_view v) {
    Key(k);
    String(v);
  }
  void Field(std::string_view k, const char* v) {
    Key(k);
    String(v);
  }
  void Field(std::string_view k, const std::string& v) {
    Key(k);
    String(v);
  }
  void FieldInt(std::string_view k, int64_t v) {
    Key(k);
    Int(v);
  }
  void FieldDouble(std::string_view k, double v) {
    Key(k);
    Double(v);
  }
  void FieldBool(std::string_view k, bool v) {
    Key(k);
    Bool(v);
  }

 private:
  void Sep() {
    if (!first_ && after_key_ == false) out_->push_back(',');
    first_ = false;
    after_key_ = false;
  }
  std::string* out_;
  bool first_ = true;
  bool after_key_ = false;
};

// Appends s as a JSON string literal (quotes included), escaping per RFC 8259. Ill-formed UTF-8 becomes
// U+FFFD, so stored bytes of any kind always serialise to valid JSON.
void AppendJsonString(std::string* out, std::string_view s);
// Appends the shortest round-trip form of v; NaN/Inf as MLflow's quoted names.
void AppendJsonDouble(std::string* out, double v);

std::string Base64Encode(std::string_view in);
// Returns false on malformed input.
bool Base64Decode(std::string_view in, std::string* out);

}  // namespace tamga
