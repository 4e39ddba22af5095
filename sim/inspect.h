// steward-sim inspect: what is in a trace or a scenario, without simulating it.
#ifndef STEWARD_SIM_INSPECT_H_
#define STEWARD_SIM_INSPECT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/config.h"
#include "traces/workload.h"

namespace steward::sim {

// Reads the whole trace (streaming) and describes it: machines and their total capacity,
// task count, submit time span, durations, total demand, distinct grouping keys, and what
// the reader skipped.
absl::StatusOr<std::string> InspectTrace(const std::string& format,
                                         const std::vector<std::string>& paths,
                                         const traces::ReadOptions& options);

// Describes a scenario: its agents, roles, frameworks and task groups, and each trace source
// as InspectTrace does.
absl::StatusOr<std::string> InspectScenario(const SimConfig& config);

// True if `path` starts with the native trace magic.
bool IsNativeTrace(const std::string& path);

}  // namespace steward::sim

#endif  // STEWARD_SIM_INSPECT_H_
