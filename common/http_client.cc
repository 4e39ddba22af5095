#include "common/http_client.h"

#include <atomic>
#include <limits>
#include <optional>
#include <utility>

#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace steward::common {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }
beast::string_view Bv(std::string_view s) { return beast::string_view(s.data(), s.size()); }

}  // namespace

class HttpClient::Impl {
 public:
  Impl(std::string host, uint16_t port, Options options)
      : host_(std::move(host)), port_(port), options_(options) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) {
    for (int attempt = 0;; ++attempt) {
      if (cancelled_.load()) return Cancelled();
      const bool reused = stream_.has_value();
      if (absl::Status status = EnsureConnected(); !status.ok()) return status;
      http::response_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      bool got_bytes = false;
      absl::Status status = WriteRequest(request);
      if (status.ok()) status = ReadHead(&parser, &got_bytes);
      if (status.ok()) status = ReadRest(&parser);
      if (!status.ok()) {
        Close();
        if (reused && !got_bytes && attempt == 0 &&
            status.code() == absl::StatusCode::kUnavailable) {
          continue;  // The server closed the idle connection; try once on a fresh one.
        }
        return status;
      }
      HttpResponse response = Head(parser.get());
      response.body = std::move(parser.get().body());
      if (!parser.get().keep_alive()) Close();
      return response;
    }
  }

  absl::StatusOr<HttpResponse> Stream(const HttpRequest& request,
                                      const std::function<bool(const HttpResponse&)>& on_head,
                                      const std::function<bool(std::string_view)>& on_data) {
    std::optional<http::response_parser<http::buffer_body>> parser;
    for (int attempt = 0;; ++attempt) {
      if (cancelled_.load()) return Cancelled();
      const bool reused = stream_.has_value();
      if (absl::Status status = EnsureConnected(); !status.ok()) return status;
      parser.emplace();
      parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      bool got_bytes = false;
      absl::Status status = WriteRequest(request);
      if (status.ok()) status = ReadHead(&*parser, &got_bytes);
      if (status.ok()) break;
      Close();
      if (reused && !got_bytes && attempt == 0 && status.code() == absl::StatusCode::kUnavailable) {
        continue;
      }
      return status;
    }
    HttpResponse head = Head(parser->get());
    if (on_head && !on_head(head)) {
      Close();
      return head;
    }
    char piece[16 * 1024];
    while (!parser->is_done()) {
      if (cancelled_.load()) {
        Close();
        return Cancelled();
      }
      parser->get().body().data = piece;
      parser->get().body().size = sizeof(piece);
      beast::error_code ec = Run(options_.stream_idle_timeout, [&](auto handler) {
        http::async_read_some(*stream_, buffer_, *parser, std::move(handler));
      });
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        Close();
        return Error("reading the response body", ec);
      }
      const size_t n = sizeof(piece) - parser->get().body().size;
      if (n > 0 && !on_data(std::string_view(piece, n))) {
        Close();
        return head;
      }
    }
    if (!parser->get().keep_alive()) Close();
    return head;
  }

  void Close() {
    if (stream_) {
      beast::error_code ec;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_->socket().close(ec);
      stream_.reset();
    }
    buffer_.clear();
  }

  bool connected() const { return stream_.has_value(); }

  void Cancel() {
    cancelled_.store(true);
    // Runs on the thread inside Run(), the only one touching stream_: it aborts the operation
    // in progress, or the next one if none is (run() executes it right after that starts).
    net::post(ioc_, [this] {
      if (stream_) stream_->cancel();
    });
  }

 private:
  absl::Status Cancelled() const {
    return absl::CancelledError("request to " + host_ + ":" + std::to_string(port_) + " cancelled");
  }

  // Runs one asynchronous operation to completion on this thread, bounded by `timeout`
  // (zero: no bound).
  template <typename Start>
  beast::error_code Run(std::chrono::milliseconds timeout, Start&& start) {
    beast::error_code result = net::error::would_block;
    if (timeout.count() > 0) {
      stream_->expires_after(timeout);
    } else {
      stream_->expires_never();
    }
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  absl::Status Error(const std::string& what, beast::error_code ec) const {
    if (cancelled_.load()) return Cancelled();
    const std::string message =
        what + " from " + host_ + ":" + std::to_string(port_) + ": " + ec.message();
    if (ec == beast::error::timeout) return absl::DeadlineExceededError(message);
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return absl::DataLossError(message);
    }
    return absl::UnavailableError(message);
  }

  absl::Status EnsureConnected() {
    if (stream_) return absl::OkStatus();
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    const auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) {
      return absl::UnavailableError("cannot resolve " + host_ + ": " + ec.message());
    }
    stream_.emplace(ioc_);
    ec = Run(options_.timeout, [&](auto handler) {
      stream_->async_connect(endpoints,
                             [handler](beast::error_code e, const tcp::endpoint&) { handler(e); });
    });
    if (ec) {
      stream_.reset();
      if (cancelled_.load()) return Cancelled();
      return absl::UnavailableError("cannot connect to " + host_ + ":" + std::to_string(port_) +
                                    ": " + ec.message());
    }
    beast::error_code ignored;
    stream_->socket().set_option(tcp::no_delay(true), ignored);
    return absl::OkStatus();
  }

  absl::Status WriteRequest(const HttpRequest& request) {
    http::request<http::string_body> message;
    message.method_string(Bv(request.method));
    message.target(Bv(request.target));
    message.version(11);
    message.set(http::field::host, host_ + ":" + std::to_string(port_));
    bool chunked = false;
    for (const auto& [name, value] : request.headers) {
      if (beast::iequals(Bv(name), "transfer-encoding")) {
        chunked = beast::iequals(Bv(value), "chunked");
        continue;
      }
      if (beast::iequals(Bv(name), "content-length")) continue;
      message.insert(Bv(name), Bv(value));
    }
    message.body() = request.body;
    message.keep_alive(true);
    if (chunked) {
      message.chunked(true);
    } else {
      message.prepare_payload();
    }
    const beast::error_code ec = Run(options_.timeout, [&](auto handler) {
      http::async_write(*stream_, message, std::move(handler));
    });
    return ec ? Error("sending the request", ec) : absl::OkStatus();
  }

  template <typename Parser>
  absl::Status ReadHead(Parser* parser, bool* got_bytes) {
    const beast::error_code ec = Run(options_.timeout, [&](auto handler) {
      http::async_read_header(*stream_, buffer_, *parser, std::move(handler));
    });
    *got_bytes = parser->got_some() || buffer_.size() > 0;
    return ec ? Error("reading the response", ec) : absl::OkStatus();
  }

  absl::Status ReadRest(http::response_parser<http::string_body>* parser) {
    const beast::error_code ec = Run(options_.timeout, [&](auto handler) {
      http::async_read(*stream_, buffer_, *parser, std::move(handler));
    });
    return ec ? Error("reading the response", ec) : absl::OkStatus();
  }

  template <typename Body>
  static HttpResponse Head(const http::response<Body>& message) {
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(Str(field.name_string()), Str(field.value()));
    }
    return response;
  }

  const std::string host_;
  const uint16_t port_;
  const Options options_;
  net::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::atomic<bool> cancelled_{false};
};

HttpClient::HttpClient(std::string host, uint16_t port)
    : HttpClient(std::move(host), port, Options()) {}
HttpClient::HttpClient(std::string host, uint16_t port, Options options)
    : impl_(std::make_unique<Impl>(std::move(host), port, options)) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  return impl_->Send(request);
}

absl::StatusOr<HttpResponse> HttpClient::Get(std::string target) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return impl_->Send(request);
}

absl::StatusOr<HttpResponse> HttpClient::Post(std::string target, std::string body,
                                              std::string content_type) {
  HttpRequest request;
  request.method = "POST";
  request.target = std::move(target);
  request.headers.emplace_back("Content-Type", std::move(content_type));
  request.body = std::move(body);
  return impl_->Send(request);
}

absl::StatusOr<HttpResponse> HttpClient::Stream(
    const HttpRequest& request, const std::function<bool(const HttpResponse&)>& on_head,
    const std::function<bool(std::string_view)>& on_data) {
  return impl_->Stream(request, on_head, on_data);
}

void HttpClient::Close() { impl_->Close(); }
void HttpClient::Cancel() { impl_->Cancel(); }
bool HttpClient::connected() const { return impl_->connected(); }

}  // namespace steward::common
