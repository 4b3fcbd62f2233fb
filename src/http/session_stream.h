#pragma once
// SessionStream: one connection's byte stream, plain TCP or TLS over it (tamga server --tls-cert/--tls-key),
// chosen per server at run time. Beast's HTTP reads and writes are templates over the stream; this type
// forwards each call to the right layer without erasing the handler's type, so each path costs what it
// would alone. Deadlines (tcp().expires_after) apply to the TCP layer under TLS too. Internal to
// tamga_http_server; used on the connection's strand only.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <optional>
#include <utility>

namespace tamga {

class SessionStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  // `tls` null = plain HTTP; else the server's TLS context (outlives every session).
  SessionStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) {
    if (tls != nullptr) {
      secure_.emplace(boost::beast::tcp_stream(std::move(socket)), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  executor_type get_executor() { return tcp().get_executor(); }
  boost::beast::tcp_stream& tcp() { return plain_ ? *plain_ : secure_->next_layer(); }
  bool tls() const { return secure_.has_value(); }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (plain_) {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      secure_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (plain_) {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      secure_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // The server side of the TLS handshake (TLS streams only).
  template <class Handler>
  void async_handshake(Handler&& handler) {
    secure_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }

 private:
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream>> secure_;
};

}  // namespace tamga
