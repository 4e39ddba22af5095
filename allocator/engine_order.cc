// Engine: shares and the incremental hierarchical order.
//
// With the DRF sorter every role node keeps `order` (its walk children and, when frameworks
// subscribe to the node itself, a "self" entry) and `framework_order`, both keyed by
// (share, id). A key is changed only by erasing and re-inserting it, and only between agents
// (ReKeyDirty), so a walk over an agent never sees its order move. A change of the cluster
// total changes every share: then the whole order is rebuilt once, lazily (RebuildOrder).
// The RANDOM sorter keys depend on the agent, so its order is materialised per walk instead.
#include <algorithm>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "allocator/engine.h"
#include "allocator/internal/hot.h"
#include "allocator/sort_key.h"

namespace steward::allocator {

using internal::At;

STEWARD_HOT double Engine::Share(const Vec& amounts, double weight) const {
  // Branch-free: a resource with a non-positive total divides by +infinity and an absent
  // amount is 0, both giving 0, which never raises the maximum (it starts at +0, and a
  // negative quotient or -0 loses to it), so this equals skipping them. Division by a weight
  // of 1 is exact and skipped.
  const size_t n = std::min(amounts.size(), share_divisors_.size());
  const int64_t* amount = amounts.data();
  const double* divisor = share_divisors_.data();
  double share = 0;
  size_t i = 0;
#if defined(__SSE2__)
  // Two quotients per division instruction (SSE2 is in every x86-64 CPU). Each lane is the
  // same IEEE quotient as the scalar loop's, and _mm_max_pd(q, best) keeps best unless q is
  // larger, as std::max(best, q) does, so the result is bit-identical.
  if (n >= 2) {
    __m128d best = _mm_setzero_pd();
    for (; i + 2 <= n; i += 2) {
      const __m128d q =
          _mm_div_pd(_mm_set_pd(static_cast<double>(amount[i + 1]), static_cast<double>(amount[i])),
                     _mm_loadu_pd(divisor + i));
      best = _mm_max_pd(q, best);
    }
    share = std::max(_mm_cvtsd_f64(best), _mm_cvtsd_f64(_mm_unpackhi_pd(best, best)));
  }
#endif
  for (; i < n; ++i) {
    share = std::max(share, static_cast<double>(amount[i]) / divisor[i]);
  }
  return weight == 1.0 ? share : share / weight;
}

void Engine::RefreshShareDivisors() {
  share_divisors_.resize(cluster_total_.size());
  for (size_t i = 0; i < cluster_total_.size(); ++i) {
    share_divisors_[i] = cluster_total_[i] > 0 ? static_cast<double>(cluster_total_[i])
                                               : std::numeric_limits<double>::infinity();
  }
}

double Engine::NodeShare(const RoleNode& node) const {
  return Share(node.consumption, node.weight);
}

double Engine::SelfShare(const RoleNode& node) const {
  Vec own = node.own_allocated;
  internal::AddVec(own, node.own_unallocated_reserved);
  return Share(own, node.weight);
}

void Engine::RefreshSoleEntry(internal::OrderedKeys<DrfChildKey>& order) {
  if (order.size() != 1) return;
  DrfChildKey key = order.front();
  RoleNode& role = roles_[key.id];
  double share = key.self ? SelfShare(role) : NodeShare(role);
  if (share == key.order) return;
  order.clear();
  (key.self ? role.self_share : role.key_share) = share;
  key.order = share;
  order.insert(key);
}

void Engine::RefreshSoleFramework(uint32_t node) {
  internal::OrderedKeys<DrfFrameworkKey>& order = roles_[node].framework_order;
  if (order.size() != 1) return;
  DrfFrameworkKey key = order.front();
  FrameworkRole& entry = frameworks_[key.framework].roles[SlotOf(frameworks_[key.framework], node)];
  double share = Share(entry.allocated, 1.0);
  if (share == key.order) return;
  order.clear();
  entry.key_share = share;
  key.order = share;
  order.insert(key);
}

void Engine::JoinWalk(uint32_t node) {
  bool drf = options_.sorter == SorterKind::kDrf;
  RoleNode& leaf = roles_[node];
  if (leaf.frameworks.size() == 1 && drf) {
    RefreshSoleEntry(leaf.order);
    leaf.self_share = SelfShare(leaf);
    leaf.order.insert({leaf.self_share, node, true});
  }
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    RoleNode& role = roles_[n];
    if (++role.frameworks_in_subtree != 1) continue;
    std::vector<uint32_t>& siblings =
        role.parent == kNoNode ? root_walk_ : roles_[role.parent].walk_children;
    siblings.push_back(n);
    if (drf) {
      auto& parent_order = role.parent == kNoNode ? root_order_ : roles_[role.parent].order;
      RefreshSoleEntry(parent_order);
      role.key_share = NodeShare(role);
      parent_order.insert({role.key_share, n, false});
    }
  }
}

void Engine::LeaveWalk(uint32_t node) {
  bool drf = options_.sorter == SorterKind::kDrf;
  RoleNode& leaf = roles_[node];
  if (leaf.frameworks.empty() && drf) leaf.order.erase({leaf.self_share, node, true});
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) {
    RoleNode& role = roles_[n];
    if (--role.frameworks_in_subtree != 0) continue;
    std::vector<uint32_t>& siblings =
        role.parent == kNoNode ? root_walk_ : roles_[role.parent].walk_children;
    siblings.erase(std::find(siblings.begin(), siblings.end(), n));
    if (drf) {
      (role.parent == kNoNode ? root_order_ : roles_[role.parent].order)
          .erase({role.key_share, n, false});
    }
  }
}

STEWARD_HOT void Engine::ReKeyDirty() {
  if (order_stale_) {
    RebuildOrder();
    return;
  }
  bool drf = options_.sorter == SorterKind::kDrf;
  for (uint32_t n : dirty_nodes_) {
    RoleNode& role = roles_[n];
    role.dirty = false;
    if (!drf) continue;
    // An entry alone in its order cannot be out of order: its key is refreshed only when a
    // second entry joins (RefreshSoleEntry), which saves two tree updates per offer in the
    // common one-role and one-framework cases.
    if (role.frameworks_in_subtree > 0) {
      auto& parent_order = role.parent == kNoNode ? root_order_ : roles_[role.parent].order;
      double share = parent_order.size() > 1 ? NodeShare(role) : role.key_share;
      if (share != role.key_share) {
        parent_order.Rekey({role.key_share, n, false}, {share, n, false});
        role.key_share = share;
      }
    }
    if (!role.frameworks.empty()) {
      double share = role.order.size() > 1 ? SelfShare(role) : role.self_share;
      if (share != role.self_share) {
        role.order.Rekey({role.self_share, n, true}, {share, n, true});
        role.self_share = share;
      }
    }
  }
  dirty_nodes_.clear();
  for (auto [framework, slot] : dirty_framework_roles_) {
    FrameworkRole& entry = frameworks_[framework].roles[slot];
    entry.dirty = false;
    if (!drf || !frameworks_[framework].live) continue;
    auto& order = roles_[entry.role].framework_order;
    double share = order.size() > 1 ? Share(entry.allocated, 1.0) : entry.key_share;
    if (share != entry.key_share) {
      order.Rekey({entry.key_share, framework}, {share, framework});
      entry.key_share = share;
    }
  }
  dirty_framework_roles_.clear();
}

void Engine::RebuildOrder() {
  for (uint32_t n : dirty_nodes_) roles_[n].dirty = false;
  dirty_nodes_.clear();
  for (auto [framework, slot] : dirty_framework_roles_) {
    frameworks_[framework].roles[slot].dirty = false;
  }
  dirty_framework_roles_.clear();
  order_stale_ = false;
  if (options_.sorter != SorterKind::kDrf) return;
  root_order_.clear();
  for (uint32_t n : root_walk_) {
    roles_[n].key_share = NodeShare(roles_[n]);
    root_order_.insert({roles_[n].key_share, n, false});
  }
  for (uint32_t n = 0; n < roles_.size(); ++n) {
    RoleNode& role = roles_[n];
    role.order.clear();
    for (uint32_t child : role.walk_children) {
      roles_[child].key_share = NodeShare(roles_[child]);
      role.order.insert({roles_[child].key_share, child, false});
    }
    if (!role.frameworks.empty()) {
      role.self_share = SelfShare(role);
      role.order.insert({role.self_share, n, true});
    }
    role.framework_order.clear();
    for (uint32_t framework : role.frameworks) {
      FrameworkRole& entry = frameworks_[framework].roles[SlotOf(frameworks_[framework], n)];
      entry.key_share = Share(entry.allocated, 1.0);
      role.framework_order.insert({entry.key_share, framework});
    }
  }
}

namespace {

// Draws the RANDOM keys of keys[0, n), whose clients `client(key)` names, and returns the
// index of the least. A single client needs no key: it is first whatever its key would be,
// and skipping the draw saves the prefix's three mixes.
template <typename Key, typename ClientOf>
size_t DrawKeys(uint64_t seed, uint64_t cycle, uint64_t position, Key* keys, size_t n,
                ClientOf client) {
  if (n <= 1) return 0;
  const uint64_t prefix = RandomSortPrefix(seed, cycle, position);
  size_t least = 0;
  uint64_t least_order = ~uint64_t{0};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t order = RandomSortKeyFrom(prefix, client(keys[i]));
    keys[i].order = order;
    if (order < least_order) {
      least_order = order;
      least = i;
    }
  }
  return least;
}

}  // namespace

size_t Engine::OrderChildren(uint32_t node, uint64_t position, bool owed_only,
                             std::vector<ChildKey>* out) const {
  const std::vector<uint32_t>& children = node == kNoNode ? root_walk_ : roles_[node].walk_children;
  const bool self = !owed_only && node != kNoNode && !roles_[node].frameworks.empty();
  out->resize(children.size() + (self ? 1 : 0));
  ChildKey* keys = out->data();
  size_t n = 0;
  for (uint32_t child : children) {
    if (owed_only && roles_[child].unmet_in_subtree == 0) continue;
    keys[n++] = {0, child, false};
  }
  if (self) keys[n++] = {0, node, true};
  out->resize(n);
  return DrawKeys(options_.seed, cycle_, position, keys, n, [](const ChildKey& key) {
    return key.self ? SelfClient(key.id) : RoleClient(key.id);
  });
}

size_t Engine::OrderFrameworks(uint32_t node, uint64_t position,
                               std::vector<FrameworkKey>* out) const {
  const std::vector<uint32_t>& frameworks = roles_[node].frameworks;
  out->resize(frameworks.size());
  FrameworkKey* keys = out->data();
  for (size_t i = 0; i < frameworks.size(); ++i) keys[i] = {0, frameworks[i]};
  return DrawKeys(options_.seed, cycle_, position, keys, frameworks.size(),
                  [](const FrameworkKey& key) { return FrameworkClient(key.framework); });
}

std::vector<Engine::ChildKey>* Engine::ScratchChildren(size_t depth) {
  if (scratch_children_.size() <= depth) scratch_children_.resize(depth + 1);
  return &scratch_children_[depth];
}

std::vector<Engine::FrameworkKey>* Engine::ScratchFrameworks(size_t depth) {
  if (scratch_frameworks_.size() <= depth) scratch_frameworks_.resize(depth + 1);
  return &scratch_frameworks_[depth];
}

}  // namespace steward::allocator
