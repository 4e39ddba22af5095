// Small POSIX file helpers for the containerizer: owned descriptors, errno-carrying statuses,
// crash-safe checkpoint files, and directory trees. All functions are thread-safe (they share
// no state) and report failures as absl::Status with the path and the errno text.
#ifndef STEWARD_AGENT_INTERNAL_FILE_IO_H_
#define STEWARD_AGENT_INTERNAL_FILE_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace steward::agent::internal {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// "`what`: <strerror(err)>" with the canonical code for `err` (NotFound for ENOENT, ...), or
// `code` when given.
absl::Status ErrnoError(std::string_view what, int err);
absl::Status ErrnoError(absl::StatusCode code, std::string_view what, int err);

// Replaces `path` with `contents` so that a crash at any point leaves either the old or the
// new file: writes `path`.tmp, fsyncs it, renames it over `path` and fsyncs the directory.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// The whole file. NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to an existing file without creating or truncating it (cgroup control
// files), in one write(2).
absl::Status WriteExistingFile(const std::string& path, std::string_view contents);

// Protobuf checkpoint files, written with WriteFileAtomically(). ReadMessage returns NotFound
// when the file does not exist and DataLoss when it does not parse.
absl::Status WriteMessage(const std::string& path, const google::protobuf::MessageLite& message);
absl::Status ReadMessage(const std::string& path, google::protobuf::MessageLite* message);

// mkdir -p with `mode` for the directories it creates. FailedPrecondition when a component
// exists and is not a directory.
absl::Status MakeDirectories(const std::string& path, unsigned mode);

// rm -r. OK when `path` does not exist.
absl::Status RemoveTree(const std::string& path);

// True when `path` exists (any file type).
bool PathExists(const std::string& path);

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_FILE_IO_H_
