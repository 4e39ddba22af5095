// Engine: the production allocator. Same decisions as ReferenceAllocator (see allocator.h for
// the semantics), organised for speed:
//   - agents' free unreserved scalars live in structure-of-arrays columns (one contiguous
//     int64 column per resource name, indexed by agent), so fit tests and headroom sums touch
//     only the columns they need; reservations, ranges and sets sit beside them per agent;
//   - ids are dense and interned; no string lookups on the allocation path;
//   - DRF order is incremental: every role node keeps its walk children, and every role its
//     frameworks, in ordered sets keyed by (share, id). Only the clients whose allocation
//     changed are re-keyed, after each agent (which keeps the "order fixed per agent"
//     semantics), instead of re-sorting everything per agent as Mesos does;
//   - decline filters are kept per framework as a hash map, plus two bits per (agent,
//     framework) in a matrix stored agent by agent (internal::BitMatrix): "has a filter" and
//     "filter covers everything free on the agent". The covering bit lets the walk reject a
//     filtered framework with one bit test, and an agent that every framework covers is
//     skipped whole;
//   - stage 1 is skipped outright when no role has an unmet guarantee; quota arithmetic runs
//     only along the role path of an offer.
//
// Explain() answers "why did this framework get no offer here" from the current state, at no
// cost to the allocation path.
//
// Not thread-safe: one caller at a time. With AllocatorOptions::allocation_shards > 1 stage
// two of a cycle runs on several threads inside Allocate (engine_parallel.cc); the caller
// still sees one call.
#ifndef STEWARD_ALLOCATOR_ENGINE_H_
#define STEWARD_ALLOCATOR_ENGINE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "allocator/allocator.h"
#include "allocator/internal/bit_matrix.h"
#include "allocator/internal/ordered_keys.h"
#include "allocator/internal/strings.h"
#include "allocator/internal/vec.h"

namespace steward::allocator {

// Answers offers as an allocation cycle makes them (Engine::AllocateScreened), for a caller
// that decides every offer at once, in the order Allocate returns them: the simulator's
// framework models with no think time. Most of such a caller's offers are declined whole (a
// framework with one queued task is offered every free agent); screening lets the engine
// decline those inside the cycle without building them, and skip the walk for frameworks that
// will decline everything. The screen is called from inside the cycle: it must not call the
// engine.
class OfferScreen {
 public:
  struct Shown {
    FrameworkId framework;
    AgentId agent;
    RoleId role;
    // Offered scalar amounts (unreserved and reserved summed) by scalar index, the order of
    // Engine::ScalarName; entries past the end are zero.
    std::span<const int64_t> scalars;
    // True when the offer holds only unreserved scalars: the engine can then decline it inside
    // the cycle. Otherwise a decline verdict is not honoured and the offer is returned.
    bool declinable = false;
  };
  struct Verdict {
    // Decline the offer whole at the cycle's `now`, as Decline(offer, refuse_seconds, now)
    // right after the cycle would (only when declinable, with refuse_seconds >= 0; otherwise
    // the offer is returned like a kept one).
    bool decline = false;
    // The framework declines whole every later offer of this cycle, and is suppressed in
    // every role when the cycle ends. Its later offers, whatever they hold, are not shown;
    // they are counted through DeclinedUnshown.
    bool drained = false;
    double refuse_seconds = 0;
  };
  virtual ~OfferScreen() = default;
  virtual Verdict Screen(const Shown& offer) = 0;
  // At the end of the cycle: `count` offers made to drained frameworks were declined without
  // being shown, each with `refuse_seconds`.
  virtual void DeclinedUnshown(int64_t count, double refuse_seconds) = 0;
};

class Engine final : public Allocator {
 public:
  explicit Engine(AllocatorOptions options = {});
  ~Engine() override;

  absl::StatusOr<AgentId> AddAgent(const AgentInfo& info) override;
  absl::Status RemoveAgent(AgentId agent) override;
  absl::Status ActivateAgent(AgentId agent) override;
  absl::Status DeactivateAgent(AgentId agent) override;

  absl::StatusOr<FrameworkId> AddFramework(const FrameworkInfo& info) override;
  absl::Status RemoveFramework(FrameworkId framework) override;
  absl::Status ActivateFramework(FrameworkId framework) override;
  absl::Status DeactivateFramework(FrameworkId framework) override;
  absl::Status Suppress(FrameworkId framework, RoleId role) override;
  absl::Status Revive(FrameworkId framework, RoleId role) override;

  absl::StatusOr<RoleId> FindRole(std::string_view path) const override;
  std::string RoleName(RoleId role) const override;
  absl::Status SetWeight(std::string_view role, double weight) override;
  absl::Status SetQuota(std::string_view role, const Quota& quota) override;

  absl::Status Reserve(AgentId agent, std::string_view role, const Resources& resources) override;
  absl::Status Unreserve(AgentId agent, const Resources& resources) override;

  absl::Status Recover(FrameworkId framework, AgentId agent, RoleId role,
                       const Resources& resources) override;
  absl::Status Decline(FrameworkId framework, AgentId agent, RoleId role,
                       const Resources& resources, double refuse_seconds, double now) override;
  absl::Status AddInUse(FrameworkId framework, AgentId agent, RoleId role,
                        const Resources& resources) override;
  absl::StatusOr<std::vector<Offer>> Allocate(double now) override;
  // Allocate(now) with every offer first shown to `screen` (see OfferScreen), in the order
  // Allocate(now) would return it; the offers the screen keeps are returned, in that order.
  // The engine's state afterwards is that of Allocate(now) followed by the screen's answers
  // (Decline of each declined offer at `now`; Suppress of each drained framework in all its
  // roles), with one difference no later decision can see: a drained framework's declines
  // leave no filter, since it ends the cycle suppressed and only Revive, which erases its
  // filters, lifts that. While any role has quota the cycle is Allocate(now) and nothing is
  // shown.
  absl::StatusOr<std::vector<Offer>> AllocateScreened(double now, OfferScreen* screen);
  // Scalar names by index, the order of OfferScreen::Shown::scalars (grows as agents bring
  // new names; never reordered).
  size_t ScalarCount() const { return scalar_names_.size(); }
  const std::string& ScalarName(size_t index) const { return scalar_names_[index]; }

  absl::StatusOr<std::vector<PlacementDecision>> Place(std::span<const TaskRequest> requests,
                                                       PlacementPolicy policy) override;

  absl::StatusOr<Resources> Total(AgentId agent) const override;
  absl::StatusOr<Resources> Free(AgentId agent) const override;
  absl::StatusOr<Resources> Allocated(AgentId agent) const override;
  absl::StatusOr<Resources> AllocatedTo(FrameworkId framework, AgentId agent,
                                        RoleId role) const override;
  absl::StatusOr<ResourceQuantities> Consumption(RoleId role) const override;
  absl::StatusOr<Quota> GetQuota(RoleId role) const override;
  absl::StatusOr<double> RoleShare(RoleId role) const override;
  absl::StatusOr<double> FrameworkShare(FrameworkId framework, RoleId role) const override;
  std::vector<AgentId> Agents() const override;
  std::vector<FrameworkId> Frameworks() const override;
  absl::StatusOr<std::string> AgentName(AgentId agent) const override;
  absl::StatusOr<std::string> FrameworkName(FrameworkId framework) const override;

  // Why the framework would or would not be offered each agent if a cycle ran at `now`, with
  // the rules of stage one while the role's path owes a guarantee and of stage two otherwise,
  // ignoring the order among frameworks: per role, agents counted by reason (kNone counts
  // agents it would be offered), with a one-sentence summary.
  absl::StatusOr<std::vector<RoleExplanation>> Explain(FrameworkId framework, double now) const;

  // For tests of the parallel cycle's quota accounting: called on a shard's thread after it
  // built a candidate on `agent` and before it commits it to the shared quota counters, and
  // again before each retry after a failed commit. A test makes shards meet here to force two
  // commits against the same limit. An empty function (the default) is not called.
  void SetParallelCommitHookForTesting(std::function<void(AgentId agent)> hook) {
    parallel_commit_hook_ = std::move(hook);
  }

 private:
  using Vec = internal::Vec;
  static constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();
  static constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

  // A client in a node's walk order: a child role node, or (self) the node's own frameworks.
  // `order` is the weighted share under DRF and the RANDOM sorter's key under RANDOM; ties
  // break by ascending id, a node before its own self entry.
  template <typename Order>
  struct ChildKeyOf {
    Order order;
    uint32_t id;
    bool self;
    friend bool operator<(const ChildKeyOf& a, const ChildKeyOf& b) {
      if (a.order != b.order) return a.order < b.order;
      if (a.id != b.id) return a.id < b.id;
      return a.self > b.self;
    }
  };
  // A framework in its role's order, `order` as above.
  template <typename Order>
  struct FrameworkKeyOf {
    Order order;
    uint32_t framework;
    friend bool operator<(const FrameworkKeyOf& a, const FrameworkKeyOf& b) {
      if (a.order != b.order) return a.order < b.order;
      return a.framework < b.framework;
    }
  };
  // DRF keys are kept in the incremental orders, where 16 bytes (not 24) make a re-key, which
  // shifts the entries between the old and the new place, move a third less.
  using DrfChildKey = ChildKeyOf<double>;
  using DrfFrameworkKey = FrameworkKeyOf<double>;
  static_assert(sizeof(DrfChildKey) == 16 && sizeof(DrfFrameworkKey) == 16);
  // RANDOM keys are drawn per walk into scratch vectors.
  using ChildKey = ChildKeyOf<uint64_t>;
  using FrameworkKey = FrameworkKeyOf<uint64_t>;

  struct RoleNode {
    std::string path;
    uint32_t parent = kNoNode;  // kNoNode: top level
    std::vector<uint32_t> children;
    double weight = 1.0;
    // Quota, per scalar name; limit kUnlimited where absent.
    bool has_quota = false;
    Vec guarantee;
    Vec limit;
    bool limited = false;          // any limit on this node
    bool path_limited = false;     // any limit on this node or an ancestor
    bool path_guaranteed = false;  // any guarantee on this node or an ancestor
    // Accounting.
    Vec own_allocated;             // allocated to frameworks at this node
    Vec own_unallocated_reserved;  // free reservations for exactly this node
    Vec consumption;               // C(n): subtree sum of the two above
    Vec unmet;                     // U(n)
    int unmet_in_subtree = 0;      // nodes in the subtree (this one included) with unmet U
    Vec need;                      // need(n)
    Vec child_need_sum;            // sum of children's need
    // Membership.
    std::vector<uint32_t> frameworks;  // subscribed here (live)
    int frameworks_in_subtree = 0;
    std::vector<uint32_t> walk_children;  // children with frameworks in their subtree
    // Incremental DRF order (only maintained with the DRF sorter).
    internal::OrderedKeys<DrfChildKey> order;  // walk children + self when frameworks here
    internal::OrderedKeys<DrfFrameworkKey> framework_order;
    double key_share = 0;   // this node's key in its parent's order
    double self_share = 0;  // the self entry's key in `order`
    bool dirty = false;
    // Direct placement: open frameworks in the subtree during Place.
    int open_in_subtree = 0;
  };

  struct FrameworkRole {
    uint32_t role;
    bool suppressed = false;
    Vec allocated;  // over all agents
    double key_share = 0;
    bool dirty = false;
    // Screened cycles: what agents taken whole and declined inside cycle `taken_cycle` added
    // to `allocated` (see TakeWhole).
    uint64_t taken_cycle = 0;
    Vec taken;
  };

  // What a filter refuses, split like the free pools. Immutable, and shared by the filters
  // made from one declined bag: an agent declined again and again (by every framework, cycle
  // after cycle) keeps 32-byte filters that point at one split.
  struct Refused {
    Vec unreserved;   // unreserved scalars refused
    Resources other;  // reserved entries and unreserved non-scalars refused
  };
  struct Filter {
    std::shared_ptr<const Refused> refused;  // never null
    double expiry = 0;
    uint64_t sequence = 0;
  };

  struct Framework {
    std::string name;
    bool live = true;
    bool active = true;
    bool gpu_capable = false;
    std::vector<FrameworkRole> roles;
    std::vector<Vec> min_allocatable;               // alternatives by scalar index
    absl::flat_hash_map<uint32_t, Filter> filters;  // by agent
    // Screened cycles (AllocateScreened): drained in cycle `drained_cycle`, declining with
    // `drained_refuse`; `unshown` offers declined since.
    uint64_t drained_cycle = 0;
    double drained_refuse = 0;
    int64_t unshown = 0;
  };

  // The non-scalar part of an allocation record (reserved entries, unreserved ranges and
  // sets) as the bags it was given in, not merged: what is held is their sum. Offers usually
  // come back whole (declined or unused), and a framework that already holds part of an agent
  // (its tasks' ports) is often offered the agent's whole rest; keeping that bag apart lets it
  // go back out as it came, shared with the agent's last offer, instead of merging two range
  // sets on the way in and splitting them again on the way out. Bags are merged only when part
  // of one is taken back, or when more than kMaxBags pile up.
  class HeldBags {
   public:
    static constexpr size_t kMaxBags = 4;
    bool empty() const { return bags_.empty(); }
    void Add(Resources bag);
    // The sum of the bags.
    Resources Sum() const;
    bool Contains(const Resources& part) const;
    // Removes `part`, which Contains() accepted, and returns what was removed: the held bag
    // itself when one equals `part` (sharing its entries), else `part`.
    Resources Take(const Resources& part);

   private:
    void Merge();
    absl::InlinedVector<Resources, 1> bags_;  // none empty
  };

  // What (framework, role) holds on an agent, split like the free pools.
  struct Allocation {
    Allocation(uint32_t framework_id, uint32_t role_id) : framework(framework_id), role(role_id) {}
    // A new record holding `amounts`: copying an inline Vec is a plain copy, where growing an
    // empty one calls out of line.
    Allocation(uint32_t framework_id, uint32_t role_id, const Vec& amounts)
        : framework(framework_id), role(role_id), unreserved(amounts) {}
    uint32_t framework;
    uint32_t role;
    Vec unreserved;  // unreserved scalars
    HeldBags other;  // reserved entries and unreserved non-scalars
  };

  struct Agent {
    // What a walk over every agent reads first, together at the front.
    bool live = true;
    bool active = true;
    bool has_gpus = false;
    int covering_count = 0;
    uint64_t taken_cycle = 0;  // screened cycle in which a declined offer took it whole
    // Free resources other than unreserved scalars (which live in free_columns_): reserved
    // entries of any kind and unreserved ranges and sets.
    Resources free_other;
    std::string name;
    Resources total;
    Resources dynamic_reserved;
    std::vector<std::pair<std::string, std::string>> attributes;
    // Usually one or two holders per agent (say, a task's framework and the one offered the
    // rest): both fit without a heap block.
    absl::InlinedVector<Allocation, 2> allocations;
    std::vector<uint32_t> filtering_frameworks;  // frameworks with a filter on this agent
    // Offers made to this agent in stage one of cycle `stage_one_cycle`: (framework << 32 |
    // role, index in the cycle's offers), so that stage two can merge into them.
    uint64_t stage_one_cycle = 0;
    absl::InlinedVector<std::pair<uint64_t, size_t>, 2> stage_one_offers;
    // Covering bits on this agent were computed against this bound, which contains the free
    // resources whenever filters exist: every set bit's refused resources contain it.
    Vec covering_bound_unreserved;
    Resources covering_bound_other;
    // The last offer made on this agent and the candidate it was built from. Offers that come
    // back unused or declined return the agent to the same state, so the next offer is often
    // the same candidate: it then shares the bag (Resources copies share their entries)
    // instead of building it again.
    Resources last_offer;
    Vec last_offer_unreserved;
    Resources last_offer_other;
    // The bag last declined here and its split: a decline of the same bag (sharing its
    // entries) shares the split.
    Resources last_declined;
    std::shared_ptr<const Refused> last_refused;
  };

  // Per-cycle candidate under construction.
  // Reserved entries and unreserved non-scalars taken: when that is everything the agent has
  // beyond its unreserved scalars (the common case: its ports), `other` points at the agent's
  // own `free_other` and nothing is copied.
  struct Candidate {
    Candidate() = default;
    Candidate(const Candidate&) = delete;
    Candidate& operator=(const Candidate&) = delete;
    Vec unreserved;  // unreserved scalars taken
    Resources owned_other;
    const Resources* other = &owned_other;
    bool empty() const { return internal::AllZero(unreserved) && other->empty(); }
  };

  // An offer declined inside a screened cycle: allocated during the cycle (so that the order
  // of the rest of the cycle is that of Allocate), released and filtered when it ends.
  struct ScreenedDecline {
    uint32_t framework;
    uint32_t slot;
    uint32_t agent;
    bool filter;  // false for a drained framework's (suppressed at the end of the cycle)
    double refuse_seconds;
    Vec unreserved;
    Resources other;  // a drained framework's declines only: reserved entries, ranges, sets
    bool whole;       // taken by TakeWhole: nothing to release, only the filter to make
  };

  struct FilterExpiry {
    double expiry;
    uint64_t sequence;
    uint32_t framework;
    uint32_t agent;
    friend bool operator>(const FilterExpiry& a, const FilterExpiry& b) {
      return a.expiry > b.expiry;
    }
  };

  // ---- names and roles (engine.cc) ----
  size_t InternScalar(std::string_view name);
  // Returns the node of `path`, creating it and its ancestors. Path must be valid.
  uint32_t InternRole(std::string_view path);
  absl::StatusOr<uint32_t> CheckRole(RoleId role) const;
  absl::StatusOr<uint32_t> CheckAgent(AgentId agent) const;
  absl::StatusOr<uint32_t> CheckFramework(FrameworkId framework) const;
  absl::Status SetAgentActive(AgentId agent, bool active);
  // A live framework subscribed to an existing role: NotFound or InvalidArgument otherwise.
  struct Subscription {
    uint32_t framework;
    uint32_t node;
    size_t slot;
  };
  absl::StatusOr<Subscription> CheckSubscription(FrameworkId framework, RoleId role) const;
  // The same for a framework already checked (live).
  absl::StatusOr<Subscription> SubscriptionOf(uint32_t framework, RoleId role) const;
  // Splits `resources` into the unreserved-scalar vector and the rest.
  void Split(const Resources& resources, Vec* unreserved, Resources* other);
  // What a change of `unreserved` plus `other` moves shares by: reserved scalars count like
  // unreserved ones. `unreserved` itself when `other` holds no scalar (the usual case, no
  // copy), else the sum, written to *scratch.
  const Vec& ShareSums(const Vec& unreserved, const Resources& other, Vec* scratch);
  // Converts scalar names of `resources` (any reservation) into a Vec, interning names.
  Vec ScalarSums(const Resources& resources);
  Vec QuantitiesToVec(const ResourceQuantities& quantities, int64_t absent);
  Resources FreeResources(uint32_t agent) const;
  // Sorts and merges entries taken out of validated bags (in path order, say) into a bag;
  // a failure there is an internal invariant violation.
  static Resources TrustedBag(std::vector<Resource> entries);
  Resources BuildResources(const Vec& unreserved, const Resources& other) const;

  // ---- accounting (engine.cc) ----
  void AddConsumption(uint32_t node, const Vec& delta, int64_t sign);
  void RefreshQuotaPath(uint32_t node);
  void RefreshPathFlags(uint32_t node);
  void MarkPathDirty(uint32_t node);
  void MarkFrameworkRoleDirty(uint32_t framework, size_t slot);
  void AdjustFreeUnreserved(uint32_t agent, const Vec& delta, int64_t sign);
  void AddAllocation(uint32_t framework, size_t slot, uint32_t agent, const Vec& unreserved,
                     const Resources& other);
  Resources AllocationResources(const Allocation& allocation) const;
  // True if `resources` is within the allocation (exact, reservation by reservation).
  bool AllocationContains(const Allocation& allocation, const Resources& resources) const;
  // If `resources` is within the allocation (on `agent`), splits it like Split() and returns
  // true; false (nothing written, no name interned) otherwise. When `resources` is the
  // agent's last offer itself (shares its entries: an offer handed back untouched), the split
  // is already known (OfferResources keeps last_offer equal to last_offer_unreserved plus
  // last_offer_other), so no entry is read by name; the containment check is still made.
  bool SplitHeld(uint32_t agent, const Allocation& allocation, const Resources& resources,
                 Vec* unreserved, Resources* other);
  // Recover(), also handing out what was recovered, split (both empty when nothing was).
  absl::Status RecoverSplit(FrameworkId framework, AgentId agent, RoleId role,
                            const Resources& resources, Vec* unreserved, Resources* other);
  // Removes `unreserved` plus `other` (already validated, split as Split() does) from the
  // allocation of (framework, slot, agent) and returns them to the agent's free pools.
  void ReleaseAllocation(uint32_t framework, size_t slot, uint32_t agent, const Vec& unreserved,
                         const Resources& other);
  // Free reservations appear (+1) or disappear (-1): they count as unallocated reservations.
  void AddReservedFree(const Resources& reserved, int64_t sign);
  size_t SlotOf(const Framework& framework, uint32_t role) const;

  // ---- sorting (engine_order.cc) ----
  double Share(const Vec& amounts, double weight) const;
  void RefreshShareDivisors();
  double NodeShare(const RoleNode& node) const;
  double SelfShare(const RoleNode& node) const;
  // Brings the key of an order's only entry up to date (see ReKeyDirty).
  void RefreshSoleEntry(internal::OrderedKeys<DrfChildKey>& order);
  void RefreshSoleFramework(uint32_t node);
  void JoinWalk(uint32_t node);   // a framework arrived in node's subtree
  void LeaveWalk(uint32_t node);  // a framework left node's subtree
  void ReKeyDirty();
  void RebuildOrder();
  // RANDOM sorter: the walk children (and self entry) of `node` with their keys, unsorted.
  // With `owed_only`, only children whose subtree owes a guarantee, and no self entry. Both
  // return the index of the least key in *out (0 when it is empty). Keys are distinct: a
  // bijective mix of distinct client codes.
  size_t OrderChildren(uint32_t node, uint64_t position, bool owed_only,
                       std::vector<ChildKey>* out) const;
  size_t OrderFrameworks(uint32_t node, uint64_t position, std::vector<FrameworkKey>* out) const;
  void AddUnmetAlongPath(uint32_t node, int delta);
  std::vector<ChildKey>* ScratchChildren(size_t depth);
  std::vector<FrameworkKey>* ScratchFrameworks(size_t depth);

  // ---- filters (engine_filters.cc) ----
  // True if the filter's refused resources contain the agent's covering bound.
  bool FilterCovers(const Filter& filter, uint32_t agent) const;
  // True if the agent's free resources are within its covering bound.
  bool FreeWithinBound(uint32_t agent) const;
  void ResetCoveringBound(uint32_t agent);
  void RefreshCovering(uint32_t agent);
  void SetFilterBits(uint32_t framework, uint32_t agent, bool has, bool covering);
  void EraseFilter(uint32_t framework, uint32_t agent);
  // Every filter of the framework.
  void EraseFilters(uint32_t framework);
  // The bits and list entry of a filter just erased from its framework's map.
  void ForgetFilter(uint32_t framework, uint32_t agent);
  void PushExpiry(const FilterExpiry& expiry);
  // Makes (or replaces) the framework's filter on the agent: `refused` until `expiry`.
  void InstallFilter(uint32_t framework, uint32_t agent, std::shared_ptr<const Refused> refused,
                     double expiry);
  void ExpireFilters(double now);
  // Erases the filter of `expiry` if it is still the one that expiry was made for.
  void ExpireFilter(const FilterExpiry& expiry);
  bool Filtered(uint32_t framework, uint32_t agent, const Candidate& candidate) const;
  // True if the framework's filter on the agent covers everything free there.
  bool FilterCoversAgent(uint32_t framework, uint32_t agent) const {
    return filter_bits_.Test(kCoveringPlane, agent, framework);
  }

  // ---- allocation (engine_allocate.cc) ----
  // Offer bags built lately, direct-mapped by a hash of their unreserved amounts.
  struct RecentBag {
    Vec unreserved;
    Resources other;
    Resources bag;
  };
  static constexpr size_t kRecentBags = 16;
  struct ParallelCycle;  // a parallel cycle's shared quota counters (engine_parallel.cc)
  // The state of one walk over agents: the sequential cycle's (walk_), or one shard's in a
  // parallel cycle (engine_parallel.cc). Everything a shard writes outside the agents it
  // walks lives here or, for quota limits and held headroom, in the atomics of `cycle`.
  struct Walk {
    int stage = 2;
    std::vector<Offer>* offers = nullptr;     // where new offers go
    std::vector<Offer>* stage_one = nullptr;  // the cycle's stage-one offers (merged into)
    Candidate candidate;
    std::vector<uint32_t> path;  // BuildCandidate's scratch
    std::vector<Vec> consumed;
    std::array<RecentBag, kRecentBags> recent_bags;
    // Parallel cycles only (cycle null otherwise). The shard's own copy of the DRF order,
    // keyed by its view of the shares: the engine's plain state plus `*_view`, the deltas of
    // the cycle as the shard saw them at the start of its round plus its own since.
    ParallelCycle* cycle = nullptr;
    size_t index = 0;  // shard number
    internal::OrderedKeys<DrfChildKey> root_order;
    std::vector<internal::OrderedKeys<DrfChildKey>> node_order;           // by node
    std::vector<internal::OrderedKeys<DrfFrameworkKey>> framework_order;  // by node
    std::vector<double> node_key;                // a node's key in its parent's order (this copy)
    std::vector<double> self_key;                // a node's self entry's key
    std::vector<double> slot_key;                // a (framework, slot)'s key, by flat slot index
    std::vector<int64_t> node_consumption_view;  // [node * scalars + i]
    std::vector<int64_t> node_self_view;         // own allocated + own unallocated reserved
    std::vector<int64_t> slot_view;              // [flat slot * scalars + i]
    // This shard's commits, by round parity: round r writes log[r % 2], which the other
    // shards apply to their views at the start of round r + 1 (see AllocateParallel).
    struct Commit {
      uint32_t flat;  // (framework, slot)
      uint32_t role;
      Vec sums;                 // share sums: unreserved plus reserved scalars
      uint32_t reserved_begin;  // its reserved scalars in log_reserved[parity]
      uint32_t reserved_end;
    };
    struct ReservedPiece {
      uint32_t owner;  // the node it was reserved for
      uint32_t name;
      int64_t amount;
    };
    // This shard's own commits of the cycle, summed over shards when the phase ends.
    std::vector<int64_t> slot_delta;           // [flat slot * scalars + i]
    std::vector<int64_t> node_own_delta;       // own_allocated
    std::vector<int64_t> node_reserved_delta;  // own_unallocated_reserved
    std::vector<int64_t> available_delta;
    std::array<std::vector<Commit>, 2> log;
    std::array<std::vector<ReservedPiece>, 2> log_reserved;
    size_t round = 0;
    std::vector<uint32_t> dirty_nodes;  // changed by this shard since its last re-key
    std::vector<uint32_t> dirty_slots;
    std::vector<uint8_t> node_dirty;
    std::vector<uint8_t> slot_dirty;
    Vec sums;  // scratch
    // Undo log of the commit in progress: quota counters raised so far.
    std::vector<std::pair<std::atomic<int64_t>*, int64_t>> applied;
  };
  // L(n) - C(n) for one node (never negative), kUnlimited if the node does not limit `name`.
  int64_t NodeHeadroom(uint32_t node, size_t name) const;
  int64_t Surplus(size_t name) const;
  int64_t MaxUnmet(uint32_t node, size_t name) const;
  bool PathHasUnmet(uint32_t node) const;
  bool Guaranteed(uint32_t node, size_t name) const;
  // Builds the candidate for `node` on `agent` in `stage`; false if nothing to offer. With a
  // parallel `walk`, quota and held headroom are read with the cycle's shared counters.
  bool BuildCandidate(uint32_t node, uint32_t agent, int stage, Candidate* candidate, Reason* why,
                      Walk* walk = nullptr) const;
  bool MeetsMinAllocatable(const Framework& fw, const Candidate& candidate) const;
  // The bag offered for `candidate` on `agent`.
  Resources OfferResources(Walk& walk, uint32_t agent, const Candidate& candidate);
  // A bag of `unreserved` plus `other`, shared with an earlier offer of the same amounts when
  // one is still in the walk's recent_bags (identical agents are offered identical bags).
  Resources SharedBag(Walk& walk, const Vec& unreserved, const Resources& other);
  bool AgentExhausted(uint32_t agent) const;
  // Walks the children of `node` (kNoNode: the root) in order. `covered`: some node on the
  // path to `node` (itself included) has an unmet guarantee, so in stage 1 everything below
  // is owed; otherwise stage 1 descends only into subtrees that owe a guarantee. Returns true
  // when the agent is exhausted (VisitFrameworks likewise).
  bool WalkNodeOrder(Walk& walk, uint32_t node, uint32_t agent, size_t depth, bool covered);
  bool VisitFrameworks(Walk& walk, uint32_t node, uint32_t agent, size_t depth);
  // True if it made (or added to) an offer.
  bool TryOffer(Walk& walk, uint32_t framework, uint32_t node, uint32_t agent);
  // TryOffer in a parallel walk: commits the walk's candidate to the shared counters
  // (CommitShared, the candidate built again while that fails); false if nothing is left to
  // offer.
  bool CommitParallel(Walk& walk, uint32_t framework, size_t slot, uint32_t node, uint32_t agent);
  // False if the agent is skipped whole (nothing to walk).
  bool AgentWalkable(uint32_t agent, int stage) const;
  void AllocateAgent(Walk& walk, uint32_t agent);
  const internal::OrderedKeys<DrfChildKey>& ChildOrder(const Walk& walk, uint32_t node) const {
    if (walk.cycle != nullptr) return node == kNoNode ? walk.root_order : walk.node_order[node];
    return node == kNoNode ? root_order_ : roles_[node].order;
  }
  const internal::OrderedKeys<DrfFrameworkKey>& FrameworkOrder(const Walk& walk,
                                                               uint32_t node) const {
    return walk.cycle != nullptr ? walk.framework_order[node] : roles_[node].framework_order;
  }

  // ---- parallel cycles (engine_parallel.cc) ----
  // Why stage two of this cycle runs sequentially although allocation_shards > 1, or null if
  // it can run in parallel.
  const char* ParallelFallback() const;
  // Stage two over agent shards (see docs/allocator.md, "Parallel cycles").
  void AllocateParallel(std::vector<Offer>* offers);
  // Accounts `candidate` to (framework, slot): quota counters shared by CAS, fair-share
  // deltas in the walk (its views, its log for the other shards). False, with nothing
  // changed, if a quota limit or the held headroom no longer allows it (another shard took
  // it since the candidate was built).
  bool CommitShared(Walk& walk, uint32_t framework, size_t slot, const Candidate& candidate);
  // A parallel walk's headroom reads: NodeHeadroom and Surplus with the cycle's deltas.
  int64_t ParallelNodeHeadroom(const Walk& walk, uint32_t node, size_t name) const;
  int64_t ParallelSurplus(const Walk& walk, size_t name) const;
  // Adds a commit (of this walk or another shard's) to the walk's views, marking what it
  // changed dirty.
  void ApplyCommit(Walk& walk, const Walk::Commit& commit,
                   const std::vector<Walk::ReservedPiece>& reserved);
  // At the start of round `walk.round` > 0: applies the other shards' commits of the round
  // before and re-keys the walk's order.
  void RefreshShard(Walk& walk);
  // Re-keys the clients the walk itself changed (its ReKeyDirty).
  void ReKeyShard(Walk& walk);
  void ReKeyShardNode(Walk& walk, uint32_t node);
  void ReKeyShardSlot(Walk& walk, uint32_t flat);
  // What AddAllocation does on the agent itself: the record, free pools.
  void AllocateOnAgent(uint32_t framework, uint32_t role, uint32_t agent, const Vec& unreserved,
                       const Resources& other);

  // ---- screened cycles (engine_screen.cc) ----
  // The (framework, role) pairs that could be offered something in a cycle: live, active,
  // not suppressed.
  int OpenSlots(const Framework& fw) const;
  // TryOffer's ending in a screened cycle, once `candidate` passed every check: true if the
  // offer was declined inside the cycle (allocated now, released at the end), false if it is
  // to be made as usual.
  bool ScreenOffer(uint32_t framework, size_t slot, uint32_t node, uint32_t agent,
                   const Candidate& candidate);
  void MarkDrained(uint32_t framework, double refuse_seconds);
  // A declined offer that takes everything free on the agent (no reservations there, no quota
  // anywhere): the agent counts as exhausted for the rest of the cycle, and the offer counts
  // in the framework's and its role's shares, which is all the rest of the cycle can see of
  // it. No allocation record is made; EndScreenedCycle takes the shares back.
  void TakeWhole(uint32_t framework, size_t slot, uint32_t agent, const Vec& unreserved);
  // Stage two on `agent` once every framework still open is drained: counts the agent if
  // some drained framework would be offered it, as the walk would find.
  void DrainedOnly(uint32_t agent);
  // True if no agent from `first` on has free reserved resources: each of them then makes at
  // most one offer, whoever gets it.
  bool NoReservedFreeFrom(uint32_t first) const;
  // Releases and filters the cycle's screened declines, suppresses the drained frameworks and
  // reports the unshown declines.
  void EndScreenedCycle();

  // ---- direct placement (engine_place.cc) ----
  struct PlaceState;
  Reason TryPlace(PlaceState& state, uint32_t framework, size_t slot, const Vec& demand,
                  PlacementPolicy policy, uint32_t* chosen_agent, Vec* from_unreserved,
                  Resources* from_reserved);
  uint32_t NextPlacementFramework(PlaceState& state, uint64_t step);

  AllocatorOptions options_;
  std::vector<std::string> scalar_names_;
  internal::StringMap<size_t> scalar_index_;
  std::vector<size_t> scalar_name_order_;  // indexes sorted by name

  std::vector<Agent> agents_;
  internal::StringMap<uint32_t> agent_by_name_;
  std::vector<std::vector<int64_t>> free_columns_;   // [name][agent]: free unreserved scalars
  std::vector<std::vector<int64_t>> total_columns_;  // [name][agent]: total, all reservations
  bool any_reservations_ = false;                    // some agent was ever given a reservation
  Vec cluster_total_;
  // Share's divisors: cluster_total_ as doubles, +infinity where the total is not positive
  // (such a resource then contributes 0, as if skipped). Kept by RefreshShareDivisors.
  std::vector<double> share_divisors_;
  // See SetParallelCommitHookForTesting.
  std::function<void(AgentId)> parallel_commit_hook_;
  Vec available_;          // free unreserved scalars on active agents
  Vec required_;           // required headroom
  Vec total_consumption_;  // sum of C over top-level roles

  std::vector<Framework> frameworks_;
  internal::StringMap<uint32_t> framework_by_name_;
  int live_frameworks_ = 0;

  std::vector<RoleNode> roles_;
  internal::StringMap<uint32_t> role_by_path_;
  std::vector<uint32_t> top_level_;                // top-level nodes
  std::vector<uint32_t> root_walk_;                // top-level nodes with frameworks in subtree
  internal::OrderedKeys<DrfChildKey> root_order_;  // DRF order of root_walk_
  int unmet_nodes_ = 0;                            // nodes with some unmet guarantee
  int quota_nodes_ = 0;

  // Dirty tracking for the incremental order.
  std::vector<uint32_t> dirty_nodes_;
  std::vector<std::pair<uint32_t, uint32_t>> dirty_framework_roles_;
  bool order_stale_ = false;  // totals changed: every key must be recomputed

  // Decline filters as bits, agents by frameworks: kFilterPlane, the framework has a filter on
  // the agent; kCoveringPlane, that filter covers everything free there (the walk skips the
  // framework without building a candidate).
  static constexpr size_t kFilterPlane = 0;
  static constexpr size_t kCoveringPlane = 1;
  internal::BitMatrix<2> filter_bits_;
  // Filter expiries (stale ones, of filters since replaced or erased, included): a FIFO of
  // those made in order of expiry, the usual case (one refuse_seconds per framework, a clock
  // that does not go back), and a min-heap of the others. Expiring pops both up to `now`.
  std::deque<FilterExpiry> expiry_fifo_;
  std::priority_queue<FilterExpiry, std::vector<FilterExpiry>, std::greater<FilterExpiry>>
      expiries_;
  uint64_t filter_sequence_ = 0;
  uint64_t cycle_ = 0;
  // The last cycle in which stage one made an offer: stage two of any other cycle has none
  // to merge into and skips reading the agent's stage_one_cycle.
  uint64_t stage_one_offer_cycle_ = 0;

  // The screened cycle in progress (AllocateScreened), else screen_ is null.
  OfferScreen* screen_ = nullptr;
  double screen_now_ = 0;
  std::vector<ScreenedDecline> screened_;
  std::vector<uint32_t> drained_;  // frameworks drained this cycle, in order
  std::vector<std::pair<uint32_t, uint32_t>> taken_slots_;  // (framework, slot) with TakeWhole
  int open_slots_ = 0;  // OpenSlots summed over frameworks not drained
  // Declines of agents handed to drained frameworks once no other is open (DrainedOnly),
  // possible while every drained framework refuses for the same time.
  bool drained_refuse_uniform_ = true;
  int drained_only_ = 0;  // 0: not yet checked this cycle; 1: counting; -1: not possible
  int64_t drained_only_declines_ = 0;
  Vec scratch_sums_;

  // Scratch space reused across calls (no allocation on the hot path once warm).
  // Deques: growing them never moves the vectors a walk further up is iterating.
  std::deque<std::vector<ChildKey>> scratch_children_;
  std::deque<std::vector<FrameworkKey>> scratch_frameworks_;
  Candidate scratch_candidate_;
  Walk walk_;  // the sequential walk's
  // Parallel cycles: the shared counters and the shards' walks, kept across cycles (their
  // buffers are reused).
  struct ParallelCycleDeleter {
    void operator()(ParallelCycle* cycle) const;
  };
  std::unique_ptr<ParallelCycle, ParallelCycleDeleter> parallel_;
  std::vector<std::unique_ptr<Walk>> shard_walks_;
  mutable std::vector<uint32_t> scratch_path_;
  mutable std::vector<Vec> scratch_consumed_;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_ENGINE_H_
