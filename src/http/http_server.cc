#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"

namespace tamga {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

HttpMethod ToMethod(http::verb v) {
  switch (v) {
    case http::verb::get: return HttpMethod::kGet;
    case http::verb::head: return HttpMethod::kHead;
    case http::verb::post: return HttpMethod::kPost;
    case http::verb::put: return HttpMethod::kPut;
    case http::verb::patch: return HttpMethod::kPatch;
    case http::verb::delete_: return HttpMethod::kDelete;
    case http::verb::options: return HttpMethod::kOptions;
    default: return HttpMethod::kOther;
  }
}

std::string Lower(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(const Options& options, const Router* router, MetricsRegistry* metrics, Clock* clock)
      : options_(options),
        router_(router),
        clock_(clock),
        ioc_(options.threads),
        acceptor_(net::make_strand(ioc_)),
        signals_(ioc_),
        work_(net::make_work_guard(ioc_)) {
    requests_ = metrics->Counter("tamga_http_requests_total", "HTTP requests by route, method and status");
    latency_ = metrics->HistogramFamily("tamga_http_request_duration_seconds",
                                        "HTTP request latency by route and status", MetricsRegistry::LatencyBuckets());
    in_flight_gauge_ = metrics->Gauge("tamga_http_requests_in_flight", "Requests being handled");
    in_flight_gauge_->Set({}, 0);
  }

  Status Listen() {
    beast::error_code ec;
    auto addr = net::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgument("invalid host '" + options_.host + "': " + ec.message());
    tcp::endpoint ep(addr, static_cast<unsigned short>(options_.port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    return Status::Ok();
  }

  void Run() {
    if (options_.handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      signals_.async_wait([this](beast::error_code ec, int sig) {
        if (ec) return;
        TAMGA_LOG(kInfo, "signal received, draining", {{"signal", std::to_string(sig)}});
        StartShutdown();
      });
    }
    DoAccept();
    std::vector<std::thread> threads;
    for (int i = 1; i < std::max(1, options_.threads); ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
  }

  void StartShutdown() {
    net::post(acceptor_.get_executor(), [this] {
      if (stopping_.exchange(true)) return;
      beast::error_code ec;
      acceptor_.close(ec);
      signals_.cancel(ec);
      if (options_.on_shutdown) std::thread(options_.on_shutdown).detach();
      CloseIdleSessions();
      drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
      WaitForDrain();
    });
  }

  void WaitForDrain() {
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

  void DoAccept();
  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s);
  size_t SessionCount();
  std::vector<std::shared_ptr<Session>> LiveSessions();  // strong refs, taken outside the lock's callers
  void CloseIdleSessions();
  void CloseAllSessions();

  // Per-request metrics. The cells for a (route, method, status) are looked up once per I/O thread and
  // cached: the registry's label maps sit behind a mutex and build label strings on every lookup.
  void Record(const std::string& label, const char* method, int status, double secs) {
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

  static uint64_t NextGeneration() {
    static std::atomic<uint64_t> next{1};
    return next++;
  }

  const uint64_t generation_ = NextGeneration();  // never reused, unlike an address
  const Options options_;
  const Router* router_;
  Clock* clock_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  int port_ = 0;
  MetricFamily* requests_;
  MetricFamily* latency_;
  MetricFamily* in_flight_gauge_;
  std::mutex sessions_mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(sessions_mu_)
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server) : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->Unregister(this); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called on any thread: closes the connection if it is waiting for a new request.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_.close(); });
  }

 private:
  void ReadHeader() {
    idle_ = true;
    if (server_->stopping_) return Close();
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(server_->options_.max_header_bytes));
    // Routes are known only after the header: allow the upload limit here, check JSON bodies below.
    header_parser_->body_limit(std::max(server_->options_.max_body_bytes, server_->options_.max_upload_bytes));
    stream_.expires_after(std::chrono::milliseconds(server_->options_.idle_timeout_ms));
    http::async_read_header(stream_, buffer_, *header_parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec) {
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
          ec == net::error::operation_aborted || ec == net::error::connection_reset) {
        return Close();
      }
      keep_alive_ = false;
      start_ns_ = server_->clock_->MonotonicNanos();
      label_ = "invalid";
      return Respond(ErrorResponse(ec == http::error::header_limit
                                       ? Status(StatusCode::kPayloadTooLarge, "Request headers are too large")
                                       : InvalidArgument("Malformed HTTP request: " + ec.message())));
    }
    start_ns_ = server_->clock_->MonotonicNanos();
    auto& head = header_parser_->get();
    req_ = HttpRequest();
    req_.method = ToMethod(head.method());
    req_.target = std::string(head.target());
    size_t q = req_.target.find('?');
    req_.path = req_.target.substr(0, q);
    if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
    for (const auto& field : head) req_.headers[Lower(field.name_string())] = std::string(field.value());
    keep_alive_ = head.keep_alive();
    method_name_ = std::string(head.method_string());
    match_ = server_->router_->Match(req_);
    label_ = match_.label.empty() ? (match_.path_exists ? req_.path : "unmatched") : match_.label;

    if (match_.upload) {
      auto sink = (*match_.upload)(req_);
      if (!sink.ok()) {
        keep_alive_ = false;  // the body was not read
        return Respond(ErrorResponse(sink.status()));
      }
      sink_ = std::move(*sink);
      upload_parser_.emplace(std::move(*header_parser_));
      upload_parser_->body_limit(server_->options_.max_upload_bytes);
      return MaybeContinue([self = shared_from_this()] { self->ReadUploadChunk(); });
    }
    auto length = header_parser_->content_length();
    if (length && *length > server_->options_.max_body_bytes) {
      keep_alive_ = false;  // the body is not read
      return Respond(ErrorResponse(BodyTooLarge()));
    }
    body_parser_.emplace(std::move(*header_parser_));
    body_parser_->body_limit(server_->options_.max_body_bytes);
    MaybeContinue([self = shared_from_this()] {
      stream_timeout(self);
      http::async_read(self->stream_, self->buffer_, *self->body_parser_,
                       [self](beast::error_code ec, size_t) { self->OnBody(ec); });
    });
  }

  Status BodyTooLarge() const {
    return Status(StatusCode::kPayloadTooLarge, "Request body exceeds the limit of " +
                                                    std::to_string(server_->options_.max_body_bytes) + " bytes");
  }

  static void stream_timeout(const std::shared_ptr<Session>& self) {
    self->stream_.expires_after(std::chrono::milliseconds(self->server_->options_.idle_timeout_ms));
  }

  // Answers "Expect: 100-continue" before reading a body (curl sends it for large uploads).
  template <typename Next>
  void MaybeContinue(Next next) {
    std::string expect = req_.Header("expect");
    if (expect.empty() || Lower(expect) != "100-continue") return next();
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(kContinue),
                     [self = shared_from_this(), next](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       next();
                     });
  }

  void OnBody(beast::error_code ec) {
    if (ec) {
      keep_alive_ = false;
      if (ec == http::error::body_limit) return Respond(ErrorResponse(BodyTooLarge()));
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
          ec == net::error::connection_reset) {
        return Close();
      }
      return Respond(ErrorResponse(InvalidArgument("Malformed HTTP request body: " + ec.message())));
    }
    req_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    Dispatch();
  }

  void ReadUploadChunk() {
    auto& body = upload_parser_->get().body();
    body.data = upload_buf_;
    body.size = sizeof(upload_buf_);
    stream_timeout(shared_from_this());
    http::async_read_some(stream_, buffer_, *upload_parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnUploadChunk(ec); });
  }

  void OnUploadChunk(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      sink_.reset();
      keep_alive_ = false;
      if (ec == http::error::body_limit) {
        return Respond(ErrorResponse(Status(StatusCode::kPayloadTooLarge, "Upload exceeds the size limit")));
      }
      return Close();
    }
    size_t n = sizeof(upload_buf_) - upload_parser_->get().body().size;
    if (n > 0) {
      Status s = sink_->Write(std::string_view(upload_buf_, n));
      if (!s.ok()) {
        sink_.reset();
        keep_alive_ = false;
        return Respond(ErrorResponse(s));
      }
    }
    if (!upload_parser_->is_done()) return ReadUploadChunk();
    upload_parser_.reset();
    auto sink = std::move(sink_);
    server_->in_flight_gauge_->Add({}, 1);
    UploadSink* raw = sink.get();
    raw->Finish(MakeResponder(std::shared_ptr<UploadSink>(std::move(sink))));
  }

  Responder MakeResponder(std::shared_ptr<void> keep = nullptr) {
    return [self = shared_from_this(), keep](HttpResponse resp) {
      net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        self->server_->in_flight_gauge_->Add({}, -1);
        self->Respond(std::move(resp));
      });
    };
  }

  void Dispatch() {
    if (!match_.handler) {
      if (match_.path_exists) {
        return Respond(ErrorResponse(Status(StatusCode::kInvalidArgument, "Method not allowed")), 405);
      }
      HttpResponse r = ErrorResponse(NotFound("No route for " + req_.path));
      r.body = "{\"error_code\":\"ENDPOINT_NOT_FOUND\",\"message\":\"No API endpoint at this path\"}";
      return Respond(std::move(r));
    }
    server_->in_flight_gauge_->Add({}, 1);
    (*match_.handler)(req_, MakeResponder());
  }

  void Respond(HttpResponse resp, int override_status = 0) {
    if (override_status) resp.status = override_status;
    status_ = resp.status;
    bool head_only = req_.method == HttpMethod::kHead;
    if (server_->stopping_) keep_alive_ = false;
    if (resp.stream) return RespondStream(std::move(resp), head_only);
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(resp.status));
    res->set(http::field::server, "tamga");
    res->set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    if (head_only) {
      res->content_length(resp.body.size());
    } else {
      res->body() = std::move(resp.body);
      res->prepare_payload();
    }
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      self->AfterWrite(ec);
    });
  }

  void RespondStream(HttpResponse resp, bool head_only) {
    stream_res_ = std::make_shared<http::response<http::buffer_body>>();
    auto& res = *stream_res_;
    res.version(11);
    res.result(static_cast<unsigned>(resp.status));
    res.set(http::field::server, "tamga");
    res.set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    std::optional<int64_t> size = resp.stream->size();
    if (size) res.content_length(static_cast<uint64_t>(*size));
    else res.chunked(true);
    reader_ = resp.stream;
    remaining_ = head_only ? 0 : size.value_or(INT64_MAX);
    res.body().data = nullptr;
    res.body().more = remaining_ > 0;
    serializer_ = std::make_shared<http::response_serializer<http::buffer_body>>(res);
    if (head_only) {
      res.body().more = false;
      serializer_->split(true);
    }
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->WriteStreamChunk();
    });
  }

  void WriteStreamChunk() {
    if (serializer_->is_done() || remaining_ <= 0) {
      if (!serializer_->is_done()) {
        stream_res_->body().data = nullptr;
        stream_res_->body().size = 0;
        stream_res_->body().more = false;
        return http::async_write(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
          self->FinishStream(ec);
        });
      }
      return FinishStream({});
    }
    auto n = reader_->Read(stream_buf_, sizeof(stream_buf_));
    if (n.ok() && *n == 0 && remaining_ == INT64_MAX) {  // end of a chunked body
      remaining_ = 0;
      return WriteStreamChunk();
    }
    if (!n.ok() || *n == 0) {
      TAMGA_LOG(kError, "response body failed mid-stream", {{"route", label_}});
      keep_alive_ = false;
      return Close();
    }
    if (remaining_ != INT64_MAX) remaining_ -= static_cast<int64_t>(*n);
    auto& body = stream_res_->body();
    body.data = stream_buf_;
    body.size = *n;
    body.more = remaining_ > 0;
    http::async_write(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return self->Close();
      self->WriteStreamChunk();
    });
  }

  void FinishStream(beast::error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    serializer_.reset();
    stream_res_.reset();
    reader_.reset();
    AfterWrite(ec);
  }

  void AfterWrite(beast::error_code ec) {
    double secs = double(server_->clock_->MonotonicNanos() - start_ns_) / 1e9;
    server_->Record(label_, method_name_.empty() ? "UNKNOWN" : method_name_.c_str(), status_, secs);
    if (ec || !keep_alive_) return Close();
    ReadHeader();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
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
  std::shared_ptr<http::response<http::buffer_body>> stream_res_;
  std::shared_ptr<http::response_serializer<http::buffer_body>> serializer_;
  std::shared_ptr<BodySource> reader_;
  int64_t remaining_ = 0;
  char upload_buf_[64 * 1024];
  char stream_buf_[64 * 1024];
};

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (stopping_ || ec == net::error::operation_aborted) return;
      TAMGA_LOG(kWarn, "accept failed", {{"error", ec.message()}});
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), this);
      Register(session);
      session->Start();
    }
    if (!stopping_) DoAccept();
  });
}

void HttpServer::Impl::Register(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_[s.get()] = s;
}

void HttpServer::Impl::Unregister(Session* s) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  sessions_.erase(s);
}

size_t HttpServer::Impl::SessionCount() {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> HttpServer::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard<std::mutex> lock(sessions_mu_);
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
  auto impl = std::make_unique<Impl>(options, router, metrics, clock);
  TAMGA_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
int HttpServer::port() const { return impl_->port_; }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Shutdown() { impl_->StartShutdown(); }

}  // namespace tamga
