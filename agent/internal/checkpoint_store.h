// Durable files for the agent's checkpoint (<work_dir>/meta/).
//
// Every write is atomic: the bytes go to a temporary file in the same directory, which is
// fsync'ed and renamed over the target, and the directory is fsync'ed; a crash leaves either
// the old or the new file, never a torn one.
//
// Thread safety: the functions are thread-safe for different paths; one CheckpointStore must
// not be used from two threads at once.
#ifndef STEWARD_AGENT_INTERNAL_CHECKPOINT_STORE_H_
#define STEWARD_AGENT_INTERNAL_CHECKPOINT_STORE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/steward/agent_checkpoint.pb.h"

namespace steward::agent::internal {

// Creates `path` and its missing parents (mode 0755). Returns Internal with the reason.
absl::Status MakeDirectories(const std::string& path);

// Replaces the file at `path` with `contents` atomically (see above). The directory must
// exist. Returns Internal naming the failing step.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// The whole file. NotFound if it does not exist, Internal for other read errors.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

class CheckpointStore {
 public:
  // Checkpoints live in `meta_dir` (created on the first Save()).
  explicit CheckpointStore(std::string meta_dir);

  // The last saved checkpoint, or nullopt when none was ever saved (a fresh work_dir).
  // DataLoss if the file exists but does not parse.
  absl::StatusOr<std::optional<Checkpoint>> Load() const;

  // Persists `checkpoint` atomically. Internal on I/O errors.
  absl::Status Save(const Checkpoint& checkpoint);

  const std::string& path() const { return path_; }

 private:
  std::string meta_dir_;
  std::string path_;
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_CHECKPOINT_STORE_H_
