#include "agent/internal/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace steward::agent::internal {
namespace {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", directory);
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return Errno("cannot fsync directory", directory);
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeDirectories(const std::string& path) {
  if (path.empty()) return absl::InternalError("cannot create a directory with an empty path");
  std::string prefix;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    prefix = path.substr(0, slash);
    start = slash + 1;
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Errno("cannot create directory", prefix);
    }
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Errno("cannot stat", path);
  if (!S_ISDIR(info.st_mode)) {
    return absl::InternalError(absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temporary);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status status = Errno("cannot write", temporary);
      ::close(fd);
      ::unlink(temporary.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const absl::Status status = Errno("cannot fsync", temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return status;
  }
  if (::close(fd) != 0) {
    const absl::Status status = Errno("cannot close", temporary);
    ::unlink(temporary.c_str());
    return status;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const absl::Status status = Errno("cannot rename onto", path);
    ::unlink(temporary.c_str());
    return status;
  }
  return SyncDirectory(Parent(path));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return Errno("cannot open", path);
  }
  std::string contents;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status status = Errno("cannot read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

CheckpointStore::CheckpointStore(std::string meta_dir)
    : meta_dir_(std::move(meta_dir)), path_(meta_dir_ + "/agent.checkpoint") {}

absl::StatusOr<std::optional<Checkpoint>> CheckpointStore::Load() const {
  absl::StatusOr<std::string> contents = ReadWholeFile(path_);
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
  if (absl::Status status = MakeDirectories(meta_dir_); !status.ok()) return status;
  std::string bytes;
  if (!checkpoint.SerializePartialToString(&bytes)) {
    return absl::InternalError("cannot serialize the agent checkpoint");
  }
  return WriteFileAtomically(path_, bytes);
}

}  // namespace steward::agent::internal
