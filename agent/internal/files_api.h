// The agent's read-only view of its sandboxes: GET /files/read, after Mesos's files API.
//
//   GET /files/read?path=P&offset=N[&length=M]
//   -> 200 {"data": "<bytes N..N+M>", "offset": N}
//   offset=-1 -> 200 {"data": "", "offset": <file size>}   (how tailers find the end)
//
// P is an absolute path inside <work_dir>/slaves/ (the executors' run directories, as /state
// lists them in "directory"). A path with a ".." component, outside that tree (also through a
// symbolic link), a directory, or malformed parameters is answered 400 with the reason; a
// missing file 404. At most 1 MiB is returned per call. Bytes that are not UTF-8 are escaped as
// \u00XX so the answer is always valid JSON.
//
// Thread safety: thread-safe (no state).
#ifndef STEWARD_AGENT_INTERNAL_FILES_API_H_
#define STEWARD_AGENT_INTERNAL_FILES_API_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/http_types.h"

namespace steward::agent::internal {

inline constexpr size_t kMaxFilesReadBytes = size_t{1} << 20;

// Answers one /files/read request for sandboxes under `work_dir`.
common::HttpResponse ServeFilesRead(const std::string& work_dir,
                                    const common::HttpRequest& request);

// Decodes %XX escapes and '+' (a space) of one URL query component. InvalidArgument for a
// truncated or non-hex escape.
absl::StatusOr<std::string> UrlDecode(std::string_view text);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_FILES_API_H_
