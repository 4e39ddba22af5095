// Alibaba cluster-trace-v2018: machine_meta.csv (machines over time) and batch_task.csv
// (tasks), both without a header.
//
// machine_meta: machine_id, time_stamp, failure_domain_1, failure_domain_2, cpu_num,
// mem_size (normalised 0-100), status. batch_task: task_name, instance_num, job_name,
// task_type, status, start_time, end_time, plan_cpu (100 = 1 core), plan_mem (normalised
// 0-100); a row of N instances becomes N tasks. batch_instance.csv is recognised and refused:
// see OpenAlibaba2018. Mapping and quirks: docs/traces.md.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// Alibaba states 96 cores per machine (cpu_num, not normalised) and publishes memory only
// normalised; 512 GiB is our assumption (1 MiB counted as 1 MB).
constexpr double kDefaultMemMb = 512.0 * 1024;

// The one status in which a machine takes work. The trace also has IMPORT_INSTALLING (a
// machine being set up); any status but USING counts as out of service.
constexpr std::string_view kServing = "USING";

constexpr size_t kMetaColumns = 7;
constexpr size_t kTaskColumns = 9;
constexpr size_t kInstanceColumns = 14;

enum class Role { kMachines, kTasks, kInstances, kNone };

absl::StatusOr<Role> Recognise(const std::string& path) {
  const std::string_view name = BaseName(path);
  if (name.find("machine_meta") != std::string_view::npos) return Role::kMachines;
  if (name.find("batch_task") != std::string_view::npos) return Role::kTasks;
  if (name.find("batch_instance") != std::string_view::npos) return Role::kInstances;
  absl::StatusOr<std::string> first = FirstLine(path);
  if (!first.ok()) return first.status();
  std::vector<std::string_view> fields;
  SplitCsv(*first, &fields);
  int64_t number = 0;
  double real = 0;
  if (fields.size() == kMetaColumns && ParseInt(fields[1], &number) &&
      !ParseDouble(fields[6], &real) && !fields[6].empty()) {
    return Role::kMachines;
  }
  if (fields.size() == kTaskColumns && ParseInt(fields[1], &number) &&
      ClassifyBatchStatus(fields[4]) != BatchStatus::kUnknown) {
    return Role::kTasks;
  }
  if (fields.size() == kInstanceColumns &&
      ClassifyBatchStatus(fields[4]) != BatchStatus::kUnknown) {
    return Role::kInstances;
  }
  return Role::kNone;
}

struct MetaRecord {
  std::string machine;
  int64_t time = 0;
  std::string domain1;
  std::string domain2;
  ResourceVector capacity;
  bool serving = false;
};

class Alibaba2018Reader : public TraceReader {
 public:
  Alibaba2018Reader(const ReadOptions& options, std::unique_ptr<LineReader> tasks)
      : options_(options), diagnostics_(options.strict, &stats_), tasks_(std::move(tasks)) {
    machine_ = options.normalised_machine;
    if (machine_.mem == 0) machine_.mem = kDefaultMemMb;
  }

  absl::Status ReadMachines(const std::string& path);

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;

 private:
  absl::Status ParseTask(std::string_view line);
  // Turns one machine's records (in time order) into add and remove events.
  void MachineHistory(std::vector<MetaRecord>::iterator begin,
                      std::vector<MetaRecord>::iterator end);

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

absl::Status Alibaba2018Reader::ReadMachines(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> opened = LineReader::Open(path);
  if (!opened.ok()) return opened.status();
  LineReader& file = **opened;
  std::vector<MetaRecord> records;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = file.Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (Trim(line).empty()) continue;
    ++stats_.lines;
    SplitCsv(line, &fields_);
    auto reject = [&](std::string_view reason, std::string_view message) {
      return diagnostics_.Reject(file.Where(), reason, message);
    };
    absl::Status status = absl::OkStatus();
    MetaRecord record;
    double cpus = 0, mem = 0;
    if (fields_.size() != kMetaColumns) {
      status = reject("wrong column count",
                      absl::StrCat("expected 7 machine_meta columns, found ", fields_.size()));
    } else if (fields_[0].empty()) {
      status = reject("missing machine_id", "empty machine_id");
    } else if (!ParseInt(fields_[1], &record.time)) {
      status = reject("bad timestamp",
                      absl::StrCat("time_stamp '", Av(fields_[1]), "' is not an integer"));
    } else if (!ParseDouble(fields_[4], &cpus) || !ParseDouble(fields_[5], &mem) || cpus <= 0 ||
               mem < 0) {
      status = reject("bad capacity", absl::StrCat("need cpu_num > 0 and mem_size >= 0, found '",
                                                   Av(fields_[4]), "', '", Av(fields_[5]), "'"));
    } else if (fields_[6].empty()) {
      status = reject("missing status", "empty status");
    } else {
      record.machine.assign(fields_[0]);
      record.domain1.assign(fields_[2]);
      record.domain2.assign(fields_[3]);
      record.capacity = {cpus, mem / 100 * machine_.mem, 0, 0};
      record.serving = fields_[6] == kServing;
      if (record.time < 0) {
        ++stats_.skipped[std::string(kAdjustedNegativeTime)];
        record.time = 0;
      }
      records.push_back(std::move(record));
    }
    if (!status.ok()) return status;
  }
  // Each machine's records in time order (file order among equal times).
  std::stable_sort(records.begin(), records.end(), [](const MetaRecord& a, const MetaRecord& b) {
    return a.machine != b.machine ? a.machine < b.machine : a.time < b.time;
  });
  for (auto begin = records.begin(); begin != records.end();) {
    auto end = std::find_if(begin, records.end(),
                            [&](const MetaRecord& r) { return r.machine != begin->machine; });
    MachineHistory(begin, end);
    begin = end;
  }
  std::stable_sort(machines_.begin(), machines_.end(),
                   [](const MachineEvent& a, const MachineEvent& b) {
                     return a.time != b.time ? a.time < b.time : a.name < b.name;
                   });
  stats_.machine_events = static_cast<int64_t>(machines_.size());
  return absl::OkStatus();
}

void Alibaba2018Reader::MachineHistory(std::vector<MetaRecord>::iterator begin,
                                       std::vector<MetaRecord>::iterator end) {
  const MetaRecord* added = nullptr;  // the record that added the machine, while present
  bool ever_served = false;
  auto remove = [&](const MetaRecord& record) {
    machines_.push_back(
        {static_cast<double>(record.time), MachineEvent::Type::kRemove, record.machine, {}, {}});
    added = nullptr;
  };
  for (auto it = begin; it != end; ++it) {
    const MetaRecord& record = *it;
    if (added != nullptr && !record.serving) {
      remove(record);
      continue;
    }
    if (!record.serving) continue;
    ever_served = true;
    if (added != nullptr) {
      if (record.capacity != added->capacity) {
        remove(record);  // a new capacity: out with the old, in with the new
      } else {
        if (record.domain1 != added->domain1 || record.domain2 != added->domain2) {
          ++stats_.skipped["ignored: failure domain change"];
        }
        continue;
      }
    }
    MachineEvent event{static_cast<double>(record.time),
                       MachineEvent::Type::kAdd,
                       record.machine,
                       record.capacity,
                       {}};
    if (!record.domain1.empty()) event.attributes.emplace_back("failure_domain_1", record.domain1);
    if (!record.domain2.empty()) event.attributes.emplace_back("failure_domain_2", record.domain2);
    machines_.push_back(std::move(event));
    added = &record;
  }
  if (!ever_served) ++stats_.skipped["ignored: machine never serving"];
}

absl::Status Alibaba2018Reader::ParseTask(std::string_view line) {
  SplitCsv(line, &fields_);
  auto reject = [&](std::string_view reason, std::string_view message) {
    return diagnostics_.Reject(tasks_->Where(), reason, message);
  };
  if (fields_.size() != kTaskColumns) {
    return reject("wrong column count",
                  absl::StrCat("expected 9 batch_task columns, found ", fields_.size()));
  }
  if (fields_[0].empty() || fields_[2].empty()) {
    return reject("missing name", "empty task_name or job_name");
  }
  int64_t instances = 0, start = 0, end = 0;
  if (!ParseInt(fields_[1], &instances) || instances < 1) {
    return reject("bad instance_num",
                  absl::StrCat("instance_num '", Av(fields_[1]), "' is not a positive integer"));
  }
  const BatchStatus status = ClassifyBatchStatus(fields_[4]);
  if (status == BatchStatus::kUnknown) {
    return reject("unknown status", absl::StrCat("unknown status '", Av(fields_[4]), "'"));
  }
  if (!ParseInt(fields_[5], &start) || !ParseInt(fields_[6], &end)) {
    return reject("bad timestamp", absl::StrCat("start_time '", Av(fields_[5]), "', end_time '",
                                                Av(fields_[6]), "' are not integers"));
  }
  if (fields_[7].empty() || fields_[8].empty()) {
    return reject("empty plan_cpu or plan_mem",
                  absl::StrCat(Av(fields_[4]), " task without plan_cpu or plan_mem"));
  }
  double plan_cpu = 0, plan_mem = 0;
  if (!ParseDouble(fields_[7], &plan_cpu) || plan_cpu < 0) {
    return reject("bad plan_cpu", absl::StrCat("plan_cpu '", Av(fields_[7]), "'"));
  }
  if (!ParseDouble(fields_[8], &plan_mem) || plan_mem < 0) {
    return reject("bad plan_mem", absl::StrCat("plan_mem '", Av(fields_[8]), "'"));
  }
  const std::string_view skip = BatchTimes(start, end, status == BatchStatus::kEnded, &stats_,
                                           &proto_.submit_time, &proto_.duration);
  if (!skip.empty()) {
    return reject(skip, absl::StrCat(Av(skip), ": start ", start, ", end ", end));
  }
  proto_.demand = {plan_cpu / 100, plan_mem / 100 * machine_.mem, 0, 0};
  proto_.job.assign(fields_[2]);
  proto_.group.assign(fields_[3]);
  expander_.Start(proto_, fields_[2], fields_[0], instances);
  return absl::OkStatus();
}

absl::StatusOr<bool> Alibaba2018Reader::Next(TaskRecord* task) {
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
    ++stats_.lines;
    absl::Status status = ParseTask(line);
    if (!status.ok()) return status;
  }
  done_ = true;
  return false;
}

}  // namespace

ReaderOr OpenAlibaba2018(const Paths& paths, const ReadOptions& options) {
  std::string machines_path, tasks_path;
  for (const std::string& path : paths) {
    absl::StatusOr<Role> role = Recognise(path);
    if (!role.ok()) return role.status();
    if (*role == Role::kInstances) {
      // Per-instance times would need every task's request at hand (the two files are not
      // ordered alike), which breaks streaming; batch_task.csv has what the model needs.
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ": batch_instance.csv is not read by the alibaba2018 reader (tasks come from "
          "batch_task.csv); leave it out of the paths"));
    }
    std::string* slot = *role == Role::kMachines ? &machines_path
                        : *role == Role::kTasks  ? &tasks_path
                                                 : nullptr;
    if (slot == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": not an alibaba2018 file: expected machine_meta.csv (7 columns) or "
                       "batch_task.csv (9 columns)"));
    }
    if (!slot->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": a second alibaba2018 ", *role == Role::kTasks ? "batch_task" : "machine_meta",
          " file (the first is ", *slot, ")"));
    }
    *slot = path;
  }
  if (tasks_path.empty()) {
    return absl::InvalidArgumentError("alibaba2018: no batch_task.csv among the paths");
  }
  absl::StatusOr<std::unique_ptr<LineReader>> tasks = LineReader::Open(tasks_path);
  if (!tasks.ok()) return tasks.status();
  auto reader = std::make_unique<Alibaba2018Reader>(options, std::move(*tasks));
  if (!machines_path.empty()) {
    absl::Status status = reader->ReadMachines(machines_path);
    if (!status.ok()) return status;
  }
  return reader;
}

}  // namespace steward::traces::internal
