// AllocatorSnapshot: what a reader (state endpoints, metrics, the simulator's samplers) sees
// of the allocator after a cycle. Built by the ConcurrentAllocator's loop thread
// (allocator/concurrent.h) and published by an atomic pointer swap; immutable once published,
// so any number of threads read it without synchronisation while they hold it.
//
// Views are shared between consecutive snapshots when they did not change (the vectors hold
// shared_ptr<const ...>), so publishing costs a pointer copy per unchanged entry, not a deep
// copy. Scalars are ResourceQuantities in milli-units, summed over reservations.
#ifndef STEWARD_ALLOCATOR_SNAPSHOT_H_
#define STEWARD_ALLOCATOR_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "allocator/allocator.h"
#include "allocator/ids.h"
#include "allocator/quantities.h"

namespace steward::allocator {

struct AgentView {
  AgentId id;
  std::string name;
  bool active = true;
  ResourceQuantities total;  // Total(agent), scalars
  ResourceQuantities free;   // Free(agent), scalars
};

// One per (framework, subscribed role).
struct FrameworkRoleView {
  FrameworkId framework;
  std::string name;
  bool active = true;
  RoleId role;
  std::string role_path;
  bool suppressed = false;
  ResourceQuantities allocated;  // sum over agents of AllocatedTo(framework, agent, role)
  ResourceQuantities offered;    // what the snapshot's cycle offered (0 entries omitted)
  double dominant_share = 0;     // FrameworkShare(framework, role)
};

// One per role node named so far (by a framework, weight, quota or reservation, and their
// ancestors).
struct RoleView {
  RoleId id;
  std::string path;
  ResourceQuantities allocated;  // Consumption(role)
  Quota quota;                   // GetQuota(role)
  double share = 0;              // RoleShare(role): weighted dominant share
};

// Counters since the ConcurrentAllocator was made.
struct IntakeCounters {
  uint64_t events_applied = 0;   // events whose call returned ok
  uint64_t events_rejected = 0;  // events whose call returned an error (state unchanged)
  uint64_t batches = 0;          // batches drained from the queue (non-empty ones)
  uint64_t cycles = 0;           // successful Allocate calls
  uint64_t offers = 0;           // offers made by those cycles
  uint64_t snapshots_published = 0;
  uint64_t snapshots_freed = 0;  // retired snapshots reclaimed so far
};

struct AllocatorSnapshot {
  uint64_t cycle = 0;        // number of the last cycle (counters.cycles); 0 before the first
  double time = 0;           // `now` of that cycle
  uint64_t events_seen = 0;  // events applied (ok or not) before this snapshot was taken
  std::vector<std::shared_ptr<const AgentView>> agents;              // ascending id
  std::vector<std::shared_ptr<const FrameworkRoleView>> frameworks;  // by (framework, role)
  std::vector<std::shared_ptr<const RoleView>> roles;                // ascending id
  IntakeCounters counters;

  // nullptr when absent.
  const AgentView* FindAgent(AgentId agent) const;
  const FrameworkRoleView* FindFramework(FrameworkId framework, RoleId role) const;
  const RoleView* FindRole(std::string_view path) const;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_SNAPSHOT_H_
