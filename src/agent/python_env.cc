#include "agent/python_env.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/subprocess.h"

namespace tamga {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxDepth = 4;  // sh -c → conda run → script → shebang

// python, python3, python3.11: "python" then optionally digits, optionally "." and digits. Hand-written, not
// std::regex: the name comes from a job's argv (up to 1 MiB), where a recursive regex could run out of stack.
bool IsPythonName(const std::string& base) {
  if (base.rfind("python", 0) != 0) return false;
  size_t i = 6;
  auto digits = [&] {
    size_t start = i;
    while (i < base.size() && std::isdigit(static_cast<unsigned char>(base[i]))) ++i;
    return i > start;
  };
  if (i == base.size()) return true;
  if (!digits()) return false;
  if (i == base.size()) return true;
  if (base[i] != '.') return false;
  ++i;
  return digits() && i == base.size();
}

std::string EnvOf(const std::map<std::string, std::string>& env, const std::string& k) {
  auto it = env.find(k);
  return it == env.end() ? "" : it->second;
}

// The file `name` names for exec: a path (relative to dir) when it has a '/', else the first executable
// on PATH. "" when none.
std::string Which(const std::string& name, const std::string& path_var, const std::string& dir) {
  std::error_code ec;
  auto executable = [&](const fs::path& p) {
    return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    fs::path p = name[0] == '/' ? fs::path(name) : fs::path(dir) / name;
    return executable(p) ? p.lexically_normal().string() : "";
  }
  std::stringstream ss(path_var);
  std::string d;
  while (std::getline(ss, d, ':')) {
    if (d.empty()) d = ".";
    fs::path base = d[0] == '/' ? fs::path(d) : fs::path(dir) / d;
    fs::path p = base / name;
    if (executable(p)) return p.lexically_normal().string();
  }
  return "";
}

// The simple commands of a shell command line (split at ; & | and newlines), each as whitespace words with
// simple quoting ('…', "…"). Enough to find the programs it runs.
std::vector<std::vector<std::string>> ShellCommands(const std::string& s) {
  std::vector<std::vector<std::string>> out(1);
  std::string cur;
  bool in_word = false;
  char quote = 0;
  auto end_word = [&] {
    if (in_word) out.back().push_back(cur);
    cur.clear();
    in_word = false;
  };
  for (char c : s) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      end_word();
    } else if (c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
      end_word();
      if (!out.back().empty()) out.emplace_back();
    } else {
      cur += c;
      in_word = true;
    }
  }
  end_word();
  if (out.back().empty()) out.pop_back();
  return out;
}

std::optional<InterpreterChoice> Resolve(std::vector<std::string> argv,
                                         std::map<std::string, std::string> env, const std::string& dir,
                                         int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  // Leading assignments (env A=B cmd, or a shell's A=B cmd) and `exec`.
  while (!argv.empty()) {
    const std::string& a = argv[0];
    size_t eq = a.find('=');
    if (eq != std::string::npos && eq > 0 && a.find('/') > eq) {
      env[a.substr(0, eq)] = a.substr(eq + 1);
      argv.erase(argv.begin());
    } else if (a == "exec") {
      argv.erase(argv.begin());
    } else {
      break;
    }
  }
  if (argv.empty()) return std::nullopt;
  std::string path = Which(argv[0], EnvOf(env, "PATH"), dir);
  std::string base = fs::path(argv[0]).filename().string();
  if (!path.empty() && IsPythonName(fs::path(path).filename().string()))
    return InterpreterChoice{path, "argv"};
  if (base == "env") {
    argv.erase(argv.begin());
    while (!argv.empty() && argv[0].size() > 1 && argv[0][0] == '-') argv.erase(argv.begin());
    auto r = Resolve(argv, env, dir, depth + 1);
    if (r) r->how = "env " + r->how;
    return r;
  }
  if (base == "sh" || base == "bash" || base == "dash" || base == "zsh") {
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "-c" || argv[i] == "-lc" || argv[i] == "-ec") {
        for (const auto& cmd : ShellCommands(argv[i + 1])) {
          auto r = Resolve(cmd, env, dir, depth + 1);
          if (r) {
            r->how = base + " -c: " + r->how;
            return r;
          }
        }
        return std::nullopt;
      }
    }
  }
  if ((base == "conda" || base == "mamba" || base == "micromamba") && argv.size() > 2 && argv[1] == "run") {
    std::string prefix, label;
    size_t i = 2;
    for (; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if ((a == "-n" || a == "--name") && i + 1 < argv.size()) {
        label = "-n " + argv[i + 1];
        std::string root = EnvOf(env, "CONDA_ROOT");
        if (root.empty() && !EnvOf(env, "CONDA_EXE").empty())
          root = fs::path(EnvOf(env, "CONDA_EXE")).parent_path().parent_path().string();
        if (root.empty() && !path.empty()) root = fs::path(path).parent_path().parent_path().string();
        prefix = argv[i + 1] == "base" ? root : root + "/envs/" + argv[i + 1];
        ++i;
      } else if ((a == "-p" || a == "--prefix") && i + 1 < argv.size()) {
        label = "-p " + argv[i + 1];
        prefix = argv[i + 1][0] == '/' ? argv[i + 1] : (fs::path(dir) / argv[i + 1]).string();
        ++i;
      } else if (a.rfind("--", 0) == 0 || a == "-v" || a == "-q") {
        continue;  // --no-capture-output, --live-stream, ...
      } else {
        break;
      }
    }
    if (prefix.empty()) prefix = EnvOf(env, "CONDA_PREFIX");
    std::vector<std::string> rest(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
    env["PATH"] = prefix + "/bin:" + EnvOf(env, "PATH");
    auto r = Resolve(rest, env, dir, depth + 1);
    if (r) r->how = base + " run " + label + ": " + r->how;
    return r;
  }
  // A script or an entry point: its #! line.
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (in && std::getline(in, line) && line.rfind("#!", 0) == 0 && line.size() < 512) {
      auto cmds = ShellCommands(line.substr(2));
      std::vector<std::string> words = cmds.empty() ? std::vector<std::string>() : cmds[0];
      if (!words.empty() && fs::path(words[0]).filename() == "env") {
        words.erase(words.begin());
        while (!words.empty() && words[0].size() > 1 && words[0][0] == '-') words.erase(words.begin());
        if (!words.empty() && IsPythonName(words[0])) {
          std::string py = Which(words[0], EnvOf(env, "PATH"), dir);
          if (!py.empty()) return InterpreterChoice{py, "shebang of " + path};
        }
      } else if (!words.empty() && words[0][0] == '/' &&
                 IsPythonName(fs::path(words[0]).filename().string())) {
        return InterpreterChoice{words[0], "shebang of " + path};
      }
    }
  }
  return std::nullopt;
}

struct CacheEntry {
  std::chrono::steady_clock::time_point at;
  Result<PythonEnvReport> report = NotFound("");
};

// Prints the interpreter's identity and distributions as one JSON object (no pip needed).
constexpr const char* kInspectScript = R"PY(
import importlib.metadata as m, json, platform, sys
seen = {}
for d in m.distributions():
    try:
        name = d.metadata["Name"]
    except Exception:
        name = None
    if name and name.lower() not in seen:
        seen[name.lower()] = "%s==%s" % (name, d.version)
print(json.dumps({"executable": sys.executable, "version": platform.python_version(), "prefix": sys.prefix,
                  "base_prefix": sys.base_prefix, "packages": sorted(seen.values(), key=str.lower)}))
)PY";

}  // namespace

std::optional<InterpreterChoice> ResolveJobInterpreter(const std::vector<std::string>& argv,
                                                       const std::map<std::string, std::string>& env,
                                                       const std::string& dir) {
  auto r = Resolve(argv, env, dir, 0);
  if (r) return r;
  std::string py = Which("python3", EnvOf(env, "PATH"), dir);
  if (py.empty()) return std::nullopt;
  return InterpreterChoice{py, "PATH python3 (the command does not name an interpreter)"};
}

Result<PythonEnvReport> InspectPython(const std::string& interpreter,
                                      const std::map<std::string, std::string>& env) {
  static std::mutex mu;
  static std::map<std::string, CacheEntry> cache;
  std::map<std::string, std::string> pass;
  for (const char* k : {"PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "HOME", "LANG"}) {
    if (env.count(k)) pass[k] = env.at(k);
  }
  std::string key = interpreter + '\n' + EnvOf(pass, "PYTHONPATH") + '\n' + EnvOf(pass, "PYTHONHOME");
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache.find(key);
    if (it != cache.end() && std::chrono::steady_clock::now() - it->second.at < std::chrono::seconds(30))
      return it->second.report;
  }
  SpawnOptions so;
  so.argv = {interpreter, "-c", kInspectScript};
  so.working_dir = "/";
  so.env = MinimalEnvironment(pass);
  Result<PythonEnvReport> report = [&]() -> Result<PythonEnvReport> {
    TAMGA_ASSIGN_OR_RETURN(CapturedRun run, RunCaptured(std::move(so), 8 << 20, 60000));
    if (!run.exit.ok()) return Internal(interpreter + " failed (" + run.exit.Describe() + ")");
    auto j = nlohmann::json::parse(run.out, nullptr, false);
    if (!j.is_object()) return Internal(interpreter + " printed no environment report");
    PythonEnvReport r;
    // The interpreter is the job's (any program named python on its PATH): read its answer defensively,
    // a wrong type is ignored rather than thrown.
    auto text = [&](const char* key, const std::string& fallback) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
    };
    r.executable = text("executable", interpreter);
    r.version = text("version", "");
    r.prefix = text("prefix", "");
    auto packages = j.find("packages");
    if (packages != j.end() && packages->is_array()) {
      for (const auto& p : *packages) {
        if (p.is_string()) r.packages += p.get<std::string>() + "\n";
      }
    }
    std::error_code ec;
    if (!r.prefix.empty() && fs::is_directory(r.prefix + "/conda-meta", ec)) {
      r.kind = "conda";
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(r.prefix + "/conda-meta", ec)) {
        std::string n = e.path().filename().string();
        if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n.substr(0, n.size() - 5));
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names) r.conda_packages += n + "\n";
    } else {
      r.kind = r.prefix != text("base_prefix", r.prefix) ? "venv" : "system";
    }
    return r;
  }();
  std::lock_guard<std::mutex> l(mu);
  cache[key] = CacheEntry{std::chrono::steady_clock::now(), report};
  return report;
}

std::string OsGpuPackages() {
  static std::mutex mu;
  static std::optional<std::string> cached;
  std::lock_guard<std::mutex> l(mu);
  if (cached) return *cached;
  std::string out;
  SpawnOptions so;
  so.env = MinimalEnvironment();
  so.working_dir = "/";
  so.argv = {"dpkg-query",
             "-W",
             "-f=${db:Status-Abbrev}${Package}=${Version}\\n",
             "cuda-*",
             "libcudnn*",
             "libnccl*",
             "libcublas*",
             "nvidia-driver*",
             "libnvidia-compute*",
             "nvidia-cuda-toolkit"};
  auto run = RunCaptured(so, 1 << 20, 20000);  // exits 1 when a pattern matches nothing: output still counts
  if (run.ok()) {
    std::stringstream ss(run->out);
    std::string line;
    while (std::getline(ss, line)) {
      if (line.rfind("ii ", 0) == 0) out += line.substr(3) + "\n";  // installed ones only
    }
  } else {
    so.argv = {"rpm", "-qa", "--qf", "%{NAME}=%{VERSION}-%{RELEASE}\\n"};
    auto rpm = RunCaptured(so, 4 << 20, 20000);
    if (rpm.ok() && rpm->exit.ok()) {
      std::stringstream ss(rpm->out);
      std::string line;
      while (std::getline(ss, line)) {
        for (const char* prefix :
             {"cuda-", "libcudnn", "libnccl", "libcublas", "nvidia-driver", "kmod-nvidia"}) {
          if (line.rfind(prefix, 0) == 0) {
            out += line + "\n";
            break;
          }
        }
      }
    }
  }
  cached = out;
  return out;
}

}  // namespace tamga
