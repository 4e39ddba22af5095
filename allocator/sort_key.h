// Sort keys shared by every allocator implementation, so that the engine and the reference
// engine order clients identically (including the RANDOM sorter, which must not depend on how
// many random numbers an implementation happens to draw).
#ifndef STEWARD_ALLOCATOR_SORT_KEY_H_
#define STEWARD_ALLOCATOR_SORT_KEY_H_

#include <cstdint>

namespace steward::allocator {

// splitmix64's finaliser: a bijective 64-bit mix.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Client codes for RandomSortKey: what is being ordered.
constexpr uint64_t RoleClient(uint32_t role) { return role; }
constexpr uint64_t SelfClient(uint32_t role) { return (uint64_t{1} << 32) | role; }
constexpr uint64_t FrameworkClient(uint32_t framework) { return (uint64_t{2} << 32) | framework; }

// The RANDOM sorter's key of `client` when ordering at `position` (the agent id during
// Allocate, the step number during Place) in decision round `cycle` (incremented by every
// Allocate and every Place call, starting at 1). Ties break by ascending id.
constexpr uint64_t RandomSortKey(uint64_t seed, uint64_t cycle, uint64_t position,
                                 uint64_t client) {
  return Mix64(Mix64(Mix64(Mix64(seed) ^ cycle) ^ position) ^ client);
}

// The same key in two steps, for ordering many clients at one position: the prefix depends
// only on (seed, cycle, position), so it is mixed once instead of once per client.
// RandomSortKeyFrom(RandomSortPrefix(s, c, p), client) == RandomSortKey(s, c, p, client).
constexpr uint64_t RandomSortPrefix(uint64_t seed, uint64_t cycle, uint64_t position) {
  return Mix64(Mix64(Mix64(seed) ^ cycle) ^ position);
}
constexpr uint64_t RandomSortKeyFrom(uint64_t prefix, uint64_t client) {
  return Mix64(prefix ^ client);
}
static_assert(RandomSortKeyFrom(RandomSortPrefix(7, 3, 11), 5) == RandomSortKey(7, 3, 11, 5));

}  // namespace steward::allocator

#endif  // STEWARD_ALLOCATOR_SORT_KEY_H_
