// The Containerizer implementation: one supervisor process per container, optional cgroup
// isolation (see agent/containerizer.h for the design).
#ifndef STEWARD_AGENT_INTERNAL_LINUX_CONTAINERIZER_H_
#define STEWARD_AGENT_INTERNAL_LINUX_CONTAINERIZER_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/containerizer.h"
#include "agent/internal/cgroup_isolator.h"
#include "agent/internal/file_io.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {

// Thread-safe: one mutex guards the container table; it is never held across a launch, a
// file removal or a wait.
class LinuxContainerizer final : public Containerizer {
 public:
  // `cgroups` null means no isolation, described by `summary`.
  LinuxContainerizer(std::string runtime_dir, std::unique_ptr<CgroupIsolator> cgroups,
                     std::string summary);
  ~LinuxContainerizer() override;

  std::string IsolationSummary() const override { return summary_; }
  absl::Status Launch(const ContainerSpec& spec) override;
  absl::Status Kill(std::string_view container_id, std::chrono::milliseconds grace) override;
  std::vector<ContainerExit> Reap() override;
  std::vector<std::string> Running() const override;
  absl::StatusOr<int> Pid(std::string_view container_id) const override;
  absl::StatusOr<std::vector<std::string>> Recover() override;

 private:
  enum class State {
    kLaunching,  // Launch() in progress
    kRunning,    // the supervisor was alive when last seen
    kEnded,      // the supervisor is known to have ended; not yet reaped
    kReaping,    // Reap() is collecting its exit
  };
  struct Container {
    State state = State::kLaunching;
    UniqueFd pidfd;  // the supervisor: always while kRunning, when known while kEnded
    std::optional<std::chrono::milliseconds> pending_kill;  // Kill() during kLaunching
  };

  std::string ContainerDir(std::string_view container_id) const;
  // Everything Launch() does after reserving the id.
  absl::StatusOr<UniqueFd> StartContainer(const ContainerSpec& spec);
  absl::Status SendKill(std::string_view container_id, const Container& container,
                        std::chrono::milliseconds grace) const;
  // The exit of an ended container; removes its runtime directory.
  ContainerExit Finish(const std::string& container_id, Container& container);
  // Adopts one directory found by Recover().
  Container Adopt(const std::string& container_id);

  const std::string runtime_dir_;
  const std::unique_ptr<CgroupIsolator> cgroups_;
  const std::string summary_;

  mutable std::mutex mu_;
  std::map<std::string, Container, std::less<>> containers_;  // guarded by mu_
  bool launched_ = false;                                     // guarded by mu_
  bool recovered_ = false;                                    // guarded by mu_
};

// Kills whatever is left of a container whose supervisor is gone (the task's process group
// if the task still runs, every process in its cgroups) and removes its cgroups. Returns ""
// or a description of what could not be cleaned up.
std::string DestroyRemains(const std::string& container_dir, const checkpoint::Container& record);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_LINUX_CONTAINERIZER_H_
