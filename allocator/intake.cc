#include "allocator/intake.h"

#include <type_traits>

#include "allocator/internal/overloaded.h"

namespace steward::allocator {
namespace {

using internal::Overloaded;

EventOutcome FromStatus(absl::Status status) {
  EventOutcome outcome;
  outcome.status = std::move(status);
  return outcome;
}

template <typename IdT>
EventOutcome FromId(absl::StatusOr<IdT> id) {
  EventOutcome outcome;
  outcome.status = id.status();
  if (id.ok()) outcome.id = id->value();
  return outcome;
}

}  // namespace

std::string_view EventName(const AllocatorEvent& event) {
  return std::visit(
      Overloaded{
          [](const events::AddAgent&) { return std::string_view("AddAgent"); },
          [](const events::RemoveAgent&) { return std::string_view("RemoveAgent"); },
          [](const events::ActivateAgent&) { return std::string_view("ActivateAgent"); },
          [](const events::DeactivateAgent&) { return std::string_view("DeactivateAgent"); },
          [](const events::AddFramework&) { return std::string_view("AddFramework"); },
          [](const events::RemoveFramework&) { return std::string_view("RemoveFramework"); },
          [](const events::ActivateFramework&) { return std::string_view("ActivateFramework"); },
          [](const events::DeactivateFramework&) {
            return std::string_view("DeactivateFramework");
          },
          [](const events::Suppress&) { return std::string_view("Suppress"); },
          [](const events::Revive&) { return std::string_view("Revive"); },
          [](const events::SetWeight&) { return std::string_view("SetWeight"); },
          [](const events::SetQuota&) { return std::string_view("SetQuota"); },
          [](const events::Reserve&) { return std::string_view("Reserve"); },
          [](const events::Unreserve&) { return std::string_view("Unreserve"); },
          [](const events::Recover&) { return std::string_view("Recover"); },
          [](const events::Decline&) { return std::string_view("Decline"); },
          [](const events::AddInUse&) { return std::string_view("AddInUse"); },
      },
      event);
}

EventOutcome ApplyEvent(Allocator& allocator, const AllocatorEvent& event) {
  return std::visit(
      Overloaded{
          [&](const events::AddAgent& e) { return FromId(allocator.AddAgent(e.info)); },
          [&](const events::RemoveAgent& e) { return FromStatus(allocator.RemoveAgent(e.agent)); },
          [&](const events::ActivateAgent& e) {
            return FromStatus(allocator.ActivateAgent(e.agent));
          },
          [&](const events::DeactivateAgent& e) {
            return FromStatus(allocator.DeactivateAgent(e.agent));
          },
          [&](const events::AddFramework& e) { return FromId(allocator.AddFramework(e.info)); },
          [&](const events::RemoveFramework& e) {
            return FromStatus(allocator.RemoveFramework(e.framework));
          },
          [&](const events::ActivateFramework& e) {
            return FromStatus(allocator.ActivateFramework(e.framework));
          },
          [&](const events::DeactivateFramework& e) {
            return FromStatus(allocator.DeactivateFramework(e.framework));
          },
          [&](const events::Suppress& e) {
            return FromStatus(allocator.Suppress(e.framework, e.role));
          },
          [&](const events::Revive& e) {
            return FromStatus(allocator.Revive(e.framework, e.role));
          },
          [&](const events::SetWeight& e) {
            return FromStatus(allocator.SetWeight(e.role, e.weight));
          },
          [&](const events::SetQuota& e) {
            return FromStatus(allocator.SetQuota(e.role, e.quota));
          },
          [&](const events::Reserve& e) {
            return FromStatus(allocator.Reserve(e.agent, e.role, e.resources));
          },
          [&](const events::Unreserve& e) {
            return FromStatus(allocator.Unreserve(e.agent, e.resources));
          },
          [&](const events::Recover& e) {
            return FromStatus(allocator.Recover(e.framework, e.agent, e.role, e.resources));
          },
          [&](const events::Decline& e) {
            return FromStatus(allocator.Decline(e.framework, e.agent, e.role, e.resources,
                                                e.refuse_seconds, e.now));
          },
          [&](const events::AddInUse& e) {
            return FromStatus(allocator.AddInUse(e.framework, e.agent, e.role, e.resources));
          },
      },
      event);
}

const EventOutcome& EventFuture::Wait() const {
  // acquire: pairs with the loop's release store, so `outcome` is complete when we read it.
  state_->ready.wait(0, std::memory_order_acquire);
  return state_->outcome;
}

}  // namespace steward::allocator
