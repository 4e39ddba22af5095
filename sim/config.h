// A scenario file checked and converted into what the simulator runs. Every check points at
// the file as "file:line:col: message" (through the SourceMap of the parsed file).
#ifndef STEWARD_SIM_CONFIG_H_
#define STEWARD_SIM_CONFIG_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "allocator/allocator.h"
#include "allocator/resources.h"
#include "proto/sim/scenario.pb.h"
#include "sim/proto_file.h"
#include "traces/synthetic.h"
#include "traces/workload.h"

namespace steward::sim {

enum class Mode { kDirect, kOffer };

inline constexpr double kNever = std::numeric_limits<double>::infinity();
inline constexpr double kDefaultRefuseSeconds = 5;       // Mesos's default filter
inline constexpr double kDefaultAllocationInterval = 1;  // Mesos's default batch interval
inline constexpr double kDefaultSampleInterval = 60;

struct AgentConfig {
  std::string name;
  allocator::Resources total;
  std::vector<std::pair<std::string, std::string>> attributes;
  double added = 0;
  double removed = kNever;
};

struct RoleConfig {
  std::string name;
  std::optional<double> weight;
  std::optional<allocator::Quota> quota;
};

// How a framework answers offers in OFFER mode.
struct OfferBehaviour {
  int tasks_per_offer = 0;  // 0 = as many as fit
  double refuse_seconds = kDefaultRefuseSeconds;
  double decision_seconds = 0;
};

struct TaskGroupConfig {
  allocator::Resources demand;
  int64_t count = 1;
  double submit = 0;
  double duration = 0;  // 0 = until the end
};

struct FrameworkConfig {
  std::string name;
  std::string role = "*";
  std::vector<TaskGroupConfig> groups;
  OfferBehaviour behaviour;
  bool gpu_capable = false;
};

struct TraceConfig {
  std::string format;
  std::vector<std::string> paths;  // resolved against the scenario's folder
  traces::GroupKey framework_by = traces::GroupKey::kUser;
  bool cluster_from_trace = false;
  traces::ReadOptions read;
  std::string role = "*";
  OfferBehaviour behaviour;
  double time_offset = 0;
  // Format "synthetic" only: the generator's options; without an explicit seed it takes the
  // scenario's.
  traces::SyntheticOptions synthetic;
  bool synthetic_seed_set = false;
  std::string where;  // "file:line:col" of the source, for messages
};

struct SimConfig {
  std::string name;
  std::vector<AgentConfig> agents;
  std::vector<RoleConfig> roles;
  std::vector<FrameworkConfig> frameworks;
  std::vector<TraceConfig> traces;
  double duration = 0;  // 0 = until all work is done
  Mode mode = Mode::kOffer;
  allocator::SorterKind sorter = allocator::SorterKind::kDrf;
  allocator::PlacementPolicy placement = allocator::PlacementPolicy::kFirstFit;
  double allocation_interval = kDefaultAllocationInterval;
  uint64_t seed = 0;
  double sample_interval = kDefaultSampleInterval;
};

// Checks `scenario` (parsed from the file `where` describes) and converts it. Relative trace
// paths are resolved against `base_dir`. `seed`, when given, replaces options.seed.
absl::StatusOr<SimConfig> BuildConfig(const Scenario& scenario, const SourceMap& where,
                                      const std::string& base_dir,
                                      std::optional<uint64_t> seed = std::nullopt);

// ParseProtoFile + BuildConfig.
absl::StatusOr<SimConfig> LoadScenario(const std::string& path,
                                       std::optional<uint64_t> seed = std::nullopt);

std::string_view ModeName(Mode mode);
std::string_view SorterName(allocator::SorterKind sorter);
std::string_view PlacementName(allocator::PlacementPolicy placement);

}  // namespace steward::sim

#endif  // STEWARD_SIM_CONFIG_H_
