// Finding a task's sandbox on its agent and reading the sandbox's files, through the agent's
// GET /state and GET /files/read (agent/internal/files_api.h; Mesos's files API).
#ifndef STEWARD_DAEMON_CLI_INTERNAL_SANDBOX_H_
#define STEWARD_DAEMON_CLI_INTERNAL_SANDBOX_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/http_client.h"
#include "daemon/cli/internal/json_value.h"

namespace steward::cli {

// The sandbox directory of task `task_id` of framework `framework_id` in an agent's /state
// document: the `directory` of the executor that lists the task among its tasks, queued or
// completed tasks (frameworks and completed_frameworks, executors and completed_executors).
// NotFound if the agent does not list the task; DataLoss if its executor has no directory.
absl::StatusOr<std::string> FindSandbox(const JsonValue& agent_state,
                                        const std::string& framework_id,
                                        const std::string& task_id);

// Percent-encodes everything but unreserved characters (RFC 3986) for a URL query value.
std::string UrlEncode(std::string_view text);

struct FileChunk {
  std::string data;    // the bytes read, exactly as in the file
  int64_t offset = 0;  // where they start
};

// Reads up to `length` bytes of `path` from `offset` with GET /files/read on `agent` (named
// `who` in errors). A chunk shorter than asked (or empty) means the end of the file for now.
// Errors: NotFound (no such file yet), Unavailable, FailedPrecondition (other answers),
// DataLoss (an answer that is not the files API's JSON).
absl::StatusOr<FileChunk> ReadFileChunk(common::HttpClient& agent, std::string_view who,
                                        const std::string& path, int64_t offset, int64_t length);

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_SANDBOX_H_
