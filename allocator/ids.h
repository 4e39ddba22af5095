// Typed, interned identifiers. Each allocator instance hands out its own dense ids (0, 1, 2,
// ...) in registration order; an AgentId cannot be passed where a FrameworkId is expected.
// Ids of removed agents and frameworks are never reused by the same instance.
#ifndef STEWARD_ALLOCATOR_IDS_H_
#define STEWARD_ALLOCATOR_IDS_H_

#include <cstdint>
#include <functional>
#include <limits>

namespace steward::allocator {

template <typename Tag>
class Id {
 public:
  static constexpr uint32_t kInvalidValue = std::numeric_limits<uint32_t>::max();

  constexpr Id() = default;
  constexpr explicit Id(uint32_t value) : value_(value) {}

  constexpr uint32_t value() const { return value_; }
  constexpr bool valid() const { return value_ != kInvalidValue; }

  friend constexpr auto operator<=>(Id, Id) = default;

  template <typename H>
  friend H AbslHashValue(H h, Id id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  uint32_t value_ = kInvalidValue;
};

struct AgentTag {};
struct FrameworkTag {};
struct RoleTag {};

using AgentId = Id<AgentTag>;
using FrameworkId = Id<FrameworkTag>;
using RoleId = Id<RoleTag>;

}  // namespace steward::allocator

template <typename Tag>
struct std::hash<steward::allocator::Id<Tag>> {
  size_t operator()(steward::allocator::Id<Tag> id) const noexcept {
    return std::hash<uint32_t>()(id.value());
  }
};

#endif  // STEWARD_ALLOCATOR_IDS_H_
