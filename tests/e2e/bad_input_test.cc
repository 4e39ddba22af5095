// Bad input against a real steward-master process: every request below is answered with a
// 4xx status and a message, and afterwards the master still runs, its state is exactly what it
// was, and the framework that was subscribed all along still launches a task.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"

namespace steward::e2e {
namespace {

using ::testing::HasSubstr;

struct RawAnswer {
  int status = -1;   // -1: no parsable status line
  std::string text;  // the whole answer, or why there is none
  std::string body;
};

// Writes `request` to a new TCP connection to 127.0.0.1:`port` as it is (no HTTP client in
// between) and reads the answer until the server closes the connection or 10 s pass.
RawAnswer SendRaw(uint16_t port, const std::string& request) {
  RawAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    answer.text = absl::StrCat("socket: ", std::strerror(errno));
    return answer;
  }
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    answer.text = absl::StrCat("connect: ", std::strerror(errno));
    ::close(fd);
    return answer;
  }
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading everything
    sent += static_cast<size_t>(n);
  }
  // Each recv() waits 10 s at most (SO_RCVTIMEO); a server that trickles bytes is given 30 s.
  const Deadline deadline(std::chrono::seconds(30));
  char buffer[4096];
  for (ssize_t n; !deadline.Expired() && (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    answer.text.append(buffer, n);
  }
  ::close(fd);
  // "HTTP/1.1 400 Bad Request\r\n...\r\n\r\nbody"
  if (answer.text.starts_with("HTTP/1.1 ") && answer.text.size() >= 12) {
    int status = 0;
    if (absl::SimpleAtoi(answer.text.substr(9, 3), &status)) answer.status = status;
  }
  if (const size_t end = answer.text.find("\r\n\r\n"); end != std::string::npos) {
    answer.body = answer.text.substr(end + 4);
  }
  return answer;
}

class BadInputTest : public ClusterTest {
 protected:
  // POSTs `body` to `path` with `headers` and expects `status` and a body containing `message`.
  void ExpectRefused(const std::string& what, const std::string& path, const std::string& body,
                     const common::HttpHeaders& headers, int status, const std::string& message) {
    common::HttpClient client("127.0.0.1", cluster_->master_port());
    common::HttpRequest request;
    request.method = "POST";
    request.target = path;
    request.headers = headers;
    request.body = body;
    absl::StatusOr<common::HttpResponse> response = client.Send(request);
    ASSERT_TRUE(response.ok()) << what << ": " << response.status();
    EXPECT_EQ(response->status, status) << what << ": " << response->body;
    EXPECT_THAT(response->body, HasSubstr(message)) << what;
    ++refused_;
  }
  void ExpectRefusedRaw(const std::string& what, const std::string& request, int status,
                        const std::string& message) {
    const RawAnswer answer = SendRaw(cluster_->master_port(), request);
    EXPECT_EQ(answer.status, status) << what << ": " << answer.text;
    EXPECT_THAT(answer.body, HasSubstr(message)) << what << ": " << answer.text;
    ++refused_;
  }

  int refused_ = 0;
};

TEST_F(BadInputTest, EveryBadRequestIsRefusedAndNothingChanges) {
  StartCluster(1);
  if (IsSkipped() || HasFatalFailure()) return;
  const uint16_t master = cluster_->master_port();
  const SchedulerCalls calls(Encoding::kJson);
  std::string framework_id;
  std::unique_ptr<TestFramework> framework = Subscribe(calls, "steadfast", 0, &framework_id);
  ASSERT_FALSE(framework_id.empty());
  const std::vector<mesos::v1::Offer> offers = OffersFrom(*framework, agent_ids_);
  ASSERT_EQ(offers.size(), 1u);
  const mesos::v1::Offer& offer = offers[0];
  const std::string stream = framework->stream_id();

  absl::StatusOr<master_api::Response> before = OperatorCall(master, master_api::Call::GET_STATE);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->get_state().get_frameworks().frameworks_size(), 1);
  ASSERT_EQ(before->get_state().get_frameworks().frameworks(0).offers_size(), 1);

  const std::string scheduler = "/api/v1/scheduler";
  const common::HttpHeaders json = {{"Content-Type", "application/json"},
                                    {"Mesos-Stream-Id", stream}};
  const common::HttpHeaders protobuf = {{"Content-Type", "application/x-protobuf"},
                                        {"Mesos-Stream-Id", stream}};
  const std::string kill = calls.Kill(framework_id, "no-such-task", agent_ids_[0]);

  // Malformed JSON, wrong types, unknown call types.
  ExpectRefused("truncated JSON", scheduler, R"({"type": "SUBSCRIBE", "subscribe": {)", json, 400,
                "Failed to parse body into Call");
  ExpectRefused("not JSON at all", scheduler, "type=SUBSCRIBE", json, 400,
                "Failed to parse body into Call");
  ExpectRefused("a string for an object", scheduler,
                R"({"type": "KILL", "framework_id": "abc", "kill": {"task_id": {"value": "x"}}})",
                json, 400, "Failed to parse body into Call");
  ExpectRefused(
      "a number for a string", scheduler,
      R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": 7, "name": "x"}}})", json,
      400, "Failed to parse body into Call");
  ExpectRefused(
      "a string for a number", scheduler,
      R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "x",)"
      R"( "failover_timeout": "soon"}}})",
      json, 400, "Failed to parse body into Call");
  ExpectRefused(
      "a negative failover timeout", scheduler,
      R"({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "x",)"
      R"( "failover_timeout": -1}}})",
      json, 400, "'failover_timeout' must be a non-negative number");
  ExpectRefused(
      "an unknown call type (JSON)", scheduler,
      absl::StrCat(R"({"type": "FROBNICATE", "framework_id": {"value": ")", framework_id, R"("}})"),
      json, 400, "Expecting 'type' to be present and known");
  // Field 2 (type) = 99, which no Call.Type has.
  ExpectRefused("an unknown call type (protobuf)", scheduler, std::string("\x10\x63", 2), protobuf,
                400, "Expecting 'type' to be present and known");
  ExpectRefused("no call type", scheduler, "{}", json, 400,
                "Expecting 'type' to be present and known");
  ExpectRefused("bytes that are no protobuf", scheduler, std::string("\xff\xff\xff\xff", 4),
                protobuf, 400, "Failed to parse body into Call");
  ExpectRefused("no Content-Type", scheduler, kill, {{"Mesos-Stream-Id", stream}}, 415,
                "Expecting 'Content-Type'");
  ExpectRefused("an unknown Content-Type", scheduler, kill,
                {{"Content-Type", "text/xml"}, {"Mesos-Stream-Id", stream}}, 415,
                "Unsupported 'Content-Type'");
  ExpectRefused("an Accept the master cannot answer", scheduler, kill,
                {{"Content-Type", "application/json"}, {"Accept", "text/html"}}, 406,
                "Unsupported 'Accept'");

  // JSON nested 100,000 deep, to the scheduler and the operator API.
  const std::string deep = absl::StrCat(R"({"type": "SUBSCRIBE", "subscribe": )",
                                        std::string(100000, '['), std::string(100000, ']'), "}");
  ExpectRefused("JSON nested 100,000 deep", scheduler, deep, json, 400,
                "JSON nesting depth exceeds the limit of 64");
  ExpectRefused("JSON nested 100,000 deep (operator)", "/api/v1", deep,
                {{"Content-Type", "application/json"}}, 400,
                "JSON nesting depth exceeds the limit of 64");

  // Oversized bodies: refused from the Content-Length alone, and chunked.
  ExpectRefusedRaw("a Content-Length over the limit",
                   absl::StrCat("POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\nContent-Length: ",
                                size_t{1} << 30, "\r\n\r\n{\"type\":"),
                   413, "request body too large");
  {
    std::string chunked =
        "POST /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    const std::string piece(1 << 20, ' ');
    for (int i = 0; i < 17; ++i) absl::StrAppend(&chunked, "100000\r\n", piece, "\r\n");
    absl::StrAppend(&chunked, "0\r\n\r\n");
    ExpectRefusedRaw("a chunked body over the limit", chunked, 413, "request body too large");
  }
  ExpectRefusedRaw("header fields over the limit",
                   absl::StrCat("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ",
                                std::string(64 * 1024, 'x'), "\r\n\r\n"),
                   431, "request header fields too large");

  // Paths: bad percent-encoding, an empty path, garbage instead of HTTP.
  ExpectRefusedRaw("bad percent-encoding",
                   "GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 404,
                   "no route for /%zz");
  ExpectRefusedRaw("bad percent-encoding in an API path",
                   absl::StrCat("POST /api/v1/scheduler%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Connection: close\r\nContent-Type: application/json\r\n"
                                "Content-Length: ",
                                kill.size(), "\r\n\r\n", kill),
                   404, "no route for /api/v1/scheduler%zz");
  ExpectRefusedRaw("an empty request path", "GET  HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400,
                   "malformed HTTP request");
  ExpectRefusedRaw("no HTTP at all", "\x01\x02\x03 hello\r\n\r\n", 400, "malformed HTTP request");
  {
    common::HttpClient client("127.0.0.1", master);
    absl::StatusOr<common::HttpResponse> get = client.Get(scheduler);
    ASSERT_TRUE(get.ok()) << get.status();
    EXPECT_EQ(get->status, 405);
  }

  // Stream ids.
  ExpectRefused("no Mesos-Stream-Id", scheduler, kill, {{"Content-Type", "application/json"}}, 400,
                "should include the 'Mesos-Stream-Id' header");
  ExpectRefused("a wrong Mesos-Stream-Id", scheduler, kill,
                {{"Content-Type", "application/json"},
                 {"Mesos-Stream-Id", "00000000-0000-0000-0000-000000000000"}},
                400, "didn't match the stream ID");
  ExpectRefused("an unknown framework", scheduler, calls.Kill("no-such-framework", "x", "y"), json,
                403, "is not subscribed");
  ExpectRefused("no framework id", scheduler,
                R"({"type": "KILL", "kill": {"task_id": {"value": "x"}}})", json, 400,
                "Expecting 'framework_id'");

  // Offers: unknown ids, resources beyond the offer, a task on another agent.
  ExpectRefused("an unknown offer id", scheduler,
                calls.Accept(framework_id, {"no-such-offer"}, {{"t1", agent_ids_[0], "true"}}, 5),
                json, 400, "Offer no-such-offer is not outstanding");
  ExpectRefused("an offer listed twice", scheduler,
                calls.Accept(framework_id, {offer.id().value(), offer.id().value()},
                             {{"t1", agent_ids_[0], "true"}}, 5),
                json, 400, "is listed twice");
  ExpectRefused("resources beyond the offer", scheduler,
                calls.Accept(framework_id, {offer.id().value()},
                             {{"t1", agent_ids_[0], "true", {{"cpus", 100}, {"mem", 32}}}}, 5),
                json, 400, "beyond the offers");
  ExpectRefused("a resource the agent does not have", scheduler,
                calls.Accept(framework_id, {offer.id().value()},
                             {{"t1", agent_ids_[0], "true", {{"gpus", 1}}}}, 5),
                json, 400, "beyond the offers");
  ExpectRefused("a negative resource", scheduler,
                calls.Accept(framework_id, {offer.id().value()},
                             {{"t1", agent_ids_[0], "true", {{"cpus", -1}}}}, 5),
                json, 400, "t1");
  ExpectRefused("a decline of an unknown offer", scheduler,
                calls.Decline(framework_id, {"no-such-offer"}), json, 400, "is not outstanding");
  ExpectRefused(
      "an acknowledgement with a bad uuid", scheduler,
      absl::StrCat(R"({"framework_id": {"value": ")", framework_id,
                   R"("}, "type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": ")",
                   agent_ids_[0], R"("}, "task_id": {"value": "x"}, "uuid": "AAAA"}})"),
      json, 400, "'uuid' is not a valid UUID");

  // The operator API.
  ExpectRefused("operator: malformed JSON", "/api/v1",
                "{\"type\":", {{"Content-Type", "application/json"}}, 400, "Failed to parse body");
  ExpectRefused("operator: an unknown call", "/api/v1", R"({"type": "FROBNICATE"})",
                {{"Content-Type", "application/json"}}, 400, "is not supported by Steward");
  ExpectRefused("operator: teardown of an unknown framework", "/api/v1",
                R"({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}})",
                {{"Content-Type", "application/json"}}, 400, "Unknown framework nope");

  // Still running, nothing changed.
  ASSERT_TRUE(cluster_->master_process()->Running()) << cluster_->master_process()->Stderr();
  absl::StatusOr<master_api::Response> after = OperatorCall(master, master_api::Call::GET_STATE);
  ASSERT_TRUE(after.ok()) << after.status();
  std::string differences;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(*before, *after)) << differences;
  EXPECT_GE(refused_, 30);

  // The framework still works: it launches a task on the offer it held all along.
  ASSERT_EQ(Post(*framework, calls,
                 calls.Accept(framework_id, {offer.id().value()},
                              {{"after", agent_ids_[0], "echo still here"}}, 5)),
            202);
  const Deadline deadline(kStateTimeout);
  for (std::optional<mesos::v1::TaskStatus> status = NextUpdate(*framework, deadline.Remaining());;
       status = NextUpdate(*framework, deadline.Remaining())) {
    ASSERT_TRUE(status.has_value())
        << "the task launched after the bad input did not finish within "
        << deadline.budget().count() << " ms";
    EXPECT_EQ(status->task_id().value(), "after");
    ASSERT_EQ(Post(*framework, calls, calls.Acknowledge(framework_id, *status)), 202);
    if (status->state() == mesos::v1::TASK_FINISHED) break;
    ASSERT_TRUE(status->state() == mesos::v1::TASK_STARTING ||
                status->state() == mesos::v1::TASK_RUNNING)
        << status->ShortDebugString();
  }
  EXPECT_TRUE(cluster_->master_process()->Running());
}

}  // namespace
}  // namespace steward::e2e
