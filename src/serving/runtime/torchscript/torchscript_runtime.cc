// TorchScript through LibTorch: torch::jit::load, forward() under NoGradGuard on the chosen device.
// This is the only translation unit that includes LibTorch headers (they are slow to compile).
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <filesystem>

#include "serving/runtime/model_runtime.h"

namespace tamga {
namespace {

std::optional<at::ScalarType> ToTorch(DataType t) {
  switch (t) {
    case DataType::kBool:
      return at::kBool;
    case DataType::kUint8:
      return at::kByte;
    case DataType::kInt8:
      return at::kChar;
    case DataType::kInt16:
      return at::kShort;
    case DataType::kInt32:
      return at::kInt;
    case DataType::kInt64:
      return at::kLong;
    case DataType::kFp16:
      return at::kHalf;
    case DataType::kFp32:
      return at::kFloat;
    case DataType::kFp64:
      return at::kDouble;
    default:
      return std::nullopt;
  }
}

std::optional<DataType> FromTorch(at::ScalarType t) {
  switch (t) {
    case at::kBool:
      return DataType::kBool;
    case at::kByte:
      return DataType::kUint8;
    case at::kChar:
      return DataType::kInt8;
    case at::kShort:
      return DataType::kInt16;
    case at::kInt:
      return DataType::kInt32;
    case at::kLong:
      return DataType::kInt64;
    case at::kHalf:
      return DataType::kFp16;
    case at::kFloat:
      return DataType::kFp32;
    case at::kDouble:
      return DataType::kFp64;
    default:
      return std::nullopt;
  }
}

class TorchScriptRuntime final : public ModelRuntime {
 public:
  TorchScriptRuntime(torch::jit::script::Module module, ModelSignature sig, torch::Device device,
                     int64_t bytes)
      : module_(std::move(module)), sig_(std::move(sig)), device_(device), bytes_(bytes) {}

  const ModelSignature& signature() const override { return sig_; }
  std::string platform() const override { return "pytorch_torchscript"; }
  ResourceEstimate resources() const override {
    return {device_.is_cpu() ? bytes_ : 0, device_.is_cpu() ? 0 : bytes_};
  }

  Result<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs) override {
    torch::NoGradGuard no_grad;
    std::vector<torch::jit::IValue> args;
    args.reserve(inputs.size());
    for (const auto& in : inputs) {
      auto st = ToTorch(in.dtype);
      if (!st)
        return InvalidArgument("TorchScript models do not take " + std::string(DataTypeName(in.dtype)) +
                               " inputs");
      // from_blob does not copy; the request's buffer outlives forward(). clone() only when moving devices.
      at::Tensor t =
          torch::from_blob(const_cast<char*>(in.data.data()), in.shape, torch::TensorOptions().dtype(*st));
      args.emplace_back(device_.is_cpu() ? t : t.to(device_));
    }
    torch::jit::IValue result;
    try {
      result = module_.forward(args);
    } catch (const std::exception& e) {
      std::string what = e.what();
      size_t nl = what.find('\n');
      return InvalidArgument("model execution failed: " +
                             what.substr(0, nl == std::string::npos ? 300 : std::min<size_t>(nl, 300)));
    }
    std::vector<at::Tensor> outs;
    if (result.isTensor()) {
      outs.push_back(result.toTensor());
    } else if (result.isTuple()) {
      for (const auto& v : result.toTuple()->elements()) {
        if (!v.isTensor()) return InvalidArgument("model returned a tuple element that is not a tensor");
        outs.push_back(v.toTensor());
      }
    } else if (result.isTensorList()) {
      for (const auto& t : result.toTensorVector()) outs.push_back(t);
    } else {
      return InvalidArgument("model returned a value that is not a tensor, tuple or list of tensors");
    }
    std::vector<Tensor> out;
    for (size_t i = 0; i < outs.size(); ++i) {
      at::Tensor t = outs[i].to(torch::kCPU).contiguous();
      auto dt = FromTorch(t.scalar_type());
      if (!dt) return InvalidArgument("model returned an unsupported tensor type");
      Tensor o;
      o.name = i < sig_.outputs.size() ? sig_.outputs[i].name : "output-" + std::to_string(i);
      o.dtype = *dt;
      o.shape.assign(t.sizes().begin(), t.sizes().end());
      o.data.assign(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  torch::jit::script::Module module_;
  ModelSignature sig_;
  torch::Device device_;
  int64_t bytes_;
};

}  // namespace

Result<std::unique_ptr<ModelRuntime>> LoadTorchScriptRuntime(const ModelLayout& layout,
                                                             const RuntimeOptions& options) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(options.device);
  } catch (const std::exception& e) {
    return InvalidArgument("invalid device '" + options.device + "'");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    return FailedPrecondition("device " + options.device + " requested but CUDA is not available");
  }
  at::set_num_threads(std::max(1, options.intra_op_threads));
  torch::jit::script::Module module;
  try {
    module = torch::jit::load(layout.model_file, device);
  } catch (const std::exception& e) {
    std::string what = e.what();
    size_t nl = what.find('\n');
    return InvalidArgument("cannot load TorchScript model " + layout.model_file +
                           " (MLflow pytorch models must be saved as TorchScript: torch.jit.script/trace): " +
                           what.substr(0, nl == std::string::npos ? 300 : std::min<size_t>(nl, 300)));
  }
  module.eval();
  TAMGA_ASSIGN_OR_RETURN(ModelSignature sig,
                         ParseMlflowSignature(layout.signature_inputs_json, layout.signature_outputs_json));
  if (sig.inputs.empty()) {
    // No signature: name inputs after forward()'s arguments, in order (input-0, input-1, ...).
    const auto& schema = module.get_method("forward").function().getSchema();
    size_t n = schema.arguments().size();
    for (size_t i = 1; i < n; ++i)
      sig.inputs.push_back({"input-" + std::to_string(i - 1), DataType::kFp32, {-1}});
    sig.shapes_known = false;
  }
  if (sig.outputs.empty()) sig.outputs.push_back({"output-0", DataType::kFp32, {-1}});
  std::error_code ec;
  int64_t bytes = static_cast<int64_t>(std::filesystem::file_size(layout.model_file, ec));
  return std::unique_ptr<ModelRuntime>(
      new TorchScriptRuntime(std::move(module), std::move(sig), device, ec ? 0 : bytes));
}

bool TorchCudaAvailable() {
  try {
    return torch::cuda::is_available();
  } catch (...) {
    return false;
  }
}

}  // namespace tamga
