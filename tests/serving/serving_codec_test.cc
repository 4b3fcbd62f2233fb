// Pure serving codecs: the Python worker's frames, OIP gRPC tensor decoding, raw binary V2 requests and
// per-column MLflow tables.
#include <gtest/gtest.h>

#include <cstring>

#include "grpc/oip_grpc_codec.h"
#include "serving/protocols/codec.h"
#include "serving/runtime/python/worker_protocol.h"

namespace tamga {
namespace {

Tensor Fp32(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
  Tensor t;
  t.name = name;
  t.dtype = DataType::kFp32;
  t.shape = std::move(shape);
  t.data.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return t;
}

Tensor Bytes(const std::string& name, std::vector<std::string> items) {
  Tensor t;
  t.name = name;
  t.dtype = DataType::kBytes;
  t.shape = {static_cast<int64_t>(items.size())};
  for (const auto& s : items) {
    uint32_t n = static_cast<uint32_t>(s.size());
    t.data.append(reinterpret_cast<const char*>(&n), 4);
    t.data += s;
  }
  return t;
}

TEST(WorkerProtocol, RoundTripsTensors) {
  std::vector<Tensor> in = {Fp32("x", {2, 2}, {1, 2, 3, 4}), Bytes("name", {"abc", "", "héllo"})};
  std::string payload = pyworker::EncodeTensors(in);
  auto out = pyworker::DecodeTensors(payload);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "x");
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ((*out)[0].data, in[0].data);
  EXPECT_EQ((*out)[1].dtype, DataType::kBytes);
  EXPECT_EQ((*out)[1].data, in[1].data);
  std::string header = pyworker::EncodeFrameHeader(pyworker::FrameKind::kPredict, payload.size());
  ASSERT_EQ(header.size(), pyworker::kFrameHeader);
  uint32_t len;
  std::memcpy(&len, header.data(), 4);
  EXPECT_EQ(len, payload.size());
  EXPECT_EQ(header[4], 2);
}

TEST(WorkerProtocol, RejectsEveryTruncationAndTrailingBytes) {
  std::string payload = pyworker::EncodeTensors({Fp32("x", {1, 3}, {1, 2, 3}), Bytes("s", {"ab"})});
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(pyworker::DecodeTensors(payload.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(pyworker::DecodeTensors(payload + "x").ok());
  // A shape that disagrees with the byte count.
  Tensor bad = Fp32("x", {2, 3}, {1, 2, 3});
  EXPECT_FALSE(pyworker::DecodeTensors(pyworker::EncodeTensors({bad})).ok());
}

ModelSignature OneInput(DataType dt, std::vector<int64_t> shape) {
  ModelSignature sig;
  sig.inputs = {TensorSpec{"input-0", dt, std::move(shape)}};
  return sig;
}

TEST(GrpcCodec, TypedContentsNarrowAndCheckRange) {
  inference::ModelInferRequest req;
  auto* in = req.add_inputs();
  in->set_name("input-0");
  in->set_datatype("INT8");
  in->add_shape(1);
  in->add_shape(3);
  for (int v : {-128, 0, 127}) in->mutable_contents()->add_int_contents(v);
  auto ok = DecodeGrpcInputs(req, OneInput(DataType::kInt8, {-1, 3}));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].data, std::string("\x80\x00\x7f", 3));
  in->mutable_contents()->set_int_contents(2, 128);
  auto over = DecodeGrpcInputs(req, OneInput(DataType::kInt8, {-1, 3}));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("does not fit"), std::string::npos);
}

TEST(GrpcCodec, BytesContentsAndEncodeBack) {
  inference::ModelInferRequest req;
  auto* in = req.add_inputs();
  in->set_name("s");
  in->set_datatype("BYTES");
  in->add_shape(2);
  in->mutable_contents()->add_bytes_contents("ab");
  in->mutable_contents()->add_bytes_contents("xyz");
  auto t = DecodeGrpcInputs(req, OneInput(DataType::kBytes, {-1}));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ((*t)[0].data, Bytes("s", {"ab", "xyz"}).data);
  inference::ModelInferResponse resp;
  ASSERT_TRUE(EncodeGrpcOutputs(req, *t, false, &resp).ok());
  ASSERT_EQ(resp.outputs(0).contents().bytes_contents_size(), 2);
  EXPECT_EQ(resp.outputs(0).contents().bytes_contents(1), "xyz");
  EXPECT_EQ(resp.raw_output_contents_size(), 0);
}

TEST(V2Raw, DeducesTheVariableDimensionAndRejectsPartialElements) {
  ModelSignature sig = OneInput(DataType::kFp32, {-1, -1});
  std::string body(12, '\0');
  auto r = ParseV2RawRequest(body, sig);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(r->binary_output);
  EXPECT_FALSE(ParseV2RawRequest(std::string(10, '\0'), sig).ok());
  EXPECT_FALSE(ParseV2RawRequest(body, OneInput(DataType::kFp32, {-1, -1, -1})).ok());
  ModelSignature two = sig;
  two.inputs.push_back(TensorSpec{"b", DataType::kFp32, {-1}});
  EXPECT_FALSE(ParseV2RawRequest(body, two).ok());
}

TEST(MlflowTable, PerColumnTensorsKeepEachColumnsType) {
  auto sig = ParseMlflowSignature(R"([{"type":"string","name":"s"},{"type":"long","name":"n"}])", "");
  ASSERT_TRUE(sig.ok());
  sig->inputs = sig->column_specs;
  sig->column_tensors = true;
  auto t = ParseInvocations("application/json",
                            R"({"dataframe_split":{"columns":["n","s"],"data":[[3,"a"],[4,"bc"]]}})", *sig);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].dtype, DataType::kBytes);
  EXPECT_EQ((*t)[0].data, Bytes("s", {"a", "bc"}).data);
  EXPECT_EQ((*t)[1].dtype, DataType::kInt64);
  EXPECT_EQ((*t)[1].shape, (std::vector<int64_t>{2}));
  auto csv = ParseInvocations("text/csv", "s,n\nhello,5\n", *sig);
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  EXPECT_EQ((*csv)[0].data, Bytes("s", {"hello"}).data);
  EXPECT_FALSE(ParseInvocations("text/csv", "s,n\nhello,notanumber\n", *sig).ok());
}

}  // namespace
}  // namespace tamga
