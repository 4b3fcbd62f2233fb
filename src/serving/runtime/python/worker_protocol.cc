#include "serving/runtime/python/worker_protocol.h"

#include <cstring>

namespace tamga::pyworker {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view buf) : buf_(buf) {}
  template <typename T>
  bool Get(T* v) {
    if (buf_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, buf_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (buf_.size() - pos_ < n) return false;
    *v = buf_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Done() const { return pos_ == buf_.size(); }

 private:
  std::string_view buf_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeFrameHeader(FrameKind kind, size_t payload_size) {
  std::string h;
  Put<uint32_t>(&h, static_cast<uint32_t>(payload_size));
  Put<uint8_t>(&h, static_cast<uint8_t>(kind));
  return h;
}

std::string EncodeTensors(const std::vector<Tensor>& tensors) {
  size_t total = 4;
  for (const auto& t : tensors)
    total += 2 + t.name.size() + 1 + 8 + 1 + 8 * t.shape.size() + 8 + t.data.size();
  std::string out;
  out.reserve(total);
  Put<uint32_t>(&out, static_cast<uint32_t>(tensors.size()));
  for (const auto& t : tensors) {
    std::string name = t.name.substr(0, 0xffff);
    Put<uint16_t>(&out, static_cast<uint16_t>(name.size()));
    out += name;
    std::string dtype = DataTypeName(t.dtype);
    Put<uint8_t>(&out, static_cast<uint8_t>(dtype.size()));
    out += dtype;
    Put<uint8_t>(&out, static_cast<uint8_t>(t.shape.size()));
    for (int64_t d : t.shape) Put<int64_t>(&out, d);
    Put<uint64_t>(&out, t.data.size());
    out += t.data;
  }
  return out;
}

Result<std::vector<Tensor>> DecodeTensors(std::string_view payload) {
  Reader r(payload);
  uint32_t count;
  if (!r.Get(&count)) return InvalidArgument("worker frame: truncated tensor count");
  if (count > 4096) return InvalidArgument("worker frame: too many tensors");
  std::vector<Tensor> out;
  for (uint32_t i = 0; i < count; ++i) {
    Tensor t;
    uint16_t nlen;
    std::string_view name, dtype, data;
    uint8_t dlen, rank;
    uint64_t nbytes;
    if (!r.Get(&nlen) || !r.Bytes(nlen, &name) || !r.Get(&dlen) || !r.Bytes(dlen, &dtype) || !r.Get(&rank)) {
      return InvalidArgument("worker frame: truncated tensor header");
    }
    if (rank > 16) return InvalidArgument("worker frame: tensor rank over 16");
    for (uint8_t k = 0; k < rank; ++k) {
      int64_t d;
      if (!r.Get(&d)) return InvalidArgument("worker frame: truncated shape");
      t.shape.push_back(d);
    }
    if (!r.Get(&nbytes) || !r.Bytes(nbytes, &data))
      return InvalidArgument("worker frame: truncated tensor data");
    auto dt = ParseDataType(dtype);
    if (!dt) return InvalidArgument("worker frame: unknown datatype " + std::string(dtype.substr(0, 20)));
    t.name = std::string(name);
    t.dtype = *dt;
    t.data = std::string(data);
    TAMGA_RETURN_IF_ERROR(ValidateTensor(t));
    out.push_back(std::move(t));
  }
  if (!r.Done()) return InvalidArgument("worker frame: trailing bytes");
  return out;
}

}  // namespace tamga::pyworker
