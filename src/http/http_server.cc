#include "http/http_server.h"

#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "http/http_server_impl.h"

namespace tamga {

HttpServer::Impl::Impl(const Options& options, const Router* router, MetricsRegistry* metrics, Clock* clock)
    : options_(options),
      router_(router),
      clock_(clock),
      ioc_(options.threads),
      acceptor_(net::make_strand(ioc_)),
      accept_backoff_(acceptor_.get_executor()),
      signals_(ioc_),
      work_(net::make_work_guard(ioc_)),
      blocking_(std::make_unique<BoundedExecutor>(BoundedExecutor::Options{"http-blocking", 8, 256})) {
  requests_ = metrics->Counter("tamga_http_requests_total", "HTTP requests by route, method and status");
  latency_ =
      metrics->HistogramFamily("tamga_http_request_duration_seconds",
                               "HTTP request latency by route and status", MetricsRegistry::LatencyBuckets());
  in_flight_gauge_ = metrics->Gauge("tamga_http_requests_in_flight", "Requests being handled");
  in_flight_gauge_->Set({}, 0);
  refused_ = metrics->Counter("tamga_http_connections_refused_total",
                              "Connections refused: over --max-connections, or accept failed (EMFILE)");
  closed_ =
      metrics->Counter("tamga_http_connections_closed_total",
                       "Connections the server closed for a limit: idle_timeout, header_timeout, slow_body");
  handler_errors_ = metrics->Counter("tamga_http_handler_exceptions_total",
                                     "Requests whose handler threw (answered 500), by route");
}

namespace {

Result<std::unique_ptr<net::ssl::context>> MakeTlsContext(const std::string& cert, const std::string& key) {
  beast::error_code ec;
  auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                   net::ssl::context::single_dh_use);
  tls->use_certificate_chain_file(cert, ec);
  if (ec) return InvalidArgument("cannot load the TLS certificate " + cert + ": " + ec.message());
  tls->use_private_key_file(key, net::ssl::context::pem, ec);
  if (ec) return InvalidArgument("cannot load the TLS key " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(tls->native_handle()) != 1)
    return InvalidArgument("the TLS key " + key + " does not match the certificate " + cert);
  return tls;
}

}  // namespace

Status HttpServer::CheckTls(const std::string& cert_file, const std::string& key_file) {
  return MakeTlsContext(cert_file, key_file).status();
}

Status HttpServer::Impl::Listen() {
  beast::error_code ec;
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty())
      return InvalidArgument("HTTPS needs both --tls-cert and --tls-key");
    TAMGA_ASSIGN_OR_RETURN(tls_, MakeTlsContext(options_.tls_cert_file, options_.tls_key_file));
  }
  auto addr = net::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgument("invalid host '" + options_.host + "': " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(options_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                       ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Impl::Run() {
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](beast::error_code ec, int sig) {
      if (ec) return;
      TAMGA_LOG(kInfo, "signal received, draining", {{"signal", std::to_string(sig)}});
      StartShutdown();
    });
  }
  net::dispatch(acceptor_.get_executor(), [this] { DoAccept(); });
  // An exception escaping a completion handler (allocation failure, a library bug) must not end the thread
  // and with it the process: log it and keep running the loop, as Asio documents.
  auto run = [this] {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        TAMGA_LOG(kError, "exception escaped an I/O handler", {{"error", e.what()}});
      } catch (...) {
        TAMGA_LOG(kError, "exception escaped an I/O handler", {{"error", "unknown"}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, options_.threads); ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
}

void HttpServer::Impl::StartShutdown() {
  net::post(acceptor_.get_executor(), [this] {
    if (stopping_.exchange(true)) return;
    beast::error_code ec;
    acceptor_.close(ec);
    accept_backoff_.cancel();
    signals_.cancel(ec);
    if (options_.on_shutdown) std::thread(options_.on_shutdown).detach();
    CloseIdleSessions();
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
    WaitForDrain();
  });
}

void HttpServer::Impl::WaitForDrain() {
  auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(10));
  timer->async_wait([this, timer](beast::error_code) {
    bool done = SessionCount() == 0 || std::chrono::steady_clock::now() > drain_deadline_;
    if (done) {
      CloseAllSessions();
      work_.reset();
      ioc_.stop();
      return;
    }
    CloseIdleSessions();
    WaitForDrain();
  });
}

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping_ || ec == net::error::operation_aborted) return;
    if (ec) return OnAcceptError(ec);
    if (SessionCount() >= static_cast<size_t>(std::max(1, options_.limits.max_connections))) {
      RefuseOverCapacity(std::move(socket));
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), this);
      Register(session);
      session->Start();
    }
    DoAccept();
  });
}

// EMFILE/ENFILE/ENOBUFS leave the pending connection in the backlog, so accepting again at once fails again
// at once: wait, and log one line per 10 s with the count of what was suppressed.
void HttpServer::Impl::OnAcceptError(const beast::error_code& ec) {
  refused_->Add({{"reason", "accept_error"}}, 1);
  auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log_ >= std::chrono::seconds(10)) {
    TAMGA_LOG(kWarn, "accept failed; backing off",
              {{"error", ec.message()}, {"suppressed", std::to_string(suppressed_accept_errors_)}});
    last_accept_log_ = now;
    suppressed_accept_errors_ = 0;
  } else {
    ++suppressed_accept_errors_;
  }
  accept_backoff_.expires_after(std::chrono::milliseconds(100));
  accept_backoff_.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && !stopping_) DoAccept();
  });
}

// Over the connection cap: a best-effort 503 without reading the request, then close. Never blocks.
void HttpServer::Impl::RefuseOverCapacity(tcp::socket socket) {
  refused_->Add({{"reason", "max_connections"}}, 1);
  // Under TLS a plain-text answer would be noise to the client: close only.
  static const std::string kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
      "Retry-After: 1\r\nContent-Length: 85\r\n\r\n"
      "{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"message\":\"Too many connections; retry later\"}";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec && !tls_) socket.write_some(net::buffer(kBusy), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log_ >= std::chrono::seconds(10)) {
    TAMGA_LOG(kWarn, "connection limit reached; refusing connections",
              {{"max_connections", std::to_string(options_.limits.max_connections)}});
    last_accept_log_ = now;
  }
}

void HttpServer::Impl::OffThread(std::function<void()> work) {
  auto shared = std::make_shared<std::function<void()>>(std::move(work));
  if (!blocking_->TrySubmit([shared] { (*shared)(); })) (*shared)();
}

void HttpServer::Impl::Record(const std::string& label, const char* method, int status, double secs) {
  // The cells for a (route, method, status) are looked up once per I/O thread and cached: the registry's
  // label maps sit behind a mutex and build label strings on every lookup.
  struct Cells {
    std::atomic<double>* count;
    Histogram* latency;
  };
  thread_local std::unordered_map<std::string, Cells> cache;
  thread_local uint64_t cache_owner = 0;
  if (cache_owner != generation_) {  // another server instance in this process: its registry differs
    cache.clear();
    cache_owner = generation_;
  }
  std::string key = label;
  key += '\x1f';
  key += method;
  key += '\x1f';
  key += std::to_string(status);
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::string code = std::to_string(status);
    Cells cells{requests_->Value({{"route", label}, {"method", method}, {"status", code}}),
                latency_->Hist({{"route", label}, {"status", code}})};
    it = cache.emplace(std::move(key), cells).first;
  }
  double cur = it->second.count->load(std::memory_order_relaxed);
  while (!it->second.count->compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) {
  }
  it->second.latency->Observe(secs);
}

void HttpServer::Impl::RecordClose(const char* reason) {
  closed_->Add({{"reason", reason}}, 1);
  if (std::string_view(reason) == "idle_timeout") return;  // normal keep-alive housekeeping
  int64_t now = clock_->MonotonicNanos() / 1000000;
  int64_t last = last_close_log_ms_.load();
  if (now - last >= 10000 && last_close_log_ms_.compare_exchange_strong(last, now)) {
    TAMGA_LOG(kWarn, "closed a connection that was too slow (see tamga_http_connections_closed_total)",
              {{"reason", reason}});
  }
}

void HttpServer::Impl::RecordHandlerException(const std::string& label, const char* what) {
  handler_errors_->Add({{"route", label}}, 1);
  TAMGA_LOG(kError, "request handler threw; answered 500", {{"route", label}, {"error", what}});
}

uint64_t HttpServer::Impl::NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

void HttpServer::Impl::Register(const std::shared_ptr<Session>& s) {
  MutexLock lock(&sessions_mu_);
  sessions_[s.get()] = s;
}

void HttpServer::Impl::Unregister(Session* s) {
  MutexLock lock(&sessions_mu_);
  sessions_.erase(s);
}

size_t HttpServer::Impl::SessionCount() {
  MutexLock lock(&sessions_mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> HttpServer::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  MutexLock lock(&sessions_mu_);
  for (auto& [p, w] : sessions_) {
    if (auto s = w.lock()) live.push_back(std::move(s));
  }
  return live;
}

void HttpServer::Impl::CloseIdleSessions() {
  for (auto& s : LiveSessions()) s->CloseIfIdle();
}

void HttpServer::Impl::CloseAllSessions() {
  for (auto& s : LiveSessions()) s->ForceClose();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options, const Router* router,
                                                       MetricsRegistry* metrics, Clock* clock) {
  if (options.threads < 1) return InvalidArgument("--workers must be at least 1");
  if (options.limits.max_connections < 1) return InvalidArgument("--max-connections must be at least 1");
  if (options.limits.header_timeout_ms < 1) return InvalidArgument("--header-timeout-ms must be at least 1");
  if (options.limits.min_upload_rate < 0) return InvalidArgument("--min-upload-rate must not be negative");
  auto impl = std::make_unique<Impl>(options, router, metrics, clock);
  TAMGA_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Shutdown() { impl_->StartShutdown(); }

}  // namespace tamga
