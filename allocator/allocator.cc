#include "allocator/allocator.h"

#include "absl/strings/str_cat.h"

namespace steward::allocator {

std::vector<Resources> AllocatorOptions::DefaultMinAllocatable() {
  std::vector<Resources> alternatives;
  alternatives.push_back(*Resources::Scalar("cpus", 0.01));
  alternatives.push_back(*Resources::Scalar("mem", 32));
  return alternatives;
}

absl::Status AllocatorOptions::Validate() const {
  if (allocation_shards < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("allocation_shards must be at least 1, got ", allocation_shards));
  }
  if (allocation_round_agents < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("allocation_round_agents must be at least 1, got ", allocation_round_agents));
  }
  return absl::OkStatus();
}

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kNone:
      return "none";
    case Reason::kFrameworkInactive:
      return "framework_inactive";
    case Reason::kRoleSuppressed:
      return "role_suppressed";
    case Reason::kAgentInactive:
      return "agent_inactive";
    case Reason::kMissingGpuCapability:
      return "missing_gpu_capability";
    case Reason::kFiltered:
      return "filtered";
    case Reason::kQuotaLimit:
      return "quota_limit";
    case Reason::kHeldForHeadroom:
      return "held_for_headroom";
    case Reason::kBelowMinAllocatable:
      return "below_min_allocatable";
    case Reason::kInsufficientResources:
      return "insufficient_resources";
    case Reason::kQueuedBehind:
      return "queued_behind";
  }
  return "unknown";
}

}  // namespace steward::allocator
