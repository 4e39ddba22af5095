// An asynchronous HTTP/1.1 server on Boost.Beast/Asio for the daemons' APIs.
//
// One io_context runs on `threads` threads; every connection has its own strand, so one
// connection's work is serialised while connections proceed in parallel. Requests are routed
// by method and path: exact routes first, then the longest matching prefix route. A path that
// matches a route only for other methods is answered 405 with `Allow`; no match is 404.
// Request bodies may be chunked. Limits answer with a short text/plain reason and close the
// connection: header bytes -> 431, body bytes -> 413, anything unparsable -> 400.
// Connections are kept alive as HTTP/1.1 says until idle for `idle_timeout`. A connection's
// requests are handled one at a time, in order; pipelined requests are handled while the
// answer to the previous one is still being written, and their answers share writes.
//
// A handler gets the request and a Responder. It answers once, now or later from any thread,
// with Reply(), or starts a chunked streaming response with StartStream() and then Write()s
// chunks from any thread until Close(). OnDisconnect() tells a streaming handler that the
// client went away (or the server stopped), so it can stop producing.
//
// Thread safety: Route*() before Start() only. Start(), Stop() and port() from one owner
// thread. Responder is thread-safe.
#ifndef STEWARD_COMMON_HTTP_SERVER_H_
#define STEWARD_COMMON_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/http_types.h"

namespace steward::common {

namespace http_internal {
class ResponderState;
struct ServerCore;
}  // namespace http_internal

// The handle a handler answers through. Copyable; copies share one response. If every copy is
// dropped without an answer, the client gets 500 "handler did not reply". Every method may be
// called from any thread; their effects on the connection happen in call order.
class Responder {
 public:
  explicit Responder(std::shared_ptr<http_internal::ResponderState> state);

  // Sends a complete response (Content-Length set from the body). Returns false, sending
  // nothing, if this request was already answered or a stream started, or the server stopped.
  // Called by the handler before it returns, the response is handed to the socket at once, on
  // the calling thread (no hop through the server's queue): better not hold a lock then.
  bool Reply(HttpResponse response);
  bool Reply(int status, std::string body, std::string content_type = "text/plain");

  // Starts a `Transfer-Encoding: chunked` response. Same false cases as Reply().
  bool StartStream(int status, HttpHeaders headers);
  // Queues one chunk (empty chunks are skipped: an empty chunk would end the stream). Returns
  // false if no stream is open, it was closed, the client disconnected or the server stopped.
  // Chunks written while earlier ones still wait for the connection's strand join them: one
  // hand-off to the strand and one gathering write for all of them.
  bool Write(std::string chunk);
  // Ends the stream with the last chunk; the connection then serves its next request.
  bool Close();

  // Calls `callback` once, on a server thread, when the client disconnects or the server stops
  // before the response has completed (immediately, on a server thread, if that already
  // happened). The callback must not block. Replaces an earlier callback.
  void OnDisconnect(std::function<void()> callback);
  // False once the client is known to have disconnected or the server stopped.
  bool connected() const;

 private:
  std::shared_ptr<http_internal::ResponderState> state_;
};

using HttpHandler = std::function<void(const HttpRequest& request, Responder responder)>;

class HttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    uint16_t port = 0;  // 0: an ephemeral port, read back with port().
    int threads = 2;
    size_t max_header_bytes = 16 * 1024;       // Request line and fields -> 431 beyond.
    size_t max_body_bytes = 16 * 1024 * 1024;  // After de-chunking -> 413 beyond.
    // A connection with no response in progress is closed when no complete request arrives
    // for this long (idle keep-alive connections, and requests trickled in too slowly).
    // Zero: never.
    std::chrono::milliseconds idle_timeout{120'000};
    // A client that lets more than this many response bytes queue up (a stream it does not
    // read) is disconnected; the streaming handler sees OnDisconnect.
    size_t max_queued_bytes = 16 * 1024 * 1024;
  };

  explicit HttpServer(Options options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Stops the server if running.
  ~HttpServer();

  // `method` is matched exactly ("GET"). A later route for the same method and path replaces
  // the earlier one. Prefix routes match any path starting with `prefix`.
  void Route(std::string method, std::string path, HttpHandler handler);
  void RoutePrefix(std::string method, std::string prefix, HttpHandler handler);

  // Binds, listens and starts the threads. Returns Unavailable if the address cannot be bound
  // and FailedPrecondition if already started.
  absl::Status Start();
  // The bound port (valid after a successful Start()).
  uint16_t port() const { return port_; }

  // Stops accepting, closes every connection (open streams see OnDisconnect), waits for the
  // server threads to finish and returns. Responders used afterwards return false. Idempotent.
  void Stop();

 private:
  Options options_;
  std::shared_ptr<http_internal::ServerCore> core_;
  uint16_t port_ = 0;
  bool started_ = false;
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_HTTP_SERVER_H_
