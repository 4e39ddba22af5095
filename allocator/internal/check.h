// STEWARD_CHECK: the one way internal invariant violations stop the process. Input from a
// peer, a file or a user never reaches a check: it is validated and answered with a Status.
#ifndef STEWARD_ALLOCATOR_INTERNAL_CHECK_H_
#define STEWARD_ALLOCATOR_INTERNAL_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"

namespace steward::allocator::internal {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* what,
                                     const std::string& detail) {
  std::fprintf(stderr, "%s:%d: internal invariant violated: %s %s\n", file, line, what,
               detail.c_str());
  std::abort();
}

}  // namespace steward::allocator::internal

#define STEWARD_CHECK(condition)                                                       \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      ::steward::allocator::internal::CheckFailed(__FILE__, __LINE__, #condition, ""); \
    }                                                                                  \
  } while (false)

#define STEWARD_CHECK_OK(expression)                                                \
  do {                                                                              \
    const ::absl::Status steward_check_status = (expression);                       \
    if (!steward_check_status.ok()) {                                               \
      ::steward::allocator::internal::CheckFailed(__FILE__, __LINE__, #expression,  \
                                                  steward_check_status.ToString()); \
    }                                                                               \
  } while (false)

#endif  // STEWARD_ALLOCATOR_INTERNAL_CHECK_H_
