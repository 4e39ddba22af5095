// Engine: events, interning, accounting and read access. Ordering lives in engine_order.cc,
// filters in engine_filters.cc, the allocation cycle in engine_allocate.cc and direct
// placement in engine_place.cc.
#include "allocator/engine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "allocator/internal/check.h"
#include "allocator/internal/hot.h"

namespace steward::allocator {

using internal::AddAt;
using internal::AddVec;
using internal::AllZero;
using internal::At;

Engine::Engine(AllocatorOptions options) : options_(std::move(options)) {}
Engine::~Engine() = default;

// ---------------------------------------------------------------------------------------------
// Interning and conversion.

size_t Engine::InternScalar(std::string_view name) {
  auto it = scalar_index_.find(name);
  if (it != scalar_index_.end()) return it->second;
  size_t index = scalar_names_.size();
  scalar_names_.emplace_back(name);
  scalar_index_.emplace(std::string(name), index);
  free_columns_.emplace_back(agents_.size(), 0);
  total_columns_.emplace_back(agents_.size(), 0);
  available_.resize(scalar_names_.size(), 0);
  cluster_total_.resize(scalar_names_.size(), 0);
  RefreshShareDivisors();
  scalar_name_order_.push_back(index);
  std::sort(scalar_name_order_.begin(), scalar_name_order_.end(),
            [this](size_t a, size_t b) { return scalar_names_[a] < scalar_names_[b]; });
  return index;
}

uint32_t Engine::InternRole(std::string_view path) {
  auto found = role_by_path_.find(path);
  if (found != role_by_path_.end()) return found->second;
  uint32_t parent = kNoNode;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view prefix = slash == std::string_view::npos ? path : path.substr(0, slash);
    auto it = role_by_path_.find(prefix);
    uint32_t node;
    if (it != role_by_path_.end()) {
      node = it->second;
    } else {
      node = static_cast<uint32_t>(roles_.size());
      RoleNode& created = roles_.emplace_back();
      created.path = std::string(prefix);
      created.parent = parent;
      role_by_path_.emplace(created.path, node);
      if (parent == kNoNode) {
        top_level_.push_back(node);
      } else {
        roles_[parent].children.push_back(node);
      }
      RefreshPathFlags(node);
    }
    parent = node;
    if (slash == std::string_view::npos) return node;
    start = slash + 1;
  }
}

absl::StatusOr<uint32_t> Engine::CheckRole(RoleId role) const {
  if (!role.valid() || role.value() >= roles_.size()) {
    return absl::NotFoundError(absl::StrCat("unknown role id ", role.value()));
  }
  return role.value();
}

absl::StatusOr<uint32_t> Engine::CheckAgent(AgentId agent) const {
  if (!agent.valid() || agent.value() >= agents_.size() || !agents_[agent.value()].live) {
    return absl::NotFoundError(absl::StrCat("unknown agent id ", agent.value()));
  }
  return agent.value();
}

absl::StatusOr<uint32_t> Engine::CheckFramework(FrameworkId framework) const {
  if (!framework.valid() || framework.value() >= frameworks_.size() ||
      !frameworks_[framework.value()].live) {
    return absl::NotFoundError(absl::StrCat("unknown framework id ", framework.value()));
  }
  return framework.value();
}

Resources Engine::TrustedBag(std::vector<Resource> entries) {
  absl::StatusOr<Resources> bag = Resources::FromEntries(std::move(entries));
  STEWARD_CHECK_OK(bag.status());
  return *std::move(bag);
}

absl::StatusOr<Engine::Subscription> Engine::CheckSubscription(FrameworkId framework,
                                                               RoleId role) const {
  absl::StatusOr<uint32_t> fw = CheckFramework(framework);
  if (!fw.ok()) return fw.status();
  return SubscriptionOf(*fw, role);
}

absl::StatusOr<Engine::Subscription> Engine::SubscriptionOf(uint32_t fw, RoleId role) const {
  absl::StatusOr<uint32_t> node = CheckRole(role);
  if (!node.ok()) return node.status();
  size_t slot = SlotOf(frameworks_[fw], *node);
  if (slot == frameworks_[fw].roles.size()) {
    return absl::InvalidArgumentError(absl::StrCat("framework '", frameworks_[fw].name,
                                                   "' is not subscribed to role '",
                                                   roles_[*node].path, "'"));
  }
  return Subscription{fw, *node, slot};
}

void Engine::Split(const Resources& resources, Vec* unreserved, Resources* other) {
  unreserved->clear();
  std::vector<Resource> rest;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar && entry.unreserved()) {
      AddAt(*unreserved, InternScalar(entry.name), entry.scalar);
    } else {
      rest.push_back(entry);
    }
  }
  // A subsequence of a canonical bag is canonical.
  *other = Resources::FromCanonicalEntries(std::move(rest));
}

Engine::Vec Engine::ScalarSums(const Resources& resources) {
  Vec sums;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar) AddAt(sums, InternScalar(entry.name), entry.scalar);
  }
  return sums;
}

STEWARD_HOT const Engine::Vec& Engine::ShareSums(const Vec& unreserved, const Resources& other,
                                                 Vec* scratch) {
  const Vec* sums = &unreserved;
  for (const Resource& piece : other.entries()) {
    if (piece.kind != ResourceKind::kScalar) continue;
    if (sums == &unreserved) sums = &(*scratch = unreserved);
    AddAt(*scratch, InternScalar(piece.name), piece.scalar);
  }
  return *sums;
}

Engine::Vec Engine::QuantitiesToVec(const ResourceQuantities& quantities, int64_t absent) {
  Vec out;
  for (const auto& [name, milli] : quantities.entries()) {
    size_t index = InternScalar(name);
    if (index >= out.size()) out.resize(index + 1, absent);
    out[index] = milli;
  }
  return out;
}

Resources Engine::BuildResources(const Vec& unreserved, const Resources& other) const {
  // Merge the unreserved scalars (in name order) with `other` (canonical) into canonical
  // order: by name, the unreserved entry (empty reservation) first.
  std::vector<Resource> entries;
  entries.reserve(unreserved.size() + other.entries().size());
  const std::vector<Resource>& rest = other.entries();
  size_t r = 0;
  for (size_t index : scalar_name_order_) {
    if (index >= unreserved.size() || unreserved[index] <= 0) continue;
    const std::string& name = scalar_names_[index];
    while (r < rest.size() && rest[r].name < name) entries.push_back(rest[r++]);
    Resource& entry = entries.emplace_back();
    entry.name = name;
    entry.scalar = unreserved[index];
  }
  while (r < rest.size()) entries.push_back(rest[r++]);
  return Resources::FromCanonicalEntries(std::move(entries));
}

Resources Engine::FreeResources(uint32_t agent) const {
  Vec unreserved(scalar_names_.size(), 0);
  for (size_t i = 0; i < scalar_names_.size(); ++i) unreserved[i] = free_columns_[i][agent];
  return BuildResources(unreserved, agents_[agent].free_other);
}

STEWARD_HOT size_t Engine::SlotOf(const Framework& framework, uint32_t role) const {
  for (size_t i = 0; i < framework.roles.size(); ++i) {
    if (framework.roles[i].role == role) return i;
  }
  return framework.roles.size();
}

// ---------------------------------------------------------------------------------------------
// Accounting.

STEWARD_HOT void Engine::AddConsumption(uint32_t node, const Vec& delta, int64_t sign) {
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    AddVec(roles_[n].consumption, delta, sign);
  }
  AddVec(total_consumption_, delta, sign);
  MarkPathDirty(node);
  if (quota_nodes_ > 0) RefreshQuotaPath(node);
}

void Engine::RefreshQuotaPath(uint32_t node) {
  // Walks up the path: C changed at every node on it, so U and need change there; a change of
  // need(n) moves the sum its parent keeps (or the cluster's required headroom).
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    RoleNode& role = roles_[n];
    bool was_unmet = false;
    bool unmet = false;
    const size_t guaranteed = role.guarantee.size();
    if (role.unmet.size() != guaranteed) role.unmet.resize(guaranteed, 0);
    // Raw pointers: a store through int64_t may alias an InlinedVector's size word, so
    // indexing would reload every vector's size and storage at each element.
    int64_t* unmet_of = role.unmet.data();
    const int64_t* guarantee = role.guarantee.data();
    const int64_t* consumption = role.consumption.data();
    const size_t consumed = role.consumption.size();
    for (size_t i = 0; i < guaranteed; ++i) {
      was_unmet |= unmet_of[i] > 0;
      unmet_of[i] = std::max<int64_t>(0, guarantee[i] - (i < consumed ? consumption[i] : 0));
      unmet |= unmet_of[i] > 0;
    }
    if (unmet != was_unmet) {
      unmet_nodes_ += unmet ? 1 : -1;
      AddUnmetAlongPath(n, unmet ? 1 : -1);
    }
    size_t width = std::max(role.unmet.size(), role.child_need_sum.size());
    if (role.need.size() < width) role.need.resize(width, 0);
    Vec& sum = role.parent == kNoNode ? required_ : roles_[role.parent].child_need_sum;
    const size_t width_now = role.need.size();
    if (sum.size() < width_now) sum.resize(width_now, 0);
    int64_t* sum_of = sum.data();
    int64_t* need_of = role.need.data();
    const int64_t* unmet_now = role.unmet.data();
    const size_t unmet_size = role.unmet.size();
    const int64_t* child_need = role.child_need_sum.data();
    const size_t child_size = role.child_need_sum.size();
    for (size_t i = 0; i < width_now; ++i) {
      const int64_t need =
          std::max(i < unmet_size ? unmet_now[i] : 0, i < child_size ? child_need[i] : 0);
      sum_of[i] += need - need_of[i];
      need_of[i] = need;
    }
  }
}

void Engine::AddUnmetAlongPath(uint32_t node, int delta) {
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) roles_[n].unmet_in_subtree += delta;
}

void Engine::RefreshPathFlags(uint32_t node) {
  RoleNode& role = roles_[node];
  bool parent_limited = role.parent != kNoNode && roles_[role.parent].path_limited;
  bool parent_guaranteed = role.parent != kNoNode && roles_[role.parent].path_guaranteed;
  role.path_limited = parent_limited || role.limited;
  role.path_guaranteed = parent_guaranteed || !AllZero(role.guarantee);
  for (uint32_t child : role.children) RefreshPathFlags(child);
}

STEWARD_HOT void Engine::MarkPathDirty(uint32_t node) {
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    if (roles_[n].dirty) continue;
    roles_[n].dirty = true;
    dirty_nodes_.push_back(n);
  }
}

STEWARD_HOT void Engine::MarkFrameworkRoleDirty(uint32_t framework, size_t slot) {
  FrameworkRole& entry = frameworks_[framework].roles[slot];
  if (entry.dirty) return;
  entry.dirty = true;
  dirty_framework_roles_.emplace_back(framework, static_cast<uint32_t>(slot));
}

void Engine::AdjustFreeUnreserved(uint32_t agent, const Vec& delta, int64_t sign) {
  if (available_.size() < scalar_names_.size()) available_.resize(scalar_names_.size(), 0);
  const bool active = agents_[agent].active;
  int64_t* available = available_.data();
  for (size_t i = 0; i < delta.size(); ++i) {
    const int64_t change = sign * delta[i];
    if (change == 0) continue;
    free_columns_[i][agent] += change;
    if (active) available[i] += change;
  }
}

void Engine::AddReservedFree(const Resources& reserved, int64_t sign) {
  for (const Resource& entry : reserved.entries()) {
    if (entry.unreserved() || entry.kind != ResourceKind::kScalar) continue;
    uint32_t node = role_by_path_.at(entry.reservation);
    Vec delta;
    AddAt(delta, InternScalar(entry.name), entry.scalar);
    AddVec(roles_[node].own_unallocated_reserved, delta, sign);
    AddConsumption(node, delta, sign);
  }
}

// The agent's part of AddAllocation, for parallel cycles. AddAllocation keeps its own copy of
// these lines: calling this from it changed what the compiler inlined on the sequential path,
// which measured about 10% slower per offer (FullCycle).
void Engine::AllocateOnAgent(uint32_t framework, uint32_t role, uint32_t agent,
                             const Vec& unreserved, const Resources& other) {
  Agent& host = agents_[agent];
  Allocation* record = nullptr;
  for (Allocation& allocation : host.allocations) {
    if (allocation.framework == framework && allocation.role == role) record = &allocation;
  }
  if (record == nullptr) {
    // Constructed from its fields, not value-initialised: that would first zero the whole
    // record, inline storage included, with a `rep stos` that cost more than the rest of the
    // call.
    record = &host.allocations.emplace_back(framework, role, unreserved);
  } else {
    AddVec(record->unreserved, unreserved);
  }
  for (size_t i = 0; i < unreserved.size(); ++i) {
    if (unreserved[i] != 0) free_columns_[i][agent] -= unreserved[i];
  }
  if (&other == &host.free_other) {
    // Everything taken (no reservations among it): move it instead of copying.
    record->other.Add(std::move(host.free_other));
    host.free_other = Resources();
  } else if (!other.empty()) {
    record->other.Add(other);
    STEWARD_CHECK_OK(host.free_other.Subtract(other));
  }
}

STEWARD_HOT void Engine::AddAllocation(uint32_t framework, size_t slot, uint32_t agent,
                                       const Vec& unreserved, const Resources& other) {
  Agent& host = agents_[agent];
  FrameworkRole& entry = frameworks_[framework].roles[slot];
  Allocation* record = nullptr;
  for (Allocation& allocation : host.allocations) {
    if (allocation.framework == framework && allocation.role == entry.role) record = &allocation;
  }
  if (record == nullptr) {
    // Constructed from its fields, not value-initialised: that would first zero the whole
    // record, inline storage included, with a `rep stos` that cost more than the rest of the
    // call.
    record = &host.allocations.emplace_back(framework, entry.role, unreserved);
  } else {
    AddVec(record->unreserved, unreserved);
  }

  if (available_.size() < unreserved.size()) available_.resize(unreserved.size(), 0);
  for (size_t i = 0; i < unreserved.size(); ++i) {
    if (unreserved[i] == 0) continue;
    free_columns_[i][agent] -= unreserved[i];
    available_[i] -= unreserved[i];
  }
  Vec with_reserved;
  const Vec& sums = ShareSums(unreserved, other, &with_reserved);
  if (&other == &host.free_other) {
    // Everything taken (no reservations among it): move it instead of copying.
    record->other.Add(std::move(host.free_other));
    host.free_other = Resources();
  } else if (!other.empty()) {
    record->other.Add(other);
    STEWARD_CHECK_OK(host.free_other.Subtract(other));
    // Reservations taken out of the free pool stop counting as unallocated reservations.
    AddReservedFree(other, -1);
  }
  AddVec(entry.allocated, sums);
  MarkFrameworkRoleDirty(framework, slot);
  AddVec(roles_[entry.role].own_allocated, sums);
  AddConsumption(entry.role, sums, 1);
}

STEWARD_HOT void Engine::HeldBags::Add(Resources bag) {
  if (bag.empty()) return;
  bags_.push_back(std::move(bag));
  if (bags_.size() > kMaxBags) Merge();
}

void Engine::HeldBags::Merge() {
  for (size_t i = 1; i < bags_.size(); ++i) STEWARD_CHECK_OK(bags_[0].Add(bags_[i]));
  bags_.resize(bags_.empty() ? 0 : 1);
}

Resources Engine::HeldBags::Sum() const {
  if (bags_.empty()) return Resources();
  Resources sum = bags_[0];
  for (size_t i = 1; i < bags_.size(); ++i) STEWARD_CHECK_OK(sum.Add(bags_[i]));
  return sum;
}

bool Engine::HeldBags::Contains(const Resources& part) const {
  if (part.empty()) return true;
  for (const Resources& bag : bags_) {
    if (bag == part) return true;
  }
  return bags_.size() > 1 ? Sum().Contains(part) : !bags_.empty() && bags_[0].Contains(part);
}

Resources Engine::HeldBags::Take(const Resources& part) {
  if (part.empty()) return part;
  for (size_t i = 0; i < bags_.size(); ++i) {
    if (!(bags_[i] == part)) continue;
    Resources taken = std::move(bags_[i]);
    bags_.erase(bags_.begin() + i);
    return taken;
  }
  Merge();
  STEWARD_CHECK_OK(bags_[0].Subtract(part));
  if (bags_[0].empty()) bags_.clear();
  return part;
}

Resources Engine::AllocationResources(const Allocation& allocation) const {
  return BuildResources(allocation.unreserved, allocation.other.Sum());
}

bool Engine::AllocationContains(const Allocation& allocation, const Resources& resources) const {
  std::vector<Resource> rest;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar && entry.unreserved()) {
      auto index = scalar_index_.find(entry.name);
      if (index == scalar_index_.end() || At(allocation.unreserved, index->second) < entry.scalar) {
        return false;
      }
    } else {
      rest.push_back(entry);
    }
  }
  // A subsequence of canonical entries is canonical.
  return allocation.other.Contains(Resources::FromCanonicalEntries(std::move(rest)));
}

bool Engine::SplitHeld(uint32_t agent, const Allocation& allocation, const Resources& resources,
                       Vec* unreserved, Resources* other) {
  const Agent& host = agents_[agent];
  if (!resources.empty() && resources.SharesEntriesWith(host.last_offer)) {
    const Vec& offered = host.last_offer_unreserved;
    for (size_t i = 0; i < offered.size(); ++i) {
      if (At(allocation.unreserved, i) < offered[i]) return false;
    }
    if (!allocation.other.Contains(host.last_offer_other)) return false;
    *unreserved = offered;
    *other = host.last_offer_other;
    return true;
  }
  if (!AllocationContains(allocation, resources)) return false;
  Split(resources, unreserved, other);
  return true;
}

void Engine::ReleaseAllocation(uint32_t framework, size_t slot, uint32_t agent,
                               const Vec& unreserved, const Resources& other) {
  Agent& host = agents_[agent];
  FrameworkRole& entry = frameworks_[framework].roles[slot];
  Resources returned = other;
  for (size_t i = 0; i < host.allocations.size(); ++i) {
    Allocation& allocation = host.allocations[i];
    if (allocation.framework != framework || allocation.role != entry.role) continue;
    AddVec(allocation.unreserved, unreserved, -1);
    // When one of the record's bags comes back whole (an offer declined or unused), return
    // that bag, which still shares its entries with the agent's last offer, so that the next
    // offer of the same candidate is recognised by identity.
    returned = allocation.other.Take(other);
    if (AllZero(allocation.unreserved) && allocation.other.empty()) {
      host.allocations.erase(host.allocations.begin() + i);
    }
    break;
  }
  AdjustFreeUnreserved(agent, unreserved, 1);
  if (!other.empty()) {
    // What comes back is usually what was last offered here (a declined or unused offer from
    // a holder that had more): share the last offer's bag, so that the next offer of the same
    // candidate is recognised by identity and this copy is released now.
    if (host.free_other.empty() && !returned.SharesEntriesWith(host.last_offer_other) &&
        returned == host.last_offer_other) {
      returned = host.last_offer_other;
    }
    STEWARD_CHECK_OK(host.free_other.Add(returned));
    AddReservedFree(other, 1);
  }
  Vec with_reserved;
  const Vec& sums = ShareSums(unreserved, other, &with_reserved);
  AddVec(entry.allocated, sums, -1);
  MarkFrameworkRoleDirty(framework, slot);
  AddVec(roles_[entry.role].own_allocated, sums, -1);
  AddConsumption(entry.role, sums, -1);
  RefreshCovering(agent);
}

// ---------------------------------------------------------------------------------------------
// Agents.

absl::StatusOr<AgentId> Engine::AddAgent(const AgentInfo& info) {
  if (info.name.empty()) return absl::InvalidArgumentError("agent name is empty");
  if (agent_by_name_.contains(info.name)) {
    return absl::AlreadyExistsError(absl::StrCat("agent '", info.name, "' already exists"));
  }
  for (const auto& [key, value] : info.attributes) {
    if (key.empty()) return absl::InvalidArgumentError("agent attribute with an empty name");
  }
  for (const Resource& entry : info.total.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    auto name = scalar_index_.find(entry.name);
    int64_t known = name == scalar_index_.end() ? 0 : At(cluster_total_, name->second);
    if (static_cast<double>(known + info.total.ScalarMilli(entry.name)) >
        kMaxScalarUnits * kMilliPerUnit) {
      return absl::InvalidArgumentError(
          absl::StrCat("the cluster's total of ", entry.name, " would exceed the maximum"));
    }
  }
  uint32_t index = static_cast<uint32_t>(agents_.size());
  Agent& agent = agents_.emplace_back();
  agent.name = info.name;
  agent.total = info.total;
  agent.attributes = info.attributes;
  agent.has_gpus = info.total.ScalarMilli("gpus") > 0;
  agent_by_name_.emplace(info.name, index);
  for (auto& column : free_columns_) column.push_back(0);
  for (auto& column : total_columns_) column.push_back(0);

  std::vector<Resource> other;
  for (const Resource& entry : info.total.entries()) {
    if (entry.kind == ResourceKind::kScalar) {
      size_t name = InternScalar(entry.name);
      total_columns_[name][index] += entry.scalar;
      AddAt(cluster_total_, name, entry.scalar);
      if (entry.unreserved()) {
        free_columns_[name][index] += entry.scalar;
        AddAt(available_, name, entry.scalar);
        continue;
      }
    }
    if (!entry.unreserved()) {
      InternRole(entry.reservation);
      any_reservations_ = true;
    }
    other.push_back(entry);
  }
  if (!other.empty()) {
    agents_[index].free_other = Resources::FromCanonicalEntries(std::move(other));
    AddReservedFree(agents_[index].free_other, 1);
  }
  RefreshShareDivisors();
  // Shares are consumption over the cluster total: with nothing consumed they all stay 0.
  order_stale_ = order_stale_ || !AllZero(total_consumption_);
  return AgentId(index);
}

absl::Status Engine::RemoveAgent(AgentId id) {
  absl::StatusOr<uint32_t> checked = CheckAgent(id);
  if (!checked.ok()) return checked.status();
  uint32_t index = *checked;
  Agent& agent = agents_[index];
  // Allocations vanish with the agent.
  for (const Allocation& allocation : agent.allocations) {
    Vec sums = allocation.unreserved;
    AddVec(sums, ScalarSums(allocation.other.Sum()));
    Framework& fw = frameworks_[allocation.framework];
    size_t slot = SlotOf(fw, allocation.role);
    AddVec(fw.roles[slot].allocated, sums, -1);
    MarkFrameworkRoleDirty(allocation.framework, slot);
    AddVec(roles_[allocation.role].own_allocated, sums, -1);
    AddConsumption(allocation.role, sums, -1);
  }
  agent.allocations.clear();
  AddReservedFree(agent.free_other.Reserved(), -1);
  for (size_t i = 0; i < scalar_names_.size(); ++i) {
    if (agent.active) available_[i] -= free_columns_[i][index];
    cluster_total_[i] -= total_columns_[i][index];
    free_columns_[i][index] = 0;
    total_columns_[i][index] = 0;
  }
  RefreshShareDivisors();
  std::vector<uint32_t> filtering = agent.filtering_frameworks;
  for (uint32_t fw : filtering) EraseFilter(fw, index);
  agent.free_other = Resources();
  agent.last_offer = Resources();
  agent.last_offer_other = Resources();
  agent.last_declined = Resources();
  agent.last_refused = nullptr;
  agent.live = false;
  agent.active = false;
  agent_by_name_.erase(agent.name);
  // Shares are consumption over the cluster total: with nothing consumed they all stay 0.
  order_stale_ = order_stale_ || !AllZero(total_consumption_);
  return absl::OkStatus();
}

absl::Status Engine::ActivateAgent(AgentId id) { return SetAgentActive(id, true); }

absl::Status Engine::DeactivateAgent(AgentId id) { return SetAgentActive(id, false); }

// An inactive agent's free resources do not count as available headroom.
absl::Status Engine::SetAgentActive(AgentId id, bool active) {
  absl::StatusOr<uint32_t> checked = CheckAgent(id);
  if (!checked.ok()) return checked.status();
  Agent& agent = agents_[*checked];
  if (agent.active == active) return absl::OkStatus();
  agent.active = active;
  for (size_t i = 0; i < scalar_names_.size(); ++i) {
    available_[i] += (active ? 1 : -1) * free_columns_[i][*checked];
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Frameworks.

namespace {

absl::Status ValidateMinAllocatable(const std::vector<Resources>& alternatives) {
  for (const Resources& alternative : alternatives) {
    if (alternative.empty()) {
      return absl::InvalidArgumentError("a minimum allocatable alternative is empty");
    }
    for (const Resource& entry : alternative.entries()) {
      if (entry.kind != ResourceKind::kScalar || !entry.unreserved()) {
        return absl::InvalidArgumentError(
            absl::StrCat("minimum allocatable resources must be unreserved scalars, got '",
                         alternative.ToString(), "'"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FrameworkId> Engine::AddFramework(const FrameworkInfo& info) {
  if (info.name.empty()) return absl::InvalidArgumentError("framework name is empty");
  if (framework_by_name_.contains(info.name)) {
    return absl::AlreadyExistsError(absl::StrCat("framework '", info.name, "' already exists"));
  }
  if (info.roles.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("framework '", info.name, "' subscribes to no role"));
  }
  for (size_t i = 0; i < info.roles.size(); ++i) {
    if (absl::Status valid = ValidateRolePath(info.roles[i]); !valid.ok()) return valid;
    for (size_t j = 0; j < i; ++j) {
      if (info.roles[j] == info.roles[i]) {
        return absl::InvalidArgumentError(
            absl::StrCat("framework '", info.name, "' lists role '", info.roles[i], "' twice"));
      }
    }
  }
  if (absl::Status valid = ValidateMinAllocatable(info.min_allocatable); !valid.ok()) {
    return valid;
  }
  uint32_t index = static_cast<uint32_t>(frameworks_.size());
  Framework& fw = frameworks_.emplace_back();
  fw.name = info.name;
  fw.gpu_capable = info.gpu_capable;
  const std::vector<Resources>& alternatives =
      info.min_allocatable.empty() ? options_.default_min_allocatable : info.min_allocatable;
  std::vector<Vec> minimums;
  for (const Resources& alternative : alternatives) minimums.push_back(ScalarSums(alternative));
  frameworks_[index].min_allocatable = std::move(minimums);
  framework_by_name_.emplace(info.name, index);
  ++live_frameworks_;
  for (const std::string& path : info.roles) {
    uint32_t node = InternRole(path);
    frameworks_[index].roles.emplace_back().role = node;
    roles_[node].frameworks.push_back(index);
    if (options_.sorter == SorterKind::kDrf) {
      RefreshSoleFramework(node);
      roles_[node].framework_order.insert({0.0, index});
    }
    JoinWalk(node);
  }
  return FrameworkId(index);
}

absl::Status Engine::RemoveFramework(FrameworkId id) {
  absl::StatusOr<uint32_t> checked = CheckFramework(id);
  if (!checked.ok()) return checked.status();
  uint32_t index = *checked;
  // Return every allocation to the free pools.
  for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
    if (!agents_[agent].live) continue;
    struct Held {
      uint32_t role;
      Vec unreserved;
      Resources other;
    };
    std::vector<Held> mine;
    for (const Allocation& allocation : agents_[agent].allocations) {
      if (allocation.framework == index) {
        mine.push_back({allocation.role, allocation.unreserved, allocation.other.Sum()});
      }
    }
    for (const Held& held : mine) {
      ReleaseAllocation(index, SlotOf(frameworks_[index], held.role), agent, held.unreserved,
                        held.other);
    }
  }
  EraseFilters(index);
  Framework& fw = frameworks_[index];
  for (FrameworkRole& entry : fw.roles) {
    RoleNode& role = roles_[entry.role];
    role.frameworks.erase(std::find(role.frameworks.begin(), role.frameworks.end(), index));
    if (options_.sorter == SorterKind::kDrf) {
      role.framework_order.erase({entry.key_share, index});
    }
    LeaveWalk(entry.role);
  }
  fw.live = false;
  fw.active = false;
  framework_by_name_.erase(fw.name);
  --live_frameworks_;
  return absl::OkStatus();
}

absl::Status Engine::ActivateFramework(FrameworkId id) {
  absl::StatusOr<uint32_t> checked = CheckFramework(id);
  if (!checked.ok()) return checked.status();
  frameworks_[*checked].active = true;
  return absl::OkStatus();
}

absl::Status Engine::DeactivateFramework(FrameworkId id) {
  absl::StatusOr<uint32_t> checked = CheckFramework(id);
  if (!checked.ok()) return checked.status();
  frameworks_[*checked].active = false;
  return absl::OkStatus();
}

absl::Status Engine::Suppress(FrameworkId id, RoleId role) {
  absl::StatusOr<Subscription> checked = CheckSubscription(id, role);
  if (!checked.ok()) return checked.status();
  auto [fw, node, slot] = *checked;
  frameworks_[fw].roles[slot].suppressed = true;
  return absl::OkStatus();
}

absl::Status Engine::Revive(FrameworkId id, RoleId role) {
  absl::StatusOr<Subscription> checked = CheckSubscription(id, role);
  if (!checked.ok()) return checked.status();
  auto [fw, node, slot] = *checked;
  frameworks_[fw].roles[slot].suppressed = false;
  EraseFilters(fw);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Roles, weights and quota.

absl::StatusOr<RoleId> Engine::FindRole(std::string_view path) const {
  auto it = role_by_path_.find(path);
  if (it == role_by_path_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown role '", internal::Av(path), "'"));
  }
  return RoleId(it->second);
}

std::string Engine::RoleName(RoleId role) const {
  if (!role.valid() || role.value() >= roles_.size()) return "";
  return roles_[role.value()].path;
}

absl::Status Engine::SetWeight(std::string_view role, double weight) {
  if (absl::Status valid = ValidateRolePath(role); !valid.ok()) return valid;
  if (!std::isfinite(weight) || weight <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight of role '", internal::Av(role),
                                                   "' must be positive and finite, got ", weight));
  }
  uint32_t node = InternRole(role);
  roles_[node].weight = weight;
  MarkPathDirty(node);
  return absl::OkStatus();
}

absl::Status Engine::SetQuota(std::string_view role, const Quota& quota) {
  if (absl::Status valid = ValidateRolePath(role); !valid.ok()) return valid;
  if (role == "*") return absl::InvalidArgumentError("quota cannot be set on the '*' role");
  // Effective guarantee eg(n) = max(G(n), sum of children's eg) must fit under the limit of
  // every node, checked per name on the hypothetical tree before anything is created.
  // Children always have larger indexes than their parents, so one descending pass suffices.
  std::vector<uint32_t> parent;
  for (const RoleNode& node : roles_) parent.push_back(node.parent);
  uint32_t target = kNoNode;
  {
    uint32_t above = kNoNode;
    size_t start = 0;
    while (true) {
      size_t slash = role.find('/', start);
      std::string_view prefix = slash == std::string_view::npos ? role : role.substr(0, slash);
      auto it = role_by_path_.find(prefix);
      if (it != role_by_path_.end()) {
        above = it->second;
      } else {
        parent.push_back(above);
        above = static_cast<uint32_t>(parent.size() - 1);
      }
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    target = above;
  }
  // Every name any quota can mention: the known ones plus the new quota's.
  std::vector<std::string> names = scalar_names_;
  for (const auto& [name, milli] : quota.guarantee.entries()) names.push_back(name);
  for (const auto& [name, milli] : quota.limit.entries()) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& name : names) {
    auto known = scalar_index_.find(name);
    auto guarantee_of = [&](uint32_t n) -> int64_t {
      if (n == target) return quota.guarantee.Get(name);
      if (n >= roles_.size() || known == scalar_index_.end()) return 0;
      return At(roles_[n].guarantee, known->second);
    };
    auto limit_of = [&](uint32_t n) -> int64_t {
      if (n == target) return quota.limit.Has(name) ? quota.limit.Get(name) : kUnlimited;
      if (n >= roles_.size() || known == scalar_index_.end() ||
          known->second >= roles_[n].limit.size()) {
        return kUnlimited;
      }
      return roles_[n].limit[known->second];
    };
    std::vector<int64_t> children_sum(parent.size(), 0);
    for (size_t n = parent.size(); n-- > 0;) {
      uint32_t id = static_cast<uint32_t>(n);
      int64_t effective = std::max(guarantee_of(id), children_sum[n]);
      if (effective > limit_of(id)) {
        std::string path = n < roles_.size() ? roles_[n].path : std::string(role);
        return absl::InvalidArgumentError(absl::StrCat(
            "quota of role '", internal::Av(role), "' rejected: guarantees for ", name,
            " under role '", n == target ? std::string(role) : path, "' (", FormatMilli(effective),
            ") would exceed its limit (", FormatMilli(limit_of(id)), ")"));
      }
      if (parent[n] != kNoNode) children_sum[parent[n]] += effective;
    }
  }

  uint32_t node = InternRole(role);
  RoleNode& quota_node = roles_[node];
  bool had_quota = quota_node.has_quota;
  quota_node.guarantee = QuantitiesToVec(quota.guarantee, 0);
  quota_node.limit = QuantitiesToVec(quota.limit, kUnlimited);
  quota_node.limited = !quota.limit.empty();
  quota_node.has_quota = !quota.guarantee.empty() || !quota.limit.empty();
  quota_nodes_ += static_cast<int>(quota_node.has_quota) - static_cast<int>(had_quota);
  RefreshPathFlags(node);
  // Recompute unmet guarantees and needs everywhere (quota changes are rare).
  required_.clear();
  unmet_nodes_ = 0;
  for (RoleNode& r : roles_) {
    r.unmet.clear();
    r.need.clear();
    r.child_need_sum.clear();
    r.unmet_in_subtree = 0;
  }
  for (size_t n = roles_.size(); n-- > 0;) {
    RoleNode& r = roles_[n];
    r.unmet.assign(r.guarantee.size(), 0);
    for (size_t i = 0; i < r.guarantee.size(); ++i) {
      r.unmet[i] = std::max<int64_t>(0, r.guarantee[i] - At(r.consumption, i));
    }
    if (!AllZero(r.unmet)) {
      ++unmet_nodes_;
      AddUnmetAlongPath(static_cast<uint32_t>(n), 1);
    }
    size_t width = std::max(r.unmet.size(), r.child_need_sum.size());
    r.need.assign(width, 0);
    for (size_t i = 0; i < width; ++i)
      r.need[i] = std::max(At(r.unmet, i), At(r.child_need_sum, i));
    AddVec(r.parent == kNoNode ? required_ : roles_[r.parent].child_need_sum, r.need);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Reservations.

absl::Status Engine::Reserve(AgentId id, std::string_view role, const Resources& resources) {
  if (absl::Status valid = ValidateRolePath(role); !valid.ok()) return valid;
  if (role == "*") return absl::InvalidArgumentError("cannot reserve for the '*' role");
  if (resources.empty()) return absl::InvalidArgumentError("nothing to reserve");
  if (!resources.Reserved().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resources to reserve must be unreserved, got '", resources.ToString(), "'"));
  }
  absl::StatusOr<uint32_t> checked = CheckAgent(id);
  if (!checked.ok()) return checked.status();
  uint32_t agent = *checked;
  if (!FreeResources(agent).Contains(resources)) {
    return absl::FailedPreconditionError(absl::StrCat("'", resources.ToString(),
                                                      "' is not free and unreserved on agent '",
                                                      agents_[agent].name, "'"));
  }
  // Reserving raises the consumption of the role and its ancestors; the ones that exist may
  // carry limits (a node created by this call has none).
  uint32_t deepest = kNoNode;
  for (size_t end = 0; end != std::string_view::npos;) {
    end = role.find('/', end + 1);
    auto it = role_by_path_.find(role.substr(0, end));
    if (it == role_by_path_.end()) break;
    deepest = it->second;
  }
  for (uint32_t n = deepest; n != kNoNode; n = roles_[n].parent) {
    for (const Resource& entry : resources.entries()) {
      if (entry.kind != ResourceKind::kScalar) continue;
      auto name = scalar_index_.find(entry.name);
      if (name == scalar_index_.end()) continue;
      int64_t headroom = NodeHeadroom(n, name->second);
      if (headroom != kUnlimited && entry.scalar > headroom) {
        return absl::FailedPreconditionError(
            absl::StrCat("reserving '", resources.ToString(), "' would take role '", roles_[n].path,
                         "' over its quota limit for ", entry.name));
      }
    }
  }
  InternRole(role);
  Resources reserved = resources.WithReservation(role);
  Vec unreserved;
  Resources other;
  Split(resources, &unreserved, &other);
  AdjustFreeUnreserved(agent, unreserved, -1);
  Agent& host = agents_[agent];
  if (!other.empty()) STEWARD_CHECK_OK(host.free_other.Subtract(other));
  STEWARD_CHECK_OK(host.free_other.Add(reserved));
  any_reservations_ = true;
  STEWARD_CHECK_OK(host.dynamic_reserved.Add(reserved));
  STEWARD_CHECK_OK(host.total.Subtract(resources));
  STEWARD_CHECK_OK(host.total.Add(reserved));
  AddReservedFree(reserved, 1);
  RefreshCovering(agent);
  return absl::OkStatus();
}

absl::Status Engine::Unreserve(AgentId id, const Resources& resources) {
  if (resources.empty()) return absl::InvalidArgumentError("nothing to unreserve");
  if (!resources.Unreserved().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resources to unreserve must carry their reservation, got '", resources.ToString(), "'"));
  }
  absl::StatusOr<uint32_t> checked = CheckAgent(id);
  if (!checked.ok()) return checked.status();
  uint32_t agent = *checked;
  Agent& host = agents_[agent];
  if (!host.free_other.Contains(resources)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", resources.ToString(), "' is not free on agent '", host.name, "'"));
  }
  if (!host.dynamic_reserved.Contains(resources)) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", resources.ToString(), "' is not dynamically reserved on agent '",
                     host.name, "' (static reservations cannot be unreserved)"));
  }
  Resources unreserved_bag = resources.WithReservation("");
  AddReservedFree(resources, -1);
  STEWARD_CHECK_OK(host.free_other.Subtract(resources));
  STEWARD_CHECK_OK(host.dynamic_reserved.Subtract(resources));
  STEWARD_CHECK_OK(host.total.Subtract(resources));
  STEWARD_CHECK_OK(host.total.Add(unreserved_bag));
  Vec unreserved;
  Resources other;
  Split(unreserved_bag, &unreserved, &other);
  AdjustFreeUnreserved(agent, unreserved, 1);
  if (!other.empty()) STEWARD_CHECK_OK(host.free_other.Add(other));
  RefreshCovering(agent);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Recovering resources.

absl::Status Engine::Recover(FrameworkId framework, AgentId agent, RoleId role,
                             const Resources& resources) {
  Vec unreserved;
  Resources other;
  return RecoverSplit(framework, agent, role, resources, &unreserved, &other);
}

absl::Status Engine::RecoverSplit(FrameworkId framework, AgentId agent, RoleId role,
                                  const Resources& resources, Vec* unreserved, Resources* other) {
  unreserved->clear();
  *other = Resources();
  absl::StatusOr<uint32_t> known = CheckFramework(framework);
  if (!known.ok()) return known.status();
  absl::StatusOr<uint32_t> host = CheckAgent(agent);
  if (!host.ok()) return host.status();
  absl::StatusOr<Subscription> checked = SubscriptionOf(*known, role);
  if (!checked.ok()) return checked.status();
  auto [fw, node, slot] = *checked;
  const Allocation* allocated = nullptr;
  for (const Allocation& allocation : agents_[*host].allocations) {
    if (allocation.framework == fw && allocation.role == node) allocated = &allocation;
  }
  if (resources.empty()) return absl::OkStatus();
  if (allocated == nullptr || !SplitHeld(*host, *allocated, resources, unreserved, other)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot recover '", resources.ToString(), "': framework '", frameworks_[fw].name,
        "' holds '", allocated == nullptr ? "" : AllocationResources(*allocated).ToString(),
        "' on agent '", agents_[*host].name, "' under role '", roles_[node].path, "'"));
  }
  ReleaseAllocation(fw, slot, *host, *unreserved, *other);
  return absl::OkStatus();
}

absl::Status Engine::AddInUse(FrameworkId framework, AgentId agent, RoleId role,
                              const Resources& resources) {
  if (absl::StatusOr<uint32_t> known = CheckFramework(framework); !known.ok()) {
    return known.status();
  }
  absl::StatusOr<uint32_t> host = CheckAgent(agent);
  if (!host.ok()) return host.status();
  absl::StatusOr<Subscription> checked = CheckSubscription(framework, role);
  if (!checked.ok()) return checked.status();
  auto [fw, node, slot] = *checked;
  if (resources.empty()) return absl::OkStatus();
  for (const Resource& entry : resources.entries()) {
    if (!entry.unreserved() && !IsSelfOrAncestor(entry.reservation, roles_[node].path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", resources.ToString(), "' holds resources reserved for '",
                       entry.reservation, "', which role '", roles_[node].path, "' may not use"));
    }
  }
  if (!FreeResources(*host).Contains(resources)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", resources.ToString(), "' is not free on agent '", agents_[*host].name, "'"));
  }
  Vec unreserved;
  Resources other;
  Split(resources, &unreserved, &other);
  AddAllocation(fw, slot, *host, unreserved, other);
  ReKeyDirty();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Read access.

absl::StatusOr<Resources> Engine::Total(AgentId agent) const {
  absl::StatusOr<uint32_t> checked = CheckAgent(agent);
  if (!checked.ok()) return checked.status();
  return agents_[*checked].total;
}

absl::StatusOr<Resources> Engine::Free(AgentId agent) const {
  absl::StatusOr<uint32_t> checked = CheckAgent(agent);
  if (!checked.ok()) return checked.status();
  return FreeResources(*checked);
}

absl::StatusOr<Resources> Engine::Allocated(AgentId agent) const {
  absl::StatusOr<uint32_t> checked = CheckAgent(agent);
  if (!checked.ok()) return checked.status();
  Resources sum;
  for (const Allocation& allocation : agents_[*checked].allocations) {
    STEWARD_CHECK_OK(sum.Add(AllocationResources(allocation)));
  }
  return sum;
}

absl::StatusOr<Resources> Engine::AllocatedTo(FrameworkId framework, AgentId agent,
                                              RoleId role) const {
  absl::StatusOr<uint32_t> fw = CheckFramework(framework);
  if (!fw.ok()) return fw.status();
  absl::StatusOr<uint32_t> host = CheckAgent(agent);
  if (!host.ok()) return host.status();
  absl::StatusOr<uint32_t> node = CheckRole(role);
  if (!node.ok()) return node.status();
  for (const Allocation& allocation : agents_[*host].allocations) {
    if (allocation.framework == *fw && allocation.role == *node) {
      return AllocationResources(allocation);
    }
  }
  return Resources();
}

absl::StatusOr<ResourceQuantities> Engine::Consumption(RoleId role) const {
  absl::StatusOr<uint32_t> node = CheckRole(role);
  if (!node.ok()) return node.status();
  ResourceQuantities out;
  const Vec& consumption = roles_[*node].consumption;
  for (size_t i = 0; i < consumption.size(); ++i) {
    if (consumption[i] != 0) out.Set(scalar_names_[i], consumption[i]);
  }
  return out;
}

absl::StatusOr<Quota> Engine::GetQuota(RoleId role) const {
  absl::StatusOr<uint32_t> node = CheckRole(role);
  if (!node.ok()) return node.status();
  Quota quota;
  const RoleNode& r = roles_[*node];
  for (size_t i = 0; i < r.guarantee.size(); ++i) {
    if (r.guarantee[i] > 0) quota.guarantee.Set(scalar_names_[i], r.guarantee[i]);
  }
  for (size_t i = 0; i < r.limit.size(); ++i) {
    if (r.limit[i] != kUnlimited) quota.limit.Set(scalar_names_[i], r.limit[i]);
  }
  return quota;
}

absl::StatusOr<double> Engine::RoleShare(RoleId role) const {
  absl::StatusOr<uint32_t> node = CheckRole(role);
  if (!node.ok()) return node.status();
  return NodeShare(roles_[*node]);
}

absl::StatusOr<double> Engine::FrameworkShare(FrameworkId framework, RoleId role) const {
  absl::StatusOr<Subscription> checked = CheckSubscription(framework, role);
  if (!checked.ok()) return checked.status();
  return Share(frameworks_[checked->framework].roles[checked->slot].allocated, 1.0);
}

std::vector<AgentId> Engine::Agents() const {
  std::vector<AgentId> out;
  for (uint32_t i = 0; i < agents_.size(); ++i) {
    if (agents_[i].live) out.emplace_back(i);
  }
  return out;
}

std::vector<FrameworkId> Engine::Frameworks() const {
  std::vector<FrameworkId> out;
  for (uint32_t i = 0; i < frameworks_.size(); ++i) {
    if (frameworks_[i].live) out.emplace_back(i);
  }
  return out;
}

absl::StatusOr<std::string> Engine::AgentName(AgentId agent) const {
  absl::StatusOr<uint32_t> checked = CheckAgent(agent);
  if (!checked.ok()) return checked.status();
  return agents_[*checked].name;
}

absl::StatusOr<std::string> Engine::FrameworkName(FrameworkId framework) const {
  absl::StatusOr<uint32_t> checked = CheckFramework(framework);
  if (!checked.ok()) return checked.status();
  return frameworks_[*checked].name;
}

}  // namespace steward::allocator
