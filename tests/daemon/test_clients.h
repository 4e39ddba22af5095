// Test clients for the master: a RecordIO event stream read on a background thread, a
// framework speaking the scheduler API (JSON or protobuf), and a fake agent speaking Steward's
// agent protocol. All on 127.0.0.1.
#ifndef STEWARD_TESTS_DAEMON_TEST_CLIENTS_H_
#define STEWARD_TESTS_DAEMON_TEST_CLIENTS_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "common/json.h"
#include "common/recordio.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"
#include "proto/steward/agent.pb.h"

namespace steward::daemon::testing {

using namespace std::chrono_literals;

// POSTs `body` and reads the streamed answer's RecordIO records on a thread. The stream stops
// when the server closes it or, after Stop(), at the next record (masters under test send
// heartbeats often).
class EventStream {
 public:
  EventStream(uint16_t port, std::string path, std::string body, std::string content_type) {
    thread_ = std::thread([this, port, path = std::move(path), body = std::move(body),
                           content_type = std::move(content_type)] {
      common::HttpClient client("127.0.0.1", port);
      common::HttpRequest request;
      request.method = "POST";
      request.target = path;
      request.headers = {{"Content-Type", content_type}, {"Accept", content_type}};
      request.body = body;
      common::RecordIoDecoder decoder;
      auto result = client.Stream(
          request,
          [this](const common::HttpResponse& head) {
            std::lock_guard<std::mutex> lock(mu_);
            head_ = head;
            cv_.notify_all();
            return !stop_;
          },
          [this, &decoder](std::string_view data) {
            std::vector<std::string> records;
            if (!decoder.Decode(data, &records).ok()) return false;
            std::lock_guard<std::mutex> lock(mu_);
            for (std::string& record : records) records_.push_back(std::move(record));
            cv_.notify_all();
            return !stop_;
          });
      std::lock_guard<std::mutex> lock(mu_);
      if (!head_) {
        common::HttpResponse failed;
        failed.status = result.ok() ? result->status : -1;
        if (result.ok()) failed.body = result->body;
        head_ = failed;
      }
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~EventStream() {
    Stop();
    thread_.join();
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  // Waits for the response head.
  common::HttpResponse Head(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return head_.has_value(); });
    if (head_) return *head_;
    common::HttpResponse none;
    none.status = -2;
    return none;
  }
  // The next record, or nullopt after `timeout` or at the end of the stream.
  std::optional<std::string> Next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !records_.empty() || ended_; });
    if (records_.empty()) return std::nullopt;
    std::string record = std::move(records_.front());
    records_.pop_front();
    return record;
  }
  bool WaitEnded(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return ended_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<common::HttpResponse> head_;
  std::deque<std::string> records_;
  bool ended_ = false;
  bool stop_ = false;
  std::thread thread_;
};

namespace v1 = ::mesos::v1;
using SchedulerEvent = v1::scheduler::Event;

// A framework on the scheduler API. `json` selects JSON, else protobuf.
class TestFramework {
 public:
  TestFramework(uint16_t port, const v1::scheduler::Call& subscribe, bool json = true)
      : port_(port), json_(json), client_("127.0.0.1", port) {
    stream_.emplace(port, "/api/v1/scheduler", Encode(subscribe), ContentType());
  }
  // Subscribes with a SUBSCRIBE call encoded by the caller (JSON text or protobuf bytes).
  TestFramework(uint16_t port, std::string subscribe_body, bool json)
      : port_(port), json_(json), client_("127.0.0.1", port) {
    stream_.emplace(port, "/api/v1/scheduler", std::move(subscribe_body), ContentType());
  }
  common::HttpResponse Head() { return stream_->Head(); }
  std::string stream_id() {
    const common::HttpResponse head = stream_->Head();
    auto id = head.Header("Mesos-Stream-Id");
    return id ? std::string(*id) : "";
  }
  // The next event of `type`, skipping others (heartbeats, or anything else unasked).
  std::optional<SchedulerEvent> Next(SchedulerEvent::Type type,
                                     std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::optional<std::string> record = stream_->Next(left);
      if (!record) return std::nullopt;
      SchedulerEvent event;
      if (json_ ? !common::JsonToMessage(*record, &event).ok() : !event.ParseFromString(*record)) {
        ADD_FAILURE() << "undecodable event: " << *record;
        return std::nullopt;
      }
      seen_.push_back(event);
      if (event.type() == type) return event;
    }
    return std::nullopt;
  }
  // Events seen so far (including skipped ones).
  const std::vector<SchedulerEvent>& seen() const { return seen_; }

  common::HttpResponse Call(const v1::scheduler::Call& call, bool with_stream_id = true) {
    return Raw(Encode(call), ContentType(), with_stream_id ? stream_id() : "");
  }
  common::HttpResponse Raw(const std::string& body, const std::string& content_type,
                           const std::string& stream_id) {
    common::HttpRequest request;
    request.method = "POST";
    request.target = "/api/v1/scheduler";
    request.headers = {{"Content-Type", content_type}};
    if (!stream_id.empty()) request.headers.emplace_back("Mesos-Stream-Id", stream_id);
    request.body = body;
    auto response = client_.Send(request);
    if (response.ok()) return *response;
    common::HttpResponse failed;
    failed.status = -1;
    return failed;
  }
  void Disconnect() { stream_.reset(); }
  EventStream& stream() { return *stream_; }

 private:
  std::string ContentType() const { return json_ ? "application/json" : "application/x-protobuf"; }
  std::string Encode(const google::protobuf::Message& m) const {
    return json_ ? *common::MessageToJson(m) : m.SerializeAsString();
  }

  uint16_t port_;
  bool json_;
  common::HttpClient client_;
  std::optional<EventStream> stream_;
  std::vector<SchedulerEvent> seen_;
};

// A fake agent on Steward's agent protocol.
class FakeAgent {
 public:
  FakeAgent(uint16_t port, const agent::Call& subscribe) : client_("127.0.0.1", port) {
    stream_.emplace(port, "/api/v1/agent", subscribe.SerializeAsString(), "application/x-protobuf");
  }
  std::string stream_id() {
    const common::HttpResponse head = stream_->Head();
    auto id = head.Header("Mesos-Stream-Id");
    return id ? std::string(*id) : "";
  }
  std::optional<agent::Event> Next(agent::Event::Type type,
                                   std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::optional<std::string> record = stream_->Next(left);
      if (!record) return std::nullopt;
      agent::Event event;
      if (!event.ParseFromString(*record)) {
        ADD_FAILURE() << "undecodable agent event";
        return std::nullopt;
      }
      if (event.type() == type) return event;
    }
    return std::nullopt;
  }
  common::HttpResponse Post(agent::Call call) {
    common::HttpRequest request;
    request.method = "POST";
    request.target = "/api/v1/agent";
    request.headers = {{"Content-Type", "application/x-protobuf"},
                       {"Mesos-Stream-Id", stream_id()}};
    request.body = call.SerializeAsString();
    auto response = client_.Send(request);
    if (response.ok()) return *response;
    common::HttpResponse failed;
    failed.status = -1;
    return failed;
  }
  void Disconnect() { stream_.reset(); }
  EventStream& stream() { return *stream_; }

 private:
  common::HttpClient client_;
  std::optional<EventStream> stream_;
};

}  // namespace steward::daemon::testing

#endif  // STEWARD_TESTS_DAEMON_TEST_CLIENTS_H_
