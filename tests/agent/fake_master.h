// A fake steward-master for agent tests: serves POST /api/v1/agent on 127.0.0.1 (ephemeral
// port), records every call, answers SUBSCRIBE with a RecordIO event stream and lets the test
// push events on it, drop it, or refuse calls. Optionally acknowledges status updates itself.
//
// Thread-safe: the HTTP server's threads record calls while the test inspects them.
#ifndef STEWARD_TESTS_AGENT_FAKE_MASTER_H_
#define STEWARD_TESTS_AGENT_FAKE_MASTER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http_server.h"
#include "proto/steward/agent.pb.h"

namespace steward::agent::testing {

class FakeMaster {
 public:
  FakeMaster();
  ~FakeMaster();

  uint16_t port() const { return server_->port(); }

  // The id a first registration gets.
  void set_agent_id(std::string id);
  // Sent in SUBSCRIBED (the agent's liveness check waits three of them).
  void set_heartbeat_interval_seconds(double seconds);
  // When true, every STATUS_UPDATE is acknowledged at once on the stream.
  void set_auto_acknowledge(bool on);
  // Non-SUBSCRIBE calls are answered with `status` (0: normal 202 handling).
  void set_refuse_calls(int status);
  // Sent in SUBSCRIBED: whether STATUS_UPDATE calls may carry several updates (default true).
  void set_accepts_status_update_batches(bool on);
  // While on, STATUS_UPDATE calls are recorded but not answered (the agent's call stays in
  // flight); turning it off answers (and auto-acknowledges) the held ones.
  void set_hold_status_updates(bool on);

  // Every call received, in order (SUBSCRIBE included).
  std::vector<steward::agent::Call> calls() const;
  std::vector<steward::agent::Call> calls_of(steward::agent::Call::Type type) const;
  // The updates of one STATUS_UPDATE call (`status_update` or `status_updates`), in order.
  static std::vector<steward::agent::Call::StatusUpdate> UpdatesOf(
      const steward::agent::Call& call);
  // The statuses of STATUS_UPDATE calls for `task_id`, in arrival order.
  std::vector<mesos::v1::TaskStatus> updates_for(const std::string& task_id) const;
  int subscriptions() const;

  // Waits until `predicate` (evaluated on this master) holds; false on timeout.
  bool WaitFor(const std::function<bool(const FakeMaster&)>& predicate,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)) const;
  // Waits for an update of `task_id` in `state`; the first such status, or nullopt.
  std::optional<mesos::v1::TaskStatus> WaitForUpdate(
      const std::string& task_id, mesos::v1::TaskState state,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)) const;

  // Writes `event` (RecordIO-framed) on the current stream; false without one.
  bool Push(const steward::agent::Event& event);
  // Writes raw bytes on the current stream (malformed input tests).
  bool PushRaw(const std::string& bytes);
  // Acknowledges `status` of `framework_id` on the stream.
  bool Acknowledge(const std::string& framework_id, const mesos::v1::TaskStatus& status);
  // Ends the current stream (the agent must subscribe again).
  void DropStream();

 private:
  void Handle(const common::HttpRequest& request, common::Responder responder);
  // Answers an accepted non-SUBSCRIBE call 202 and auto-acknowledges its status updates.
  void AnswerLocked(const steward::agent::Call& call, common::Responder& responder);

  std::unique_ptr<common::HttpServer> server_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::string agent_id_ = "agent-1";
  double heartbeat_interval_seconds_ = 30;
  bool auto_acknowledge_ = true;
  int refuse_calls_ = 0;
  bool accepts_status_update_batches_ = true;
  bool hold_status_updates_ = false;
  std::vector<std::pair<steward::agent::Call, common::Responder>> held_;
  std::vector<steward::agent::Call> calls_;
  int subscriptions_ = 0;
  int next_stream_ = 0;
  std::string stream_id_;
  std::optional<common::Responder> stream_;
};

// Builders for events the tests push.
steward::agent::Event SubscribedEvent(const std::string& agent_id, double heartbeat_seconds);
mesos::v1::FrameworkInfo TestFramework(const std::string& id, bool task_killing_state = false);
steward::agent::Event LaunchCommand(const mesos::v1::FrameworkInfo& framework,
                                    const std::string& task_id, const std::string& agent_id,
                                    const std::string& shell_command);
steward::agent::Event KillEvent(const std::string& framework_id, const std::string& task_id);

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_FAKE_MASTER_H_
