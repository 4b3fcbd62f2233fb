#pragma once
// JSON <-> tensor element conversion shared by the protocol codecs (not a public API).
#include <nlohmann/json.hpp>

#include "core/json_writer.h"
#include "core/result.h"
#include "serving/tensor.h"

namespace tamga::serving_internal {

// Infers the shape from a (possibly nested) rectangular JSON array; a scalar has shape [].
Result<std::vector<int64_t>> NestedShape(const nlohmann::json& v);
// Appends the flattened elements of `v` (nested or flat) converted to `dtype` to `t->data`; returns how
// many elements were written.
Result<int64_t> AppendElements(const nlohmann::json& v, DataType dtype, Tensor* t);
// Writes the "name", "datatype" and "shape" fields of a tensor or tensor spec (inside an open object).
void WriteTensorHead(JsonWriter& w, const std::string& name, DataType dtype,
                     const std::vector<int64_t>& shape);
// Writes the tensor's elements as a nested JSON array following its shape (flat when `flat`).
void WriteElements(JsonWriter& w, const Tensor& t, bool flat);

}  // namespace tamga::serving_internal
