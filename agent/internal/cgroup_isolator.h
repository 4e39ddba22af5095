// The cgroup hierarchies a containerizer places its containers in, found and prepared once
// at start-up, and the creation of each container's cgroups with its limits.
//
// Where: for each hierarchy, the parent cgroup `name` is created under the agent's own cgroup
// (from /proc/self/cgroup), so the limits of whatever runs the agent also bound its tasks;
// when that is not possible (not writable; or for v2, the agent's cgroup holds processes and
// cannot delegate controllers) it is created under the hierarchy's root instead.
//
// v1 uses the cpu and memory hierarchies (both required) and pids (optional, for tracking);
// v2 needs cpu and memory in the unified hierarchy's cgroup.controllers and enables them (and
// pids if available) in cgroup.subtree_control down to the parent.
#ifndef STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_
#define STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/internal/cgroups.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {

// Immutable after Create(); thread-safe.
class CgroupIsolator {
 public:
  // `version` is 1 or 2. Creates the parent cgroup `name` in every hierarchy used.
  // FailedPrecondition, saying why, when that version cannot be used on this machine.
  // `proc_self_dir` is where mountinfo and cgroup of this process are read (tests point it
  // at a fake cgroup tree).
  static absl::StatusOr<std::unique_ptr<CgroupIsolator>> Create(
      int version, std::string_view name, const std::string& proc_self_dir = "/proc/self");

  int version() const { return version_; }
  // "cgroups v1 (cpu, memory, pids) in /sys/fs/cgroup/cpu/steward, ...".
  std::string Summary() const;

  // Creates the container's cgroups (<parent>/container-<id> in every hierarchy) and writes
  // its limits (0 means none). A leftover empty cgroup of the same name is replaced. Internal
  // with the failing file and errno on failure, leaving nothing behind.
  absl::StatusOr<std::vector<checkpoint::Cgroup>> CreateContainer(std::string_view container_id,
                                                                  double cpus,
                                                                  uint64_t mem_bytes) const;

  // Removes the parent cgroups that hold no container any more. Best effort: a parent still
  // in use stays.
  void RemoveUnusedParents() const;

 private:
  struct Hierarchy {
    std::string mount_point;               // of the hierarchy
    std::string parent;                    // absolute directory of the parent cgroup
    std::vector<std::string> controllers;  // the ones used: cpu, memory, pids
  };

  CgroupIsolator(int version, std::vector<Hierarchy> hierarchies)
      : version_(version), hierarchies_(std::move(hierarchies)) {}

  static absl::StatusOr<std::vector<Hierarchy>> PrepareV1(
      const std::string& name, const std::vector<CgroupMount>& mounts,
      const std::vector<CgroupMembership>& memberships);
  static absl::StatusOr<std::vector<Hierarchy>> PrepareV2(
      const std::string& name, const std::vector<CgroupMount>& mounts,
      const std::vector<CgroupMembership>& memberships);
  absl::Status WriteLimits(const Hierarchy& hierarchy, const std::string& directory, double cpus,
                           uint64_t mem_bytes) const;

  int version_;
  std::vector<Hierarchy> hierarchies_;
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_
