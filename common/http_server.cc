#include "common/http_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace steward::common {
namespace http_internal {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
// Connections run on a strand of concrete type, and their sockets and timers carry it as their
// executor: a type-erased executor (beast::tcp_stream, any_io_executor) is copied, reference
// counted and queried for properties on every operation, several percent of the master's CPU
// under steward-master-bench.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;

namespace {

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool IsFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Fields the server owns: framing and connection management.
bool IsReservedField(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"content-length", "transfer-encoding",
                                                   "connection"};
  return std::any_of(std::begin(kReserved), std::end(kReserved), [name](std::string_view r) {
    return r.size() == name.size() &&
           std::equal(r.begin(), r.end(), name.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

// Copies the handler's fields, dropping ones that would break framing or inject lines.
template <typename Fields>
void SetFields(const HttpHeaders& headers, Fields* fields) {
  for (const auto& [name, value] : headers) {
    if (IsToken(name) && IsFieldValue(value) && !IsReservedField(name)) {
      fields->insert(beast::string_view(name.data(), name.size()),
                     beast::string_view(value.data(), value.size()));
    }
  }
}

unsigned ValidStatus(int status) {
  return (status >= 100 && status <= 599) ? static_cast<unsigned>(status) : 500u;
}

// Written by hand: a Beast message and serializer cost thousands of instructions per response
// (measured with callgrind under steward-master-bench) for a status line, a few fields and the
// body. The bytes are Beast's: its reason phrase, the handler's acceptable fields,
// "Connection: close" when the connection will close, and Content-Length. 1xx, 204 and 304
// answers carry no body (Content-Length: 0; Beast would throw on a body there).
std::string SerializeResponse(HttpResponse response, bool keep_alive) {
  const unsigned status = ValidStatus(response.status);
  const beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
  const bool bodyless = status < 200 || status == 204 || status == 304;
  const size_t length = bodyless ? 0 : response.body.size();
  std::string out;
  out.reserve(128 + length);
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(reason.data(), reason.size()).append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (IsToken(name) && IsFieldValue(value) && !IsReservedField(name)) {
      out.append(name).append(": ").append(value).append("\r\n");
    }
  }
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("Content-Length: ").append(std::to_string(length)).append("\r\n\r\n");
  if (!bodyless) out.append(response.body);
  return out;
}

std::string SerializeStreamHead(int status, const HttpHeaders& headers, bool keep_alive) {
  http::response<http::empty_body> message;
  message.result(ValidStatus(status));
  message.version(11);
  SetFields(headers, &message.base());
  message.keep_alive(keep_alive);
  message.chunked(true);
  std::ostringstream out;
  out << message.base();
  return std::move(out).str();
}

HttpResponse TextResponse(int status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(text) + "\n";
  return response;
}

}  // namespace

class Connection;

struct MethodRoutes {
  std::map<std::string, HttpHandler> by_method;
};

struct ServerCore {
  explicit ServerCore(HttpServer::Options opts) : options(std::move(opts)) {}

  // Declared first so that it is destroyed last, after every I/O object.
  net::io_context ioc;
  const HttpServer::Options options;
  std::map<std::string, MethodRoutes> exact_routes;
  std::map<std::string, MethodRoutes> prefix_routes;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;  // Used on its own strand only.
  std::vector<std::thread> threads;

  std::mutex mu;
  bool stopped = false;                                // Guarded by mu.
  std::vector<std::weak_ptr<Connection>> connections;  // Guarded by mu.

  // Posts `fn` to `executor` unless the server has stopped (then nothing runs any more).
  template <typename Executor, typename Fn>
  bool PostUnlessStopped(const Executor& executor, Fn&& fn) {
    std::lock_guard lock(mu);
    if (stopped) return false;
    net::post(executor, std::forward<Fn>(fn));
    return true;
  }
};

class ResponderState {
 public:
  enum class Phase { kPending, kReplied, kStreaming, kClosed };

  ResponderState(std::shared_ptr<Connection> connection, uint64_t seq)
      : connection_(std::move(connection)), seq_(seq) {}
  ~ResponderState();

  // Moves the phase from `from` to `to`; false (no change) if it was not `from`.
  bool Transition(Phase from, Phase to) {
    std::lock_guard lock(mu_);
    if (phase_ != from) return false;
    phase_ = to;
    return true;
  }
  bool IsStreaming() {
    std::lock_guard lock(mu_);
    return phase_ == Phase::kStreaming;
  }
  // Responder::Write: queues `chunk` for the connection if streaming. `*post_flush` says
  // whether the caller must post a flush (TakeChunks on the strand): only the first chunk
  // queued since the last flush does, so that events written faster than the strand runs
  // cost one hand-off, and go to the socket together.
  bool QueueChunk(std::string chunk, bool* post_flush) {
    std::lock_guard lock(mu_);
    if (phase_ != Phase::kStreaming) return false;
    chunks_.push_back(std::move(chunk));
    *post_flush = !flush_posted_;
    flush_posted_ = true;
    return true;
  }
  std::vector<std::string> TakeChunks() {
    std::lock_guard lock(mu_);
    flush_posted_ = false;
    return std::exchange(chunks_, {});
  }

  const std::shared_ptr<Connection>& connection() const { return connection_; }
  uint64_t seq() const { return seq_; }

  std::atomic<bool> disconnected{false};
  std::function<void()> on_disconnect;  // Used on the connection's strand only.

 private:
  const std::shared_ptr<Connection> connection_;
  const uint64_t seq_;
  std::mutex mu_;
  Phase phase_ = Phase::kPending;    // Guarded by mu_.
  std::vector<std::string> chunks_;  // Guarded by mu_: written, not yet flushed.
  bool flush_posted_ = false;        // Guarded by mu_.
};

// One accepted connection. Everything except the constructor and Post() runs on `strand_`.
//
// The read side runs one request ahead: while a response is in progress, the next request is
// read (and held) so that a client disconnect is noticed at once. At most one request is held.
// A request is dispatched as soon as the previous answer is completely queued, not written:
// the answers to pipelined requests go out together, in order, in one gathering write.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> core, Socket socket)
      : core_(std::move(core)),
        strand_(socket.get_executor()),
        socket_(std::move(socket)),
        idle_timer_(strand_) {}

  template <typename Fn>
  bool Post(Fn&& fn) {
    return core_->PostUnlessStopped(strand_, std::forward<Fn>(fn));
  }
  // Runs `fn` at once when called on this connection's strand (a handler answering before it
  // returns, the common case), else posts it there. False, running nothing, once the server
  // has stopped.
  template <typename Fn>
  bool RunOrPost(Fn&& fn) {
    if (strand_.running_in_this_thread()) {
      {
        std::lock_guard lock(core_->mu);
        if (core_->stopped) return false;
      }
      fn();
      return true;
    }
    return Post(std::forward<Fn>(fn));
  }
  const Strand& strand() const { return strand_; }
  void Start() {
    ArmIdleTimer();
    ReadRequest();
  }

  // Server stop: the client is told nothing more; the handler sees a disconnect.
  void Abort() {
    NotifyDisconnect();
    CloseSocket();
  }

  void SendComplete(uint64_t seq, HttpResponse response) {
    if (seq != seq_ || !in_flight_ || closed_) return;
    Enqueue(SerializeResponse(std::move(response), keep_alive_), /*ends_response=*/true);
  }
  void SendStreamHead(uint64_t seq, int status, const HttpHeaders& headers) {
    if (seq != seq_ || !in_flight_ || closed_) return;
    streaming_ = true;
    Enqueue(SerializeStreamHead(status, headers, keep_alive_), false);
    if (read_eof_) CloseSocket();
  }
  // Queues the chunks Responder::Write collected, then writes them together.
  void SendChunks(uint64_t seq, std::vector<std::string> chunks) {
    if (seq != seq_ || !in_flight_ || closed_ || stream_ended_) return;
    for (std::string& data : chunks) {
      Enqueue(std::move(data), false, /*chunk=*/true, /*write=*/false);
    }
    if (queued_bytes_ > core_->options.max_queued_bytes) {  // The client is not reading.
      NotifyDisconnect();
      CloseSocket();
      return;
    }
    if (!writing_ && !outbox_.empty()) WriteNext();
  }
  void SendLastChunk(uint64_t seq) {
    if (seq != seq_ || !in_flight_ || closed_ || stream_ended_) return;
    stream_ended_ = true;
    Enqueue("0\r\n\r\n", true);
  }
  void SetDisconnectCallback(const std::shared_ptr<ResponderState>& state,
                             std::function<void()> callback) {
    if (state->disconnected.load()) {
      callback();
    } else if (state->seq() == seq_ && in_flight_) {
      state->on_disconnect = std::move(callback);
    }
  }

 private:
  struct Pending {
    std::optional<HttpRequest> request;
    std::optional<HttpResponse> error;  // Answer, then close.
  };
  // Bytes to send. A chunk of a streamed body is framed on the way out ("<hex size>\r\n",
  // the data, "\r\n") without copying the data.
  struct Outgoing {
    std::string data;
    bool ends_response = false;
    bool chunk = false;
    uint8_t size_line_length = 0;
    char size_line[20] = {};
  };

  void ReadRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<size_t>(core_->options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(core_->options.max_body_bytes);
    reading_ = true;
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      std::optional<HttpResponse> error;
      if (ec == http::error::header_limit) {
        error = TextResponse(431, "request header fields too large (limit " +
                                      std::to_string(core_->options.max_header_bytes) + " bytes)");
      } else if (ec == http::error::body_limit) {
        error = TextResponse(413, "request body too large (limit " +
                                      std::to_string(core_->options.max_body_bytes) + " bytes)");
      } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        error = TextResponse(400, "malformed HTTP request: " + ec.message());
      }
      if (!error) {  // The client closed or the socket failed.
        read_eof_ = true;
        if (in_flight_) {
          NotifyDisconnect();
          if (streaming_ || ec != http::error::end_of_stream) CloseSocket();
        } else if (writing_ || !outbox_.empty()) {
          // Answers still on their way: a client that only shut down its sending side gets
          // them (then the connection closes gracefully).
          if (ec == http::error::end_of_stream) {
            close_after_write_ = true;
          } else {
            CloseSocket();
          }
        } else {
          CloseSocket();
        }
        return;
      }
      if (in_flight_) {
        pending_ = Pending{std::nullopt, std::move(error)};
      } else {
        SendError(std::move(*error));
      }
      return;
    }
    HttpRequest request = TakeRequest();
    if (in_flight_) {
      pending_ = Pending{std::move(request), std::nullopt};
    } else {
      Dispatch(std::move(request));
    }
  }

  HttpRequest TakeRequest() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    HttpRequest request;
    request.method = Str(message.method_string());
    request.target = Str(message.target());
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& field : message) {
      request.headers.emplace_back(Str(field.name_string()), Str(field.value()));
    }
    request.body = std::move(message.body());
    if (peer_.empty()) {  // once per connection: it is a system call
      beast::error_code ec;
      const tcp::endpoint peer = socket_.remote_endpoint(ec);
      if (!ec) peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    }
    request.peer = peer_;
    next_keep_alive_ = message.keep_alive();
    return request;
  }

  void SendError(HttpResponse response) {
    ++seq_;
    CancelIdleTimer();
    in_flight_ = true;
    keep_alive_ = false;
    Enqueue(SerializeResponse(std::move(response), false), true);
  }

  const MethodRoutes* FindRoutes(const std::string& path) const {
    if (auto it = core_->exact_routes.find(path); it != core_->exact_routes.end()) {
      return &it->second;
    }
    const MethodRoutes* best = nullptr;
    size_t best_length = 0;
    for (const auto& [prefix, routes] : core_->prefix_routes) {
      if (path.compare(0, prefix.size(), prefix) == 0 && (!best || prefix.size() > best_length)) {
        best = &routes;
        best_length = prefix.size();
      }
    }
    return best;
  }

  void Dispatch(HttpRequest request) {
    ++seq_;
    CancelIdleTimer();
    in_flight_ = true;
    streaming_ = false;
    stream_ended_ = false;
    keep_alive_ = next_keep_alive_;
    // Keep reading (one request ahead) so that a disconnect is seen while the handler works.
    if (keep_alive_) ReadRequest();
    dispatching_ = true;
    Route(request);
    dispatching_ = false;
    // Answered before the handler returned: take the next request (not from inside the
    // handler's Reply, which may hold the handler's locks).
    if (!in_flight_ && !close_after_write_ && !closed_) NextRequest();
  }

  void Route(const HttpRequest& request) {
    const MethodRoutes* routes = FindRoutes(request.path);
    if (routes == nullptr) {
      SendComplete(seq_, TextResponse(404, "no route for " + request.path));
      return;
    }
    auto it = routes->by_method.find(request.method);
    if (it == routes->by_method.end()) {
      std::string allow;
      for (const auto& [method, handler] : routes->by_method) {
        allow += allow.empty() ? method : ", " + method;
      }
      HttpResponse response =
          TextResponse(405, "method " + request.method + " not allowed for " + request.path);
      response.headers.emplace_back("Allow", allow);
      SendComplete(seq_, std::move(response));
      return;
    }
    auto state = std::make_shared<ResponderState>(shared_from_this(), seq_);
    current_ = state;
    try {
      it->second(request, Responder(state));
    } catch (const std::exception& e) {
      Responder(state).Reply(500, std::string("handler failed: ") + e.what());
    } catch (...) {
      Responder(state).Reply(500, "handler failed");
    }
  }

  void Enqueue(std::string data, bool ends_response, bool chunk = false, bool write = true) {
    Outgoing& out = outbox_.emplace_back();
    out.data = std::move(data);
    out.ends_response = ends_response;
    out.chunk = chunk;
    if (chunk) {
      const int n = std::snprintf(out.size_line, sizeof(out.size_line), "%zx\r\n", out.data.size());
      out.size_line_length = static_cast<uint8_t>(n);
      queued_bytes_ += static_cast<size_t>(n) + 2;
    }
    queued_bytes_ += out.data.size();
    if (ends_response) ResponseQueued();
    if (!write || writing_ || flush_posted_ || closed_) return;
    if (ends_response && NextRequestIsHere()) {
      // Pipelined requests: answer the next one first and write both answers together.
      // Its read completes before this flush runs (both are queued on the strand).
      flush_posted_ = true;
      net::post(strand_, [self = shared_from_this()] {
        self->flush_posted_ = false;
        if (!self->closed_ && !self->writing_ && !self->outbox_.empty()) self->WriteNext();
      });
      return;
    }
    WriteNext();
  }

  // Whether another request is already read or buffered (the read one ahead has it).
  bool NextRequestIsHere() const {
    return pending_.has_value() || buffer_.size() > 0 || (parser_ && parser_->is_done());
  }

  // The response in flight is completely queued: the connection may take the next request
  // now, while the answer is still being written (answers go out in order).
  void ResponseQueued() {
    if (auto state = current_.lock()) state->on_disconnect = nullptr;
    current_.reset();
    in_flight_ = false;
    streaming_ = false;
    if (!keep_alive_ || read_eof_) {
      close_after_write_ = true;
      return;
    }
    if (!dispatching_) NextRequest();
  }

  // Dispatches the request read ahead, if any, else waits for one.
  void NextRequest() {
    if (pending_) {
      Pending pending = std::move(*pending_);
      pending_.reset();
      if (pending.error) {
        SendError(std::move(*pending.error));
      } else {
        Dispatch(std::move(*pending.request));
      }
    } else {
      ArmIdleTimer();
      if (!reading_) ReadRequest();
    }
  }

  // Writes everything queued (up to kMaxEntriesPerWrite entries) with one gathering write:
  // under load, a stream's events and a response go out in one system call.
  void WriteNext() {
    static constexpr size_t kMaxEntriesPerWrite = 64;
    static constexpr std::string_view kChunkEnd = "\r\n";
    writing_ = true;
    writing_entries_ = std::min(outbox_.size(), kMaxEntriesPerWrite);
    write_buffers_.clear();
    for (size_t i = 0; i < writing_entries_; ++i) {
      const Outgoing& out = outbox_[i];
      if (out.chunk) write_buffers_.emplace_back(out.size_line, out.size_line_length);
      write_buffers_.emplace_back(out.data.data(), out.data.size());
      if (out.chunk) write_buffers_.emplace_back(kChunkEnd.data(), kChunkEnd.size());
    }
    net::async_write(
        socket_, write_buffers_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      NotifyDisconnect();
      CloseSocket();
      return;
    }
    for (size_t i = 0; i < writing_entries_; ++i) {
      const Outgoing& out = outbox_.front();
      queued_bytes_ -= out.data.size() + (out.chunk ? out.size_line_length + 2u : 0u);
      outbox_.pop_front();
    }
    writing_entries_ = 0;
    if (!outbox_.empty()) {
      WriteNext();
    } else if (close_after_write_) {
      CloseGracefully();
    }
  }

  // Closes the connection unless a request is dispatched (CancelIdleTimer) within the timeout.
  // Requests do not cancel and re-arm the timer (two timer operations and a completion per
  // request): a timer that fires early, or while a request is in flight, just waits again
  // for the current deadline; one that fires while no request is in flight does nothing and
  // the next ArmIdleTimer() starts a new one.
  void ArmIdleTimer() {
    if (core_->options.idle_timeout.count() <= 0) return;
    idle_deadline_ = std::chrono::steady_clock::now() + core_->options.idle_timeout;
    idle_armed_ = true;
    if (!idle_timer_waiting_) WaitIdleTimer();
  }
  void CancelIdleTimer() { idle_armed_ = false; }
  void WaitIdleTimer() {
    idle_timer_waiting_ = true;
    idle_timer_.expires_at(idle_deadline_);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->idle_timer_waiting_ = false;
      if (ec || self->closed_ || !self->idle_armed_) return;
      if (std::chrono::steady_clock::now() < self->idle_deadline_) {
        self->WaitIdleTimer();
      } else if (!self->in_flight_) {
        self->CloseSocket();
      }
    });
  }

  void NotifyDisconnect() {
    auto state = current_.lock();
    if (!state || state->disconnected.exchange(true)) return;
    std::function<void()> callback = std::move(state->on_disconnect);
    state->on_disconnect = nullptr;
    if (callback) callback();
  }

  // Sends FIN, then reads and discards what the client still sends for a short while before
  // closing, so that an error response is not lost to a reset caused by unread request bytes.
  void CloseGracefully() {
    if (closed_) return;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec || reading_) {
      CloseSocket();
      return;
    }
    // The idle timer (no longer armed: a response just ended) bounds the drain.
    idle_armed_ = false;
    idle_timer_.expires_after(std::chrono::seconds(1));
    idle_timer_waiting_ = true;
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
      self->idle_timer_waiting_ = false;
      if (!timer_ec) self->CloseSocket();
    });
    Drain();
  }

  void Drain() {
    drain_buffer_.resize(4096);
    socket_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->closed_ || self->drained_ > (size_t{1} << 20)) {
                                self->CloseSocket();
                              } else {
                                self->Drain();
                              }
                            });
  }

  void CloseSocket() {
    if (closed_) return;
    closed_ = true;
    outbox_.clear();
    queued_bytes_ = 0;
    CancelIdleTimer();
    idle_timer_.cancel();  // its wait holds this connection alive
    pending_.reset();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  const std::shared_ptr<ServerCore> core_;
  const Strand strand_;
  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<Outgoing> outbox_;
  size_t writing_entries_ = 0;  // The first entries of outbox_, being written.
  std::vector<net::const_buffer> write_buffers_;
  std::optional<Pending> pending_;
  std::weak_ptr<ResponderState> current_;
  Timer idle_timer_;
  std::chrono::steady_clock::time_point idle_deadline_;
  bool idle_armed_ = false;          // The connection is idle and idle_deadline_ applies.
  bool idle_timer_waiting_ = false;  // An async_wait on idle_timer_ is pending.
  size_t queued_bytes_ = 0;          // In outbox_.
  std::string peer_;                 // "address:port" of the client
  std::string drain_buffer_;
  size_t drained_ = 0;
  uint64_t seq_ = 0;  // Of the response in flight (or the last one).
  bool reading_ = false;
  bool writing_ = false;
  bool in_flight_ = false;
  bool streaming_ = false;
  bool stream_ended_ = false;       // The last chunk of the response in flight is queued.
  bool dispatching_ = false;        // In Dispatch (a handler may be answering inline).
  bool flush_posted_ = false;       // A write of the outbox is posted (see Enqueue).
  bool close_after_write_ = false;  // Close gracefully once the outbox is written.
  bool keep_alive_ = true;          // Of the response in flight.
  bool next_keep_alive_ = true;     // Of the request last read.
  bool read_eof_ = false;
  bool closed_ = false;
};

ResponderState::~ResponderState() {
  Phase phase;
  {
    std::lock_guard lock(mu_);
    phase = phase_;
  }
  if (phase == Phase::kPending) {
    connection_->Post([connection = connection_, seq = seq_] {
      connection->SendComplete(seq, TextResponse(500, "handler did not reply"));
    });
  } else if (phase == Phase::kStreaming) {
    connection_->Post([connection = connection_, seq = seq_] { connection->SendLastChunk(seq); });
  }
}

namespace {

void Accept(const std::shared_ptr<ServerCore>& core) {
  core->acceptor->async_accept(
      net::make_strand(core->ioc), [core](beast::error_code ec, Socket socket) {
        if (ec == net::error::operation_aborted || !core->acceptor->is_open()) return;
        if (!ec) {
          auto connection = std::make_shared<Connection>(core, std::move(socket));
          std::lock_guard lock(core->mu);
          if (core->stopped) return;
          std::erase_if(core->connections, [](const auto& weak) { return weak.expired(); });
          core->connections.push_back(connection);
          net::post(connection->strand(), [connection] { connection->Start(); });
        }
        Accept(core);
      });
}

}  // namespace
}  // namespace http_internal

using http_internal::ResponderState;
using Phase = http_internal::ResponderState::Phase;

Responder::Responder(std::shared_ptr<ResponderState> state) : state_(std::move(state)) {}

bool Responder::Reply(HttpResponse response) {
  if (!state_->Transition(Phase::kPending, Phase::kReplied)) return false;
  return state_->connection()->RunOrPost([connection = state_->connection(), seq = state_->seq(),
                                          response = std::move(response)]() mutable {
    connection->SendComplete(seq, std::move(response));
  });
}

bool Responder::Reply(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return Reply(std::move(response));
}

bool Responder::StartStream(int status, HttpHeaders headers) {
  if (!state_->Transition(Phase::kPending, Phase::kStreaming)) return false;
  return state_->connection()->Post(
      [connection = state_->connection(), seq = state_->seq(), status,
       headers = std::move(headers)] { connection->SendStreamHead(seq, status, headers); });
}

bool Responder::Write(std::string chunk) {
  if (state_->disconnected.load()) return false;
  if (chunk.empty()) return state_->IsStreaming();
  bool post_flush = false;
  if (!state_->QueueChunk(std::move(chunk), &post_flush)) return false;
  if (!post_flush) return true;  // Rides with the flush already posted.
  if (state_->connection()->Post([connection = state_->connection(), state = state_] {
        connection->SendChunks(state->seq(), state->TakeChunks());
      })) {
    return true;
  }
  state_->TakeChunks();  // The server stopped: nothing will flush them.
  return false;
}

bool Responder::Close() {
  if (!state_->Transition(Phase::kStreaming, Phase::kClosed)) return false;
  return state_->connection()->Post(
      [connection = state_->connection(), seq = state_->seq()] { connection->SendLastChunk(seq); });
}

void Responder::OnDisconnect(std::function<void()> callback) {
  auto shared_callback = std::make_shared<std::function<void()>>(std::move(callback));
  const bool posted = state_->connection()->Post(
      [connection = state_->connection(), state = state_, shared_callback] {
        connection->SetDisconnectCallback(state, std::move(*shared_callback));
      });
  if (!posted) (*shared_callback)();  // The server has stopped.
}

bool Responder::connected() const { return !state_->disconnected.load(); }

HttpServer::HttpServer(Options options)
    : options_(std::move(options)), core_(std::make_shared<http_internal::ServerCore>(options_)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string path, HttpHandler handler) {
  core_->exact_routes[std::move(path)].by_method[std::move(method)] = std::move(handler);
}

void HttpServer::RoutePrefix(std::string method, std::string prefix, HttpHandler handler) {
  core_->prefix_routes[std::move(prefix)].by_method[std::move(method)] = std::move(handler);
}

absl::Status HttpServer::Start() {
  namespace net = boost::asio;
  using tcp = net::ip::tcp;
  if (started_) return absl::FailedPreconditionError("HTTP server already started");
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) {
    return absl::InvalidArgumentError("bad listen address '" + options_.address +
                                      "': " + ec.message());
  }
  const tcp::endpoint endpoint(address, options_.port);
  auto& acceptor = core_->acceptor.emplace(net::make_strand(core_->ioc));
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    core_->acceptor.reset();
    return absl::UnavailableError("cannot listen on " + options_.address + ":" +
                                  std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor.local_endpoint().port();
  started_ = true;
  core_->work.emplace(core_->ioc.get_executor());
  net::post(acceptor.get_executor(), [core = core_] { http_internal::Accept(core); });
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    core_->threads.emplace_back([core = core_.get()] { core->ioc.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  namespace net = boost::asio;
  if (!started_) return;
  std::vector<std::weak_ptr<http_internal::Connection>> connections;
  {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    core_->stopped = true;
    connections.swap(core_->connections);
  }
  // Nothing new can be posted from outside now; close everything from inside the strands.
  net::post(core_->acceptor->get_executor(), [core = core_] {
    boost::system::error_code ec;
    core->acceptor->close(ec);
  });
  for (const auto& weak : connections) {
    if (auto connection = weak.lock()) {
      net::post(connection->strand(), [connection] { connection->Abort(); });
    }
  }
  core_->work.reset();
  for (std::thread& thread : core_->threads) thread.join();
  core_->threads.clear();
}

}  // namespace steward::common
