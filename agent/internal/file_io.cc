#include "agent/internal/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace steward::agent::internal {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

absl::Status ErrnoError(std::string_view what, int err) {
  return ErrnoError(absl::ErrnoToStatusCode(err), what, err);
}

absl::Status ErrnoError(absl::StatusCode code, std::string_view what, int err) {
  return absl::Status(
      code, absl::StrCat(absl::string_view(what.data(), what.size()), ": ", std::strerror(err)));
}

namespace {

absl::Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write ", path), errno);
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp";
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoError(absl::StrCat("create ", temp), errno);
    if (absl::Status s = WriteAll(fd.get(), contents, temp); !s.ok()) return s;
    if (::fsync(fd.get()) != 0) return ErrnoError(absl::StrCat("fsync ", temp), errno);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ErrnoError(absl::StrCat("rename ", temp, " to ", path), err);
  }
  const std::string dir = DirectoryOf(path);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoError(absl::StrCat("open ", dir), errno);
  if (::fsync(dir_fd.get()) != 0) return ErrnoError(absl::StrCat("fsync ", dir), errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(absl::StrCat("open ", path), errno);
  std::string contents;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("read ", path), errno);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

absl::Status WriteExistingFile(const std::string& path, std::string_view contents) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(absl::StrCat("open ", path), errno);
  ssize_t n;
  do {
    n = ::write(fd.get(), contents.data(), contents.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return ErrnoError(
        absl::StrCat("write '", absl::string_view(contents.data(), contents.size()), "' to ", path),
        errno);
  }
  if (static_cast<size_t>(n) != contents.size()) {
    return absl::InternalError(absl::StrCat("short write to ", path));
  }
  return absl::OkStatus();
}

absl::Status WriteMessage(const std::string& path, const google::protobuf::MessageLite& message) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InternalError(absl::StrCat("cannot serialize ", message.GetTypeName()));
  }
  return WriteFileAtomically(path, bytes);
}

absl::Status ReadMessage(const std::string& path, google::protobuf::MessageLite* message) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (!message->ParseFromString(*bytes)) {
    return absl::DataLossError(
        absl::StrCat(path, " is not a valid ", message->GetTypeName(), " checkpoint"));
  }
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path, unsigned mode) {
  if (path.empty()) return absl::InvalidArgumentError("empty directory path");
  std::string prefix;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    prefix = path.substr(0, slash);
    pos = slash + 1;
    if (prefix.empty()) continue;  // The leading '/'.
    if (::mkdir(prefix.c_str(), mode) == 0) continue;
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create directory ", path, ": ", prefix, " is not a directory"));
    }
    return ErrnoError(absl::StrCat("mkdir ", prefix), err);
  }
  return absl::OkStatus();
}

absl::Status RemoveTree(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("remove ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace steward::agent::internal
