#pragma once
// Internal to tamga_http_server: the server's shared state (HttpServer::Impl) and one connection (Session).
// http_server.cc owns listening, accepting, limits, shutdown and metrics; http_session.cc reads requests,
// dispatches them to handlers and writes responses. Not a public header.
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/bounded_executor.h"
#include "core/mutex.h"
#include "http/http_server.h"
#include "http/session_stream.h"

namespace tamga {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class Session;

class HttpServer::Impl {
 public:
  Impl(const Options& options, const Router* router, MetricsRegistry* metrics, Clock* clock);

  Status Listen();
  void Run();
  void StartShutdown();

  // Per-request metrics by route template, method and status.
  void Record(const std::string& label, const char* method, int status, double secs);
  // Counts a connection the server closed for a limit ("idle_timeout", "header_timeout", "slow_body"); the
  // deadline-type closes also log one line per 10 s (the client only sees the connection reset).
  void RecordClose(const char* reason);
  // Logs a handler's exception (one line, with the route) and counts it.
  void RecordHandlerException(const std::string& label, const char* what);

  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s);
  size_t SessionCount();

  const Options& options() const { return options_; }
  const Router* router() const { return router_; }
  Clock* clock() const { return clock_; }
  bool stopping() const { return stopping_; }
  MetricFamily* in_flight_gauge() const { return in_flight_gauge_; }
  int port() const { return port_; }
  // Runs `work` on a worker thread (work that may wait on the network: object store reads and writes), or
  // inline when every worker is busy and the queue is full.
  void OffThread(std::function<void()> work);
  // The TLS context (--tls-cert/--tls-key), or null for plain HTTP.
  net::ssl::context* tls() const { return tls_.get(); }

 private:
  void DoAccept();
  void OnAcceptError(const beast::error_code& ec);
  void RefuseOverCapacity(tcp::socket socket);
  void WaitForDrain();
  std::vector<std::shared_ptr<Session>> LiveSessions();
  void CloseIdleSessions();
  void CloseAllSessions();
  static uint64_t NextGeneration();

  const uint64_t generation_ = NextGeneration();  // never reused, unlike an address
  const Options options_;
  const Router* router_;
  Clock* clock_;
  // Declared before ioc_, so it outlives it: destroying the io_context destroys queued handlers, and with
  // them the last references to sessions, whose destructors unregister here.
  Mutex sessions_mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_ GUARDED_BY(sessions_mu_);
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_backoff_;
  net::signal_set signals_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  // After ioc_: destroyed first, finishing queued work (which posts back into ioc_) before ioc_ goes.
  std::unique_ptr<BoundedExecutor> blocking_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  int port_ = 0;
  std::unique_ptr<net::ssl::context> tls_;
  MetricFamily* requests_;
  MetricFamily* latency_;
  MetricFamily* in_flight_gauge_;
  MetricFamily* refused_;
  MetricFamily* handler_errors_;
  MetricFamily* closed_;
  std::atomic<int64_t> last_close_log_ms_{0};
  // Rate limit for accept-error log lines (touched only on the acceptor's strand).
  std::chrono::steady_clock::time_point last_accept_log_{};
  uint64_t suppressed_accept_errors_ = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server);
  ~Session();

  void Start();
  // Called on any thread: closes the connection if it is waiting for a new request.
  void CloseIfIdle();
  void ForceClose();

 private:
  void ReadHeader();
  void ReadHeaderRest();
  void OnHeader(beast::error_code ec);
  void AfterAdmission();  // the rest of OnHeader once the gate admitted the request head
  void ReadBody();
  void OnBody(beast::error_code ec);
  void ReadUploadChunk();
  void OnUploadChunk(beast::error_code ec, size_t n_read);
  void Dispatch();
  Responder MakeResponder(std::shared_ptr<void> keep = nullptr);
  // Runs fn, containing any exception: answers 500 through `respond` (once) and logs the route.
  template <typename Fn>
  void Guard(const Responder& respond, Fn&& fn);
  void Respond(HttpResponse resp, int override_status = 0);
  void RespondStream(HttpResponse resp, bool head_only);
  void WriteStreamChunk();
  void OnStreamChunk(Result<size_t> n);
  Status WriteToSink(size_t n);
  void AfterSinkWrite(Status s);
  void FinishUpload();
  void FinishStream(beast::error_code ec);
  void AfterWrite(beast::error_code ec);
  void Close();
  Status BodyTooLarge() const;
  // Deadline for the next body read: bodies must keep pace with min_body_bytes_per_sec after the grace.
  void SetBodyDeadline();
  template <typename Next>
  void MaybeContinue(Next next);

  SessionStream stream_;
  HttpServer::Impl* server_;
  std::string remote_addr_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  std::optional<http::request_parser<http::buffer_body>> upload_parser_;
  std::unique_ptr<UploadSink> sink_;
  HttpRequest req_;
  RouteMatch match_;
  std::string label_;
  std::string method_name_;
  bool keep_alive_ = true;
  bool idle_ = false;
  int status_ = 0;
  int64_t start_ns_ = 0;
  std::chrono::steady_clock::time_point body_start_;
  uint64_t body_bytes_ = 0;
  std::shared_ptr<http::response<http::buffer_body>> stream_res_;
  std::shared_ptr<http::response_serializer<http::buffer_body>> serializer_;
  std::shared_ptr<BodySource> reader_;
  int64_t remaining_ = 0;
  char upload_buf_[64 * 1024];
  char stream_buf_[64 * 1024];
};

}  // namespace tamga
