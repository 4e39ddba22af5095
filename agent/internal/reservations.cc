#include "agent/internal/reservations.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace steward::agent::internal {
namespace {

using mesos::v1::Resource;
using mesos::v1::Value;
using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;

bool SameResource(const Resource& a, const Resource& b) {
  Resource a_identity = a;
  Resource b_identity = b;
  for (Resource* r : {&a_identity, &b_identity}) {
    r->clear_scalar();
    r->clear_ranges();
    r->clear_set();
  }
  return google::protobuf::util::MessageDifferencer::Equals(a_identity, b_identity);
}

int64_t Milli(double value) { return std::llround(value * 1000.0); }

Intervals Normalize(Intervals intervals) {
  std::sort(intervals.begin(), intervals.end());
  Intervals merged;
  for (const auto& interval : intervals) {
    if (!merged.empty() &&
        (merged.back().second == UINT64_MAX || interval.first <= merged.back().second + 1)) {
      merged.back().second = std::max(merged.back().second, interval.second);
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

Intervals ToIntervals(const Value::Ranges& ranges) {
  Intervals intervals;
  for (const Value::Range& range : ranges.range())
    intervals.emplace_back(range.begin(), range.end());
  return Normalize(std::move(intervals));
}

void FromIntervals(const Intervals& intervals, Value::Ranges* ranges) {
  ranges->Clear();
  for (const auto& [begin, end] : intervals) {
    Value::Range* range = ranges->add_range();
    range->set_begin(begin);
    range->set_end(end);
  }
}

// Every value of `part` is in `whole` (both normalized).
bool ContainsAll(const Intervals& whole, const Intervals& part) {
  for (const auto& [begin, end] : part) {
    const bool covered = std::any_of(whole.begin(), whole.end(), [&](const auto& w) {
      return w.first <= begin && end <= w.second;
    });
    if (!covered) return false;
  }
  return true;
}

Intervals Difference(const Intervals& whole, const Intervals& part) {
  Intervals out;
  for (auto [begin, end] : whole) {
    bool gone = false;
    for (const auto& [p_begin, p_end] : part) {
      if (p_end < begin || p_begin > end) continue;
      if (p_begin > begin) out.emplace_back(begin, p_begin - 1);
      if (p_end >= end) {
        gone = true;
        break;
      }
      begin = p_end + 1;
    }
    if (!gone) out.emplace_back(begin, end);
  }
  return Normalize(std::move(out));
}

bool IsEmpty(const Resource& resource) {
  switch (resource.type()) {
    case Value::SCALAR:
      return Milli(resource.scalar().value()) <= 0;
    case Value::RANGES:
      return resource.ranges().range_size() == 0;
    case Value::SET:
      return resource.set().item_size() == 0;
    default:
      return true;
  }
}

void Add(const Resource& delta, Resource* held) {
  switch (delta.type()) {
    case Value::SCALAR:
      held->mutable_scalar()->set_value(
          static_cast<double>(Milli(held->scalar().value()) + Milli(delta.scalar().value())) /
          1000.0);
      break;
    case Value::RANGES: {
      Intervals both = ToIntervals(held->ranges());
      const Intervals more = ToIntervals(delta.ranges());
      both.insert(both.end(), more.begin(), more.end());
      FromIntervals(Normalize(std::move(both)), held->mutable_ranges());
      break;
    }
    case Value::SET: {
      std::set<std::string> items(held->set().item().begin(), held->set().item().end());
      items.insert(delta.set().item().begin(), delta.set().item().end());
      held->mutable_set()->clear_item();
      for (const std::string& item : items) held->mutable_set()->add_item(item);
      break;
    }
    default:
      break;
  }
}

// Subtracts, or returns false (leaving `*held` unchanged) when `held` has too little.
bool Subtract(const Resource& delta, Resource* held) {
  switch (delta.type()) {
    case Value::SCALAR: {
      const int64_t left = Milli(held->scalar().value()) - Milli(delta.scalar().value());
      if (left < 0) return false;
      held->mutable_scalar()->set_value(static_cast<double>(left) / 1000.0);
      return true;
    }
    case Value::RANGES: {
      const Intervals whole = ToIntervals(held->ranges());
      const Intervals part = ToIntervals(delta.ranges());
      if (!ContainsAll(whole, part)) return false;
      FromIntervals(Difference(whole, part), held->mutable_ranges());
      return true;
    }
    case Value::SET: {
      std::set<std::string> items(held->set().item().begin(), held->set().item().end());
      for (const std::string& item : delta.set().item()) {
        if (items.erase(item) == 0) return false;
      }
      held->mutable_set()->clear_item();
      for (const std::string& item : items) held->mutable_set()->add_item(item);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

absl::Status ValidateReservation(const Resource& resource) {
  const std::string name = resource.name().empty() ? "<unnamed>" : resource.name();
  if (resource.name().empty()) return absl::InvalidArgumentError("resource without a name");
  const bool dynamic = !resource.reservations().empty() &&
                       resource.reservations(resource.reservations_size() - 1).type() ==
                           Resource::ReservationInfo::DYNAMIC;
  const bool legacy_dynamic = resource.reservations().empty() && resource.has_reservation() &&
                              resource.role() != "*" && !resource.role().empty();
  if (!dynamic && !legacy_dynamic) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource '", name, "' is not dynamically reserved"));
  }
  switch (resource.type()) {
    case Value::SCALAR:
      if (!resource.has_scalar() || !std::isfinite(resource.scalar().value()) ||
          Milli(resource.scalar().value()) <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("resource '", name, "' needs a finite, positive scalar"));
      }
      return absl::OkStatus();
    case Value::RANGES:
      if (resource.ranges().range_size() == 0) {
        return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' has no ranges"));
      }
      for (const Value::Range& range : resource.ranges().range()) {
        if (range.begin() > range.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("resource '", name, "' has an inverted range"));
        }
      }
      return absl::OkStatus();
    case Value::SET:
      if (resource.set().item_size() == 0) {
        return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' has an empty set"));
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("resource '", name, "' is neither scalar, ranges nor set"));
  }
}

absl::Status AddReservations(const WireResources& delta, WireResources* held) {
  for (const Resource& resource : delta) {
    if (absl::Status status = ValidateReservation(resource); !status.ok()) return status;
  }
  WireResources result = *held;
  for (const Resource& resource : delta) {
    auto same = std::find_if(result.begin(), result.end(),
                             [&](const Resource& r) { return SameResource(r, resource); });
    if (same == result.end()) {
      Resource* added = result.Add();
      *added = resource;
      if (resource.type() == Value::RANGES) {
        FromIntervals(ToIntervals(resource.ranges()), added->mutable_ranges());
      }
    } else {
      Add(resource, &*same);
    }
  }
  *held = std::move(result);
  return absl::OkStatus();
}

absl::Status SubtractReservations(const WireResources& delta, WireResources* held) {
  for (const Resource& resource : delta) {
    if (absl::Status status = ValidateReservation(resource); !status.ok()) return status;
  }
  WireResources result = *held;
  for (const Resource& resource : delta) {
    auto same = std::find_if(result.begin(), result.end(),
                             [&](const Resource& r) { return SameResource(r, resource); });
    if (same == result.end()) {
      return absl::NotFoundError(
          absl::StrCat("no such reservation of '", resource.name(), "' is held"));
    }
    if (!Subtract(resource, &*same)) {
      return absl::FailedPreconditionError(
          absl::StrCat("less of reserved '", resource.name(), "' is held than unreserved"));
    }
    if (IsEmpty(*same)) result.erase(same);
  }
  *held = std::move(result);
  return absl::OkStatus();
}

}  // namespace steward::agent::internal
