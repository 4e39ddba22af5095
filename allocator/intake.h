// Allocator events as values: every mutating call of the Allocator interface (allocator.h)
// except Allocate and Place, which the loop thread calls itself. Producers on any thread build
// events and submit them to a ConcurrentAllocator (allocator/concurrent.h); the loop applies
// them in order with ApplyEvent, which a test can also use to replay the same events
// sequentially.
//
// Results go back to the producer that asks: EventFuture (wait on the outcome) or an
// EventCallback (run on the loop thread right after the event is applied).
#ifndef STEWARD_ALLOCATOR_INTAKE_H_
#define STEWARD_ALLOCATOR_INTAKE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "allocator/allocator.h"
#include "allocator/ids.h"
#include "allocator/resources.h"

namespace steward::allocator {

namespace events {

struct AddAgent {
  AgentInfo info;
};
struct RemoveAgent {
  AgentId agent;
};
struct ActivateAgent {
  AgentId agent;
};
struct DeactivateAgent {
  AgentId agent;
};
struct AddFramework {
  FrameworkInfo info;
};
struct RemoveFramework {
  FrameworkId framework;
};
struct ActivateFramework {
  FrameworkId framework;
};
struct DeactivateFramework {
  FrameworkId framework;
};
struct Suppress {
  FrameworkId framework;
  RoleId role;
};
struct Revive {
  FrameworkId framework;
  RoleId role;
};
struct SetWeight {
  std::string role;
  double weight = 1;
};
struct SetQuota {
  std::string role;
  Quota quota;
};
struct Reserve {
  AgentId agent;
  std::string role;
  Resources resources;
};
struct Unreserve {
  AgentId agent;
  Resources resources;
};
struct Recover {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;
};
struct Decline {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;
  double refuse_seconds = 0;
  double now = 0;
};
struct AddInUse {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;
};

}  // namespace events

using AllocatorEvent =
    std::variant<events::AddAgent, events::RemoveAgent, events::ActivateAgent,
                 events::DeactivateAgent, events::AddFramework, events::RemoveFramework,
                 events::ActivateFramework, events::DeactivateFramework, events::Suppress,
                 events::Revive, events::SetWeight, events::SetQuota, events::Reserve,
                 events::Unreserve, events::Recover, events::Decline, events::AddInUse>;

// "AddAgent", "Decline", ...: the Allocator call the event stands for.
std::string_view EventName(const AllocatorEvent& event);

// What applying an event returned.
struct EventOutcome {
  absl::Status status;
  // AddAgent / AddFramework when ok: the new id's value; otherwise Id<>::kInvalidValue.
  uint32_t id = AgentId::kInvalidValue;
  // Position of the event in the order the loop applied events (0, 1, 2, ...).
  uint64_t sequence = 0;

  AgentId agent() const { return AgentId(id); }
  FrameworkId framework() const { return FrameworkId(id); }
};

// Makes the Allocator call the event stands for and returns its status (and new id). Bad
// input is reported in the status, exactly as the call reports it; state is unchanged then.
// `outcome.sequence` is left 0.
EventOutcome ApplyEvent(Allocator& allocator, const AllocatorEvent& event);

// Runs on the loop thread right after the event is applied; keep it short and non-blocking
// (the loop waits for it).
using EventCallback = absl::AnyInvocable<void(const EventOutcome&)>;

// A one-shot outcome the loop fills in. ready() never blocks; Wait() blocks the calling
// producer (a futex wait through std::atomic::wait), never the loop: the loop stores the
// outcome, releases `ready` and wakes waiters (a futex wake on Linux, no mutex).
class EventFuture {
 public:
  EventFuture() = default;  // invalid: not attached to an event

  bool valid() const { return state_ != nullptr; }
  bool ready() const { return state_->ready.load(std::memory_order_acquire) != 0; }
  // Blocks until the loop has applied the event.
  const EventOutcome& Wait() const;

 private:
  friend class ConcurrentAllocator;
  struct State {
    std::atomic<uint32_t> ready{0};
    EventOutcome outcome;
  };
  explicit EventFuture(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_INTAKE_H_
