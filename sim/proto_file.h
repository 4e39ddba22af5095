// Reading the simulator's input files (scenarios, sweeps) in protobuf text format or JSON,
// with every error located as "file:line:col: message" (1-based line and column).
#ifndef STEWARD_SIM_PROTO_FILE_H_
#define STEWARD_SIM_PROTO_FILE_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace steward::sim {

// Where each field of a parsed file was written, by field path ("agents[2].resources",
// "options.mode"), so that checks made after parsing can point at the text too.
class SourceMap {
 public:
  SourceMap() = default;
  explicit SourceMap(std::string file) : file_(std::move(file)) {}

  void Add(std::string path, int line, int column);  // 1-based

  // "file:line:col" of `path`, or of its nearest enclosing field that was written (for a
  // field left at its default), or "file" alone when none was.
  std::string Where(std::string_view path) const;
  // InvalidArgument "Where(path): message".
  absl::Status Error(std::string_view path, absl::string_view message) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, std::pair<int, int>, std::less<>> locations_;
};

// Parses `path` into `message`: text format for .textproto/.pbtxt/.txtpb, JSON for .json
// (unknown fields are errors in both: a misspelt field must not be ignored silently).
// NotFound for a missing file; InvalidArgument "file:line:col: ..." for bad content or an
// unrecognised extension.
absl::StatusOr<SourceMap> ParseProtoFile(const std::string& path,
                                         google::protobuf::Message* message);

// The same on text already in memory; `name` decides the syntax and names the errors.
absl::StatusOr<SourceMap> ParseProtoText(std::string_view text, const std::string& name,
                                         google::protobuf::Message* message);

}  // namespace steward::sim

#endif  // STEWARD_SIM_PROTO_FILE_H_
