// The agent's checkpoint file (<work_dir>/meta/agent.checkpoint).
//
// Every save is atomic (internal/file_io.h WriteFileAtomically: temporary file, fsync,
// rename, fsync of the directory): a crash leaves either the old or the new checkpoint, never
// a torn one.
//
// Thread safety: one CheckpointStore must not be used from two threads at once.
#ifndef STEWARD_AGENT_INTERNAL_CHECKPOINT_STORE_H_
#define STEWARD_AGENT_INTERNAL_CHECKPOINT_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/steward/agent_checkpoint.pb.h"

namespace steward::agent::internal {

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
