#include "bench/internal/async_http.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace steward::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kMaxCallResponseBytes = 1 << 20;
constexpr size_t kStreamPieceBytes = 64 * 1024;

}  // namespace

std::string BuildPost(std::string_view target, std::string_view content_type,
                      std::string_view accept, std::string_view stream_id, std::string_view body) {
  std::string out;
  out.reserve(160 + target.size() + stream_id.size() + body.size());
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  out.append("POST ").append(target).append(" HTTP/1.1\r\n");
  field("Host", "127.0.0.1");
  field("Content-Type", content_type);
  field("Content-Length", std::to_string(body.size()));
  if (!accept.empty()) field("Accept", accept);
  if (!stream_id.empty()) field("Mesos-Stream-Id", stream_id);
  out.append("\r\n").append(body);
  return out;
}

// ---------------------------------------------------------------------------------------
// CallConnection

CallConnection::CallConnection(Executor executor, Endpoint endpoint)
    : executor_(std::move(executor)), endpoint_(std::move(endpoint)), socket_(executor_) {}

void CallConnection::Send(std::string request, Done done) {
  if (failed_) {
    net::post(executor_, [done = std::move(done)] { done(-1, "connection failed earlier"); });
    return;
  }
  queued_ += request;
  done_.push_back(std::move(done));
  if (!connected_) {
    if (!connecting_) Connect();
    return;
  }
  WriteQueued();
  ReadResponse();
}

void CallConnection::Close() {
  if (!failed_) Fail("closed");
}

void CallConnection::Connect() {
  connecting_ = true;
  socket_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
    self->connecting_ = false;
    if (self->failed_) return;
    if (ec) {
      self->Fail(absl::StrCat("connect: ", ec.message()));
      return;
    }
    self->connected_ = true;
    self->socket_.set_option(tcp::no_delay(true), ec);
    self->WriteQueued();
    self->ReadResponse();
  });
}

void CallConnection::WriteQueued() {
  if (!connected_ || failed_ || !writing_.empty() || queued_.empty()) return;
  writing_.swap(queued_);
  net::async_write(socket_, net::buffer(writing_),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (self->failed_) return;
                     if (ec) {
                       self->Fail(absl::StrCat("write: ", ec.message()));
                       return;
                     }
                     self->writing_.clear();
                     self->WriteQueued();
                   });
}

void CallConnection::ReadResponse() {
  if (!connected_ || failed_ || reading_ || done_.empty()) return;
  reading_ = true;
  parser_.emplace();
  parser_->body_limit(kMaxCallResponseBytes);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->reading_ = false;
                     if (self->failed_) return;
                     if (ec) {
                       self->Fail(absl::StrCat("read: ", ec.message()));
                       return;
                     }
                     http::response<http::string_body> response = self->parser_->release();
                     Done done = std::move(self->done_.front());
                     self->done_.pop_front();
                     done(static_cast<int>(response.result_int()), response.body());
                     if (!response.keep_alive()) {
                       self->Fail("the server closed the connection");
                       return;
                     }
                     self->ReadResponse();
                   });
}

void CallConnection::Fail(const std::string& why) {
  failed_ = true;
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  std::deque<Done> done;
  done.swap(done_);
  for (Done& d : done) d(-1, why);
}

// ---------------------------------------------------------------------------------------
// EventStreamConnection

EventStreamConnection::EventStreamConnection(Executor executor, Endpoint endpoint,
                                             Callbacks callbacks)
    : executor_(std::move(executor)),
      endpoint_(std::move(endpoint)),
      callbacks_(std::move(callbacks)),
      socket_(executor_),
      piece_(kStreamPieceBytes) {
  parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
}

void EventStreamConnection::Start(std::string request) {
  request_ = std::move(request);
  socket_.async_connect(endpoint_, [self = shared_from_this()](beast::error_code ec) {
    if (self->closed_) return;
    if (ec) {
      self->End(absl::StrCat("connect: ", ec.message()));
      return;
    }
    self->socket_.set_option(tcp::no_delay(true), ec);
    net::async_write(self->socket_, net::buffer(self->request_),
                     [self](beast::error_code write_ec, size_t) {
                       if (self->closed_) return;
                       if (write_ec) {
                         self->End(absl::StrCat("write: ", write_ec.message()));
                         return;
                       }
                       self->ReadHead();
                     });
  });
}

void EventStreamConnection::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void EventStreamConnection::ReadHead() {
  http::async_read_header(
      socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (self->closed_) return;
        if (ec) {
          self->End(absl::StrCat("reading the response head: ", ec.message()));
          return;
        }
        const auto& head = self->parser_.get();
        const int status = static_cast<int>(head.result_int());
        auto id = head.find("Mesos-Stream-Id");
        const std::string stream_id =
            id == head.end() ? std::string() : std::string(id->value().data(), id->value().size());
        self->callbacks_.on_head(status, stream_id);
        if (self->closed_) return;
        if (status != 200) {
          self->End(absl::StrCat("HTTP status ", status));
        } else if (self->parser_.is_done()) {
          self->End("the stream ended");
        } else {
          self->ReadBody();
        }
      });
}

void EventStreamConnection::ReadBody() {
  parser_.get().body().data = piece_.data();
  parser_.get().body().size = piece_.size();
  http::async_read_some(
      socket_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (self->closed_) return;
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
          self->End(absl::StrCat("reading the stream: ", ec.message()));
          return;
        }
        const size_t n = self->piece_.size() - self->parser_.get().body().size;
        self->records_.clear();
        if (absl::Status status =
                self->decoder_.Decode(std::string_view(self->piece_.data(), n), &self->records_);
            !status.ok()) {
          self->End(absl::StrCat("bad RecordIO: ", status.message()));
          return;
        }
        for (const std::string& record : self->records_) {
          self->callbacks_.on_record(record);
          if (self->closed_) return;
        }
        if (self->parser_.is_done()) {
          self->End("the stream ended");
        } else {
          self->ReadBody();
        }
      });
}

void EventStreamConnection::End(const std::string& why) {
  if (closed_) return;
  Close();
  if (callbacks_.on_end) callbacks_.on_end(why);
}

}  // namespace steward::bench
