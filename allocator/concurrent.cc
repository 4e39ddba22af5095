#include "allocator/concurrent.h"

#include <algorithm>
#include <utility>

#include "allocator/internal/overloaded.h"

namespace steward::allocator {
namespace {

using internal::Overloaded;

// Scalars of `resources` by name, summed over reservations.
ResourceQuantities ScalarQuantities(const Resources& resources) {
  ResourceQuantities out;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    out.Set(entry.name, out.Get(entry.name) + entry.scalar);
  }
  return out;
}

void AddTo(ResourceQuantities* sum, const ResourceQuantities& more) {
  for (const auto& [name, milli] : more.entries()) sum->Set(name, sum->Get(name) + milli);
}

}  // namespace

ConcurrentAllocator::ConcurrentAllocator(std::unique_ptr<Allocator> allocator,
                                         ConcurrentOptions options)
    : allocator_(std::move(allocator)), options_(options) {
  if (options_.batch_size == 0) options_.batch_size = 1;
  if (options_.max_events_per_cycle == 0) options_.max_events_per_cycle = 1;
  batch_.reserve(options_.batch_size);
  Publish();
}

ConcurrentAllocator::~ConcurrentAllocator() = default;

void ConcurrentAllocator::Submit(AllocatorEvent event) {
  queue_.Push(QueuedEvent{std::move(event), nullptr});
}

void ConcurrentAllocator::Submit(AllocatorEvent event, EventCallback done) {
  queue_.Push(QueuedEvent{std::move(event), std::move(done)});
}

EventFuture ConcurrentAllocator::SubmitWithFuture(AllocatorEvent event) {
  auto state = std::make_shared<EventFuture::State>();
  Submit(std::move(event), [state](const EventOutcome& outcome) {
    state->outcome = outcome;
    // The future gets a status of its own: a copy would share the loop's reference-counted
    // rep, whose count libabsl changes out of line, where ThreadSanitizer cannot see it, so the
    // rep's release on either side would be reported as racing the other's access.
    state->outcome.status = absl::Status(outcome.status.code(), outcome.status.message());
    // release: the outcome written above is visible to whoever acquires `ready`.
    state->ready.store(1, std::memory_order_release);
    state->ready.notify_all();
  });
  return EventFuture(std::move(state));
}

size_t ConcurrentAllocator::Drain(size_t max_events) {
  size_t applied = 0;
  while (applied < max_events) {
    const size_t want = std::min(options_.batch_size, max_events - applied);
    batch_.clear();
    QueuedEvent item;
    while (batch_.size() < want && queue_.TryPop(&item)) batch_.push_back(std::move(item));
    if (batch_.empty()) break;
    ApplyBatch();
    applied += batch_.size();
    if (batch_.size() < want) break;  // the queue had no more ready events
  }
  batch_.clear();
  return applied;
}

void ConcurrentAllocator::ApplyBatch() {
  ++counters_.batches;
  for (QueuedEvent& item : batch_) {
    EventOutcome outcome = ApplyEvent(*allocator_, item.event);
    outcome.sequence = sequence_++;
    if (outcome.status.ok()) {
      ++counters_.events_applied;
      Track(item.event, outcome);
    } else {
      ++counters_.events_rejected;
    }
    if (observer_) observer_(item.event, outcome);
    if (item.done) item.done(outcome);
  }
}

absl::StatusOr<std::vector<Offer>> ConcurrentAllocator::RunCycle(double now) {
  Drain(options_.max_events_per_cycle);
  absl::StatusOr<std::vector<Offer>> offers = allocator_->Allocate(now);
  if (offers.ok()) {
    ++counters_.cycles;
    counters_.offers += offers->size();
    cycle_ = counters_.cycles;
    time_ = now;
    // Offered amounts are per cycle: last cycle's views change back to zero.
    for (const auto& [key, unused] : offered_) MarkSubscription(key.first, key.second);
    offered_.clear();
    for (const Offer& offer : *offers) {
      const auto key = std::make_pair(offer.framework.value(), offer.role.value());
      AddTo(&offered_[key], ScalarQuantities(offer.resources));
      MarkSubscription(key.first, key.second);
      MarkAllocation(offer.framework.value(), offer.agent.value(), offer.role.value());
    }
  }
  Publish();
  return offers;
}

void ConcurrentAllocator::Publish() {
  std::unique_ptr<AllocatorSnapshot> snapshot = BuildSnapshot();
  ++counters_.snapshots_published;
  snapshot->counters = counters_;
  counters_.snapshots_freed += snapshots_.Publish(std::move(snapshot));
}

// ---- Bookkeeping of what the snapshot shows (loop thread) ----

void ConcurrentAllocator::Track(const AllocatorEvent& event, const EventOutcome& outcome) {
  std::visit(
      Overloaded{
          [&](const events::AddAgent& e) {
            agents_[outcome.id] = AgentEntry{e.info.name, true, true, nullptr};
            NoteReservations(e.info.total);
            totals_changed_ = true;
          },
          [&](const events::RemoveAgent& e) {
            agents_.erase(e.agent.value());
            DropAllocationsOfAgent(e.agent.value());
            totals_changed_ = true;
          },
          [&](const events::ActivateAgent& e) {
            agents_[e.agent.value()].active = true;
            MarkAgent(e.agent.value());
          },
          [&](const events::DeactivateAgent& e) {
            agents_[e.agent.value()].active = false;
            MarkAgent(e.agent.value());
          },
          [&](const events::AddFramework& e) {
            FrameworkEntry entry{e.info.name, true, {}};
            for (const std::string& path : e.info.roles) {
              NoteRolePath(path);
              absl::StatusOr<RoleId> role = allocator_->FindRole(path);
              if (role.ok()) entry.roles.push_back(Subscription{*role, path, false, true, nullptr});
            }
            std::sort(entry.roles.begin(), entry.roles.end(),
                      [](const Subscription& a, const Subscription& b) { return a.role < b.role; });
            frameworks_[outcome.id] = std::move(entry);
          },
          [&](const events::RemoveFramework& e) {
            DropAllocationsOfFramework(e.framework.value());
            frameworks_.erase(e.framework.value());
          },
          [&](const events::ActivateFramework& e) {
            FrameworkEntry& fw = frameworks_[e.framework.value()];
            fw.active = true;
            for (Subscription& sub : fw.roles) sub.dirty = true;
          },
          [&](const events::DeactivateFramework& e) {
            FrameworkEntry& fw = frameworks_[e.framework.value()];
            fw.active = false;
            for (Subscription& sub : fw.roles) sub.dirty = true;
          },
          [&](const events::Suppress& e) {
            for (Subscription& sub : frameworks_[e.framework.value()].roles) {
              if (sub.role == e.role) sub.suppressed = sub.dirty = true;
            }
          },
          [&](const events::Revive& e) {
            for (Subscription& sub : frameworks_[e.framework.value()].roles) {
              if (sub.role == e.role) {
                sub.suppressed = false;
                sub.dirty = true;
              }
            }
          },
          [&](const events::SetWeight& e) { NoteRolePath(e.role); },
          [&](const events::SetQuota& e) { NoteRolePath(e.role); },
          [&](const events::Reserve& e) {
            NoteRolePath(e.role);
            MarkAgent(e.agent.value());
          },
          [&](const events::Unreserve& e) { MarkAgent(e.agent.value()); },
          [&](const events::Recover& e) {
            MarkAllocation(e.framework.value(), e.agent.value(), e.role.value());
          },
          [&](const events::Decline& e) {
            MarkAllocation(e.framework.value(), e.agent.value(), e.role.value());
          },
          [&](const events::AddInUse& e) {
            MarkAllocation(e.framework.value(), e.agent.value(), e.role.value());
          },
      },
      event);
}

// Records `path` and its ancestors ("a/b/c" names "a", "a/b" and "a/b/c").
void ConcurrentAllocator::NoteRolePath(const std::string& path) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    role_paths_.insert(path.substr(0, slash));
  }
  role_paths_.insert(path);
}

void ConcurrentAllocator::NoteReservations(const Resources& resources) {
  for (const Resource& entry : resources.entries()) {
    if (!entry.reservation.empty()) NoteRolePath(entry.reservation);
  }
}

void ConcurrentAllocator::MarkAgent(uint32_t agent) {
  auto it = agents_.find(agent);
  if (it != agents_.end()) it->second.dirty = true;
}

void ConcurrentAllocator::MarkSubscription(uint32_t framework, uint32_t role) {
  auto it = frameworks_.find(framework);
  if (it == frameworks_.end()) return;
  for (Subscription& sub : it->second.roles) {
    if (sub.role.value() == role) sub.dirty = true;
  }
}

void ConcurrentAllocator::MarkAllocation(uint32_t framework, uint32_t agent, uint32_t role) {
  dirty_allocations_.emplace_back(framework, agent, role);
}

void ConcurrentAllocator::DropAllocationsOfAgent(uint32_t agent) {
  // Linear in the live allocations; agents leave rarely compared with cycles.
  for (auto it = allocations_.begin(); it != allocations_.end();) {
    const auto [framework, on, role] = it->first;
    if (on == agent) {
      MarkSubscription(framework, role);
      it = allocations_.erase(it);
    } else {
      ++it;
    }
  }
}

void ConcurrentAllocator::DropAllocationsOfFramework(uint32_t framework) {
  auto it = allocations_.lower_bound(AllocationKey(framework, 0, 0));
  while (it != allocations_.end() && std::get<0>(it->first) == framework) {
    MarkAgent(std::get<1>(it->first));
    it = allocations_.erase(it);
  }
}

// Re-reads every allocation an event or offer touched since the last snapshot.
void ConcurrentAllocator::RefreshAllocations() {
  std::sort(dirty_allocations_.begin(), dirty_allocations_.end());
  dirty_allocations_.erase(std::unique(dirty_allocations_.begin(), dirty_allocations_.end()),
                           dirty_allocations_.end());
  for (const AllocationKey& key : dirty_allocations_) {
    const auto [framework, agent, role] = key;
    MarkAgent(agent);
    MarkSubscription(framework, role);
    absl::StatusOr<Resources> allocated =
        allocator_->AllocatedTo(FrameworkId(framework), AgentId(agent), RoleId(role));
    // NotFound: the framework or agent left after the event; nothing is allocated there.
    ResourceQuantities scalars =
        allocated.ok() ? ScalarQuantities(*allocated) : ResourceQuantities();
    if (scalars.empty()) {
      allocations_.erase(key);
    } else {
      allocations_[key] = std::move(scalars);
    }
  }
  dirty_allocations_.clear();
}

std::unique_ptr<AllocatorSnapshot> ConcurrentAllocator::BuildSnapshot() {
  RefreshAllocations();
  auto snapshot = std::make_unique<AllocatorSnapshot>();
  snapshot->cycle = cycle_;
  snapshot->time = time_;
  snapshot->events_seen = sequence_;

  snapshot->agents.reserve(agents_.size());
  for (auto& [id, entry] : agents_) {
    if (entry.dirty || entry.view == nullptr) {
      auto view = std::make_shared<AgentView>();
      view->id = AgentId(id);
      view->name = entry.name;
      view->active = entry.active;
      absl::StatusOr<Resources> total = allocator_->Total(view->id);
      absl::StatusOr<Resources> free = allocator_->Free(view->id);
      if (total.ok()) view->total = ScalarQuantities(*total);
      if (free.ok()) view->free = ScalarQuantities(*free);
      entry.view = std::move(view);
      entry.dirty = false;
    }
    snapshot->agents.push_back(entry.view);
  }

  for (auto& [id, fw] : frameworks_) {
    for (Subscription& sub : fw.roles) {
      if (sub.dirty || totals_changed_ || sub.view == nullptr) {
        auto view = std::make_shared<FrameworkRoleView>();
        view->framework = FrameworkId(id);
        view->name = fw.name;
        view->active = fw.active;
        view->role = sub.role;
        view->role_path = sub.path;
        view->suppressed = sub.suppressed;
        for (auto it = allocations_.lower_bound(AllocationKey(id, 0, 0));
             it != allocations_.end() && std::get<0>(it->first) == id; ++it) {
          if (std::get<2>(it->first) == sub.role.value()) AddTo(&view->allocated, it->second);
        }
        auto offered = offered_.find(std::make_pair(id, sub.role.value()));
        if (offered != offered_.end()) view->offered = offered->second;
        absl::StatusOr<double> share = allocator_->FrameworkShare(view->framework, sub.role);
        view->dominant_share = share.ok() ? *share : 0;
        sub.view = std::move(view);
        sub.dirty = false;
      }
      snapshot->frameworks.push_back(sub.view);
    }
  }
  totals_changed_ = false;

  // Roles are few next to agents and frameworks, and their consumption moves with any
  // allocation below them: re-read all.
  for (const std::string& path : role_paths_) {
    absl::StatusOr<RoleId> role = allocator_->FindRole(path);
    if (!role.ok()) continue;
    auto view = std::make_shared<RoleView>();
    view->id = *role;
    view->path = path;
    absl::StatusOr<ResourceQuantities> consumption = allocator_->Consumption(*role);
    if (consumption.ok()) view->allocated = *std::move(consumption);
    absl::StatusOr<Quota> quota = allocator_->GetQuota(*role);
    if (quota.ok()) view->quota = *std::move(quota);
    absl::StatusOr<double> share = allocator_->RoleShare(*role);
    view->share = share.ok() ? *share : 0;
    snapshot->roles.push_back(std::move(view));
  }
  std::sort(snapshot->roles.begin(), snapshot->roles.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  return snapshot;
}

// ---- AllocatorSnapshot lookups ----

const AgentView* AllocatorSnapshot::FindAgent(AgentId agent) const {
  auto it = std::lower_bound(agents.begin(), agents.end(), agent,
                             [](const auto& view, AgentId id) { return view->id < id; });
  return it != agents.end() && (*it)->id == agent ? it->get() : nullptr;
}

const FrameworkRoleView* AllocatorSnapshot::FindFramework(FrameworkId framework,
                                                          RoleId role) const {
  auto it = std::lower_bound(frameworks.begin(), frameworks.end(), std::make_pair(framework, role),
                             [](const auto& view, const std::pair<FrameworkId, RoleId>& key) {
                               return std::make_pair(view->framework, view->role) < key;
                             });
  return it != frameworks.end() && (*it)->framework == framework && (*it)->role == role ? it->get()
                                                                                        : nullptr;
}

const RoleView* AllocatorSnapshot::FindRole(std::string_view path) const {
  for (const auto& view : roles) {
    if (view->path == path) return view.get();
  }
  return nullptr;
}

}  // namespace steward::allocator
