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
//
// Sharing the parent: several agents on one machine (and several isolators in one process)
// may use the same parent cgroup, e.g. two agents started from one shell with the same
// --cgroups_root. Each isolator holds a shared flock(2) on the parent's directory while it
// lives. When it is destroyed it removes the parent only if it can take that lock
// exclusively (no other isolator uses the parent) and the parent holds no container cgroups
// (rmdir refuses otherwise): containers outlive their agent, so a parent in use stays.
// Whoever else may remove an empty parent (an operator, an older agent), CreateContainer()
// creates the missing path again (mkdir -p; an existing directory is fine, and a parent
// removed between its creation and the container's is created again).
#ifndef STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_
#define STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/internal/cgroups.h"
#include "agent/internal/file_io.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {

// Thread-safe.
class CgroupIsolator {
 public:
  // `version` is 1 or 2. Creates the parent cgroup `name` in every hierarchy used (if
  // missing) and takes its shared lock. FailedPrecondition, saying why, when that version
  // cannot be used on this machine. `proc_self_dir` is where mountinfo and cgroup of this
  // process are read (tests point it at a fake cgroup tree).
  static absl::StatusOr<std::unique_ptr<CgroupIsolator>> Create(
      int version, std::string_view name, const std::string& proc_self_dir = "/proc/self");

  // Releases the parents, removing each that no other isolator uses and that holds no
  // container (see "Sharing the parent" above). Containers keep running.
  ~CgroupIsolator();
  CgroupIsolator(const CgroupIsolator&) = delete;
  CgroupIsolator& operator=(const CgroupIsolator&) = delete;

  int version() const { return version_; }
  // "cgroups v1 (cpu, memory, pids) in /sys/fs/cgroup/cpu/steward, ...".
  std::string Summary() const;

  // Creates the container's cgroups (<parent>/container-<id> in every hierarchy, creating a
  // missing parent path first) and writes its limits (0 means none). A leftover empty cgroup
  // of the same name is replaced. Internal with the failing file and errno on failure,
  // leaving nothing behind.
  absl::StatusOr<std::vector<checkpoint::Cgroup>> CreateContainer(std::string_view container_id,
                                                                  double cpus,
                                                                  uint64_t mem_bytes) const;

 private:
  struct Hierarchy {
    std::string mount_point;               // of the hierarchy
    std::string base;                      // the existing cgroup the parent is created in
    std::string parent;                    // absolute directory of the parent cgroup
    std::vector<std::string> controllers;  // the ones used: cpu, memory, pids
    std::string enable;                    // v2: "+cpu +memory ..." for cgroup.subtree_control
  };
  // A hierarchy with the shared lock on its parent (an open descriptor of the directory).
  struct Prepared {
    Hierarchy hierarchy;
    UniqueFd lock;
  };

  CgroupIsolator(int version, std::vector<Prepared> prepared);

  static absl::StatusOr<std::vector<Prepared>> PrepareV1(
      const std::string& name, const std::vector<CgroupMount>& mounts,
      const std::vector<CgroupMembership>& memberships);
  static absl::StatusOr<std::vector<Prepared>> PrepareV2(
      const std::string& name, const std::vector<CgroupMount>& mounts,
      const std::vector<CgroupMembership>& memberships);
  // Creates <parent>/<leaf> (and the parent path when missing), retrying when the parent is
  // removed concurrently. Internal on failure.
  absl::Status MakeContainerCgroup(const Hierarchy& hierarchy, const std::string& directory) const;
  // Makes sure lock `index` is held on the parent directory that exists now (the parent may
  // have been removed and created again since it was taken). The caller's container cgroup
  // keeps the parent from being removed meanwhile.
  absl::Status RelockIfReplaced(size_t index) const;
  absl::Status WriteLimits(const Hierarchy& hierarchy, const std::string& directory, double cpus,
                           uint64_t mem_bytes) const;

  const int version_;
  std::vector<Hierarchy> hierarchies_;  // immutable after construction
  mutable std::mutex mu_;
  mutable std::vector<UniqueFd> locks_;  // guarded by mu_; locks_[i] is hierarchies_[i]'s
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_CGROUP_ISOLATOR_H_
