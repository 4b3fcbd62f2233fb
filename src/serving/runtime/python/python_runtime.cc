// The Python worker runtime: one worker process (Debian python3, or --python) per runtime instance, which
// loads an MLflow python_function model and answers predict calls over a socketpair in binary frames
// (worker_protocol.h). A worker that dies or hangs is detected, reported, killed and restarted in the
// background; the batch in flight gets Unavailable (503) and the server lives.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/subprocess.h"
#include "serving/runtime/model_runtime.h"
#include "serving/runtime/python/worker_protocol.h"

extern char** environ;

namespace tamga {
namespace {

using namespace pyworker;
using Clock = std::chrono::steady_clock;

// Waits for `events` on fd until the deadline; false on timeout.
bool WaitFd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the read/write report the error
  }
}

enum class Io { kOk, kClosed, kTimeout };

Io WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (!WaitFd(fd, POLLOUT, deadline)) return Io::kTimeout;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Io::kClosed;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Io::kOk;
}

Io ReadAll(int fd, char* buf, size_t len, Clock::time_point deadline) {
  while (len > 0) {
    if (!WaitFd(fd, POLLIN, deadline)) return Io::kTimeout;
    ssize_t n = ::recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Io::kClosed;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return Io::kOk;
}

Io ReadFrame(int fd, FrameKind* kind, std::string* payload, Clock::time_point deadline) {
  char head[kFrameHeader];
  Io io = ReadAll(fd, head, sizeof(head), deadline);
  if (io != Io::kOk) return io;
  uint32_t len;
  std::memcpy(&len, head, 4);
  if (len > kMaxFrame) return Io::kClosed;
  *kind = static_cast<FrameKind>(head[4]);
  payload->resize(len);
  return ReadAll(fd, payload->data(), len, deadline);
}

// "exit code 3", "signal 9 (Killed)".
std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::string loader;  // "mlflow" | "minimal"
};

// Kills (when asked) and reaps a worker; returns how it ended.
std::string Reap(Worker& w, bool kill_first) {
  std::string how = "unknown";
  if (w.fd >= 0) ::close(w.fd);
  w.fd = -1;
  if (w.pid > 0) {
    if (kill_first) {
      SignalGroup(w.pid, SIGKILL);  // the worker leads its own group: its children go too
      ::kill(w.pid, SIGKILL);
    }
    int status = 0;
    pid_t r;
    do r = ::waitpid(w.pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r == w.pid) how = ExitDescription(status);
  }
  w.pid = -1;
  return how;
}

class PythonRuntime final : public ModelRuntime {
 public:
  PythonRuntime(ModelSignature sig, RuntimeOptions options, std::string config, std::string model_dir)
      : sig_(std::move(sig)),
        options_(std::move(options)),
        config_(std::move(config)),
        model_dir_(std::move(model_dir)) {}

  ~PythonRuntime() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (restarter_.joinable()) restarter_.join();
    // Closing the socket makes an idle worker exit; give it a moment before SIGKILL.
    if (worker_.fd >= 0) ::close(worker_.fd);
    worker_.fd = -1;
    if (worker_.pid > 0) {
      for (int i = 0; i < 40; ++i) {
        int status;
        if (::waitpid(worker_.pid, &status, WNOHANG) == worker_.pid) {
          worker_.pid = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      if (worker_.pid > 0) Reap(worker_, true);
    }
  }

  Status Start() {
    auto w = Spawn();
    if (!w.ok()) return w.status();
    MutexLock lock(&mu_);
    worker_ = *w;
    TAMGA_LOG(kInfo, "python worker ready",
              {{"pid", std::to_string(worker_.pid)}, {"loader", worker_.loader}, {"model", model_dir_}});
    return Status::Ok();
  }

  const ModelSignature& signature() const override { return sig_; }
  std::string platform() const override { return "python_function"; }
  ResourceEstimate resources() const override { return {}; }

  Result<std::vector<Tensor>> Execute(const std::vector<Tensor>& inputs) override {
    UniqueLock lock(&mu_);
    cv_.wait_for(lock.native(), std::chrono::seconds(options_.python_timeout_s), [&] {
      mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
      return !restarting_ || stopping_ || restart_failures_ > 0;
    });
    if (restarting_ || worker_.pid < 0) {
      return Unavailable("the Python worker is restarting" +
                         (last_error_.empty() ? "" : " (" + last_error_ + ")"));
    }
    std::string payload = EncodeTensors(inputs);
    auto deadline = Clock::now() + std::chrono::seconds(options_.python_timeout_s);
    Io io = WriteAll(worker_.fd, EncodeFrameHeader(FrameKind::kPredict, payload.size()), deadline);
    if (io == Io::kOk) io = WriteAll(worker_.fd, payload, deadline);
    FrameKind kind = FrameKind::kError;
    std::string reply;
    if (io == Io::kOk) io = ReadFrame(worker_.fd, &kind, &reply, deadline);
    if (io != Io::kOk) {
      bool timeout = io == Io::kTimeout;
      std::string how = Reap(worker_, /*kill_first=*/true);
      std::string what =
          timeout ? "did not answer within " + std::to_string(options_.python_timeout_s) + " s and was killed"
                  : "died (" + how + ")";
      TAMGA_LOG(kError, "python worker " + what + "; restarting it", {{"model", model_dir_}});
      last_error_ = "worker " + what;
      BeginRestart();
      if (timeout) {
        return Status(StatusCode::kDeadlineExceeded,
                      "the model's Python worker " + what + "; it is being restarted");
      }
      return Unavailable("the model's Python worker " + what + " while predicting; it is being restarted");
    }
    if (kind == FrameKind::kError) return InvalidArgument("model predict failed: " + reply);
    if (kind != FrameKind::kResult) return Internal("python worker sent an unexpected frame");
    auto out = DecodeTensors(reply);
    if (!out.ok()) return Internal("python worker sent a malformed result: " + out.status().message());
    return out;
  }

 private:
  Result<Worker> Spawn() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return Internal(std::string("socketpair: ") + strerror(errno));
    }
    // The worker gets a minimal environment (no server credentials), its own process group (what it starts
    // dies with it), the socket as fd 3, and the server's stdout/stderr for its tracebacks.
    SpawnOptions so;
    so.argv = {options_.python, "-u", "-c", kWorkerScript, "3", config_};
    // A model placed on a GPU (`--device auto`) sees only that GPU, as cuda:0.
    so.env = options_.gpu_uuid.empty() ? MinimalEnvironment()
                                       : MinimalEnvironment({{"CUDA_VISIBLE_DEVICES", options_.gpu_uuid}});
    so.stdout_fd = STDOUT_FILENO;
    so.stderr_fd = STDERR_FILENO;
    so.pass_fds = {{sv[1], 3}};
    Worker w;
    auto pid = tamga::Spawn(so);
    ::close(sv[1]);
    if (!pid.ok()) {
      ::close(sv[0]);
      return FailedPrecondition("cannot start the Python worker '" + options_.python +
                                "': " + pid.status().message() + " (set --python or TAMGA_PYTHON)");
    }
    w.pid = *pid;
    w.fd = sv[0];
    FrameKind kind;
    std::string ready;
    Io io =
        ReadFrame(w.fd, &kind, &ready, Clock::now() + std::chrono::seconds(options_.python_load_timeout_s));
    if (io != Io::kOk || kind != FrameKind::kReady) {
      std::string how = Reap(w, io == Io::kTimeout);
      return FailedPrecondition(
          "the Python worker " +
          (io == Io::kTimeout
               ? "did not load the model within " + std::to_string(options_.python_load_timeout_s) + " s"
               : "exited while loading the model (" + how + ")") +
          "; see the server log for its traceback");
    }
    auto parsed = ParseJson(ready);
    nlohmann::json j = parsed.ok() ? std::move(*parsed) : nlohmann::json();
    if (!j.is_object() || !j.value("ok", false)) {
      std::string err =
          j.is_object() ? j.value("error", std::string("unknown error")) : "malformed READY frame";
      Reap(w, true);
      return FailedPrecondition("the Python worker cannot load the model: " + err.substr(0, 2000));
    }
    w.loader = j.value("loader", std::string());
    return w;
  }

  // Called with mu_ held, after the old worker was reaped.
  void BeginRestart() REQUIRES(mu_) {
    restarting_ = true;
    restart_failures_ = 0;
    if (restarter_.joinable()) restarter_.join();  // the previous one finished: it cleared restarting_
    restarter_ = std::thread([this] {
      for (int attempt = 0;; ++attempt) {
        if (attempt > 0) {
          UniqueLock lock(&mu_);
          auto backoff = std::chrono::milliseconds(std::min(30000, 250 << std::min(attempt, 7)));
          if (cv_.wait_for(lock.native(), backoff, [&] {
                mu_.AssertHeld();  // the wait re-took the lock before calling the predicate
                return stopping_;
              }))
            return;
        }
        auto w = Spawn();
        MutexLock lock(&mu_);
        if (stopping_) {
          if (w.ok()) Reap(*w, true);
          return;
        }
        if (w.ok()) {
          worker_ = *w;
          restarting_ = false;
          restart_failures_ = 0;
          TAMGA_LOG(kInfo, "python worker restarted",
                    {{"pid", std::to_string(worker_.pid)}, {"model", model_dir_}});
          cv_.notify_all();
          return;
        }
        ++restart_failures_;
        last_error_ = w.status().message();
        TAMGA_LOG(kError, "python worker restart failed; retrying",
                  {{"error", last_error_}, {"model", model_dir_}});
        cv_.notify_all();
      }
    });
  }

  const ModelSignature sig_;
  const RuntimeOptions options_;
  const std::string config_;
  const std::string model_dir_;
  Mutex mu_;
  std::condition_variable cv_;
  Worker worker_ GUARDED_BY(mu_);
  bool restarting_ GUARDED_BY(mu_) = false;
  int restart_failures_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::string last_error_ GUARDED_BY(mu_);
  std::thread restarter_;
};

Result<ModelSignature> PyfuncSignature(const ModelLayout& layout) {
  TAMGA_ASSIGN_OR_RETURN(ModelSignature sig,
                         ParseMlflowSignature(layout.signature_inputs_json, layout.signature_outputs_json));
  if (!sig.column_specs.empty()) {
    // A DataFrame model: one tensor per column, each with its own type.
    sig.inputs = sig.column_specs;
    sig.column_tensors = true;
  }
  if (sig.inputs.empty()) {
    sig.inputs = {TensorSpec{"input-0", DataType::kFp64, {-1}}};
    sig.shapes_known = false;
    sig.dtypes_known = false;
  }
  return sig;
}

}  // namespace

Result<std::unique_ptr<ModelRuntime>> LoadPythonRuntime(const ModelLayout& layout,
                                                        const RuntimeOptions& options) {
  if (!layout.pyfunc) return InvalidArgument("the model has no python_function flavor");
  TAMGA_ASSIGN_OR_RETURN(ModelSignature sig, PyfuncSignature(layout));
  nlohmann::json cfg = {
      {"model_dir", layout.model_dir},
      {"loader_module", layout.pyfunc->loader_module},
      {"data", layout.pyfunc->data},
      {"code", layout.pyfunc->code},
      {"columns", sig.columns},
      {"column_tensors", sig.column_tensors},
      {"loader",
       [] {
         const char* l = std::getenv("TAMGA_PYFUNC_LOADER");
         return std::string(l && *l ? l : "auto");
       }()},
  };
  std::vector<std::string> output_names;
  for (const auto& o : sig.outputs) output_names.push_back(o.name);
  cfg["output_names"] = output_names;
  auto rt = std::make_unique<PythonRuntime>(sig, options, DumpJson(cfg), layout.model_dir);
  TAMGA_RETURN_IF_ERROR(rt->Start());
  return std::unique_ptr<ModelRuntime>(std::move(rt));
}

}  // namespace tamga
