// Google clusterdata-2011-2: task_events give tasks (one per run, from SUBMIT/SCHEDULE to a
// terminal event), machine_events give machines, job_events name jobs' applications.
// Mapping and quirks: docs/traces.md, section "google2011".
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "traces/internal/diagnostics.h"
#include "traces/internal/fields.h"
#include "traces/internal/line_reader.h"
#include "traces/internal/readers.h"
#include "traces/internal/tally.h"

namespace steward::traces::internal {
namespace {

using allocator::internal::Av;
using allocator::internal::StringMap;

// The reference machine when ReadOptions.normalised_machine leaves a field 0.
constexpr double kDefaultCpus = 32;
constexpr double kDefaultMemMb = 65536;
constexpr double kDefaultDiskMb = 1048576;

constexpr int64_t kAfterWindow = std::numeric_limits<int64_t>::max();  // "after the trace"
constexpr double kMicros = 1e6;

enum class Table { kJobEvents, kTaskEvents, kMachineEvents };
constexpr size_t kJobColumns = 8;
constexpr size_t kTaskColumns = 13;
constexpr size_t kMachineColumns = 6;

std::string_view TableName(Table table) {
  switch (table) {
    case Table::kJobEvents:
      return "job_events";
    case Table::kTaskEvents:
      return "task_events";
    case Table::kMachineEvents:
      return "machine_events";
  }
  return "";
}

// task_events columns.
enum TaskColumn : size_t {
  kTime = 0,
  kJobId = 2,
  kTaskIndex = 3,
  kEventType = 5,
  kUser = 6,
  kSchedulingClass = 7,
  kPriority = 8,
  kCpuRequest = 9,
  kMemoryRequest = 10,
  kDiskRequest = 11,
};

enum EventType : int64_t {
  kSubmit = 0,
  kSchedule = 1,
  kEvict = 2,
  kFail = 3,
  kFinish = 4,
  kKill = 5,
  kLost = 6,
  kUpdatePending = 7,
  kUpdateRunning = 8,
};

struct TraceFile {
  std::string path;
  Table table;
  int64_t part;  // from "part-NNNNN"; -1 without one
};

// The number after "part-" in the file name, or -1.
int64_t PartNumber(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t at = name.find("part-");
  if (at == std::string_view::npos) return -1;
  int64_t number = 0;
  size_t i = at + 5;
  const size_t begin = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - begin < 15) {
    number = number * 10 + (name[i] - '0');
    ++i;
  }
  return i == begin ? -1 : number;
}

// A time column: microseconds, 0 = before the window, 2^63-1 = after it.
bool ParseTime(std::string_view text, int64_t* micros) { return ParseInt(text, micros); }

struct TaskKey {
  int64_t job;
  int64_t index;
  friend bool operator==(const TaskKey&, const TaskKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TaskKey& key) {
    return H::combine(std::move(h), key.job, key.index);
  }
};

// A task run between its SUBMIT (or first SCHEDULE) and its terminal event.
struct OpenTask {
  int64_t submit_micros = 0;
  double start = -1;  // seconds; -1 = not scheduled
  ResourceVector demand;
  uint32_t user = 0;  // index into users_
  int32_t scheduling_class = 0;
  int64_t priority = 0;
  uint64_t sequence = 0;  // order of appearance, for the tasks still open at the end
};

// One machine_events row, kept until all parts are read and ordered by time.
struct MachineRow {
  int64_t micros;
  int64_t machine;
  int64_t type;
  std::string platform;
  double cpus;
  double mem;
  size_t file;
  int64_t line;
};

class Google2011Reader : public TraceReader {
 public:
  explicit Google2011Reader(const ReadOptions& options)
      : options_(options),
        diagnostics_(options.strict, &stats_),
        negative_time_(&stats_, "adjusted: negative time"),
        zero_run_(&stats_, "adjusted: zero run time (1 us)"),
        never_scheduled_(&stats_, "adjusted: never scheduled (runs for its pending time)"),
        schedule_without_submit_(&stats_, "adjusted: scheduled without submit"),
        ended_after_window_(&stats_, "adjusted: ended after the trace window (runs to the end)"),
        submitted_after_window_(&stats_, "ignored: submitted after the trace window"),
        update_running_(&stats_, "ignored: request update while running"),
        machine_after_window_(&stats_, "ignored: machine event after the trace window"),
        machine_unchanged_(&stats_, "ignored: machine update without capacity change") {
    reference_ = options.normalised_machine;
    if (reference_.cpus == 0) reference_.cpus = kDefaultCpus;
    if (reference_.mem == 0) reference_.mem = kDefaultMemMb;
    if (reference_.disk == 0) reference_.disk = kDefaultDiskMb;
  }

  absl::Status Open(const Paths& paths);

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;
  const ReadStats& stats() const override { return stats_; }

 private:
  absl::Status Classify(const std::string& path);
  absl::Status ReadJobEvents(const std::string& path);
  absl::Status ReadMachineEvents(const std::vector<std::string>& paths);
  absl::Status ApplyMachineRows(std::vector<MachineRow> rows,
                                const std::vector<std::string>& paths);
  // Handles one task_events line; true when it closed a run into `task`.
  absl::StatusOr<bool> HandleTaskEvent(std::string_view line, TaskRecord* task);
  // Fills `open` from the request columns of the current line; false after a counted skip.
  absl::StatusOr<bool> ReadRequest(OpenTask* open);
  void Emit(const TaskKey& key, const OpenTask& open, double duration, TaskRecord* task);
  absl::StatusOr<bool> Reject(std::string_view reason, const std::string& message);
  uint32_t Intern(std::string_view text, std::vector<std::string>* names,
                  StringMap<uint32_t>* index);

  ReadOptions options_;
  ReadStats stats_;
  Diagnostics diagnostics_;
  ResourceVector reference_;
  Tally negative_time_, zero_run_, never_scheduled_, schedule_without_submit_, ended_after_window_,
      submitted_after_window_, update_running_, machine_after_window_, machine_unchanged_;

  std::vector<TraceFile> files_;
  std::vector<MachineEvent> machines_;

  // job id -> logical job name, from job_events: one entry per job, each name stored once.
  absl::flat_hash_map<int64_t, uint32_t> job_apps_;
  std::vector<std::string> apps_;
  StringMap<uint32_t> app_index_;
  std::vector<std::string> users_;
  StringMap<uint32_t> user_index_;

  std::vector<std::string> task_paths_;  // in part order
  size_t next_task_path_ = 0;
  std::unique_ptr<LineReader> tasks_;
  std::vector<std::string_view> fields_;
  absl::flat_hash_map<TaskKey, OpenTask> open_;
  uint64_t sequence_ = 0;
  // Tasks still open when the files end, in order of appearance, emitted last.
  std::vector<std::pair<TaskKey, OpenTask>> leftovers_;
  size_t next_leftover_ = 0;
  bool files_done_ = false;
};

absl::Status Google2011Reader::Classify(const std::string& path) {
  // The table name nearest the end of the path wins (file name, then its folders).
  size_t best = std::string::npos;
  Table named = Table::kJobEvents;
  for (Table table : {Table::kJobEvents, Table::kTaskEvents, Table::kMachineEvents}) {
    const size_t at = path.rfind(TableName(table));
    if (at != std::string::npos && (best == std::string::npos || at > best)) {
      best = at;
      named = table;
    }
  }
  if (best != std::string::npos) {
    files_.push_back({path, named, PartNumber(path)});
    return absl::OkStatus();
  }
  // No table in the name: the column count of the first line decides.
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string_view line;
  absl::StatusOr<bool> more = (*reader)->Next(&line);
  if (!more.ok()) return more.status();
  if (*more) {
    SplitCsv(line, &fields_);
    const size_t columns = fields_.size();
    int64_t time = 0;
    if (ParseTime(fields_[0], &time)) {
      const Table table = columns == kJobColumns    ? Table::kJobEvents
                          : columns == kTaskColumns ? Table::kTaskEvents
                                                    : Table::kMachineEvents;
      if (columns == kJobColumns || columns == kTaskColumns || columns == kMachineColumns) {
        files_.push_back({path, table, PartNumber(path)});
        return absl::OkStatus();
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path,
      ": not a google2011 job_events, task_events or machine_events file (the name holds "
      "no table name and the first line is not 8, 13 or 6 columns starting with a time)"));
}

absl::Status Google2011Reader::Open(const Paths& paths) {
  if (paths.empty()) {
    return absl::InvalidArgumentError(
        "google2011: no files (expected task_events, machine_events and/or job_events parts)");
  }
  for (const std::string& path : paths) {
    absl::Status status = Classify(path);
    if (!status.ok()) return status;
  }
  std::sort(files_.begin(), files_.end(), [](const TraceFile& a, const TraceFile& b) {
    return std::tie(a.table, a.part, a.path) < std::tie(b.table, b.part, b.path);
  });
  std::vector<std::string> machine_paths;
  for (const TraceFile& file : files_) {
    switch (file.table) {
      case Table::kJobEvents: {
        absl::Status status = ReadJobEvents(file.path);
        if (!status.ok()) return status;
        break;
      }
      case Table::kTaskEvents:
        task_paths_.push_back(file.path);
        break;
      case Table::kMachineEvents:
        machine_paths.push_back(file.path);
        break;
    }
  }
  for (const std::string& path : task_paths_) {  // fail now, not halfway, on a missing part
    absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
    if (!reader.ok()) return reader.status();
  }
  return ReadMachineEvents(machine_paths);
}

uint32_t Google2011Reader::Intern(std::string_view text, std::vector<std::string>* names,
                                  StringMap<uint32_t>* index) {
  auto it = index->find(text);
  if (it != index->end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(names->size());
  names->emplace_back(text);
  index->emplace(std::string(text), id);
  return id;
}

absl::Status Google2011Reader::ReadJobEvents(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> opened = LineReader::Open(path);
  if (!opened.ok()) return opened.status();
  LineReader& reader = **opened;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    ++stats_.lines;
    SplitCsv(line, &fields_);
    int64_t time = 0, job = 0, type = 0;
    absl::Status status;
    if (fields_.size() != kJobColumns) {
      status = diagnostics_.Reject(
          reader.Where(), "column count",
          absl::StrCat("expected ", kJobColumns, " job_events columns, found ", fields_.size()));
    } else if (!ParseTime(fields_[0], &time)) {
      status = diagnostics_.Reject(reader.Where(), "bad time",
                                   absl::StrCat("bad time '", Av(fields_[0]), "'"));
    } else if (!ParseInt(fields_[2], &job) || job < 0) {
      status = diagnostics_.Reject(reader.Where(), "bad job_id",
                                   absl::StrCat("bad job_id '", Av(fields_[2]), "'"));
    } else if (!ParseInt(fields_[3], &type) || type < kSubmit || type > kUpdateRunning) {
      status = diagnostics_.Reject(reader.Where(), "bad event_type",
                                   absl::StrCat("bad event_type '", Av(fields_[3]), "'"));
    } else if (!fields_[7].empty()) {
      job_apps_[job] = Intern(fields_[7], &apps_, &app_index_);
    }
    if (!status.ok()) return status;
  }
}

absl::Status Google2011Reader::ReadMachineEvents(const std::vector<std::string>& paths) {
  std::vector<MachineRow> rows;
  for (size_t file = 0; file < paths.size(); ++file) {
    absl::StatusOr<std::unique_ptr<LineReader>> opened = LineReader::Open(paths[file]);
    if (!opened.ok()) return opened.status();
    LineReader& reader = **opened;
    std::string_view line;
    while (true) {
      absl::StatusOr<bool> more = reader.Next(&line);
      if (!more.ok()) return more.status();
      if (!*more) break;
      ++stats_.lines;
      SplitCsv(line, &fields_);
      MachineRow row{0, 0, 0, {}, 0, 0, file, reader.line_number()};
      absl::Status status;
      if (fields_.size() != kMachineColumns) {
        status =
            diagnostics_.Reject(reader.Where(), "column count",
                                absl::StrCat("expected ", kMachineColumns,
                                             " machine_events columns, found ", fields_.size()));
      } else if (!ParseTime(fields_[0], &row.micros)) {
        status = diagnostics_.Reject(reader.Where(), "bad time",
                                     absl::StrCat("bad time '", Av(fields_[0]), "'"));
      } else if (!ParseInt(fields_[1], &row.machine) || row.machine < 0) {
        status = diagnostics_.Reject(reader.Where(), "bad machine_id",
                                     absl::StrCat("bad machine_id '", Av(fields_[1]), "'"));
      } else if (!ParseInt(fields_[2], &row.type) || row.type < 0 || row.type > 2) {
        status = diagnostics_.Reject(reader.Where(), "bad event_type",
                                     absl::StrCat("bad machine event_type '", Av(fields_[2]),
                                                  "' (0 add, 1 remove, 2 update)"));
      } else if (row.type != 1 && (fields_[4].empty() || fields_[5].empty())) {
        status = diagnostics_.Reject(reader.Where(), "empty capacity",
                                     absl::StrCat("machine ", row.machine, " has no ",
                                                  fields_[4].empty() ? "cpus" : "memory"));
      } else if (row.type != 1 && (!ParseDouble(fields_[4], &row.cpus) || row.cpus < 0 ||
                                   !ParseDouble(fields_[5], &row.mem) || row.mem < 0)) {
        status = diagnostics_.Reject(
            reader.Where(), "bad capacity",
            absl::StrCat("bad capacity cpus '", Av(fields_[4]), "' memory '", Av(fields_[5]), "'"));
      } else if (row.micros == kAfterWindow) {
        machine_after_window_.Add();
        continue;
      } else {
        if (row.micros < 0) {
          row.micros = 0;
          negative_time_.Add();
        }
        row.platform = std::string(fields_[3]);
        rows.push_back(std::move(row));
        continue;
      }
      if (!status.ok()) return status;
    }
  }
  return ApplyMachineRows(std::move(rows), paths);
}

absl::Status Google2011Reader::ApplyMachineRows(std::vector<MachineRow> rows,
                                                const std::vector<std::string>& paths) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const MachineRow& a, const MachineRow& b) { return a.micros < b.micros; });
  absl::flat_hash_map<int64_t, ResourceVector> present;
  for (const MachineRow& row : rows) {
    const std::string where = absl::StrCat(paths[row.file], ":", row.line);
    const double time = static_cast<double>(row.micros) / kMicros;
    ResourceVector capacity;
    capacity.cpus = row.cpus * reference_.cpus;
    capacity.mem = row.mem * reference_.mem;
    capacity.disk = reference_.disk;  // the trace gives no machine disk
    auto it = present.find(row.machine);
    const bool is_present = it != present.end();
    const char* problem = row.type == 0 && is_present    ? "add of a present machine"
                          : row.type == 1 && !is_present ? "remove of an absent machine"
                          : row.type == 2 && !is_present ? "update of an absent machine"
                                                         : nullptr;
    if (problem != nullptr) {
      absl::Status status =
          diagnostics_.Reject(where, problem, absl::StrCat(problem, " ", row.machine));
      if (!status.ok()) return status;
      continue;
    }
    if (row.type == 2 && it->second == capacity) {
      machine_unchanged_.Add();
      continue;
    }
    MachineEvent event;
    event.time = time;
    event.name = absl::StrCat(row.machine);
    if (row.type != 0) {  // remove, or the first half of a capacity change
      event.type = MachineEvent::Type::kRemove;
      machines_.push_back(event);
      present.erase(row.machine);
    }
    if (row.type != 1) {
      event.type = MachineEvent::Type::kAdd;
      event.capacity = capacity;
      if (!row.platform.empty()) event.attributes.emplace_back("platform_id", row.platform);
      machines_.push_back(std::move(event));
      present[row.machine] = capacity;
    }
  }
  // Sorted by (time, name); a change's remove stays before its add.
  std::stable_sort(machines_.begin(), machines_.end(),
                   [](const MachineEvent& a, const MachineEvent& b) {
                     return std::tie(a.time, a.name) < std::tie(b.time, b.name);
                   });
  stats_.machine_events = static_cast<int64_t>(machines_.size());
  return absl::OkStatus();
}

absl::StatusOr<bool> Google2011Reader::Reject(std::string_view reason, const std::string& message) {
  absl::Status status = diagnostics_.Reject(tasks_->Where(), reason, message);
  if (!status.ok()) return status;
  return false;
}

absl::StatusOr<bool> Google2011Reader::ReadRequest(OpenTask* open) {
  double request[3];
  for (size_t i = 0; i < 3; ++i) {
    const std::string_view text = fields_[kCpuRequest + i];
    if (text.empty()) {
      return Reject("missing request", "empty cpu, memory or disk request");
    }
    if (!ParseDouble(text, &request[i]) || request[i] < 0) {
      return Reject("bad request", absl::StrCat("bad request '", Av(text), "'"));
    }
  }
  int64_t scheduling_class = 0;
  if (!ParseInt(fields_[kSchedulingClass], &scheduling_class) || scheduling_class < 0 ||
      scheduling_class > 3) {
    return Reject("bad scheduling_class",
                  absl::StrCat("bad scheduling_class '", Av(fields_[kSchedulingClass]), "'"));
  }
  if (!ParseInt(fields_[kPriority], &open->priority)) {
    return Reject("bad priority", absl::StrCat("bad priority '", Av(fields_[kPriority]), "'"));
  }
  open->demand.cpus = request[0] * reference_.cpus;
  open->demand.mem = request[1] * reference_.mem;
  open->demand.disk = request[2] * reference_.disk;
  open->scheduling_class = static_cast<int32_t>(scheduling_class);
  open->user = Intern(fields_[kUser], &users_, &user_index_);
  return true;
}

void Google2011Reader::Emit(const TaskKey& key, const OpenTask& open, double duration,
                            TaskRecord* task) {
  *task = TaskRecord();
  task->submit_time = static_cast<double>(open.submit_micros) / kMicros;
  task->duration = duration;
  task->demand = open.demand;
  task->user = users_[open.user];
  task->job = absl::StrCat(key.job);
  auto app = job_apps_.find(key.job);
  if (app != job_apps_.end()) task->app = apps_[app->second];
  task->qos = absl::StrCat(open.scheduling_class);
  task->priority = open.priority;
  task->trace_id = absl::StrCat(key.job, "/", key.index, "@", open.submit_micros);
  ++stats_.tasks;
}

absl::StatusOr<bool> Google2011Reader::HandleTaskEvent(std::string_view line, TaskRecord* task) {
  ++stats_.lines;
  SplitCsv(line, &fields_);
  if (fields_.size() != kTaskColumns) {
    return Reject("column count", absl::StrCat("expected ", kTaskColumns,
                                               " task_events columns, found ", fields_.size()));
  }
  int64_t micros = 0;
  TaskKey key{0, 0};
  int64_t type = 0;
  if (!ParseTime(fields_[kTime], &micros)) {
    return Reject("bad time", absl::StrCat("bad time '", Av(fields_[kTime]), "'"));
  }
  if (!ParseInt(fields_[kJobId], &key.job) || key.job < 0) {
    return Reject("bad job_id", absl::StrCat("bad job_id '", Av(fields_[kJobId]), "'"));
  }
  if (!ParseInt(fields_[kTaskIndex], &key.index) || key.index < 0) {
    return Reject("bad task_index", absl::StrCat("bad task_index '", Av(fields_[kTaskIndex]), "'"));
  }
  if (!ParseInt(fields_[kEventType], &type) || type < kSubmit || type > kUpdateRunning) {
    return Reject("bad event_type", absl::StrCat("bad event_type '", Av(fields_[kEventType]), "'"));
  }
  if (micros < 0) {
    micros = 0;
    negative_time_.Add();
  }
  const bool after_window = micros == kAfterWindow;
  const double time = static_cast<double>(micros) / kMicros;
  auto it = open_.find(key);

  switch (type) {
    case kSubmit:
    case kSchedule: {
      if (it != open_.end()) {
        if (type == kSubmit) {
          return Reject("submit of an open task", absl::StrCat("task ", key.job, "/", key.index,
                                                               " submitted again before "
                                                               "it ended"));
        }
        if (it->second.start >= 0) {
          return Reject("schedule of a running task",
                        absl::StrCat("task ", key.job, "/", key.index, " scheduled twice"));
        }
        if (!after_window) it->second.start = time;
        return false;
      }
      if (after_window) {
        submitted_after_window_.Add();
        return false;
      }
      OpenTask open;
      absl::StatusOr<bool> read = ReadRequest(&open);
      if (!read.ok() || !*read) return read;
      open.submit_micros = micros;
      open.sequence = sequence_++;
      if (type == kSchedule) {
        open.start = time;
        schedule_without_submit_.Add();
      }
      open_.emplace(key, open);
      return false;
    }
    case kUpdatePending:
    case kUpdateRunning: {
      if (it == open_.end()) {
        return Reject("update of an unknown task", absl::StrCat("update of task ", key.job, "/",
                                                                key.index, " which is not open"));
      }
      if (type == kUpdateRunning || it->second.start >= 0) {
        update_running_.Add();
        return false;
      }
      OpenTask updated = it->second;
      absl::StatusOr<bool> read = ReadRequest(&updated);
      if (!read.ok() || !*read) return read;
      it->second = updated;
      return false;
    }
    default: {  // EVICT, FAIL, FINISH, KILL, LOST: the run ends
      if (it == open_.end()) {
        return Reject("end of an unknown task",
                      absl::StrCat("end of task ", key.job, "/", key.index, " which is not open"));
      }
      const OpenTask open = it->second;
      open_.erase(it);
      const bool ran = open.start >= 0;
      const double start = ran ? open.start : static_cast<double>(open.submit_micros) / kMicros;
      double duration = 0;
      if (after_window) {
        ended_after_window_.Add();
      } else {
        if (time < start) {
          return Reject(
              ran ? "end before schedule" : "end before submit",
              absl::StrCat("task ", key.job, "/", key.index, " ends at ", time, " s, before its ",
                           ran ? "schedule" : "submit", " at ", start, " s"));
        }
        duration = time - start;
        if (duration == 0) {
          duration = 1 / kMicros;
          zero_run_.Add();
        }
      }
      if (!ran) never_scheduled_.Add();
      Emit(key, open, duration, task);
      return true;
    }
  }
}

absl::StatusOr<bool> Google2011Reader::Next(TaskRecord* task) {
  if (options_.limit > 0 && stats_.tasks >= options_.limit) return false;
  while (!files_done_) {
    if (tasks_ == nullptr) {
      if (next_task_path_ == task_paths_.size()) {
        files_done_ = true;
        break;
      }
      absl::StatusOr<std::unique_ptr<LineReader>> reader =
          LineReader::Open(task_paths_[next_task_path_++]);
      if (!reader.ok()) return reader.status();
      tasks_ = std::move(*reader);
    }
    std::string_view line;
    absl::StatusOr<bool> more = tasks_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) {
      tasks_.reset();
      continue;
    }
    absl::StatusOr<bool> emitted = HandleTaskEvent(line, task);
    if (!emitted.ok() || *emitted) return emitted;
  }
  // The files are done: tasks still open run (or wait) until the simulation ends.
  if (next_leftover_ == 0 && leftovers_.empty() && !open_.empty()) {
    leftovers_.assign(open_.begin(), open_.end());
    open_.clear();
    std::sort(leftovers_.begin(), leftovers_.end(),
              [](const auto& a, const auto& b) { return a.second.sequence < b.second.sequence; });
  }
  if (next_leftover_ == leftovers_.size()) return false;
  const auto& [key, open] = leftovers_[next_leftover_++];
  Emit(key, open, 0, task);
  return true;
}

}  // namespace

ReaderOr OpenGoogle2011(const Paths& paths, const ReadOptions& options) {
  auto reader = std::make_unique<Google2011Reader>(options);
  absl::Status status = reader->Open(paths);
  if (!status.ok()) return status;
  return std::unique_ptr<TraceReader>(std::move(reader));
}

}  // namespace steward::traces::internal
