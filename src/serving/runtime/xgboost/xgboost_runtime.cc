// XGBoost through its C API: load a booster (.json, .ubj or legacy binary) and predict in place from a
// dense float buffer (XGBoosterPredictFromDense: no DMatrix per request).
#include <xgboost/c_api.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "serving/runtime/model_runtime.h"

namespace tamga {
namespace {

std::string LastError() { return XGBGetLastError(); }

class XgboostRuntime final : public ModelRuntime {
 public:
  XgboostRuntime(BoosterHandle booster, ModelSignature sig, bool classifier, int64_t file_bytes)
      : booster_(booster), sig_(std::move(sig)), classifier_(classifier), file_bytes_(file_bytes) {}
  ~XgboostRuntime() override { XGBoosterFree(booster_); }

  const ModelSignature& signature() const override { return sig_; }
  std::string platform() const override { return "xgboost"; }
  ResourceEstimate resources() const override { return {file_bytes_, 0}; }

  Result<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs) override {
    const Tensor& in = inputs.at(0);
    int64_t rows = in.Rows();
    int64_t cols = in.shape.size() > 1 ? in.shape[1] : 1;
    const float* data = nullptr;
    std::vector<float> converted;
    if (in.dtype == DataType::kFp32) {
      data = in.As<float>();
    } else if (in.dtype == DataType::kFp64) {
      converted.resize(static_cast<size_t>(rows * cols));
      const double* d = in.As<double>();
      for (size_t i = 0; i < converted.size(); ++i) converted[i] = static_cast<float>(d[i]);
      data = converted.data();
    } else {
      return InvalidArgument("XGBoost input must be FP32 or FP64, got " +
                             std::string(DataTypeName(in.dtype)));
    }
    char iface[256];
    std::snprintf(iface, sizeof(iface),
                  "{\"data\": [%llu, true], \"shape\": [%lld, %lld], \"typestr\": \"<f4\", \"version\": 3}",
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)),
                  static_cast<long long>(rows), static_cast<long long>(cols));
    static const char* kConfig =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    if (XGBoosterPredictFromDense(booster_, iface, kConfig, nullptr, &shape, &dim, &result) != 0) {
      return InvalidArgument("XGBoost prediction failed: " + LastError());
    }
    Tensor out;
    out.name = sig_.outputs.empty() ? "output-0" : sig_.outputs[0].name;
    out.dtype = DataType::kFp32;
    int64_t n = 1;
    for (bst_ulong i = 0; i < dim; ++i) {
      out.shape.push_back(static_cast<int64_t>(shape[i]));
      n *= static_cast<int64_t>(shape[i]);
    }
    if (out.shape.empty() || out.shape[0] != rows) out.shape = {rows, rows ? n / rows : 0};
    out.data.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(n) * sizeof(float));
    return std::vector<Tensor>{std::move(out)};
  }

  // Runs one all-zero row to learn the output width (1 for regression/binary, K for K classes).
  Status ProbeOutputShape() {
    Tensor probe;
    probe.name = sig_.inputs[0].name;
    probe.dtype = DataType::kFp32;
    int64_t cols = sig_.inputs[0].shape[1];
    probe.shape = {1, cols};
    probe.data.assign(static_cast<size_t>(cols) * sizeof(float), '\0');
    TAMGA_ASSIGN_OR_RETURN(auto out, Execute({probe}));
    int64_t width = out[0].NumElements();
    sig_.outputs[0].shape = width <= 1 ? std::vector<int64_t>{-1} : std::vector<int64_t>{-1, width};
    return Status::Ok();
  }

  std::vector<Tensor> ToMlflowPredictions(std::vector<Tensor> outputs) const override {
    if (!classifier_ || outputs.empty()) return outputs;
    // XGBClassifier.predict: class labels (binary: p > 0.5; multi-class: argmax).
    const Tensor& p = outputs[0];
    int64_t rows = p.Rows();
    int64_t k = p.shape.size() > 1 ? p.shape[1] : 1;
    Tensor labels;
    labels.name = p.name;
    labels.dtype = DataType::kInt64;
    labels.shape = {rows};
    labels.data.resize(static_cast<size_t>(rows) * 8);
    const float* v = p.As<float>();
    int64_t* l = labels.MutableAs<int64_t>();
    for (int64_t r = 0; r < rows; ++r) {
      if (k == 1) {
        l[r] = v[r] > 0.5f ? 1 : 0;
      } else {
        int64_t best = 0;
        for (int64_t c = 1; c < k; ++c) {
          if (v[r * k + c] > v[r * k + best]) best = c;
        }
        l[r] = best;
      }
    }
    return {std::move(labels)};
  }

 private:
  BoosterHandle booster_;
  ModelSignature sig_;
  bool classifier_;
  int64_t file_bytes_;
};

}  // namespace

Result<std::unique_ptr<ModelRuntime>> LoadXgboostRuntime(const ModelLayout& layout,
                                                         const RuntimeOptions& options) {
  BoosterHandle booster = nullptr;
  if (XGBoosterCreate(nullptr, 0, &booster) != 0) return Internal("XGBoosterCreate failed: " + LastError());
  if (XGBoosterLoadModel(booster, layout.model_file.c_str()) != 0) {
    std::string err = LastError();
    XGBoosterFree(booster);
    return InvalidArgument("cannot load XGBoost model " + layout.model_file + ": " + err);
  }
  XGBoosterSetParam(booster, "nthread", std::to_string(std::max(1, options.intra_op_threads)).c_str());
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster, &features) != 0) features = 0;
  auto sig = ParseMlflowSignature(layout.signature_inputs_json, layout.signature_outputs_json);
  if (!sig.ok()) {
    XGBoosterFree(booster);
    return sig.status();
  }
  ModelSignature s = std::move(*sig);
  // The booster knows its feature count; that is the input, whatever the MLflow signature says.
  TensorSpec in;
  in.name = s.inputs.size() == 1 ? s.inputs[0].name : "input-0";
  in.dtype = DataType::kFp32;
  in.shape = {-1, static_cast<int64_t>(features)};
  s.inputs = {in};
  if (!s.columns.empty() && s.columns.size() != features) s.columns.clear();
  TensorSpec out;
  out.name = "output-0";
  out.dtype = DataType::kFp32;
  out.shape = {-1};
  s.outputs = {out};
  s.batched = true;
  std::error_code ec;
  int64_t bytes = static_cast<int64_t>(std::filesystem::file_size(layout.model_file, ec));
  bool classifier = layout.model_class.find("Classifier") != std::string::npos;
  auto rt = std::make_unique<XgboostRuntime>(booster, std::move(s), classifier, ec ? 0 : bytes);
  TAMGA_RETURN_IF_ERROR(rt->ProbeOutputShape());
  return std::unique_ptr<ModelRuntime>(std::move(rt));
}

}  // namespace tamga
