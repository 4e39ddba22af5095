// What the Alibaba 2017 and 2018 batch task tables have in common: a row is one task of N
// identical instances with a status, two timestamps and a per-instance request. The rules
// for statuses and times are shared so that both readers treat the same quirk the same way
// (docs/traces.md, "Alibaba batch tasks").
#ifndef STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_
#define STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traces/internal/diagnostics.h"
#include "traces/internal/fields.h"
#include "traces/internal/line_reader.h"
#include "traces/internal/readers.h"
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
  // The next `n` instances (1 <= n <= left()) as one run.
  void Take(int64_t n, TaskRun* run);
  int64_t left() const { return count_ - next_; }
  // The row being expanded (valid after Start).
  TaskRecord& proto() { return proto_; }

 private:
  TaskRecord proto_;
  std::string prefix_;  // "<job>/<task>/"
  int64_t next_ = 0;
  int64_t count_ = 0;
};

// A task row by meaning: where the table keeps each field, and what the checks parsed.
struct BatchTaskRow {
  std::string_view job = {};
  std::string_view task = {};
  std::string_view group = {};  // "" where the table has none
  std::string_view instance_num = {};
  std::string_view status = {};
  std::string_view plan_cpu = {};  // 1/100 core per instance
  std::string_view plan_mem = {};  // normalised, per instance
  // Parsed by the table's own checks.
  int64_t start = 0;
  int64_t end = 0;
  // Parsed by BatchTaskReader::CheckInstancesAndStatus.
  int64_t instances = 0;
  bool ended = false;
};

// What the 2017 and 2018 readers share: the task file streamed a row at a time, each row
// expanded into its instances, and the machine events a subclass collects. A subclass knows
// its table's columns (ParseTask) and reads its machine file (ReadMachines).
class BatchTaskReader : public TraceReader {
 public:
  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;
  // The rest of a row's instances (up to the limit) as one run.
  absl::StatusOr<bool> NextRun(TaskRun* run) override;

  // Reads the machine file at `path`; called once, before the first Next.
  virtual absl::Status ReadMachines(const std::string& path) = 0;

 protected:
  struct Table {
    size_t task_columns;  // fields in a batch_task row
    // What a normalised memory of one machine is written as (1, or 100 for a percentage).
    double mem_full_scale;
    // The machine that normalised values are scaled against where
    // ReadOptions.normalised_machine leaves a field 0.
    double default_mem_mb;
    double default_disk_mb;
    // How messages name a row's start timestamp ("create", "start").
    std::string_view start_name;
  };

  BatchTaskReader(const ReadOptions& options, std::unique_ptr<LineReader> tasks,
                  const Table& table);

  // Whether the task file's first line is a header rather than a row (never, by default).
  virtual bool IsTaskHeader(std::string_view /*line*/) const { return false; }
  // Parses one task row of table.task_columns fields: rejects it (RejectTask) or starts its
  // instances (ExpandTask).
  virtual absl::Status ParseTask(const std::vector<std::string_view>& fields) = 0;

  // Reads rows until the expander holds an instance to give; false at the end of the file
  // or the limit.
  absl::StatusOr<bool> Fill();
  // Rejects the task row last read; what ParseTask returns.
  absl::Status RejectTask(std::string_view reason, std::string_view message);
  // Parses row->instance_num and classifies row->status: false when it rejects the row, with
  // what ParseTask returns in *result.
  bool CheckInstancesAndStatus(BatchTaskRow* row, absl::Status* result);
  // The rest of a row whose ids, instances, status and times passed the table's checks: the
  // request, the times (BatchTimes) and the instances.
  absl::Status ExpandTask(const BatchTaskRow& row);

  // A normalised memory size in MB.
  double ScaleMem(double normalised) const {
    return normalised / table_.mem_full_scale * machine_.mem;
  }
  const ResourceVector& machine() const { return machine_; }
  ReadStats& mutable_stats() { return stats_; }
  Diagnostics& diagnostics() { return diagnostics_; }
  // Takes the machine events in any order; sorts them by (time, name), stably so that a
  // remove stays before the add it precedes at the same time, and counts them.
  void SetMachines(std::vector<MachineEvent> machines);

 private:
  Table table_;
  ReadOptions options_;
  ResourceVector machine_;
  ReadStats stats_;
  Diagnostics diagnostics_;
  std::unique_ptr<LineReader> tasks_;
  std::vector<MachineEvent> machines_;
  std::vector<std::string_view> fields_;
  InstanceExpander expander_;
  TaskRecord proto_;
  bool done_ = false;
};

// Calls `parse(file, line)` for each line of the file at `path` that is not blank; stops at
// the first error it returns.
template <typename Parse>
absl::Status ForEachLine(const std::string& path, Parse&& parse) {
  absl::StatusOr<std::unique_ptr<LineReader>> opened = LineReader::Open(path);
  if (!opened.ok()) return opened.status();
  LineReader& file = **opened;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = file.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (Trim(line).empty()) continue;
    absl::Status status = parse(file, line);
    if (!status.ok()) return status;
  }
}

// What a file of a batch trace holds.
enum class BatchFile { kTasks, kMachines, kNone };

// How a batch trace names and recognises its files.
struct BatchFormat {
  std::string_view name;           // "alibaba2017"
  std::string_view machine_table;  // the machine file's table, "server_event"
  std::string_view expected;       // the files it reads, for the error on any other file
  // What the file at `path` holds (by name, else by content), or an error to stop at.
  absl::StatusOr<BatchFile> (*recognise)(const std::string& path);
};

// The task file (required) and machine file ("" when absent) among `paths`, in any order.
struct BatchPaths {
  std::string tasks;
  std::string machines;
};
absl::StatusOr<BatchPaths> FindBatchFiles(const BatchFormat& format, const Paths& paths);

// A reader of type Reader (a BatchTaskReader) over the batch trace in `paths`.
template <typename Reader>
ReaderOr OpenBatchTrace(const BatchFormat& format, const Paths& paths, const ReadOptions& options) {
  absl::StatusOr<BatchPaths> found = FindBatchFiles(format, paths);
  if (!found.ok()) return found.status();
  absl::StatusOr<std::unique_ptr<LineReader>> tasks = LineReader::Open(found->tasks);
  if (!tasks.ok()) return tasks.status();
  auto reader = std::make_unique<Reader>(options, std::move(*tasks));
  if (!found->machines.empty()) {
    absl::Status status = reader->ReadMachines(found->machines);
    if (!status.ok()) return status;
  }
  return reader;
}

// The first line of a file (empty for an empty file), to recognise a headerless file's role
// by its column count and content.
absl::StatusOr<std::string> FirstLine(const std::string& path);

// The file name without its directories.
std::string_view BaseName(std::string_view path);

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_ALIBABA_BATCH_H_
