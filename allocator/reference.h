// ReferenceAllocator: the deliberately simple implementation of the Allocator seam (see the
// contract in allocator/allocator.h). It is the test oracle for the production engine and the
// benchmark baseline, so it follows the Mesos loop literally: for every agent, fix the
// hierarchical order of (role, framework) clients, then walk it and offer.
//
// How it stays simple:
//   - The primary state is plain: agents and frameworks in vectors indexed by id, allocations
//     in a std::map keyed by (agent, framework, role), role nodes in a vector indexed by id.
//   - A few scalar aggregates are cached because recomputing them from the allocations for
//     every client would be quadratic on large clusters: the cluster total, the available
//     headroom, per role node what is allocated under it / reserved for it / its consumption
//     C(n), and per (framework, role) the allocation. Every change of a free pool or of an
//     allocation goes through four functions (AddFree, SubtractFree, AddAllocation,
//     SubtractAllocation) that keep those caches current, and CheckCaches() recomputes all of
//     them from the primary state (the tests call it after every scenario).
//   - Everything else is recomputed from scratch when needed: unmet guarantees U(n) and limit
//     headroom along a role path (per candidate, from the cached C(n)); need(n), the required
//     and the available-minus-required headroom (the surplus: once per agent visit and again
//     after every offer, once per Place step); the hierarchical order (once per agent visit
//     in Allocate, fixed for the whole visit; once per Place step).
//   - Work that provably cannot produce an offer is skipped: removed, inactive or fully
//     allocated agents, and stage 1 at an agent when no node has an unmet guarantee (offers
//     only lower unmet guarantees).
//   - Code: this file's class is implemented in allocator/reference.cc (state changes, order,
//     Allocate), allocator/internal/reference_place.cc (Place) and
//     allocator/internal/reference_read.cc (read access, CheckCaches).
//
// Reading of the contract (choices where allocator.h leaves room; the engine must match):
//   1. Error precedence inside one call: InvalidArgument for arguments malformed on their own,
//      then NotFound, then InvalidArgument that needs the state (a role the framework does not
//      have), then AlreadyExists, then FailedPrecondition. Place reports the first bad request
//      in span order, checking each request in that same precedence.
//   2. The cycle counter is state: a call rejected by validation does not advance it.
//   3. An agent "has GPUs" when its total has an entry named "gpus" (any reservation).
//   4. Stage 1 offers nothing to r unless some node on r's path has an unmet guarantee; when
//      it does, the candidate is the reserved part plus the stage-1 unreserved parts. A name is
//      "guaranteed on r's path" if some node on the path has a guarantee > 0 for it; such a
//      name is capped at min(max U on the path, limit headroom) in stage 1 even when its own
//      U is already 0 (it then gets nothing in stage 1; it does not fall back to the surplus
//      rule of the non-guaranteed names). "available - required headroom" is
//      max(0, available - required) per name (the surplus). Both stages of one Allocate use
//      the same RANDOM keys at an agent (same cycle, position = agent id). The filter and
//      minimum-allocatable checks apply to each stage's candidate on its own, also when
//      stage 2 then merges it into the stage-1 Offer of the same (framework, agent, role).
//   5. Recover/Decline with a role the framework does not have is InvalidArgument (as for
//      Suppress/Revive). Recover of empty resources is a no-op; Decline of empty resources
//      still installs the (then useless) filter.
//   6. Reserve checks, for every existing node on the role path and every name it reserves
//      that the node limits, C(n) + reserved amount <= L(n). Reserve and Unreserve of empty
//      resources are InvalidArgument, as is Unreserve of unreserved entries; both change the
//      agent's Total() (the entries change reservation).
//   7. Place: free_r (for scoring) is the role's physical usable amount on the agent: the free
//      pools reserved for the role's path plus the free unreserved amount, not capped by limit
//      or headroom. The limit check (WithinLimits) takes, for every node n on the path that
//      limits a name, what the placement raises C(n) by (the unreserved part, plus what it
//      takes from pools reserved above n) and requires C(n) + delta <= L(n) unless delta is 0,
//      which passes even when C(n) > L(n) already (a limit lowered below consumption). Allocate
//      chops ancestors' pools the same way (Candidate). Scores are summed in double over the
//      demand's names in ascending order, starting from 0.0, with terms
//      double(free_r - d_r) / double(cap_r) (best/worst fit) and
//      (double(d_r) / double(cap_r)) * (double(free_r) / double(cap_r)) (dot product).
//   8. Place failure reasons consider active agents only. An agent "failed only on headroom"
//      or "failed on a limit" if it passes the GPU rule and the demand physically fits in the
//      role's usable pools there. kMissingGpuCapability: some active agent that the GPU rule
//      excludes physically fits the demand. Otherwise kInsufficientResources.
//   9. Place: one step is one attempt on a head request (placed or failed); steps count from 0
//      and are the RANDOM sorter's position. A framework takes the place of the client
//      (head request's role, framework) in the flattened hierarchical order. Requests of an
//      inactive framework get kFrameworkInactive without taking steps.
//  10. FrameworkShare with a role the framework does not have is InvalidArgument.
//      Consumption() lists non-zero names only. RoleShare is the DRF share also under the
//      RANDOM sorter. RoleName of an unknown id is "".
//  11. Minimum allocatable alternatives from AllocatorOptions are used as given: their scalar
//      entries are summed per name (over reservations) and compared with the candidate's
//      per-name sums; non-scalar entries (not expected) must be contained as they are.
//  12. Decline filters are per (framework, agent), whatever the role: a decline under one role
//      also filters the framework's other roles on that agent while the refused resources
//      contain their candidate. Filters are dropped only by Allocate (expiry <= now), Revive,
//      a later Decline on the same agent, and removal of the framework or agent.
#ifndef STEWARD_ALLOCATOR_REFERENCE_H_
#define STEWARD_ALLOCATOR_REFERENCE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/allocator.h"
#include "allocator/ids.h"
#include "allocator/quantities.h"
#include "allocator/resources.h"

namespace steward::allocator {

class ReferenceAllocator final : public Allocator {
 public:
  explicit ReferenceAllocator(AllocatorOptions options = {});

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

  // Recomputes every cached aggregate from the primary state and checks that resources are
  // conserved on every agent (free + allocated == total). Internal error naming the first
  // mismatch. For tests.
  absl::Status CheckCaches() const;

 private:
  // Scalar amounts in milli-units by name; zero amounts are not stored.
  using Scalars = std::map<std::string, int64_t, std::less<>>;

  struct RoleNode {
    std::string path;
    RoleId parent;                 // invalid for top-level nodes
    std::vector<RoleId> children;  // ascending id
    double weight = 1;
    Quota quota;
    // Cached (see CheckCaches): scalars allocated to frameworks under exactly this role, free
    // scalars reserved for exactly this role (all agents), and C(n) of the whole subtree.
    Scalars self_allocated;
    Scalars self_reserved;
    Scalars consumption;
  };

  struct RoleTable {
    std::vector<RoleNode> nodes;
    std::vector<RoleId> top_level;  // ascending id
    std::map<std::string, RoleId, std::less<>> by_path;

    // Creates the node and its missing ancestors, ancestors first. `path` must be valid.
    RoleId Intern(std::string_view path);
    std::optional<RoleId> Find(std::string_view path) const;
  };

  struct AgentState {
    std::string name;
    Resources total;    // includes static and dynamic reservations
    Resources free;     // total minus everything allocated
    Resources dynamic;  // the dynamically reserved part of `total`
    std::vector<std::pair<std::string, std::string>> attributes;
    bool has_gpus = false;  // `total` has an entry named "gpus" (reservations never change it)
    bool active = true;
    bool removed = false;
  };

  struct Filter {
    Resources refused;
    double expiry = 0;
  };

  struct FrameworkState {
    std::string name;
    std::vector<RoleId> roles;  // as listed
    bool gpu_capable = false;
    std::vector<Resources> min_allocatable;
    bool active = true;
    bool removed = false;
    std::set<RoleId> suppressed;
    std::map<AgentId, Filter> filters;
  };

  // One entry of the flattened hierarchical order.
  struct Client {
    RoleId role;
    FrameworkId framework;
  };

  // How a demand fits on one agent for one role (Place); vectors follow the demand's entries.
  struct Fit {
    bool fits = false;                // every name fits in the path's pools + free unreserved
    std::vector<int64_t> usable;      // free_r: the path's reserved pools + free unreserved
    std::vector<int64_t> unreserved;  // u: the part taken from the unreserved pool
  };

  using AllocationKey = std::tuple<AgentId, FrameworkId, RoleId>;

  // Lookups of live objects; nullptr if unknown or removed.
  const AgentState* LiveAgent(AgentId agent) const;
  const FrameworkState* LiveFramework(FrameworkId framework) const;
  bool RoleExists(RoleId role) const;
  // The role and its ancestors, nearest first.
  std::vector<RoleId> PathOf(RoleId role) const;
  // NotFound for an unknown framework or role, InvalidArgument if the framework is not
  // subscribed to the role.
  absl::Status CheckSubscription(FrameworkId framework, RoleId role) const;
  absl::Status SetAgentActive(AgentId agent, bool active);

  // The only places where free pools and allocations change (they keep the caches current).
  void AddFree(AgentId agent, const Resources& resources);
  void SubtractFree(AgentId agent, const Resources& resources);
  void AddAllocation(FrameworkId framework, AgentId agent, RoleId role, const Resources& resources);
  void SubtractAllocation(FrameworkId framework, AgentId agent, RoleId role,
                          const Resources& resources);
  void AddToRolePath(RoleId role, std::string_view name, int64_t delta);

  // Derived quantities, recomputed from the caches on every call.
  Scalars Unmet(RoleId role) const;
  Scalars Need(RoleId role) const;
  // max(0, available - required headroom) per name of the available headroom.
  Scalars Surplus() const;
  bool AnyUnmetGuarantee() const;
  bool PathHasUnmet(RoleId role) const;
  bool PathHasUnmetFor(RoleId role, const Resources& demand) const;
  bool PathGuarantees(RoleId role, std::string_view name) const;
  int64_t PathMaxUnmet(RoleId role, std::string_view name) const;
  // Limit headroom left at each node of a role path (index 0: the role itself) while a
  // candidate takes resources.
  struct PathHeadroom {
    std::vector<std::map<std::string, int64_t, std::less<>>> left;
    // What may still be taken of `name` so that nodes path[0..below-1] stay within limits.
    int64_t Allowed(size_t below, std::string_view name) const;
    void Consume(size_t below, std::string_view name, int64_t amount);
  };
  PathHeadroom HeadroomAlong(const std::vector<RoleId>& path) const;
  // True if allocating `take` (with its reservations) to `role` keeps every node on the role's
  // path within its limits, or does not raise the consumption of a node above its limit.
  bool WithinLimits(RoleId role, const Resources& take) const;
  double Share(const Scalars& amounts, const Scalars* more = nullptr) const;

  // The flattened hierarchical order at `position` (agent id or Place step).
  std::vector<Client> Order(uint64_t position) const;
  void OrderNode(std::optional<RoleId> node, uint64_t position,
                 const std::vector<std::vector<FrameworkId>>& own,
                 const std::vector<bool>& has_frameworks, std::vector<Client>& out) const;

  // Allocate helpers.
  Resources Candidate(int stage, const AgentState& agent, RoleId role,
                      const Scalars& surplus) const;
  bool MeetsMinAllocatable(const FrameworkState& framework, const Resources& candidate) const;

  // Place helpers.
  absl::Status ValidateRequest(const TaskRequest& request) const;
  void FitOn(const AgentState& agent, std::string_view role_path, const Resources& demand,
             Fit& fit) const;
  Resources Take(const AgentState& agent, RoleId role, const Resources& demand) const;
  PlacementDecision TryPlace(const TaskRequest& request, PlacementPolicy policy,
                             const Scalars& surplus) const;

  static absl::Status ValidateQuotas(const RoleTable& table);

  AllocatorOptions options_;
  uint64_t cycle_ = 0;
  std::vector<AgentState> agents_;
  std::vector<FrameworkState> frameworks_;
  std::map<std::string, AgentId, std::less<>> live_agent_names_;
  std::map<std::string, FrameworkId, std::less<>> live_framework_names_;
  RoleTable roles_;
  std::map<AllocationKey, Resources> allocations_;
  // Cached (see CheckCaches).
  Scalars cluster_total_;  // all live agents' totals, summed over reservations
  Scalars available_;      // free unreserved scalars of active agents
  std::map<std::pair<FrameworkId, RoleId>, Scalars> framework_allocated_;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_REFERENCE_H_
