// What the agent knows about the frameworks, executors and tasks on it, and its conversion
// to and from the checkpoint (proto/steward/agent_checkpoint.proto).
//
// Invariants (kept by AgentImpl):
//   - every task belongs to an executor of its framework (`executor_id`); a command task's
//     executor has the task's id and `command` set;
//   - a task stays while it is non-terminal or has unacknowledged updates;
//   - an executor stays while its container runs or it has tasks; a framework while it has
//     executors.
//
// Thread safety: plain data; AgentImpl guards it with its mutex.
#ifndef STEWARD_AGENT_INTERNAL_AGENT_STATE_H_
#define STEWARD_AGENT_INTERNAL_AGENT_STATE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/internal/status_update_stream.h"
#include "common/http_server.h"
#include "common/mesos_resources.h"
#include "proto/mesos/v1/mesos.pb.h"
#include "proto/steward/agent_checkpoint.pb.h"

namespace steward::agent::internal {

// True for FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR.
inline bool IsTerminal(mesos::v1::TaskState state) { return common::IsTerminalState(state); }

// What /state keeps of a task after it is forgotten (terminal and acknowledged).
struct CompletedTask {
  mesos::v1::TaskInfo info;
  mesos::v1::TaskState state = mesos::v1::TASK_FINISHED;
  std::vector<mesos::v1::TaskStatus> statuses;
};

// What /state keeps of an executor after its container ended and its tasks were forgotten.
struct CompletedExecutor {
  mesos::v1::ExecutorInfo info;
  bool command = false;
  std::string container_id;
  std::string sandbox;
  std::deque<CompletedTask> completed_tasks;
};

struct TaskRecord {
  explicit TaskRecord(StatusUpdateStream::RetryPolicy policy) : updates(policy) {}

  mesos::v1::TaskInfo info;
  std::string executor_id;
  mesos::v1::TaskState state = mesos::v1::TASK_STAGING;
  StatusUpdateStream updates;
  std::vector<mesos::v1::TaskStatus> statuses;  // Without data, oldest first.
  bool kill_requested = false;
  bool delivered = false;  // Custom executors: LAUNCH written to the executor's stream.
};

// A subscribed custom executor's event stream.
struct ExecutorStream {
  common::Responder responder;
  bool json = true;  // Events as JSON (else protobuf), RecordIO-framed either way.
};

struct ExecutorRecord {
  mesos::v1::ExecutorInfo info;
  bool command = false;
  std::string container_id;
  std::string sandbox;
  bool terminated = false;  // The container has ended (or never started).
  std::optional<ExecutorStream> stream;
  // SHUTDOWN sent; the container is killed at this time if still running.
  std::optional<std::chrono::steady_clock::time_point> shutdown_deadline;
  // A custom executor recovered after an agent restart must subscribe again before this time
  // (--executor_reregistration_timeout from recovery), or its container is killed. Cleared
  // when it subscribes, is shut down or ends. Not checkpointed: a new agent starts a new wait.
  std::optional<std::chrono::steady_clock::time_point> reregister_deadline;
  // Set when the agent kills the container for not subscribing again in time: what its
  // non-terminal tasks become when the container has ended (checkpointed).
  std::optional<ExecutorTermination> pending_termination;
  // The pid of the process the container runs (the custom executor, or a command task's
  // command); 0 while unknown. Read from the containerizer after a launch or a recovery.
  uint32_t pid = 0;
  // Its forgotten tasks, oldest first (bounded; not checkpointed).
  std::deque<CompletedTask> completed_tasks;
};

struct FrameworkRecord {
  mesos::v1::FrameworkInfo info;
  std::map<std::string, ExecutorRecord> executors;
  std::map<std::string, TaskRecord> tasks;
  // SHUTDOWN_FRAMEWORK received: everything is being killed; no more updates are sent and
  // the framework is forgotten once its containers have ended.
  bool shutting_down = false;
  // Its forgotten executors, oldest first (bounded; not checkpointed).
  std::deque<CompletedExecutor> completed_executors;
};

// What /state keeps of a forgotten framework.
struct CompletedFramework {
  mesos::v1::FrameworkInfo info;
  std::deque<CompletedExecutor> completed_executors;
};

using Frameworks = std::map<std::string, FrameworkRecord>;

// The checkpoint of `frameworks` (executor streams and timers are not persisted).
void SaveFrameworks(const Frameworks& frameworks, Checkpoint* checkpoint);

// Rebuilds frameworks from a checkpoint. Every pending update is due at `now`.
Frameworks LoadFrameworks(const Checkpoint& checkpoint, StatusUpdateStream::RetryPolicy policy,
                          std::chrono::steady_clock::time_point now);

// The task as Call.Subscribe reports it: latest state, the statuses so far, and the state and
// uuid of the update in flight (if any).
mesos::v1::Task ToTask(const FrameworkRecord& framework, const TaskRecord& task,
                       const mesos::v1::AgentID& agent_id);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_AGENT_STATE_H_
