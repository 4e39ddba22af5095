#include "traces/workload.h"

#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allocator/internal/strings.h"

namespace steward::traces {
namespace {

using allocator::internal::Av;

constexpr std::array<std::string_view, 6> kGroupKeyNames = {"user", "job",   "app",
                                                            "qos",  "queue", "group"};

// Shortest text that reads back as the same double (Mesos notation accepts decimals).
std::string Number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

}  // namespace

std::string TaskRun::TraceId(int64_t i) const {
  if (count == 1) return first.trace_id;
  char digits[24];
  const auto result =
      std::to_chars(digits, digits + sizeof(digits), index + static_cast<uint64_t>(i));
  std::string id;
  id.reserve(prefix + static_cast<size_t>(result.ptr - digits));
  id.append(first.trace_id, 0, prefix);
  id.append(digits, result.ptr);
  return id;
}

void TaskRun::Get(int64_t i, TaskRecord* task) const {
  *task = first;
  if (i != 0) task->trace_id = TraceId(i);
}

absl::StatusOr<bool> TraceReader::NextRun(TaskRun* run) {
  absl::StatusOr<bool> more = Next(&run->first);
  if (!more.ok() || !*more) return more;
  run->count = 1;
  run->prefix = 0;
  run->index = 0;
  return true;
}

std::string ToMesosText(const ResourceVector& resources) {
  std::vector<std::string> parts;
  if (resources.cpus != 0) parts.push_back("cpus:" + Number(resources.cpus));
  if (resources.mem != 0) parts.push_back("mem:" + Number(resources.mem));
  if (resources.disk != 0) parts.push_back("disk:" + Number(resources.disk));
  if (resources.gpus != 0) parts.push_back("gpus:" + Number(resources.gpus));
  return absl::StrJoin(parts, ";");
}

absl::StatusOr<GroupKey> ParseGroupKey(std::string_view name) {
  for (size_t i = 0; i < kGroupKeyNames.size(); ++i) {
    if (name == kGroupKeyNames[i]) return static_cast<GroupKey>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown framework_by '", Av(name),
                                                 "': expected one of user, job, app, qos, "
                                                 "queue, group"));
}

std::string_view GroupKeyName(GroupKey key) { return kGroupKeyNames[static_cast<size_t>(key)]; }

const std::string& TaskRecord::Key(GroupKey key) const {
  switch (key) {
    case GroupKey::kUser:
      return user;
    case GroupKey::kJob:
      return job;
    case GroupKey::kApp:
      return app;
    case GroupKey::kQos:
      return qos;
    case GroupKey::kQueue:
      return queue;
    case GroupKey::kGroup:
      return group;
  }
  return user;
}

namespace {

int64_t SumWhere(const std::map<std::string, int64_t>& counts, bool (*keep)(std::string_view)) {
  int64_t total = 0;
  for (const auto& [key, count] : counts) {
    if (keep(key)) total += count;
  }
  return total;
}

bool IsAdjusted(std::string_view key) { return key.starts_with(kAdjustedPrefix); }
bool IsIgnored(std::string_view key) { return key.starts_with(kIgnoredPrefix); }
bool IsSkip(std::string_view key) { return !IsAdjusted(key) && !IsIgnored(key); }

}  // namespace

int64_t ReadStats::TotalSkipped() const { return SumWhere(skipped, IsSkip); }
int64_t ReadStats::TotalAdjusted() const { return SumWhere(skipped, IsAdjusted); }
int64_t ReadStats::TotalIgnored() const { return SumWhere(skipped, IsIgnored); }

}  // namespace steward::traces
