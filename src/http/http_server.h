#pragma once
// HttpServer: HTTP/1.1 on Boost.Beast. Keep-alive; requests on one connection are answered strictly in
// order (the next request is read only after the previous response is written), so pipelined clients
// are safe. Bodies over max_body_bytes get 413; uploads routed to an UploadHandler are streamed in
// chunks and never buffered whole; downloads stream from a BlobReader.
// Limits (docs/security.md): at most max_connections open connections (more are answered 503 and closed); a
// request head must arrive within header_timeout_ms of its first byte; bodies must keep up with
// min_upload_rate after a grace of header_timeout_ms; accept errors (EMFILE) back off instead of spinning.
// A handler that throws is answered 500 in the MLflow error shape and logged with its route; the server
// lives. Graceful shutdown (Shutdown() or SIGINT/SIGTERM when handle_signals): stop accepting, close idle
// connections, let in-flight requests finish (up to drain_timeout_ms), then Run() returns.
// Thread-safe: Run() on one thread; Shutdown() from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "http/access_gate.h"
#include "http/router.h"

namespace tamga {

// Connection limits shared by every process that answers HTTP (flags --max-connections, --header-timeout-ms,
// --idle-timeout-ms, --min-upload-rate on `tamga server` and `tamga serve`).
struct HttpLimits {
  int max_connections = 1024;      // open connections; more are answered 503 and closed
  int idle_timeout_ms = 60000;     // keep-alive wait for the first byte of the next request
  int header_timeout_ms = 15000;   // first byte of a request head to its end
  int64_t min_upload_rate = 1024;  // bytes/s a body must keep up after a grace of header_timeout_ms; 0 = off
};

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 5000;                       // 0 picks a free port (tests)
    int threads = 2;                       // I/O threads running handlers
    size_t max_body_bytes = 64 << 20;      // JSON bodies
    size_t max_upload_bytes = 1ull << 40;  // streamed uploads
    size_t max_header_bytes = 64 << 10;
    HttpLimits limits;
    int drain_timeout_ms = 30000;
    bool handle_signals = true;
    // Called once when shutdown starts (before draining): answer long-polls so the drain does not wait.
    std::function<void()> on_shutdown;
    // Authentication, authorisation and audit (http/access_gate.h); null = every request is admitted.
    AccessGate* gate = nullptr;
    // HTTPS: PEM certificate chain and private key files (both, or neither for plain HTTP). TLS 1.2+.
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  static Result<std::unique_ptr<HttpServer>> Create(const Options& options, const Router* router,
                                                    MetricsRegistry* metrics, Clock* clock);
  // Whether the TLS certificate chain and key load and match (InvalidArgument naming the file otherwise).
  static Status CheckTls(const std::string& cert_file, const std::string& key_file);
  ~HttpServer();

  int port() const;
  // Serves until shutdown completes.
  void Run();
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tamga
