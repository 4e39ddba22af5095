#include "agent/internal/machine_resources.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace steward::agent::internal {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

}  // namespace

absl::StatusOr<MachineTotals> ProbeMachine(const std::string& directory) {
  MachineTotals totals;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (cpus <= 0 || pages <= 0 || page_size <= 0) {
    return absl::InternalError("cannot read the number of CPUs or the memory size (sysconf)");
  }
  totals.cpus = cpus;
  totals.memory_bytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  struct statvfs fs {};
  if (::statvfs(directory.c_str(), &fs) != 0) {
    return absl::InternalError(absl::StrCat("cannot read the file system size of ", directory, ": ",
                                            std::strerror(errno)));
  }
  totals.filesystem_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  return totals;
}

std::string DefaultResourceText(const MachineTotals& totals, bool cpus, bool mem, bool disk,
                                bool ports) {
  std::vector<std::string> parts;
  if (cpus) parts.push_back(absl::StrCat("cpus:", totals.cpus));
  if (mem) {
    const uint64_t bytes =
        totals.memory_bytes >= 2 * kGiB ? totals.memory_bytes - kGiB : totals.memory_bytes / 2;
    parts.push_back(absl::StrCat("mem:", bytes / kMiB));
  }
  if (disk) {
    const uint64_t bytes = totals.filesystem_bytes >= 20 * kGiB
                               ? totals.filesystem_bytes - 10 * kGiB
                               : totals.filesystem_bytes / 2;
    parts.push_back(absl::StrCat("disk:", bytes / kMiB));
  }
  if (ports) parts.push_back("ports:[31000-32000]");
  return absl::StrJoin(parts, ";");
}

}  // namespace steward::agent::internal
