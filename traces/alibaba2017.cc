// Alibaba cluster-trace-v2017: batch_task.csv (tasks) and server_event.csv (machines).
//
// batch_task.csv: create_timestamp, modify_timestamp, job_id, task_id, instance_num, status,
// plan_cpu (1/100 core per instance), plan_mem (normalised, per instance). A row of N
// instances becomes N tasks. server_event.csv: timestamp, machine_id, event_type
// (add|softerror|harderror), event_detail, cpu (cores), mem, disk (normalised); not sorted.
// Both files count seconds from the same trace start. Mapping and quirks: docs/traces.md.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "traces/internal/alibaba_batch.h"
#include "traces/internal/diagnostics.h"
#include "traces/internal/fields.h"
#include "traces/internal/line_reader.h"
#include "traces/internal/readers.h"

namespace steward::traces::internal {
namespace {

using allocator::internal::Av;

// The machine the normalised values are scaled against when ReadOptions leaves a field 0.
// Alibaba states 64 cores per machine and publishes memory and disk only normalised, so the
// sizes are ours: 256 GiB of memory and 1 TiB of disk (1 MiB counted as 1 MB).
constexpr double kDefaultMemMb = 256.0 * 1024;
constexpr double kDefaultDiskMb = 1024.0 * 1024;

constexpr size_t kTaskColumns = 8;
constexpr size_t kEventColumns = 7;

bool IsInteger(std::string_view field) {
  int64_t ignored = 0;
  return ParseInt(field, &ignored);
}

enum class Role { kTasks, kEvents, kNone };

// By name first; a renamed file by its first line: the task table's header (a non-numeric
// first field naming the job) or 8 columns with a status word, the event table by 7 columns
// with an event type in the third.
absl::StatusOr<Role> Recognise(const std::string& path) {
  const std::string_view name = BaseName(path);
  if (name.find("batch_task") != std::string_view::npos) return Role::kTasks;
  if (name.find("server_event") != std::string_view::npos) return Role::kEvents;
  absl::StatusOr<std::string> first = FirstLine(path);
  if (!first.ok()) return first.status();
  std::vector<std::string_view> fields;
  SplitCsv(*first, &fields);
  if (fields.size() == kTaskColumns) {
    if (!IsInteger(fields[0]) && first->find("job") != std::string::npos) return Role::kTasks;
    if (IsInteger(fields[0]) && ClassifyBatchStatus(fields[5]) != BatchStatus::kUnknown) {
      return Role::kTasks;
    }
  }
  if (fields.size() == kEventColumns &&
      (fields[2] == "add" || fields[2] == "softerror" || fields[2] == "harderror")) {
    return Role::kEvents;
  }
  return Role::kNone;
}

struct RawEvent {
  int64_t time = 0;
  bool add = false;  // add, else harderror
  std::string machine;
  ResourceVector capacity;
};

class Alibaba2017Reader : public TraceReader {
 public:
  Alibaba2017Reader(const ReadOptions& options, std::unique_ptr<LineReader> tasks)
      : options_(options), diagnostics_(options.strict, &stats_), tasks_(std::move(tasks)) {
    machine_ = options.normalised_machine;
    if (machine_.mem == 0) machine_.mem = kDefaultMemMb;
    if (machine_.disk == 0) machine_.disk = kDefaultDiskMb;
  }

  absl::Status ReadEvents(const std::string& path);

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;

 private:
  // Parses one task row into expander_; a rejected row leaves it empty.
  absl::Status ParseTask(std::string_view line);

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

absl::Status Alibaba2017Reader::ReadEvents(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> opened = LineReader::Open(path);
  if (!opened.ok()) return opened.status();
  LineReader& file = **opened;
  std::vector<RawEvent> events;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = file.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (Trim(line).empty()) continue;
    SplitCsv(line, &fields_);
    if (file.line_number() == 1 && !fields_.empty() && !IsInteger(fields_[0])) continue;  // header
    ++stats_.lines;
    const std::string where = file.Where();
    if (fields_.size() != kEventColumns) {
      absl::Status status = diagnostics_.Reject(
          where, "wrong column count",
          absl::StrCat("expected 7 server_event columns, found ", fields_.size()));
      if (!status.ok()) return status;
      continue;
    }
    RawEvent event;
    if (!ParseInt(fields_[0], &event.time)) {
      absl::Status status =
          diagnostics_.Reject(where, "bad timestamp",
                              absl::StrCat("timestamp '", Av(fields_[0]), "' is not an integer"));
      if (!status.ok()) return status;
      continue;
    }
    if (fields_[1].empty()) {
      absl::Status status = diagnostics_.Reject(where, "missing machine_id", "empty machine_id");
      if (!status.ok()) return status;
      continue;
    }
    const std::string_view type = fields_[2];
    if (type == "softerror") {
      // The machine stays in the cluster: the publishers say running work goes on, and the
      // model has no "no new placements" state.
      ++stats_.skipped["ignored: softerror"];
      continue;
    }
    if (type != "add" && type != "harderror") {
      absl::Status status = diagnostics_.Reject(
          where, "unknown event type", absl::StrCat("unknown event type '", Av(type), "'"));
      if (!status.ok()) return status;
      continue;
    }
    event.add = type == "add";
    event.machine = std::string(fields_[1]);
    if (event.add) {
      double cpu = 0, mem = 0, disk = 0;
      if (!ParseDouble(fields_[4], &cpu) || !ParseDouble(fields_[5], &mem) ||
          !ParseDouble(fields_[6], &disk) || cpu <= 0 || mem < 0 || disk < 0) {
        absl::Status status = diagnostics_.Reject(
            where, "bad capacity",
            absl::StrCat("add needs cpu > 0 and mem, disk >= 0; found '", Av(fields_[4]), "', '",
                         Av(fields_[5]), "', '", Av(fields_[6]), "'"));
        if (!status.ok()) return status;
        continue;
      }
      event.capacity = {cpu, mem * machine_.mem, disk * machine_.disk, 0};
    }
    if (event.time < 0) {
      ++stats_.skipped[std::string(kAdjustedNegativeTime)];
      event.time = 0;
    }
    events.push_back(std::move(event));
  }

  // The file is not in time order; replay it in time order (file order among equal times) to
  // know which machines are present when a harderror arrives.
  std::stable_sort(events.begin(), events.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.time < b.time; });
  absl::flat_hash_set<std::string> present;
  for (RawEvent& event : events) {
    const bool is_present = present.contains(event.machine);
    if (!event.add) {
      if (!is_present) {
        ++stats_.skipped["ignored: harderror on absent machine"];
        continue;
      }
      present.erase(event.machine);
      machines_.push_back(
          {static_cast<double>(event.time), MachineEvent::Type::kRemove, event.machine, {}, {}});
      continue;
    }
    if (is_present) {
      // A second add while present changes the capacity: out with the old, in with the new.
      machines_.push_back(
          {static_cast<double>(event.time), MachineEvent::Type::kRemove, event.machine, {}, {}});
    }
    present.insert(event.machine);
    machines_.push_back({static_cast<double>(event.time),
                         MachineEvent::Type::kAdd,
                         std::move(event.machine),
                         event.capacity,
                         {}});
  }
  // Stable, so that a remove stays before the add it precedes at the same time.
  std::stable_sort(machines_.begin(), machines_.end(),
                   [](const MachineEvent& a, const MachineEvent& b) {
                     return a.time != b.time ? a.time < b.time : a.name < b.name;
                   });
  stats_.machine_events = static_cast<int64_t>(machines_.size());
  return absl::OkStatus();
}

absl::Status Alibaba2017Reader::ParseTask(std::string_view line) {
  SplitCsv(line, &fields_);
  auto reject = [&](std::string_view reason, std::string_view message) {
    return diagnostics_.Reject(tasks_->Where(), reason, message);
  };
  if (fields_.size() != kTaskColumns) {
    return reject("wrong column count",
                  absl::StrCat("expected 8 batch_task columns, found ", fields_.size()));
  }
  int64_t create = 0, modify = 0, instances = 0;
  if (!ParseInt(fields_[0], &create) || !ParseInt(fields_[1], &modify)) {
    return reject("bad timestamp", absl::StrCat("timestamps '", Av(fields_[0]), "', '",
                                                Av(fields_[1]), "' are not integers"));
  }
  if (fields_[2].empty() || fields_[3].empty()) {
    return reject("missing id", "empty job_id or task_id");
  }
  if (!ParseInt(fields_[4], &instances) || instances < 1) {
    return reject("bad instance_num",
                  absl::StrCat("instance_num '", Av(fields_[4]), "' is not a positive integer"));
  }
  const BatchStatus status = ClassifyBatchStatus(fields_[5]);
  if (status == BatchStatus::kUnknown) {
    return reject("unknown status", absl::StrCat("unknown status '", Av(fields_[5]), "'"));
  }
  if (fields_[6].empty() || fields_[7].empty()) {
    return reject("empty plan_cpu or plan_mem",
                  absl::StrCat(Av(fields_[5]), " task without plan_cpu or plan_mem"));
  }
  double plan_cpu = 0, plan_mem = 0;
  if (!ParseDouble(fields_[6], &plan_cpu) || plan_cpu < 0) {
    return reject("bad plan_cpu", absl::StrCat("plan_cpu '", Av(fields_[6]), "'"));
  }
  if (!ParseDouble(fields_[7], &plan_mem) || plan_mem < 0) {
    return reject("bad plan_mem", absl::StrCat("plan_mem '", Av(fields_[7]), "'"));
  }
  const std::string_view skip = BatchTimes(create, modify, status == BatchStatus::kEnded, &stats_,
                                           &proto_.submit_time, &proto_.duration);
  if (!skip.empty()) {
    return reject(skip, absl::StrCat(Av(skip), ": create ", create, ", end ", modify));
  }
  proto_.demand = {plan_cpu / 100, plan_mem * machine_.mem, 0, 0};
  proto_.job.assign(fields_[2]);
  expander_.Start(proto_, fields_[2], fields_[3], instances);
  return absl::OkStatus();
}

absl::StatusOr<bool> Alibaba2017Reader::Next(TaskRecord* task) {
  while (!done_) {
    if (options_.limit > 0 && stats_.tasks >= options_.limit) break;
    if (!expander_.empty()) {
      expander_.Next(task);
      ++stats_.tasks;
      return true;
    }
    std::string_view line;
    absl::StatusOr<bool> more = tasks_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (Trim(line).empty()) continue;
    if (tasks_->line_number() == 1) {
      const std::string_view first = Trim(line.substr(0, line.find(',')));
      if (!IsInteger(first)) continue;  // the added header line
    }
    ++stats_.lines;
    absl::Status status = ParseTask(line);
    if (!status.ok()) return status;
  }
  done_ = true;
  return false;
}

}  // namespace

ReaderOr OpenAlibaba2017(const Paths& paths, const ReadOptions& options) {
  std::string tasks_path, events_path;
  for (const std::string& path : paths) {
    absl::StatusOr<Role> role = Recognise(path);
    if (!role.ok()) return role.status();
    std::string* slot = *role == Role::kTasks    ? &tasks_path
                        : *role == Role::kEvents ? &events_path
                                                 : nullptr;
    if (slot == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": not an alibaba2017 file: expected batch_task.csv (8 columns) or "
                       "server_event.csv (7 columns, add/softerror/harderror)"));
    }
    if (!slot->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a second alibaba2017 ", *role == Role::kTasks ? "batch_task" : "server_event",
          " file (the first is ", *slot, ")"));
    }
    *slot = path;
  }
  if (tasks_path.empty()) {
    return absl::InvalidArgumentError("alibaba2017: no batch_task.csv among the paths");
  }
  absl::StatusOr<std::unique_ptr<LineReader>> tasks = LineReader::Open(tasks_path);
  if (!tasks.ok()) return tasks.status();
  auto reader = std::make_unique<Alibaba2017Reader>(options, std::move(*tasks));
  if (!events_path.empty()) {
    absl::Status status = reader->ReadEvents(events_path);
    if (!status.ok()) return status;
  }
  return reader;
}

}  // namespace steward::traces::internal
