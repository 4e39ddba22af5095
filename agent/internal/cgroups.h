// Cgroup facts and operations shared by the agent and the container supervisor: parsing
// /proc/self/mountinfo and /proc/self/cgroup, converting cpu and memory limits to control
// file values, and acting on one container's cgroup (list, signal, OOM count, remove).
// Thread-safe (no shared state).
#ifndef STEWARD_AGENT_INTERNAL_CGROUPS_H_
#define STEWARD_AGENT_INTERNAL_CGROUPS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {

// A mounted cgroup hierarchy, from /proc/self/mountinfo.
struct CgroupMount {
  int version = 1;                       // 1 (fs type "cgroup") or 2 ("cgroup2")
  std::string mount_point;               // e.g. /sys/fs/cgroup/memory
  std::string root;                      // the cgroup mounted there, usually "/"
  std::vector<std::string> controllers;  // v1: from the super options ("cpu", "name=systemd");
                                         // v2: empty (see cgroup.controllers)
};

// The cgroup and cgroup2 mounts in the text of /proc/self/mountinfo, in order.
// InvalidArgument for a malformed line.
absl::StatusOr<std::vector<CgroupMount>> ParseCgroupMounts(std::string_view mountinfo);

// One line of /proc/<pid>/cgroup: "hierarchy-id:controller,list:/path".
struct CgroupMembership {
  int hierarchy_id = 0;                  // 0 for the unified (v2) hierarchy
  std::vector<std::string> controllers;  // empty for the unified hierarchy
  std::string path;
};

// InvalidArgument for a malformed line.
absl::StatusOr<std::vector<CgroupMembership>> ParseProcCgroup(std::string_view text);

// The directory of the process's own cgroup in `mount`, or nullopt when the membership is
// not visible through this mount (its path is outside the mount's root).
std::optional<std::string> OwnCgroupDirectory(const CgroupMount& mount,
                                              const std::vector<CgroupMembership>& memberships);

// Limits. cpu shares (v1) are 1024 per cpu, at least 2; the CFS quota is `cpus` periods of
// 100 ms, at least 1 ms; the v2 weight maps shares onto [1, 10000] as Kubernetes and systemd
// do: 1 + (shares - 2) * 9999 / 262142.
inline constexpr int64_t kCfsPeriodMicros = 100000;
int64_t CpuShares(double cpus);
int64_t CfsQuotaMicros(double cpus);
int64_t CpuWeight(double cpus);

// The cgroup directory name of a container (prefixed, so that no id can collide with a
// control file such as "tasks" or "cpu.shares").
std::string ContainerCgroupName(std::string_view container_id);

// Pids in the cgroup (cgroup.procs). Empty when the cgroup no longer exists.
absl::StatusOr<std::vector<pid_t>> CgroupProcesses(const checkpoint::Cgroup& cgroup);

// Sends `signal` to every process in the cgroups; returns how many were signalled.
int SignalCgroupProcesses(const std::vector<checkpoint::Cgroup>& cgroups, int signal);

// The number of processes the kernel's OOM killer killed in a memory cgroup (v1
// memory.oom_control or v2 memory.events, "oom_kill"; Linux 4.13+). NotFound when the cgroup
// is not a memory cgroup or has no such counter.
absl::StatusOr<uint64_t> OomKillCount(const checkpoint::Cgroup& cgroup);

// Removes the cgroup directory, waiting up to `wait` for exiting processes to leave it. OK
// when it does not exist; FailedPrecondition when processes remain.
absl::Status RemoveCgroup(const checkpoint::Cgroup& cgroup, int wait_ms = 2000);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_CGROUPS_H_
