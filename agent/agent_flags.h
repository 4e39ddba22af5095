// steward-agent's command line (Mesos flag names; see DESIGN.md "Daemon contracts"):
//
//   steward-agent --master=HOST:PORT --work_dir=DIR [--ip=IP] [--port=5051]
//       [--resources='cpus:2;mem:1024;disk:1024;ports:[31000-32000]'] [--attributes='rack:r1']
//       [--hostname=NAME] [--isolation=auto|cgroups/v2|cgroups/v1|none]
//       [--status_update_retry_interval=10secs] [--executor_shutdown_grace_period=5secs]
//       [--executor_reregistration_timeout=2secs]
//       [--registration_backoff_factor=1secs] [--runtime_dir=DIR] [--cgroups_root=steward]
//       [--logging_level=INFO|WARNING|ERROR]
//
// Every flag can also come from STEWARD_<NAME>. Resources missing from --resources (cpus,
// mem, disk, ports) are detected from the machine (agent/internal/machine_resources.h). The
// reported hostname defaults to --ip, or to the machine's name when --ip is 0.0.0.0.
#ifndef STEWARD_AGENT_AGENT_FLAGS_H_
#define STEWARD_AGENT_AGENT_FLAGS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent.h"
#include "agent/containerizer.h"
#include "common/logging.h"

namespace steward::agent {

struct AgentConfig {
  bool help = false;
  std::string usage;  // The --help text.
  AgentOptions agent;
  Containerizer::Options containerizer;
  common::LogSeverity logging_level = common::LogSeverity::INFO;
};

// Parses argv and the environment (`env` replaces the process environment when given: tests).
// InvalidArgument naming the flag for anything malformed: unknown flags, a missing --master or
// --work_dir, a --master that is not HOST:PORT, bad resources or attributes, an unknown
// isolation, a non-positive retry interval, an --executor_reregistration_timeout that is not
// positive or is over 15secs. The work directory is created if missing (its
// file system size is needed for the disk default); Internal if that fails.
absl::StatusOr<AgentConfig> ParseAgentFlags(
    int argc, const char* const* argv,
    const std::optional<std::map<std::string, std::string>>& env = std::nullopt);

}  // namespace steward::agent

#endif  // STEWARD_AGENT_AGENT_FLAGS_H_
