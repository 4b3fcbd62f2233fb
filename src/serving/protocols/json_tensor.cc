#include "serving/protocols/json_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace tamga::serving_internal {
namespace {

template <typename T>
void Put(Tensor* t, T v) {
  t->data.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
Status PutInt(Tensor* t, const nlohmann::json& e) {
  if (e.is_boolean()) {
    Put<T>(t, static_cast<T>(e.get<bool>()));
    return Status::Ok();
  }
  if (!e.is_number()) return InvalidArgument("expected a number, got " + std::string(e.type_name()));
  double d = e.get<double>();
  if (e.is_number_float() && std::floor(d) != d)
    return InvalidArgument("expected an integer, got " + e.dump());
  if (e.is_number_unsigned()) {
    uint64_t u = e.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return InvalidArgument("integer out of range: " + e.dump());
    Put<T>(t, static_cast<T>(u));
    return Status::Ok();
  }
  // A float is range-checked before it is converted: casting an out-of-range double is undefined behaviour.
  if (!e.is_number_integer() && !(d >= -9.2e18 && d <= 9.2e18))
    return InvalidArgument("integer out of range: " + e.dump());
  int64_t i = e.is_number_integer() ? e.get<int64_t>() : static_cast<int64_t>(d);
  if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
    return InvalidArgument("integer out of range: " + e.dump());
  }
  Put<T>(t, static_cast<T>(i));
  return Status::Ok();
}

Result<double> AsDouble(const nlohmann::json& e) {
  if (e.is_number()) return e.get<double>();
  if (e.is_boolean()) return e.get<bool>() ? 1.0 : 0.0;
  if (e.is_string()) {  // MLflow's wire form of non-finite values
    const auto& s = e.get_ref<const std::string&>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  if (e.is_null()) return std::nan("");  // missing value (pandas None)
  return InvalidArgument("expected a number, got " + std::string(e.type_name()) + " " +
                         e.dump().substr(0, 50));
}

Status PutElement(const nlohmann::json& e, DataType dtype, Tensor* t) {
  switch (dtype) {
    case DataType::kBool:
      if (!e.is_boolean() && !e.is_number_integer())
        return InvalidArgument("expected a boolean, got " + e.dump().substr(0, 50));
      Put<uint8_t>(t, e.is_boolean() ? e.get<bool>() : e.get<int64_t>() != 0);
      return Status::Ok();
    case DataType::kUint8:
      return PutInt<uint8_t>(t, e);
    case DataType::kUint16:
      return PutInt<uint16_t>(t, e);
    case DataType::kUint32:
      return PutInt<uint32_t>(t, e);
    case DataType::kUint64:
      return PutInt<uint64_t>(t, e);
    case DataType::kInt8:
      return PutInt<int8_t>(t, e);
    case DataType::kInt16:
      return PutInt<int16_t>(t, e);
    case DataType::kInt32:
      return PutInt<int32_t>(t, e);
    case DataType::kInt64:
      return PutInt<int64_t>(t, e);
    case DataType::kFp32: {
      TAMGA_ASSIGN_OR_RETURN(double d, AsDouble(e));
      Put<float>(t, static_cast<float>(d));
      return Status::Ok();
    }
    case DataType::kFp64: {
      TAMGA_ASSIGN_OR_RETURN(double d, AsDouble(e));
      Put<double>(t, d);
      return Status::Ok();
    }
    case DataType::kBytes: {
      if (!e.is_string())
        return InvalidArgument("expected a string for BYTES, got " + std::string(e.type_name()));
      const auto& s = e.get_ref<const std::string&>();
      uint32_t len = static_cast<uint32_t>(s.size());
      Put<uint32_t>(t, len);
      t->data.append(s);
      return Status::Ok();
    }
    case DataType::kFp16:
      return InvalidArgument("FP16 has no JSON representation; send it with the binary tensor extension");
  }
  return InvalidArgument("unsupported datatype");
}

template <typename T>
void WriteNumber(JsonWriter& w, const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::is_floating_point_v<T>)
    w.Double(static_cast<double>(v));
  else if constexpr (std::is_same_v<T, uint64_t>)
    w.Raw(std::to_string(v));
  else
    w.Int(static_cast<int64_t>(v));
}

}  // namespace

Result<std::vector<int64_t>> NestedShape(const nlohmann::json& v) {
  std::vector<int64_t> shape;
  const nlohmann::json* cur = &v;
  while (cur->is_array()) {
    shape.push_back(static_cast<int64_t>(cur->size()));
    if (cur->empty()) break;
    cur = &(*cur)[0];
  }
  return shape;
}

// Iterative (an explicit stack), so nesting costs heap, not call stack, whatever the parser allowed.
Result<int64_t> AppendElements(const nlohmann::json& v, DataType dtype, Tensor* t) {
  if (!v.is_array()) {
    TAMGA_RETURN_IF_ERROR(PutElement(v, dtype, t));
    return int64_t{1};
  }
  struct Frame {
    const nlohmann::json* array;
    size_t next;
  };
  std::vector<Frame> stack{{&v, 0}};
  int64_t n = 0;
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.array->size()) {
      stack.pop_back();
      continue;
    }
    const nlohmann::json& e = (*f.array)[f.next++];
    if (e.is_array()) {
      stack.push_back({&e, 0});
      continue;
    }
    TAMGA_RETURN_IF_ERROR(PutElement(e, dtype, t));
    ++n;
  }
  return n;
}

void WriteElements(JsonWriter& w, const Tensor& t, bool flat) {
  size_t size = DataTypeSize(t.dtype);
  const char* p = t.data.data();
  size_t off = 0;
  int64_t n = t.NumElements();
  std::vector<int64_t> dims = flat ? std::vector<int64_t>{n} : t.shape;
  if (dims.empty()) dims = {};  // scalar
  // Iterative nested write: open brackets per dimension as indices roll over.
  std::vector<int64_t> idx(dims.size(), 0);
  auto element = [&] {
    switch (t.dtype) {
      case DataType::kBool:
        w.Bool(p[off] != 0);
        off += 1;
        break;
      case DataType::kUint8:
        WriteNumber<uint8_t>(w, p + off);
        off += size;
        break;
      case DataType::kUint16:
        WriteNumber<uint16_t>(w, p + off);
        off += size;
        break;
      case DataType::kUint32:
        WriteNumber<uint32_t>(w, p + off);
        off += size;
        break;
      case DataType::kUint64:
        WriteNumber<uint64_t>(w, p + off);
        off += size;
        break;
      case DataType::kInt8:
        WriteNumber<int8_t>(w, p + off);
        off += size;
        break;
      case DataType::kInt16:
        WriteNumber<int16_t>(w, p + off);
        off += size;
        break;
      case DataType::kInt32:
        WriteNumber<int32_t>(w, p + off);
        off += size;
        break;
      case DataType::kInt64:
        WriteNumber<int64_t>(w, p + off);
        off += size;
        break;
      case DataType::kFp32:
        WriteNumber<float>(w, p + off);
        off += size;
        break;
      case DataType::kFp64:
        WriteNumber<double>(w, p + off);
        off += size;
        break;
      case DataType::kFp16:
        w.Null();
        off += 2;
        break;
      case DataType::kBytes: {
        uint32_t len;
        std::memcpy(&len, p + off, 4);
        w.String(std::string_view(p + off + 4, len));
        off += 4 + len;
        break;
      }
    }
  };
  if (dims.empty()) return element();
  // Iterative nested write: an odometer over the dimensions opens and closes one bracket per level.
  size_t d = 0;
  w.BeginArray();
  for (;;) {
    if (idx[d] < dims[d]) {
      if (d + 1 == dims.size()) {
        element();
        ++idx[d];
      } else {
        idx[++d] = 0;
        w.BeginArray();
      }
      continue;
    }
    w.EndArray();
    if (d == 0) break;
    ++idx[--d];
  }
}

void WriteTensorHead(JsonWriter& w, const std::string& name, DataType dtype,
                     const std::vector<int64_t>& shape) {
  w.Field("name", name);
  w.Field("datatype", DataTypeName(dtype));
  w.Key("shape");
  w.BeginArray();
  for (int64_t d : shape) w.Int(d);
  w.EndArray();
}

}  // namespace tamga::serving_internal
