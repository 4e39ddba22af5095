// ReferenceAllocator, part 1: state changes, ordering and Allocate. Direct placement is in
// allocator/internal/reference_place.cc, read access and CheckCaches in
// allocator/internal/reference_read.cc.
#include "allocator/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/reference_util.h"
#include "allocator/sort_key.h"

namespace steward::allocator {

using reference_internal::AddTo;
using reference_internal::Describe;
using reference_internal::Get;
using reference_internal::Invalid;
using reference_internal::kUnlimited;
using reference_internal::MilliScalar;
using reference_internal::NotFound;
using reference_internal::ScalarMap;
using reference_internal::ScalarOf;
using reference_internal::ScalarSums;
using reference_internal::Text;

// ---------------------------------------------------------------------------------------------
// Roles, lookups.

ReferenceAllocator::ReferenceAllocator(AllocatorOptions options) : options_(std::move(options)) {}

RoleId ReferenceAllocator::RoleTable::Intern(std::string_view path) {
  if (std::optional<RoleId> found = Find(path)) return *found;
  RoleId parent;
  if (size_t slash = path.rfind('/'); slash != std::string_view::npos) {
    parent = Intern(path.substr(0, slash));
  }
  const RoleId id(static_cast<uint32_t>(nodes.size()));
  RoleNode node;
  node.path = std::string(path);
  node.parent = parent;
  nodes.push_back(std::move(node));
  by_path.emplace(std::string(path), id);
  if (parent.valid()) {
    nodes[parent.value()].children.push_back(id);
  } else {
    top_level.push_back(id);
  }
  return id;
}

std::optional<RoleId> ReferenceAllocator::RoleTable::Find(std::string_view path) const {
  auto it = by_path.find(path);
  if (it == by_path.end()) return std::nullopt;
  return it->second;
}

const ReferenceAllocator::AgentState* ReferenceAllocator::LiveAgent(AgentId agent) const {
  if (!agent.valid() || agent.value() >= agents_.size()) return nullptr;
  const AgentState& state = agents_[agent.value()];
  return state.removed ? nullptr : &state;
}

const ReferenceAllocator::FrameworkState* ReferenceAllocator::LiveFramework(
    FrameworkId framework) const {
  if (!framework.valid() || framework.value() >= frameworks_.size()) return nullptr;
  const FrameworkState& state = frameworks_[framework.value()];
  return state.removed ? nullptr : &state;
}

bool ReferenceAllocator::RoleExists(RoleId role) const {
  return role.valid() && role.value() < roles_.nodes.size();
}

std::vector<RoleId> ReferenceAllocator::PathOf(RoleId role) const {
  std::vector<RoleId> path;
  for (RoleId node = role; node.valid(); node = roles_.nodes[node.value()].parent) {
    path.push_back(node);
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// The four functions that change free pools and allocations, keeping the caches current.

void ReferenceAllocator::AddToRolePath(RoleId role, std::string_view name, int64_t delta) {
  for (RoleId node : PathOf(role)) AddTo(roles_.nodes[node.value()].consumption, name, delta);
}

void ReferenceAllocator::AddFree(AgentId agent, const Resources& resources) {
  AgentState& state = agents_[agent.value()];
  MustOk(state.free.Add(resources));
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    if (entry.unreserved()) {
      if (state.active) AddTo(available_, entry.name, entry.scalar);
      continue;
    }
    const RoleId role = *roles_.Find(entry.reservation);
    AddTo(roles_.nodes[role.value()].self_reserved, entry.name, entry.scalar);
    AddToRolePath(role, entry.name, entry.scalar);
  }
}

void ReferenceAllocator::SubtractFree(AgentId agent, const Resources& resources) {
  AgentState& state = agents_[agent.value()];
  MustOk(state.free.Subtract(resources));
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    if (entry.unreserved()) {
      if (state.active) AddTo(available_, entry.name, -entry.scalar);
      continue;
    }
    const RoleId role = *roles_.Find(entry.reservation);
    AddTo(roles_.nodes[role.value()].self_reserved, entry.name, -entry.scalar);
    AddToRolePath(role, entry.name, -entry.scalar);
  }
}

void ReferenceAllocator::AddAllocation(FrameworkId framework, AgentId agent, RoleId role,
                                       const Resources& resources) {
  if (resources.empty()) return;
  MustOk(allocations_[AllocationKey(agent, framework, role)].Add(resources));
  ScalarMap& by_framework = framework_allocated_[{framework, role}];
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    AddTo(roles_.nodes[role.value()].self_allocated, entry.name, entry.scalar);
    AddToRolePath(role, entry.name, entry.scalar);
    AddTo(by_framework, entry.name, entry.scalar);
  }
  if (by_framework.empty()) framework_allocated_.erase({framework, role});
}

void ReferenceAllocator::SubtractAllocation(FrameworkId framework, AgentId agent, RoleId role,
                                            const Resources& resources) {
  if (resources.empty()) return;
  auto it = allocations_.find(AllocationKey(agent, framework, role));
  MustOk(it == allocations_.end() ? absl::InternalError("no allocation")
                                  : it->second.Subtract(resources));
  if (it->second.empty()) allocations_.erase(it);
  ScalarMap& by_framework = framework_allocated_[{framework, role}];
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    AddTo(roles_.nodes[role.value()].self_allocated, entry.name, -entry.scalar);
    AddToRolePath(role, entry.name, -entry.scalar);
    AddTo(by_framework, entry.name, -entry.scalar);
  }
  if (by_framework.empty()) framework_allocated_.erase({framework, role});
}

// ---------------------------------------------------------------------------------------------
// Derived quantities.

ReferenceAllocator::Scalars ReferenceAllocator::Unmet(RoleId role) const {
  const RoleNode& node = roles_.nodes[role.value()];
  Scalars unmet;
  for (const auto& [name, guarantee] : node.quota.guarantee.entries()) {
    const int64_t missing = guarantee - Get(node.consumption, name);
    if (missing > 0) AddTo(unmet, name, missing);
  }
  return unmet;
}

ReferenceAllocator::Scalars ReferenceAllocator::Need(RoleId role) const {
  Scalars children_sum;
  for (RoleId child : roles_.nodes[role.value()].children) {
    for (const auto& [name, amount] : Need(child)) AddTo(children_sum, name, amount);
  }
  Scalars need = Unmet(role);
  for (const auto& [name, amount] : children_sum) {
    need[name] = std::max(Get(need, name), amount);
  }
  return need;
}

ReferenceAllocator::Scalars ReferenceAllocator::Surplus() const {
  Scalars required;
  for (RoleId top : roles_.top_level) {
    for (const auto& [name, amount] : Need(top)) AddTo(required, name, amount);
  }
  Scalars surplus;
  for (const auto& [name, available] : available_) {
    const int64_t left = available - Get(required, name);
    if (left > 0) surplus.emplace(name, left);
  }
  return surplus;
}

bool ReferenceAllocator::AnyUnmetGuarantee() const {
  for (size_t i = 0; i < roles_.nodes.size(); ++i) {
    if (!Unmet(RoleId(static_cast<uint32_t>(i))).empty()) return true;
  }
  return false;
}

bool ReferenceAllocator::PathHasUnmet(RoleId role) const {
  for (RoleId node : PathOf(role)) {
    if (!Unmet(node).empty()) return true;
  }
  return false;
}

bool ReferenceAllocator::PathHasUnmetFor(RoleId role, const Resources& demand) const {
  for (RoleId node : PathOf(role)) {
    const Scalars unmet = Unmet(node);
    for (const Resource& entry : demand.entries()) {
      if (Get(unmet, entry.name) > 0) return true;
    }
  }
  return false;
}

bool ReferenceAllocator::PathGuarantees(RoleId role, std::string_view name) const {
  for (RoleId node : PathOf(role)) {
    if (roles_.nodes[node.value()].quota.guarantee.Get(name) > 0) return true;
  }
  return false;
}

int64_t ReferenceAllocator::PathMaxUnmet(RoleId role, std::string_view name) const {
  int64_t max_unmet = 0;
  for (RoleId node : PathOf(role)) max_unmet = std::max(max_unmet, Get(Unmet(node), name));
  return max_unmet;
}

ReferenceAllocator::PathHeadroom ReferenceAllocator::HeadroomAlong(
    const std::vector<RoleId>& path) const {
  PathHeadroom headroom;
  for (RoleId id : path) {
    const RoleNode& node = roles_.nodes[id.value()];
    std::map<std::string, int64_t, std::less<>>& left = headroom.left.emplace_back();
    for (const auto& [name, limit] : node.quota.limit.entries()) {
      left[name] = std::max<int64_t>(0, limit - Get(node.consumption, name));
    }
  }
  return headroom;
}

int64_t ReferenceAllocator::PathHeadroom::Allowed(size_t below, std::string_view name) const {
  int64_t allowed = kUnlimited;
  for (size_t k = 0; k < below && k < left.size(); ++k) {
    auto it = left[k].find(name);
    if (it != left[k].end()) allowed = std::min(allowed, it->second);
  }
  return allowed;
}

void ReferenceAllocator::PathHeadroom::Consume(size_t below, std::string_view name,
                                               int64_t amount) {
  for (size_t k = 0; k < below && k < left.size(); ++k) {
    auto it = left[k].find(name);
    if (it != left[k].end()) it->second -= amount;
  }
}

bool ReferenceAllocator::WithinLimits(RoleId role, const Resources& take) const {
  for (RoleId id : PathOf(role)) {
    const RoleNode& node = roles_.nodes[id.value()];
    for (const auto& [name, limit] : node.quota.limit.entries()) {
      int64_t delta = 0;
      for (const Resource& entry : take.entries()) {
        if (entry.name != name || entry.kind != ResourceKind::kScalar) continue;
        // Unreserved, or reserved above this node: the consumption here grows.
        if (entry.unreserved() ||
            (IsSelfOrAncestor(entry.reservation, node.path) && entry.reservation != node.path)) {
          delta += entry.scalar;
        }
      }
      if (delta > 0 && Get(node.consumption, name) + delta > limit) return false;
    }
  }
  return true;
}

double ReferenceAllocator::Share(const Scalars& amounts, const Scalars* more) const {
  double share = 0;
  for (const auto& [name, total] : cluster_total_) {
    const int64_t amount = Get(amounts, name) + (more == nullptr ? 0 : Get(*more, name));
    share = std::max(share, static_cast<double>(amount) / static_cast<double>(total));
  }
  return share;
}

// ---------------------------------------------------------------------------------------------
// The hierarchical order.

std::vector<ReferenceAllocator::Client> ReferenceAllocator::Order(uint64_t position) const {
  const size_t role_count = roles_.nodes.size();
  std::vector<std::vector<FrameworkId>> own(role_count);  // live frameworks per role
  for (uint32_t f = 0; f < frameworks_.size(); ++f) {
    if (frameworks_[f].removed) continue;
    for (RoleId role : frameworks_[f].roles) own[role.value()].push_back(FrameworkId(f));
  }
  // Children have larger ids than their parents, so a descending sweep sees every child
  // before its parent.
  std::vector<bool> has_frameworks(role_count, false);
  for (size_t i = role_count; i-- > 0;) {
    if (!own[i].empty()) has_frameworks[i] = true;
    const RoleId parent = roles_.nodes[i].parent;
    if (has_frameworks[i] && parent.valid()) has_frameworks[parent.value()] = true;
  }
  std::vector<Client> order;
  OrderNode(std::nullopt, position, own, has_frameworks, order);
  return order;
}

// Orders the members of `node` (the root when nullopt): real children whose subtree has a
// framework, plus the virtual child holding the node's own frameworks; then walks them.
void ReferenceAllocator::OrderNode(std::optional<RoleId> node, uint64_t position,
                                   const std::vector<std::vector<FrameworkId>>& own,
                                   const std::vector<bool>& has_frameworks,
                                   std::vector<Client>& out) const {
  struct Member {
    bool self;     // the virtual child of `node`
    uint32_t id;   // role id (the node's id for the virtual child) or framework id
    double share;  // DRF key
    uint64_t random;
  };
  const bool random = options_.sorter == SorterKind::kRandom;
  auto before = [random](const Member& a, const Member& b) {
    if (random && a.random != b.random) return a.random < b.random;
    if (!random && a.share != b.share) return a.share < b.share;
    return a.id < b.id;
  };

  std::vector<Member> members;
  const std::vector<RoleId>& children =
      node ? roles_.nodes[node->value()].children : roles_.top_level;
  for (RoleId child : children) {
    if (!has_frameworks[child.value()]) continue;
    const RoleNode& c = roles_.nodes[child.value()];
    members.push_back({false, child.value(), Share(c.consumption) / c.weight,
                       RandomSortKey(options_.seed, cycle_, position, RoleClient(child.value()))});
  }
  if (node && !own[node->value()].empty()) {
    const RoleNode& n = roles_.nodes[node->value()];
    members.push_back({true, node->value(), Share(n.self_allocated, &n.self_reserved) / n.weight,
                       RandomSortKey(options_.seed, cycle_, position, SelfClient(node->value()))});
  }
  std::sort(members.begin(), members.end(), before);

  for (const Member& member : members) {
    if (!member.self) {
      OrderNode(RoleId(member.id), position, own, has_frameworks, out);
      continue;
    }
    std::vector<Member> frameworks;
    for (FrameworkId f : own[member.id]) {
      auto it = framework_allocated_.find({f, RoleId(member.id)});
      frameworks.push_back(
          {false, f.value(), it == framework_allocated_.end() ? 0.0 : Share(it->second),
           RandomSortKey(options_.seed, cycle_, position, FrameworkClient(f.value()))});
    }
    std::sort(frameworks.begin(), frameworks.end(), before);
    for (const Member& f : frameworks) out.push_back({RoleId(member.id), FrameworkId(f.id)});
  }
}

// ---------------------------------------------------------------------------------------------
// Agents.

absl::StatusOr<AgentId> ReferenceAllocator::AddAgent(const AgentInfo& info) {
  if (info.name.empty()) return Invalid("agent name must not be empty");
  for (const Resource& entry : info.total.entries()) {
    if (entry.unreserved()) continue;
    if (absl::Status status = ValidateRolePath(entry.reservation); !status.ok()) return status;
    if (entry.reservation == "*") return Invalid("a reservation cannot be for '*'");
  }
  for (const auto& [key, value] : info.attributes) {
    if (key.empty()) return Invalid("agent attribute with an empty name");
  }
  for (const auto& [name, amount] : ScalarSums(info.total)) {
    if (static_cast<double>(Get(cluster_total_, name) + amount) > kMaxScalarUnits * kMilliPerUnit) {
      return Invalid("the cluster's total of " + name + " would exceed the maximum");
    }
  }
  if (live_agent_names_.contains(info.name)) {
    return absl::AlreadyExistsError("agent \"" + info.name + "\" already exists");
  }
  for (const Resource& entry : info.total.entries()) {
    if (!entry.unreserved()) roles_.Intern(entry.reservation);
  }
  const AgentId id(static_cast<uint32_t>(agents_.size()));
  AgentState state;
  state.name = info.name;
  state.total = info.total;
  state.attributes = info.attributes;
  state.has_gpus = info.total.Has("gpus");
  agents_.push_back(std::move(state));
  live_agent_names_.emplace(info.name, id);
  for (const auto& [name, amount] : ScalarSums(info.total)) AddTo(cluster_total_, name, amount);
  AddFree(id, info.total);
  return id;
}

absl::Status ReferenceAllocator::RemoveAgent(AgentId agent) {
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  std::vector<std::pair<AllocationKey, Resources>> on_agent;
  for (const auto& [key, resources] : allocations_) {
    if (std::get<0>(key) == agent) on_agent.emplace_back(key, resources);
  }
  for (const auto& [key, resources] : on_agent) {
    SubtractAllocation(std::get<1>(key), agent, std::get<2>(key), resources);
    AddFree(agent, resources);
  }
  AgentState& state = agents_[agent.value()];
  SubtractFree(agent, Resources(state.free));
  for (const auto& [name, amount] : ScalarSums(state.total)) AddTo(cluster_total_, name, -amount);
  for (FrameworkState& framework : frameworks_) framework.filters.erase(agent);
  live_agent_names_.erase(state.name);
  state.removed = true;
  state.total = Resources();
  state.dynamic = Resources();
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::ActivateAgent(AgentId agent) {
  return SetAgentActive(agent, true);
}

absl::Status ReferenceAllocator::DeactivateAgent(AgentId agent) {
  return SetAgentActive(agent, false);
}

absl::Status ReferenceAllocator::SetAgentActive(AgentId agent, bool active) {
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  // Re-adding the free pool under the new state keeps available_ right.
  const Resources free = agents_[agent.value()].free;
  SubtractFree(agent, free);
  agents_[agent.value()].active = active;
  AddFree(agent, free);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Frameworks.

absl::StatusOr<FrameworkId> ReferenceAllocator::AddFramework(const FrameworkInfo& info) {
  if (info.name.empty()) return Invalid("framework name must not be empty");
  if (info.roles.empty()) return Invalid("framework \"" + info.name + "\" has no roles");
  std::set<std::string, std::less<>> seen;
  for (const std::string& role : info.roles) {
    if (absl::Status status = ValidateRolePath(role); !status.ok()) return status;
    if (!seen.insert(role).second) return Invalid("duplicate role \"" + role + "\"");
  }
  for (const Resources& alternative : info.min_allocatable) {
    if (alternative.empty()) return Invalid("empty minimum allocatable alternative");
    if (alternative.Scalars() != alternative || !alternative.Reserved().empty()) {
      return Invalid("minimum allocatable " + Text(alternative) +
                     " must be unreserved scalars only");
    }
  }
  if (live_framework_names_.contains(info.name)) {
    return absl::AlreadyExistsError("framework \"" + info.name + "\" already exists");
  }
  FrameworkState state;
  state.name = info.name;
  for (const std::string& role : info.roles) state.roles.push_back(roles_.Intern(role));
  state.gpu_capable = info.gpu_capable;
  state.min_allocatable = info.min_allocatable;
  const FrameworkId id(static_cast<uint32_t>(frameworks_.size()));
  frameworks_.push_back(std::move(state));
  live_framework_names_.emplace(info.name, id);
  return id;
}

absl::Status ReferenceAllocator::RemoveFramework(FrameworkId framework) {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  std::vector<std::pair<AllocationKey, Resources>> owned;
  for (const auto& [key, resources] : allocations_) {
    if (std::get<1>(key) == framework) owned.emplace_back(key, resources);
  }
  for (const auto& [key, resources] : owned) {
    SubtractAllocation(framework, std::get<0>(key), std::get<2>(key), resources);
    AddFree(std::get<0>(key), resources);
  }
  FrameworkState& state = frameworks_[framework.value()];
  live_framework_names_.erase(state.name);
  state.removed = true;
  state.filters.clear();
  state.suppressed.clear();
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::ActivateFramework(FrameworkId framework) {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  frameworks_[framework.value()].active = true;
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::DeactivateFramework(FrameworkId framework) {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  frameworks_[framework.value()].active = false;
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::CheckSubscription(FrameworkId framework, RoleId role) const {
  const FrameworkState* state = LiveFramework(framework);
  if (state == nullptr) return NotFound("framework", framework.value());
  if (!RoleExists(role)) return NotFound("role", role.value());
  if (std::find(state->roles.begin(), state->roles.end(), role) == state->roles.end()) {
    return Invalid(Describe("framework", framework) + " is not subscribed to role \"" +
                   RoleName(role) + "\"");
  }
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::Suppress(FrameworkId framework, RoleId role) {
  if (absl::Status status = CheckSubscription(framework, role); !status.ok()) return status;
  frameworks_[framework.value()].suppressed.insert(role);
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::Revive(FrameworkId framework, RoleId role) {
  if (absl::Status status = CheckSubscription(framework, role); !status.ok()) return status;
  FrameworkState& mutable_state = frameworks_[framework.value()];
  mutable_state.suppressed.erase(role);
  mutable_state.filters.clear();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Roles: weights and quotas.

absl::StatusOr<RoleId> ReferenceAllocator::FindRole(std::string_view path) const {
  if (std::optional<RoleId> id = roles_.Find(path)) return *id;
  return absl::NotFoundError("role \"" + std::string(path) + "\" not found");
}

std::string ReferenceAllocator::RoleName(RoleId role) const {
  return RoleExists(role) ? roles_.nodes[role.value()].path : std::string();
}

absl::Status ReferenceAllocator::SetWeight(std::string_view role, double weight) {
  if (absl::Status status = ValidateRolePath(role); !status.ok()) return status;
  if (!std::isfinite(weight) || weight <= 0) return Invalid("weight must be finite and > 0");
  roles_.nodes[roles_.Intern(role).value()].weight = weight;
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::ValidateQuotas(const RoleTable& table) {
  const size_t count = table.nodes.size();
  // A guarantee above a limit on its own path.
  for (size_t i = 0; i < count; ++i) {
    for (const auto& [name, guarantee] : table.nodes[i].quota.guarantee.entries()) {
      for (RoleId at(static_cast<uint32_t>(i)); at.valid(); at = table.nodes[at.value()].parent) {
        const Quota& quota = table.nodes[at.value()].quota;
        if (quota.limit.Has(name) && guarantee > quota.limit.Get(name)) {
          return Invalid("guarantee of role \"" + table.nodes[i].path + "\" for " + name +
                         " exceeds the limit of role \"" + table.nodes[at.value()].path + "\"");
        }
      }
    }
  }
  // eg(n) = max(G(n), sum of the children's eg) must stay within L(n). Descending ids visit
  // children before parents; eg[i] holds the sum of its children's eg when i is reached.
  std::vector<ScalarMap> eg(count);
  for (size_t i = count; i-- > 0;) {
    const RoleNode& node = table.nodes[i];
    for (const auto& [name, guarantee] : node.quota.guarantee.entries()) {
      if (guarantee > Get(eg[i], name)) AddTo(eg[i], name, guarantee - Get(eg[i], name));
    }
    for (const auto& [name, limit] : node.quota.limit.entries()) {
      if (Get(eg[i], name) > limit) {
        return Invalid("guarantees within role \"" + node.path + "\" need " +
                       FormatMilli(Get(eg[i], name)) + " " + name + ", above its limit of " +
                       FormatMilli(limit));
      }
    }
    if (node.parent.valid()) {
      for (const auto& [name, amount] : eg[i]) AddTo(eg[node.parent.value()], name, amount);
    }
  }
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::SetQuota(std::string_view role, const Quota& quota) {
  if (absl::Status status = ValidateRolePath(role); !status.ok()) return status;
  if (role == "*") return Invalid("role \"*\" cannot have a quota");
  // Validate on a copy of the role tree (the role may not exist yet); commit only if valid.
  RoleTable updated = roles_;
  updated.nodes[updated.Intern(role).value()].quota = quota;
  if (absl::Status status = ValidateQuotas(updated); !status.ok()) return status;
  roles_ = std::move(updated);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Reservations.

absl::Status ReferenceAllocator::Reserve(AgentId agent, std::string_view role,
                                         const Resources& resources) {
  if (absl::Status status = ValidateRolePath(role); !status.ok()) return status;
  if (role == "*") return Invalid("cannot reserve for role \"*\"");
  if (resources.empty()) return Invalid("nothing to reserve");
  if (!resources.Reserved().empty()) {
    return Invalid("resources to reserve must be unreserved: " + Text(resources));
  }
  const AgentState* state = LiveAgent(agent);
  if (state == nullptr) return NotFound("agent", agent.value());
  if (!state->free.Contains(resources)) {
    return absl::FailedPreconditionError(Text(resources) + " is not free and unreserved on " +
                                         Describe("agent", agent));
  }
  // Every existing node on the path ("a", "a/b", ...) that limits a name.
  for (size_t end = 0; end != std::string_view::npos;) {
    end = role.find('/', end + 1);
    const std::string_view prefix = role.substr(0, end);
    const std::optional<RoleId> id = roles_.Find(prefix);
    if (!id) continue;
    const RoleNode& node = roles_.nodes[id->value()];
    for (const auto& [name, limit] : node.quota.limit.entries()) {
      const int64_t amount = resources.ScalarMilli(name);
      if (amount > 0 && Get(node.consumption, name) + amount > limit) {
        return absl::FailedPreconditionError("reserving " + Text(resources) +
                                             " would take role \"" + node.path +
                                             "\" over its limit for " + name);
      }
    }
  }
  roles_.Intern(role);
  const Resources reserved = resources.WithReservation(role);
  SubtractFree(agent, resources);
  AddFree(agent, reserved);
  AgentState& mutable_state = agents_[agent.value()];
  MustOk(mutable_state.total.Subtract(resources));
  MustOk(mutable_state.total.Add(reserved));
  MustOk(mutable_state.dynamic.Add(reserved));
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::Unreserve(AgentId agent, const Resources& resources) {
  if (resources.empty()) return Invalid("nothing to unreserve");
  if (!resources.Unreserved().empty()) {
    return Invalid("resources to unreserve must carry their reservation: " + Text(resources));
  }
  const AgentState* state = LiveAgent(agent);
  if (state == nullptr) return NotFound("agent", agent.value());
  if (!state->free.Contains(resources) || !state->dynamic.Contains(resources)) {
    return absl::FailedPreconditionError(Text(resources) + " is not free and dynamically " +
                                         "reserved on " + Describe("agent", agent));
  }
  const Resources unreserved = resources.WithReservation("");
  SubtractFree(agent, resources);
  AddFree(agent, unreserved);
  AgentState& mutable_state = agents_[agent.value()];
  MustOk(mutable_state.total.Subtract(resources));
  MustOk(mutable_state.total.Add(unreserved));
  MustOk(mutable_state.dynamic.Subtract(resources));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Offers.

absl::Status ReferenceAllocator::Recover(FrameworkId framework, AgentId agent, RoleId role,
                                         const Resources& resources) {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  if (absl::Status status = CheckSubscription(framework, role); !status.ok()) return status;
  auto it = allocations_.find(AllocationKey(agent, framework, role));
  const bool contained =
      it == allocations_.end() ? resources.empty() : it->second.Contains(resources);
  if (!contained) {
    return absl::FailedPreconditionError(
        Text(resources) + " is more than allocated to " + Describe("framework", framework) +
        " on " + Describe("agent", agent) + " under role \"" + RoleName(role) + "\"");
  }
  SubtractAllocation(framework, agent, role, resources);
  AddFree(agent, resources);
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::AddInUse(FrameworkId framework, AgentId agent, RoleId role,
                                          const Resources& resources) {
  if (LiveFramework(framework) == nullptr) return NotFound("framework", framework.value());
  if (LiveAgent(agent) == nullptr) return NotFound("agent", agent.value());
  if (absl::Status status = CheckSubscription(framework, role); !status.ok()) return status;
  if (resources.empty()) return absl::OkStatus();
  const std::string path = RoleName(role);
  for (const Resource& entry : resources.entries()) {
    if (!entry.unreserved() && !IsSelfOrAncestor(entry.reservation, path)) {
      return absl::FailedPreconditionError(Text(resources) + " holds resources reserved for \"" +
                                           entry.reservation + "\", which role \"" + path +
                                           "\" may not use");
    }
  }
  if (!Free(agent)->Contains(resources)) {
    return absl::FailedPreconditionError(Text(resources) + " is not free on " +
                                         Describe("agent", agent));
  }
  SubtractFree(agent, resources);
  AddAllocation(framework, agent, role, resources);
  return absl::OkStatus();
}

absl::Status ReferenceAllocator::Decline(FrameworkId framework, AgentId agent, RoleId role,
                                         const Resources& resources, double refuse_seconds,
                                         double now) {
  if (!std::isfinite(now)) return Invalid("now must be finite");
  if (std::isnan(refuse_seconds) || refuse_seconds < 0) {
    return Invalid("refuse_seconds must be >= 0");
  }
  if (absl::Status status = Recover(framework, agent, role, resources); !status.ok()) {
    return status;
  }
  frameworks_[framework.value()].filters[agent] = Filter{resources, now + refuse_seconds};
  return absl::OkStatus();
}

Resources ReferenceAllocator::Candidate(int stage, const AgentState& agent, RoleId role,
                                        const Scalars& surplus) const {
  if (stage == 1 && !PathHasUnmet(role)) return Resources();
  // Limit headroom left at each node of the path while the candidate takes resources: a pool
  // reserved for path[j] raises the consumption of path[0..j-1] only (it already counts for
  // path[j] and above); unreserved resources raise it everywhere on the path.
  const std::vector<RoleId> path = PathOf(role);
  PathHeadroom headroom = HeadroomAlong(path);
  Resources reserved;
  for (size_t j = 0; j < path.size(); ++j) {  // nearest reservation first
    const std::string& owner = roles_.nodes[path[j].value()].path;
    for (const Resource& entry : agent.free.entries()) {
      if (entry.unreserved() || entry.reservation != owner) continue;
      if (entry.kind != ResourceKind::kScalar) {
        MustOk(reserved.Add(*Resources::FromEntries({entry})));
        continue;
      }
      const int64_t amount = std::min(entry.scalar, headroom.Allowed(j, entry.name));
      if (amount <= 0) continue;
      headroom.Consume(j, entry.name, amount);
      MustOk(reserved.Add(MilliScalar(entry.name, owner, amount)));
    }
  }
  const Resources unreserved = agent.free.Unreserved();
  Resources guaranteed;
  Resources others = unreserved.NonScalars();  // ranges and sets in full
  for (const Resource& entry : unreserved.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    const int64_t limit = headroom.Allowed(path.size(), entry.name);
    const bool toward_guarantee = stage == 1 && PathGuarantees(role, entry.name);
    const int64_t cap = toward_guarantee ? std::min(PathMaxUnmet(role, entry.name), limit)
                                         : std::min(limit, Get(surplus, entry.name));
    const int64_t amount = std::min(entry.scalar, cap);
    if (amount <= 0) continue;
    MustOk((toward_guarantee ? guaranteed : others).Add(MilliScalar(entry.name, "", amount)));
  }
  if (stage == 1 && guaranteed.empty() && reserved.empty()) return Resources();
  Resources candidate = reserved;
  MustOk(candidate.Add(guaranteed));
  MustOk(candidate.Add(others));
  return candidate;
}

bool ReferenceAllocator::MeetsMinAllocatable(const FrameworkState& framework,
                                             const Resources& candidate) const {
  const std::vector<Resources>& alternatives = framework.min_allocatable.empty()
                                                   ? options_.default_min_allocatable
                                                   : framework.min_allocatable;
  if (alternatives.empty()) return true;
  for (const Resources& alternative : alternatives) {
    bool contained = candidate.Contains(alternative.NonScalars());
    for (const auto& [name, amount] : ScalarSums(alternative)) {
      contained = contained && candidate.ScalarMilli(name) >= amount;
    }
    if (contained) return true;
  }
  return false;
}

absl::StatusOr<std::vector<Offer>> ReferenceAllocator::Allocate(double now) {
  if (!std::isfinite(now)) return Invalid("now must be finite");
  ++cycle_;
  for (FrameworkState& framework : frameworks_) {
    std::erase_if(framework.filters,
                  [now](const auto& entry) { return entry.second.expiry <= now; });
  }
  std::vector<Offer> offers;
  // At most one Offer per (framework, agent, role): stage 2 adds to the stage-1 offer.
  std::map<AllocationKey, size_t> offer_index;
  for (int stage = 1; stage <= 2; ++stage) {
    for (uint32_t a = 0; a < agents_.size(); ++a) {
      const AgentId agent_id(a);
      const AgentState& agent = agents_[a];
      if (agent.removed || !agent.active) continue;
      if (stage == 1 && !AnyUnmetGuarantee()) continue;
      // As in Mesos, the order is computed for every agent, even one with nothing free; the
      // walk then stops at once. (The engine skips such agents without sorting anything.)
      const std::vector<Client> order = Order(a);  // fixed when the agent is entered
      std::optional<Scalars> surplus;              // recomputed after every offer
      for (const Client& client : order) {
        if (agent.free.empty()) break;
        const FrameworkState& framework = frameworks_[client.framework.value()];
        if (!framework.active || framework.suppressed.contains(client.role)) continue;
        if (agent.has_gpus && !framework.gpu_capable) continue;
        if (!surplus) surplus = Surplus();
        const Resources candidate = Candidate(stage, agent, client.role, *surplus);
        if (candidate.empty()) continue;
        auto filter = framework.filters.find(agent_id);
        if (filter != framework.filters.end() && now < filter->second.expiry &&
            filter->second.refused.Contains(candidate)) {
          continue;
        }
        if (!MeetsMinAllocatable(framework, candidate)) continue;
        SubtractFree(agent_id, candidate);
        AddAllocation(client.framework, agent_id, client.role, candidate);
        const AllocationKey key(agent_id, client.framework, client.role);
        if (auto merged = offer_index.find(key); merged != offer_index.end()) {
          MustOk(offers[merged->second].resources.Add(candidate));
        } else {
          offer_index.emplace(key, offers.size());
          offers.push_back(Offer{client.framework, agent_id, client.role, candidate});
        }
        surplus.reset();
      }
    }
  }
  return offers;
}

}  // namespace steward::allocator
