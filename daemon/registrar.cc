#include "daemon/registrar.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace steward::daemon {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(absl::StrCat("writing ", path));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("opening ", path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno(absl::StrCat("fsync of ", path));
  return absl::OkStatus();
}

}  // namespace

FileRegistrar::FileRegistrar(std::string work_dir)
    : work_dir_(std::move(work_dir)), path_(work_dir_ + "/registry.pb") {}

absl::StatusOr<std::unique_ptr<FileRegistrar>> FileRegistrar::Create(const std::string& work_dir) {
  if (work_dir.empty()) return absl::InvalidArgumentError("work_dir is empty");
  std::error_code error;
  std::filesystem::create_directories(work_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create work_dir ", work_dir, ": ", error.message()));
  }
  return std::unique_ptr<FileRegistrar>(new FileRegistrar(work_dir));
}

absl::StatusOr<registry::Registry> FileRegistrar::Recover() {
  registry::Registry registry;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (std::filesystem::exists(path_)) {
      return absl::UnavailableError(absl::StrCat("cannot read ", path_));
    }
    stored_version_ = 0;
    recovered_ = true;
    return registry;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!registry.ParseFromString(bytes.str())) {
    return absl::DataLossError(absl::StrCat(path_, " is not a valid registry (corrupt file?)"));
  }
  stored_version_ = registry.version();
  recovered_ = true;
  return registry;
}

absl::Status FileRegistrar::Store(const registry::Registry& registry) {
  if (!recovered_) {
    absl::StatusOr<registry::Registry> current = Recover();
    if (!current.ok()) return current.status();
  }
  if (registry.version() != stored_version_ + 1) {
    return absl::FailedPreconditionError(absl::StrCat("registry version ", registry.version(),
                                                      " does not follow the stored version ",
                                                      stored_version_));
  }
  std::string bytes;
  if (!registry.SerializeToString(&bytes)) {
    return absl::InternalError("registry does not serialize (missing required fields)");
  }
  const std::string temp = path_ + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(absl::StrCat("creating ", temp));
  absl::Status status = WriteAll(fd, bytes, temp);
  if (status.ok() && ::fsync(fd) != 0) status = Errno(absl::StrCat("fsync of ", temp));
  ::close(fd);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    absl::Status renamed = Errno(absl::StrCat("renaming ", temp, " to ", path_));
    ::unlink(temp.c_str());
    return renamed;
  }
  if (absl::Status synced = FsyncPath(work_dir_, O_RDONLY | O_DIRECTORY); !synced.ok()) {
    return synced;
  }
  stored_version_ = registry.version();
  return absl::OkStatus();
}

}  // namespace steward::daemon
