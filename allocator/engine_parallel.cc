// Engine: stage two of a cycle over agent shards on oneTBB (AllocatorOptions::allocation_shards
// > 1). See docs/allocator.md, "Parallel cycles", for the design and the deviation bound.
//
// The agents are split into S contiguous ranges, one walk (shard) each. Everything a walk
// writes on an agent (free pools, allocation records, last-offer caches, stage-one offers of
// that agent) belongs to one shard. The engine's plain state is read-only for the phase; the
// cycle's changes to it are deltas:
//   - quota counters, shared atomics in ParallelCycle: the consumption of a limited node in a
//     scalar it limits, raised by a CAS loop that never takes it past the limit, and the
//     available amount of a scalar that headroom is held for, lowered by a CAS loop that never
//     takes it below required_ as it was when the phase began (required_ only falls as
//     consumption grows, so this holds back at least as much as the sequential walk would).
//     A failed commit is undone and the candidate built again;
//   - fair-share counters ((framework, role) allocations, node own allocations and free
//     reservations), per shard, summed when the phase ends.
// Each shard orders clients with its own copy of the DRF order, keyed by its view of the
// shares. The shards run in lockstep rounds of `allocation_round_agents` agents each; each
// shard logs its commits, and at the start of a round applies the other shards' logs of the
// round before to its view and re-keys. Within a round it sees its own allocations at once
// and the others' not at all, so the order it walks misses at most (S - 1) * K offers, and
// the outcome does not depend on thread timing (except where quota or headroom commits race).
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "allocator/engine.h"
#include "allocator/internal/check.h"
#include "oneapi/tbb/info.h"
#include "oneapi/tbb/task_arena.h"
#include "oneapi/tbb/task_group.h"

namespace steward::allocator {

using internal::AddAt;
using internal::AddVec;
using internal::At;

namespace {

// A fixed array of zero-initialised atomics, reused across cycles.
template <typename T>
class AtomicArray {
 public:
  void Reset(size_t size) {
    if (size > capacity_) {
      data_ = std::make_unique<std::atomic<T>[]>(size);
      capacity_ = size;
    }
    for (size_t i = 0; i < size; ++i) data_[i].store(0, std::memory_order_relaxed);
    size_ = size;
  }
  std::atomic<T>& operator[](size_t i) { return data_[i]; }
  T Load(size_t i) const { return data_[i].load(std::memory_order_relaxed); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<std::atomic<T>[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace

struct Engine::ParallelCycle {
  size_t scalars = 0;
  size_t shards = 0;                // this cycle's (at most allocation_shards, at most the agents)
  std::vector<uint32_t> slot_base;  // framework -> first flat slot
  std::vector<std::pair<uint32_t, uint32_t>> slot_of;  // flat slot -> (framework, slot)
  // Quota counters (deltas over the plain state): node consumption, touched only for limited
  // nodes in the scalars they limit, and available scalars, only where headroom is held.
  AtomicArray<int64_t> node_consumption;  // [node * scalars + i]
  AtomicArray<int64_t> available;
  // Blocks of the phase (see AllocateParallel): the next to take, and how many are done.
  std::atomic<uint64_t> next_ticket{0};
  std::atomic<uint64_t> done_tickets{0};
  std::unique_ptr<tbb::task_arena> arena;
  int arena_threads = 0;
};

void Engine::ParallelCycleDeleter::operator()(ParallelCycle* cycle) const { delete cycle; }

const char* Engine::ParallelFallback() const {
  if (options_.sorter != SorterKind::kDrf) {
    return "the RANDOM sorter draws a fresh order for every agent";
  }
  if (screen_ != nullptr) return "a screened cycle shows offers one by one, in order";
  if (agents_.size() < 2) return "fewer than two agents";
  return nullptr;
}

namespace {

// Publishes a cycle's set-up to its helper threads in a way ThreadSanitizer can see (it cannot
// see the hand-off inside libtbb, which Debian does not instrument): the calling thread
// increments it (release) before the helpers are started, and every helper loads it (acquire)
// before it touches the cycle. A static, so that it is never written before that (a counter
// inside ParallelCycle would be, by its construction, and the helper's first access to it
// would then be reported as racing with that write).
std::atomic<uint64_t> cycle_publication{0};

// Share() over base + delta: the same arithmetic, the amounts summed first.
double ViewShare(const internal::Vec& cluster_total, const internal::Vec& base,
                 const internal::Vec* extra, const int64_t* delta, double weight) {
  double share = 0;
  for (size_t i = 0; i < cluster_total.size(); ++i) {
    int64_t amount = At(base, i) + delta[i];
    if (extra != nullptr) amount += At(*extra, i);
    if (cluster_total[i] <= 0 || amount == 0) continue;
    share = std::max(share, static_cast<double>(amount) / static_cast<double>(cluster_total[i]));
  }
  return share / weight;
}

}  // namespace

int64_t Engine::ParallelNodeHeadroom(const Walk& walk, uint32_t node, size_t name) const {
  const RoleNode& role = roles_[node];
  if (!role.limited || name >= role.limit.size() || role.limit[name] == kUnlimited) {
    return kUnlimited;
  }
  const ParallelCycle& cycle = *walk.cycle;
  const int64_t consumed =
      At(role.consumption, name) + cycle.node_consumption.Load(node * cycle.scalars + name);
  return std::max<int64_t>(0, role.limit[name] - consumed);
}

int64_t Engine::ParallelSurplus(const Walk& walk, size_t name) const {
  const int64_t available = At(available_, name) + walk.cycle->available.Load(name);
  return std::max<int64_t>(0, available - At(required_, name));
}

bool Engine::CommitShared(Walk& walk, uint32_t framework, size_t slot, const Candidate& candidate) {
  ParallelCycle& cycle = *walk.cycle;
  const size_t width = cycle.scalars;
  const uint32_t role = frameworks_[framework].roles[slot].role;
  const uint32_t flat = cycle.slot_base[framework] + static_cast<uint32_t>(slot);

  // Share sums: unreserved plus reserved scalars.
  Vec& sums = walk.sums;
  sums = candidate.unreserved;
  for (const Resource& piece : candidate.other->entries()) {
    if (piece.kind == ResourceKind::kScalar) {
      AddAt(sums, scalar_index_.find(piece.name)->second, piece.scalar);
    }
  }
  // Quota counters, shared: the consumption of a limited node in a scalar it limits, and the
  // available amount of a scalar that headroom is held for. Checked changes first, undone
  // whole if one fails.
  auto& applied = walk.applied;
  applied.clear();
  auto undo = [&] {
    for (auto [counter, amount] : applied) counter->fetch_sub(amount, std::memory_order_relaxed);
    applied.clear();
    return false;
  };
  if (roles_[role].path_limited) {
    // Each path node's change of consumption: the sums, less reserved scalars at their owner
    // (an ancestor or the role itself) and above, where they already counted as unallocated
    // reservations.
    std::vector<uint32_t>& path = walk.path;
    path.clear();
    for (uint32_t n = role; n != kNoNode; n = roles_[n].parent) path.push_back(n);
    std::vector<Vec>& net = walk.consumed;
    if (net.size() < path.size()) net.resize(path.size());
    for (size_t j = 0; j < path.size(); ++j) net[j] = sums;
    for (const Resource& piece : candidate.other->entries()) {
      if (piece.unreserved() || piece.kind != ResourceKind::kScalar) continue;
      const uint32_t owner = role_by_path_.find(piece.reservation)->second;
      const size_t name = scalar_index_.find(piece.name)->second;
      size_t k = 0;
      while (k < path.size() && path[k] != owner) ++k;
      STEWARD_CHECK(k < path.size());
      for (size_t j = k; j < path.size(); ++j) AddAt(net[j], name, -piece.scalar);
    }
    for (size_t j = 0; j < path.size(); ++j) {
      const RoleNode& node = roles_[path[j]];
      if (!node.limited) continue;
      for (size_t i = 0; i < net[j].size() && i < node.limit.size(); ++i) {
        const int64_t change = net[j][i];
        if (change == 0 || node.limit[i] == kUnlimited) continue;
        std::atomic<int64_t>& counter = cycle.node_consumption[path[j] * width + i];
        if (change > 0) {
          const int64_t base = At(node.consumption, i);
          int64_t seen = counter.load(std::memory_order_relaxed);
          do {
            if (base + seen + change > node.limit[i]) return undo();
          } while (!counter.compare_exchange_weak(seen, seen + change, std::memory_order_relaxed));
        } else {
          counter.fetch_add(change, std::memory_order_relaxed);
        }
        applied.emplace_back(&counter, change);
      }
    }
  }
  for (size_t i = 0; i < candidate.unreserved.size(); ++i) {
    const int64_t amount = candidate.unreserved[i];
    const int64_t required = At(required_, i);
    if (amount == 0 || required <= 0) continue;
    std::atomic<int64_t>& counter = cycle.available[i];
    const int64_t base = At(available_, i);
    int64_t seen = counter.load(std::memory_order_relaxed);
    do {
      if (base + seen - amount < required) return undo();
    } while (!counter.compare_exchange_weak(seen, seen - amount, std::memory_order_relaxed));
    applied.emplace_back(&counter, -amount);
  }

  // The fair-share counters: this shard's own deltas (summed over shards when the phase ends),
  // and its view now; the other shards' views at the start of the next round, from its log.
  for (size_t i = 0; i < sums.size(); ++i) {
    if (sums[i] == 0) continue;
    walk.slot_delta[flat * width + i] += sums[i];
    walk.node_own_delta[role * width + i] += sums[i];
  }
  for (size_t i = 0; i < candidate.unreserved.size(); ++i) {
    walk.available_delta[i] -= candidate.unreserved[i];
  }
  const size_t parity = walk.round % 2;
  std::vector<Walk::ReservedPiece>& pieces = walk.log_reserved[parity];
  const uint32_t reserved_begin = static_cast<uint32_t>(pieces.size());
  for (const Resource& piece : candidate.other->entries()) {
    if (piece.unreserved() || piece.kind != ResourceKind::kScalar) continue;
    const uint32_t owner = role_by_path_.find(piece.reservation)->second;
    const size_t name = scalar_index_.find(piece.name)->second;
    walk.node_reserved_delta[owner * width + name] -= piece.scalar;
    pieces.push_back({owner, static_cast<uint32_t>(name), piece.scalar});
  }
  Walk::Commit& commit = walk.log[parity].emplace_back();
  commit.flat = flat;
  commit.role = role;
  commit.sums = sums;
  commit.reserved_begin = reserved_begin;
  commit.reserved_end = static_cast<uint32_t>(pieces.size());
  ApplyCommit(walk, commit, pieces);
  applied.clear();
  return true;
}

void Engine::ApplyCommit(Walk& walk, const Walk::Commit& commit,
                         const std::vector<Walk::ReservedPiece>& reserved) {
  const size_t width = walk.cycle->scalars;
  auto mark_node = [&](uint32_t n) {
    if (walk.node_dirty[n]) return;
    walk.node_dirty[n] = 1;
    walk.dirty_nodes.push_back(n);
  };
  for (size_t i = 0; i < commit.sums.size(); ++i) {
    const int64_t amount = commit.sums[i];
    if (amount == 0) continue;
    walk.slot_view[commit.flat * width + i] += amount;
    walk.node_self_view[commit.role * width + i] += amount;
    for (uint32_t n = commit.role; n != kNoNode; n = roles_[n].parent) {
      walk.node_consumption_view[n * width + i] += amount;
    }
  }
  for (uint32_t n = commit.role; n != kNoNode; n = roles_[n].parent) mark_node(n);
  for (uint32_t k = commit.reserved_begin; k < commit.reserved_end; ++k) {
    const Walk::ReservedPiece& piece = reserved[k];
    walk.node_self_view[piece.owner * width + piece.name] -= piece.amount;
    for (uint32_t n = piece.owner; n != kNoNode; n = roles_[n].parent) {
      walk.node_consumption_view[n * width + piece.name] -= piece.amount;
    }
  }
  if (!walk.slot_dirty[commit.flat]) {
    walk.slot_dirty[commit.flat] = 1;
    walk.dirty_slots.push_back(commit.flat);
  }
}

void Engine::ReKeyShardNode(Walk& walk, uint32_t n) {
  const RoleNode& role = roles_[n];
  const size_t width = walk.cycle->scalars;
  if (role.frameworks_in_subtree > 0) {
    auto& parent_order = role.parent == kNoNode ? walk.root_order : walk.node_order[role.parent];
    // A sole entry is in order whatever its key (as in ReKeyDirty).
    if (parent_order.size() > 1) {
      const double share = ViewShare(cluster_total_, role.consumption, nullptr,
                                     &walk.node_consumption_view[n * width], role.weight);
      if (share != walk.node_key[n]) {
        parent_order.Rekey({walk.node_key[n], n, false}, {share, n, false});
        walk.node_key[n] = share;
      }
    }
  }
  if (!role.frameworks.empty() && walk.node_order[n].size() > 1) {
    const double share =
        ViewShare(cluster_total_, role.own_allocated, &role.own_unallocated_reserved,
                  &walk.node_self_view[n * width], role.weight);
    if (share != walk.self_key[n]) {
      walk.node_order[n].Rekey({walk.self_key[n], n, true}, {share, n, true});
      walk.self_key[n] = share;
    }
  }
}

void Engine::ReKeyShardSlot(Walk& walk, uint32_t flat) {
  const auto [framework, slot] = walk.cycle->slot_of[flat];
  if (!frameworks_[framework].live) return;
  const FrameworkRole& entry = frameworks_[framework].roles[slot];
  auto& order = walk.framework_order[entry.role];
  if (order.size() <= 1) return;
  const double share = ViewShare(cluster_total_, entry.allocated, nullptr,
                                 &walk.slot_view[flat * walk.cycle->scalars], 1.0);
  if (share != walk.slot_key[flat]) {
    order.Rekey({walk.slot_key[flat], framework}, {share, framework});
    walk.slot_key[flat] = share;
  }
}

void Engine::ReKeyShard(Walk& walk) {
  for (uint32_t n : walk.dirty_nodes) {
    walk.node_dirty[n] = 0;
    ReKeyShardNode(walk, n);
  }
  walk.dirty_nodes.clear();
  for (uint32_t flat : walk.dirty_slots) {
    walk.slot_dirty[flat] = 0;
    ReKeyShardSlot(walk, flat);
  }
  walk.dirty_slots.clear();
}

void Engine::RefreshShard(Walk& walk) {
  // The other shards' logs of the round before are complete (every block of that round is
  // done) and are not written during this one (they write the other parity). Only this
  // cycle's shards: shard_walks_ keeps the walks of earlier cycles with more shards.
  const size_t parity = (walk.round - 1) % 2;
  for (size_t s = 0; s < walk.cycle->shards; ++s) {
    const Walk& other = *shard_walks_[s];
    if (&other == &walk) continue;
    for (const Walk::Commit& commit : other.log[parity]) {
      ApplyCommit(walk, commit, other.log_reserved[parity]);
    }
  }
  ReKeyShard(walk);
}

void Engine::AllocateParallel(std::vector<Offer>* offers) {
  const size_t num_agents = agents_.size();
  const size_t shards = std::min(static_cast<size_t>(options_.allocation_shards), num_agents);
  const size_t round = static_cast<size_t>(options_.allocation_round_agents);
  if (!parallel_) parallel_.reset(new ParallelCycle());
  ParallelCycle& cycle = *parallel_;
  const size_t width = scalar_names_.size();
  const size_t nodes = roles_.size();
  cycle.scalars = width;
  cycle.shards = shards;
  cycle.slot_base.resize(frameworks_.size());
  cycle.slot_of.clear();
  for (uint32_t f = 0; f < frameworks_.size(); ++f) {
    cycle.slot_base[f] = static_cast<uint32_t>(cycle.slot_of.size());
    for (uint32_t s = 0; s < frameworks_[f].roles.size(); ++s) cycle.slot_of.emplace_back(f, s);
  }
  const size_t slots = cycle.slot_of.size();
  cycle.node_consumption.Reset(nodes * width);
  cycle.available.Reset(width);
  // Shards are tasks, not threads: on fewer cores than shards an arena thread runs several
  // shards of a round one after the other (the rounds, and so the result, stay the same).
  const int threads = std::min(static_cast<int>(shards), tbb::info::default_concurrency());
  if (cycle.arena_threads != threads) {
    cycle.arena = std::make_unique<tbb::task_arena>(threads);
    cycle.arena_threads = threads;
  }

  // Each shard starts from the engine's order as it stands (ReKeyDirty ran after stage one).
  if (shard_walks_.size() < shards) shard_walks_.resize(shards);
  std::vector<std::vector<Offer>> shard_offers(shards);
  std::vector<std::pair<size_t, size_t>> ranges(shards);
  size_t longest = 0;
  for (size_t s = 0; s < shards; ++s) {
    if (!shard_walks_[s]) shard_walks_[s] = std::make_unique<Walk>();
    Walk& walk = *shard_walks_[s];
    walk.stage = 2;
    walk.offers = &shard_offers[s];
    walk.stage_one = offers;
    walk.cycle = &cycle;
    walk.index = s;
    walk.root_order = root_order_;
    walk.node_order.resize(nodes);
    walk.framework_order.resize(nodes);
    walk.node_key.resize(nodes);
    walk.self_key.resize(nodes);
    for (uint32_t n = 0; n < nodes; ++n) {
      walk.node_order[n] = roles_[n].order;
      walk.framework_order[n] = roles_[n].framework_order;
      walk.node_key[n] = roles_[n].key_share;
      walk.self_key[n] = roles_[n].self_share;
    }
    walk.slot_key.resize(slots);
    for (uint32_t flat = 0; flat < slots; ++flat) {
      const auto [f, slot] = cycle.slot_of[flat];
      walk.slot_key[flat] = frameworks_[f].roles[slot].key_share;
    }
    walk.node_consumption_view.assign(nodes * width, 0);
    walk.node_self_view.assign(nodes * width, 0);
    walk.slot_view.assign(slots * width, 0);
    for (size_t parity = 0; parity < 2; ++parity) {
      walk.log[parity].clear();
      walk.log_reserved[parity].clear();
    }
    walk.node_dirty.assign(nodes, 0);
    walk.slot_dirty.assign(slots, 0);
    walk.dirty_nodes.clear();
    walk.dirty_slots.clear();
    walk.slot_delta.assign(slots * width, 0);
    walk.node_own_delta.assign(nodes * width, 0);
    walk.node_reserved_delta.assign(nodes * width, 0);
    walk.available_delta.assign(width, 0);
    ranges[s] = {num_agents * s / shards, num_agents * (s + 1) / shards};
    shard_offers[s].reserve(ranges[s].second - ranges[s].first);  // about one per agent
    longest = std::max(longest, ranges[s].second - ranges[s].first);
  }

  // The blocks (round r, shard s) are tickets taken in order, r * shards + s, by the calling
  // thread and arena helpers alike; a block starts once every block of the rounds before it
  // is done. A thread waits only for blocks that other running threads have taken, so the
  // calling thread alone finishes the cycle when no helper gets a core (no deadlock, and no
  // wait for a helper to wake up at every round, which costs more than a round on a busy
  // machine). The acquire/release pairs on the two counters also order every write of a
  // round before every read of the next for ThreadSanitizer, which cannot see inside libtbb.
  const uint64_t rounds = (longest + round - 1) / round;
  const uint64_t tickets = rounds * shards;
  cycle.done_tickets.store(0, std::memory_order_relaxed);
  cycle.next_ticket.store(0, std::memory_order_relaxed);
  cycle_publication.fetch_add(1, std::memory_order_release);
  auto run_tickets = [&] {
    (void)cycle_publication.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t ticket = cycle.next_ticket.fetch_add(1, std::memory_order_acq_rel);
      if (ticket >= tickets) return;
      const size_t r = ticket / shards;
      const size_t s = ticket % shards;
      const uint64_t before = uint64_t{r} * shards;
      for (int spins = 0; cycle.done_tickets.load(std::memory_order_acquire) < before; ++spins) {
        if (spins >= 64) std::this_thread::yield();
      }
      Walk& walk = *shard_walks_[s];
      walk.round = r;
      // This round's log: the other parity's (round r - 2) was read at the start of round
      // r - 1, all done, so nobody reads this one now.
      walk.log[r % 2].clear();
      walk.log_reserved[r % 2].clear();
      if (r > 0) RefreshShard(walk);
      const size_t first = ranges[s].first + r * round;
      const size_t last = std::min(ranges[s].second, first + round);
      for (size_t agent = first; agent < last; ++agent) {
        const uint32_t id = static_cast<uint32_t>(agent);
        if (!AgentWalkable(id, 2)) continue;
        WalkNodeOrder(walk, kNoNode, id, 0, /*covered=*/false);
        ReKeyShard(walk);
      }
      cycle.done_tickets.fetch_add(1, std::memory_order_acq_rel);
    }
  };
  cycle.arena->execute([&] {
    tbb::task_group helpers;
    for (int t = 1; t < cycle.arena_threads; ++t) helpers.run(run_tickets);
    run_tickets();
    helpers.wait();
  });
  const uint64_t done = cycle.done_tickets.load(std::memory_order_acquire);
  STEWARD_CHECK(done == tickets);

  // Fold the deltas into the plain state, once per client, and re-key the engine's order.
  auto summed = [&](std::vector<int64_t> Walk::*deltas, size_t at) {
    int64_t sum = 0;
    for (size_t s = 0; s < shards; ++s) sum += (shard_walks_[s].get()->*deltas)[at];
    return sum;
  };
  for (uint32_t flat = 0; flat < slots; ++flat) {
    const auto [f, slot] = cycle.slot_of[flat];
    Vec delta(width, 0);
    bool any = false;
    for (size_t i = 0; i < width; ++i) {
      delta[i] = summed(&Walk::slot_delta, flat * width + i);
      any |= delta[i] != 0;
    }
    if (!any) continue;
    AddVec(frameworks_[f].roles[slot].allocated, delta);
    MarkFrameworkRoleDirty(f, slot);
  }
  for (uint32_t n = 0; n < nodes; ++n) {
    Vec own(width, 0);
    Vec reserved(width, 0);
    Vec sum(width, 0);
    bool any = false;
    for (size_t i = 0; i < width; ++i) {
      own[i] = summed(&Walk::node_own_delta, n * width + i);
      reserved[i] = summed(&Walk::node_reserved_delta, n * width + i);
      sum[i] = own[i] + reserved[i];
      any |= own[i] != 0 || reserved[i] != 0;
    }
    if (!any) continue;
    AddVec(roles_[n].own_allocated, own);
    AddVec(roles_[n].own_unallocated_reserved, reserved);
    if (!internal::AllZero(sum)) AddConsumption(n, sum, 1);
  }
  if (available_.size() < width) available_.resize(width, 0);
  for (size_t i = 0; i < width; ++i) available_[i] += summed(&Walk::available_delta, i);
  ReKeyDirty();

  size_t total = offers->size();
  for (const std::vector<Offer>& part : shard_offers) total += part.size();
  offers->reserve(total);
  for (std::vector<Offer>& part : shard_offers) {
    for (Offer& offer : part) offers->push_back(std::move(offer));
  }
}

}  // namespace steward::allocator
