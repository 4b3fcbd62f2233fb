// One HTTP/1.1 connection: reads a request head (with its deadline), the body (JSON into memory, or streamed
// into an UploadSink at a minimum rate), dispatches to the route's handler with every exception contained,
// and writes the response (whole or streamed) before reading the next request.
#include <chrono>
#include <exception>

#include "core/log.h"
#include "http/beast_verb.h"
#include "http/http_server_impl.h"

namespace tamga {
namespace {

std::string Lower(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsDisconnect(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset ||
         ec == net::ssl::error::stream_truncated;
}

HttpResponse InternalErrorResponse() {
  return ErrorResponse(Internal("Internal error while handling the request; it has been logged"));
}

}  // namespace

HttpMethod ToHttpMethod(http::verb v) {
  switch (v) {
    case http::verb::get:
      return HttpMethod::kGet;
    case http::verb::head:
      return HttpMethod::kHead;
    case http::verb::post:
      return HttpMethod::kPost;
    case http::verb::put:
      return HttpMethod::kPut;
    case http::verb::patch:
      return HttpMethod::kPatch;
    case http::verb::delete_:
      return HttpMethod::kDelete;
    case http::verb::options:
      return HttpMethod::kOptions;
    default:
      return HttpMethod::kOther;
  }
}

Session::Session(tcp::socket socket, HttpServer::Impl* server)
    : stream_(std::move(socket), server->tls()), server_(server) {
  beast::error_code ec;
  auto ep = stream_.tcp().socket().remote_endpoint(ec);
  if (!ec) remote_addr_ = ep.address().to_string();
}

Session::~Session() { server_->Unregister(this); }

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->stream_.tls()) return self->ReadHeader();
    // The handshake gets the header deadline: a client that never finishes it cannot hold the connection.
    self->stream_.tcp().expires_after(
        std::chrono::milliseconds(self->server_->options().limits.header_timeout_ms));
    self->stream_.async_handshake([self](beast::error_code ec) {
      if (ec) {
        self->server_->RecordClose(ec == beast::error::timeout ? "header_timeout" : "tls_handshake");
        return self->Close();
      }
      self->ReadHeader();
    });
  });
}

void Session::CloseIfIdle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) {
      beast::error_code ec;
      self->stream_.tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.tcp().close();
    }
  });
}

void Session::ForceClose() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->stream_.tcp().close(); });
}

// Waits (up to the keep-alive idle timeout) for the first byte of the next request, then gives the whole head
// header_timeout_ms: a client trickling header bytes cannot hold the connection longer than that.
void Session::ReadHeader() {
  idle_ = true;
  if (server_->stopping()) return Close();
  if (buffer_.size() > 0) return ReadHeaderRest();  // a pipelined request is already buffered
  stream_.tcp().expires_after(std::chrono::milliseconds(server_->options().limits.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->buffer_.commit(n);
    if (ec == beast::error::timeout) self->server_->RecordClose("idle_timeout");
    if (ec) return self->Close();
    self->ReadHeaderRest();
  });
}

void Session::ReadHeaderRest() {
  header_parser_.emplace();
  header_parser_->header_limit(static_cast<std::uint32_t>(server_->options().max_header_bytes));
  // Routes are known only after the header: allow the upload limit here, check JSON bodies below.
  header_parser_->body_limit(
      std::max(server_->options().max_body_bytes, server_->options().max_upload_bytes));
  stream_.tcp().expires_after(std::chrono::milliseconds(server_->options().limits.header_timeout_ms));
  http::async_read_header(stream_, buffer_, *header_parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(beast::error_code ec) {
  idle_ = false;
  if (ec) {
    if (ec == beast::error::timeout) server_->RecordClose("header_timeout");
    if (IsDisconnect(ec)) return Close();
    keep_alive_ = false;
    start_ns_ = server_->clock()->MonotonicNanos();
    label_ = "invalid";
    return Respond(ErrorResponse(ec == http::error::header_limit
                                     ? Status(StatusCode::kPayloadTooLarge, "Request headers are too large")
                                     : InvalidArgument("Malformed HTTP request: " + ec.message())));
  }
  start_ns_ = server_->clock()->MonotonicNanos();
  auto& head = header_parser_->get();
  req_ = HttpRequest();
  req_.method = ToHttpMethod(head.method());
  req_.target = std::string(head.target());
  size_t q = req_.target.find('?');
  req_.path = req_.target.substr(0, q);
  if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
  bool second_authorization = false;
  for (const auto& field : head) {
    std::string name = Lower(field.name_string());
    // Two Authorization headers: a proxy in front may have checked the other one. Refuse, never pick.
    if (name == "authorization" && req_.headers.count(name)) second_authorization = true;
    req_.headers[std::move(name)] = std::string(field.value());
  }
  req_.remote_addr = remote_addr_;
  keep_alive_ = head.keep_alive();
  // Metric labels take known methods only: a client inventing method names cannot grow /metrics.
  method_name_ = head.method() == http::verb::unknown ? "OTHER" : std::string(http::to_string(head.method()));
  match_ = server_->router()->Match(req_);
  label_ = match_.label.empty() ? "unmatched" : match_.label;
  if (second_authorization) {
    keep_alive_ = false;  // the body is not read
    return Respond(
        ErrorResponse(InvalidArgument("A request may carry one Authorization header, not several.")));
  }
  if (AccessGate* gate = server_->options().gate; gate && (match_.handler || match_.upload)) {
    HttpResponse denial;
    auto resume = [self = shared_from_this()](std::optional<HttpResponse> denied) {
      net::post(self->stream_.get_executor(), [self, denied = std::move(denied)]() mutable {
        if (!denied) return self->AfterAdmission();
        self->keep_alive_ = false;  // the body was not read
        self->Respond(std::move(*denied));
      });
    };
    switch (gate->AdmitHead(req_, match_, &denial, std::move(resume))) {
      case AccessGate::Verdict::kAdmit:
        break;
      case AccessGate::Verdict::kDeny:
        keep_alive_ = false;
        return Respond(std::move(denial));
      case AccessGate::Verdict::kPending:
        return;
    }
  }
  AfterAdmission();
}

void Session::AfterAdmission() {
  body_start_ = std::chrono::steady_clock::now();
  body_bytes_ = 0;

  if (match_.upload) {
    Result<std::unique_ptr<UploadSink>> sink = Internal("upload handler threw");
    try {
      sink = (*match_.upload)(req_);
    } catch (const std::exception& e) {
      server_->RecordHandlerException(label_, e.what());
    } catch (...) {
      server_->RecordHandlerException(label_, "unknown exception");
    }
    if (!sink.ok()) {
      keep_alive_ = false;  // the body was not read
      return Respond(ErrorResponse(sink.status()));
    }
    sink_ = std::move(*sink);
    upload_parser_.emplace(std::move(*header_parser_));
    upload_parser_->body_limit(server_->options().max_upload_bytes);
    // No Content-Length and not chunked: an empty body (RFC 9112 6.3), nothing to wait for.
    if (upload_parser_->is_done()) return OnUploadChunk({}, 0);
    return MaybeContinue([self = shared_from_this()] { self->ReadUploadChunk(); });
  }
  auto length = header_parser_->content_length();
  if (length && *length > server_->options().max_body_bytes) {
    keep_alive_ = false;  // the body is not read
    return Respond(ErrorResponse(BodyTooLarge()));
  }
  body_parser_.emplace(std::move(*header_parser_));
  body_parser_->body_limit(server_->options().max_body_bytes);
  if (body_parser_->is_done()) return OnBody({});
  MaybeContinue([self = shared_from_this()] { self->ReadBody(); });
}

Status Session::BodyTooLarge() const {
  return Status(
      StatusCode::kPayloadTooLarge,
      "Request body exceeds the limit of " + std::to_string(server_->options().max_body_bytes) + " bytes");
}

void Session::SetBodyDeadline() {
  const auto& o = server_->options();
  if (o.limits.min_upload_rate <= 0) {  // rate check off: each read gets the idle timeout
    stream_.tcp().expires_after(std::chrono::milliseconds(o.limits.idle_timeout_ms));
    return;
  }
  auto allowed =
      std::chrono::milliseconds(o.limits.header_timeout_ms) +
      std::chrono::milliseconds(static_cast<int64_t>(body_bytes_ * 1000 / o.limits.min_upload_rate));
  // Bytes sent early buy time at the minimum rate, but never a silence longer than the idle timeout: a client
  // that sends half a body and stops is closed after idle_timeout_ms, not after hours of credit.
  auto by_rate = body_start_ + allowed;
  auto by_idle = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.limits.idle_timeout_ms);
  stream_.tcp().expires_at(std::min(by_rate, by_idle));
}

// Answers "Expect: 100-continue" before reading a body (curl sends it for large uploads).
template <typename Next>
void Session::MaybeContinue(Next next) {
  std::string expect = req_.Header("expect");
  if (expect.empty() || Lower(expect) != "100-continue") return next();
  static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.tcp().expires_after(std::chrono::milliseconds(server_->options().limits.header_timeout_ms));
  net::async_write(stream_, net::buffer(kContinue),
                   [self = shared_from_this(), next](beast::error_code ec, size_t) {
                     if (ec) return self->Close();
                     self->body_start_ = std::chrono::steady_clock::now();
                     next();
                   });
}

void Session::ReadBody() {
  SetBodyDeadline();
  http::async_read_some(stream_, buffer_, *body_parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t n) {
                          self->body_bytes_ += n;
                          if (ec) return self->OnBody(ec);
                          if (self->body_parser_->is_done()) return self->OnBody({});
                          self->ReadBody();
                        });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) {
    keep_alive_ = false;
    if (ec == http::error::body_limit) return Respond(ErrorResponse(BodyTooLarge()));
    if (ec == beast::error::timeout) server_->RecordClose("slow_body");
    if (IsDisconnect(ec)) return Close();
    return Respond(ErrorResponse(InvalidArgument("Malformed HTTP request body: " + ec.message())));
  }
  req_.body = std::move(body_parser_->get().body());
  body_parser_.reset();
  Dispatch();
}

void Session::ReadUploadChunk() {
  auto& body = upload_parser_->get().body();
  body.data = upload_buf_;
  body.size = sizeof(upload_buf_);
  SetBodyDeadline();
  http::async_read_some(stream_, buffer_, *upload_parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          size_t n = sizeof(self->upload_buf_) - self->upload_parser_->get().body().size;
                          self->OnUploadChunk(ec, n);
                        });
}

void Session::OnUploadChunk(beast::error_code ec, size_t n) {
  if (ec == http::error::need_buffer) ec = {};
  body_bytes_ += n;
  if (ec) {
    sink_.reset();
    keep_alive_ = false;
    if (ec == http::error::body_limit) {
      return Respond(ErrorResponse(Status(StatusCode::kPayloadTooLarge, "Upload exceeds the size limit")));
    }
    if (ec == beast::error::timeout) server_->RecordClose("slow_body");
    return Close();
  }
  if (n > 0 && sink_->WriteMayBlock(n)) {
    // The sink may wait on the network: a worker writes, then the session resumes on its executor. No read
    // is outstanding meanwhile, so upload_buf_ stays as it is.
    return server_->OffThread([self = shared_from_this(), n] {
      Status s = self->WriteToSink(n);
      net::post(self->stream_.get_executor(), [self, s] { self->AfterSinkWrite(s); });
    });
  }
  AfterSinkWrite(n > 0 ? WriteToSink(n) : Status::Ok());
}

Status Session::WriteToSink(size_t n) {
  Status s = Internal("upload sink threw");
  try {
    s = sink_->Write(std::string_view(upload_buf_, n));
  } catch (const std::exception& e) {
    server_->RecordHandlerException(label_, e.what());
  } catch (...) {
    server_->RecordHandlerException(label_, "unknown exception");
  }
  return s;
}

void Session::AfterSinkWrite(Status s) {
  if (!s.ok()) {
    sink_.reset();
    keep_alive_ = false;
    return Respond(ErrorResponse(s));
  }
  if (!upload_parser_->is_done()) return ReadUploadChunk();
  FinishUpload();
}

void Session::FinishUpload() {
  upload_parser_.reset();
  auto sink = std::shared_ptr<UploadSink>(std::move(sink_));
  server_->in_flight_gauge()->Add({}, 1);
  Responder respond = MakeResponder(sink);
  if (sink->FinishMayBlock()) {
    return server_->OffThread(
        [self = shared_from_this(), sink, respond] { self->Guard(respond, [&] { sink->Finish(respond); }); });
  }
  Guard(respond, [&] { sink->Finish(respond); });
}

// The responder completes the request once: a handler that answers and then throws, or answers twice, cannot
// write a second response on the connection.
Responder Session::MakeResponder(std::shared_ptr<void> keep) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  return [self = shared_from_this(), keep, answered](HttpResponse resp) {
    if (answered->exchange(true)) return;
    net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
      self->server_->in_flight_gauge()->Add({}, -1);
      self->Respond(std::move(resp));
    });
  };
}

template <typename Fn>
void Session::Guard(const Responder& respond, Fn&& fn) {
  try {
    fn();
    return;
  } catch (const std::exception& e) {
    server_->RecordHandlerException(label_, e.what());
  } catch (...) {
    server_->RecordHandlerException(label_, "unknown exception");
  }
  respond(InternalErrorResponse());
}

void Session::Dispatch() {
  if (!match_.handler) {
    if (match_.path_exists) {
      return Respond(ErrorResponse(Status(StatusCode::kInvalidArgument, "Method not allowed")), 405);
    }
    HttpResponse r = ErrorResponse(NotFound("No route for this path"));
    r.body = "{\"error_code\":\"ENDPOINT_NOT_FOUND\",\"message\":\"No API endpoint at this path\"}";
    return Respond(std::move(r));
  }
  if (AccessGate* gate = server_->options().gate) {
    std::optional<HttpResponse> denied;
    try {
      denied = gate->AdmitBody(req_, match_);
    } catch (const std::exception& e) {
      server_->RecordHandlerException(label_, e.what());
      denied = InternalErrorResponse();
    }
    if (denied) return Respond(std::move(*denied));
  }
  server_->in_flight_gauge()->Add({}, 1);
  Responder respond = MakeResponder();
  Guard(respond, [&] { (*match_.handler)(req_, respond); });
}

void Session::Respond(HttpResponse resp, int override_status) {
  if (override_status) resp.status = override_status;
  status_ = resp.status;
  bool head_only = req_.method == HttpMethod::kHead;
  if (server_->stopping()) keep_alive_ = false;
  // Writing the response gets its own deadline: a client that stops reading cannot pin the connection.
  stream_.tcp().expires_after(std::chrono::milliseconds(server_->options().limits.idle_timeout_ms));
  if (resp.stream) return RespondStream(std::move(resp), head_only);
  auto res = std::make_shared<http::response<http::string_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(resp.status));
  res->set(http::field::server, "tamga");
  if (!resp.content_type.empty()) res->set(http::field::content_type, resp.content_type);
  for (const auto& [k, v] : resp.headers)
    res->insert(k, v);  // insert: repeated headers (Set-Cookie) all go out
  res->keep_alive(keep_alive_);
  if (head_only) {
    res->content_length(resp.body.size());
  } else {
    res->body() = std::move(resp.body);
    res->prepare_payload();
  }
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res](beast::error_code ec, size_t) { self->AfterWrite(ec); });
}

void Session::RespondStream(HttpResponse resp, bool head_only) {
  stream_res_ = std::make_shared<http::response<http::buffer_body>>();
  auto& res = *stream_res_;
  res.version(11);
  res.result(static_cast<unsigned>(resp.status));
  res.set(http::field::server, "tamga");
  if (!resp.content_type.empty()) res.set(http::field::content_type, resp.content_type);
  for (const auto& [k, v] : resp.headers) res.insert(k, v);
  res.keep_alive(keep_alive_);
  std::optional<int64_t> size = resp.stream->size();
  if (size)
    res.content_length(static_cast<uint64_t>(*size));
  else
    res.chunked(true);
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

void Session::WriteStreamChunk() {
  if (serializer_->is_done() || remaining_ <= 0) {
    if (!serializer_->is_done()) {
      stream_res_->body().data = nullptr;
      stream_res_->body().size = 0;
      stream_res_->body().more = false;
      return http::async_write(
          stream_, *serializer_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->FinishStream(ec); });
    }
    return FinishStream({});
  }
  auto read = [this]() -> Result<size_t> {
    Result<size_t> n = Internal("body source threw");
    try {
      n = reader_->Read(stream_buf_, sizeof(stream_buf_));
    } catch (const std::exception& e) {
      server_->RecordHandlerException(label_, e.what());
    }
    return n;
  };
  if (!reader_->ReadReady()) {  // the next bytes are still on their way: wait for them off the I/O thread
    return server_->OffThread([self = shared_from_this(), read] {
      Result<size_t> n = read();
      net::post(self->stream_.get_executor(),
                [self, n = std::move(n)]() mutable { self->OnStreamChunk(std::move(n)); });
    });
  }
  OnStreamChunk(read());
}

void Session::OnStreamChunk(Result<size_t> n) {
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
  stream_.tcp().expires_after(std::chrono::milliseconds(server_->options().limits.idle_timeout_ms));
  http::async_write(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return self->Close();
    self->WriteStreamChunk();
  });
}

void Session::FinishStream(beast::error_code ec) {
  if (ec == http::error::need_buffer) ec = {};
  serializer_.reset();
  stream_res_.reset();
  reader_.reset();
  AfterWrite(ec);
}

void Session::AfterWrite(beast::error_code ec) {
  double secs = double(server_->clock()->MonotonicNanos() - start_ns_) / 1e9;
  server_->Record(label_, method_name_.empty() ? "UNKNOWN" : method_name_.c_str(), status_, secs);
  if (AccessGate* gate = server_->options().gate; gate && label_ != "invalid")
    gate->Completed(req_, match_, status_);
  if (ec || !keep_alive_) return Close();
  ReadHeader();
}

void Session::Close() {
  beast::error_code ec;
  stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.tcp().close();
}

}  // namespace tamga
