#include "agent/containerizer.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/internal/cgroup_isolator.h"
#include "agent/internal/file_io.h"
#include "agent/internal/launch_spec.h"
#include "agent/internal/linux_containerizer.h"
#include "agent/internal/process.h"
#include "agent/internal/supervisor.h"
#include "agent/internal/supervisor_protocol.h"

namespace steward::agent {
namespace {

std::atomic<bool> supervisor_host{false};

constexpr char kNoLimits[] = "tasks run without cpu and memory limits";

}  // namespace

void MaybeRunSupervisor(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], internal::kSupervisorFlag) == 0) {
    // _exit: the host's static destructors and atexit handlers are not the supervisor's.
    ::_exit(internal::RunSupervisor(argv[2]));
  }
  supervisor_host.store(true);
}

absl::StatusOr<std::unique_ptr<Containerizer>> Containerizer::Create(const Options& options) {
  if (!supervisor_host.load()) {
    return absl::FailedPreconditionError(
        "this binary cannot host container supervisors: its main() must call "
        "steward::agent::MaybeRunSupervisor(argc, argv) first");
  }
  if (options.runtime_dir.empty() || options.runtime_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("runtime_dir '", options.runtime_dir, "' is not an absolute path"));
  }
  // The parent cgroup's name follows the container id rules (one safe path component).
  if (!internal::ValidateContainerId(options.cgroup_name).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid cgroup_name '", options.cgroup_name,
                     "': must be 1 to 128 characters from [A-Za-z0-9_.-], and not '.' or '..'"));
  }
  switch (options.isolation) {
    case Isolation::kAuto:
    case Isolation::kCgroupsV2:
    case Isolation::kCgroupsV1:
    case Isolation::kNone:
      break;
    default:
      return absl::InvalidArgumentError("unknown isolation");
  }
  if (absl::Status status = internal::MakeDirectories(options.runtime_dir, 0700); !status.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create runtime_dir: ", status.message()));
  }
  internal::UniqueFd self(internal::PidfdOpen(::getpid()));
  if (!self.valid()) {
    return internal::ErrnoError(absl::StatusCode::kFailedPrecondition,
                                "pidfd_open (needs Linux 5.3 or later)", errno);
  }

  std::unique_ptr<internal::CgroupIsolator> cgroups;
  std::string summary;
  switch (options.isolation) {
    case Isolation::kCgroupsV2:
    case Isolation::kCgroupsV1: {
      auto isolator = internal::CgroupIsolator::Create(
          options.isolation == Isolation::kCgroupsV2 ? 2 : 1, options.cgroup_name);
      if (!isolator.ok()) return isolator.status();
      cgroups = *std::move(isolator);
      break;
    }
    case Isolation::kAuto: {
      auto v2 = internal::CgroupIsolator::Create(2, options.cgroup_name);
      if (v2.ok()) {
        cgroups = *std::move(v2);
        break;
      }
      auto v1 = internal::CgroupIsolator::Create(1, options.cgroup_name);
      if (v1.ok()) {
        cgroups = *std::move(v1);
        break;
      }
      summary = absl::StrCat("none: no usable cgroup controllers; ", kNoLimits, " (",
                             v2.status().message(), "; ", v1.status().message(), ")");
      break;
    }
    case Isolation::kNone:
      summary = absl::StrCat("none: isolation disabled; ", kNoLimits);
      break;
  }
  if (cgroups != nullptr) summary = cgroups->Summary();
  return std::unique_ptr<Containerizer>(std::make_unique<internal::LinuxContainerizer>(
      options.runtime_dir, std::move(cgroups), std::move(summary)));
}

}  // namespace steward::agent
