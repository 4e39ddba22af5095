// Bridges between std::string_view and Debian 12's Abseil, whose absl::string_view is its own
// type (Abseil was built for C++14 there): string maps keyed by std::string that accept
// std::string_view lookups, and a conversion for absl::StrCat & co.
#ifndef STEWARD_ALLOCATOR_INTERNAL_STRINGS_H_
#define STEWARD_ALLOCATOR_INTERNAL_STRINGS_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace steward::allocator::internal {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>()(Av(s)); }
};
struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename V>
using StringMap = absl::flat_hash_map<std::string, V, StringViewHash, StringViewEq>;

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_STRINGS_H_
