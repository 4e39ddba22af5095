#include "agent/internal/process.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/internal/file_io.h"

namespace steward::agent::internal {
namespace {

template <typename T>
bool ParseNumber(absl::string_view text, T* value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int signal, siginfo_t* info) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, info, 0));
}

absl::StatusOr<ProcStat> ParseProcStat(std::string_view text) {
  // "<pid> (<comm>) <state> <ppid> <pgrp> ...": comm may contain anything, so the fields
  // after it start at the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 > text.size()) {
    return absl::InvalidArgumentError("malformed /proc/<pid>/stat: no command name");
  }
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(text.data() + close + 2, text.size() - close - 2), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  constexpr size_t kStartTimeField = 22 - 3;
  if (fields.size() <= kStartTimeField || fields[0].size() != 1) {
    return absl::InvalidArgumentError("malformed /proc/<pid>/stat: too few fields");
  }
  ProcStat stat;
  stat.state = fields[0][0];
  if (!ParseNumber(fields[1], &stat.ppid) || !ParseNumber(fields[2], &stat.pgrp) ||
      !ParseNumber(fields[kStartTimeField], &stat.start_time)) {
    return absl::InvalidArgumentError("malformed /proc/<pid>/stat: bad number");
  }
  return stat;
}

absl::StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  absl::StatusOr<std::string> text = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!text.ok()) {
    // ESRCH shows up when the process ends while the file is read.
    if (absl::IsNotFound(text.status()) || absl::IsUnavailable(text.status())) {
      return absl::NotFoundError(absl::StrCat("no process ", pid));
    }
    return text.status();
  }
  return ParseProcStat(*text);
}

std::vector<pid_t> FindDescendants(pid_t ancestor) {
  std::unordered_map<pid_t, pid_t> parent_of;
  if (DIR* proc = ::opendir("/proc")) {
    while (struct dirent* entry = ::readdir(proc)) {
      pid_t pid = 0;
      if (!ParseNumber(absl::string_view(entry->d_name), &pid)) continue;
      absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
      if (stat.ok()) parent_of[pid] = stat->ppid;
    }
    ::closedir(proc);
  }
  std::vector<pid_t> descendants;
  for (const auto& [pid, parent] : parent_of) {
    // Walk up; the depth bound guards against a cycle from a torn snapshot.
    pid_t current = parent;
    for (int depth = 0; depth < 4096 && current > 1; ++depth) {
      if (current == ancestor) {
        descendants.push_back(pid);
        break;
      }
      auto it = parent_of.find(current);
      if (it == parent_of.end()) break;
      current = it->second;
    }
  }
  return descendants;
}

std::string SignalName(int signal) {
  if (const char* abbrev = ::sigabbrev_np(signal)) return absl::StrCat("SIG", abbrev);
  return absl::StrCat("signal ", signal);
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int signal = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", signal, " (", SignalName(signal), ")",
                        WCOREDUMP(wait_status) ? ", core dumped" : "");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

std::string DescribeBytes(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes != 0 && bytes % kMiB == 0) return absl::StrCat(bytes / kMiB, " MiB");
  return absl::StrCat(bytes, " bytes");
}

}  // namespace steward::agent::internal
