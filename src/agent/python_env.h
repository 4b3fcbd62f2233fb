#pragma once
// The Python environment a job actually runs in, for its run's environment record (env_capture.h).
//
// ResolveJobInterpreter finds the interpreter from the job's argv, PATH and working directory, the way the
// exec would: `python3 train.py` and `/venv/bin/python -m x` directly; a script or entry point
// (`./train.py`, `torchrun`, `accelerate`) through its `#!` line (`#!/usr/bin/env python3` looked up on the
// job's PATH); `sh -c "python3 …"`, `env A=B python …`, and `conda|mamba|micromamba run -n ENV|-p PREFIX …`
// (the environment's bin/ first on PATH). Otherwise the job's PATH `python3`, said so in `how`.
//
// InspectPython runs that interpreter once (with the job's PATH/PYTHONPATH/VIRTUAL_ENV/CONDA_PREFIX) and
// lists its distributions through importlib.metadata, so venvs made without pip (uv) work too; conda
// environments also get their conda-meta package list. OsGpuPackages lists the CUDA, cuDNN, NCCL and NVIDIA
// driver packages the OS package manager knows. Thread-safe; results are cached per interpreter for 30 s.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tamga {

struct InterpreterChoice {
  std::string path;  // absolute, as found (not resolved through symlinks: a venv's python is a symlink)
  std::string how;  // "argv", "shebang of /x/train.py", "sh -c", "conda run -n env", "PATH python3 (default)"
};

std::optional<InterpreterChoice> ResolveJobInterpreter(const std::vector<std::string>& argv,
                                                       const std::map<std::string, std::string>& env,
                                                       const std::string& dir);

struct PythonEnvReport {
  std::string executable;      // sys.executable
  std::string version;         // platform.python_version()
  std::string prefix;          // sys.prefix
  std::string kind;            // "venv", "conda" or "system"
  std::string packages;        // "name==version" lines, sorted (the pip freeze format)
  std::string conda_packages;  // "name-version-build" lines from conda-meta; "" outside conda
};

Result<PythonEnvReport> InspectPython(const std::string& interpreter,
                                      const std::map<std::string, std::string>& env);

// "package=version" lines of CUDA/cuDNN/NCCL/NVIDIA packages (dpkg or rpm); "" when none or no manager.
std::string OsGpuPackages();

}  // namespace tamga
