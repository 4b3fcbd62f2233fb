#pragma once
// Model signatures the serving-codec fuzzers decode against (no model, no LibTorch): a selector byte picks
// one, so the corpus covers tensor-based, multi-input, column-based (one table or one tensor per column),
// shape-free and dtype-free models. Built once; read-only afterwards.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "serving/runtime/model_runtime.h"

namespace tamga::fuzz {

inline const ModelSignature& FuzzSignature(uint8_t selector) {
  static const std::vector<ModelSignature> kSigs = [] {
    std::vector<ModelSignature> v;
    auto mlflow = [&](const char* in, const char* out) {
      auto s = ParseMlflowSignature(in, out);
      if (!s.ok()) std::abort();  // the fixed signatures below are valid
      return *s;
    };
    ModelSignature one;
    one.inputs = {TensorSpec{"input-0", DataType::kFp32, {-1, 4}}};
    one.outputs = {TensorSpec{"output-0", DataType::kFp32, {-1, 1}}};
    v.push_back(one);
    ModelSignature two;
    two.inputs = {TensorSpec{"ids", DataType::kInt64, {-1}}, TensorSpec{"text", DataType::kBytes, {-1}},
                  TensorSpec{"mask", DataType::kBool, {-1, 2}}};
    two.outputs = {TensorSpec{"score", DataType::kFp64, {-1}}};
    v.push_back(two);
    v.push_back(
        mlflow(R"([{"name":"x","type":"double"},{"name":"y","type":"long"},{"name":"z","type":"float"}])",
               R"([{"type":"tensor","tensor-spec":{"dtype":"float64","shape":[-1]}}])"));
    ModelSignature cols = mlflow(R"([{"name":"a","type":"string"},{"name":"b","type":"integer"},)"
                                 R"({"name":"c","type":"boolean"}])",
                                 R"([{"type":"double"}])");
    cols.column_tensors = true;
    cols.inputs = cols.column_specs;
    v.push_back(cols);
    ModelSignature free;
    free.inputs = {TensorSpec{"input-0", DataType::kFp32, {}}};
    free.shapes_known = false;
    v.push_back(free);
    ModelSignature any;
    any.inputs = {TensorSpec{"input-0", DataType::kFp32, {-1, -1}}};
    any.dtypes_known = false;
    any.batched = false;
    v.push_back(any);
    v.push_back(mlflow(R"([{"type":"tensor","tensor-spec":{"dtype":"uint8","shape":[-1,2,2]}},)"
                       R"({"name":"h","type":"tensor","tensor-spec":{"dtype":"float16","shape":[-1]}}])",
                       R"([{"type":"tensor","tensor-spec":{"dtype":"int8","shape":[-1]}}])"));
    return v;
  }();
  return kSigs[selector % kSigs.size()];
}

}  // namespace tamga::fuzz
