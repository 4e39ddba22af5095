// What Launch() (in the agent) and the container supervisor agree on: the supervisor's
// command line and inherited descriptors, the start-up handshake, the kill request signal,
// and the file names in the container's runtime directory.
//
// Start-up: Launch() writes container.pb, takes the lock, forks and execs
//   /proc/self/exe  steward-container-supervisor --steward-container-supervisor <container dir>
// with the locked lock file on kLockFd, one end of a socketpair on kControlFd, /dev/null on
// stdin and supervisor.log on stdout and stderr (every other descriptor closed). It then
// writes supervisor.pb and sends kGo. The supervisor starts the task and answers either
// kStarted followed by the task's pid, or kFailed followed by the reason; one line each.
// A supervisor that reads end-of-file instead of kGo exits without starting the task.
//
// Kill: the agent queues KillRequestSignal() to the supervisor (pidfd_send_signal with
// SI_QUEUE) with the grace period in milliseconds as the signal's int value.
#ifndef STEWARD_AGENT_INTERNAL_SUPERVISOR_PROTOCOL_H_
#define STEWARD_AGENT_INTERNAL_SUPERVISOR_PROTOCOL_H_

#include <signal.h>

namespace steward::agent::internal {

inline constexpr char kSupervisorArgv0[] = "steward-container-supervisor";
inline constexpr char kSupervisorFlag[] = "--steward-container-supervisor";

inline constexpr int kLockFd = 3;
inline constexpr int kControlFd = 4;

inline constexpr char kGo = 'G';
inline constexpr char kStarted = 'S';
inline constexpr char kFailed = 'F';

// A real-time signal, so that requests queue instead of merging.
inline int KillRequestSignal() { return SIGRTMIN + 2; }

// The grace period the supervisor gives the task when it receives SIGTERM itself.
inline constexpr int kSupervisorSigtermGraceMs = 3000;

// Files in `runtime_dir`/<container_id>/.
inline constexpr char kContainerFile[] = "container.pb";
inline constexpr char kSupervisorFile[] = "supervisor.pb";
inline constexpr char kTaskFile[] = "task.pb";
inline constexpr char kExitFile[] = "exit.pb";
inline constexpr char kLockFile[] = "lock";
inline constexpr char kSupervisorLogFile[] = "supervisor.log";

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_SUPERVISOR_PROTOCOL_H_
