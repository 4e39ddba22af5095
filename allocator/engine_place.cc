// Engine: direct placement (the PLACE paragraph of allocator.h).
#include <algorithm>
#include <deque>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/sort_key.h"

namespace steward::allocator {

using internal::At;

struct Engine::PlaceState {
  std::vector<std::deque<size_t>> queues;  // by framework: request indexes, FIFO
  std::vector<char> open;                  // framework still placing
  std::vector<Vec> demands;                // by request
  std::vector<uint32_t> roles;             // by request: role node
  int open_count = 0;
};

namespace {

// How one agent failed a request; ordered so that a larger value is a better explanation.
enum class Miss { kNone, kInsufficient, kGpu, kLimit, kHeadroom };

}  // namespace

Reason Engine::TryPlace(uint32_t framework, size_t slot, const Vec& demand, PlacementPolicy policy,
                        uint32_t* chosen_agent, Vec* from_unreserved, Resources* from_reserved) {
  const Framework& fw = frameworks_[framework];
  uint32_t node = fw.roles[slot].role;
  const RoleNode& role = roles_[node];
  // Names of the demand in ascending name order (the scoring order).
  std::vector<size_t> names;
  for (size_t i : scalar_name_order_) {
    if (At(demand, i) > 0) names.push_back(i);
  }
  std::vector<int64_t> unmet(names.size()), surplus(names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    unmet[k] = MaxUnmet(node, names[k]);
    surplus[k] = Surplus(names[k]);
  }
  std::vector<uint32_t> path;
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) path.push_back(n);
  // taken[j * names + k]: what the split takes of name k from the pool reserved for path[j].
  std::vector<int64_t> taken(path.size() * names.size());
  // Splits the demand on `agent` into reserved pools (nearest reservation first) and
  // unreserved; returns the per-name usable amounts in `usable`.
  std::vector<int64_t> usable(names.size()), unreserved_part(names.size());
  std::vector<Resource> reserved_taken;
  auto split = [&](uint32_t agent, bool record) {
    const Agent& host = agents_[agent];
    if (record) reserved_taken.clear();
    for (size_t k = 0; k < names.size(); ++k) {
      usable[k] = free_columns_[names[k]][agent];
      unreserved_part[k] = At(demand, names[k]);
    }
    std::fill(taken.begin(), taken.end(), 0);
    if (host.free_other.empty()) return;
    for (size_t j = 0; j < path.size(); ++j) {
      for (const Resource& entry : host.free_other.entries()) {
        if (entry.kind != ResourceKind::kScalar || entry.reservation != roles_[path[j]].path) {
          continue;
        }
        for (size_t k = 0; k < names.size(); ++k) {
          if (scalar_names_[names[k]] != entry.name) continue;
          usable[k] += entry.scalar;
          int64_t take = std::min(entry.scalar, unreserved_part[k]);
          unreserved_part[k] -= take;
          taken[j * names.size() + k] = take;
          if (record && take > 0) {
            Resource& piece = reserved_taken.emplace_back(entry);
            piece.scalar = take;
          }
        }
      }
    }
  };
  // Taking unreserved resources raises the consumption of every node on the path; taking
  // from a pool reserved for path[m] raises it at path[0..m-1] only.
  auto within_limits = [&]() {
    if (!role.path_limited) return true;
    for (size_t j = 0; j < path.size(); ++j) {
      if (!roles_[path[j]].limited) continue;
      for (size_t k = 0; k < names.size(); ++k) {
        int64_t headroom = NodeHeadroom(path[j], names[k]);
        if (headroom == kUnlimited) continue;
        int64_t delta = unreserved_part[k];
        for (size_t m = j + 1; m < path.size(); ++m) delta += taken[m * names.size() + k];
        if (delta > headroom) return false;
      }
    }
    return true;
  };

  Miss best_miss = Miss::kNone;
  uint32_t best = kNoNode;
  double best_score = 0;
  for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
    const Agent& host = agents_[agent];
    if (!host.live || !host.active) continue;
    split(agent, false);
    bool fits = true;
    for (size_t k = 0; k < names.size() && fits; ++k) fits = usable[k] >= At(demand, names[k]);
    Miss miss = Miss::kNone;
    if (!fits) {
      miss = Miss::kInsufficient;
    } else if (host.has_gpus && !fw.gpu_capable) {
      miss = Miss::kGpu;
    } else {
      if (!within_limits()) miss = Miss::kLimit;
      if (miss == Miss::kNone) {
        for (size_t k = 0; k < names.size(); ++k) {
          int64_t excess = unreserved_part[k] - std::min(unreserved_part[k], unmet[k]);
          if (excess > surplus[k]) miss = Miss::kHeadroom;
        }
      }
    }
    if (miss != Miss::kNone) {
      best_miss = std::max(best_miss, miss);
      continue;
    }
    if (policy == PlacementPolicy::kFirstFit) {
      best = agent;
      break;
    }
    double score = 0;
    for (size_t k = 0; k < names.size(); ++k) {
      double cap = static_cast<double>(total_columns_[names[k]][agent]);
      int64_t d = At(demand, names[k]);
      if (policy == PlacementPolicy::kDotProduct) {
        score += (static_cast<double>(d) / cap) * (static_cast<double>(usable[k]) / cap);
      } else {
        score += static_cast<double>(usable[k] - d) / cap;
      }
    }
    bool better = best == kNoNode ||
                  (policy == PlacementPolicy::kBestFit ? score < best_score : score > best_score);
    if (better) {
      best = agent;
      best_score = score;
    }
  }
  if (best == kNoNode) {
    switch (best_miss) {
      case Miss::kHeadroom:
        return Reason::kHeldForHeadroom;
      case Miss::kLimit:
        return Reason::kQuotaLimit;
      case Miss::kGpu:
        return Reason::kMissingGpuCapability;
      default:
        return Reason::kInsufficientResources;
    }
  }
  split(best, true);
  *chosen_agent = best;
  from_unreserved->assign(scalar_names_.size(), 0);
  for (size_t k = 0; k < names.size(); ++k) (*from_unreserved)[names[k]] = unreserved_part[k];
  *from_reserved = reserved_taken.empty() ? Resources() : TrustedBag(std::move(reserved_taken));
  return Reason::kNone;
}

uint32_t Engine::NextPlacementFramework(PlaceState& state, uint64_t step) {
  bool drf = options_.sorter == SorterKind::kDrf;
  // Returns the first open framework in hierarchical order whose head request is at `node`
  // (and, with tier_one, whose head request demands a name with unmet guarantee).
  auto head_matches = [&](uint32_t framework, uint32_t node, bool tier_one) {
    if (!state.open[framework]) return false;
    size_t request = state.queues[framework].front();
    if (state.roles[request] != node) return false;
    if (!tier_one) return true;
    const Vec& demand = state.demands[request];
    for (size_t i = 0; i < demand.size(); ++i) {
      if (demand[i] > 0 && MaxUnmet(node, i) > 0) return true;
    }
    return false;
  };
  std::function<uint32_t(uint32_t, size_t, bool)> walk = [&](uint32_t node, size_t depth,
                                                             bool tier_one) -> uint32_t {
    auto visit_frameworks = [&](uint32_t role) -> uint32_t {
      if (roles_[role].open_in_subtree == 0) return kNoNode;
      if (drf) {
        for (const DrfFrameworkKey& key : roles_[role].framework_order) {
          if (head_matches(key.framework, role, tier_one)) return key.framework;
        }
        return kNoNode;
      }
      std::vector<FrameworkKey>& order = *ScratchFrameworks(depth);
      OrderFrameworks(role, step, &order);
      std::sort(order.begin(), order.end());
      for (const FrameworkKey& key : order) {
        if (head_matches(key.framework, role, tier_one)) return key.framework;
      }
      return kNoNode;
    };
    auto visit = [&](const auto& key) -> uint32_t {
      if (key.self) return visit_frameworks(key.id);
      if (roles_[key.id].open_in_subtree == 0) return kNoNode;
      return walk(key.id, depth + 1, tier_one);
    };
    if (drf) {
      for (const DrfChildKey& key : node == kNoNode ? root_order_ : roles_[node].order) {
        if (uint32_t found = visit(key); found != kNoNode) return found;
      }
      return kNoNode;
    }
    std::vector<ChildKey>& order = *ScratchChildren(depth);
    OrderChildren(node, step, /*owed_only=*/false, &order);
    std::sort(order.begin(), order.end());
    for (const ChildKey& key : order) {
      if (uint32_t found = visit(key); found != kNoNode) return found;
    }
    return kNoNode;
  };
  if (unmet_nodes_ > 0) {
    if (uint32_t found = walk(kNoNode, 0, true); found != kNoNode) return found;
  }
  return walk(kNoNode, 0, false);
}

absl::StatusOr<std::vector<PlacementDecision>> Engine::Place(std::span<const TaskRequest> requests,
                                                             PlacementPolicy policy) {
  // Validate everything before touching the state.
  for (size_t r = 0; r < requests.size(); ++r) {
    const TaskRequest& request = requests[r];
    auto fail = [&](const absl::Status& status) {
      return absl::Status(status.code(), absl::StrCat("request ", r, ": ", status.message()));
    };
    if (request.demand.empty()) return fail(absl::InvalidArgumentError("empty demand"));
    for (const Resource& entry : request.demand.entries()) {
      if (entry.kind != ResourceKind::kScalar || !entry.unreserved()) {
        return fail(absl::InvalidArgumentError(absl::StrCat(
            "demand must be unreserved scalars, got '", request.demand.ToString(), "'")));
      }
    }
    if (absl::StatusOr<Subscription> checked = CheckSubscription(request.framework, request.role);
        !checked.ok()) {
      return fail(checked.status());
    }
  }
  ++cycle_;
  ReKeyDirty();
  PlaceState state;
  state.queues.resize(frameworks_.size());
  state.open.assign(frameworks_.size(), 0);
  std::vector<PlacementDecision> decisions(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    uint32_t fw = requests[r].framework.value();
    state.demands.push_back(ScalarSums(requests[r].demand));
    state.roles.push_back(requests[r].role.value());
    if (!frameworks_[fw].active) {
      decisions[r].reason = Reason::kFrameworkInactive;
      continue;
    }
    state.queues[fw].push_back(r);
  }
  auto set_open = [&](uint32_t fw, bool open) {
    if (static_cast<bool>(state.open[fw]) == open) return;
    state.open[fw] = open;
    state.open_count += open ? 1 : -1;
    for (uint32_t n = state.roles[state.queues[fw].front()]; n != kNoNode; n = roles_[n].parent) {
      roles_[n].open_in_subtree += open ? 1 : -1;
    }
  };
  for (uint32_t fw = 0; fw < frameworks_.size(); ++fw) {
    if (!state.queues[fw].empty()) set_open(fw, true);
  }
  for (uint64_t step = 0; state.open_count > 0; ++step) {
    uint32_t fw = NextPlacementFramework(state, step);
    size_t request = state.queues[fw].front();
    size_t slot = SlotOf(frameworks_[fw], state.roles[request]);
    uint32_t agent = kNoNode;
    Vec unreserved;
    Resources reserved;
    Reason reason =
        TryPlace(fw, slot, state.demands[request], policy, &agent, &unreserved, &reserved);
    set_open(fw, false);
    PlacementDecision& decision = decisions[request];
    decision.reason = reason;
    state.queues[fw].pop_front();
    if (reason == Reason::kNone) {
      decision.agent = AgentId(agent);
      decision.resources = BuildResources(unreserved, reserved);
      AddAllocation(fw, slot, agent, unreserved, reserved);
      ReKeyDirty();
      if (!state.queues[fw].empty()) set_open(fw, true);
    } else {
      for (size_t rest : state.queues[fw]) decisions[rest].reason = Reason::kQueuedBehind;
      state.queues[fw].clear();
    }
  }
  return decisions;
}

}  // namespace steward::allocator
