#include "agent/internal/cgroups.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/internal/file_io.h"

namespace steward::agent::internal {
namespace {

// mountinfo escapes space, tab, newline and backslash in paths as \ooo (octal).
std::string UnescapeMountPath(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = text[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<CgroupMount>> ParseCgroupMounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(
           absl::string_view(mountinfo.data(), mountinfo.size()), '\n', absl::SkipEmpty())) {
    ++line_number;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    auto separator = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || separator == fields.end() || separator - fields.begin() < 6 ||
        fields.end() - separator < 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("mountinfo line ", line_number, " is malformed: '", line, "'"));
    }
    absl::string_view fs_type = separator[1];
    if (fs_type != "cgroup" && fs_type != "cgroup2") continue;
    CgroupMount mount;
    mount.version = fs_type == "cgroup2" ? 2 : 1;
    mount.root = UnescapeMountPath(fields[3]);
    mount.mount_point = UnescapeMountPath(fields[4]);
    if (mount.version == 1) {
      static constexpr absl::string_view kNotControllers[] = {
          "rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods"};
      for (absl::string_view option : absl::StrSplit(separator[3], ',')) {
        if (option.empty() || absl::StartsWith(option, "release_agent=")) continue;
        if (std::find(std::begin(kNotControllers), std::end(kNotControllers), option) !=
            std::end(kNotControllers)) {
          continue;
        }
        mount.controllers.emplace_back(option);
      }
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

absl::StatusOr<std::vector<CgroupMembership>> ParseProcCgroup(std::string_view text) {
  std::vector<CgroupMembership> memberships;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    CgroupMembership membership;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &membership.hierarchy_id) ||
        parts[2].empty() || parts[2][0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed /proc/self/cgroup line '", line, "'"));
    }
    for (absl::string_view controller : absl::StrSplit(parts[1], ',', absl::SkipEmpty())) {
      membership.controllers.emplace_back(controller);
    }
    membership.path = std::string(parts[2]);
    memberships.push_back(std::move(membership));
  }
  return memberships;
}

std::optional<std::string> OwnCgroupDirectory(const CgroupMount& mount,
                                              const std::vector<CgroupMembership>& memberships) {
  const CgroupMembership* own = nullptr;
  for (const CgroupMembership& membership : memberships) {
    if (mount.version == 2) {
      if (membership.hierarchy_id == 0 && membership.controllers.empty()) own = &membership;
    } else {
      for (const std::string& controller : membership.controllers) {
        if (std::find(mount.controllers.begin(), mount.controllers.end(), controller) !=
            mount.controllers.end()) {
          own = &membership;
        }
      }
    }
    if (own != nullptr) break;
  }
  if (own == nullptr) return std::nullopt;
  std::string_view path = own->path;
  if (mount.root != "/") {
    if (path != mount.root &&
        !(path.substr(0, mount.root.size()) == mount.root && path.size() > mount.root.size() &&
          path[mount.root.size()] == '/')) {
      return std::nullopt;
    }
    path.remove_prefix(mount.root.size());
  }
  std::string directory = mount.mount_point;
  if (!path.empty() && path != "/") directory += std::string(path);
  return directory;
}

int64_t CpuShares(double cpus) { return std::max<int64_t>(2, std::llround(cpus * 1024)); }

int64_t CfsQuotaMicros(double cpus) {
  return std::max<int64_t>(1000, std::llround(cpus * kCfsPeriodMicros));
}

int64_t CpuWeight(double cpus) {
  int64_t shares = std::min<int64_t>(CpuShares(cpus), 262144);
  return 1 + (shares - 2) * 9999 / 262142;
}

std::string ContainerCgroupName(std::string_view container_id) {
  return absl::StrCat("container-", absl::string_view(container_id.data(), container_id.size()));
}

absl::StatusOr<std::vector<pid_t>> CgroupProcesses(const checkpoint::Cgroup& cgroup) {
  absl::StatusOr<std::string> text = ReadFile(cgroup.directory() + "/cgroup.procs");
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::vector<pid_t>();
    return text.status();
  }
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(line, &pid) || pid <= 0) {
      return absl::DataLossError(
          absl::StrCat("unexpected line '", line, "' in ", cgroup.directory(), "/cgroup.procs"));
    }
    pids.push_back(pid);
  }
  return pids;
}

int SignalCgroupProcesses(const std::vector<checkpoint::Cgroup>& cgroups, int signal) {
  int signalled = 0;
  for (const checkpoint::Cgroup& cgroup : cgroups) {
    absl::StatusOr<std::vector<pid_t>> pids = CgroupProcesses(cgroup);
    if (!pids.ok()) continue;
    for (pid_t pid : *pids) {
      if (pid != ::getpid() && ::kill(pid, signal) == 0) ++signalled;
    }
  }
  return signalled;
}

absl::StatusOr<uint64_t> OomKillCount(const checkpoint::Cgroup& cgroup) {
  const auto& controllers = cgroup.controllers();
  if (std::find(controllers.begin(), controllers.end(), "memory") == controllers.end()) {
    return absl::NotFoundError(absl::StrCat(cgroup.directory(), " is not a memory cgroup"));
  }
  const std::string path =
      cgroup.directory() + (cgroup.version() == 2 ? "/memory.events" : "/memory.oom_control");
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    absl::string_view value = line;
    if (!absl::ConsumePrefix(&value, "oom_kill ")) continue;
    uint64_t count = 0;
    if (!absl::SimpleAtoi(value, &count)) {
      return absl::DataLossError(absl::StrCat("unexpected line '", line, "' in ", path));
    }
    return count;
  }
  return absl::NotFoundError(absl::StrCat(path, " has no oom_kill counter (Linux 4.13+)"));
}

absl::Status RemoveCgroup(const checkpoint::Cgroup& cgroup, int wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    if (::rmdir(cgroup.directory().c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
    int err = errno;
    if (err != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      return ErrnoError(
          err == EBUSY ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kInternal,
          absl::StrCat("rmdir ", cgroup.directory()), err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace steward::agent::internal
