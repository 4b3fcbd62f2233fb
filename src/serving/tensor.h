#pragma once
// Tensors as the serving core moves them: a name, an Open Inference Protocol datatype, a shape and the
// elements as raw little-endian bytes, row-major, unpadded (the OIP binary layout), so protocols and
// runtimes exchange buffers without per-element conversion. BYTES elements are stored as a 4-byte
// little-endian length followed by the bytes (the OIP binary-extension layout).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tamga {

enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kBytes
};

// "FP32", "INT64", ... (OIP names).
const char* DataTypeName(DataType t);
std::optional<DataType> ParseDataType(std::string_view name);
// Element size in bytes; 0 for BYTES (variable).
size_t DataTypeSize(DataType t);

struct TensorSpec {
  std::string name;
  DataType dtype = DataType::kFp32;
  std::vector<int64_t> shape;  // -1 = variable
};

struct Tensor {
  std::string name;
  DataType dtype = DataType::kFp32;
  std::vector<int64_t> shape;
  std::string data;

  int64_t NumElements() const;
  // Dimension 0 (the batch), 1 for a scalar.
  int64_t Rows() const { return shape.empty() ? 1 : shape[0]; }
  template <typename T>
  const T* As() const {
    return reinterpret_cast<const T*>(data.data());
  }
  template <typename T>
  T* MutableAs() {
    return reinterpret_cast<T*>(data.data());
  }
};

// Checks that `data` holds exactly the bytes the dtype and shape call for (BYTES: well-formed elements).
Status ValidateTensor(const Tensor& t);
// Does `shape` fit `spec` (same rank, equal where the spec is fixed)?
bool ShapeMatches(const std::vector<int64_t>& shape, const std::vector<int64_t>& spec);
std::string ShapeString(const std::vector<int64_t>& shape);

// Concatenates tensors along dimension 0 (same dtype and trailing dimensions; caller checks).
Tensor ConcatRows(const std::vector<const Tensor*>& parts);
// Rows [begin, begin + count) of a tensor with at least one dimension.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count);
// Same trailing dimensions and dtype: can be stacked along dimension 0.
bool RowCompatible(const Tensor& a, const Tensor& b);

// Element `i` (row-major) of a numeric tensor as a double (FP16 decoded); 0 for BYTES.
double ElementAsDouble(const Tensor& t, int64_t i);

}  // namespace tamga
