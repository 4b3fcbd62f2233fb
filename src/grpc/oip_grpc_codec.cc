#include "grpc/oip_grpc_codec.h"

#include <cstring>
#include <limits>

#include "serving/protocols/codec.h"

namespace tamga {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 28;

template <typename Out, typename In>
Status Narrow(const google::protobuf::RepeatedField<In>& in, const std::string& name, std::string* data) {
  data->resize(in.size() * sizeof(Out));
  char* p = data->data();
  for (In v : in) {
    if (v < static_cast<In>(std::numeric_limits<Out>::lowest()) ||
        v > static_cast<In>(std::numeric_limits<Out>::max())) {
      return InvalidArgument("input '" + name + "': value " + std::to_string(v) +
                             " does not fit its datatype");
    }
    Out o = static_cast<Out>(v);
    std::memcpy(p, &o, sizeof(Out));
    p += sizeof(Out);
  }
  return Status::Ok();
}

template <typename T>
void CopyRepeated(const google::protobuf::RepeatedField<T>& in, std::string* data) {
  data->assign(reinterpret_cast<const char*>(in.data()), in.size() * sizeof(T));
}

// Elements held by the typed contents (all fields must be empty but the one the datatype uses).
int64_t ContentCount(const inference::InferTensorContents& c) {
  return c.bool_contents_size() + c.int_contents_size() + c.int64_contents_size() + c.uint_contents_size() +
         c.uint64_contents_size() + c.fp32_contents_size() + c.fp64_contents_size() + c.bytes_contents_size();
}

Status FromContents(const inference::InferTensorContents& c, Tensor* t, int64_t elements) {
  const std::string& n = t->name;
  int64_t have = 0;
  Status s = Status::Ok();
  switch (t->dtype) {
    case DataType::kBool: {
      have = c.bool_contents_size();
      t->data.resize(have);
      for (int i = 0; i < have; ++i) t->data[i] = c.bool_contents(i) ? 1 : 0;
      break;
    }
    case DataType::kInt8:
      have = c.int_contents_size();
      s = Narrow<int8_t>(c.int_contents(), n, &t->data);
      break;
    case DataType::kInt16:
      have = c.int_contents_size();
      s = Narrow<int16_t>(c.int_contents(), n, &t->data);
      break;
    case DataType::kInt32:
      have = c.int_contents_size();
      CopyRepeated(c.int_contents(), &t->data);
      break;
    case DataType::kInt64:
      have = c.int64_contents_size();
      CopyRepeated(c.int64_contents(), &t->data);
      break;
    case DataType::kUint8:
      have = c.uint_contents_size();
      s = Narrow<uint8_t>(c.uint_contents(), n, &t->data);
      break;
    case DataType::kUint16:
      have = c.uint_contents_size();
      s = Narrow<uint16_t>(c.uint_contents(), n, &t->data);
      break;
    case DataType::kUint32:
      have = c.uint_contents_size();
      CopyRepeated(c.uint_contents(), &t->data);
      break;
    case DataType::kUint64:
      have = c.uint64_contents_size();
      CopyRepeated(c.uint64_contents(), &t->data);
      break;
    case DataType::kFp32:
      have = c.fp32_contents_size();
      CopyRepeated(c.fp32_contents(), &t->data);
      break;
    case DataType::kFp64:
      have = c.fp64_contents_size();
      CopyRepeated(c.fp64_contents(), &t->data);
      break;
    case DataType::kFp16:
      return InvalidArgument("input '" + n + "': FP16 data must be sent in raw_input_contents");
    case DataType::kBytes: {
      have = c.bytes_contents_size();
      size_t total = 0;
      for (const auto& b : c.bytes_contents()) total += 4 + b.size();
      t->data.reserve(total);
      for (const auto& b : c.bytes_contents()) {
        if (b.size() > std::numeric_limits<uint32_t>::max())
          return InvalidArgument("input '" + n + "': element too large");
        uint32_t len = static_cast<uint32_t>(b.size());
        t->data.append(reinterpret_cast<const char*>(&len), 4);
        t->data.append(b);
      }
      break;
    }
  }
  if (!s.ok()) return s;
  if (have != ContentCount(c)) {
    return InvalidArgument(std::string("input '") + n +
                           "': contents are in a field that does not match datatype " +
                           DataTypeName(t->dtype));
  }
  if (have != elements) {
    return InvalidArgument("input '" + n + "': shape " + ShapeString(t->shape) + " needs " +
                           std::to_string(elements) + " element(s), contents hold " + std::to_string(have));
  }
  return Status::Ok();
}

template <typename T, typename Field>
void AppendAs(const Tensor& t, Field* field) {
  int64_t n = static_cast<int64_t>(t.data.size() / sizeof(T));
  field->Reserve(static_cast<int>(n));
  const char* p = t.data.data();
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    field->AddAlreadyReserved(v);
  }
}

void ToContents(const Tensor& t, inference::InferTensorContents* c) {
  switch (t.dtype) {
    case DataType::kBool:
      for (char b : t.data) c->add_bool_contents(b != 0);
      break;
    case DataType::kInt8:
      for (size_t i = 0; i < t.data.size(); ++i) c->add_int_contents(static_cast<int8_t>(t.data[i]));
      break;
    case DataType::kInt16: {
      auto* f = c->mutable_int_contents();
      for (size_t i = 0; i < t.data.size(); i += 2) {
        int16_t v;
        std::memcpy(&v, t.data.data() + i, 2);
        f->Add(v);
      }
      break;
    }
    case DataType::kInt32:
      AppendAs<int32_t>(t, c->mutable_int_contents());
      break;
    case DataType::kInt64:
      AppendAs<int64_t>(t, c->mutable_int64_contents());
      break;
    case DataType::kUint8:
      for (unsigned char b : t.data) c->add_uint_contents(b);
      break;
    case DataType::kUint16: {
      auto* f = c->mutable_uint_contents();
      for (size_t i = 0; i < t.data.size(); i += 2) {
        uint16_t v;
        std::memcpy(&v, t.data.data() + i, 2);
        f->Add(v);
      }
      break;
    }
    case DataType::kUint32:
      AppendAs<uint32_t>(t, c->mutable_uint_contents());
      break;
    case DataType::kUint64:
      AppendAs<uint64_t>(t, c->mutable_uint64_contents());
      break;
    case DataType::kFp32:
      AppendAs<float>(t, c->mutable_fp32_contents());
      break;
    case DataType::kFp64:
      AppendAs<double>(t, c->mutable_fp64_contents());
      break;
    case DataType::kFp16:
      break;  // callers send FP16 raw
    case DataType::kBytes: {
      size_t off = 0;
      while (off + 4 <= t.data.size()) {
        uint32_t len;
        std::memcpy(&len, t.data.data() + off, 4);
        c->add_bytes_contents(t.data.substr(off + 4, len));
        off += 4 + len;
      }
      break;
    }
  }
}

}  // namespace

Result<std::vector<Tensor>> DecodeGrpcInputs(const inference::ModelInferRequest& req,
                                             const ModelSignature& sig) {
  bool raw = req.raw_input_contents_size() > 0;
  if (raw && req.raw_input_contents_size() != req.inputs_size()) {
    return InvalidArgument("raw_input_contents has " + std::to_string(req.raw_input_contents_size()) +
                           " entries for " + std::to_string(req.inputs_size()) + " input(s)");
  }
  std::vector<Tensor> inputs;
  inputs.reserve(req.inputs_size());
  for (int i = 0; i < req.inputs_size(); ++i) {
    const auto& in = req.inputs(i);
    Tensor t;
    t.name = in.name();
    if (t.name.empty()) return InvalidArgument("input " + std::to_string(i) + " has no name");
    auto dt = ParseDataType(in.datatype());
    if (!dt)
      return InvalidArgument("input '" + t.name.substr(0, 100) + "': unknown datatype '" +
                             in.datatype().substr(0, 40) + "'");
    t.dtype = *dt;
    if (in.shape_size() > 8) return InvalidArgument("input '" + t.name + "' has more than 8 dimensions");
    int64_t elements = 1;
    for (int64_t d : in.shape()) {
      if (d < 0) return InvalidArgument("input '" + t.name + "': 'shape' must be non-negative");
      if (d > 0 && elements > kMaxElements / d) return InvalidArgument("input '" + t.name + "' is too large");
      elements *= d;
      t.shape.push_back(d);
    }
    if (raw) {
      if (in.has_contents() && ContentCount(in.contents()) > 0) {
        return InvalidArgument("input '" + t.name + "' sets contents while raw_input_contents is used");
      }
      t.data = req.raw_input_contents(i);
    } else {
      TAMGA_RETURN_IF_ERROR(FromContents(in.contents(), &t, elements));
    }
    TAMGA_RETURN_IF_ERROR(ValidateTensor(t));
    inputs.push_back(std::move(t));
  }
  return MatchInputs(std::move(inputs), sig);
}

Status EncodeGrpcOutputs(const inference::ModelInferRequest& req, std::vector<Tensor> outputs, bool raw,
                         inference::ModelInferResponse* resp) {
  for (const auto& want : req.outputs()) {
    bool found = false;
    for (const auto& t : outputs) found = found || t.name == want.name();
    if (!found) return InvalidArgument("unknown requested output '" + want.name().substr(0, 100) + "'");
  }
  // raw_output_contents is all-or-nothing, and FP16 has no typed field: one FP16 output makes all raw.
  for (const auto& t : outputs) raw = raw || t.dtype == DataType::kFp16;
  for (auto& t : outputs) {
    if (req.outputs_size() > 0) {
      bool wanted = false;
      for (const auto& want : req.outputs()) wanted = wanted || want.name() == t.name;
      if (!wanted) continue;
    }
    auto* o = resp->add_outputs();
    o->set_name(t.name);
    o->set_datatype(DataTypeName(t.dtype));
    for (int64_t d : t.shape) o->add_shape(d);
    if (raw) {
      resp->add_raw_output_contents(std::move(t.data));
    } else {
      ToContents(t, o->mutable_contents());
    }
  }
  return Status::Ok();
}

void FillGrpcMetadata(const std::string& model, const std::string& version, const std::string& platform,
                      const ModelSignature& sig, inference::ModelMetadataResponse* resp) {
  resp->set_name(model);
  if (!version.empty()) resp->add_versions(version);
  resp->set_platform(platform);
  auto add = [](const TensorSpec& s, inference::ModelMetadataResponse::TensorMetadata* m) {
    m->set_name(s.name);
    m->set_datatype(DataTypeName(s.dtype));
    for (int64_t d : s.shape) m->add_shape(d);
  };
  for (const auto& s : sig.inputs) add(s, resp->add_inputs());
  for (const auto& s : sig.outputs) add(s, resp->add_outputs());
}

}  // namespace tamga
