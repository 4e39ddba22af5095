// HttpServer and HttpClient together on 127.0.0.1 with an ephemeral port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "common/http_server.h"
#include "common/recordio.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using namespace std::chrono_literals;

// A plain blocking socket for requests HttpClient would not send (malformed, pipelined).
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawConnection() { ::close(fd_); }
  bool ok() const { return ok_; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // The client sends nothing more (FIN) but still reads.
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Reads until `needle` has arrived; returns everything read.
  std::string ReadUntil(std::string_view needle) {
    std::string out;
    char buffer[4096];
    while (out.find(needle) == std::string::npos) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // Everything until the server closes (or 5 s pass without data).
  std::string ReadAll() {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return out;
      out.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

int Count(const std::string& haystack, const std::string& needle) {
  int count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override { Configure(DefaultOptions()); }

  static HttpServer::Options DefaultOptions() {
    HttpServer::Options options;
    options.threads = 3;
    options.max_header_bytes = 1024;
    options.max_body_bytes = 1024;
    return options;
  }

  // (Re)creates the server with `options` and the common routes.
  void Configure(const HttpServer::Options& options) {
    server_ = std::make_unique<HttpServer>(options);
    server_->Route("GET", "/hello", [](const HttpRequest& request, Responder responder) {
      responder.Reply(200, "hello " + request.query);
    });
    server_->Route("POST", "/echo", [](const HttpRequest& request, Responder responder) {
      HttpResponse response;
      response.headers.emplace_back("Content-Type",
                                    std::string(request.Header("content-type").value_or("")));
      response.headers.emplace_back("X-Peer", request.peer);
      response.body = request.body;
      responder.Reply(std::move(response));
    });
    server_->Route("PUT", "/echo",
                   [](const HttpRequest&, Responder responder) { responder.Reply(204, ""); });
    server_->RoutePrefix("GET", "/files/", [](const HttpRequest& request, Responder responder) {
      responder.Reply(200, "file " + request.path);
    });
    server_->Route("GET", "/files/special", [](const HttpRequest&, Responder responder) {
      responder.Reply(200, "special");
    });
    server_->Route("GET", "/later", [this](const HttpRequest&, Responder responder) {
      Spawn([responder]() mutable {
        std::this_thread::sleep_for(20ms);
        responder.Reply(202, "later");
      });
    });
    server_->Route("GET", "/silent", [](const HttpRequest&, Responder) {});
    server_->Route("GET", "/throws",
                   [](const HttpRequest&, Responder) { throw std::runtime_error("boom"); });
  }

  void TearDown() override {
    server_->Stop();
    std::lock_guard lock(threads_mu_);
    for (std::thread& thread : threads_) thread.join();
  }

  void Start() { ASSERT_TRUE(server_->Start().ok()); }

  void Spawn(std::function<void()> fn) {
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back(std::move(fn));
  }

  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }

  std::unique_ptr<HttpServer> server_;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

TEST_F(HttpTest, GetAndPost) {
  Start();
  EXPECT_NE(server_->port(), 0);
  HttpClient client = Client();
  absl::StatusOr<HttpResponse> get = client.Get("/hello?name=x");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello name=x");
  EXPECT_THAT(get->Header("content-type"), Optional(std::string_view("text/plain")));

  absl::StatusOr<HttpResponse> post = client.Post("/echo", R"({"a":1})");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, R"({"a":1})");
  EXPECT_THAT(post->Header("Content-Type"), Optional(std::string_view("application/json")));
}

TEST_F(HttpTest, KeepAliveReusesTheConnection) {
  Start();
  HttpClient client = Client();
  absl::StatusOr<HttpResponse> first = client.Post("/echo", "1");
  absl::StatusOr<HttpResponse> second = client.Post("/echo", "2");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->body, "2");
  EXPECT_EQ(first->Header("X-Peer"), second->Header("X-Peer"));
  EXPECT_TRUE(client.connected());
}

TEST_F(HttpTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.ok());
  raw.Send(
      "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello?2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string replies = raw.ReadAll();
  EXPECT_EQ(Count(replies, "HTTP/1.1 "), 2) << replies;
  EXPECT_LT(replies.find("later"), replies.find("hello 2")) << replies;
}

// Many pipelined requests in one packet, one answered later from another thread, then the
// client shuts down its sending side: every request is answered, in order (answers to
// pipelined requests share writes), and then the server closes.
TEST_F(HttpTest, ManyPipelinedRequestsThenHalfCloseAreAllAnsweredInOrder) {
  Start();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.ok());
  std::string requests;
  for (int i = 0; i < 40; ++i) {
    requests += "GET /hello?q" + std::to_string(i) + "x HTTP/1.1\r\nHost: x\r\n\r\n";
    if (i == 20) requests += "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  raw.Send(requests);
  raw.ShutdownWrite();
  const std::string replies = raw.ReadAll();
  EXPECT_EQ(Count(replies, "HTTP/1.1 "), 41) << replies;
  size_t at = 0;
  for (int i = 0; i < 40; ++i) {
    const size_t found = replies.find("hello q" + std::to_string(i) + "x", at);
    ASSERT_NE(found, std::string::npos) << "hello " << i << " in order\n" << replies;
    at = found;
    if (i == 20) {
      const size_t later = replies.find("later", at);
      ASSERT_NE(later, std::string::npos) << replies;
      at = later;
    }
  }
}

TEST_F(HttpTest, ResponsesAreWrittenExactlyAndDropReservedOrUnsafeFields) {
  server_->Route("GET", "/fields", [](const HttpRequest&, Responder responder) {
    HttpResponse response;
    response.status = 201;
    response.headers = {{"X-Ok", "yes"},
                        {"content-LENGTH", "999"},
                        {"Bad Name", "x"},
                        {"X-Injected", "a\r\nEvil: 1"},
                        {"Connection", "keep-alive"}};
    response.body = "made";
    responder.Reply(std::move(response));
  });
  server_->Route("GET", "/no-content-with-body",
                 [](const HttpRequest&, Responder responder) { responder.Reply(204, "dropped"); });
  Start();
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.ok());
  raw.Send("GET /hello?x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.ReadUntil("hello x"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nhello x");
  raw.Send("GET /fields HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.ReadUntil("made"),
            "HTTP/1.1 201 Created\r\nX-Ok: yes\r\nContent-Length: 4\r\n\r\nmade");
  raw.Send("GET /no-content-with-body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.ReadAll(),
            "HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST_F(HttpTest, ChunkedRequestBody) {
  Start();
  RawConnection raw(server_->port());
  raw.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const std::string reply = raw.ReadAll();
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(reply, HasSubstr("\r\n\r\nhello world"));

  HttpClient client = Client();
  HttpRequest request;
  request.method = "POST";
  request.target = "/echo";
  request.headers.emplace_back("Transfer-Encoding", "chunked");
  request.body = "chunked via client";
  absl::StatusOr<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "chunked via client");
}

TEST_F(HttpTest, RoutingAnswers404And405AndPrefersExactRoutes) {
  Start();
  HttpClient client = Client();
  absl::StatusOr<HttpResponse> missing = client.Get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("no route for /nope"));

  absl::StatusOr<HttpResponse> wrong = client.Get("/echo");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_THAT(wrong->Header("Allow"), Optional(std::string_view("POST, PUT")));

  absl::StatusOr<HttpResponse> prefix = client.Get("/files/a/b");
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->body, "file /files/a/b");
  absl::StatusOr<HttpResponse> exact = client.Get("/files/special");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->body, "special");
}

TEST_F(HttpTest, MalformedRequestGets400) {
  Start();
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    RawConnection raw(server_->port());
    raw.Send(bad);
    const std::string reply = raw.ReadAll();
    EXPECT_THAT(reply, HasSubstr("HTTP/1.1 400 Bad Request")) << bad;
    EXPECT_THAT(reply, HasSubstr("malformed HTTP request")) << bad;
  }
}

TEST_F(HttpTest, BodyOverTheLimitGets413) {
  Start();
  HttpClient client = Client();
  absl::StatusOr<HttpResponse> response = client.Post("/echo", std::string(5000, 'x'));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 413);
  EXPECT_THAT(response->body, HasSubstr("limit 1024 bytes"));

  RawConnection raw(server_->port());
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  raw.Send(chunked);
  EXPECT_THAT(raw.ReadAll(), HasSubstr("HTTP/1.1 413 Payload Too Large"));

  // The server is still fine.
  HttpClient again = Client();
  absl::StatusOr<HttpResponse> ok = again.Post("/echo", std::string(1024, 'x'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpTest, HeaderOverTheLimitGets431) {
  Start();
  HttpClient client = Client();
  HttpRequest request;
  request.method = "GET";
  request.target = "/hello";
  request.headers.emplace_back("X-Big", std::string(2000, 'h'));
  absl::StatusOr<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 431);
  EXPECT_THAT(response->body, HasSubstr("limit 1024 bytes"));
}

TEST_F(HttpTest, LateRepliesAndForgottenOrThrowingHandlers) {
  Start();
  HttpClient client = Client();
  absl::StatusOr<HttpResponse> later = client.Get("/later");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->status, 202);
  absl::StatusOr<HttpResponse> silent = client.Get("/silent");
  ASSERT_TRUE(silent.ok());
  EXPECT_EQ(silent->status, 500);
  EXPECT_THAT(silent->body, HasSubstr("did not reply"));
  absl::StatusOr<HttpResponse> throws = client.Get("/throws");
  ASSERT_TRUE(throws.ok());
  EXPECT_EQ(throws->status, 500);
  EXPECT_THAT(throws->body, HasSubstr("boom"));
  // The connection survived all three.
  EXPECT_TRUE(client.Get("/hello").ok());
}

TEST_F(HttpTest, StreamingResponseIsReadIncrementallyAsRecordIo) {
  // The handler writes record i+1 only after the client has decoded record i, so the test
  // passes only if chunks reach the client while the response is still open.
  std::mutex mu;
  std::condition_variable cv;
  int decoded = 0;
  constexpr int kRecords = 5;
  server_->Route("POST", "/events", [&](const HttpRequest&, Responder responder) {
    responder.StartStream(200, {{"Content-Type", "application/recordio"}});
    Spawn([&, responder]() mutable {
      for (int i = 0; i < kRecords; ++i) {
        responder.Write(EncodeRecordIo("event " + std::to_string(i)));
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, 5s, [&] { return decoded > i; })) break;
      }
      responder.Close();
    });
  });
  Start();
  HttpClient client = Client();
  RecordIoDecoder decoder;
  std::vector<std::string> records;
  HttpRequest request;
  request.method = "POST";
  request.target = "/events";
  int head_status = 0;
  absl::StatusOr<HttpResponse> head = client.Stream(
      request,
      [&](const HttpResponse& response) {
        head_status = response.status;
        return true;
      },
      [&](std::string_view data) {
        EXPECT_TRUE(decoder.Decode(data, &records).ok());
        std::lock_guard lock(mu);
        decoded = static_cast<int>(records.size());
        cv.notify_all();
        return true;
      });
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head_status, 200);
  EXPECT_THAT(head->Header("Transfer-Encoding"), Optional(std::string_view("chunked")));
  ASSERT_EQ(records.size(), size_t{kRecords});
  EXPECT_EQ(records[4], "event 4");
  EXPECT_TRUE(decoder.AtRecordBoundary());
  // The stream ended cleanly, so the connection serves the next request.
  absl::StatusOr<HttpResponse> next = client.Get("/hello");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpTest, StreamingHandlerNoticesClientDisconnect) {
  std::promise<void> disconnected;
  std::atomic<bool> write_failed{false};
  server_->Route("GET", "/forever", [&](const HttpRequest&, Responder responder) {
    responder.OnDisconnect([&] { disconnected.set_value(); });
    responder.StartStream(200, {});
    responder.Write("first");
    Spawn([&, responder]() mutable {
      // Keep writing until the server reports the client gone.
      for (int i = 0; i < 500 && responder.connected(); ++i) {
        responder.Write("more");
        std::this_thread::sleep_for(10ms);
      }
      write_failed = !responder.Write("after");
    });
  });
  Start();
  HttpClient client = Client();
  HttpRequest request;
  request.method = "GET";
  request.target = "/forever";
  std::string received;
  absl::StatusOr<HttpResponse> head = client.Stream(request, nullptr, [&](std::string_view data) {
    received.append(data);
    return false;  // Hang up after the first piece.
  });
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_THAT(received, HasSubstr("first"));
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(disconnected.get_future().wait_for(5s), std::future_status::ready);
  {
    std::lock_guard lock(threads_mu_);
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  EXPECT_TRUE(write_failed);
}

TEST_F(HttpTest, StopClosesOpenConnectionsAndStreams) {
  std::promise<void> disconnected;
  std::promise<Responder> held;
  server_->Route("GET", "/stream", [&](const HttpRequest&, Responder responder) {
    responder.StartStream(200, {});
    responder.Write("x");
    responder.OnDisconnect([&] { disconnected.set_value(); });
    held.set_value(responder);
  });
  Start();
  HttpClient idle = Client();
  ASSERT_TRUE(idle.Get("/hello").ok());  // Leaves a kept-alive idle connection.
  RawConnection streaming(server_->port());
  streaming.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  Responder responder = held.get_future().get();
  EXPECT_THAT(streaming.ReadUntil("1\r\nx\r\n"), HasSubstr("1\r\nx\r\n"));

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(disconnected.get_future().wait_for(1s), std::future_status::ready);
  EXPECT_FALSE(responder.Write("late"));
  EXPECT_FALSE(responder.connected());
  // The stream is cut off: no last chunk, just the end of the connection.
  EXPECT_EQ(streaming.ReadAll(), "");
  server_->Stop();  // Idempotent.
  EXPECT_FALSE(idle.Get("/hello").ok());
}

TEST_F(HttpTest, ManyClientsInParallel) {
  Start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client = Client();
      for (int i = 0; i < 50; ++i) {
        const std::string body = std::to_string(c) + ":" + std::to_string(i);
        absl::StatusOr<HttpResponse> response = client.Post("/echo", body);
        if (response.ok() && response->body == body) ++ok;
      }
    });
  }
  for (std::thread& thread : clients) thread.join();
  EXPECT_EQ(ok, 200);
}

TEST_F(HttpTest, IdleAndTricklingConnectionsAreClosed) {
  HttpServer::Options options = DefaultOptions();
  options.idle_timeout = 200ms;
  Configure(options);
  Start();
  const auto start = std::chrono::steady_clock::now();
  RawConnection silent(server_->port());
  RawConnection trickling(server_->port());
  trickling.Send("GET /hello HTTP/1.1\r\nHost:");
  EXPECT_EQ(silent.ReadAll(), "");
  EXPECT_EQ(trickling.ReadAll(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);

  // A kept-alive client notices the close and reconnects for its next request.
  HttpClient client = Client();
  ASSERT_TRUE(client.Get("/hello").ok());
  std::this_thread::sleep_for(400ms);
  absl::StatusOr<HttpResponse> again = client.Get("/hello");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpTest, ClientThatDoesNotReadItsStreamIsDisconnected) {
  HttpServer::Options options = DefaultOptions();
  options.max_queued_bytes = 64 * 1024;
  Configure(options);
  std::promise<void> disconnected;
  std::atomic<int> writes{0};
  server_->Route("GET", "/firehose", [&](const HttpRequest&, Responder responder) {
    responder.OnDisconnect([&] { disconnected.set_value(); });
    responder.StartStream(200, {});
    Spawn([&, responder]() mutable {
      const std::string chunk(1024, 'z');
      while (writes < 100'000 && responder.Write(chunk)) ++writes;
    });
  });
  Start();
  RawConnection raw(server_->port());
  raw.Send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n");  // And never read.
  EXPECT_EQ(disconnected.get_future().wait_for(10s), std::future_status::ready);
  std::lock_guard lock(threads_mu_);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  EXPECT_LT(writes, 100'000);
}

// Writes from several threads at once share hand-offs to the connection (Responder::Write
// queues behind a pending flush); every chunk still arrives once, each thread's in its order,
// and Close() after them ends the stream after the last one.
TEST_F(HttpTest, BurstsOfWritesFromSeveralThreadsArriveInOrder) {
  constexpr int kWriters = 4;
  constexpr int kRecordsEach = 2000;
  server_->Route("POST", "/burst", [&](const HttpRequest&, Responder responder) {
    responder.StartStream(200, {{"Content-Type", "application/recordio"}});
    Spawn([responder]() mutable {
      std::vector<std::thread> writers;
      for (int w = 0; w < kWriters; ++w) {
        writers.emplace_back([responder, w]() mutable {
          for (int i = 0; i < kRecordsEach; ++i) {
            EXPECT_TRUE(
                responder.Write(EncodeRecordIo(std::to_string(w) + ":" + std::to_string(i))));
          }
        });
      }
      for (std::thread& writer : writers) writer.join();
      EXPECT_TRUE(responder.Close());
      EXPECT_FALSE(responder.Write(EncodeRecordIo("after close")));
    });
  });
  Start();
  HttpClient client = Client();
  RecordIoDecoder decoder;
  std::vector<std::string> records;
  HttpRequest request;
  request.method = "POST";
  request.target = "/burst";
  absl::StatusOr<HttpResponse> head = client.Stream(request, nullptr, [&](std::string_view data) {
    EXPECT_TRUE(decoder.Decode(data, &records).ok());
    return true;
  });
  ASSERT_TRUE(head.ok()) << head.status();
  ASSERT_EQ(records.size(), size_t{kWriters * kRecordsEach});
  std::vector<int> next(kWriters, 0);
  for (const std::string& record : records) {
    const size_t colon = record.find(':');
    ASSERT_NE(colon, std::string::npos) << record;
    const int writer = std::stoi(record.substr(0, colon));
    ASSERT_GE(writer, 0);
    ASSERT_LT(writer, kWriters);
    EXPECT_EQ(std::stoi(record.substr(colon + 1)), next[writer]) << record;
    next[writer] = std::stoi(record.substr(colon + 1)) + 1;
  }
  EXPECT_TRUE(decoder.AtRecordBoundary());
  EXPECT_TRUE(client.Get("/hello").ok());  // The stream ended cleanly.
}

TEST_F(HttpTest, DroppedStreamEndsWithTheLastChunk) {
  server_->Route("GET", "/short", [](const HttpRequest&, Responder responder) {
    responder.StartStream(200, {{"Content-Type", "text/plain"}});
    responder.Write("only");
  });
  Start();
  HttpClient client = Client();
  HttpRequest request;
  request.method = "GET";
  request.target = "/short";
  std::string body;
  absl::StatusOr<HttpResponse> head = client.Stream(request, nullptr, [&](std::string_view data) {
    body.append(data);
    return true;
  });
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(body, "only");
  EXPECT_TRUE(client.Get("/hello").ok());
}

TEST_F(HttpTest, ClientTimesOutOnASlowHandler) {
  server_->Route("GET", "/slow", [this](const HttpRequest&, Responder responder) {
    Spawn([responder]() mutable {
      std::this_thread::sleep_for(1s);
      responder.Reply(200, "too late");
    });
  });
  Start();
  HttpClient::Options options;
  options.timeout = 100ms;
  HttpClient client("127.0.0.1", server_->port(), options);
  const absl::StatusOr<HttpResponse> response = client.Get("/slow");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_FALSE(client.connected());
  const absl::StatusOr<HttpResponse> next = client.Get("/hello");  // A fresh connection.
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpTest, CancelInterruptsAStreamBlockedInAnotherThread) {
  std::promise<void> streaming;
  std::optional<Responder> kept;  // Dropping every copy would end the stream.
  server_->Route("GET", "/quiet", [&](const HttpRequest&, Responder responder) {
    responder.StartStream(200, {});
    responder.Write("first");
    kept = responder;
    streaming.set_value();
    // Never writes again: only Cancel() can end the client's wait.
  });
  Start();
  HttpClient client = Client();
  HttpRequest request;
  request.method = "GET";
  request.target = "/quiet";
  std::string received;
  std::future<absl::StatusOr<HttpResponse>> result = std::async(std::launch::async, [&] {
    return client.Stream(request, nullptr, [&](std::string_view data) {
      received.append(data);
      return true;
    });
  });
  ASSERT_EQ(streaming.get_future().wait_for(5s), std::future_status::ready);
  std::this_thread::sleep_for(100ms);
  client.Cancel();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(result.get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(received, "first");
  EXPECT_FALSE(client.connected());
  // Cancelled for good.
  EXPECT_EQ(client.Get("/hello").status().code(), absl::StatusCode::kCancelled);
}

TEST_F(HttpTest, CancelBeforeARequestStartsCancelsIt) {
  Start();
  HttpClient client = Client();
  ASSERT_TRUE(client.Get("/hello").ok());
  client.Cancel();
  EXPECT_EQ(client.Get("/hello").status().code(), absl::StatusCode::kCancelled);
}

TEST(HttpServerTest, StartFailsOnABadAddress) {
  HttpServer::Options options;
  options.address = "not an address";
  HttpServer server(options);
  EXPECT_EQ(server.Start().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, ConnectFailureIsUnavailable) {
  // Bind a port and close it again so that nothing listens there.
  HttpServer server(HttpServer::Options{});
  ASSERT_TRUE(server.Start().ok());
  const uint16_t port = server.port();
  server.Stop();
  HttpClient client("127.0.0.1", port);
  EXPECT_EQ(client.Get("/").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace steward::common
