#include "daemon/cli/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace steward::cli {

absl::Status UsageError(absl::string_view message) {
  absl::Status status(absl::StatusCode::kInvalidArgument, message);
  status.SetPayload(absl::string_view(kUsagePayload.data(), kUsagePayload.size()),
                    absl::Cord("usage"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return !status.ok() &&
         status.GetPayload(absl::string_view(kUsagePayload.data(), kUsagePayload.size()))
             .has_value();
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return IsUsageError(status) ? kExitUsage : kExitFailure;
}

}  // namespace steward::cli
