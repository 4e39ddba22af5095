#include "agent/internal/supervisor_launch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/internal/process.h"
#include "agent/internal/supervisor_protocol.h"
#include "proto/steward/containerizer.pb.h"

extern char** environ;

namespace steward::agent::internal {
namespace {

constexpr char kSelfExe[] = "/proc/self/exe";

// In the forked child of a possibly multi-threaded agent: system calls only, then exec.
[[noreturn]] void ExecSupervisor(char* const argv[], char* const envp[], int null_fd, int log_fd,
                                 int lock_fd, int control_fd) {
  sigset_t empty;
  ::sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  ::setsid();
  // Move the sources above the targets first, so no dup2 overwrites a source.
  int sources[] = {null_fd, log_fd, lock_fd, control_fd};
  for (int& fd : sources) {
    fd = ::fcntl(fd, F_DUPFD_CLOEXEC, kControlFd + 1);
    if (fd < 0) ::_exit(126);
  }
  if (::dup2(sources[0], STDIN_FILENO) < 0 || ::dup2(sources[1], STDOUT_FILENO) < 0 ||
      ::dup2(sources[1], STDERR_FILENO) < 0 || ::dup2(sources[2], kLockFd) < 0 ||
      ::dup2(sources[3], kControlFd) < 0) {
    ::_exit(126);
  }
  ::close_range(kControlFd + 1, ~0U, 0);
  ::execve(kSelfExe, argv, envp);
  ::_exit(126);
}

void KillAndReap(const SupervisorProcess& supervisor) {
  PidfdSendSignal(supervisor.pidfd.get(), SIGKILL, nullptr);
  siginfo_t info;
  while (::waitid(P_PIDFD, static_cast<id_t>(supervisor.pidfd.get()), &info, WEXITED) < 0 &&
         errno == EINTR) {
  }
}

// Reads up to one '\n'-terminated line (less at end of file); DeadlineExceeded on timeout.
absl::StatusOr<std::string> ReadAnswer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  while (line.empty() || line.back() != '\n') {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("no answer from the supervisor within ", timeout.count(), " ms"));
    }
    pollfd poll_fd{fd, POLLIN, 0};
    int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return ErrnoError("poll", errno);
    if (ready <= 0) continue;
    char buffer[512];
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read from the supervisor", errno);
    }
    if (n == 0) break;
    line.append(buffer, static_cast<size_t>(n));
  }
  return line;
}

}  // namespace

std::string SupervisorLogTail(const std::string& container_dir) {
  absl::StatusOr<std::string> log = ReadFile(absl::StrCat(container_dir, "/", kSupervisorLogFile));
  if (!log.ok()) return "";
  absl::string_view text = absl::StripTrailingAsciiWhitespace(*log);
  size_t newline = text.rfind('\n');
  if (newline != absl::string_view::npos) text.remove_prefix(newline + 1);
  if (text.size() > 300) text = text.substr(text.size() - 300);
  return std::string(text);
}

absl::StatusOr<SupervisorProcess> StartSupervisor(const std::string& container_dir,
                                                  std::chrono::milliseconds answer_timeout) {
  auto internal = [](std::string_view what, int err) {
    return ErrnoError(absl::StatusCode::kInternal, what, err);
  };
  const std::string lock_path = absl::StrCat(container_dir, "/", kLockFile);
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return internal(absl::StrCat("create ", lock_path), errno);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return internal(absl::StrCat("lock ", lock_path), errno);
  }
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return internal("socketpair", errno);
  }
  UniqueFd control(sockets[0]);
  UniqueFd child_control(sockets[1]);
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd.valid()) return internal("open /dev/null", errno);
  const std::string log_path = absl::StrCat(container_dir, "/", kSupervisorLogFile);
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return internal(absl::StrCat("create ", log_path), errno);

  std::string argv0 = kSupervisorArgv0;
  std::string flag = kSupervisorFlag;
  std::string dir = container_dir;
  char* argv[] = {argv0.data(), flag.data(), dir.data(), nullptr};
  char** envp = environ;

  SupervisorProcess supervisor;
  supervisor.pid = ::fork();
  if (supervisor.pid < 0) return internal("fork the supervisor", errno);
  if (supervisor.pid == 0) {
    ExecSupervisor(argv, envp, null_fd.get(), log.get(), lock.get(), child_control.get());
  }
  // The supervisor holds the lock (and its end of the socket) from here on.
  lock.Reset();
  child_control.Reset();

  // Until it is reaped, the child's pid cannot be reused: pidfd_open and /proc are race-free.
  supervisor.pidfd.Reset(PidfdOpen(supervisor.pid));
  if (!supervisor.pidfd.valid()) {
    int err = errno;
    ::kill(supervisor.pid, SIGKILL);
    ::waitpid(supervisor.pid, nullptr, 0);
    return internal("pidfd_open the supervisor", err);
  }
  absl::StatusOr<ProcStat> stat = ReadProcStat(supervisor.pid);
  absl::Status status = stat.status();
  if (stat.ok()) {
    checkpoint::Process record;
    record.set_pid(supervisor.pid);
    record.set_start_time(stat->start_time);
    status = WriteMessage(absl::StrCat(container_dir, "/", kSupervisorFile), record);
  }
  if (!status.ok()) {
    KillAndReap(supervisor);
    return absl::InternalError(
        absl::StrCat("cannot checkpoint the supervisor's pid: ", status.message()));
  }

  const char go = kGo;
  if (::send(control.get(), &go, 1, MSG_NOSIGNAL) != 1) {
    int err = errno;
    KillAndReap(supervisor);
    std::string tail = SupervisorLogTail(container_dir);
    return internal(absl::StrCat("start the supervisor", tail.empty() ? "" : " (", tail,
                                 tail.empty() ? "" : ")"),
                    err);
  }
  absl::StatusOr<std::string> answer = ReadAnswer(control.get(), answer_timeout);
  if (answer.ok() && answer->size() > 1 && (*answer)[0] == kStarted) return supervisor;

  KillAndReap(supervisor);
  if (!answer.ok()) return absl::InternalError(answer.status().message());
  if (answer->size() > 1 && (*answer)[0] == kFailed) {
    return absl::InternalError(absl::StripTrailingAsciiWhitespace(answer->substr(1)));
  }
  std::string tail = SupervisorLogTail(container_dir);
  return absl::InternalError(absl::StrCat("the supervisor exited while starting the task",
                                          tail.empty() ? "" : ": ", tail));
}

}  // namespace steward::agent::internal
