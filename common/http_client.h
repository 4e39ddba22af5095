// A small synchronous HTTP/1.1 client on Boost.Beast for tests, the agent and the CLI.
//
// One client holds at most one connection to one host:port and reuses it across requests
// (keep-alive). It connects on first use and again when the server has closed the connection;
// a request that fails on a reused connection before any response byte arrived is retried
// once on a fresh one (so a request can reach the server twice if the server closed the
// connection after reading it without answering). Every connect, write and read is bounded by
// the timeout. Not thread-safe: one client per thread, except Cancel(), which any thread may
// call to interrupt a request blocked in another.
#ifndef STEWARD_COMMON_HTTP_CLIENT_H_
#define STEWARD_COMMON_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/http_types.h"

namespace steward::common {

class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{30'000};  // Per connect, request write and response read.
    // Longest wait for the next piece of a streamed body; zero waits for ever (event streams
    // with heartbeats have their own liveness check).
    std::chrono::milliseconds stream_idle_timeout{0};
    size_t max_body_bytes = size_t{64} << 20;  // Of a Send() response.
  };

  HttpClient(std::string host, uint16_t port);
  HttpClient(std::string host, uint16_t port, Options options);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends `request` (method, target, headers, body; Host and Content-Length are added; a
  // `Transfer-Encoding: chunked` header sends the body chunked) and reads the whole response.
  // Errors: Unavailable (connect/write/read failed or connection closed early),
  // DeadlineExceeded (timeout), DataLoss (malformed response or body over the limit).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request);
  absl::StatusOr<HttpResponse> Get(std::string target);
  absl::StatusOr<HttpResponse> Post(std::string target, std::string body,
                                    std::string content_type = "application/json");

  // Sends `request` and reads the response incrementally: `on_head` gets the status and
  // headers (body empty), then `on_data` every piece of the body as it arrives (de-chunked;
  // pieces do not follow chunk boundaries). Either returning false stops reading and closes
  // the connection. Returns the head once the body ended or a callback stopped; errors as
  // Send().
  absl::StatusOr<HttpResponse> Stream(const HttpRequest& request,
                                      const std::function<bool(const HttpResponse&)>& on_head,
                                      const std::function<bool(std::string_view)>& on_data);

  // Closes the connection (the next request opens a new one).
  void Close();

  // Interrupts the request in progress on another thread (a Stream() waiting for the next
  // event, say) and every later one: they close the connection and return Cancelled. For
  // good: a cancelled client stays cancelled. Thread-safe, non-blocking.
  void Cancel();
  bool connected() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_HTTP_CLIENT_H_
