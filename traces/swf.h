// The header of a Standard Workload Format (SWF) file, for tools that show what a trace
// describes (the reader itself builds machines from MaxNodes and MaxProcs; docs/traces.md).
#ifndef STEWARD_TRACES_SWF_H_
#define STEWARD_TRACES_SWF_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace steward::traces {

struct SwfHeader {
  // Every "; Key: value" line of the leading comment block, in file order and trimmed. Keys may
  // repeat (Note, Queue, Partition); continuation lines without a key are left out.
  std::vector<std::pair<std::string, std::string>> entries;

  // Value of the first entry named `key` (e.g. "UnixStartTime", "MaxProcs"), or nullptr.
  const std::string* Find(std::string_view key) const;
};

// Reads the leading comment block of an SWF file (plain or gzip). NotFound for a missing file;
// a file without a header gives an empty SwfHeader.
absl::StatusOr<SwfHeader> ReadSwfHeader(const std::string& path);

}  // namespace steward::traces

#endif  // STEWARD_TRACES_SWF_H_
