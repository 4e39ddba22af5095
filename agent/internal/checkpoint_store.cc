#include "agent/internal/checkpoint_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/internal/file_io.h"

namespace steward::agent::internal {

CheckpointStore::CheckpointStore(std::string meta_dir)
    : meta_dir_(std::move(meta_dir)), path_(meta_dir_ + "/agent.checkpoint") {}

absl::StatusOr<std::optional<Checkpoint>> CheckpointStore::Load() const {
  absl::StatusOr<std::string> contents = ReadFile(path_);
  if (absl::IsNotFound(contents.status())) return std::nullopt;
  if (!contents.ok()) return contents.status();
  Checkpoint checkpoint;
  if (!checkpoint.ParsePartialFromString(*contents)) {
    return absl::DataLossError(
        absl::StrCat("checkpoint ", path_, " is corrupt (", contents->size(),
                     " bytes do not parse); move it away to start this agent as a new one"));
  }
  return checkpoint;
}

absl::Status CheckpointStore::Save(const Checkpoint& checkpoint) {
  if (absl::Status status = MakeDirectories(meta_dir_, 0755); !status.ok()) return status;
  std::string bytes;
  if (!checkpoint.SerializePartialToString(&bytes)) {
    return absl::InternalError("cannot serialize the agent checkpoint");
  }
  return WriteFileAtomically(path_, bytes);
}

}  // namespace steward::agent::internal
