#include "traces/internal/diagnostics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"

namespace steward::traces::internal {

absl::Status Diagnostics::Reject(std::string_view where, std::string_view reason,
                                 std::string_view message) {
  using allocator::internal::Av;
  std::string text = absl::StrCat(Av(where), ": ", Av(message));
  if (strict_) return absl::InvalidArgumentError(text);
  ++stats_->skipped[std::string(reason)];
  if (stats_->examples.size() < kMaxExamples) stats_->examples.push_back(std::move(text));
  return absl::OkStatus();
}

}  // namespace steward::traces::internal
