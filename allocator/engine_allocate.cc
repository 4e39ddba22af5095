// Engine: the allocation cycle (the ALLOCATE paragraph of allocator.h).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/internal/check.h"
#include "allocator/internal/hot.h"
#include "allocator/sort_key.h"

namespace steward::allocator {

using internal::At;

STEWARD_HOT int64_t Engine::Surplus(size_t name) const {
  return std::max<int64_t>(0, At(available_, name) - At(required_, name));
}

int64_t Engine::MaxUnmet(uint32_t node, size_t name) const {
  int64_t unmet = 0;
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    unmet = std::max(unmet, At(roles_[n].unmet, name));
  }
  return unmet;
}

bool Engine::PathHasUnmet(uint32_t node) const {
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    if (!internal::AllZero(roles_[n].unmet)) return true;
  }
  return false;
}

bool Engine::Guaranteed(uint32_t node, size_t name) const {
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    if (At(roles_[n].guarantee, name) > 0) return true;
  }
  return false;
}

STEWARD_HOT bool Engine::AgentExhausted(uint32_t agent) const {
  if (screen_ != nullptr && agents_[agent].taken_cycle == cycle_) return true;
  for (const std::vector<int64_t>& column : free_columns_) {
    if (column[agent] != 0) return false;
  }
  return agents_[agent].free_other.empty();
}

int64_t Engine::NodeHeadroom(uint32_t node, size_t name) const {
  const RoleNode& role = roles_[node];
  if (!role.limited || name >= role.limit.size() || role.limit[name] == kUnlimited) {
    return kUnlimited;
  }
  return std::max<int64_t>(0, role.limit[name] - At(role.consumption, name));
}

STEWARD_HOT bool Engine::BuildCandidate(uint32_t node, uint32_t agent, int stage,
                                        Candidate* candidate, Reason* why, Walk* walk) const {
  const bool parallel = walk != nullptr && walk->cycle != nullptr;
  const RoleNode& role = roles_[node];
  const Agent& host = agents_[agent];
  // The walk's candidate is reused: zeroed in place when it has the size already (assign is
  // an out-of-line call).
  if (candidate->unreserved.size() == scalar_names_.size()) {
    std::fill(candidate->unreserved.begin(), candidate->unreserved.end(), 0);
  } else {
    candidate->unreserved.assign(scalar_names_.size(), 0);
  }
  candidate->owned_other = Resources();
  candidate->other = &candidate->owned_other;
  bool first_stage = stage == 1;
  bool progress = false;
  bool limited = false;
  // With limits on the path, a pool reserved for an ancestor a raises the consumption of the
  // nodes below a, so it is chopped to their headroom; `consumed` tracks what the candidate
  // already took at each path node (index 0: the role itself).
  std::vector<uint32_t>& path = walk != nullptr ? walk->path : scratch_path_;
  std::vector<Vec>& consumed = walk != nullptr ? walk->consumed : scratch_consumed_;
  path.clear();
  if (role.path_limited) {
    for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) path.push_back(n);
    if (consumed.size() < path.size()) consumed.resize(path.size());
    for (size_t j = 0; j < path.size(); ++j) consumed[j].clear();
  }
  auto allowed = [&](size_t below, size_t name) {
    int64_t amount = kUnlimited;
    for (size_t k = 0; k < below; ++k) {
      int64_t headroom =
          parallel ? ParallelNodeHeadroom(*walk, path[k], name) : NodeHeadroom(path[k], name);
      if (headroom != kUnlimited) amount = std::min(amount, headroom - At(consumed[k], name));
    }
    return amount;
  };
  bool any_reserved = false;
  for (const Resource& entry : host.free_other.entries()) any_reserved |= !entry.unreserved();
  if (!any_reserved) {
    candidate->other = &host.free_other;  // unreserved ranges and sets: in full, no copy
  } else {
    std::vector<Resource> taken;
    for (const Resource& entry : host.free_other.entries()) {
      if (entry.unreserved()) taken.push_back(entry);  // unreserved ranges and sets: in full
    }
    if (!role.path_limited) {
      for (const Resource& entry : host.free_other.entries()) {
        if (!entry.unreserved() && IsSelfOrAncestor(entry.reservation, role.path)) {
          taken.push_back(entry);
          progress = true;
        }
      }
    } else {
      for (size_t j = 0; j < path.size(); ++j) {  // nearest reservation first
        const std::string& owner = roles_[path[j]].path;
        for (const Resource& entry : host.free_other.entries()) {
          if (entry.unreserved() || entry.reservation != owner) continue;
          if (entry.kind != ResourceKind::kScalar) {
            taken.push_back(entry);
            progress = true;
            continue;
          }
          size_t name = scalar_index_.find(entry.name)->second;
          int64_t amount = std::min(entry.scalar, allowed(j, name));
          if (amount < entry.scalar) limited = true;
          if (amount <= 0) continue;
          for (size_t k = 0; k < j; ++k) internal::AddAt(consumed[k], name, amount);
          Resource& piece = taken.emplace_back(entry);
          piece.scalar = amount;
          progress = true;
        }
      }
    }
    if (!taken.empty()) candidate->owned_other = TrustedBag(std::move(taken));
  }
  bool held = false;
  for (size_t i = 0; i < scalar_names_.size(); ++i) {
    int64_t free = free_columns_[i][agent];
    if (free <= 0) continue;
    int64_t amount = free;
    if (role.path_limited) {
      int64_t headroom = allowed(path.size(), i);
      if (headroom < amount) {
        amount = std::max<int64_t>(0, headroom);
        limited = true;
      }
    }
    if (first_stage && role.path_guaranteed && Guaranteed(node, i)) {
      amount = std::min(amount, MaxUnmet(node, i));
      if (amount > 0) progress = true;
    } else if (At(required_, i) > 0) {
      int64_t surplus = parallel ? ParallelSurplus(*walk, i) : Surplus(i);
      if (surplus < amount) {
        amount = surplus;
        held = true;
      }
    }
    candidate->unreserved[i] = amount;
  }
  if (why != nullptr) {
    *why = held      ? Reason::kHeldForHeadroom
           : limited ? Reason::kQuotaLimit
                     : Reason::kInsufficientResources;
  }
  return !(first_stage && !progress) && !candidate->empty();
}

STEWARD_HOT bool Engine::MeetsMinAllocatable(const Framework& fw,
                                             const Candidate& candidate) const {
  if (fw.min_allocatable.empty()) return !candidate.empty();
  for (const Vec& alternative : fw.min_allocatable) {
    bool contained = true;
    for (size_t i = 0; i < alternative.size() && contained; ++i) {
      if (alternative[i] == 0) continue;
      int64_t amount = At(candidate.unreserved, i);
      for (const Resource& entry : candidate.other->entries()) {
        if (entry.kind == ResourceKind::kScalar && entry.name == scalar_names_[i]) {
          amount += entry.scalar;
        }
      }
      contained = amount >= alternative[i];
    }
    if (contained) return true;
  }
  return false;
}

STEWARD_HOT Resources Engine::OfferResources(Walk& walk, uint32_t agent,
                                             const Candidate& candidate) {
  Agent& host = agents_[agent];
  const bool same_other = candidate.other->SharesEntriesWith(host.last_offer_other);
  if (host.last_offer.empty() ||
      !internal::SameAmounts(candidate.unreserved, host.last_offer_unreserved) ||
      (!same_other && !(*candidate.other == host.last_offer_other))) {
    host.last_offer = SharedBag(walk, candidate.unreserved, *candidate.other);
    host.last_offer_unreserved = candidate.unreserved;
  }
  // Equal or not, remember the candidate's own bag: the next comparison is then usually
  // decided by identity, without reading the entries.
  if (!same_other) host.last_offer_other = *candidate.other;
  return host.last_offer;
}

STEWARD_HOT Resources Engine::SharedBag(Walk& walk, const Vec& unreserved, const Resources& other) {
  uint64_t hash = other.entries().size();
  for (size_t i = 0; i < unreserved.size(); ++i) {
    if (unreserved[i] != 0) hash = Mix64(hash ^ (static_cast<uint64_t>(unreserved[i]) + i));
  }
  RecentBag& recent = walk.recent_bags[hash % kRecentBags];
  if (recent.bag.empty() || !internal::SameAmounts(unreserved, recent.unreserved) ||
      !(other.SharesEntriesWith(recent.other) || other == recent.other)) {
    recent.bag = BuildResources(unreserved, other);
    recent.unreserved = unreserved;
    recent.other = other;
  }
  return recent.bag;
}

bool Engine::CommitParallel(Walk& walk, uint32_t framework, size_t slot, uint32_t node,
                            uint32_t agent) {
  // When another shard took the quota or headroom the candidate was built against, it is
  // built again (each failure means another shard's commit succeeded, so this ends).
  Candidate& candidate = walk.candidate;
  for (;;) {
    if (parallel_commit_hook_) parallel_commit_hook_(AgentId(agent));
    if (CommitShared(walk, framework, slot, candidate)) break;
    if (!BuildCandidate(node, agent, walk.stage, &candidate, nullptr, &walk)) return false;
    if (Filtered(framework, agent, candidate)) return false;
    if (!MeetsMinAllocatable(frameworks_[framework], candidate)) return false;
  }
  return true;
}

STEWARD_HOT bool Engine::TryOffer(Walk& walk, uint32_t framework, uint32_t node, uint32_t agent) {
  Framework& fw = frameworks_[framework];
  if (!fw.active) return false;
  if (FilterCoversAgent(framework, agent)) return false;  // one bit, before building anything
  size_t slot = SlotOf(fw, node);
  if (fw.roles[slot].suppressed) return false;
  if (agents_[agent].has_gpus && !fw.gpu_capable) return false;
  const int stage = walk.stage;
  Candidate& candidate = walk.candidate;
  if (!BuildCandidate(node, agent, stage, &candidate, nullptr, &walk)) return false;
  if (Filtered(framework, agent, candidate)) return false;
  if (!MeetsMinAllocatable(fw, candidate)) return false;
  if (walk.cycle != nullptr && !CommitParallel(walk, framework, slot, node, agent)) return false;
  if (screen_ != nullptr && ScreenOffer(framework, slot, node, agent, candidate)) return true;
  // Before the allocation, which may move the agent's free pool (candidate.other) away.
  Resources offered = OfferResources(walk, agent, candidate);
  if (walk.cycle == nullptr) {
    AddAllocation(framework, slot, agent, candidate.unreserved, *candidate.other);
  } else {
    AllocateOnAgent(framework, node, agent, candidate.unreserved, *candidate.other);
  }
  // At most one offer per (framework, agent, role) and cycle: stage two adds to stage one's.
  Agent& host = agents_[agent];
  uint64_t key = (uint64_t{framework} << 32) | node;
  if (stage == 2 && stage_one_offer_cycle_ == cycle_ && host.stage_one_cycle == cycle_) {
    for (const auto& [made, index] : host.stage_one_offers) {
      if (made != key) continue;
      STEWARD_CHECK_OK((*walk.stage_one)[index].resources.Add(offered));
      return true;
    }
  }
  std::vector<Offer>* offers = walk.offers;
  if (stage == 1) {
    stage_one_offer_cycle_ = cycle_;
    if (host.stage_one_cycle != cycle_) {
      host.stage_one_cycle = cycle_;
      host.stage_one_offers.clear();
    }
    host.stage_one_offers.emplace_back(key, offers->size());
  }
  offers->push_back({FrameworkId(framework), AgentId(agent), RoleId(node), std::move(offered)});
  return true;
}

namespace {

// The RANDOM sorter's order is consumed lazily: the walk usually stops after a few clients,
// when the agent is exhausted, so the first kLinearPops clients are found by a linear scan for
// the least key (cheaper than building a heap over every client; the first one is already
// known from filling the keys); a walk that goes on turns the rest into a min-heap. Keys are
// distinct, so comparing them by order alone gives the sorted order either way.
constexpr int kLinearPops = 4;

template <typename Key>
class LazyOrder {
 public:
  LazyOrder(std::vector<Key>& keys, size_t least) : keys_(keys), least_(least) {}

  bool Next(Key* key) {
    if (keys_.empty()) return false;
    auto less = [](const Key& a, const Key& b) { return a.order < b.order; };
    auto greater = [](const Key& a, const Key& b) { return b.order < a.order; };
    if (pops_ < kLinearPops) {
      auto least =
          pops_ == 0 ? keys_.begin() + least_ : std::min_element(keys_.begin(), keys_.end(), less);
      ++pops_;
      *key = *least;
      *least = keys_.back();
      keys_.pop_back();
      if (pops_ == kLinearPops) std::make_heap(keys_.begin(), keys_.end(), greater);
      return true;
    }
    std::pop_heap(keys_.begin(), keys_.end(), greater);
    *key = keys_.back();
    keys_.pop_back();
    return true;
  }

 private:
  std::vector<Key>& keys_;
  size_t least_;
  int pops_ = 0;
};

}  // namespace

// The walks below start on an agent with something free, and only an offer takes from it:
// exhaustion is checked after each offer, and a walk that finds the agent exhausted returns
// true so that its callers stop too.
STEWARD_HOT bool Engine::VisitFrameworks(Walk& walk, uint32_t node, uint32_t agent, size_t depth) {
  if (walk.stage == 1 && !PathHasUnmet(node)) return false;
  if (options_.sorter == SorterKind::kDrf) {
    for (const DrfFrameworkKey& key : FrameworkOrder(walk, node)) {
      if (TryOffer(walk, key.framework, node, agent) && AgentExhausted(agent)) return true;
    }
    return false;
  }
  // RANDOM. A single framework (the common case) is its own order.
  const std::vector<uint32_t>& frameworks = roles_[node].frameworks;
  if (frameworks.size() == 1) {
    return TryOffer(walk, frameworks[0], node, agent) && AgentExhausted(agent);
  }
  std::vector<FrameworkKey>& keys = *ScratchFrameworks(depth);
  LazyOrder<FrameworkKey> order(keys, OrderFrameworks(node, agent, &keys));
  FrameworkKey key;
  while (order.Next(&key)) {
    if (TryOffer(walk, key.framework, node, agent) && AgentExhausted(agent)) return true;
  }
  return false;
}

STEWARD_HOT bool Engine::WalkNodeOrder(Walk& walk, uint32_t node, uint32_t agent, size_t depth,
                                       bool covered) {
  bool owed_only = walk.stage == 1 && !covered;
  // Returns true when the agent is exhausted.
  auto visit = [&](const auto& key) {
    if (key.self) return !owed_only && VisitFrameworks(walk, key.id, agent, depth);
    const RoleNode& child = roles_[key.id];
    if (owed_only && child.unmet_in_subtree == 0) return false;
    return WalkNodeOrder(walk, key.id, agent, depth + 1,
                         covered || !internal::AllZero(child.unmet));
  };
  if (options_.sorter == SorterKind::kDrf) {
    for (const DrfChildKey& key : ChildOrder(walk, node)) {
      if (visit(key)) return true;
    }
    return false;
  }
  // RANDOM. A leaf role's only entry is its own frameworks (none when only owed subtrees
  // are visited): no order to draw.
  if (node != kNoNode && roles_[node].walk_children.empty()) {
    return !owed_only && !roles_[node].frameworks.empty() &&
           VisitFrameworks(walk, node, agent, depth);
  }
  std::vector<ChildKey>& keys = *ScratchChildren(depth);
  LazyOrder<ChildKey> order(keys, OrderChildren(node, agent, owed_only, &keys));
  ChildKey key;
  while (order.Next(&key)) {
    if (visit(key)) return true;
  }
  return false;
}

STEWARD_HOT bool Engine::AgentWalkable(uint32_t agent, int stage) const {
  const Agent& host = agents_[agent];
  if (!host.live || !host.active) return false;
  if (stage == 1 && unmet_nodes_ == 0) return false;
  if (host.covering_count >= live_frameworks_) return false;  // every framework filtered it
  return !AgentExhausted(agent);
}

STEWARD_HOT void Engine::AllocateAgent(Walk& walk, uint32_t agent) {
  if (!AgentWalkable(agent, walk.stage)) return;
  WalkNodeOrder(walk, kNoNode, agent, 0, /*covered=*/false);
  ReKeyDirty();
}

absl::StatusOr<std::vector<Offer>> Engine::Allocate(double now) {
  return AllocateScreened(now, nullptr);
}

STEWARD_HOT absl::StatusOr<std::vector<Offer>> Engine::AllocateScreened(double now,
                                                                        OfferScreen* screen) {
  if (!std::isfinite(now)) {
    return absl::InvalidArgumentError(absl::StrCat("now must be finite, got ", now));
  }
  if (absl::Status valid = options_.Validate(); !valid.ok()) return valid;
  ++cycle_;
  ExpireFilters(now);
  ReKeyDirty();
  std::vector<Offer> offers;
  offers.reserve(agent_by_name_.size());  // typically about one offer per live agent
  if (screen != nullptr && quota_nodes_ == 0) {
    screen_ = screen;
    screen_now_ = now;
    open_slots_ = 0;
    for (const Framework& fw : frameworks_) open_slots_ += OpenSlots(fw);
    drained_refuse_uniform_ = true;
    drained_only_ = 0;
    drained_only_declines_ = 0;
  }
  walk_.offers = &offers;
  walk_.stage_one = &offers;
  walk_.stage = 1;
  for (uint32_t agent = 0; agent < agents_.size() && unmet_nodes_ > 0; ++agent) {
    AllocateAgent(walk_, agent);
  }
  walk_.stage = 2;
  if (options_.allocation_shards > 1 && ParallelFallback() == nullptr) {
    AllocateParallel(&offers);
    return offers;
  }
  for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
    // Once every framework that could be offered something has drained, the rest of the
    // cycle only counts the agents a drained framework would have been offered.
    if (screen_ != nullptr && open_slots_ == 0 && !drained_.empty() && drained_refuse_uniform_) {
      if (drained_only_ == 0) drained_only_ = NoReservedFreeFrom(agent) ? 1 : -1;
      if (drained_only_ == 1) {
        DrainedOnly(agent);
        continue;
      }
    }
    AllocateAgent(walk_, agent);
  }
  if (screen_ != nullptr) {
    EndScreenedCycle();
    screen_ = nullptr;
  }
  return offers;
}

}  // namespace steward::allocator
