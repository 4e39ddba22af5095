// How the `steward` CLI tells a usage error from a failure, and the exit codes that follow.
//
// Exit codes (the contract scripts rely on; `steward run` adds its own, see run_command.cc):
//   0  success
//   1  failure: the master or an agent is unreachable, answered 4xx/5xx, a task is unknown...
//   2  usage error: unknown command or flag, missing or malformed argument
// A usage error is an absl::Status carrying the payload kUsagePayload, made by UsageError();
// its code is InvalidArgument. Every other non-OK status is a failure. Thread-safe (no state).
#ifndef STEWARD_DAEMON_CLI_ERRORS_H_
#define STEWARD_DAEMON_CLI_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace steward::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The type URL of the payload that marks a usage error.
inline constexpr std::string_view kUsagePayload = "type.steward.dev/cli.UsageError";

// An InvalidArgument status marked as a usage error.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// 0 for OK, 2 for a usage error, 1 for anything else.
int ExitCodeFor(const absl::Status& status);

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_ERRORS_H_
