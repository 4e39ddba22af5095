// Asynchronous HTTP/1.1 client connections for the master load generator
// (bench/master_bench.cc), on Boost.Asio/Beast: thousands of simulated agents and frameworks
// share a few threads, each connection being a small state machine instead of a thread.
//
// Both classes run on an executor the caller gives them, normally one strand per simulated
// client shared by its connections, so that the client's callbacks never run concurrently and
// need no lock. Every method must be called on that executor; every callback runs on it.
//
// Errors are not retried: the load generator counts them and the benchmark reports them.
#ifndef STEWARD_BENCH_INTERNAL_ASYNC_HTTP_H_
#define STEWARD_BENCH_INTERNAL_ASYNC_HTTP_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/recordio.h"

namespace steward::bench {

using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;
using Endpoint = boost::asio::ip::tcp::endpoint;

// The bytes of a `POST target` request with a Content-Length body, plus `Accept` and
// `Mesos-Stream-Id` headers when they are not empty.
std::string BuildPost(std::string_view target, std::string_view content_type,
                      std::string_view accept, std::string_view stream_id, std::string_view body);

// A keep-alive connection for calls answered with a complete response (202 Accepted, or an
// error). Requests are pipelined: each Send() is written as soon as the socket is free, and
// responses are matched to requests in order. The connection is opened on the first Send().
class CallConnection : public std::enable_shared_from_this<CallConnection> {
 public:
  // `status` is the HTTP status, or -1 if the connection failed before the answer arrived
  // (then `body` says why). Once failed, the connection answers every later Send() with -1.
  using Done = std::function<void(int status, std::string_view body)>;

  CallConnection(Executor executor, Endpoint endpoint);

  // Queues `request` (from BuildPost) and calls `done` with its response.
  void Send(std::string request, Done done);
  // Closes the socket; queued and unanswered requests get -1. Idempotent.
  void Close();

 private:
  void Connect();
  void WriteQueued();
  void ReadResponse();
  void Fail(const std::string& why);

  Executor executor_;
  Endpoint endpoint_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  std::string queued_;     // Requests not yet handed to the socket.
  std::string writing_;    // Requests being written.
  std::deque<Done> done_;  // One per request sent or queued, oldest first.
  bool connecting_ = false;
  bool connected_ = false;
  bool reading_ = false;
  bool failed_ = false;
};

// One request whose answer is a chunked stream of RecordIO records (a SUBSCRIBE).
class EventStreamConnection : public std::enable_shared_from_this<EventStreamConnection> {
 public:
  struct Callbacks {
    // The response head: HTTP status and the Mesos-Stream-Id header (empty if absent).
    std::function<void(int status, const std::string& stream_id)> on_head;
    // One RecordIO record of the body.
    std::function<void(std::string_view record)> on_record;
    // The stream ended or failed (not called after Close()).
    std::function<void(const std::string& why)> on_end;
  };

  EventStreamConnection(Executor executor, Endpoint endpoint, Callbacks callbacks);

  // Connects, sends `request` (from BuildPost) and reads the answer until it ends.
  void Start(std::string request);
  // Closes the socket without calling on_end. Idempotent.
  void Close();

 private:
  void ReadHead();
  void ReadBody();
  void End(const std::string& why);

  Executor executor_;
  Endpoint endpoint_;
  Callbacks callbacks_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::response_parser<boost::beast::http::buffer_body> parser_;
  std::string request_;
  std::vector<char> piece_;
  common::RecordIoDecoder decoder_;
  std::vector<std::string> records_;
  bool closed_ = false;
};

}  // namespace steward::bench

#endif  // STEWARD_BENCH_INTERNAL_ASYNC_HTTP_H_
