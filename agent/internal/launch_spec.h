// Checking a ContainerSpec and turning it into the container.pb record the supervisor runs.
// Pure functions; thread-safe.
#ifndef STEWARD_AGENT_INTERNAL_LAUNCH_SPEC_H_
#define STEWARD_AGENT_INTERNAL_LAUNCH_SPEC_H_

#include <string_view>

#include "absl/status/status.h"
#include "agent/containerizer.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {

// The PATH of a task that does not set its own.
inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// InvalidArgument unless `id` matches [A-Za-z0-9_.-]{1,128} and is not "." or "..".
absl::Status ValidateContainerId(std::string_view id);

// InvalidArgument, naming the field, for a bad id, a sandbox that is not an absolute path, an
// empty command, an environment variable name that is empty or contains '=', a NUL byte in
// any string, or a cpu amount that is negative or not finite.
absl::Status ValidateSpec(const ContainerSpec& spec);

// The record for a valid spec (cgroups not yet filled in): /bin/sh -c `command` or
// `command` with `arguments`, and the environment PATH, HOME and MESOS_SANDBOX overridden by
// the spec's variables (the last of several with one name wins).
checkpoint::Container MakeContainerRecord(const ContainerSpec& spec);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_LAUNCH_SPEC_H_
