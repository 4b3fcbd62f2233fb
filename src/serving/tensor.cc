#include "serving/tensor.h"

#include <cmath>
#include <cstring>

namespace tamga {
namespace {

struct TypeInfo {
  DataType type;
  const char* name;
  size_t size;
};

constexpr TypeInfo kTypes[] = {
    {DataType::kBool, "BOOL", 1},     {DataType::kUint8, "UINT8", 1},   {DataType::kUint16, "UINT16", 2},
    {DataType::kUint32, "UINT32", 4}, {DataType::kUint64, "UINT64", 8}, {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2},   {DataType::kInt32, "INT32", 4},   {DataType::kInt64, "INT64", 8},
    {DataType::kFp16, "FP16", 2},     {DataType::kFp32, "FP32", 4},     {DataType::kFp64, "FP64", 8},
    {DataType::kBytes, "BYTES", 0},
};

// Byte offset of the end of row `rows` in a BYTES tensor whose rows hold `per_row` elements.
size_t BytesOffset(const Tensor& t, int64_t rows, int64_t per_row) {
  size_t off = 0;
  for (int64_t i = 0; i < rows * per_row; ++i) {
    uint32_t len;
    std::memcpy(&len, t.data.data() + off, 4);
    off += 4 + len;
  }
  return off;
}

}  // namespace

const char* DataTypeName(DataType t) { return kTypes[static_cast<int>(t)].name; }

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const auto& ti : kTypes) {
    if (name == ti.name) return ti.type;
  }
  return std::nullopt;
}

size_t DataTypeSize(DataType t) { return kTypes[static_cast<int>(t)].size; }

int64_t Tensor::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Status ValidateTensor(const Tensor& t) {
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0) return InvalidArgument("tensor '" + t.name + "' has a negative dimension");
    if (d > 0 && n > (int64_t{1} << 40) / d) return InvalidArgument("tensor '" + t.name + "' is too large");
    n *= d;
  }
  if (t.dtype != DataType::kBytes) {
    size_t want = static_cast<size_t>(n) * DataTypeSize(t.dtype);
    if (t.data.size() != want) {
      return InvalidArgument("tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                             " bytes of data; shape " + ShapeString(t.shape) + " of " +
                             DataTypeName(t.dtype) + " needs " + std::to_string(want));
    }
    return Status::Ok();
  }
  size_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (t.data.size() - off < 4) return InvalidArgument("tensor '" + t.name + "': truncated BYTES element");
    uint32_t len;
    std::memcpy(&len, t.data.data() + off, 4);
    if (t.data.size() - off - 4 < len)
      return InvalidArgument("tensor '" + t.name + "': truncated BYTES element");
    off += 4 + len;
  }
  if (off != t.data.size())
    return InvalidArgument("tensor '" + t.name + "': extra bytes after the last element");
  return Status::Ok();
}

bool ShapeMatches(const std::vector<int64_t>& shape, const std::vector<int64_t>& spec) {
  if (shape.size() != spec.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (spec[i] >= 0 && shape[i] != spec[i]) return false;
  }
  return true;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

bool RowCompatible(const Tensor& a, const Tensor& b) {
  if (a.dtype != b.dtype || a.shape.size() != b.shape.size() || a.shape.empty()) return false;
  for (size_t i = 1; i < a.shape.size(); ++i) {
    if (a.shape[i] != b.shape[i]) return false;
  }
  return true;
}

Tensor ConcatRows(const std::vector<const Tensor*>& parts) {
  Tensor out;
  out.name = parts[0]->name;
  out.dtype = parts[0]->dtype;
  out.shape = parts[0]->shape;
  int64_t rows = 0;
  size_t bytes = 0;
  for (const Tensor* p : parts) {
    rows += p->Rows();
    bytes += p->data.size();
  }
  out.shape[0] = rows;
  out.data.reserve(bytes);
  for (const Tensor* p : parts) out.data.append(p->data);
  return out;
}

Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count) {
  Tensor out;
  out.name = t.name;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.shape[0] = count;
  int64_t per_row = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) per_row *= t.shape[i];
  if (t.dtype == DataType::kBytes) {
    size_t a = BytesOffset(t, begin, per_row), b = BytesOffset(t, begin + count, per_row);
    out.data = t.data.substr(a, b - a);
  } else {
    size_t row_bytes = static_cast<size_t>(per_row) * DataTypeSize(t.dtype);
    out.data = t.data.substr(static_cast<size_t>(begin) * row_bytes, static_cast<size_t>(count) * row_bytes);
  }
  return out;
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  const char* p = t.data.data();
  auto read = [&](auto tag) {
    decltype(tag) v;
    std::memcpy(&v, p + i * sizeof(v), sizeof(v));
    return static_cast<double>(v);
  };
  switch (t.dtype) {
    case DataType::kBool:
    case DataType::kUint8:
      return read(uint8_t{});
    case DataType::kUint16:
      return read(uint16_t{});
    case DataType::kUint32:
      return read(uint32_t{});
    case DataType::kUint64:
      return read(uint64_t{});
    case DataType::kInt8:
      return read(int8_t{});
    case DataType::kInt16:
      return read(int16_t{});
    case DataType::kInt32:
      return read(int32_t{});
    case DataType::kInt64:
      return read(int64_t{});
    case DataType::kFp32:
      return read(float{});
    case DataType::kFp64:
      return read(double{});
    case DataType::kFp16: {
      uint16_t h;
      std::memcpy(&h, p + i * 2, 2);
      int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
      double v = exp == 0    ? std::ldexp(mant, -24)
                 : exp == 31 ? (mant ? NAN : INFINITY)
                             : std::ldexp(mant + 1024, exp - 25);
      return (h & 0x8000) ? -v : v;
    }
    case DataType::kBytes:
      break;
  }
  return 0;
}

}  // namespace tamga
