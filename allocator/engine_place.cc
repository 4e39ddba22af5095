// Engine: direct placement (the PLACE paragraph of allocator.h).
#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/internal/kernels.h"
#include "allocator/sort_key.h"

namespace steward::allocator {

using internal::At;

// What Place keeps for the duration of one call: the requests' queues, and an index of the
// agents for TryPlace.
//
// The index. Most agents have no reserved scalar free: there, what a role may use of a name is
// the agent's free unreserved column, the whole demand is taken unreserved, and the limit and
// headroom checks of a request therefore give the same answer on every such agent. Those
// "plain" agents (live, active, no reserved scalar in free_other) are scanned with the SIMD
// kernels, a block of 64 agents at a time: the fit mask of the demand over the free columns,
// then the policy's scores. For the scored policies the blocks hold agents grouped by their
// totals (see `permuted`), for first-fit agents in id order. Per block and per scalar name the
// index keeps the least and the greatest free amount and total among its plain agents, so a block
// whose greatest free amount of some name is short of the demand is skipped with one comparison per
// name, and a block whose best possible score (a bound computed from those extremes with the
// score's own operations in the score's own order, which floating point rounding keeps monotone)
// cannot beat the best agent found so far is skipped without being scanned. The other agents (live,
// active, with reserved scalars free, the "special" ones) are evaluated one by one exactly as
// the PLACE contract words it. Placing a task changes one agent: its block is refreshed.
//
// The scored policies also remember demands. Requests of a call often repeat a few shapes, and
// placing one task changes one agent: for a demand seen before (its names, the amounts, and
// whether the framework may use GPU agents; a scored call's plain-agent result depends on
// nothing else), the index keeps every plain agent's score (or none, where the agent does not
// fit) and a tournament tree whose leaves are groups of kGroup agents adjacent by position (a
// leaf holds its group's best agent: best score, ties to the lowest id). A later request with
// that demand rescores only the agents changed since its last use (the log of changed agents),
// rescans a group's kGroup stored scores (one cache line) only where its best agent got worse,
// and carries the new leaf up the path to the root, which holds the best plain agent of the
// whole cluster. The policies that maximise (worst-fit, dot-product) pick a different agent
// almost every time and every placement makes that agent worse, so nearly every change reaches
// the root: small leaves keep the rescan short, and the path is walked with the winner kept in
// registers and only the siblings read (their loads do not wait on one another). The scores come
// from the same kernels (the scalar version for one agent, which is bit-identical), and a fitting
// agent's scores are finite (its total is at least the positive demand), so (score, id) is a total
// order and the tree's answer is the one a scan in any order gives. A demand's tree is built on its
// second sighting (a one-off demand keeps the bounded scan), and at most kDemandCaches demands are
// remembered (the least recently used is forgotten).
struct Engine::PlaceState {
  // By framework: its requests in order (FIFO), a list threaded through `next_request` from
  // `head` to `tail` (kNoRequest: none). Unlike a deque per framework, nothing is allocated
  // per framework: a call of one request on an engine of many frameworks costs three vectors,
  // not a map and a node for each of them.
  static constexpr size_t kNoRequest = SIZE_MAX;
  std::vector<size_t> head, tail;    // by framework
  std::vector<size_t> next_request;  // by request
  bool Queued(uint32_t fw) const { return head[fw] != kNoRequest; }
  size_t Front(uint32_t fw) const { return head[fw]; }
  void Push(uint32_t fw, size_t request) {
    next_request[request] = kNoRequest;
    (head[fw] == kNoRequest ? head[fw] : next_request[tail[fw]]) = request;
    tail[fw] = request;
  }
  void Pop(uint32_t fw) { head[fw] = next_request[head[fw]]; }
  std::vector<char> open;       // framework still placing
  std::vector<Vec> demands;     // by request
  std::vector<uint32_t> roles;  // by request: role node
  int open_count = 0;

  static constexpr size_t kBlock = 64;
  size_t agents = 0;
  size_t columns = 0;  // scalar names
  // The index lists agents by position. For first-fit the position is the agent's id (so the
  // first fit found is the answer); for the scored policies, in calls of kIndexMinRequests
  // requests or more, agents are grouped by their totals (ties by id), so that a block's
  // agents are alike and its bounds are tight, and the free and total columns are copied in
  // that order.
  bool permuted = false;
  // position -> agent (permuted only; padded to whole blocks with kNoNode)
  std::vector<uint32_t> order;
  std::vector<uint32_t> position;                           // agent -> position (permuted only)
  std::vector<std::vector<int64_t>> local_free, local_cap;  // [name][position] (permuted only)
  std::vector<const int64_t*> free_base, cap_base;          // [name]: columns by position
  std::vector<uint64_t> plain;                              // bit per position
  std::vector<uint64_t> gpus;                               // bit per position: has GPUs
  std::vector<uint32_t> special;                            // agents, ascending
  std::vector<uint32_t> plain_in_block;
  std::vector<uint32_t> min_id;  // by block: the least id of its plain agents
  // [block * columns + name], over the block's plain agents.
  std::vector<int64_t> min_free, max_free, min_cap, max_cap;
  // Scratch for TryPlace.
  std::vector<const int64_t*> free_columns, cap_columns;
  std::vector<int64_t> need;
  std::vector<size_t> names;
  std::vector<int64_t> unmet, surplus, taken, usable, unreserved_part;
  std::vector<uint32_t> path;
  double scores[kBlock];

  // Remembered demands (scored policies only). Scores are kept as keys, smaller is better:
  // the score for best-fit, its negation (exact) for the maximising policies; an agent that
  // does not fit has the key kNone, above every score's. A tree node holds the best (key,
  // agent) of its subtree, ties to the lower id (kNoNode, above every id, for none). Its key is
  // kept as Rank(key), an integer in the keys' order, so that comparing two nodes is one
  // comparison of (rank, agent) as a 96-bit integer: the walk up a tree then selects without
  // a branch (which side wins is close to random) on a short chain of integer operations.
  static constexpr double kNone = std::numeric_limits<double>::infinity();
  // Keys are never NaN, and equal keys have equal bits (no -0.0): the map is one to one and
  // keeps the order (negative doubles: all bits flipped; others: the sign bit set).
  static constexpr uint64_t Rank(double key) {
    const auto bits = std::bit_cast<uint64_t>(key);
    return bits ^ ((bits >> 63) != 0 ? ~uint64_t{0} : uint64_t{1} << 63);
  }
  static constexpr double Unrank(uint64_t rank) {
    return std::bit_cast<double>(rank ^ ((rank >> 63) != 0 ? uint64_t{1} << 63 : ~uint64_t{0}));
  }
  struct Node {
    uint64_t rank = Rank(kNone);
    uint32_t agent = kNoNode;
  };
  __extension__ using Packed = unsigned __int128;  // (rank, agent)
  static Packed Pack(const Node& node) { return Packed{node.rank} << 32 | node.agent; }
  struct DemandCache {
    std::vector<size_t> names;  // the demand's names in scoring order
    std::vector<int64_t> need;  // by name
    bool gpu_capable = false;
    std::vector<const int64_t*> free, caps;  // the index's columns, by name
    bool built = false;                      // the tree holds the answer as of `synced`
    uint64_t used = 0;                       // `clock` at the last lookup
    size_t synced = 0;                       // entries of `changed` already applied
    std::vector<double> keys;                // by position: Key(score), kNone where no fit
    std::vector<Node> tree;  // [2 * leaves]: node 1 the root, group g's leaf at leaves + g
  };
  static constexpr size_t kDemandCaches = 16;
  std::vector<DemandCache> caches;
  uint64_t clock = 0;
  static constexpr size_t kGroup = 8;  // agents per leaf of a demand's tree
  size_t leaves = 1;                   // groups (of whole blocks) rounded up to a power of two
  std::vector<uint32_t> changed;       // positions of agents changed by placements, in order
  // The cache the last TryPlace looked up and synced (an index into `caches`), or SIZE_MAX.
  size_t looked_up = SIZE_MAX;
  bool minimise = false;  // best-fit
  internal::kernels::ScoreKind kind = internal::kernels::ScoreKind::kSlack;
  // By block: max_free may be above the block's greatest free amount (a placement took from
  // the agent that held it); FreshMaxFree recomputes it before it is read.
  std::vector<char> max_free_stale;

  // (+ 0.0 turns a -0.0 into +0.0: keys that compare equal have equal bits.)
  double Key(double score) const { return (minimise ? score : -score) + 0.0; }
  static bool Before(const Node& a, const Node& b) { return Pack(a) < Pack(b); }
  // The block's greatest free amounts, by name (recomputed where stale).
  const int64_t* FreshMaxFree(size_t block);
  // Scores the cache's demand over `block` into cache.keys and sets its groups' leaves.
  void ScoreBlock(DemandCache& cache, size_t block);
  // The best (key, agent) of a group from the stored keys.
  Node GroupBest(const DemandCache& cache, size_t group) const;
  // The cache for this demand, or nullptr on its first sighting (then remembered).
  DemandCache* Lookup(std::span<const size_t> demand_names, std::span<const int64_t> demand_need,
                      bool gpu_capable);
  // Brings the cache's tree up to date with the changed agents.
  void Sync(DemandCache& cache);
  // Applies the change of the agent at `pos` to a built cache.
  void Apply(DemandCache& cache, size_t pos);

  uint32_t AgentAt(size_t pos) const { return permuted ? order[pos] : static_cast<uint32_t>(pos); }
  size_t PositionOf(uint32_t agent) const { return permuted ? position[agent] : agent; }
  bool IsPlain(uint32_t agent) const {
    const size_t pos = PositionOf(agent);
    return ((plain[pos / kBlock] >> (pos % kBlock)) & 1) != 0;
  }
  // Building the index reads every agent, and grouping sorts them: worth it only for calls
  // with many requests. A first-fit call with fewer requests goes without an index (agents one
  // by one in id order, stopping at the first that qualifies: cheap while the low ids have
  // room); a scored call with fewer keeps the index in id order (it scans every agent anyway).
  static constexpr size_t kIndexMinRequests = 32;
  bool indexed = false;
  void Build(const Engine& engine, PlacementPolicy policy, size_t requests);
  // Sets `order` to the agents by (totals, id).
  void GroupByTotals(const Engine& engine);
  // Brings the index up to date after a placement took `unreserved` (and maybe reserved
  // resources) from `agent`.
  void Refresh(const Engine& engine, uint32_t agent, const Vec& unreserved);
  void RefreshBlock(size_t block);
};

namespace {

bool HasReservedScalar(const Resources& resources) {
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar && !entry.unreserved()) return true;
  }
  return false;
}

}  // namespace

void Engine::PlaceState::Build(const Engine& engine, PlacementPolicy policy, size_t requests) {
  agents = engine.agents_.size();
  columns = engine.scalar_names_.size();
  const bool many = requests >= kIndexMinRequests;
  indexed = policy != PlacementPolicy::kFirstFit || many;
  permuted = policy != PlacementPolicy::kFirstFit && many;
  special.clear();
  if (!indexed) return;
  free_base.clear();
  cap_base.clear();
  if (permuted) {
    GroupByTotals(engine);
    position.resize(agents);
    for (size_t p = 0; p < agents; ++p) position[order[p]] = static_cast<uint32_t>(p);
    // A group's rescan reads kGroup ids at once; padding positions hold no agent.
    order.resize(internal::kernels::MaskWords(agents) * kBlock, kNoNode);
    local_free.resize(columns);
    local_cap.resize(columns);
    for (size_t k = 0; k < columns; ++k) {
      local_free[k].resize(agents);
      local_cap[k].resize(agents);
      for (size_t p = 0; p < agents; ++p) {
        local_free[k][p] = engine.free_columns_[k][order[p]];
        local_cap[k][p] = engine.total_columns_[k][order[p]];
      }
      free_base.push_back(local_free[k].data());
      cap_base.push_back(local_cap[k].data());
    }
  } else {
    for (size_t k = 0; k < columns; ++k) {
      free_base.push_back(engine.free_columns_[k].data());
      cap_base.push_back(engine.total_columns_[k].data());
    }
  }
  const size_t words = internal::kernels::MaskWords(agents);
  plain.assign(words, 0);
  gpus.assign(words, 0);
  for (uint32_t a = 0; a < agents; ++a) {
    const Agent& host = engine.agents_[a];
    const size_t p = PositionOf(a);
    if (host.has_gpus) gpus[p / 64] |= uint64_t{1} << (p % 64);
    if (!host.live || !host.active) continue;
    if (HasReservedScalar(host.free_other)) {
      special.push_back(a);
    } else {
      plain[p / 64] |= uint64_t{1} << (p % 64);
    }
  }
  plain_in_block.assign(words, 0);
  min_id.assign(words, 0);
  min_free.assign(words * columns, 0);
  max_free.assign(words * columns, 0);
  min_cap.assign(words * columns, 0);
  max_cap.assign(words * columns, 0);
  max_free_stale.assign(words, 0);
  for (size_t block = 0; block < words; ++block) RefreshBlock(block);
  caches.clear();
  changed.clear();
  clock = 0;
  leaves = std::bit_ceil(std::max<size_t>(words * (kBlock / kGroup), 1));
  minimise = policy == PlacementPolicy::kBestFit;
  kind = policy == PlacementPolicy::kDotProduct ? internal::kernels::ScoreKind::kDot
                                                : internal::kernels::ScoreKind::kSlack;
}

const int64_t* Engine::PlaceState::FreshMaxFree(size_t block) {
  int64_t* hi = &max_free[block * columns];
  if (max_free_stale[block]) {
    max_free_stale[block] = 0;
    const uint64_t bits = plain[block];
    for (size_t k = 0; k < columns; ++k) {
      int64_t greatest = std::numeric_limits<int64_t>::min();
      const int64_t* free = free_base[k] + block * kBlock;
      for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
        greatest = std::max(greatest, free[std::countr_zero(rest)]);
      }
      hi[k] = greatest;
    }
  }
  return hi;
}

void Engine::PlaceState::ScoreBlock(DemandCache& cache, size_t block) {
  const size_t first = block * kBlock;
  const size_t length = std::min(kBlock, agents - first);
  double* out = &cache.keys[first];
  std::fill(out, out + kBlock, kNone);
  uint64_t mask = 0;
  if (plain_in_block[block] != 0) {
    bool possible = true;
    const int64_t* hi_free = FreshMaxFree(block);
    for (size_t k = 0; k < cache.names.size() && possible; ++k) {
      possible = hi_free[cache.names[k]] >= cache.need[k];
    }
    if (possible) {
      internal::kernels::FitMask(cache.free, cache.need, first, length, &mask);
      mask &= plain[block];
      if (!cache.gpu_capable) mask &= ~gpus[block];
    }
  }
  if (mask != 0) {
    internal::kernels::Scores(kind, cache.free, cache.caps, cache.need, first, length, scores);
    for (; mask != 0; mask &= mask - 1) {
      const int i = std::countr_zero(mask);
      out[i] = Key(scores[i]);
    }
  }
  for (size_t g = block * (kBlock / kGroup); g < (block + 1) * (kBlock / kGroup); ++g) {
    cache.tree[leaves + g] = GroupBest(cache, g);
  }
}

Engine::PlaceState::Node Engine::PlaceState::GroupBest(const DemandCache& cache,
                                                       size_t group) const {
  const size_t first = group * kGroup;
  const double* in = &cache.keys[first];
  double extreme = kNone;
  for (size_t i = 0; i < kGroup; ++i) extreme = in[i] < extreme ? in[i] : extreme;
  if (extreme == kNone) return Node{};
  uint32_t best = kNoNode;
  if (permuted) {
    // Branch-free: agents of a group are alike, so ties at the extreme are common. Padding
    // positions hold kNone, never the (finite) extreme.
    const uint32_t* ids = &order[first];
    for (size_t i = 0; i < kGroup; ++i) {
      const uint32_t other = 0u - static_cast<uint32_t>(in[i] != extreme);  // all ones if not
      best = std::min(best, ids[i] | other);
    }
  } else {
    // Ids are positions: the first agent at the extreme.
    unsigned at = 0;
    for (size_t i = 0; i < kGroup; ++i) at |= static_cast<unsigned>(in[i] == extreme) << i;
    best = static_cast<uint32_t>(first) + static_cast<uint32_t>(std::countr_zero(at));
  }
  return Node{Rank(extreme), best};
}

Engine::PlaceState::DemandCache* Engine::PlaceState::Lookup(std::span<const size_t> demand_names,
                                                            std::span<const int64_t> demand_need,
                                                            bool gpu_capable) {
  ++clock;
  for (DemandCache& cache : caches) {
    if (cache.gpu_capable != gpu_capable || !std::ranges::equal(cache.names, demand_names) ||
        !std::ranges::equal(cache.need, demand_need)) {
      continue;
    }
    cache.used = clock;
    return &cache;
  }
  // First sighting: remembered (in the least recently used entry once all are taken), not built.
  DemandCache* slot = nullptr;
  if (caches.size() < kDemandCaches) {
    slot = &caches.emplace_back();
  } else {
    slot = &*std::ranges::min_element(caches, {}, &DemandCache::used);
  }
  slot->names.assign(demand_names.begin(), demand_names.end());
  slot->need.assign(demand_need.begin(), demand_need.end());
  slot->gpu_capable = gpu_capable;
  slot->built = false;
  slot->used = clock;
  slot->free.clear();
  slot->caps.clear();
  for (size_t name : demand_names) {
    slot->free.push_back(free_base[name]);
    slot->caps.push_back(cap_base[name]);
  }
  return nullptr;
}

void Engine::PlaceState::Apply(DemandCache& cache, size_t pos) {
  Node* tree = cache.tree.data();
  const size_t block = pos / kBlock;
  const uint64_t bit = uint64_t{1} << (pos % kBlock);
  const bool fits = (plain[block] & bit) != 0 && (cache.gpu_capable || (gpus[block] & bit) == 0) &&
                    internal::kernels::Fits(cache.free, cache.need, pos);
  const uint32_t agent = AgentAt(pos);
  const double key =
      fits ? Key(internal::kernels::Score(kind, cache.free, cache.caps, cache.need, pos)) : kNone;
  cache.keys[pos] = key;
  const Node now{Rank(key), fits ? agent : kNoNode};
  size_t node = leaves + pos / kGroup;
  Node best;
  if (Before(now, tree[node])) {
    best = now;
  } else if (tree[node].agent == agent) {
    best = GroupBest(cache, pos / kGroup);
  } else {
    return;
  }
  tree[node] = best;
  // Up to the root. A node is the better of its children: the one on the path is `best`, the
  // other is read (distinct agents never tie, and two empty nodes are equal). Every level is
  // written, without a test for the first one left as it was: a change that reaches its leaf
  // nearly always reaches the root (the agent changed is the one just picked). The siblings'
  // loads do not wait on one another, and the choice is a select, not a branch.
  Packed carried = Pack(best);
  for (; node > 1; node /= 2) {
    const Packed sibling = Pack(tree[node ^ 1]);
    carried = sibling < carried ? sibling : carried;
    tree[node / 2] = Node{static_cast<uint64_t>(carried >> 32), static_cast<uint32_t>(carried)};
  }
}

void Engine::PlaceState::Sync(DemandCache& cache) {
  const size_t blocks = plain_in_block.size();
  Node* tree = cache.tree.data();
  auto pull = [&tree](size_t node) {
    const size_t l = 2 * node;
    tree[node] = tree[l + static_cast<size_t>(Before(tree[l + 1], tree[l]))];
  };
  if (!cache.built || changed.size() - cache.synced >= blocks) {
    cache.keys.resize(blocks * kBlock);
    cache.tree.assign(2 * leaves, Node{});
    tree = cache.tree.data();
    for (size_t block = 0; block < blocks; ++block) ScoreBlock(cache, block);
    for (size_t node = leaves - 1; node >= 1; --node) pull(node);
    cache.built = true;
    cache.synced = changed.size();
    return;
  }
  for (size_t e = cache.synced; e < changed.size(); ++e) Apply(cache, changed[e]);
  cache.synced = changed.size();
}

void Engine::PlaceState::GroupByTotals(const Engine& engine) {
  // Clusters have few distinct totals: agents are grouped by a hash of their totals (each
  // group's first agent checked against every later one, so a collision cannot merge two
  // groups), the groups sorted by their totals, and the agents placed by a stable counting sort
  // over the groups' ranks (ids ascend within a group). A hash collision falls back to sorting
  // the agents themselves. Either way `order` is by (totals, id).
  const auto& totals = engine.total_columns_;
  auto less = [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < columns; ++k) {
      const int64_t x = totals[k][a], y = totals[k][b];
      if (x != y) return x < y;
    }
    return a < b;
  };
  auto same = [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < columns; ++k) {
      if (totals[k][a] != totals[k][b]) return false;
    }
    return true;
  };
  order.resize(agents);
  absl::flat_hash_map<uint64_t, uint32_t> group_of;  // hash of the totals -> group
  std::vector<uint32_t> first;                       // by group: its least agent
  std::vector<uint32_t> group(agents);
  bool collided = false;
  for (uint32_t a = 0; a < agents && !collided; ++a) {
    uint64_t hash = columns;
    for (size_t k = 0; k < columns; ++k) hash = Mix64(hash ^ static_cast<uint64_t>(totals[k][a]));
    const auto [it, inserted] = group_of.try_emplace(hash, static_cast<uint32_t>(first.size()));
    if (inserted) first.push_back(a);
    collided = !inserted && !same(first[it->second], a);
    group[a] = it->second;
  }
  if (collided) {
    for (uint32_t a = 0; a < agents; ++a) order[a] = a;
    std::sort(order.begin(), order.end(), less);
    return;
  }
  // The groups by their totals (first agents' ids break no ties: the totals differ).
  std::vector<uint32_t> ranked(first.size());
  for (uint32_t g = 0; g < ranked.size(); ++g) ranked[g] = g;
  std::sort(ranked.begin(), ranked.end(),
            [&](uint32_t g, uint32_t h) { return less(first[g], first[h]); });
  std::vector<size_t> start(first.size() + 1, 0);  // by group: its first position
  for (uint32_t a = 0; a < agents; ++a) ++start[group[a] + 1];
  // Counts by rank, then prefix sums in rank order.
  std::vector<size_t> count(first.size());
  for (size_t g = 0; g < first.size(); ++g) count[g] = start[g + 1];
  size_t next = 0;
  for (uint32_t g : ranked) {
    start[g] = next;
    next += count[g];
  }
  for (uint32_t a = 0; a < agents; ++a) order[start[group[a]]++] = a;
}

void Engine::PlaceState::Refresh(const Engine& engine, uint32_t agent, const Vec& unreserved) {
  const size_t pos = PositionOf(agent);
  const size_t block = pos / kBlock;
  changed.push_back(static_cast<uint32_t>(pos));
  if (permuted) {
    for (size_t k = 0; k < columns; ++k) local_free[k][pos] = engine.free_columns_[k][agent];
  }
  if ((plain[block] >> (pos % kBlock)) & 1) {
    // A plain agent stays plain (a placement only takes), and only its free amounts fell: the
    // block's least free amount follows, and its greatest goes stale where this agent held it
    // (recomputed when next read).
    for (size_t k = 0; k < unreserved.size(); ++k) {
      if (unreserved[k] == 0) continue;
      const int64_t now = free_base[k][pos];
      int64_t& lo = min_free[block * columns + k];
      lo = std::min(lo, now);
      if (now + unreserved[k] >= max_free[block * columns + k]) max_free_stale[block] = 1;
    }
    return;
  }
  // A special agent (placed on, so live and active) turns plain once no reserved scalar is
  // free on it.
  if (!HasReservedScalar(engine.agents_[agent].free_other)) {
    special.erase(std::lower_bound(special.begin(), special.end(), agent));
    plain[block] |= uint64_t{1} << (pos % kBlock);
    RefreshBlock(block);
  }
}

void Engine::PlaceState::RefreshBlock(size_t block) {
  const uint64_t bits = plain[block];
  plain_in_block[block] = static_cast<uint32_t>(std::popcount(bits));
  const size_t first = block * kBlock;
  uint32_t least = std::numeric_limits<uint32_t>::max();
  for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
    least = std::min(least, AgentAt(first + static_cast<size_t>(std::countr_zero(rest))));
  }
  min_id[block] = least;
  for (size_t k = 0; k < columns; ++k) {
    int64_t lo_free = kUnlimited, hi_free = std::numeric_limits<int64_t>::min();
    int64_t lo_cap = kUnlimited, hi_cap = std::numeric_limits<int64_t>::min();
    const int64_t* free = free_base[k] + first;
    const int64_t* cap = cap_base[k] + first;
    for (uint64_t rest = bits; rest != 0; rest &= rest - 1) {
      const int i = std::countr_zero(rest);
      lo_free = std::min(lo_free, free[i]);
      hi_free = std::max(hi_free, free[i]);
      lo_cap = std::min(lo_cap, cap[i]);
      hi_cap = std::max(hi_cap, cap[i]);
    }
    min_free[block * columns + k] = lo_free;
    max_free[block * columns + k] = hi_free;
    min_cap[block * columns + k] = lo_cap;
    max_cap[block * columns + k] = hi_cap;
  }
  max_free_stale[block] = 0;
}

namespace {

// How one agent failed a request; ordered so that a larger value is a better explanation.
enum class Miss { kNone, kInsufficient, kGpu, kLimit, kHeadroom };

}  // namespace

Reason Engine::TryPlace(PlaceState& state, uint32_t framework, size_t slot, const Vec& demand,
                        PlacementPolicy policy, uint32_t* chosen_agent, Vec* from_unreserved,
                        Resources* from_reserved) {
  const Framework& fw = frameworks_[framework];
  uint32_t node = fw.roles[slot].role;
  const RoleNode& role = roles_[node];
  state.looked_up = SIZE_MAX;  // until a remembered demand's tree is synced below
  // Names of the demand in ascending name order (the scoring order).
  // Scratch kept in the state: no allocation per request once warm.
  std::vector<size_t>& names = state.names;
  names.clear();
  for (size_t i : scalar_name_order_) {
    if (At(demand, i) > 0) names.push_back(i);
  }
  std::vector<int64_t>& unmet = state.unmet;
  std::vector<int64_t>& surplus = state.surplus;
  unmet.resize(names.size());
  surplus.resize(names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    unmet[k] = MaxUnmet(node, names[k]);
    surplus[k] = Surplus(names[k]);
  }
  std::vector<uint32_t>& path = state.path;
  path.clear();
  for (uint32_t n = node; n != kNoNode; n = roles_[n].parent) path.push_back(n);
  // taken[j * names + k]: what the split takes of name k from the pool reserved for path[j].
  std::vector<int64_t>& taken = state.taken;
  taken.assign(path.size() * names.size(), 0);
  // Splits the demand on `agent` into reserved pools (nearest reservation first) and
  // unreserved; returns the per-name usable amounts in `usable`.
  std::vector<int64_t>& usable = state.usable;
  std::vector<int64_t>& unreserved_part = state.unreserved_part;
  usable.resize(names.size());
  unreserved_part.resize(names.size());
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
  // The limit and headroom checks on the split just made.
  auto quota_miss = [&]() {
    if (!within_limits()) return Miss::kLimit;
    for (size_t k = 0; k < names.size(); ++k) {
      int64_t excess = unreserved_part[k] - std::min(unreserved_part[k], unmet[k]);
      if (excess > surplus[k]) return Miss::kHeadroom;
    }
    return Miss::kNone;
  };
  // One agent as the contract words it: how it fails, or its score.
  auto evaluate = [&](uint32_t agent, double* score) {
    const Agent& host = agents_[agent];
    split(agent, false);
    bool fits = true;
    for (size_t k = 0; k < names.size() && fits; ++k) fits = usable[k] >= At(demand, names[k]);
    if (!fits) return Miss::kInsufficient;
    if (host.has_gpus && !fw.gpu_capable) return Miss::kGpu;
    if (Miss miss = quota_miss(); miss != Miss::kNone) return miss;
    *score = 0;
    for (size_t k = 0; k < names.size(); ++k) {
      double cap = static_cast<double>(total_columns_[names[k]][agent]);
      int64_t d = At(demand, names[k]);
      if (policy == PlacementPolicy::kDotProduct) {
        *score += (static_cast<double>(d) / cap) * (static_cast<double>(usable[k]) / cap);
      } else {
        *score += static_cast<double>(usable[k] - d) / cap;
      }
    }
    return Miss::kNone;
  };

  // The policy's choice: the best score, ties to the lowest id (first-fit: the lowest id).
  const bool first_fit = policy == PlacementPolicy::kFirstFit;
  const bool minimise = policy == PlacementPolicy::kBestFit;
  uint32_t best = kNoNode;
  double best_score = 0;
  auto consider = [&](uint32_t agent, double score) {
    bool better =
        best == kNoNode || (first_fit ? agent < best
                                      : (minimise ? score < best_score : score > best_score) ||
                                            (score == best_score && agent < best));
    if (better) {
      best = agent;
      best_score = score;
    }
  };
  // Would a block whose least agent id is `least`, with score bound `bound`, lose to the best?
  auto beaten = [&](double bound, uint32_t least) {
    if (best == kNoNode) return false;
    if (minimise ? bound > best_score : bound < best_score) return true;
    return bound == best_score && least > best;
  };

  if (!state.indexed) {
    // Every agent in id order, one by one.
    for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
      const Agent& host = agents_[agent];
      if (!host.live || !host.active) continue;
      double score = 0;
      if (evaluate(agent, &score) != Miss::kNone) continue;
      consider(agent, score);
      if (first_fit) break;
    }
  }

  for (uint32_t agent : state.special) {
    double score = 0;
    if (evaluate(agent, &score) != Miss::kNone) continue;
    consider(agent, score);
    if (first_fit) break;
  }

  // Plain agents: the split takes the whole demand unreserved, so the quota checks are the
  // same for all of them.
  std::fill(taken.begin(), taken.end(), 0);
  for (size_t k = 0; k < names.size(); ++k) unreserved_part[k] = At(demand, names[k]);
  if (state.indexed && quota_miss() == Miss::kNone) {
    const size_t num = names.size();
    const size_t columns = state.columns;
    state.free_columns.clear();
    state.cap_columns.clear();
    state.need.clear();
    for (size_t k = 0; k < num; ++k) {
      state.free_columns.push_back(state.free_base[names[k]]);
      state.cap_columns.push_back(state.cap_base[names[k]]);
      state.need.push_back(At(demand, names[k]));
    }
    const int64_t* need = state.need.data();
    const auto kind = state.kind;
    PlaceState::DemandCache* cache =
        first_fit ? nullptr : state.Lookup(names, state.need, fw.gpu_capable);
    if (cache != nullptr) {
      state.Sync(*cache);
      state.looked_up = static_cast<size_t>(cache - state.caches.data());
      const PlaceState::Node& root = cache->tree[1];
      if (root.agent != kNoNode) {
        __builtin_prefetch(&agents_[root.agent].allocations);  // see Place
        consider(root.agent, state.Key(PlaceState::Unrank(root.rank)));
      }
    }
    for (size_t block = 0; cache == nullptr && block < state.plain_in_block.size(); ++block) {
      const auto first = static_cast<uint32_t>(block * PlaceState::kBlock);
      if (first_fit && best != kNoNode && first > best) break;
      if (state.plain_in_block[block] == 0) continue;
      const int64_t* lo_free = &state.min_free[block * columns];
      const int64_t* hi_free = state.FreshMaxFree(block);
      const int64_t* lo_cap = &state.min_cap[block * columns];
      const int64_t* hi_cap = &state.max_cap[block * columns];
      bool possible = true;
      for (size_t k = 0; k < num && possible; ++k) possible = hi_free[names[k]] >= need[k];
      if (!possible) continue;
      if (!first_fit && best != kNoNode) {
        bool bounded = true;
        for (size_t k = 0; k < num && bounded; ++k) bounded = lo_cap[names[k]] > 0;
        if (bounded) {
          double bound = 0;
          for (size_t k = 0; k < num; ++k) {
            const size_t i = names[k];
            if (policy == PlacementPolicy::kBestFit) {
              const int64_t slack = lo_free[i] > need[k] ? lo_free[i] - need[k] : 0;
              bound += static_cast<double>(slack) / static_cast<double>(hi_cap[i]);
            } else if (policy == PlacementPolicy::kWorstFit) {
              bound += static_cast<double>(hi_free[i] - need[k]) / static_cast<double>(lo_cap[i]);
            } else {
              const double cap = static_cast<double>(lo_cap[i]);
              bound +=
                  (static_cast<double>(need[k]) / cap) * (static_cast<double>(hi_free[i]) / cap);
            }
          }
          if (beaten(bound, state.min_id[block])) continue;
        }
      }
      const size_t length = std::min(PlaceState::kBlock, state.agents - first);
      uint64_t mask = 0;
      internal::kernels::FitMask(state.free_columns, state.need, first, length, &mask);
      mask &= state.plain[block];
      if (!fw.gpu_capable) mask &= ~state.gpus[block];
      if (mask == 0) continue;
      if (first_fit) {
        consider(first + static_cast<uint32_t>(std::countr_zero(mask)), 0);
        break;
      }
      internal::kernels::Scores(kind, state.free_columns, state.cap_columns, state.need, first,
                                length, state.scores);
      for (; mask != 0; mask &= mask - 1) {
        const int i = std::countr_zero(mask);
        consider(state.AgentAt(first + static_cast<size_t>(i)), state.scores[i]);
      }
    }
  }

  if (best == kNoNode) {
    // Why not: the best explanation over every agent.
    Miss best_miss = Miss::kNone;
    for (uint32_t agent = 0; agent < agents_.size(); ++agent) {
      const Agent& host = agents_[agent];
      if (!host.live || !host.active) continue;
      double score = 0;
      best_miss = std::max(best_miss, evaluate(agent, &score));
    }
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
  if (state.indexed && state.IsPlain(best)) {
    // What split(best, true) finds on a plain agent (no reserved scalar free, and free_other
    // holds no unreserved scalar): the whole demand unreserved. The agent's record is not read.
    reserved_taken.clear();
    for (size_t k = 0; k < names.size(); ++k) unreserved_part[k] = At(demand, names[k]);
  } else {
    split(best, true);
  }
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
    size_t request = state.Front(framework);
    if (state.roles[request] != node) return false;
    if (!tier_one) return true;
    const Vec& demand = state.demands[request];
    for (size_t i = 0; i < demand.size(); ++i) {
      if (demand[i] > 0 && MaxUnmet(node, i) > 0) return true;
    }
    return false;
  };
  // Recursive through its first argument (no std::function: no call through a pointer).
  auto walk = [&](const auto& self, uint32_t node, size_t depth, bool tier_one) -> uint32_t {
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
      return self(self, key.id, depth + 1, tier_one);
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
    if (uint32_t found = walk(walk, kNoNode, 0, true); found != kNoNode) return found;
  }
  return walk(walk, kNoNode, 0, false);
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
  state.head.assign(frameworks_.size(), PlaceState::kNoRequest);
  state.tail.assign(frameworks_.size(), PlaceState::kNoRequest);
  state.next_request.assign(requests.size(), PlaceState::kNoRequest);
  state.open.assign(frameworks_.size(), 0);
  std::vector<PlacementDecision> decisions(requests.size());
  // Requests often carry copies of a few demands, and copies of a Resources share their
  // entries: a copy's sums are those of the recent request it shares them with.
  constexpr size_t kRecent = 8;
  std::array<size_t, kRecent> recent{};  // requests whose sums were computed, round robin
  size_t recent_count = 0;
  state.demands.reserve(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    uint32_t fw = requests[r].framework.value();
    size_t same = SIZE_MAX;
    for (size_t i = 0; i < std::min(recent_count, kRecent) && same == SIZE_MAX; ++i) {
      if (requests[recent[i]].demand.SharesEntriesWith(requests[r].demand)) same = recent[i];
    }
    if (same != SIZE_MAX) {
      Vec sums = state.demands[same];
      state.demands.push_back(std::move(sums));
    } else {
      state.demands.push_back(ScalarSums(requests[r].demand));
      recent[recent_count++ % kRecent] = r;
    }
    state.roles.push_back(requests[r].role.value());
    if (!frameworks_[fw].active) {
      decisions[r].reason = Reason::kFrameworkInactive;
      continue;
    }
    state.Push(fw, r);
  }
  state.Build(*this, policy,
              requests.size());  // after ScalarSums: every demanded name has its columns
  auto set_open = [&](uint32_t fw, bool open) {
    if (static_cast<bool>(state.open[fw]) == open) return;
    state.open[fw] = open;
    state.open_count += open ? 1 : -1;
    for (uint32_t n = state.roles[state.Front(fw)]; n != kNoNode; n = roles_[n].parent) {
      roles_[n].open_in_subtree += open ? 1 : -1;
    }
  };
  for (uint32_t fw = 0; fw < frameworks_.size(); ++fw) {
    if (state.Queued(fw)) set_open(fw, true);
  }
  uint32_t last_agent = kNoNode;           // the agent of the last placement
  constexpr size_t kPrefetchRecords = 16;  // bounds the prefetches on an agent of many holders
  // The decisions' bags by their unreserved amounts, where nothing reserved is taken: a few
  // shapes repeat, and a copy of a bag shares its entries (a reference count, not a build).
  struct Bag {
    Vec unreserved;
    Resources resources;
  };
  // (A call of one request has nothing to share: it builds its bag.)
  constexpr size_t kBags = 8;
  std::vector<Bag> bags;  // round robin once full
  size_t bag_count = 0;
  auto bag_of = [&](const Vec& unreserved, const Resources& reserved) {
    if (!reserved.empty() || requests.size() == 1) return BuildResources(unreserved, reserved);
    for (const Bag& bag : bags) {
      if (bag.unreserved == unreserved) return bag.resources;
    }
    if (bags.size() < kBags) bags.emplace_back();
    Bag& bag = bags[bag_count++ % kBags];
    bag.unreserved = unreserved;
    bag.resources = BuildResources(unreserved, reserved);
    return bag.resources;
  };
  for (uint64_t step = 0; state.open_count > 0; ++step) {
    uint32_t fw = NextPlacementFramework(state, step);
    size_t request = state.Front(fw);
    size_t slot = SlotOf(frameworks_[fw], state.roles[request]);
    uint32_t agent = kNoNode;
    Vec unreserved;
    Resources reserved;
    Reason reason =
        TryPlace(state, fw, slot, state.demands[request], policy, &agent, &unreserved, &reserved);
    set_open(fw, false);
    PlacementDecision& decision = decisions[request];
    decision.reason = reason;
    state.Pop(fw);
    if (reason == Reason::kNone) {
      decision.agent = AgentId(agent);
      // The agent's allocation records, which AddAllocation scans, are rarely in the cache
      // when placements go to a different agent each time (worst-fit, dot-product): their
      // loads start now and overlap with building the decision's resources. (An agent placed
      // on again, as first-fit and best-fit do, is in the cache already.)
      if (agent != last_agent) {
        const auto& records = agents_[agent].allocations;
        for (size_t i = 0; i < std::min(records.size(), kPrefetchRecords); ++i) {
          __builtin_prefetch(&records[i]);
        }
        last_agent = agent;
      }
      decision.resources = bag_of(unreserved, reserved);
      AddAllocation(fw, slot, agent, unreserved, reserved);
      if (state.indexed) {
        state.Refresh(*this, agent, unreserved);
        if (state.looked_up != SIZE_MAX) {
          // The demand's tree takes this placement in now rather than at its next use (the
          // same work), so that its new best agent, likely the next one placed on by a
          // spreading policy, is known early: its record starts loading (see above).
          PlaceState::DemandCache& used = state.caches[state.looked_up];
          state.Sync(used);
          if (const uint32_t next = used.tree[1].agent; next != kNoNode) {
            __builtin_prefetch(&agents_[next].allocations);
          }
        }
      }
      ReKeyDirty();
      if (state.Queued(fw)) set_open(fw, true);
    } else {
      for (; state.Queued(fw); state.Pop(fw)) {
        decisions[state.Front(fw)].reason = Reason::kQueuedBehind;
      }
    }
  }
  return decisions;
}

}  // namespace steward::allocator
