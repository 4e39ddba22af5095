// What the Alibaba 2017 and 2018 batch task tables have in common: a row is one task of N
// identical instances with a status, two timestamps and a per-instance request. The rules
// for statuses and times are shared so that both readers treat the same quirk the same way
// (docs/traces.md, "Alibaba batch tasks").
#ifndef STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_
#define STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "traces/workload.h"

namespace steward::traces::internal {

// Stats keys for records that are kept but changed, and for records whose content the model
// has no use for. They live in ReadStats::skipped beside the skip reasons; the prefix tells
// them apart ("adjusted: " and "ignored: " entries are not malformed records).
inline constexpr std::string_view kAdjustedNegativeTime = "adjusted: negative timestamp";
inline constexpr std::string_view kAdjustedZeroDuration = "adjusted: zero duration";

// Whether a task status means the task ended at the row's end timestamp (Terminated, Failed,
// Cancelled, Interrupted), is still open at the end of the trace (Running, Waiting, Ready),
// or is not a status the publishers document.
enum class BatchStatus { kEnded, kOpen, kUnknown };
BatchStatus ClassifyBatchStatus(std::string_view status);

// Submit time and run time of a batch task from its start and end timestamps (seconds from
// the trace start; 0 and negative both mean "before the trace"). For an ended task:
//   end < start  -> skip "end before start"; end < 0 -> skip "ended before trace start";
//   start < 0    -> submit 0, counted under kAdjustedNegativeTime;
//   duration = end - max(start, 0), and 0 becomes 1 s (the traces' resolution), counted
//   under kAdjustedZeroDuration, because duration 0 means "runs until the end".
// For an open task the end timestamp is the last state change, not an end: duration 0.
// Returns the skip reason, or an empty view when the task is kept.
std::string_view BatchTimes(int64_t start, int64_t end, bool ended, ReadStats* stats,
                            double* submit, double* duration);

// Hands out the N instances of one task row as N TaskRecords whose trace_id is
// "<job>/<task>/<index>" (index from 0).
class InstanceExpander {
 public:
  // Starts a row. `proto` holds every field but trace_id.
  void Start(const TaskRecord& proto, std::string_view job, std::string_view task,
             int64_t instances);
  bool empty() const { return next_ >= count_; }
  // Writes the next instance into `task`; call only when !empty().
  void Next(TaskRecord* task);
  // The row being expanded (valid after Start).
  TaskRecord& proto() { return proto_; }

 private:
  TaskRecord proto_;
  std::string prefix_;  // "<job>/<task>/"
  int64_t next_ = 0;
  int64_t count_ = 0;
};

// The first line of a file (empty for an empty file), to recognise a headerless file's role
// by its column count and content.
absl::StatusOr<std::string> FirstLine(const std::string& path);

// The file name without its directories.
std::string_view BaseName(std::string_view path);

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_
