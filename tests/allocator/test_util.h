// Small helpers shared by the allocator test suites.
#ifndef STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_
#define STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
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

// One line per offer: framework@agent/role=resources.
inline std::string DescribeOffers(const Allocator& allocator, const std::vector<Offer>& offers) {
  std::string out;
  for (const Offer& offer : offers) {
    absl::StrAppend(&out, *allocator.FrameworkName(offer.framework), "@",
                    *allocator.AgentName(offer.agent), "/", allocator.RoleName(offer.role), "=",
                    offer.resources.ToString(), "\n");
  }
  return out;
}

// Every agent's free and allocated resources, and the consumption and share of each of
// `roles` that exists: what two allocators fed the same events must agree on.
inline std::string DescribeState(const Allocator& allocator,
                                 const std::vector<std::string>& roles) {
  std::string out;
  for (AgentId agent : allocator.Agents()) {
    absl::StrAppend(&out, *allocator.AgentName(agent), " free ", allocator.Free(agent)->ToString(),
                    " allocated ", allocator.Allocated(agent)->ToString(), "\n");
  }
  for (const std::string& path : roles) {
    absl::StatusOr<RoleId> role = allocator.FindRole(path);
    if (!role.ok()) continue;
    absl::StrAppend(&out, path, " ", allocator.Consumption(*role)->ToString(), " share ",
                    *allocator.RoleShare(*role), "\n");
  }
  return out;
}

}  // namespace test_util
}  // namespace steward::allocator

#endif  // STEWARD_TESTS_ALLOCATOR_TEST_UTIL_H_
