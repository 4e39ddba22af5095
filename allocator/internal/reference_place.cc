// ReferenceAllocator, part 2: direct placement (the PLACE paragraph of allocator/allocator.h).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/reference_util.h"
#include "allocator/reference.h"

namespace steward::allocator {

using reference_internal::Describe;
using reference_internal::Get;
using reference_internal::Invalid;
using reference_internal::MilliScalar;
using reference_internal::NotFound;
using reference_internal::ScalarOf;
using reference_internal::Text;

absl::Status ReferenceAllocator::ValidateRequest(const TaskRequest& request) const {
  if (request.demand.empty()) return Invalid("task demand must not be empty");
  if (request.demand.Scalars() != request.demand || !request.demand.Reserved().empty()) {
    return Invalid("task demand " + Text(request.demand) + " must be unreserved scalars only");
  }
  return CheckSubscription(request.framework, request.role);
}

// Whether the demand fits on the agent for the role whose path is `role_path`: per name, the
// free pools reserved for the path take min(d, pools) and the free unreserved pool the rest u.
// (Which pool of the path gives how much does not change u; Take decides that.)
void ReferenceAllocator::FitOn(const AgentState& agent, std::string_view role_path,
                               const Resources& demand, Fit& fit) const {
  fit.fits = false;
  fit.usable.clear();
  fit.unreserved.clear();
  for (const Resource& want : demand.entries()) {
    int64_t pools = 0;
    int64_t unreserved = 0;
    for (const Resource& entry : agent.free.entries()) {
      if (entry.name != want.name || entry.kind != ResourceKind::kScalar) continue;
      if (entry.unreserved()) {
        unreserved = entry.scalar;
      } else if (IsSelfOrAncestor(entry.reservation, role_path)) {
        pools += entry.scalar;
      }
    }
    const int64_t u = std::max<int64_t>(0, want.scalar - pools);
    if (u > unreserved) return;
    fit.usable.push_back(pools + unreserved);
    fit.unreserved.push_back(u);
  }
  fit.fits = true;
}

// What placing the demand takes on the agent (which must fit it): the pools reserved for the
// role's path nearest first (the role, its parent, ...), then the unreserved pool.
Resources ReferenceAllocator::Take(const AgentState& agent, RoleId role,
                                   const Resources& demand) const {
  Resources take;
  for (const Resource& want : demand.entries()) {
    int64_t remaining = want.scalar;
    for (RoleId id : PathOf(role)) {
      const std::string& reservation = roles_.nodes[id.value()].path;
      const int64_t taken = std::min(remaining, ScalarOf(agent.free, want.name, reservation));
      if (taken > 0) MustOk(take.Add(MilliScalar(want.name, reservation, taken)));
      remaining -= taken;
    }
    if (remaining > 0) MustOk(take.Add(MilliScalar(want.name, "", remaining)));
  }
  return take;
}

PlacementDecision ReferenceAllocator::TryPlace(const TaskRequest& request, PlacementPolicy policy,
                                               const Scalars& surplus) const {
  const FrameworkState& framework = frameworks_[request.framework.value()];
  const std::string& role_path = roles_.nodes[request.role.value()].path;
  const std::vector<Resource>& demand = request.demand.entries();
  bool held_for_headroom = false;
  bool over_limit = false;
  bool fits_on_gpu_agent = false;
  // Per demanded name: the limit headroom, and the unmet guarantee the unreserved part may
  // use before it has to come out of the surplus.
  std::vector<int64_t> max_unmet;
  for (const Resource& want : demand) max_unmet.push_back(PathMaxUnmet(request.role, want.name));
  std::optional<AgentId> best;
  double best_score = 0;
  Fit fit;
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    const AgentState& agent = agents_[a];
    if (agent.removed || !agent.active) continue;
    FitOn(agent, role_path, request.demand, fit);
    if (!fit.fits) continue;
    if (agent.has_gpus && !framework.gpu_capable) {
      fits_on_gpu_agent = true;
      continue;
    }
    const bool limit_ok = WithinLimits(request.role, Take(agent, request.role, request.demand));
    bool headroom_ok = true;
    for (size_t i = 0; i < demand.size(); ++i) {
      const int64_t u = fit.unreserved[i];
      if (u - std::min(u, max_unmet[i]) > Get(surplus, demand[i].name)) headroom_ok = false;
    }
    if (!limit_ok) {
      over_limit = true;
      continue;
    }
    if (!headroom_ok) {
      held_for_headroom = true;
      continue;
    }
    double score = 0;
    for (size_t i = 0; i < demand.size(); ++i) {
      const int64_t free = fit.usable[i];
      const int64_t want = demand[i].scalar;
      const auto cap = static_cast<double>(agent.total.ScalarMilli(demand[i].name));
      if (policy == PlacementPolicy::kDotProduct) {
        score += (static_cast<double>(want) / cap) * (static_cast<double>(free) / cap);
      } else {
        score += static_cast<double>(free - want) / cap;
      }
    }
    bool better = !best.has_value();
    if (policy == PlacementPolicy::kBestFit) better = better || score < best_score;
    if (policy == PlacementPolicy::kWorstFit || policy == PlacementPolicy::kDotProduct) {
      better = better || score > best_score;
    }
    if (better) {
      best = AgentId(a);
      best_score = score;
    }
    if (policy == PlacementPolicy::kFirstFit) break;
  }

  PlacementDecision decision;
  if (!best) {
    decision.reason = held_for_headroom   ? Reason::kHeldForHeadroom
                      : over_limit        ? Reason::kQuotaLimit
                      : fits_on_gpu_agent ? Reason::kMissingGpuCapability
                                          : Reason::kInsufficientResources;
    return decision;
  }
  decision.agent = *best;
  decision.resources = Take(agents_[best->value()], request.role, request.demand);
  return decision;
}

absl::StatusOr<std::vector<PlacementDecision>> ReferenceAllocator::Place(
    std::span<const TaskRequest> requests, PlacementPolicy policy) {
  for (const TaskRequest& request : requests) {
    if (absl::Status status = ValidateRequest(request); !status.ok()) return status;
  }
  ++cycle_;
  std::vector<PlacementDecision> decisions(requests.size());
  std::map<FrameworkId, std::deque<size_t>> queues;  // open requests per framework, FIFO
  for (size_t i = 0; i < requests.size(); ++i) {
    if (frameworks_[requests[i].framework.value()].active) {
      queues[requests[i].framework].push_back(i);
    } else {
      decisions[i].reason = Reason::kFrameworkInactive;
    }
  }
  for (uint64_t step = 0; !queues.empty(); ++step) {
    const std::vector<Client> order = Order(step);
    const Scalars surplus = Surplus();
    // Tier 1: head requests demanding a name with unmet guarantee on their role's path.
    std::optional<FrameworkId> pick;
    for (int tier = 1; tier <= 2 && !pick; ++tier) {
      for (const Client& client : order) {
        auto queue = queues.find(client.framework);
        if (queue == queues.end()) continue;
        const TaskRequest& head = requests[queue->second.front()];
        if (head.role != client.role) continue;
        if (tier == 1 && !PathHasUnmetFor(head.role, head.demand)) continue;
        pick = client.framework;
        break;
      }
    }
    // Every open framework is in the order under its head request's role.
    MustOk(pick ? absl::OkStatus() : absl::InternalError("no framework to place for"));
    auto queue = queues.find(*pick);
    const size_t index = queue->second.front();
    queue->second.pop_front();
    PlacementDecision decision = TryPlace(requests[index], policy, surplus);
    if (decision.placed()) {
      SubtractFree(decision.agent, decision.resources);
      AddAllocation(*pick, decision.agent, requests[index].role, decision.resources);
    } else {
      for (size_t behind : queue->second) decisions[behind].reason = Reason::kQueuedBehind;
      queue->second.clear();
    }
    decisions[index] = std::move(decision);
    if (queue->second.empty()) queues.erase(queue);
  }
  return decisions;
}

}  // namespace steward::allocator
