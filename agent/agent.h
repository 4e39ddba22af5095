// steward-agent's engine: registers with the master, runs the tasks it sends, reports their
// status reliably, and survives its own restart and the master's.
//
// Wire protocol with the master: proto/steward/agent.proto (agent/internal/master_link.h).
// Command tasks run under a built-in command executor (one container per task); tasks with an
// ExecutorInfo run under the framework's executor, which talks to the agent through the Mesos
// v1 executor HTTP API at POST /api/v1/executor. Status updates are checkpointed and resent
// until acknowledged, one in flight per task. Everything needed to recover (agent id,
// frameworks, tasks with their unacknowledged updates, executors and containers, dynamic
// reservations) is checkpointed atomically under <work_dir>/meta/ on every change; a new
// process on the same work_dir reattaches to the running containers and re-subscribes.
//
// HTTP on the agent's port: POST /api/v1/executor, GET /state, GET /metrics/snapshot (Mesos
// agent metric names), GET /metrics (the same in Prometheus text), GET /health,
// GET /files/read (see agent/internal/files_api.h).
//
// Thread safety: Start() once, from the owner. Wait() and Stop() from any thread.
#ifndef STEWARD_AGENT_AGENT_H_
#define STEWARD_AGENT_AGENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/containerizer.h"
#include "common/master_detector.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::agent {

// The longest --executor_reregistration_timeout (Mesos's limit too).
inline constexpr std::chrono::milliseconds kMaxExecutorReregistrationTimeout{15'000};

struct AgentOptions {
  std::string master_host;  // --master=HOST:PORT
  uint16_t master_port = 5050;
  // Where the leading master is; null: the master at master_host:master_port (standalone).
  std::shared_ptr<const common::MasterDetector> master_detector;
  std::string ip = "127.0.0.1";  // Address the agent listens on and reports to executors.
  uint16_t port = 5051;          // 0: an ephemeral port (tests), read back with Agent::port().
  std::string hostname;          // Reported in AgentInfo; empty: `ip`.
  std::string work_dir;          // Absolute; sandboxes under slaves/, checkpoint under meta/.
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> resources;    // Total.
  google::protobuf::RepeatedPtrField<mesos::v1::Attribute> attributes;  //
  std::string version = "0.1.0";
  // First resend of an unacknowledged status update; doubles up to the maximum.
  std::chrono::milliseconds status_update_retry_interval{10'000};
  std::chrono::milliseconds max_status_update_retry_interval{600'000};
  // How long an executor gets to exit after SHUTDOWN before it is killed (unless its
  // ExecutorInfo says otherwise); passed to executors as MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD.
  std::chrono::milliseconds executor_shutdown_grace_period{5'000};
  // Kill grace of a task without a kill policy.
  std::chrono::milliseconds default_kill_grace_period{3'000};
  // Re-subscription backoff: random delay in [0, b], b from the factor doubling to the max.
  std::chrono::milliseconds registration_backoff_factor{1'000};
  std::chrono::milliseconds max_registration_backoff{30'000};
  // HEARTBEAT events to subscribed executors.
  std::chrono::milliseconds executor_heartbeat_interval{30'000};
  // After an agent restart, how long a recovered custom executor has to subscribe again
  // before its container is killed and its tasks become TASK_LOST (TASK_GONE for a
  // partition-aware framework) with REASON_EXECUTOR_REREGISTRATION_TIMEOUT. At most 15 s.
  std::chrono::milliseconds executor_reregistration_timeout{2'000};
  // Passed to executors (MESOS_RECOVERY_TIMEOUT, MESOS_SUBSCRIPTION_BACKOFF_MAX).
  std::chrono::milliseconds executor_recovery_timeout{900'000};
  std::chrono::milliseconds executor_subscription_backoff_max{2'000};
  // How often ended containers are collected.
  std::chrono::milliseconds reap_interval{100};
  int http_threads = 2;
};

class AgentImpl;

class Agent {
 public:
  // Checks `options` (InvalidArgument naming the problem) and loads the checkpoint from
  // <work_dir>/meta/ (DataLoss for a corrupt one). Starts nothing.
  static absl::StatusOr<std::unique_ptr<Agent>> Create(
      AgentOptions options, std::unique_ptr<Containerizer> containerizer);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  // Stop().
  ~Agent();

  // Recovers checkpointed tasks (adopting their containers through Containerizer::Recover();
  // tasks whose container vanished become TASK_FAILED; recovered custom executors must
  // subscribe again within executor_reregistration_timeout), starts the HTTP server (Unavailable
  // if the port cannot be bound) and starts subscribing to the master. Once only.
  absl::Status Start();
  // The bound HTTP port (after Start()).
  uint16_t port() const;

  // Blocks until Stop() (returns OK) or until the master refuses the agent with Event.ERROR
  // or assigns it a different id (returns FailedPrecondition with the reason). Tasks keep
  // running either way.
  absl::Status Wait();

  // Closes executor streams and the master link, stops the HTTP server and the threads, and
  // leaves every container running for the next agent process. Idempotent.
  void Stop();

 private:
  explicit Agent(std::unique_ptr<AgentImpl> impl);
  std::unique_ptr<AgentImpl> impl_;
};

}  // namespace steward::agent

#endif  // STEWARD_AGENT_AGENT_H_
