#include "agent/internal/linux_containerizer.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/internal/cgroups.h"
#include "agent/internal/launch_spec.h"
#include "agent/internal/process.h"
#include "agent/internal/supervisor_launch.h"
#include "agent/internal/supervisor_protocol.h"

namespace steward::agent::internal {
namespace {

// Runtime directories being removed after Reap() are first renamed to this prefix (which
// no container id can have), so a crash mid-removal cannot make them look like containers.
constexpr char kReapedPrefix[] = "reaped~";

// Slow start-ups (sanitizer builds, loaded machines) must not fail a launch.
constexpr std::chrono::seconds kSupervisorAnswerTimeout{60};

// How long Recover() waits for a supervisor whose agent died before checkpointing it (it
// exits without starting the task as soon as it sees the agent gone).
constexpr std::chrono::seconds kOrphanedSupervisorWait{10};

absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

std::string Join(const std::string& dir, std::string_view name) {
  return absl::StrCat(dir, "/", Absl(name));
}

bool Readable(int fd) {
  pollfd poll_fd{fd, POLLIN, 0};
  return ::poll(&poll_fd, 1, 0) > 0 && (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// True while some process (the supervisor) holds the container's lock.
bool LockHeld(const std::string& dir) {
  UniqueFd fd(::open(Join(dir, kLockFile).c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return false;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

}  // namespace

std::string DestroyRemains(const std::string& container_dir, const checkpoint::Container& record) {
  std::vector<std::string> problems;
  checkpoint::Process task;
  if (ReadMessage(Join(container_dir, kTaskFile), &task).ok() && task.pid() > 0) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(task.pid());
    // Only the same process (pid and start time) still running: its group id is its own.
    if (stat.ok() && stat->start_time == task.start_time() && stat->state != 'Z') {
      ::kill(-task.pid(), SIGKILL);
      ::kill(task.pid(), SIGKILL);
      // Wait for the death (a zombie now belongs to whoever adopted the task).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (std::chrono::steady_clock::now() < deadline) {
        stat = ReadProcStat(task.pid());
        if (!stat.ok() || stat->start_time != task.start_time() || stat->state == 'Z') break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
  std::vector<checkpoint::Cgroup> cgroups(record.cgroups().begin(), record.cgroups().end());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (SignalCgroupProcesses(cgroups, SIGKILL) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const checkpoint::Cgroup& cgroup : cgroups) {
    if (absl::Status status = RemoveCgroup(cgroup); !status.ok()) {
      problems.push_back(std::string(status.message()));
    }
  }
  return absl::StrJoin(problems, "; ");
}

LinuxContainerizer::LinuxContainerizer(std::string runtime_dir,
                                       std::unique_ptr<CgroupIsolator> cgroups, std::string summary)
    : runtime_dir_(std::move(runtime_dir)),
      cgroups_(std::move(cgroups)),
      summary_(std::move(summary)) {}

// Containers keep running under their supervisors; destroying cgroups_ removes a parent
// cgroup only when it is empty and no other containerizer uses it (cgroup_isolator.h).
LinuxContainerizer::~LinuxContainerizer() = default;

std::string LinuxContainerizer::ContainerDir(std::string_view container_id) const {
  return Join(runtime_dir_, container_id);
}

absl::Status LinuxContainerizer::Launch(const ContainerSpec& spec) {
  if (absl::Status status = ValidateSpec(spec); !status.ok()) return status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (containers_.count(spec.container_id) != 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("container ", spec.container_id, " already exists"));
    }
    containers_[spec.container_id].state = State::kLaunching;
    launched_ = true;
  }
  absl::StatusOr<UniqueFd> pidfd = StartContainer(spec);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(spec.container_id);
  if (!pidfd.ok()) {
    containers_.erase(it);
    return pidfd.status();
  }
  Container& container = it->second;
  container.state = State::kRunning;
  container.pidfd = *std::move(pidfd);
  if (container.pending_kill) {
    // The task may already have ended; then there is nothing left to kill.
    (void)SendKill(spec.container_id, container, *container.pending_kill);
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> LinuxContainerizer::StartContainer(const ContainerSpec& spec) {
  const std::string dir = ContainerDir(spec.container_id);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("container ", spec.container_id,
                                                   " has state from an earlier agent in ", dir,
                                                   "; Recover() and Reap() it first"));
    }
    return ErrnoError(absl::StatusCode::kInternal, absl::StrCat("mkdir ", dir), errno);
  }
  checkpoint::Container record = MakeContainerRecord(spec);
  auto fail = [&](absl::Status status) {
    std::string remains = DestroyRemains(dir, record);
    (void)RemoveTree(dir);
    if (!remains.empty()) {
      status = absl::Status(status.code(), absl::StrCat(status.message(), "; ", remains));
    }
    return status;
  };
  if (absl::Status status = MakeDirectories(spec.sandbox, 0755); !status.ok()) {
    return fail(absl::InternalError(absl::StrCat("cannot create the sandbox: ", status.message())));
  }
  for (const char* name : {"stdout", "stderr"}) {
    const std::string path = Join(spec.sandbox, name);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      return fail(ErrnoError(absl::StatusCode::kInternal, absl::StrCat("create ", path), errno));
    }
  }
  if (cgroups_ != nullptr) {
    absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
        cgroups_->CreateContainer(spec.container_id, spec.cpus, spec.mem_bytes);
    if (!cgroups.ok()) return fail(cgroups.status());
    for (checkpoint::Cgroup& cgroup : *cgroups) *record.add_cgroups() = std::move(cgroup);
  }
  if (absl::Status status = WriteMessage(Join(dir, kContainerFile), record); !status.ok()) {
    return fail(absl::InternalError(status.message()));
  }
  absl::StatusOr<SupervisorProcess> supervisor = StartSupervisor(dir, kSupervisorAnswerTimeout);
  if (!supervisor.ok()) {
    return fail(absl::InternalError(
        absl::StrCat("container ", spec.container_id, ": ", supervisor.status().message())));
  }
  return std::move(supervisor->pidfd);
}

absl::Status LinuxContainerizer::SendKill(std::string_view container_id, const Container& container,
                                          std::chrono::milliseconds grace) const {
  auto ended = [&] {
    return absl::NotFoundError(absl::StrCat("container ", Absl(container_id), " has ended"));
  };
  if (Readable(container.pidfd.get()) || PathExists(Join(ContainerDir(container_id), kExitFile))) {
    return ended();
  }
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  info.si_signo = KillRequestSignal();
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = static_cast<int>(std::min<int64_t>(grace.count(), INT_MAX));
  if (PidfdSendSignal(container.pidfd.get(), KillRequestSignal(), &info) != 0) {
    if (errno == ESRCH) return ended();
    return ErrnoError(absl::StatusCode::kInternal,
                      absl::StrCat("signal the supervisor of container ", Absl(container_id)),
                      errno);
  }
  return absl::OkStatus();
}

absl::Status LinuxContainerizer::Kill(std::string_view container_id,
                                      std::chrono::milliseconds grace) {
  if (grace.count() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("negative grace period ", grace.count(), " ms"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) {
    return absl::NotFoundError(absl::StrCat("no container ", Absl(container_id)));
  }
  Container& container = it->second;
  switch (container.state) {
    case State::kLaunching:
      container.pending_kill = std::min(container.pending_kill.value_or(grace), grace);
      return absl::OkStatus();
    case State::kRunning:
      return SendKill(container_id, container, grace);
    case State::kEnded:
    case State::kReaping:
      break;
  }
  return absl::NotFoundError(absl::StrCat("container ", Absl(container_id), " has ended"));
}

std::vector<ContainerExit> LinuxContainerizer::Reap() {
  std::vector<std::pair<std::string, Container*>> ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, container] : containers_) {
      if (container.state == State::kRunning && Readable(container.pidfd.get())) {
        container.state = State::kEnded;
      }
      if (container.state == State::kEnded) {
        container.state = State::kReaping;
        // Stable: only this call erases the entry, and std::map nodes do not move.
        ended.emplace_back(id, &container);
      }
    }
  }
  std::vector<ContainerExit> exits;
  for (auto& [id, container] : ended) exits.push_back(Finish(id, *container));
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, container] : ended) containers_.erase(id);
  return exits;
}

ContainerExit LinuxContainerizer::Finish(const std::string& container_id, Container& container) {
  if (container.pidfd.valid()) {
    // Collects the zombie when the supervisor is this process's child; ECHILD otherwise.
    siginfo_t info;
    ::waitid(P_PIDFD, static_cast<id_t>(container.pidfd.get()), &info, WEXITED | WNOHANG);
    container.pidfd.Reset();
  }
  const std::string dir = ContainerDir(container_id);
  ContainerExit exit;
  exit.container_id = container_id;
  checkpoint::Container record;
  absl::Status record_status = ReadMessage(Join(dir, kContainerFile), &record);
  checkpoint::Exit exit_record;
  absl::Status exit_status = ReadMessage(Join(dir, kExitFile), &exit_record);
  // Normally the supervisor has removed the cgroups already and this finds nothing to do.
  std::string remains = DestroyRemains(dir, record);
  if (exit_status.ok()) {
    exit.wait_status = exit_record.wait_status();
    exit.killed = exit_record.killed();
    exit.oom_killed = exit_record.oom_killed();
    exit.message = exit_record.message();
  } else {
    exit.wait_status = SIGKILL;  // As waitpid(2) reports a process killed by SIGKILL.
    std::string why;
    if (!absl::IsNotFound(exit_status)) {
      why = std::string(exit_status.message());
    } else if (!PathExists(Join(dir, kSupervisorFile))) {
      why = "the agent stopped while launching it";
    } else {
      why = SupervisorLogTail(dir);
    }
    exit.message = absl::StrCat(
        "the container's supervisor ended without recording how the "
        "task ended; the container was destroyed",
        why.empty() ? "" : " (", why, why.empty() ? "" : ")");
  }
  if (!record_status.ok() && !absl::IsNotFound(record_status)) {
    absl::StrAppend(&exit.message, "; ", record_status.message());
  }
  if (!remains.empty()) absl::StrAppend(&exit.message, "; cleanup: ", remains);
  const std::string tombstone = Join(runtime_dir_, absl::StrCat(kReapedPrefix, container_id));
  (void)RemoveTree(tombstone);
  if (::rename(dir.c_str(), tombstone.c_str()) == 0) {
    (void)RemoveTree(tombstone);
  } else {
    (void)RemoveTree(dir);
  }
  return exit;
}

std::vector<std::string> LinuxContainerizer::Running() const {
  std::vector<std::string> ids;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, container] : containers_) {
    if (container.state != State::kLaunching) ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<int> LinuxContainerizer::Pid(std::string_view container_id) const {
  auto ended = [&] {
    return absl::NotFoundError(absl::StrCat("container ", Absl(container_id), " is not running"));
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_.find(container_id);
    if (it == containers_.end() || it->second.state != State::kRunning) return ended();
  }
  // The supervisor wrote task.pb before Launch() returned; Reap() may remove it meanwhile.
  checkpoint::Process task;
  absl::Status status = ReadMessage(Join(ContainerDir(container_id), kTaskFile), &task);
  if (absl::IsNotFound(status)) return ended();
  if (!status.ok()) return absl::InternalError(status.message());
  if (task.pid() <= 0) {
    return absl::InternalError(
        absl::StrCat("container ", Absl(container_id), " has no valid task pid recorded"));
  }
  return task.pid();
}

LinuxContainerizer::Container LinuxContainerizer::Adopt(const std::string& container_id) {
  const std::string dir = ContainerDir(container_id);
  Container container;
  container.state = State::kEnded;
  checkpoint::Process supervisor;
  const bool checkpointed = ReadMessage(Join(dir, kSupervisorFile), &supervisor).ok();
  if (checkpointed) {
    // Checked after pidfd_open: the pidfd names the checkpointed process, not a reuse of its
    // pid. Kept for an ended supervisor too, so Finish() can collect it if it is a zombie
    // child of this process (a restart within one process, as in tests).
    UniqueFd pidfd(PidfdOpen(supervisor.pid()));
    absl::StatusOr<ProcStat> stat = ReadProcStat(supervisor.pid());
    if (pidfd.valid() && stat.ok() && stat->start_time == supervisor.start_time()) {
      container.pidfd = std::move(pidfd);
    }
  }
  if (!LockHeld(dir)) return container;
  if (!checkpointed) {
    // The previous agent died between starting the supervisor and checkpointing it; the
    // supervisor sees it gone and exits without starting the task.
    const auto deadline = std::chrono::steady_clock::now() + kOrphanedSupervisorWait;
    while (LockHeld(dir) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return container;
  }
  if (container.pidfd.valid()) container.state = State::kRunning;
  return container;
}

absl::StatusOr<std::vector<std::string>> LinuxContainerizer::Recover() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (recovered_) return absl::FailedPreconditionError("Recover() was already called");
    if (launched_) return absl::FailedPreconditionError("Recover() must come before Launch()");
    recovered_ = true;
  }
  DIR* directory = ::opendir(runtime_dir_.c_str());
  if (directory == nullptr) {
    return ErrnoError(absl::StatusCode::kInternal, absl::StrCat("open ", runtime_dir_), errno);
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(directory)) names.emplace_back(entry->d_name);
  ::closedir(directory);
  std::sort(names.begin(), names.end());

  std::vector<std::string> ids;
  for (const std::string& name : names) {
    const std::string path = Join(runtime_dir_, name);
    if (absl::StartsWith(name, kReapedPrefix)) {
      (void)RemoveTree(path);
      continue;
    }
    struct stat st;
    if (!ValidateContainerId(name).ok() || ::lstat(path.c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
      continue;  // Not ours.
    }
    Container container = Adopt(name);
    std::lock_guard<std::mutex> lock(mu_);
    containers_[name] = std::move(container);
    ids.push_back(name);
  }
  return ids;
}

}  // namespace steward::agent::internal
