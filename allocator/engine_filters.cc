// Engine: decline filters.
//
// A filter (framework, agent) holds the refused resources and an expiry. Besides the hash map
// entry, two bits per (framework, agent) make the walk cheap:
//   has      : a filter exists (live: expired filters are erased at the start of a cycle);
//   covering : the refused resources contain everything free on the agent, hence every
//              candidate the agent can produce. Set when the filter is made or re-checked;
//              cleared whenever the agent's free resources grow or change shape
//              (RefreshCovering). A covering filter rejects the framework with one bit test.
// `Agent::covering_count` counts covering filters, so an agent that every live framework
// covers is skipped without walking the frameworks at all.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/internal/hot.h"

namespace steward::allocator {

using internal::At;

bool Engine::FilterCovers(const Filter& filter, uint32_t agent) const {
  const Agent& host = agents_[agent];
  const Refused& refused = *filter.refused;
  for (size_t i = 0; i < host.covering_bound_unreserved.size(); ++i) {
    if (host.covering_bound_unreserved[i] > At(refused.unreserved, i)) return false;
  }
  return refused.other.Contains(host.covering_bound_other);
}

bool Engine::FreeWithinBound(uint32_t agent) const {
  const Agent& host = agents_[agent];
  for (size_t i = 0; i < scalar_names_.size(); ++i) {
    if (free_columns_[i][agent] > At(host.covering_bound_unreserved, i)) return false;
  }
  return host.covering_bound_other.Contains(host.free_other);
}

void Engine::ResetCoveringBound(uint32_t agent) {
  Agent& host = agents_[agent];
  const size_t n = scalar_names_.size();
  host.covering_bound_unreserved.resize(n);
  int64_t* bound = host.covering_bound_unreserved.data();
  for (size_t i = 0; i < n; ++i) bound[i] = free_columns_[i][agent];
  if (!host.covering_bound_other.SharesEntriesWith(host.free_other)) {
    host.covering_bound_other = host.free_other;
  }
}

void Engine::SetFilterBits(uint32_t framework, uint32_t agent, bool has, bool covering) {
  bool was_covering = filter_bits_.Test(kCoveringPlane, agent, framework);
  filter_bits_.Assign(kFilterPlane, agent, framework, has);
  filter_bits_.Assign(kCoveringPlane, agent, framework, covering);
  agents_[agent].covering_count += static_cast<int>(covering) - static_cast<int>(was_covering);
}

// Called whenever the agent's free resources may have grown or changed shape. While they stay
// within the covering bound every set bit is still right; otherwise the bound moves to the
// current free resources and every filter on the agent is checked again. (Declines typically
// return an agent to a state it has been in before, so the bound rarely moves.)
void Engine::RefreshCovering(uint32_t agent) {
  Agent& host = agents_[agent];
  if (host.filtering_frameworks.empty() || FreeWithinBound(agent)) return;
  ResetCoveringBound(agent);
  for (uint32_t framework : host.filtering_frameworks) {
    SetFilterBits(framework, agent, true,
                  FilterCovers(frameworks_[framework].filters.at(agent), agent));
  }
}

void Engine::EraseFilter(uint32_t framework, uint32_t agent) {
  if (frameworks_[framework].filters.erase(agent) == 0) return;
  ForgetFilter(framework, agent);
}

void Engine::EraseFilters(uint32_t framework) {
  absl::flat_hash_map<uint32_t, Filter>& filters = frameworks_[framework].filters;
  // One by one through the iterator, not clear(): the map keeps its capacity for the filters
  // that the next declines will make (a revived framework is usually offered every agent
  // again).
  for (auto it = filters.begin(); it != filters.end();) {
    ForgetFilter(framework, it->first);
    filters.erase(it++);
  }
}

void Engine::ForgetFilter(uint32_t framework, uint32_t agent) {
  SetFilterBits(framework, agent, false, false);
  std::vector<uint32_t>& list = agents_[agent].filtering_frameworks;
  list.erase(std::find(list.begin(), list.end(), framework));
}

void Engine::PushExpiry(const FilterExpiry& expiry) {
  // `now` is finite, so a filter that expires at infinity never expires.
  if (std::isinf(expiry.expiry)) return;
  if (expiry_fifo_.empty() || expiry_fifo_.back().expiry <= expiry.expiry) {
    expiry_fifo_.push_back(expiry);
  } else {
    expiries_.push(expiry);
  }
}

void Engine::ExpireFilter(const FilterExpiry& expiry) {
  Framework& fw = frameworks_[expiry.framework];
  auto it = fw.filters.find(expiry.agent);
  if (it == fw.filters.end() || it->second.sequence != expiry.sequence) return;
  fw.filters.erase(it);
  ForgetFilter(expiry.framework, expiry.agent);
}

// The order in which due filters are erased does not matter: erasing distinct filters
// commutes.
void Engine::ExpireFilters(double now) {
  while (!expiry_fifo_.empty() && expiry_fifo_.front().expiry <= now) {
    ExpireFilter(expiry_fifo_.front());
    expiry_fifo_.pop_front();
  }
  while (!expiries_.empty() && expiries_.top().expiry <= now) {
    ExpireFilter(expiries_.top());
    expiries_.pop();
  }
}

void Engine::InstallFilter(uint32_t fw_index, uint32_t host, std::shared_ptr<const Refused> refused,
                           double expiry) {
  Framework& fw = frameworks_[fw_index];
  Filter filter;
  filter.refused = std::move(refused);
  filter.expiry = expiry;
  filter.sequence = ++filter_sequence_;
  std::vector<uint32_t>& filtering = agents_[host].filtering_frameworks;
  if (filtering.empty()) ResetCoveringBound(host);
  PushExpiry({filter.expiry, filter.sequence, fw_index, host});
  bool covers = FilterCovers(filter, host);
  auto [slot, inserted] = fw.filters.try_emplace(host);
  if (inserted) filtering.push_back(fw_index);
  slot->second = std::move(filter);
  SetFilterBits(fw_index, host, true, covers);
  if (!covers) {
    // The bound may be looser than what is free now; tighten it so that this filter, which
    // may well cover the current free resources, gets its bit.
    ResetCoveringBound(host);
    for (uint32_t filtering_fw : filtering) {
      SetFilterBits(filtering_fw, host, true,
                    FilterCovers(frameworks_[filtering_fw].filters.at(host), host));
    }
  }
}

STEWARD_HOT bool Engine::Filtered(uint32_t framework, uint32_t agent,
                                  const Candidate& candidate) const {
  if (!filter_bits_.Test(kFilterPlane, agent, framework)) return false;
  if (filter_bits_.Test(kCoveringPlane, agent, framework)) return true;
  const Refused& refused = *frameworks_[framework].filters.at(agent).refused;
  for (size_t i = 0; i < candidate.unreserved.size(); ++i) {
    if (candidate.unreserved[i] > At(refused.unreserved, i)) return false;
  }
  return refused.other.Contains(*candidate.other);
}

absl::Status Engine::Decline(FrameworkId framework, AgentId agent, RoleId role,
                             const Resources& resources, double refuse_seconds, double now) {
  if (std::isnan(refuse_seconds) || refuse_seconds < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("refuse_seconds must be >= 0, got ", refuse_seconds));
  }
  if (!std::isfinite(now)) {
    return absl::InvalidArgumentError(absl::StrCat("now must be finite, got ", now));
  }
  // The filter refuses what was recovered, split as the allocation record keeps it.
  Vec unreserved;
  Resources other;
  if (absl::Status recovered = RecoverSplit(framework, agent, role, resources, &unreserved, &other);
      !recovered.ok()) {
    return recovered;
  }
  uint32_t host = agent.value();
  Agent& declined_on = agents_[host];
  std::shared_ptr<const Refused> refused;
  if (!resources.empty() && resources.SharesEntriesWith(declined_on.last_declined)) {
    refused = declined_on.last_refused;  // the same bag: the same split
  } else {
    refused = std::make_shared<const Refused>(Refused{std::move(unreserved), std::move(other)});
    if (!resources.empty()) {
      declined_on.last_declined = resources;
      declined_on.last_refused = refused;
    }
  }
  InstallFilter(framework.value(), host, std::move(refused), now + refuse_seconds);
  return absl::OkStatus();
}

}  // namespace steward::allocator
