#pragma once
// HttpServer: HTTP/1.1 on Boost.Beast. Keep-alive; requests on one connection are answered strictly in
// order (the next request is read only after the previous response is written), so pipelined clients
// are safe. Bodies over max_body_bytes get 413; uploads routed to an UploadHandler are streamed in
// chunks and never buffered whole; downloads stream from a BlobReader.
// Graceful shutdown (Shutdown() or SIGINT/SIGTERM when handle_signals): stop accepting, close idle
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
#include "http/router.h"

namespace tamga {

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 5000;  // 0 picks a free port (tests)
    int threads = 2;  // I/O threads running handlers
    size_t max_body_bytes = 64 << 20;       // JSON bodies
    size_t max_upload_bytes = 1ull << 40;   // streamed uploads
    size_t max_header_bytes = 64 << 10;
    int idle_timeout_ms = 120000;
    int drain_timeout_ms = 30000;
    bool handle_signals = true;
    // Called once when shutdown starts (before draining): answer long-polls so the drain does not wait.
    std::function<void()> on_shutdown;
  };

  static Result<std::unique_ptr<HttpServer>> Create(const Options& options, const Router* router,
                                                    MetricsRegistry* metrics, Clock* clock);
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
