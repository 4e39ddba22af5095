// Engine: explanations. Computed on demand from the current state with the rules of the stage
// that would serve the role (stage one while its path owes a guarantee, else stage two), so
// the allocation path pays nothing for them.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allocator/engine.h"

namespace steward::allocator {

absl::StatusOr<std::vector<RoleExplanation>> Engine::Explain(FrameworkId framework,
                                                             double now) const {
  absl::StatusOr<uint32_t> checked = CheckFramework(framework);
  if (!checked.ok()) return checked.status();
  const Framework& fw = frameworks_[*checked];
  std::vector<RoleExplanation> out;
  Candidate candidate;
  for (const FrameworkRole& entry : fw.roles) {
    std::map<Reason, int> counts;
    for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
      const Agent& host = agents_[agent];
      if (!host.live) continue;
      Reason reason = Reason::kNone;
      Reason why = Reason::kInsufficientResources;
      if (!fw.active) {
        reason = Reason::kFrameworkInactive;
      } else if (entry.suppressed) {
        reason = Reason::kRoleSuppressed;
      } else if (!host.active) {
        reason = Reason::kAgentInactive;
      } else if (host.has_gpus && !fw.gpu_capable) {
        reason = Reason::kMissingGpuCapability;
      } else if (!(PathHasUnmet(entry.role) &&
                   BuildCandidate(entry.role, agent, 1, &candidate, &why)) &&
                 !BuildCandidate(entry.role, agent, 2, &candidate, &why)) {
        reason = why;
      } else if (auto filter = fw.filters.find(agent); filter != fw.filters.end() &&
                                                       filter->second.expiry > now &&
                                                       Filtered(*checked, agent, candidate)) {
        reason = Reason::kFiltered;
      } else if (!MeetsMinAllocatable(fw, candidate)) {
        reason = why == Reason::kInsufficientResources ? Reason::kBelowMinAllocatable : why;
      }
      ++counts[reason];
    }
    RoleExplanation explanation;
    explanation.role = RoleId(entry.role);
    for (const auto& [reason, count] : counts) {
      explanation.agents_by_reason.emplace_back(reason, count);
    }
    int offerable = counts.count(Reason::kNone) ? counts[Reason::kNone] : 0;
    int total = 0;
    std::vector<std::string> parts;
    for (const auto& [reason, count] : counts) {
      total += count;
      if (reason != Reason::kNone)
        parts.push_back(absl::StrCat(count, " ", internal::Av(ReasonName(reason))));
    }
    explanation.summary =
        absl::StrCat("framework '", fw.name, "' in role '", roles_[entry.role].path,
                     "': ", offerable, " of ", total, " agents offerable now",
                     parts.empty() ? "" : "; not offered: ", absl::StrJoin(parts, ", "));
    out.push_back(std::move(explanation));
  }
  return out;
}

}  // namespace steward::allocator
