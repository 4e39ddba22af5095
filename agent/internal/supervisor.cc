#include "agent/internal/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/internal/cgroups.h"
#include "agent/internal/file_io.h"
#include "agent/internal/process.h"
#include "agent/internal/supervisor_protocol.h"
#include "proto/steward/containerizer.pb.h"

extern char** environ;

namespace steward::agent::internal {
namespace {

using Clock = std::chrono::steady_clock;

// How long the supervisor keeps SIGKILLing leftovers of an ended task before giving up.
constexpr std::chrono::seconds kDestroyTimeout{10};

// Written by the task child to the exec-error pipe when it cannot become the task.
struct ChildFailure {
  enum Stage : int { kCgroup = 1, kStdio = 2, kSandbox = 3, kExec = 4 };
  int stage;
  int index;  // of the cgroup, for kCgroup
  int error;
};

void Log(absl::string_view line) {
  std::string text = absl::StrCat("steward-container-supervisor[", ::getpid(), "]: ", line, "\n");
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

// Everything the task child needs, prepared before fork() so the child only makes system
// calls.
struct TaskImage {
  std::vector<std::string> cgroup_procs;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<const char*> cgroup_procs_paths;
  std::string executable;
  std::string sandbox;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

[[noreturn]] void FailChild(int error_fd, int stage, int index, int error) {
  ChildFailure failure{stage, index, error};
  ssize_t ignored = ::write(error_fd, &failure, sizeof(failure));
  (void)ignored;
  ::_exit(127);
}

// Runs in the forked child: async-signal-safe system calls only, then exec.
[[noreturn]] void RunTaskChild(const TaskImage& image, int error_fd) {
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t empty;
  ::sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  ::setpgid(0, 0);
  for (size_t i = 0; i < image.cgroup_procs_paths.size(); ++i) {
    int fd = ::open(image.cgroup_procs_paths[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) {
      FailChild(error_fd, ChildFailure::kCgroup, static_cast<int>(i), errno);
    }
    ::close(fd);
  }
  if (::dup2(image.stdin_fd, STDIN_FILENO) < 0 || ::dup2(image.stdout_fd, STDOUT_FILENO) < 0 ||
      ::dup2(image.stderr_fd, STDERR_FILENO) < 0) {
    FailChild(error_fd, ChildFailure::kStdio, 0, errno);
  }
  if (::chdir(image.sandbox.c_str()) != 0) FailChild(error_fd, ChildFailure::kSandbox, 0, errno);
  // Nothing but stdio and the exec-error pipe (close-on-exec) reaches the task.
  if (error_fd > 3) ::close_range(3, static_cast<unsigned>(error_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(error_fd) + 1, ~0U, 0);
  // execvp searches the PATH of `environ`, which is now the task's own environment.
  environ = const_cast<char**>(image.envp.data());
  ::execvp(image.executable.c_str(), image.argv.data());
  FailChild(error_fd, ChildFailure::kExec, 0, errno);
}

class Supervisor {
 public:
  explicit Supervisor(std::string dir) : dir_(std::move(dir)) {}

  int Run() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::prctl(PR_SET_NAME, "steward-superv");
    ::fcntl(kLockFd, F_SETFD, FD_CLOEXEC);
    ::fcntl(kControlFd, F_SETFD, FD_CLOEXEC);
    ::signal(SIGPIPE, SIG_IGN);
    // An agent that ignores SIGCHLD would otherwise pass on automatic reaping through exec,
    // and the task's exit status would be lost.
    ::signal(SIGCHLD, SIG_DFL);
    if (absl::Status status = Prepare(); !status.ok()) {
      Log(status.message());
      Reply(kFailed, status.message());
      return 1;
    }
    if (!AwaitGo()) {
      Log("the agent went away before the task was started; not starting it");
      return 1;
    }
    if (absl::Status status = StartTask(); !status.ok()) {
      Log(status.message());
      Reply(kFailed, status.message());
      return 1;
    }
    Reply(kStarted, absl::StrCat(task_pid_));
    ::close(kControlFd);
    WaitForTask();
    DestroyLeftovers();
    checkpoint::Exit exit = MakeExitRecord();
    if (absl::Status status = WriteMessage(Path(kExitFile), exit); !status.ok()) {
      Log(absl::StrCat("cannot record the exit (", exit.message(), "): ", status.message()));
      return 1;
    }
    return 0;
  }

 private:
  std::string Path(const char* file) const { return absl::StrCat(dir_, "/", file); }

  absl::Status Prepare() {
    if (absl::Status status = ReadMessage(Path(kContainerFile), &container_); !status.ok()) {
      return status;
    }
    if (container_.executable().empty() || container_.argv().empty()) {
      return absl::DataLossError(absl::StrCat(Path(kContainerFile), " has no command"));
    }
    sigset_t mask;
    ::sigemptyset(&mask);
    for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, KillRequestSignal()}) {
      ::sigaddset(&mask, signal);
    }
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return ErrnoError("sigprocmask", errno);
    signal_fd_.Reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_.valid()) return ErrnoError(absl::StatusCode::kInternal, "signalfd", errno);
    return absl::OkStatus();
  }

  bool AwaitGo() {
    char byte = 0;
    ssize_t n;
    do {
      n = ::read(kControlFd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1 && byte == kGo;
  }

  void Reply(char kind, absl::string_view text) {
    std::string line = absl::StrCat(std::string(1, kind), text);
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
    line.push_back('\n');
    ssize_t ignored = ::send(kControlFd, line.data(), line.size(), MSG_NOSIGNAL);
    (void)ignored;
  }

  absl::Status StartTask() {
    TaskImage image;
    for (const checkpoint::Cgroup& cgroup : container_.cgroups()) {
      image.cgroup_procs.push_back(cgroup.directory() + "/cgroup.procs");
    }
    for (const std::string& path : image.cgroup_procs)
      image.cgroup_procs_paths.push_back(path.c_str());
    image.argv_storage.assign(container_.argv().begin(), container_.argv().end());
    for (std::string& arg : image.argv_storage) image.argv.push_back(arg.data());
    image.argv.push_back(nullptr);
    for (const auto& variable : container_.environment()) {
      image.env_storage.push_back(absl::StrCat(variable.name(), "=", variable.value()));
    }
    for (std::string& entry : image.env_storage) image.envp.push_back(entry.data());
    image.envp.push_back(nullptr);
    image.executable = container_.executable();
    image.sandbox = container_.sandbox();

    UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_fd.valid()) return ErrnoError(absl::StatusCode::kInternal, "open /dev/null", errno);
    UniqueFd out_fd = OpenSandboxFile("stdout");
    UniqueFd err_fd = OpenSandboxFile("stderr");
    if (!out_fd.valid() || !err_fd.valid()) {
      return ErrnoError(absl::StatusCode::kInternal,
                        absl::StrCat("open the stdout and stderr files in ", image.sandbox), errno);
    }
    image.stdin_fd = null_fd.get();
    image.stdout_fd = out_fd.get();
    image.stderr_fd = err_fd.get();

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return ErrnoError(absl::StatusCode::kInternal, "pipe2", errno);
    }
    UniqueFd error_read(pipe_fds[0]);
    UniqueFd error_write(pipe_fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoError(absl::StatusCode::kInternal, "fork the task", errno);
    if (pid == 0) RunTaskChild(image, error_write.get());
    error_write.Reset();
    ::setpgid(pid, pid);  // Also done by the child; whichever runs first wins the race.
    task_pid_ = pid;

    ChildFailure failure{};
    ssize_t n;
    do {
      n = ::read(error_read.get(), &failure, sizeof(failure));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(failure)) {
      switch (failure.stage) {
        case ChildFailure::kCgroup: {
          ReapTaskBlocking();
          const int index = failure.index;
          std::string cgroup = index >= 0 && index < container_.cgroups_size()
                                   ? container_.cgroups(index).directory()
                                   : "?";
          return ErrnoError(absl::StatusCode::kInternal,
                            absl::StrCat("move the task into cgroup ", cgroup), failure.error);
        }
        case ChildFailure::kStdio:
          exec_error_ = absl::StrCat("cannot redirect stdio: ", std::strerror(failure.error));
          break;
        case ChildFailure::kSandbox:
          exec_error_ = absl::StrCat("cannot enter the sandbox ", image.sandbox, ": ",
                                     std::strerror(failure.error));
          break;
        default:
          exec_error_ = absl::StrCat("cannot execute '", image.executable,
                                     "': ", std::strerror(failure.error));
          break;
      }
    }
    // The task (running, or a zombie after a failed exec) still holds its pid: its start
    // time is readable.
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    checkpoint::Process task;
    task.set_pid(pid);
    absl::Status status = stat.status();
    if (stat.ok()) {
      task.set_start_time(stat->start_time);
      status = WriteMessage(Path(kTaskFile), task);
    }
    if (!status.ok()) {
      ::kill(-pid, SIGKILL);
      ReapTaskBlocking();
      return absl::InternalError(
          absl::StrCat("cannot checkpoint the task's pid: ", status.message()));
    }
    return absl::OkStatus();
  }

  UniqueFd OpenSandboxFile(const char* name) const {
    const std::string path = absl::StrCat(container_.sandbox(), "/", name);
    return UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  }

  void ReapTaskBlocking() {
    int status = 0;
    while (::waitpid(task_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    task_reaped_ = true;
  }

  void WaitForTask() {
    while (!task_reaped_) {
      int timeout_ms = -1;
      if (escalated_) {
        timeout_ms = 100;  // Keep SIGKILLing whatever the task forks meanwhile.
      } else if (kill_deadline_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*kill_deadline_ - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      pollfd poll_fd{signal_fd_.get(), POLLIN, 0};
      if (::poll(&poll_fd, 1, timeout_ms) < 0 && errno != EINTR) {
        Log(absl::StrCat("poll: ", std::strerror(errno)));
        ::usleep(100 * 1000);
      }
      HandleSignals();
      ReapChildren();
      if (!task_reaped_ && kill_deadline_ && Clock::now() >= *kill_deadline_) {
        if (!escalated_) Log("grace period over; sending SIGKILL");
        escalated_ = true;
        SignalContainer(SIGKILL);
      }
    }
  }

  void HandleSignals() {
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
      if (static_cast<int>(info.ssi_signo) == KillRequestSignal()) {
        OnKillRequest(info.ssi_int);
      } else if (info.ssi_signo == SIGTERM) {
        Log("received SIGTERM; killing the task");
        OnKillRequest(kSupervisorSigtermGraceMs);
      }
    }
  }

  void OnKillRequest(int grace_ms) {
    if (task_reaped_) return;
    grace_ms = std::max(grace_ms, 0);
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
    if (!kill_requested_) {
      Log(absl::StrCat("kill requested with a grace period of ", grace_ms, " ms"));
      kill_requested_ = true;
      grace_ms_ = grace_ms;
      SignalContainer(SIGTERM);
      kill_deadline_ = deadline;
    } else if (deadline < *kill_deadline_) {
      grace_ms_ = grace_ms;
      kill_deadline_ = deadline;
    }
  }

  void ReapChildren() {
    while (true) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR) continue;
      if (pid <= 0) return;
      if (pid == task_pid_) {
        task_status_ = status;
        task_reaped_ = true;
      }
    }
  }

  // Every process of the container: its process group (while the task's pid is held, so
  // the group id cannot name anyone else), its cgroups, and the supervisor's descendants.
  void SignalContainer(int signal) {
    if (task_pid_ > 0 && !task_reaped_) ::kill(-task_pid_, signal);
    std::vector<checkpoint::Cgroup> cgroups(container_.cgroups().begin(),
                                            container_.cgroups().end());
    SignalCgroupProcesses(cgroups, signal);
    for (pid_t pid : FindDescendants(::getpid())) ::kill(pid, signal);
  }

  bool ContainerEmpty() {
    if (!FindDescendants(::getpid()).empty()) return false;
    for (const checkpoint::Cgroup& cgroup : container_.cgroups()) {
      absl::StatusOr<std::vector<pid_t>> pids = CgroupProcesses(cgroup);
      if (pids.ok() && !pids->empty()) return false;
    }
    return true;
  }

  void DestroyLeftovers() {
    const Clock::time_point deadline = Clock::now() + kDestroyTimeout;
    while (!ContainerEmpty()) {
      if (Clock::now() >= deadline) {
        Log("processes of the container survive SIGKILL; giving up on them");
        return;
      }
      SignalContainer(SIGKILL);
      pollfd poll_fd{signal_fd_.get(), POLLIN, 0};
      ::poll(&poll_fd, 1, 10);
      HandleSignals();
      ReapChildren();
    }
  }

  checkpoint::Exit MakeExitRecord() {
    checkpoint::Exit exit;
    exit.set_wait_status(task_status_);
    exit.set_killed(kill_requested_);
    const bool failed = !(WIFEXITED(task_status_) && WEXITSTATUS(task_status_) == 0);
    bool oom_killed = false;
    for (const checkpoint::Cgroup& cgroup : container_.cgroups()) {
      const auto& controllers = cgroup.controllers();
      if (std::find(controllers.begin(), controllers.end(), "memory") == controllers.end()) {
        continue;
      }
      absl::StatusOr<uint64_t> oom_kills = OomKillCount(cgroup);
      if (oom_kills.ok()) {
        oom_killed = oom_killed || (failed && *oom_kills > 0);
      } else {
        Log(oom_kills.status().message());
      }
    }
    for (const checkpoint::Cgroup& cgroup : container_.cgroups()) {
      if (absl::Status status = RemoveCgroup(cgroup); !status.ok()) Log(status.message());
    }
    exit.set_oom_killed(oom_killed);
    std::string message = exec_error_.empty() ? DescribeWaitStatus(task_status_) : exec_error_;
    if (oom_killed) {
      message = absl::StrCat("memory limit of ", DescribeBytes(container_.mem_bytes()),
                             " exceeded; ", message);
    }
    if (kill_requested_) {
      absl::StrAppend(&message, " after a kill request");
      if (escalated_) {
        absl::StrAppend(&message, " (SIGKILL after the grace period of ", grace_ms_, " ms)");
      }
    }
    exit.set_message(message);
    return exit;
  }

  std::string dir_;
  checkpoint::Container container_;
  UniqueFd signal_fd_;
  pid_t task_pid_ = -1;
  bool task_reaped_ = false;
  int task_status_ = 0;
  std::string exec_error_;
  bool kill_requested_ = false;
  bool escalated_ = false;
  int grace_ms_ = 0;
  std::optional<Clock::time_point> kill_deadline_;
};

}  // namespace

int RunSupervisor(const std::string& container_dir) { return Supervisor(container_dir).Run(); }

}  // namespace steward::agent::internal
