// Small helpers shared by the allocator test suites.
#ifndef STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_
#define STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_

#include <ostream>
#include <string_view>

#include "allocator/allocator.h"
#include "allocator/quantities.h"
#include "allocator/resources.h"
#include "gtest/gtest.h"

namespace steward::allocator {

// Readable reasons in gtest messages (found by argument-dependent lookup).
inline void PrintTo(Reason reason, std::ostream* os) { *os << ReasonName(reason); }

namespace test_util {

// Parses Mesos resource text that a test knows to be valid; a parse error fails the test.
inline Resources R(std::string_view text) {
  absl::StatusOr<Resources> parsed = Resources::Parse(text);
  EXPECT_EQ(parsed.status(), absl::OkStatus()) << "'" << text << "'";
  return parsed.ok() ? *parsed : Resources();
}

// Parses quota quantities that a test knows to be valid; a parse error fails the test.
inline ResourceQuantities Q(std::string_view text) {
  absl::StatusOr<ResourceQuantities> parsed = ResourceQuantities::Parse(text);
  EXPECT_EQ(parsed.status(), absl::OkStatus()) << "'" << text << "'";
  return parsed.ok() ? *parsed : ResourceQuantities();
}

}  // namespace test_util
}  // namespace steward::allocator

#endif  // STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_
