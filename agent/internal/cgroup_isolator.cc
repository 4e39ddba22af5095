#include "agent/internal/cgroup_isolator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

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

// mkdir that accepts an existing directory.
absl::Status MakeCgroup(const std::string& directory) {
  if (::mkdir(directory.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return ErrnoError(absl::StrCat("mkdir ", directory), errno);
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
  absl::StatusOr<std::vector<Hierarchy>> hierarchies =
      version == 1 ? PrepareV1(parent_name, *mounts, *memberships)
                   : PrepareV2(parent_name, *mounts, *memberships);
  if (!hierarchies.ok()) return hierarchies.status();
  return std::unique_ptr<CgroupIsolator>(new CgroupIsolator(version, *std::move(hierarchies)));
}

absl::StatusOr<std::vector<CgroupIsolator::Hierarchy>> CgroupIsolator::PrepareV1(
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
  std::vector<Hierarchy> hierarchies;
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
    auto same_mount = std::find_if(hierarchies.begin(), hierarchies.end(), [&](const Hierarchy& h) {
      return h.mount_point == mount->mount_point;
    });
    if (same_mount != hierarchies.end()) {  // Co-mounted, e.g. "cpu,cpuacct".
      same_mount->controllers.push_back(wanted.controller);
      continue;
    }
    std::vector<std::string> failures;
    for (const std::string& base : ParentBases(*mount, memberships)) {
      const std::string parent = absl::StrCat(base, "/", name);
      if (absl::Status made = MakeCgroup(parent); !made.ok()) {
        failures.push_back(std::string(made.message()));
        continue;
      }
      if (!PathExists(absl::StrCat(parent, "/", wanted.probe))) {
        failures.push_back(absl::StrCat(parent, " has no ", wanted.probe));
        continue;
      }
      hierarchies.push_back(Hierarchy{mount->mount_point, parent, {wanted.controller}});
      break;
    }
    if (hierarchies.empty() || hierarchies.back().mount_point != mount->mount_point) {
      if (wanted.required) problems.push_back(absl::StrJoin(failures, "; "));
    }
  }
  if (!problems.empty()) {
    for (const Hierarchy& hierarchy : hierarchies) ::rmdir(hierarchy.parent.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cgroups v1 not usable: ", absl::StrJoin(problems, "; ")));
  }
  return hierarchies;
}

absl::StatusOr<std::vector<CgroupIsolator::Hierarchy>> CgroupIsolator::PrepareV2(
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
    absl::Status status = WriteExistingFile(base + "/cgroup.subtree_control", enable);
    if (status.ok()) status = MakeCgroup(parent);
    if (status.ok()) status = WriteExistingFile(parent + "/cgroup.subtree_control", enable);
    if (!status.ok()) {
      failures.push_back(std::string(status.message()));
      continue;
    }
    return std::vector<Hierarchy>{Hierarchy{mount->mount_point, parent, used}};
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

absl::StatusOr<std::vector<checkpoint::Cgroup>> CgroupIsolator::CreateContainer(
    std::string_view container_id, double cpus, uint64_t mem_bytes) const {
  std::vector<checkpoint::Cgroup> cgroups;
  auto undo = [&cgroups] {
    for (const checkpoint::Cgroup& cgroup : cgroups) ::rmdir(cgroup.directory().c_str());
  };
  for (const Hierarchy& hierarchy : hierarchies_) {
    const std::string directory =
        absl::StrCat(hierarchy.parent, "/", ContainerCgroupName(container_id));
    // A leftover of an earlier container with this id (whose removal failed) is replaced
    // when it is empty; rmdir refuses otherwise.
    if (::mkdir(directory.c_str(), 0755) != 0 &&
        !(errno == EEXIST && ::rmdir(directory.c_str()) == 0 &&
          ::mkdir(directory.c_str(), 0755) == 0)) {
      int err = errno;
      undo();
      return ErrnoError(absl::StatusCode::kInternal, absl::StrCat("create cgroup ", directory),
                        err);
    }
    checkpoint::Cgroup& cgroup = cgroups.emplace_back();
    cgroup.set_directory(directory);
    cgroup.set_version(version_);
    for (const std::string& controller : hierarchy.controllers) cgroup.add_controllers(controller);
    if (absl::Status status = WriteLimits(hierarchy, directory, cpus, mem_bytes); !status.ok()) {
      undo();
      return status;
    }
  }
  return cgroups;
}

void CgroupIsolator::RemoveUnusedParents() const {
  for (const Hierarchy& hierarchy : hierarchies_) ::rmdir(hierarchy.parent.c_str());
}

}  // namespace steward::agent::internal
