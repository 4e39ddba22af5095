#include "common/mesos_resources.h"

#include <charconv>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace steward::common {

namespace v1 = ::mesos::v1;

namespace {

using allocator::Resource;
using allocator::ResourceKind;

std::string Where(int index, const v1::Resource& r) {
  return absl::StrCat("resource ", index, " ('", r.name(), "')");
}

absl::StatusOr<Resource> EntryFromProto(int index, const v1::Resource& r) {
  if (r.has_disk() || r.has_provider_id() || r.has_shared()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, r),
        ": persistent volumes, disk sources, resource providers and shared resources are not "
        "supported"));
  }
  Resource entry;
  entry.name = r.name();
  if (r.reservations_size() > 0) {
    entry.reservation = r.reservations(r.reservations_size() - 1).role();
    if (entry.reservation.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(index, r), ": a reservation without a role"));
    }
  } else if (r.has_reservation() && r.reservation().has_role()) {
    entry.reservation = r.reservation().role();
  } else if (r.role() != "*") {
    entry.reservation = r.role();
  }
  switch (r.type()) {
    case v1::Value::SCALAR: {
      if (!r.has_scalar()) {
        return absl::InvalidArgumentError(absl::StrCat(Where(index, r), ": SCALAR without scalar"));
      }
      absl::StatusOr<int64_t> milli = allocator::UnitsToMilli(r.scalar().value());
      if (!milli.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(index, r), ": ", milli.status().message()));
      }
      entry.kind = ResourceKind::kScalar;
      entry.scalar = *milli;
      break;
    }
    case v1::Value::RANGES: {
      if (!r.has_ranges()) {
        return absl::InvalidArgumentError(absl::StrCat(Where(index, r), ": RANGES without ranges"));
      }
      std::vector<allocator::RangeSet::Interval> intervals;
      for (const v1::Value::Range& range : r.ranges().range()) {
        intervals.emplace_back(range.begin(), range.end());
      }
      absl::StatusOr<allocator::RangeSet> set =
          allocator::RangeSet::FromIntervals(std::move(intervals));
      if (!set.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(index, r), ": ", set.status().message()));
      }
      entry.kind = ResourceKind::kRanges;
      entry.ranges = *std::move(set);
      break;
    }
    case v1::Value::SET:
      if (!r.has_set()) {
        return absl::InvalidArgumentError(absl::StrCat(Where(index, r), ": SET without set"));
      }
      entry.kind = ResourceKind::kSet;
      entry.items.assign(r.set().item().begin(), r.set().item().end());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(Where(index, r), ": only SCALAR, RANGES and SET resources are supported"));
  }
  return entry;
}

void SetValue(const Resource& entry, v1::Resource* r) {
  switch (entry.kind) {
    case ResourceKind::kScalar:
      r->set_type(v1::Value::SCALAR);
      r->mutable_scalar()->set_value(static_cast<double>(entry.scalar) /
                                     static_cast<double>(allocator::kMilliPerUnit));
      break;
    case ResourceKind::kRanges:
      r->set_type(v1::Value::RANGES);
      for (const auto& [begin, end] : entry.ranges.intervals()) {
        v1::Value::Range* range = r->mutable_ranges()->add_range();
        range->set_begin(begin);
        range->set_end(end);
      }
      break;
    case ResourceKind::kSet:
      r->set_type(v1::Value::SET);
      for (const std::string& item : entry.items) r->mutable_set()->add_item(item);
      break;
  }
}

}  // namespace

absl::StatusOr<allocator::Resources> FromProto(const ResourceList& resources) {
  std::vector<Resource> entries;
  entries.reserve(resources.size());
  for (int i = 0; i < resources.size(); ++i) {
    absl::StatusOr<Resource> entry = EntryFromProto(i, resources.Get(i));
    if (!entry.ok()) return entry.status();
    entries.push_back(*std::move(entry));
  }
  return allocator::Resources::FromEntries(std::move(entries));
}

ResourceList ToProto(const allocator::Resources& resources,
                     v1::Resource::ReservationInfo::Type reservation_type,
                     std::string_view allocation_role) {
  ResourceList out;
  for (const Resource& entry : resources.entries()) {
    v1::Resource* r = out.Add();
    r->set_name(entry.name);
    SetValue(entry, r);
    if (!entry.unreserved()) {
      v1::Resource::ReservationInfo* reservation = r->add_reservations();
      reservation->set_type(reservation_type);
      reservation->set_role(entry.reservation);
    }
    if (!allocation_role.empty()) {
      r->mutable_allocation_info()->set_role(std::string(allocation_role));
    }
  }
  return out;
}

absl::StatusOr<ResourceList> ParseResourceText(std::string_view text) {
  absl::StatusOr<allocator::Resources> parsed = allocator::Resources::Parse(text);
  if (!parsed.ok()) return parsed.status();
  return ToProto(*parsed);
}

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Attribute>> ParseAttributes(
    std::string_view text) {
  google::protobuf::RepeatedPtrField<v1::Attribute> out;
  int index = 0;
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ';', absl::SkipWhitespace())) {
    ++index;
    absl::string_view item = absl::StripAsciiWhitespace(raw);
    const size_t colon = item.find(':');
    absl::string_view name =
        absl::StripAsciiWhitespace(item.substr(0, colon == absl::string_view::npos ? 0 : colon));
    if (colon == absl::string_view::npos || name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute ", index, " ('", item, "'): expected NAME:VALUE"));
    }
    absl::string_view value = absl::StripAsciiWhitespace(item.substr(colon + 1));
    v1::Attribute* attribute = out.Add();
    attribute->set_name(std::string(name));
    double number = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (!value.empty() && ec == std::errc() && ptr == value.data() + value.size() &&
        std::isfinite(number)) {
      attribute->set_type(v1::Value::SCALAR);
      attribute->mutable_scalar()->set_value(number);
      continue;
    }
    if (value.size() >= 2 && (value.front() == '[' || value.front() == '{')) {
      // Reuse the resource parser for ranges and sets: it validates them the same way.
      absl::StatusOr<allocator::Resources> parsed =
          allocator::Resources::Parse(absl::StrCat("x:", value));
      if (parsed.ok() && parsed->entries().size() == 1) {
        const Resource& entry = parsed->entries()[0];
        if (entry.kind == ResourceKind::kRanges) {
          attribute->set_type(v1::Value::RANGES);
          for (const auto& [begin, end] : entry.ranges.intervals()) {
            v1::Value::Range* range = attribute->mutable_ranges()->add_range();
            range->set_begin(begin);
            range->set_end(end);
          }
          continue;
        }
        if (entry.kind == ResourceKind::kSet) {
          attribute->set_type(v1::Value::SET);
          for (const std::string& s : entry.items) attribute->mutable_set()->add_item(s);
          continue;
        }
      }
    }
    attribute->set_type(v1::Value::TEXT);
    attribute->mutable_text()->set_value(std::string(value));
  }
  return out;
}

bool IsTerminalState(v1::TaskState state) {
  switch (state) {
    case v1::TASK_FINISHED:
    case v1::TASK_FAILED:
    case v1::TASK_KILLED:
    case v1::TASK_ERROR:
    case v1::TASK_LOST:
    case v1::TASK_DROPPED:
    case v1::TASK_GONE:
    case v1::TASK_GONE_BY_OPERATOR:
      return true;
    default:
      return false;
  }
}

}  // namespace steward::common
