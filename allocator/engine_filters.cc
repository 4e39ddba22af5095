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

namespace steward::allocator {

using internal::At;

namespace {}  // namespace

bool Engine::FilterCovers(const Filter& filter, uint32_t agent) const {
  const Agent& host = agents_[agent];
  for (size_t i = 0; i < host.covering_bound_unreserved.size(); ++i) {
    if (host.covering_bound_unreserved[i] > At(filter.refused_unreserved, i)) return false;
  }
  return filter.refused_other.Contains(host.covering_bound_other);
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
  host.covering_bound_unreserved.assign(scalar_names_.size(), 0);
  for (size_t i = 0; i < scalar_names_.size(); ++i) {
    host.covering_bound_unreserved[i] = free_columns_[i][agent];
  }
  host.covering_bound_other = host.free_other;
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
  Framework& fw = frameworks_[framework];
  if (fw.filters.erase(agent) == 0) return;
  SetFilterBits(framework, agent, false, false);
  std::vector<uint32_t>& list = agents_[agent].filtering_frameworks;
  list.erase(std::find(list.begin(), list.end(), framework));
}

void Engine::ExpireFilters(double now) {
  while (!expiries_.empty() && expiries_.top().expiry <= now) {
    FilterExpiry top = expiries_.top();
    expiries_.pop();
    Framework& fw = frameworks_[top.framework];
    auto it = fw.filters.find(top.agent);
    if (it != fw.filters.end() && it->second.sequence == top.sequence) {
      EraseFilter(top.framework, top.agent);
    }
  }
}

bool Engine::Filtered(uint32_t framework, uint32_t agent, const Candidate& candidate) const {
  if (!filter_bits_.Test(kFilterPlane, agent, framework)) return false;
  if (filter_bits_.Test(kCoveringPlane, agent, framework)) return true;
  const Filter& filter = frameworks_[framework].filters.at(agent);
  for (size_t i = 0; i < candidate.unreserved.size(); ++i) {
    if (candidate.unreserved[i] > At(filter.refused_unreserved, i)) return false;
  }
  return filter.refused_other.Contains(*candidate.other);
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
  if (absl::Status recovered = Recover(framework, agent, role, resources); !recovered.ok()) {
    return recovered;
  }
  uint32_t fw_index = framework.value();
  uint32_t host = agent.value();
  Framework& fw = frameworks_[fw_index];
  Filter filter;
  Split(resources, &filter.refused_unreserved, &filter.refused_other);
  filter.expiry = now + refuse_seconds;
  filter.sequence = ++filter_sequence_;
  std::vector<uint32_t>& filtering = agents_[host].filtering_frameworks;
  if (filtering.empty()) ResetCoveringBound(host);
  if (!fw.filters.contains(host)) filtering.push_back(fw_index);
  expiries_.push({filter.expiry, filter.sequence, fw_index, host});
  bool covers = FilterCovers(filter, host);
  fw.filters[host] = std::move(filter);
  SetFilterBits(fw_index, host, true, covers);
  if (!covers) {
    // The bound may be looser than what is free now; tighten it so that this filter, which
    // may well cover the current free resources, gets its bit.
    ResetCoveringBound(host);
    for (uint32_t other : filtering) {
      SetFilterBits(other, host, true, FilterCovers(frameworks_[other].filters.at(host), host));
    }
  }
  return absl::OkStatus();
}

}  // namespace steward::allocator
