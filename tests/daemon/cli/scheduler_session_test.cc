// SchedulerSession against a scripted scheduler endpoint on a real HttpServer: the event
// stream read on the session's thread, calls with the framework and stream ids, and every way
// the exchange can fail.
#include "daemon/cli/internal/scheduler_session.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "common/json.h"
#include "common/recordio.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::cli {
namespace {

using mesos::v1::scheduler::Call;
using mesos::v1::scheduler::Event;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::string Record(const Event& event) {
  return common::EncodeRecordIo(common::MessageToJson(event).value());
}

Event Subscribed(const std::string& framework_id) {
  Event event;
  event.set_type(Event::SUBSCRIBED);
  event.mutable_subscribed()->mutable_framework_id()->set_value(framework_id);
  return event;
}

mesos::v1::FrameworkInfo Info() {
  mesos::v1::FrameworkInfo info;
  info.set_user("tester");
  info.set_name("session-test");
  return info;
}

Event OfType(Event::Type type) {
  Event event;
  event.set_type(type);
  return event;
}

// A master's scheduler endpoint whose answers the test scripts.
class FakeScheduler {
 public:
  FakeScheduler() : server_(common::HttpServer::Options()) {
    server_.Route("POST", "/api/v1/scheduler",
                  [this](const common::HttpRequest& request, common::Responder responder) {
                    Handle(request, std::move(responder));
                  });
  }
  ~FakeScheduler() { server_.Stop(); }

  absl::Status Start() { return server_.Start(); }
  GlobalOptions Options() const {
    GlobalOptions options;
    options.master_host = "127.0.0.1";
    options.master_port = server_.port();
    options.master = "127.0.0.1:" + std::to_string(server_.port());
    options.request_timeout = std::chrono::seconds(5);
    return options;
  }

  // Writes raw bytes to the open event stream.
  bool Write(std::string bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_.has_value() && stream_->Write(std::move(bytes));
  }
  bool CloseStream() {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_.has_value() && stream_->Close();
  }

  void RefuseSubscribe(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_status_ = status;
    refuse_body_ = std::move(body);
  }
  void RefuseCalls(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    call_status_ = status;
    call_body_ = std::move(body);
  }

  struct Received {
    Call call;
    std::string stream_id;
  };
  std::vector<Received> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  void Handle(const common::HttpRequest& request, common::Responder responder) {
    Call call;
    if (!common::JsonToMessage(request.body, &call).ok()) {
      responder.Reply(400, "not a Call");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (call.type() == Call::SUBSCRIBE) {
      if (refuse_status_ != 0) {
        responder.Reply(refuse_status_, refuse_body_);
        return;
      }
      responder.StartStream(200,
                            {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", "s-1"}});
      responder.Write(Record(Subscribed("fw-1")));
      stream_ = responder;
      return;
    }
    calls_.push_back({call, std::string(request.Header("Mesos-Stream-Id").value_or(""))});
    if (call_status_ != 0) {
      responder.Reply(call_status_, call_body_);
      return;
    }
    responder.Reply(202, "");
  }

  common::HttpServer server_;
  std::mutex mu_;
  std::optional<common::Responder> stream_;
  int refuse_status_ = 0;
  std::string refuse_body_;
  int call_status_ = 0;
  std::string call_body_;
  std::vector<Received> calls_;
};

class SchedulerSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(master_.Start().ok()); }

  // The next event within a few seconds (fails the test otherwise).
  Event Next(SchedulerSession& session) {
    absl::StatusOr<std::optional<Event>> event =
        session.NextEvent(Clock::now() + std::chrono::seconds(5));
    EXPECT_TRUE(event.ok()) << event.status();
    EXPECT_TRUE(event.ok() && event->has_value());
    return event.ok() && event->has_value() ? **event : Event();
  }

  FakeScheduler master_;
};

TEST_F(SchedulerSessionTest, EventsArriveInOrderAndCallsCarryTheIds) {
  SchedulerSession session(master_.Options());
  ASSERT_TRUE(session.Subscribe(Info()).ok());
  EXPECT_EQ(Next(session).type(), Event::SUBSCRIBED);
  EXPECT_EQ(session.framework_id(), "fw-1");

  // Records cut anywhere, also inside the length, arrive whole and in order.
  const std::string both = Record(OfType(Event::OFFERS)) + Record(OfType(Event::HEARTBEAT));
  ASSERT_TRUE(master_.Write(both.substr(0, 1)));
  ASSERT_TRUE(master_.Write(both.substr(1, 7)));
  ASSERT_TRUE(master_.Write(both.substr(8)));
  EXPECT_EQ(Next(session).type(), Event::OFFERS);
  EXPECT_EQ(Next(session).type(), Event::HEARTBEAT);

  Call decline;
  decline.set_type(Call::DECLINE);
  ASSERT_TRUE(session.Send(decline).ok());
  const std::vector<FakeScheduler::Received> calls = master_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].call.type(), Call::DECLINE);
  EXPECT_EQ(calls[0].call.framework_id().value(), "fw-1");
  EXPECT_EQ(calls[0].stream_id, "s-1");
}

TEST_F(SchedulerSessionTest, NoEventBeforeTheDeadline) {
  SchedulerSession session(master_.Options());
  ASSERT_TRUE(session.Subscribe(Info()).ok());
  EXPECT_EQ(Next(session).type(), Event::SUBSCRIBED);
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::optional<Event>> event =
      session.NextEvent(start + std::chrono::milliseconds(50));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_FALSE(event->has_value());
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
}

TEST_F(SchedulerSessionTest, TheEndOfTheStreamComesAfterTheQueuedEvents) {
  SchedulerSession session(master_.Options());
  ASSERT_TRUE(session.Subscribe(Info()).ok());
  ASSERT_TRUE(master_.Write(Record(OfType(Event::HEARTBEAT))));
  ASSERT_TRUE(master_.CloseStream());
  EXPECT_EQ(Next(session).type(), Event::SUBSCRIBED);
  EXPECT_EQ(Next(session).type(), Event::HEARTBEAT);
  absl::StatusOr<std::optional<Event>> end =
      session.NextEvent(Clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(end.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(end.status().message()), HasSubstr("the master closed the event stream"));
}

TEST_F(SchedulerSessionTest, AnEventThatDoesNotParseIsDataLoss) {
  SchedulerSession session(master_.Options());
  ASSERT_TRUE(session.Subscribe(Info()).ok());
  EXPECT_EQ(Next(session).type(), Event::SUBSCRIBED);
  ASSERT_TRUE(master_.Write(common::EncodeRecordIo("{not json")));
  absl::StatusOr<std::optional<Event>> bad =
      session.NextEvent(Clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("does not parse"));
}

TEST_F(SchedulerSessionTest, ARefusedSubscriptionCarriesTheMastersReason) {
  master_.RefuseSubscribe(403, "Framework fw-0 has been removed");
  SchedulerSession session(master_.Options());
  const absl::Status status = session.Subscribe(Info());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the master refused SUBSCRIBE (403 Forbidden): Framework fw-0 has been removed");
}

TEST_F(SchedulerSessionTest, ARefusedCallCarriesTheMastersReason) {
  master_.RefuseCalls(400, "Offer o-1 is not outstanding");
  SchedulerSession session(master_.Options());
  ASSERT_TRUE(session.Subscribe(Info()).ok());
  Call call;
  call.set_type(Call::ACCEPT);
  // Before SUBSCRIBED was taken from the queue there is no framework id to send.
  EXPECT_EQ(session.Send(call).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Next(session).type(), Event::SUBSCRIBED);
  const absl::Status status = session.Send(call);
  EXPECT_EQ(status.message(),
            "the master refused ACCEPT (400 Bad Request): Offer o-1 is not outstanding");
}

TEST(SchedulerSession, AnUnreachableMasterIsUnavailable) {
  common::HttpServer server{common::HttpServer::Options()};
  ASSERT_TRUE(server.Start().ok());
  const uint16_t port = server.port();
  server.Stop();  // nothing listens there now
  GlobalOptions options;
  options.master_host = "127.0.0.1";
  options.master_port = port;
  SchedulerSession session(options);
  const absl::Status status = session.Subscribe(Info());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot reach the master"));
}

TEST_F(SchedulerSessionTest, CloseInterruptsTheReaderWaitingForEvents) {
  for (int i = 0; i < 20; ++i) {
    SchedulerSession session(master_.Options());
    ASSERT_TRUE(session.Subscribe(Info()).ok());
    const Clock::time_point start = Clock::now();
    session.Close();
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
    session.Close();  // idempotent
  }
}

}  // namespace
}  // namespace steward::cli
