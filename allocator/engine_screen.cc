// Engine: screened allocation cycles (Engine::AllocateScreened, OfferScreen in engine.h).
//
// A screened cycle walks exactly as Allocate does. When an offer has passed every check, the
// screen answers it at once; an offer it declines whole (holding only unreserved scalars) is
// allocated for the rest of the cycle, so that the order of every later choice is the one
// Allocate would have, and is released and filtered when the cycle ends, as the Decline right
// after the cycle would have done. Nothing else differs from Allocate followed by the answers:
// declines commute with one another and with the kept offers' answers, except for the
// covering bits and the bags shared between filters, which only make later work cheaper.
//
// A framework that the screen calls drained declines whole every later offer of the cycle and
// is suppressed when it ends. Its filters from this cycle could never apply (a suppressed
// role gets no offers, and Revive, the only way out of suppression, erases them), so none is
// made, and its later offers are not shown, whatever they hold. Once every framework that could be
// offered anything has drained, which agents go to whom no longer matters either: every one of them
// is allocated only until the end of the cycle, and nothing later depends on which drained
// framework held it. The rest of the cycle then only counts the agents that some drained
// framework would have been offered (DrainedOnly), provided they all refuse for the same time
// (the caller learns only how many declines there were and with which refuse_seconds) and no
// agent left has free reservations (which could make one offer or two, depending on who
// comes first).
#include <cmath>
#include <memory>
#include <utility>

#include "allocator/engine.h"

namespace steward::allocator {

using internal::AddVec;
using internal::SameAmounts;

int Engine::OpenSlots(const Framework& fw) const {
  if (!fw.live || !fw.active) return 0;
  int open = 0;
  for (const FrameworkRole& role : fw.roles) open += role.suppressed ? 0 : 1;
  return open;
}

void Engine::MarkDrained(uint32_t framework, double refuse_seconds) {
  Framework& fw = frameworks_[framework];
  if (fw.drained_cycle == cycle_) return;
  fw.drained_cycle = cycle_;
  fw.drained_refuse = refuse_seconds;
  fw.unshown = 0;
  open_slots_ -= OpenSlots(fw);
  if (!drained_.empty() && frameworks_[drained_.front()].drained_refuse != refuse_seconds) {
    drained_refuse_uniform_ = false;
  }
  drained_.push_back(framework);
}

void Engine::TakeWhole(uint32_t framework, size_t slot, uint32_t agent, const Vec& unreserved) {
  agents_[agent].taken_cycle = cycle_;
  FrameworkRole& entry = frameworks_[framework].roles[slot];
  if (entry.taken_cycle != cycle_) {
    entry.taken_cycle = cycle_;
    entry.taken.assign(scalar_names_.size(), 0);
    taken_slots_.emplace_back(framework, static_cast<uint32_t>(slot));
  }
  // As AddAllocation's share part (no reserved scalars here: the sums are `unreserved`).
  AddVec(entry.taken, unreserved);
  AddVec(entry.allocated, unreserved);
  MarkFrameworkRoleDirty(framework, slot);
  AddVec(roles_[entry.role].own_allocated, unreserved);
  AddConsumption(entry.role, unreserved, 1);
}

bool Engine::ScreenOffer(uint32_t framework, size_t slot, uint32_t node, uint32_t agent,
                         const Candidate& candidate) {
  Framework& fw = frameworks_[framework];
  // Without quota, a candidate that shares the agent's own free_other (no reservations on
  // the agent) is everything free there.
  const bool whole = candidate.other == &agents_[agent].free_other;
  if (fw.drained_cycle == cycle_) {
    ++fw.unshown;
    if (whole) {
      TakeWhole(framework, slot, agent, candidate.unreserved);
      return true;
    }
    Resources other = *candidate.other;  // before AddAllocation, which may move it
    AddAllocation(framework, slot, agent, candidate.unreserved, *candidate.other);
    screened_.push_back({framework, static_cast<uint32_t>(slot), agent, false, fw.drained_refuse,
                         candidate.unreserved, std::move(other), false});
    return true;
  }
  const bool declinable = candidate.other->empty();
  const Vec& sums = ShareSums(candidate.unreserved, *candidate.other, &scratch_sums_);
  const OfferScreen::Verdict verdict =
      screen_->Screen({FrameworkId(framework), AgentId(agent), RoleId(node),
                       std::span<const int64_t>(sums.data(), sums.size()), declinable});
  if (std::isnan(verdict.refuse_seconds) || verdict.refuse_seconds < 0) return false;
  if (verdict.drained) MarkDrained(framework, verdict.refuse_seconds);
  if (!verdict.decline || !declinable) return false;
  if (whole) {
    TakeWhole(framework, slot, agent, candidate.unreserved);
    if (!verdict.drained) {
      screened_.push_back({framework, static_cast<uint32_t>(slot), agent, true,
                           verdict.refuse_seconds, candidate.unreserved, Resources(), true});
    }
    return true;
  }
  AddAllocation(framework, slot, agent, candidate.unreserved, *candidate.other);
  screened_.push_back({framework, static_cast<uint32_t>(slot), agent, !verdict.drained,
                       verdict.refuse_seconds, candidate.unreserved, Resources(), false});
  return true;
}

bool Engine::NoReservedFreeFrom(uint32_t first) const {
  if (!any_reservations_) return true;
  for (uint32_t agent = first; agent < agents_.size(); ++agent) {
    for (const Resource& entry : agents_[agent].free_other.entries()) {
      if (!entry.unreserved()) return false;
    }
  }
  return true;
}

void Engine::DrainedOnly(uint32_t agent) {
  const Agent& host = agents_[agent];
  // As AllocateAgent: nothing to offer here.
  if (!host.live || !host.active || host.covering_count >= live_frameworks_ ||
      AgentExhausted(agent)) {
    return;
  }
  // Without quota or reservations, every framework's candidate is everything free, and the
  // first one offered it takes it all. It is built only for a framework that has a filter on
  // the agent or a minimum to meet (otherwise TryOffer's remaining checks pass: the
  // candidate is not empty).
  Candidate& candidate = scratch_candidate_;
  bool built = false;
  // TryOffer's checks, for any drained framework in any role it is still open in.
  for (uint32_t framework : drained_) {
    const Framework& fw = frameworks_[framework];
    if (!fw.active || FilterCoversAgent(framework, agent)) continue;
    if (host.has_gpus && !fw.gpu_capable) continue;
    if (OpenSlots(fw) == 0) continue;
    if (filter_bits_.Test(kFilterPlane, agent, framework) || !fw.min_allocatable.empty()) {
      if (!built) {
        const size_t n = scalar_names_.size();
        candidate.unreserved.resize(n);
        for (size_t i = 0; i < n; ++i) {
          candidate.unreserved[i] = std::max<int64_t>(0, free_columns_[i][agent]);
        }
        candidate.other = &host.free_other;
        built = true;
      }
      if (Filtered(framework, agent, candidate) || !MeetsMinAllocatable(fw, candidate)) continue;
    }
    ++drained_only_declines_;
    return;
  }
}

void Engine::EndScreenedCycle() {
  for (const auto& [framework, slot] : taken_slots_) {
    FrameworkRole& entry = frameworks_[framework].roles[slot];
    AddVec(entry.allocated, entry.taken, -1);
    MarkFrameworkRoleDirty(framework, slot);
    AddVec(roles_[entry.role].own_allocated, entry.taken, -1);
    AddConsumption(entry.role, entry.taken, -1);
  }
  taken_slots_.clear();
  for (const ScreenedDecline& declined : screened_) {
    if (!declined.whole) {
      ReleaseAllocation(declined.framework, declined.slot, declined.agent, declined.unreserved,
                        declined.other);
    }
    if (!declined.filter) continue;
    // Agents declined alike share one split (as Decline shares it for one bag).
    Agent& host = agents_[declined.agent];
    std::shared_ptr<const Refused> refused = host.last_refused;
    if (refused == nullptr || !refused->other.empty() ||
        !SameAmounts(refused->unreserved, declined.unreserved)) {
      refused = std::make_shared<const Refused>(Refused{declined.unreserved, Resources()});
      host.last_refused = refused;
      host.last_declined = Resources();
    }
    InstallFilter(declined.framework, declined.agent, std::move(refused),
                  screen_now_ + declined.refuse_seconds);
  }
  screened_.clear();
  for (uint32_t framework : drained_) {
    Framework& fw = frameworks_[framework];
    for (FrameworkRole& role : fw.roles) role.suppressed = true;
    if (fw.unshown > 0) screen_->DeclinedUnshown(fw.unshown, fw.drained_refuse);
    fw.unshown = 0;
  }
  if (drained_only_declines_ > 0) {
    screen_->DeclinedUnshown(drained_only_declines_, frameworks_[drained_.front()].drained_refuse);
  }
  drained_.clear();
}

}  // namespace steward::allocator
