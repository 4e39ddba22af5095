#include "agent/internal/cgroup_isolator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/internal/cgroups.h"
#include "agent/internal/file_io.h"

namespace steward::agent::internal {
namespace {

// Where the parent may go: the agent's own cgroup first, then the hierarchy's root.
std::vector<std::string> ParentBases(const CgroupMount& mount,
                                     const std::vector<CgroupMembership>& memberships) {
  std::vector<std::string> bases;
  if (std::optional<std::string> own = OwnCgroupDirectory(mount, memberships)) {
    bases.push_back(*own);
  }
  if (bases.empty() || bases.front() != mount.mount_point) bases.push_back(mount.mount_point);
  return bases;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// How often a cgroup path is created again when a concurrent rmdir takes a component away
// before its child is made, and how long a parent's lock is waited for (only an isolator
// that is removing the parent holds it exclusively, for the time of one rmdir).
constexpr int kCreateAttempts = 100;
constexpr std::chrono::seconds kLockWait{5};

// mkdir -p of `directory` below `base`, an existing cgroup: every missing component is
// created, an existing one is fine. NotFound when a component vanished before its child was
// made (a concurrent rmdir: the caller tries again); FailedPrecondition when `base` itself is
// gone.
absl::Status MakeCgroupPath(const std::string& base, const std::string& directory) {
  if (directory.size() <= base.size() + 1 || directory.compare(0, base.size(), base) != 0 ||
      directory[base.size()] != '/') {
    return absl::InternalError(absl::StrCat("cgroup ", directory, " is not below ", base));
  }
  for (size_t end = directory.find('/', base.size() + 1);; end = directory.find('/', end + 1)) {
    const std::string component = directory.substr(0, end);
    if (::mkdir(component.c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      if (err == ENOENT && !PathExists(base)) {
        return absl::FailedPreconditionError(
            absl::StrCat("mkdir ", component, ": the cgroup ", base, " does not exist"));
      }
      return ErrnoError(absl::StrCat("mkdir ", component), err);
    }
    if (end == std::string::npos) return absl::OkStatus();
  }
}

// True when the open directory `fd` is the one at `path` now (not one removed since).
bool IsDirectoryAt(int fd, const std::string& path) {
  struct stat by_fd;
  struct stat by_path;
  return ::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 &&
         by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

// Creates `parent` (mkdir -p below `base`) unless it exists, and takes a shared lock on it;
// returns the locked descriptor. Retries when the parent is removed meanwhile.
absl::StatusOr<UniqueFd> LockParent(const std::string& base, const std::string& parent) {
  const auto deadline = std::chrono::steady_clock::now() + kLockWait;
  absl::Status last;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    if (absl::Status made = MakeCgroupPath(base, parent); !made.ok()) {
      if (!absl::IsNotFound(made)) return made;
      last = made;
      continue;
    }
    UniqueFd fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno != ENOENT) return ErrnoError(absl::StrCat("open ", parent), errno);
      last = ErrnoError(absl::StrCat("open ", parent), errno);
      continue;
    }
    while (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) return ErrnoError(absl::StrCat("flock ", parent), errno);
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "flock ", parent, ": still locked exclusively after ", kLockWait.count(), " s"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // The isolator that held it exclusively may have removed it before letting go.
    if (IsDirectoryAt(fd.get(), parent)) return fd;
    last = absl::NotFoundError(absl::StrCat(parent, " was removed while being locked"));
  }
  return absl::InternalError(absl::StrCat("cannot create and lock ", parent, " (tried ",
                                          kCreateAttempts, " times): ", last.message()));
}

// Lets go of `lock` on `parent`, removing the parent when no one else holds it (an exclusive
// lock is granted) and it holds no cgroup (rmdir fails with EBUSY then, and it stays).
void ReleaseParent(const std::string& parent, UniqueFd lock) {
  if (!lock.valid()) return;
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) == 0 && IsDirectoryAt(lock.get(), parent)) {
    ::rmdir(parent.c_str());
  }
}

absl::Status AsInternal(const absl::Status& status) {
  return status.ok() ? status : absl::InternalError(status.message());
}

}  // namespace

absl::StatusOr<std::unique_ptr<CgroupIsolator>> CgroupIsolator::Create(
    int version, std::string_view name, const std::string& proc_self_dir) {
  if (version != 1 && version != 2) {
    return absl::InvalidArgumentError(absl::StrCat("no cgroup version ", version));
  }
  absl::StatusOr<std::string> mountinfo = ReadFile(proc_self_dir + "/mountinfo");
  absl::StatusOr<std::string> own = ReadFile(proc_self_dir + "/cgroup");
  absl::StatusOr<std::vector<CgroupMount>> mounts =
      mountinfo.ok() ? ParseCgroupMounts(*mountinfo) : mountinfo.status();
  absl::StatusOr<std::vector<CgroupMembership>> memberships =
      own.ok() ? ParseProcCgroup(*own) : own.status();
  for (const absl::Status& status : {mounts.status(), memberships.status()}) {
    if (!status.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cgroups v", version, " not usable: ", status.message()));
    }
  }
  const std::string parent_name(name);
  absl::StatusOr<std::vector<Prepared>> prepared =
      version == 1 ? PrepareV1(parent_name, *mounts, *memberships)
                   : PrepareV2(parent_name, *mounts, *memberships);
  if (!prepared.ok()) return prepared.status();
  return std::unique_ptr<CgroupIsolator>(new CgroupIsolator(version, *std::move(prepared)));
}

CgroupIsolator::CgroupIsolator(int version, std::vector<Prepared> prepared) : version_(version) {
  for (Prepared& one : prepared) {
    hierarchies_.push_back(std::move(one.hierarchy));
    locks_.push_back(std::move(one.lock));
  }
}

CgroupIsolator::~CgroupIsolator() {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < hierarchies_.size(); ++i) {
    ReleaseParent(hierarchies_[i].parent, std::move(locks_[i]));
  }
}

absl::StatusOr<std::vector<CgroupIsolator::Prepared>> CgroupIsolator::PrepareV1(
    const std::string& name, const std::vector<CgroupMount>& mounts,
    const std::vector<CgroupMembership>& memberships) {
  struct Wanted {
    const char* controller;
    const char* probe;  // a control file the parent must have
    bool required;
  };
  static constexpr Wanted kWanted[] = {{"cpu", "cpu.shares", true},
                                       {"memory", "memory.limit_in_bytes", true},
                                       {"pids", "cgroup.procs", false}};
  std::vector<Prepared> prepared;
  std::vector<std::string> problems;
  for (const Wanted& wanted : kWanted) {
    auto mount = std::find_if(mounts.begin(), mounts.end(), [&](const CgroupMount& m) {
      return m.version == 1 && Contains(m.controllers, wanted.controller);
    });
    if (mount == mounts.end()) {
      if (wanted.required) {
        problems.push_back(
            absl::StrCat("no cgroup v1 hierarchy with the ", wanted.controller, " controller"));
      }
      continue;
    }
    auto same_mount = std::find_if(prepared.begin(), prepared.end(), [&](const Prepared& p) {
      return p.hierarchy.mount_point == mount->mount_point;
    });
    if (same_mount != prepared.end()) {  // Co-mounted, e.g. "cpu,cpuacct".
      same_mount->hierarchy.controllers.push_back(wanted.controller);
      continue;
    }
    std::vector<std::string> failures;
    for (const std::string& base : ParentBases(*mount, memberships)) {
      const std::string parent = absl::StrCat(base, "/", name);
      absl::StatusOr<UniqueFd> lock = LockParent(base, parent);
      if (!lock.ok()) {
        failures.push_back(std::string(lock.status().message()));
        continue;
      }
      if (!PathExists(absl::StrCat(parent, "/", wanted.probe))) {
        failures.push_back(absl::StrCat(parent, " has no ", wanted.probe));
        ReleaseParent(parent, *std::move(lock));
        continue;
      }
      prepared.push_back(Prepared{
          Hierarchy{mount->mount_point, base, parent, {wanted.controller}, ""}, *std::move(lock)});
      break;
    }
    if (prepared.empty() || prepared.back().hierarchy.mount_point != mount->mount_point) {
      if (wanted.required) problems.push_back(absl::StrJoin(failures, "; "));
    }
  }
  if (!problems.empty()) {
    for (Prepared& one : prepared) ReleaseParent(one.hierarchy.parent, std::move(one.lock));
    return absl::FailedPreconditionError(
        absl::StrCat("cgroups v1 not usable: ", absl::StrJoin(problems, "; ")));
  }
  return prepared;
}

absl::StatusOr<std::vector<CgroupIsolator::Prepared>> CgroupIsolator::PrepareV2(
    const std::string& name, const std::vector<CgroupMount>& mounts,
    const std::vector<CgroupMembership>& memberships) {
  auto mount = std::find_if(mounts.begin(), mounts.end(),
                            [](const CgroupMount& m) { return m.version == 2; });
  if (mount == mounts.end()) {
    return absl::FailedPreconditionError("cgroups v2 not usable: no cgroup2 hierarchy is mounted");
  }
  std::vector<std::string> failures;
  for (const std::string& base : ParentBases(*mount, memberships)) {
    absl::StatusOr<std::string> available_text = ReadFile(base + "/cgroup.controllers");
    if (!available_text.ok()) {
      failures.push_back(std::string(available_text.status().message()));
      continue;
    }
    std::vector<std::string> available =
        absl::StrSplit(*available_text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
    std::vector<std::string> missing;
    for (const char* required : {"cpu", "memory"}) {
      if (!Contains(available, required)) missing.push_back(required);
    }
    if (!missing.empty()) {
      failures.push_back(absl::StrCat(
          base, "/cgroup.controllers lacks ", absl::StrJoin(missing, ", "),
          " (has: ", available.empty() ? "none" : absl::StrJoin(available, ", "), ")"));
      continue;
    }
    std::vector<std::string> used = {"cpu", "memory"};
    if (Contains(available, "pids")) used.push_back("pids");
    std::string enable;
    for (const std::string& controller : used) absl::StrAppend(&enable, "+", controller, " ");
    enable.pop_back();
    const std::string parent = absl::StrCat(base, "/", name);
    if (absl::Status status = WriteExistingFile(base + "/cgroup.subtree_control", enable);
        !status.ok()) {
      failures.push_back(std::string(status.message()));
      continue;
    }
    absl::StatusOr<UniqueFd> lock = LockParent(base, parent);
    if (!lock.ok()) {
      failures.push_back(std::string(lock.status().message()));
      continue;
    }
    if (absl::Status status = WriteExistingFile(parent + "/cgroup.subtree_control", enable);
        !status.ok()) {
      failures.push_back(std::string(status.message()));
      ReleaseParent(parent, *std::move(lock));
      continue;
    }
    std::vector<Prepared> prepared;
    prepared.push_back(
        Prepared{Hierarchy{mount->mount_point, base, parent, used, enable}, *std::move(lock)});
    return prepared;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cgroups v2 not usable: ", absl::StrJoin(failures, "; ")));
}

std::string CgroupIsolator::Summary() const {
  std::vector<std::string> controllers;
  std::vector<std::string> parents;
  for (const Hierarchy& hierarchy : hierarchies_) {
    controllers.insert(controllers.end(), hierarchy.controllers.begin(),
                       hierarchy.controllers.end());
    parents.push_back(hierarchy.parent);
  }
  return absl::StrCat("cgroups v", version_, " (", absl::StrJoin(controllers, ", "), ") in ",
                      absl::StrJoin(parents, ", "));
}

absl::Status CgroupIsolator::WriteLimits(const Hierarchy& hierarchy, const std::string& directory,
                                         double cpus, uint64_t mem_bytes) const {
  auto write = [&](const char* file, const std::string& value) {
    return AsInternal(WriteExistingFile(absl::StrCat(directory, "/", file), value));
  };
  if (mem_bytes > 0 && Contains(hierarchy.controllers, "memory")) {
    absl::Status status =
        write(version_ == 2 ? "memory.max" : "memory.limit_in_bytes", absl::StrCat(mem_bytes));
    if (!status.ok()) return status;
  }
  if (cpus > 0 && Contains(hierarchy.controllers, "cpu")) {
    if (version_ == 2) {
      absl::Status status = write("cpu.weight", absl::StrCat(CpuWeight(cpus)));
      if (status.ok()) {
        status = write("cpu.max", absl::StrCat(CfsQuotaMicros(cpus), " ", kCfsPeriodMicros));
      }
      return status;
    }
    absl::Status status = write("cpu.shares", absl::StrCat(CpuShares(cpus)));
    // The CFS bandwidth files exist only with CONFIG_CFS_BANDWIDTH; shares still apply.
    if (status.ok() && PathExists(directory + "/cpu.cfs_quota_us")) {
      status = write("cpu.cfs_period_us", absl::StrCat(kCfsPeriodMicros));
      if (status.ok()) status = write("cpu.cfs_quota_us", absl::StrCat(CfsQuotaMicros(cpus)));
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CgroupIsolator::MakeContainerCgroup(const Hierarchy& hierarchy,
                                                 const std::string& directory) const {
  absl::Status last;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    absl::Status status = MakeCgroupPath(hierarchy.base, hierarchy.parent);
    // v2: the controllers are enabled down to the parent at every launch, as the parent may
    // have been created again (the writes are idempotent).
    if (status.ok() && version_ == 2) {
      status = WriteExistingFile(hierarchy.base + "/cgroup.subtree_control", hierarchy.enable);
      if (status.ok()) {
        status = WriteExistingFile(hierarchy.parent + "/cgroup.subtree_control", hierarchy.enable);
      }
    }
    if (!status.ok()) {
      if (!absl::IsNotFound(status)) return AsInternal(status);
      last = status;
      continue;  // The parent went away meanwhile.
    }
    // A leftover of an earlier container with this id (whose removal failed) is replaced
    // when it is empty; rmdir refuses otherwise.
    if (::mkdir(directory.c_str(), 0755) == 0 ||
        (errno == EEXIST && ::rmdir(directory.c_str()) == 0 &&
         ::mkdir(directory.c_str(), 0755) == 0)) {
      return absl::OkStatus();
    }
    const int err = errno;
    last = ErrnoError(absl::StatusCode::kInternal, absl::StrCat("create cgroup ", directory), err);
    // ENOENT: the parent was removed between its creation and this mkdir; create it again.
    if (err != ENOENT) return last;
  }
  return absl::InternalError(absl::StrCat(last.message(), " (the parent cgroup was removed ",
                                          kCreateAttempts, " times while creating it)"));
}

absl::Status CgroupIsolator::RelockIfReplaced(size_t index) const {
  const std::string& parent = hierarchies_[index].parent;
  std::lock_guard<std::mutex> lock(mu_);
  if (locks_[index].valid() && IsDirectoryAt(locks_[index].get(), parent)) {
    return absl::OkStatus();
  }
  absl::StatusOr<UniqueFd> relocked = LockParent(hierarchies_[index].base, parent);
  if (!relocked.ok()) return AsInternal(relocked.status());
  locks_[index] = *std::move(relocked);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<checkpoint::Cgroup>> CgroupIsolator::CreateContainer(
    std::string_view container_id, double cpus, uint64_t mem_bytes) const {
  std::vector<checkpoint::Cgroup> cgroups;
  auto undo = [&cgroups] {
    for (const checkpoint::Cgroup& cgroup : cgroups) ::rmdir(cgroup.directory().c_str());
  };
  for (size_t i = 0; i < hierarchies_.size(); ++i) {
    const Hierarchy& hierarchy = hierarchies_[i];
    const std::string directory =
        absl::StrCat(hierarchy.parent, "/", ContainerCgroupName(container_id));
    if (absl::Status status = MakeContainerCgroup(hierarchy, directory); !status.ok()) {
      undo();
      return status;
    }
    checkpoint::Cgroup& cgroup = cgroups.emplace_back();
    cgroup.set_directory(directory);
    cgroup.set_version(version_);
    for (const std::string& controller : hierarchy.controllers) cgroup.add_controllers(controller);
    // The container's cgroup keeps the parent in place from here on.
    absl::Status status = RelockIfReplaced(i);
    if (status.ok()) status = WriteLimits(hierarchy, directory, cpus, mem_bytes);
    if (!status.ok()) {
      undo();
      return status;
    }
  }
  return cgroups;
}

}  // namespace steward::agent::internal
