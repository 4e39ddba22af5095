// The container supervisor: the process that owns one container's task from launch to exit,
// independent of the agent (see agent/containerizer.h for the design and
// agent/internal/supervisor_protocol.h for how the agent starts and talks to it).
//
// What it does, in order:
//  1. Becomes a child subreaper (orphaned descendants of the task are re-parented to it),
//     blocks its signals into a signalfd, reads container.pb and waits for the agent's go.
//  2. Forks the task. The child joins the container's cgroups (writes "0" to each
//     cgroup.procs), makes itself a process group leader, points stdin at /dev/null and
//     stdout/stderr at the sandbox files, closes every other descriptor, resets signal
//     dispositions and mask, enters the sandbox and execs. A failure to join the cgroups is
//     answered to the agent as a launch failure; a failure to exec becomes exit status 127
//     with the reason as the message. Then it writes task.pb and answers the agent.
//  3. Waits. A kill request sends SIGTERM to the task's process group, to every process in
//     the container's cgroups and to every descendant of the supervisor, and SIGKILL to the
//     same set when the grace period ends (repeated every 100 ms until the task is gone).
//  4. When the task has exited: SIGKILLs and reaps whatever is left of the container, reads
//     the OOM counter, removes the container's cgroups, writes exit.pb atomically and exits.
#ifndef STEWARD_AGENT_INTERNAL_SUPERVISOR_H_
#define STEWARD_AGENT_INTERNAL_SUPERVISOR_H_

#include <string>

namespace steward::agent::internal {

// Runs the supervisor of the container whose runtime directory is `container_dir`, with the
// descriptors described in supervisor_protocol.h. Returns the process exit code: 0 once the
// exit record is written, 1 when it could not be (the agent then reports the container as
// ended without a status).
int RunSupervisor(const std::string& container_dir);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_SUPERVISOR_H_
