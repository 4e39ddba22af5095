// The registry store: where a master keeps the state that must survive its restart (agents,
// frameworks, quota, weights; see proto/steward/registry.proto).
//
// `Registrar` is the seam for leader election: the standalone master uses FileRegistrar (one
// file in --work_dir); a ZooKeeper-backed registrar implements the same contract. Writes are
// compare-and-swap on `Registry.version`: Store(r) succeeds only if r.version() is exactly one
// more than the stored version (0 when nothing is stored), so a deposed master cannot
// overwrite its successor's state.
//
// Not thread-safe: the master calls it from one thread at a time (Recover before it starts,
// Store from its registry writer thread, without the master's lock, while it runs).
#ifndef STEWARD_DAEMON_REGISTRAR_H_
#define STEWARD_DAEMON_REGISTRAR_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/steward/registry.pb.h"

namespace steward::daemon {

class Registrar {
 public:
  virtual ~Registrar() = default;
  // The stored registry, or an empty one (version 0) if nothing was ever stored. DataLoss if
  // the stored bytes do not parse; Unavailable if the store cannot be read.
  virtual absl::StatusOr<registry::Registry> Recover() = 0;
  // Stores `registry` atomically (readers see the old or the new version, never a mix, even
  // after a crash). FailedPrecondition if registry.version() != stored version + 1;
  // Unavailable for I/O errors (the stored version is then unchanged).
  virtual absl::Status Store(const registry::Registry& registry) = 0;
};

// Keeps the registry in `<work_dir>/registry.pb`, written to a temporary file, fsynced, and
// renamed over the old one (then the directory is fsynced). Create() makes work_dir if needed.
class FileRegistrar : public Registrar {
 public:
  static absl::StatusOr<std::unique_ptr<FileRegistrar>> Create(const std::string& work_dir);

  absl::StatusOr<registry::Registry> Recover() override;
  absl::Status Store(const registry::Registry& registry) override;

  const std::string& path() const { return path_; }

 private:
  explicit FileRegistrar(std::string work_dir);

  std::string work_dir_;
  std::string path_;
  uint64_t stored_version_ = 0;
  bool recovered_ = false;
};

}  // namespace steward::daemon

#endif  // STEWARD_DAEMON_REGISTRAR_H_
