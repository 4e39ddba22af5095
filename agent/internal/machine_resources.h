// The agent's total resources when --resources does not give them, detected as Mesos does:
// cpus from the online processors; mem = total memory minus 1 GiB, but at least half of it;
// disk = the size of work_dir's file system minus 10 GiB, but at least half of it; ports
// [31000-32000].
//
// Thread safety: thread-safe.
#ifndef STEWARD_AGENT_INTERNAL_MACHINE_RESOURCES_H_
#define STEWARD_AGENT_INTERNAL_MACHINE_RESOURCES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace steward::agent::internal {

struct MachineTotals {
  int64_t cpus = 0;
  uint64_t memory_bytes = 0;      // Physical memory.
  uint64_t filesystem_bytes = 0;  // Of the file system holding the probed directory.
};

// Reads the machine's totals; `directory` must exist. Internal with the reason on failure.
absl::StatusOr<MachineTotals> ProbeMachine(const std::string& directory);

// Mesos's defaults from the totals, in the resource text notation (mem and disk in MB):
// "cpus:4;mem:15000;disk:90000;ports:[31000-32000]". Only the resources whose argument is true
// are produced, in this order.
std::string DefaultResourceText(const MachineTotals& totals, bool cpus, bool mem, bool disk,
                                bool ports);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_MACHINE_RESOURCES_H_
