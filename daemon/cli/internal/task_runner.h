// `steward run`'s framework: subscribes to the master, launches one command task on the first
// offer that holds its resources, reports the task's state changes and tears down when the
// task ends.
//
// The loop, over a SchedulerSession: offers without room are declined (refuse 1 s, so a
// freshly freed agent is offered again soon); the first offer that contains the resources is
// accepted with one LAUNCH (and its remainder declined for an hour), after which the framework
// suppresses offers and declines any still in flight. Every status update that carries a uuid
// is acknowledged (the agent sends a task's next update only after the previous one is
// acknowledged). A changed state is printed as one line. On a terminal state, on the deadline
// or when `interrupted` becomes true, the framework sends TEARDOWN (which kills a task still
// running) and the session closes.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_TASK_RUNNER_H_
#define STEWARD_DAEMON_CLI_INTERNAL_TASK_RUNNER_H_

#include <atomic>
#include <chrono>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "allocator/resources.h"
#include "common/mesos_resources.h"
#include "daemon/cli/internal/arguments.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::cli {

// Exit codes of `steward run` beyond errors.h's.
inline constexpr int kExitTaskFinished = 0;   // TASK_FINISHED
inline constexpr int kExitTaskFailed = 1;     // any other terminal state
inline constexpr int kExitTimeout = 3;        // --timeout passed first
inline constexpr int kExitInterrupted = 130;  // SIGINT or SIGTERM

struct RunSpec {
  std::string name;     // task and framework name
  std::string task_id;  // unique
  std::string role = "*";
  allocator::Resources resources;  // what the task needs (and is given)
  mesos::v1::CommandInfo command;
  std::chrono::nanoseconds timeout{0};  // whole run; zero: no limit
  std::string user;                     // FrameworkInfo.user
  std::string hostname;                 // FrameworkInfo.hostname
};

// True for the states a task never leaves (TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_LOST,
// TASK_ERROR, TASK_DROPPED, TASK_GONE, TASK_GONE_BY_OPERATOR).
using common::IsTerminalState;

// Runs `spec` and returns the exit code (above); progress lines go to `out`. Errors (exit 1):
// the master unreachable or refusing the subscription or a call, an ERROR event, the event
// stream ending before the task did.
absl::StatusOr<int> RunTask(const GlobalOptions& global, const RunSpec& spec, std::ostream& out,
                            const std::atomic<bool>& interrupted);

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_TASK_RUNNER_H_
