// ReferenceAllocator, part 3: read access and the cache verification used by tests.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/reference_util.h"
#include "allocator/reference.h"

namespace steward::allocator {

using reference_internal::AddTo;
using reference_internal::Describe;
using reference_internal::Invalid;
using reference_internal::NotFound;
using reference_internal::ScalarMap;
using reference_internal::ScalarSums;

absl::StatusOr<Resources> ReferenceAllocator::Total(AgentId agent) const {
  const AgentState* state = LiveAgent(agent);
  if (state == nullptr) return NotFound("agent", agent.value());
  return state->total;
}

absl::StatusOr<Resources> ReferenceAllocator::Free(AgentId agent) const {
  const AgentState* state = LiveAgent(agent);
  if (state == nullptr) return NotFound("agent", agent.value());
  return state->free;
}

absl::StatusOr<Resources> ReferenceAllocator::Allocated(AgentId agent) const {
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  Resources sum;
  for (auto it = allocations_.lower_bound(AllocationKey(agent, FrameworkId(0), RoleId(0)));
       it != allocations_.end() && std::get<0>(it->first) == agent; ++it) {
    MustOk(sum.Add(it->second));
  }
  return sum;
}

absl::StatusOr<Resources> ReferenceAllocator::AllocatedTo(FrameworkId framework, AgentId agent,
                                                          RoleId role) const {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  if (!RoleExists(role)) return NotFound("role", role.value());
  auto it = allocations_.find(AllocationKey(agent, framework, role));
  return it == allocations_.end() ? Resources() : it->second;
}

absl::StatusOr<ResourceQuantities> ReferenceAllocator::Consumption(RoleId role) const {
  if (!RoleExists(role)) return NotFound("role", role.value());
  ResourceQuantities quantities;
  for (const auto& [name, amount] : roles_.nodes[role.value()].consumption) {
    quantities.Set(name, amount);
  }
  return quantities;
}

absl::StatusOr<Quota> ReferenceAllocator::GetQuota(RoleId role) const {
  if (!RoleExists(role)) return NotFound("role", role.value());
  return roles_.nodes[role.value()].quota;
}

absl::StatusOr<double> ReferenceAllocator::RoleShare(RoleId role) const {
  if (!RoleExists(role)) return NotFound("role", role.value());
  const RoleNode& node = roles_.nodes[role.value()];
  return Share(node.consumption) / node.weight;
}

absl::StatusOr<double> ReferenceAllocator::FrameworkShare(FrameworkId framework,
                                                          RoleId role) const {
  if (absl::Status status = CheckSubscription(framework, role); !status.ok()) return status;
  auto it = framework_allocated_.find({framework, role});
  return it == framework_allocated_.end() ? 0.0 : Share(it->second);
}

std::vector<AgentId> ReferenceAllocator::Agents() const {
  std::vector<AgentId> ids;
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    if (!agents_[a].removed) ids.push_back(AgentId(a));
  }
  return ids;
}

std::vector<FrameworkId> ReferenceAllocator::Frameworks() const {
  std::vector<FrameworkId> ids;
  for (uint32_t f = 0; f < frameworks_.size(); ++f) {
    if (!frameworks_[f].removed) ids.push_back(FrameworkId(f));
  }
  return ids;
}

absl::StatusOr<std::string> ReferenceAllocator::AgentName(AgentId agent) const {
  const AgentState* state = LiveAgent(agent);
  if (state == nullptr) return NotFound("agent", agent.value());
  return state->name;
}

absl::StatusOr<std::string> ReferenceAllocator::FrameworkName(FrameworkId framework) const {
  const FrameworkState* state = LiveFramework(framework);
  if (state == nullptr) return NotFound("framework", framework.value());
  return state->name;
}

// ---------------------------------------------------------------------------------------------
// Cache verification.

absl::Status ReferenceAllocator::CheckCaches() const {
  auto mismatch = [](const std::string& what) {
    return absl::InternalError("cache mismatch: " + what);
  };
  ScalarMap total;
  ScalarMap available;
  std::vector<ScalarMap> self_reserved(roles_.nodes.size());
  std::vector<ScalarMap> self_allocated(roles_.nodes.size());
  std::map<std::pair<FrameworkId, RoleId>, ScalarMap> by_framework;
  std::vector<Resources> allocated_on(agents_.size());
  for (const auto& [key, resources] : allocations_) {
    const auto& [agent, framework, role] = key;
    if (LiveAgent(agent) == nullptr || LiveFramework(framework) == nullptr || !RoleExists(role) ||
        resources.empty()) {
      return mismatch("stale or empty allocation");
    }
    MustOk(allocated_on[agent.value()].Add(resources));
    for (const auto& [name, amount] : ScalarSums(resources)) {
      AddTo(self_allocated[role.value()], name, amount);
      AddTo(by_framework[{framework, role}], name, amount);
    }
  }
  for (uint32_t a = 0; a < agents_.size(); ++a) {
    const AgentState& agent = agents_[a];
    if (agent.removed) continue;
    Resources sum = agent.free;
    MustOk(sum.Add(allocated_on[a]));
    if (sum != agent.total) return mismatch(Describe("agent", AgentId(a)) + " free+allocated");
    if (!agent.total.Reserved().Contains(agent.dynamic)) return mismatch("dynamic reservations");
    for (const auto& [name, amount] : ScalarSums(agent.total)) AddTo(total, name, amount);
    for (const Resource& entry : agent.free.entries()) {
      if (entry.kind != ResourceKind::kScalar) continue;
      if (!entry.unreserved()) {
        AddTo(self_reserved[roles_.Find(entry.reservation)->value()], entry.name, entry.scalar);
      } else if (agent.active) {
        AddTo(available, entry.name, entry.scalar);
      }
    }
  }
  if (total != cluster_total_) return mismatch("cluster total");
  if (available != available_) return mismatch("available headroom");
  if (by_framework != framework_allocated_) return mismatch("framework allocations");
  std::vector<ScalarMap> consumption(roles_.nodes.size());
  for (size_t i = roles_.nodes.size(); i-- > 0;) {
    const RoleNode& node = roles_.nodes[i];
    for (const ScalarMap* part : {&self_allocated[i], &self_reserved[i]}) {
      for (const auto& [name, amount] : *part) AddTo(consumption[i], name, amount);
    }
    if (node.parent.valid()) {
      for (const auto& [name, amount] : consumption[i]) {
        AddTo(consumption[node.parent.value()], name, amount);
      }
    }
    if (self_allocated[i] != node.self_allocated || self_reserved[i] != node.self_reserved ||
        consumption[i] != node.consumption) {
      return mismatch("role \"" + node.path + "\"");
    }
  }
  return absl::OkStatus();
}

}  // namespace steward::allocator
