// ConcurrentAllocator: the allocator seam's concurrency wrapper. The allocator itself stays a
// synchronous, deterministic object (allocator.h); this class gives it
//   - event intake from many threads: producers Submit() AllocatorEvents (allocator/intake.h)
//     into a lock-free MPSC queue (allocator/internal/mpsc_queue.h). Submit never blocks and
//     takes no mutex (it may allocate: the future's state, or queue nodes while the queue's
//     node pool grows);
//   - one loop thread, the caller's: RunCycle(now) drains the queue in batches, applies the
//     events in the order the queue gives (each producer's events in the order it submitted
//     them), reports each outcome to the producer that asked, runs Allocate(now) and publishes
//     a snapshot. No mutex anywhere on this path;
//   - immutable snapshots for readers (allocator/snapshot.h), published by an atomic pointer
//     swap and reclaimed with hazard pointers (allocator/internal/hazard_cell.h). A reader
//     never blocks the loop and the loop never waits for a reader: a snapshot still held when
//     it is replaced is freed by a later publication.
//
// A bad event (unknown id, malformed decline, ...) is rejected by the allocator with its
// status, reported to the producer and counted; the allocator state is unchanged by it and
// everything accepted before and after stays.
//
// THREADS
//   Submit*, Acquire: any thread, concurrently with everything else.
//   RunCycle, Drain, Publish, allocator(), set_observer: the loop thread only (one thread at a
//   time; it may change between calls if the caller orders the calls, e.g. with a join).
//   Destruction: after every producer and reader has stopped; events still queued are dropped
//   without being applied and their futures are never made ready.
#ifndef STEWARD_ALLOCATOR_CONCURRENT_H_
#define STEWARD_ALLOCATOR_CONCURRENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "allocator/allocator.h"
#include "allocator/intake.h"
#include "allocator/internal/hazard_cell.h"
#include "allocator/internal/mpsc_queue.h"
#include "allocator/snapshot.h"

namespace steward::allocator {

struct ConcurrentOptions {
  // Events taken off the queue per batch (the loop applies a batch, then takes the next).
  size_t batch_size = 1024;
  // RunCycle applies at most this many events before allocating, so that producers submitting
  // faster than the loop applies cannot starve allocation; the rest wait for the next cycle.
  size_t max_events_per_cycle = 1 << 16;
};

class ConcurrentAllocator {
 public:
  // Takes ownership of `allocator` (normally an Engine; a ReferenceAllocator works too). The
  // allocator must be fresh: the snapshot knows only what arrives through events.
  explicit ConcurrentAllocator(std::unique_ptr<Allocator> allocator,
                               ConcurrentOptions options = {});
  ~ConcurrentAllocator();
  ConcurrentAllocator(const ConcurrentAllocator&) = delete;
  ConcurrentAllocator& operator=(const ConcurrentAllocator&) = delete;

  // ---- Producers: any thread; never block, no mutex ----
  // Fire and forget: the outcome is only counted.
  void Submit(AllocatorEvent event);
  // `done` runs on the loop thread right after the event is applied.
  void Submit(AllocatorEvent event, EventCallback done);
  // The returned future becomes ready once the loop has applied the event.
  EventFuture SubmitWithFuture(AllocatorEvent event);

  // ---- Loop thread ----
  // Applies up to `max_events` events that are ready in the queue, in batches; returns how
  // many it applied. Does not publish.
  size_t Drain(size_t max_events);
  // Drains (at most options.max_events_per_cycle events), runs Allocate(now), publishes a
  // snapshot and returns the offers. If Allocate fails (InvalidArgument for a non-finite
  // `now`) the status is returned, the drained events stay applied and a snapshot of them is
  // still published (with the previous cycle number and time).
  absl::StatusOr<std::vector<Offer>> RunCycle(double now);
  // Publishes a snapshot of the current state without allocating.
  void Publish();
  // Read access to the allocator (queries, Explain on an Engine). Loop thread only; mutate
  // only through events, or the snapshot goes stale.
  const Allocator& allocator() const { return *allocator_; }
  // Called on the loop thread after each applied event (an audit log, a replay journal).
  using Observer = absl::AnyInvocable<void(const AllocatorEvent&, const EventOutcome&)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  // Loop thread: the counters as of now (a snapshot carries them as of its building).
  const IntakeCounters& counters() const { return counters_; }
  // Loop thread: retired snapshots not yet freed because a reader still holds them.
  size_t snapshots_pending() const { return snapshots_.pending(); }

  // ---- Readers: any thread; lock-free, never block the loop ----
  // The latest published snapshot (never null: an empty one is published at construction).
  using SnapshotRef = internal::HazardCell<AllocatorSnapshot>::Guard;
  SnapshotRef Acquire() const { return snapshots_.Acquire(); }

 private:
  struct QueuedEvent {
    AllocatorEvent event;
    EventCallback done;  // may be empty
  };
  // (framework, agent, role): a place where something may be allocated.
  using AllocationKey = std::tuple<uint32_t, uint32_t, uint32_t>;
  struct Subscription {
    RoleId role;
    std::string path;
    bool suppressed = false;
    bool dirty = true;
    std::shared_ptr<const FrameworkRoleView> view;
  };
  struct FrameworkEntry {
    std::string name;
    bool active = true;
    std::vector<Subscription> roles;
  };
  struct AgentEntry {
    std::string name;
    bool active = true;
    bool dirty = true;
    std::shared_ptr<const AgentView> view;
  };

  void ApplyBatch();
  void Track(const AllocatorEvent& event, const EventOutcome& outcome);
  void NoteRolePath(const std::string& path);
  void NoteReservations(const Resources& resources);
  void MarkAgent(uint32_t agent);
  void MarkSubscription(uint32_t framework, uint32_t role);
  void MarkAllocation(uint32_t framework, uint32_t agent, uint32_t role);
  void DropAllocationsOfAgent(uint32_t agent);
  void DropAllocationsOfFramework(uint32_t framework);
  void RefreshAllocations();
  std::unique_ptr<AllocatorSnapshot> BuildSnapshot();

  std::unique_ptr<Allocator> allocator_;
  ConcurrentOptions options_;
  internal::MpscQueue<QueuedEvent> queue_;
  internal::HazardCell<AllocatorSnapshot> snapshots_;

  // Everything below is loop-private.
  Observer observer_;
  std::vector<QueuedEvent> batch_;
  uint64_t sequence_ = 0;
  IntakeCounters counters_;
  uint64_t cycle_ = 0;
  double time_ = 0;
  absl::btree_map<uint32_t, AgentEntry> agents_;
  absl::btree_map<uint32_t, FrameworkEntry> frameworks_;
  absl::btree_set<std::string> role_paths_;
  // Scalars allocated per key, as last read from the allocator; only non-empty ones.
  absl::btree_map<AllocationKey, ResourceQuantities> allocations_;
  std::vector<AllocationKey> dirty_allocations_;
  // What the last cycle offered, per (framework, role).
  absl::btree_map<std::pair<uint32_t, uint32_t>, ResourceQuantities> offered_;
  bool totals_changed_ = false;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_CONCURRENT_H_
