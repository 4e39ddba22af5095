#include "traces/internal/alibaba_batch.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include "traces/internal/line_reader.h"

namespace steward::traces::internal {

BatchStatus ClassifyBatchStatus(std::string_view status) {
  if (status == "Terminated" || status == "Failed" || status == "Cancelled" ||
      status == "Interrupted") {
    return BatchStatus::kEnded;
  }
  if (status == "Running" || status == "Waiting" || status == "Ready") return BatchStatus::kOpen;
  return BatchStatus::kUnknown;
}

std::string_view BatchTimes(int64_t start, int64_t end, bool ended, ReadStats* stats,
                            double* submit, double* duration) {
  if (ended) {
    if (end < start) return "end before start";
    if (end < 0) return "ended before trace start";
  }
  if (start < 0) ++stats->skipped[std::string(kAdjustedNegativeTime)];
  const int64_t begin = std::max<int64_t>(start, 0);
  *submit = static_cast<double>(begin);
  *duration = 0;
  if (ended) {
    *duration = static_cast<double>(end - begin);
    if (*duration == 0) {
      *duration = 1;
      ++stats->skipped[std::string(kAdjustedZeroDuration)];
    }
  }
  return {};
}

void InstanceExpander::Start(const TaskRecord& proto, std::string_view job, std::string_view task,
                             int64_t instances) {
  proto_ = proto;
  prefix_.assign(job);
  prefix_ += '/';
  prefix_.append(task);
  prefix_ += '/';
  next_ = 0;
  count_ = instances;
}

void InstanceExpander::Next(TaskRecord* task) {
  *task = proto_;
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), next_);
  task->trace_id.reserve(prefix_.size() + static_cast<size_t>(result.ptr - digits));
  task->trace_id.assign(prefix_);
  task->trace_id.append(digits, result.ptr);
  ++next_;
}

absl::StatusOr<std::string> FirstLine(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string_view line;
  absl::StatusOr<bool> more = (*reader)->Next(&line);
  if (!more.ok()) return more.status();
  return *more ? std::string(line) : std::string();
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace steward::traces::internal
