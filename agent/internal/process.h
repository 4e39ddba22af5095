// Linux process facts the containerizer needs: /proc/<pid>/stat, the descendants of a
// process, and human-readable wait statuses. Thread-safe (no shared state).
#ifndef STEWARD_AGENT_INTERNAL_PROCESS_H_
#define STEWARD_AGENT_INTERNAL_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace steward::agent::internal {

// pidfd_open(2) and pidfd_send_signal(2) (Linux 5.1/5.3), called directly: Debian 12's
// <sys/pidfd.h> lacks C linkage for C++. -1 with errno on failure.
int PidfdOpen(pid_t pid);
int PidfdSendSignal(int pidfd, int signal, siginfo_t* info);

// The fields of /proc/<pid>/stat that identify a process and place it in the process tree.
struct ProcStat {
  char state = '?';         // R, S, D, Z, ...
  pid_t ppid = 0;           // field 4
  pid_t pgrp = 0;           // field 5
  uint64_t start_time = 0;  // field 22, clock ticks after boot: (pid, start_time) is unique
};

// Parses the text of /proc/<pid>/stat (the command name in parentheses may contain spaces
// and parentheses). InvalidArgument when the text is malformed.
absl::StatusOr<ProcStat> ParseProcStat(std::string_view text);

// Reads /proc/<pid>/stat. NotFound when there is no such process.
absl::StatusOr<ProcStat> ReadProcStat(pid_t pid);

// Every process whose chain of parents leads to `ancestor` (not `ancestor` itself), from one
// scan of /proc. A snapshot: processes may start or end while it is taken.
std::vector<pid_t> FindDescendants(pid_t ancestor);

// "SIGKILL" for 9; "signal 42" for numbers without a name.
std::string SignalName(int signal);

// "exited with status 3", "killed by signal 9 (SIGKILL)", "killed by signal 11 (SIGSEGV),
// core dumped".
std::string DescribeWaitStatus(int wait_status);

// "64 MiB" when `bytes` is a whole number of MiB, "1000 bytes" otherwise.
std::string DescribeBytes(uint64_t bytes);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_PROCESS_H_
