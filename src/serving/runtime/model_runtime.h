#pragma once
// ModelRuntime: one loaded model instance that executes batches of tensors. Implementations:
// TorchScript (LibTorch, runtime/torchscript/), XGBoost (C API, runtime/xgboost/). Heavy libraries stay
// in their own translation units behind this interface.
//
// Thread-compatible: an instance runs one Execute at a time (the batcher gives each executor thread its
// own instance). Unloads on destruction.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "serving/tensor.h"

namespace tamga {

struct ModelSignature {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  // Dimension 0 of every input and output is the batch: requests can be concatenated and split back.
  bool batched = true;
  // False when the model declares no shapes (a TorchScript file without an MLflow signature): inputs are
  // then checked only for dtype, and warm-up is skipped (nothing valid can be generated).
  bool shapes_known = true;
  // MLflow column names, in order, when the model's MLflow signature is column-based; the columns of a
  // dataframe request are arranged in this order into one [rows, columns] input.
  std::vector<std::string> columns;
  // The column-based signature's columns as specs (name, dtype, shape [-1]), in order.
  std::vector<TensorSpec> column_specs;
  // One input tensor per column (inputs == column_specs) instead of one [rows, columns] table: used by the
  // Python worker, whose models take a DataFrame of mixed column types.
  bool column_tensors = false;
  // False when the model declares no input types (a pyfunc without a signature): any datatype is passed on.
  bool dtypes_known = true;
};

struct ResourceEstimate {
  int64_t host_bytes = 0;    // model file size as a lower bound of resident memory
  int64_t device_bytes = 0;  // GPU memory, 0 on CPU
};

class ModelRuntime {
 public:
  virtual ~ModelRuntime() = default;
  virtual const ModelSignature& signature() const = 0;
  // OIP platform string: "pytorch_torchscript", "xgboost".
  virtual std::string platform() const = 0;
  virtual ResourceEstimate resources() const = 0;
  // Inputs are in signature order, validated against it by the caller. Returns outputs in signature order.
  virtual Result<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs) = 0;
  // For MLflow /invocations: converts raw outputs to the flavor's predict() result (e.g. XGBClassifier
  // probabilities to class labels). Default: unchanged.
  virtual std::vector<Tensor> ToMlflowPredictions(std::vector<Tensor> outputs) const { return outputs; }
};

// Whether the LibTorch this binary links can use CUDA (Debian's is built without it).
bool TorchCudaAvailable();

struct RuntimeOptions {
  std::string device = "cpu";  // "cpu", "cuda:N" or (serving) "auto": placed by GPU admission
  std::string gpu_uuid;        // the GPU `device` names, when known: the Python worker sees only it
  int intra_op_threads = 1;
  std::string python = "python3";  // interpreter of the Python worker (python_function models)
  int python_timeout_s = 60;       // one predict call in the worker; longer kills and restarts it
  int python_load_timeout_s = 300;
};

// The python_function flavor of an MLmodel (the Python worker's loader protocol).
struct PyfuncFlavor {
  std::string loader_module;  // e.g. "mlflow.sklearn" or a module under `code`
  std::string data;           // path relative to the model directory, may be empty
  std::string code;           // directory added to sys.path, may be empty
};

// Where and what a model directory holds, read from its MLmodel file (or guessed for a bare file).
struct ModelLayout {
  std::string flavor;                  // "pytorch" | "xgboost" | "python_function"
  std::string model_file;              // absolute path of the weights
  std::string model_class;             // xgboost flavor's model_class
  std::string signature_inputs_json;   // MLmodel signature.inputs (JSON text), may be empty
  std::string signature_outputs_json;  // MLmodel signature.outputs
  std::string model_dir;               // absolute model directory ("" for a bare .pt file)
  std::optional<PyfuncFlavor> pyfunc;  // set when the MLmodel has a python_function flavor
};

// Reads `<dir>/MLmodel` (pytorch or xgboost flavor) or accepts a directory holding one `*.pt` file, or a
// path to a `.pt` file. InvalidArgument with a clear message for anything else.
Result<ModelLayout> InspectModelDir(const std::string& path);
// Parses an MLflow signature (tensor-based or column-based) into tensor specs; empty input → empty.
Result<ModelSignature> ParseMlflowSignature(const std::string& inputs_json, const std::string& outputs_json);

// Loads the runtime the layout calls for. A native flavor that fails to load (e.g. a pytorch model pickled
// rather than saved as TorchScript) falls back to the Python worker when the model has a pyfunc flavor.
Result<std::unique_ptr<ModelRuntime>> LoadModelRuntime(const ModelLayout& layout,
                                                       const RuntimeOptions& options);

// Per-flavor loaders (their own translation units).
Result<std::unique_ptr<ModelRuntime>> LoadXgboostRuntime(const ModelLayout& layout,
                                                         const RuntimeOptions& options);
Result<std::unique_ptr<ModelRuntime>> LoadTorchScriptRuntime(const ModelLayout& layout,
                                                             const RuntimeOptions& options);
Result<std::unique_ptr<ModelRuntime>> LoadPythonRuntime(const ModelLayout& layout,
                                                        const RuntimeOptions& options);

}  // namespace tamga
