// ResourceQuantities: named scalar amounts without reservations, where a zero is meaningful.
// Used for quota guarantees and limits ("cpus:0" as a limit means "no CPUs").
#ifndef STEWARD_ALLOCATOR_QUANTITIES_H_
#define STEWARD_ALLOCATOR_QUANTITIES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace steward::allocator {

class ResourceQuantities {
 public:
  ResourceQuantities() = default;

  // Parses `name:value;name:value` (scalars only, no reservations, no ranges or sets).
  // Duplicate names are summed. InvalidArgument for anything else, naming the entry.
  static absl::StatusOr<ResourceQuantities> Parse(std::string_view text);

  bool empty() const { return entries_.empty(); }
  // Sorted by name; values in milli-units (zero allowed).
  const std::vector<std::pair<std::string, int64_t>>& entries() const { return entries_; }
  bool Has(std::string_view name) const;
  // Milli-units for `name`, 0 if absent.
  int64_t Get(std::string_view name) const;
  // Sets `name` to `milli` (>= 0).
  void Set(std::string_view name, int64_t milli);
  // "cpus:1;mem:0"; empty prints "".
  std::string ToString() const;

  friend bool operator==(const ResourceQuantities&, const ResourceQuantities&) = default;

 private:
  std::vector<std::pair<std::string, int64_t>> entries_;
};

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_QUANTITIES_H_
