// Strict or lenient handling of malformed trace records, shared by every reader.
#ifndef STEWARD_TRACES_INTERNAL_DIAGNOSTICS_H_
#define STEWARD_TRACES_INTERNAL_DIAGNOSTICS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "traces/workload.h"

namespace steward::traces::internal {

class Diagnostics {
 public:
  static constexpr size_t kMaxExamples = 10;

  Diagnostics(bool strict, ReadStats* stats) : strict_(strict), stats_(stats) {}

  // A malformed record at `where` ("file:line"). Strict: InvalidArgument "where: message".
  // Lenient: counts one skip under `reason` (a short stable key such as "empty plan_cpu"),
  // keeps the message among the first kMaxExamples, and returns OK.
  absl::Status Reject(std::string_view where, std::string_view reason, std::string_view message);

  bool strict() const { return strict_; }

 private:
  bool strict_;
  ReadStats* stats_;
};

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_DIAGNOSTICS_H_
