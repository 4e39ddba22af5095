// The agent's side of starting a container supervisor (protocol in supervisor_protocol.h).
#ifndef STEWARD_AGENT_INTERNAL_SUPERVISOR_LAUNCH_H_
#define STEWARD_AGENT_INTERNAL_SUPERVISOR_LAUNCH_H_

#include <sys/types.h>

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "agent/internal/file_io.h"

namespace steward::agent::internal {

struct SupervisorProcess {
  pid_t pid = 0;
  UniqueFd pidfd;  // refers to the supervisor even after its pid is reused
};

// Starts the supervisor of the container whose container.pb is in `container_dir`: forks,
// execs /proc/self/exe, checkpoints supervisor.pb, sends go and waits up to `answer_timeout`
// for the answer. Returns once the task has been forked (and its exec attempted).
// Internal when anything fails; the supervisor has then exited and been reaped, but the task
// may have started if the supervisor died or did not answer in time (the caller destroys the
// container's remains). Thread-safe; callable from a multi-threaded process (only
// async-signal-safe calls run between fork and exec).
absl::StatusOr<SupervisorProcess> StartSupervisor(const std::string& container_dir,
                                                  std::chrono::milliseconds answer_timeout);

// The last line of the container's supervisor.log (at most 300 bytes), or "" when empty.
std::string SupervisorLogTail(const std::string& container_dir);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_SUPERVISOR_LAUNCH_H_
