// Small helpers shared by the files of the reference allocator (allocator/reference.cc and
// allocator/internal/reference_*.cc). Not for use elsewhere.
#ifndef STEWARD_ALLOCATOR_INTERNAL_REFERENCE_UTIL_H_
#define STEWARD_ALLOCATOR_INTERNAL_REFERENCE_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "allocator/ids.h"
#include "allocator/internal/check.h"
#include "allocator/resources.h"

namespace steward::allocator::reference_internal {

// The same type as ReferenceAllocator::Scalars (private there).
using ScalarMap = std::map<std::string, int64_t, std::less<>>;

inline constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

inline void AddTo(ScalarMap& map, std::string_view name, int64_t delta) {
  if (delta == 0) return;
  auto it = map.find(name);
  if (it == map.end()) {
    map.emplace(std::string(name), delta);
    return;
  }
  it->second += delta;
  if (it->second == 0) map.erase(it);
}

inline int64_t Get(const ScalarMap& map, std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? 0 : it->second;
}

// Scalar entries summed per name over reservations.
inline ScalarMap ScalarSums(const Resources& resources) {
  ScalarMap sums;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar) AddTo(sums, entry.name, entry.scalar);
  }
  return sums;
}

// The scalar amount of exactly (name, reservation); "" is unreserved.
inline int64_t ScalarOf(const Resources& resources, std::string_view name,
                        std::string_view reservation) {
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar && entry.name == name &&
        entry.reservation == reservation) {
      return entry.scalar;
    }
  }
  return 0;
}

// Internal invariants only: every caller has validated its input, so a failure here is a bug
// in the reference allocator.
// Statuses that cannot fail given the checks before them; see STEWARD_CHECK_OK.
#define MustOk(expression) STEWARD_CHECK_OK(expression)

// One scalar entry (milli > 0).
inline Resources MilliScalar(std::string_view name, std::string_view reservation, int64_t milli) {
  Resource entry;
  entry.name = std::string(name);
  entry.reservation = std::string(reservation);
  entry.kind = ResourceKind::kScalar;
  entry.scalar = milli;
  absl::StatusOr<Resources> scalar = Resources::FromEntries({std::move(entry)});
  MustOk(scalar.status());
  return *std::move(scalar);
}

template <typename Tag>
std::string Describe(std::string_view what, Id<Tag> id) {
  return std::string(what) + " " + (id.valid() ? std::to_string(id.value()) : "<invalid>");
}

inline absl::Status NotFound(std::string_view what, uint32_t id) {
  return absl::NotFoundError(std::string(what) + " " + std::to_string(id) + " not found");
}

inline absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

// Quoted for messages. (StrCat rather than "\"" + string: GCC 12 at -O3 misreads the latter
// as an overlapping memcpy and warns, -Wrestrict.)
inline std::string Text(const Resources& resources) {
  return absl::StrCat("\"", resources.ToString(), "\"");
}

}  // namespace steward::allocator::reference_internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_REFERENCE_UTIL_H_
