// Resources: the value type for CPU, memory, disk, GPUs, ports and any other named resource.
//
// A `Resources` value is a bag of entries, each identified by (name, reservation):
//   - scalars (cpus, mem, disk, gpus, any other name) held as exact fixed-point integers in
//     milli-units: 0.5 cpus is 500. Conversion from text or double rounds to the nearest
//     milli-unit (llround), never truncates;
//   - ranges (ports) held as sorted, disjoint, inclusive intervals of unsigned integers;
//   - sets (for example `disks:{ssd1,ssd2}`) held as sorted, unique strings.
// `reservation` is the role path the resources are reserved for, or empty when unreserved.
//
// Text notation (Mesos): entries separated by ';', each `name[(role)]:value` where value is a
// decimal scalar `4` / `0.5`, a range list `[31000-32000,33000-33010]` or a set `{a,b}`.
// `(*)` is the same as no role. Whitespace around tokens is ignored. Examples:
//   cpus:4;mem:8192;ports:[31000-32000]        cpus(eng):2;cpus:1;disks:{a,b}
// Entries with the same (name, reservation) are merged; zero scalars and empty ranges/sets are
// dropped, so two equal bags always print the same canonical text.
//
// Every operation that can fail on outside input returns absl::Status with InvalidArgument
// (malformed text, negative, NaN, infinite or overflowing values, kind mismatch) and leaves
// the object unchanged. Values are cheap to copy: copies share their entries until one of them
// is changed (copy on write). Not thread-safe for concurrent mutation; concurrent const use is
// fine.
#ifndef STEWARD_ALLOCATOR_RESOURCES_H_
#define STEWARD_ALLOCATOR_RESOURCES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::allocator {

// One milli-unit is the smallest representable amount of a scalar resource.
inline constexpr int64_t kMilliPerUnit = 1000;
// The largest scalar accepted, in units (milli-units stay far from int64 overflow even when
// summed over a large cluster).
inline constexpr double kMaxScalarUnits = 1e12;

// Converts `units` to milli-units, rounding to nearest. InvalidArgument for NaN, infinity,
// negative values and values above kMaxScalarUnits.
absl::StatusOr<int64_t> UnitsToMilli(double units);
// Prints milli-units as the shortest decimal: 4000 -> "4", 500 -> "0.5", 1 -> "0.001".
std::string FormatMilli(int64_t milli);

// Sorted, disjoint, non-adjacent inclusive intervals [first, second] of uint64.
class RangeSet {
 public:
  using Interval = std::pair<uint64_t, uint64_t>;
  // Inline storage for one interval: the usual port range needs no heap allocation.
  using Intervals = absl::InlinedVector<Interval, 1>;

  RangeSet() = default;
  // Builds from arbitrary intervals (overlaps and adjacency are merged). InvalidArgument if any
  // interval has first > second.
  static absl::StatusOr<RangeSet> FromIntervals(std::vector<Interval> intervals);

  bool empty() const { return shared_ == nullptr; }
  // Number of integers covered (saturates at UINT64_MAX).
  uint64_t Count() const;
  const Intervals& intervals() const { return shared_ ? *shared_ : Empty(); }

  bool Contains(const RangeSet& other) const;
  bool Contains(uint64_t value) const;
  void Add(const RangeSet& other);
  // Removes `other`; values of `other` not present are ignored (callers check Contains first).
  void Subtract(const RangeSet& other);
  // Intersection.
  RangeSet Intersect(const RangeSet& other) const;
  // "[31000-32000,33000-33000]"; an empty set prints "[]".
  std::string ToString() const;

  friend bool operator==(const RangeSet& a, const RangeSet& b) {
    return a.shared_ == b.shared_ || a.intervals() == b.intervals();
  }

 private:
  // Copy-on-write: a RangeSet is copied far more often (into offers and allocation records)
  // than changed, so copies share one immutable, canonical interval list; null when empty.
  void Assign(Intervals intervals);
  static const Intervals& Empty();
  std::shared_ptr<const Intervals> shared_;
};

enum class ResourceKind { kScalar, kRanges, kSet };

struct Resource {
  std::string name;
  std::string reservation;  // empty: unreserved
  ResourceKind kind = ResourceKind::kScalar;
  int64_t scalar = 0;              // kScalar: milli-units, > 0 in a canonical Resources
  RangeSet ranges;                 // kRanges: non-empty in a canonical Resources
  std::vector<std::string> items;  // kSet: sorted, unique, non-empty in a canonical Resources

  bool unreserved() const { return reservation.empty(); }
  friend bool operator==(const Resource&, const Resource&) = default;
};

// Returns OkStatus if `role` is a valid role path: "*" (the default role) or one or more
// '/'-separated segments, each non-empty, not "." or "..", made of [A-Za-z0-9_.-], and the
// whole path not starting or ending with '/'. InvalidArgument otherwise.
absl::Status ValidateRolePath(std::string_view role);
// True if `ancestor` is `role` itself or one of its ancestors ("eng" is an ancestor of
// "eng/web"; "*" is nobody's ancestor but its own).
bool IsSelfOrAncestor(std::string_view ancestor, std::string_view role);

class Resources {
 public:
  Resources() = default;

  // Parses the Mesos text notation described above. Errors name the offending entry and its
  // character offset, for example: `entry 2 ("mem:-1") at offset 7: negative value`.
  static absl::StatusOr<Resources> Parse(std::string_view text);
  // Builds a single unreserved scalar entry; InvalidArgument as UnitsToMilli.
  static absl::StatusOr<Resources> Scalar(std::string_view name, double units);
  // Builds a bag from entries in any order: validates names, roles, kinds and amounts as Parse
  // does, merges duplicates and drops empty entries.
  static absl::StatusOr<Resources> FromEntries(std::vector<Resource> entries);
  // Wraps entries that are already canonical: sorted by (name, reservation), merged, without
  // empty values, one kind per name. Nothing is checked: for trusted callers on hot paths
  // (the allocation engine) that build bags out of bags that were validated on the way in.
  static Resources FromCanonicalEntries(std::vector<Resource> entries);

  // Canonical text: entries sorted by (name, reservation), scalars in shortest decimal form,
  // reservation printed as `name(role)`. The empty bag prints "".
  std::string ToString() const;

  bool empty() const { return entries().empty(); }
  // Valid until this value is next changed or destroyed.
  const std::vector<Resource>& entries() const { return rep_ ? *rep_ : NoEntries(); }

  // Adds `other`. InvalidArgument (and no change) if an entry's kind differs from an existing
  // entry of the same name, or a scalar sum exceeds kMaxScalarUnits.
  absl::Status Add(const Resources& other);
  // Subtracts `other`. InvalidArgument (and no change) unless Contains(other).
  absl::Status Subtract(const Resources& other);
  // True if every entry of `other` is covered by the entry with the same (name, reservation).
  bool Contains(const Resources& other) const;

  // Filters.
  Resources Unreserved() const;
  // Entries reserved for exactly `role`.
  Resources ReservedTo(std::string_view role) const;
  // Entries reserved for anything.
  Resources Reserved() const;
  // Unreserved entries plus entries reserved for `role` or one of its ancestors: what a
  // framework subscribed to `role` may be offered.
  Resources AllocatableTo(std::string_view role) const;
  // Scalar entries only / non-scalar entries only.
  Resources Scalars() const;
  Resources NonScalars() const;

  // Sum of the scalar `name` over all reservations, in milli-units (0 if absent).
  int64_t ScalarMilli(std::string_view name) const;
  // True if any entry (any reservation) has this name.
  bool Has(std::string_view name) const;

  // The same entries with every reservation replaced by `role` (empty: unreserved). Used for
  // dynamic reservation; entries that then coincide are merged.
  Resources WithReservation(std::string_view role) const;

  friend bool operator==(const Resources& a, const Resources& b) {
    return a.rep_ == b.rep_ || a.entries() == b.entries();
  }
  // True if both values share one set of entries (copies of each other, unchanged since): then
  // they are equal without reading the entries. Equal values need not share.
  bool SharesEntriesWith(const Resources& other) const { return rep_ == other.rep_; }

 private:
  // Inserts or merges one canonical entry; InvalidArgument (and no change) on kind mismatch or
  // overflow, the errors CheckMerge reports without changing anything.
  absl::Status Merge(const Resource& entry);
  absl::Status CheckMerge(const Resource& entry) const;
  void MergeChecked(const Resource& entry);  // after CheckMerge(entry) passed
  // The entries kept by `pred`; shares this value's storage when that is all of them.
  template <typename Pred>
  Resources Filter(Pred pred) const;

  static const std::vector<Resource>& NoEntries();
  void Assign(std::vector<Resource> entries);
  // The entries, unshared first if another value shares them.
  std::vector<Resource>& Mutable();
  // Sorted by (name, reservation), canonical; shared between copies, copied before a change
  // while shared; null when empty.
  std::shared_ptr<std::vector<Resource>> rep_;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_RESOURCES_H_
