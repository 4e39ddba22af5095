#include "traces/internal/alibaba_batch.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"

namespace steward::traces::internal {

using allocator::internal::Av;

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

void InstanceExpander::Take(int64_t n, TaskRun* run) {
  run->first = proto_;
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), next_);
  run->first.trace_id.reserve(prefix_.size() + static_cast<size_t>(result.ptr - digits));
  run->first.trace_id.assign(prefix_);
  run->first.trace_id.append(digits, result.ptr);
  run->count = n;
  run->prefix = prefix_.size();
  run->index = static_cast<uint64_t>(next_);
  next_ += n;
}

BatchTaskReader::BatchTaskReader(const ReadOptions& options, std::unique_ptr<LineReader> tasks,
                                 const Table& table)
    : table_(table),
      options_(options),
      machine_(options.normalised_machine),
      diagnostics_(options.strict, &stats_),
      tasks_(std::move(tasks)) {
  if (machine_.mem == 0) machine_.mem = table.default_mem_mb;
  if (machine_.disk == 0) machine_.disk = table.default_disk_mb;
}

absl::StatusOr<bool> BatchTaskReader::Next(TaskRecord* task) {
  absl::StatusOr<bool> more = Fill();
  if (!more.ok() || !*more) return more;
  expander_.Next(task);
  ++stats_.tasks;
  return true;
}

absl::StatusOr<bool> BatchTaskReader::NextRun(TaskRun* run) {
  absl::StatusOr<bool> more = Fill();
  if (!more.ok() || !*more) return more;
  int64_t take = expander_.left();
  if (options_.limit > 0) take = std::min(take, options_.limit - stats_.tasks);
  expander_.Take(take, run);
  stats_.tasks += take;
  return true;
}

absl::StatusOr<bool> BatchTaskReader::Fill() {
  while (!done_) {
    if (options_.limit > 0 && stats_.tasks >= options_.limit) break;
    if (!expander_.empty()) return true;
    std::string_view line;
    absl::StatusOr<bool> more = tasks_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (Trim(line).empty()) continue;
    if (tasks_->line_number() == 1 && IsTaskHeader(line)) continue;
    ++stats_.lines;
    SplitCsv(line, &fields_);
    absl::Status status =
        fields_.size() == table_.task_columns
            ? ParseTask(fields_)
            : RejectTask("wrong column count",
                         absl::StrCat("expected ", table_.task_columns,
                                      " batch_task columns, found ", fields_.size()));
    if (!status.ok()) return status;
  }
  done_ = true;
  return false;
}

absl::Status BatchTaskReader::RejectTask(std::string_view reason, std::string_view message) {
  return diagnostics_.Reject(tasks_->Where(), reason, message);
}

bool BatchTaskReader::CheckInstancesAndStatus(BatchTaskRow* row, absl::Status* result) {
  if (!ParseInt(row->instance_num, &row->instances) || row->instances < 1) {
    *result = RejectTask("bad instance_num", absl::StrCat("instance_num '", Av(row->instance_num),
                                                          "' is not a positive integer"));
    return false;
  }
  const BatchStatus status = ClassifyBatchStatus(row->status);
  if (status == BatchStatus::kUnknown) {
    *result = RejectTask("unknown status", absl::StrCat("unknown status '", Av(row->status), "'"));
    return false;
  }
  row->ended = status == BatchStatus::kEnded;
  return true;
}

absl::Status BatchTaskReader::ExpandTask(const BatchTaskRow& row) {
  if (row.plan_cpu.empty() || row.plan_mem.empty()) {
    return RejectTask("empty plan_cpu or plan_mem",
                      absl::StrCat(Av(row.status), " task without plan_cpu or plan_mem"));
  }
  double plan_cpu = 0, plan_mem = 0;
  if (!ParseDouble(row.plan_cpu, &plan_cpu) || plan_cpu < 0) {
    return RejectTask("bad plan_cpu", absl::StrCat("plan_cpu '", Av(row.plan_cpu), "'"));
  }
  if (!ParseDouble(row.plan_mem, &plan_mem) || plan_mem < 0) {
    return RejectTask("bad plan_mem", absl::StrCat("plan_mem '", Av(row.plan_mem), "'"));
  }
  const std::string_view skip =
      BatchTimes(row.start, row.end, row.ended, &stats_, &proto_.submit_time, &proto_.duration);
  if (!skip.empty()) {
    return RejectTask(skip, absl::StrCat(Av(skip), ": ", Av(table_.start_name), " ", row.start,
                                         ", end ", row.end));
  }
  proto_.demand = {plan_cpu / 100, ScaleMem(plan_mem), 0, 0};
  proto_.job.assign(row.job);
  proto_.group.assign(row.group);
  expander_.Start(proto_, row.job, row.task, row.instances);
  return absl::OkStatus();
}

void BatchTaskReader::SetMachines(std::vector<MachineEvent> machines) {
  machines_ = std::move(machines);
  std::stable_sort(machines_.begin(), machines_.end(),
                   [](const MachineEvent& a, const MachineEvent& b) {
                     return a.time != b.time ? a.time < b.time : a.name < b.name;
                   });
  stats_.machine_events = static_cast<int64_t>(machines_.size());
}

absl::StatusOr<BatchPaths> FindBatchFiles(const BatchFormat& format, const Paths& paths) {
  BatchPaths found;
  for (const std::string& path : paths) {
    absl::StatusOr<BatchFile> file = format.recognise(path);
    if (!file.ok()) return file.status();
    if (*file == BatchFile::kNone) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not an ", Av(format.name),
                                                     " file: expected ", Av(format.expected)));
    }
    const bool tasks = *file == BatchFile::kTasks;
    std::string& slot = tasks ? found.tasks : found.machines;
    if (!slot.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a second ", Av(format.name), " ",
          Av(tasks ? "batch_task" : format.machine_table), " file (the first is ", slot, ")"));
    }
    slot = path;
  }
  if (found.tasks.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(format.name), ": no batch_task.csv among the paths"));
  }
  return found;
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
