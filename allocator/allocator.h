// The allocator seam: a synchronous, deterministic object that decides who gets which
// resources. Callers (the simulator, the master) own time and concurrency: they feed events in
// and call Allocate(now) or Place(); results are returned, never called back.
//
// Two implementations share this interface and must produce identical decisions for identical
// event sequences:
//   - Engine (allocator/engine.h): the production engine, laid out for speed;
//   - ReferenceAllocator (allocator/reference.h): a deliberately simple implementation that
//     follows the Mesos loop, kept as the test oracle and the benchmark baseline.
//
// MODEL
//   Agents have a total (possibly with static reservations, `cpus(eng):2`) and free resources,
//   split into pools: unreserved, and one pool per reservation role. Frameworks subscribe to
//   one or more roles. Roles are hierarchical paths ("eng/web"); "*" is the default role and
//   has no parent or children. A role node exists once anything names it (a framework, a
//   weight, a quota or a reservation); creating "a/b/c" creates "a" and "a/b" first. Every
//   node has a weight (default 1), an optional quota guarantee G and limit L.
//   Resources offered to framework F under role R on agent A are *allocated* to (F, A, R)
//   until the caller recovers them (declined, unused, or a task finished).
//
//   Consumption C(n) of role node n: resources allocated to frameworks in n's subtree
//   (reserved and unreserved) plus the unallocated reservations of roles in n's subtree.
//   Unmet guarantee U(n) = max(0, G(n) - C(n)) per scalar name. Required headroom
//   need(n) = max(U(n), sum over children c of need(c)), per name; the cluster's required
//   headroom is the sum of need(t) over top-level roles t. Available headroom is the sum over
//   active agents of free unreserved scalars. Limit headroom of a role r for a name is the
//   minimum over r and its ancestors that limit that name of L(n) - C(n) (never negative;
//   unlimited when nobody on the path limits the name). Allocating unreserved resources to r
//   raises C of r and all its ancestors; allocating a pool reserved for r itself changes no C
//   (it already counted as an unallocated reservation); allocating a pool reserved for a
//   strict ancestor a raises C of the nodes from r up to, not including, a. Every allocation
//   keeps each node whose C it raises within that node's limit.
//
// ORDER (DRF, the default sorter)
//   Hierarchical DRF as in Mesos ("naive" H-DRF in the terms of Bhattacharya et al., SoCC'13):
//   children of every node are ordered by weighted dominant share, where a role node's share is
//   max over scalar names of C(n)/total / weight(n), total being the sum over all agents
//   (active or not) of their totals. A node that has frameworks and children gets a virtual
//   child for its own frameworks, whose share uses only what is allocated at the node itself
//   (plus its own unallocated reservations) with the node's weight. The walk is depth-first in
//   that order. Inside a role, frameworks are ordered by the unweighted dominant share of
//   their allocation under that role. Ties break by ascending id (registration order). This
//   scheme can starve a leaf whose dominant resource differs from its siblings' (the H-DRF
//   paper's observation); docs/allocator.md shows the case and tests pin it.
//   Shares are computed in double as max over scalar names with a non-zero total of
//   double(amount) / double(total), then divided by the weight; keys compare as (share, id),
//   the virtual child using its node's id. The RANDOM sorter replaces the share by
//   RandomSortKey() (allocator/sort_key.h) of (seed, cycle, position, client), so it is
//   deterministic for a seed and identical across implementations.
//
// ALLOCATE(now)
//   Filters with expiry <= now are dropped. Agents are visited in ascending id, first for
//   stage 1 then again for stage 2. At each agent the whole order is fixed when the agent is
//   entered (as Mesos sorts once per agent); allocations made at this agent re-order clients
//   only for later agents. For each role r (in order) with frameworks, and each framework F of
//   r (in order), skip if F is inactive, F suppressed r, the agent has GPUs and F is not GPU
//   capable, or the agent is inactive. Then compute the candidate:
//     reserved part: free pools of the agent reserved for r or an ancestor of r, nearest
//       first: r's own in full, an ancestor's scalars up to the headroom left under the limits
//       of the nodes they raise (see MODEL), non-scalars in full;
//     stage 1 (only if some node on r's path has unmet guarantee): unreserved scalars whose
//       name is guaranteed somewhere on r's path, up to min(max over the path of U(n), limit
//       headroom); other unreserved scalars up to min(limit headroom, available - required
//       headroom); unreserved ranges and sets in full. The candidate counts only if its
//       guaranteed part or its reserved part is non-empty.
//     stage 2: unreserved scalars up to min(limit headroom, available - required headroom);
//       unreserved ranges and sets in full.
//   Required and available headroom, U and limit headroom are kept current after every offer.
//   The candidate is skipped if empty, if F's decline filter on the agent is live and its
//   refused resources contain the candidate, or if it contains none of F's minimum allocatable
//   alternatives (default: cpus:0.01 or mem:32; an alternative is contained when, for each of
//   its names, the candidate's amount summed over reservations is at least as large). Otherwise it
//   is offered and allocated, and the walk continues with the next framework on what is left of the
//   agent. A cycle returns at most one Offer per (framework, agent, role): what stage two adds to a
//   stage-one offer is merged into it. Offers come in the order of their first allocation.
//
// PLACE (direct placement, the simulator's DIRECT mode)
//   Progressive filling: each framework's requests form a FIFO queue (in span order). Repeat:
//   among frameworks whose head request is still open, take the first in the hierarchical
//   order whose head request's role has unmet guarantee on its path for a name the request
//   demands; if none, the first in order. Try to place its head request: an agent qualifies if
//   it is active, GPU rules allow it, and the demand fits in what the role may use there
//   (reserved pools for the role's path first, nearest reservation first, then unreserved);
//   the allocation must keep every node whose consumption it raises within its limit (see
//   MODEL; a request taking nothing that raises a node's C passes at that node even if the node
//   is over a lowered limit), and the unreserved part exceeding the role's own
//   unmet guarantee must fit in the surplus headroom. The policy picks among qualifying agents
//   (ties: lowest id): first-fit takes the lowest id; with free_r the role's usable amount of
//   name r on the agent, d_r the demand and cap_r the agent's total of r (summed over
//   reservations), summing over the demand's names in ascending name order, best-fit
//   minimises and worst-fit maximises sum (free_r - d_r) / cap_r, dot-product maximises
//   sum (d_r / cap_r) * (free_r / cap_r). If no agent qualifies, the head request fails with a
//   reason and the framework's remaining requests are not tried (FIFO; they get kQueuedBehind). The
//   failure reason is kHeldForHeadroom if some agent failed only on headroom, else kQuotaLimit if
//   some agent failed on a limit, else kMissingGpuCapability if the demand fits only on GPU agents,
//   else kInsufficientResources. Requests of inactive frameworks get kFrameworkInactive.
//   Filters and suppression do not apply to placement. Placed requests are allocated to
//   (F, agent, role) like offers.
//
// ERRORS
//   Every call validates all arguments first and returns InvalidArgument (malformed values),
//   NotFound (unknown ids) or FailedPrecondition (valid but inconsistent with the state, such
//   as recovering more than allocated), or AlreadyExists (a duplicate name); on error the
//   state is unchanged, and no role node is created.
//
// Not thread-safe: one caller at a time.
#ifndef STEWARD_ALLOCATOR_ALLOCATOR_H_
#define STEWARD_ALLOCATOR_ALLOCATOR_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/ids.h"
#include "allocator/quantities.h"
#include "allocator/resources.h"

namespace steward::allocator {

enum class SorterKind { kDrf, kRandom };
enum class PlacementPolicy { kFirstFit, kBestFit, kWorstFit, kDotProduct };

struct AllocatorOptions {
  SorterKind sorter = SorterKind::kDrf;
  uint64_t seed = 0;
  // Used for frameworks that declare no minimum allocatable resources: a candidate offer is
  // made only if it contains at least one of these. Empty: any non-empty candidate qualifies.
  std::vector<Resources> default_min_allocatable = DefaultMinAllocatable();
  // Engine only (ReferenceAllocator ignores both). Stage two of a cycle walks the agents in
  // this many contiguous shards on as many threads (oneTBB); 1 is the sequential walk. Shards
  // see each other's allocations in rounds of `allocation_round_agents` agents per shard, so
  // a framework's dominant share can differ from the sequential cycle's by a bounded amount
  // (docs/allocator.md, "Parallel cycles"). Both must be >= 1: Engine::Allocate rejects
  // other values with InvalidArgument.
  int allocation_shards = 1;
  int allocation_round_agents = 64;

  static std::vector<Resources> DefaultMinAllocatable();  // {cpus:0.01}, {mem:32}
  // InvalidArgument naming the first bad field, else OK.
  absl::Status Validate() const;
};

struct AgentInfo {
  std::string name;  // unique among live agents, non-empty
  Resources total;   // may contain static reservations
  std::vector<std::pair<std::string, std::string>> attributes;
};

struct FrameworkInfo {
  std::string name;                // unique among live frameworks, non-empty
  std::vector<std::string> roles;  // at least one, unique, valid role paths
  bool gpu_capable = false;
  // Alternatives: a candidate is allocatable if it contains any one of them. Empty: the
  // allocator's default.
  std::vector<Resources> min_allocatable;
};

struct Quota {
  ResourceQuantities guarantee;  // zero entries mean nothing
  ResourceQuantities limit;      // names absent are unlimited; "cpus:0" forbids cpus
};

struct Offer {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;

  friend bool operator==(const Offer&, const Offer&) = default;
};

// Why a framework was not offered an agent, or a task was not placed.
enum class Reason {
  kNone,                   // offered / placed
  kFrameworkInactive,      // framework deactivated
  kRoleSuppressed,         // the framework suppressed offers for the role
  kAgentInactive,          // agent deactivated
  kMissingGpuCapability,   // agent has GPUs, framework is not GPU capable
  kFiltered,               // a live decline filter covers what would be offered
  kQuotaLimit,             // a quota limit on the role's path leaves nothing to offer
  kHeldForHeadroom,        // unreserved resources held back for unmet quota guarantees
  kBelowMinAllocatable,    // what is left is less than the framework's minimum allocatable
  kInsufficientResources,  // nothing (or not enough) free for this role on the agent
  kQueuedBehind,           // direct placement: an earlier request of the framework failed
};
std::string_view ReasonName(Reason reason);

struct TaskRequest {
  FrameworkId framework;
  RoleId role;       // one of the framework's roles
  Resources demand;  // unreserved scalars only, non-empty
};

struct PlacementDecision {
  Reason reason = Reason::kNone;  // kNone when placed
  AgentId agent;                  // valid when placed
  Resources resources;            // what was allocated (with reservations), when placed

  bool placed() const { return reason == Reason::kNone; }
};

// Per role of a framework: how many agents fall under each reason right now.
struct RoleExplanation {
  RoleId role;
  std::vector<std::pair<Reason, int>> agents_by_reason;  // counts, only non-zero
  std::string summary;                                   // one human-readable sentence
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  // ---- Agents ----
  // InvalidArgument for an empty name or attribute name, or if the cluster's total of a
  // resource would pass kMaxScalarUnits; AlreadyExists for a live agent's name.
  virtual absl::StatusOr<AgentId> AddAgent(const AgentInfo& info) = 0;
  // Drops the agent, everything allocated on it and every filter naming it.
  virtual absl::Status RemoveAgent(AgentId agent) = 0;
  virtual absl::Status ActivateAgent(AgentId agent) = 0;
  virtual absl::Status DeactivateAgent(AgentId agent) = 0;

  // ---- Frameworks ----
  virtual absl::StatusOr<FrameworkId> AddFramework(const FrameworkInfo& info) = 0;
  // Recovers everything allocated to the framework and drops its filters.
  virtual absl::Status RemoveFramework(FrameworkId framework) = 0;
  virtual absl::Status ActivateFramework(FrameworkId framework) = 0;
  virtual absl::Status DeactivateFramework(FrameworkId framework) = 0;
  // Stops offers of `role` to the framework until Revive.
  virtual absl::Status Suppress(FrameworkId framework, RoleId role) = 0;
  // Resumes offers of `role` and drops every decline filter of the framework.
  virtual absl::Status Revive(FrameworkId framework, RoleId role) = 0;

  // ---- Roles ----
  // The id of an existing role node; NotFound if nothing has named it yet.
  virtual absl::StatusOr<RoleId> FindRole(std::string_view path) const = 0;
  virtual std::string RoleName(RoleId role) const = 0;
  // Weight > 0 and finite.
  virtual absl::Status SetWeight(std::string_view role, double weight) = 0;
  // Sets (or, with an empty Quota, clears) the quota of `role` (not "*"). InvalidArgument if a
  // guarantee exceeds the limit of the role or of an ancestor, or if the guarantees below a
  // limited node (need(n) without consumption) exceed its limit.
  virtual absl::Status SetQuota(std::string_view role, const Quota& quota) = 0;

  // ---- Reservations ----
  // Turns free unreserved `resources` of the agent into a reservation for `role` (not "*").
  // FailedPrecondition if not free, or if it would take the role over a quota limit.
  virtual absl::Status Reserve(AgentId agent, std::string_view role,
                               const Resources& resources) = 0;
  // Turns free, dynamically reserved `resources` (with their reservation roles) back into
  // unreserved ones. Static reservations cannot be unreserved.
  virtual absl::Status Unreserve(AgentId agent, const Resources& resources) = 0;

  // ---- Offers ----
  // Returns `resources` allocated to (framework, agent, role) to the free pool.
  virtual absl::Status Recover(FrameworkId framework, AgentId agent, RoleId role,
                               const Resources& resources) = 0;
  // Recover plus a filter: until `now + refuse_seconds`, the framework is not offered this
  // agent while what it would be offered is contained in `resources`. A later decline on the
  // same agent replaces the filter. refuse_seconds >= 0 (may be +infinity); now finite.
  virtual absl::Status Decline(FrameworkId framework, AgentId agent, RoleId role,
                               const Resources& resources, double refuse_seconds, double now) = 0;
  // Marks free `resources` of the agent as allocated to (framework, agent, role) without an
  // offer: resources that running tasks already use when a master recovers them after a
  // failover (the agent reregisters and reports its tasks). Reserved entries must be reserved
  // for `role` or an ancestor. FailedPrecondition if they are not free or not usable by the
  // role. Quota limits are not checked: the resources are in use already.
  virtual absl::Status AddInUse(FrameworkId framework, AgentId agent, RoleId role,
                                const Resources& resources) = 0;
  // One allocation cycle. InvalidArgument if `now` is not finite.
  virtual absl::StatusOr<std::vector<Offer>> Allocate(double now) = 0;

  // ---- Direct placement ----
  // Places requests by progressive filling (see PLACE above); one decision per request, in
  // order. InvalidArgument/NotFound (and nothing placed) if any request is malformed.
  virtual absl::StatusOr<std::vector<PlacementDecision>> Place(
      std::span<const TaskRequest> requests, PlacementPolicy policy) = 0;

  // ---- Read access (for callers, tests and explanations; not for hot paths) ----
  virtual absl::StatusOr<Resources> Total(AgentId agent) const = 0;
  virtual absl::StatusOr<Resources> Free(AgentId agent) const = 0;
  // Everything allocated on the agent, summed over frameworks and roles.
  virtual absl::StatusOr<Resources> Allocated(AgentId agent) const = 0;
  virtual absl::StatusOr<Resources> AllocatedTo(FrameworkId framework, AgentId agent,
                                                RoleId role) const = 0;
  // C(role): scalar consumption of the role's subtree, in milli-units.
  virtual absl::StatusOr<ResourceQuantities> Consumption(RoleId role) const = 0;
  virtual absl::StatusOr<Quota> GetQuota(RoleId role) const = 0;
  // Weighted dominant share of the role node (as used by the sorter).
  virtual absl::StatusOr<double> RoleShare(RoleId role) const = 0;
  // Unweighted dominant share of the framework's allocation under `role`.
  virtual absl::StatusOr<double> FrameworkShare(FrameworkId framework, RoleId role) const = 0;
  virtual std::vector<AgentId> Agents() const = 0;
  virtual std::vector<FrameworkId> Frameworks() const = 0;
  virtual absl::StatusOr<std::string> AgentName(AgentId agent) const = 0;
  virtual absl::StatusOr<std::string> FrameworkName(FrameworkId framework) const = 0;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_ALLOCATOR_H_
