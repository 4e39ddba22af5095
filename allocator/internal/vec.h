// Small dense vectors of per-resource-name amounts, indexed by the engine's interned scalar
// name index. A missing trailing element reads as zero, so vectors created before a name was
// first seen need no resizing.
#ifndef STEWARD_ALLOCATOR_INTERNAL_VEC_H_
#define STEWARD_ALLOCATOR_INTERNAL_VEC_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"

namespace steward::allocator::internal {

using Vec = absl::InlinedVector<int64_t, 6>;

inline int64_t At(const Vec& v, size_t i) { return i < v.size() ? v[i] : 0; }

inline void AddAt(Vec& v, size_t i, int64_t delta) {
  if (i >= v.size()) v.resize(i + 1, 0);
  v[i] += delta;
}

inline void AddVec(Vec& v, const Vec& delta, int64_t sign = 1) {
  const size_t n = delta.size();
  if (n > v.size()) v.resize(n, 0);
  // Through raw pointers: an int64_t store may alias the vectors' own size fields (a size_t),
  // so indexing would reload them after every element.
  int64_t* out = v.data();
  const int64_t* in = delta.data();
  for (size_t i = 0; i < n; ++i) out[i] += sign * in[i];
}

// Equal element by element, missing trailing elements reading as zero.
inline bool SameAmounts(const Vec& a, const Vec& b) {
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (At(a, i) != At(b, i)) return false;
  }
  return true;
}

inline bool AllZero(const Vec& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t x) { return x == 0; });
}

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_VEC_H_
