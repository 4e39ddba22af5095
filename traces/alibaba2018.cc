// Alibaba cluster-trace-v2018: machine_meta.csv (machines over time) and batch_task.csv
// (tasks), both without a header.
//
// machine_meta: machine_id, time_stamp, failure_domain_1, failure_domain_2, cpu_num,
// mem_size (normalised 0-100), status. batch_task: task_name, instance_num, job_name,
// task_type, status, start_time, end_time, plan_cpu (100 = 1 core), plan_mem (normalised
// 0-100); a row of N instances becomes N tasks. batch_instance.csv is recognised and refused:
// see RefuseInstances. Mapping and quirks: docs/traces.md.
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

// Per-instance times would need every task's request at hand (the two files are not ordered
// alike), which breaks streaming; batch_task.csv has what the model needs.
absl::Status RefuseInstances(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(path,
                   ": batch_instance.csv is not read by the alibaba2018 reader (tasks come from "
                   "batch_task.csv); leave it out of the paths"));
}

// batch_instance.csv is recognised, and refused.
absl::StatusOr<BatchFile> Recognise(const std::string& path) {
  const std::string_view name = BaseName(path);
  if (name.find("machine_meta") != std::string_view::npos) return BatchFile::kMachines;
  if (name.find("batch_task") != std::string_view::npos) return BatchFile::kTasks;
  if (name.find("batch_instance") != std::string_view::npos) return RefuseInstances(path);
  absl::StatusOr<std::string> first = FirstLine(path);
  if (!first.ok()) return first.status();
  std::vector<std::string_view> fields;
  SplitCsv(*first, &fields);
  int64_t number = 0;
  double real = 0;
  if (fields.size() == kMetaColumns && ParseInt(fields[1], &number) &&
      !ParseDouble(fields[6], &real) && !fields[6].empty()) {
    return BatchFile::kMachines;
  }
  if (fields.size() == kTaskColumns && ParseInt(fields[1], &number) &&
      ClassifyBatchStatus(fields[4]) != BatchStatus::kUnknown) {
    return BatchFile::kTasks;
  }
  if (fields.size() == kInstanceColumns &&
      ClassifyBatchStatus(fields[4]) != BatchStatus::kUnknown) {
    return RefuseInstances(path);
  }
  return BatchFile::kNone;
}

struct MetaRecord {
  std::string machine;
  int64_t time = 0;
  std::string domain1;
  std::string domain2;
  ResourceVector capacity;
  bool serving = false;
};

class Alibaba2018Reader : public BatchTaskReader {
 public:
  Alibaba2018Reader(const ReadOptions& options, std::unique_ptr<LineReader> tasks)
      : BatchTaskReader(options, std::move(tasks),
                        {.task_columns = kTaskColumns,
                         .mem_full_scale = 100,
                         .default_mem_mb = kDefaultMemMb,
                         .default_disk_mb = 0,
                         .start_name = "start"}) {}

  // machine_meta.csv.
  absl::Status ReadMachines(const std::string& path) override;

 private:
  absl::Status ParseTask(const std::vector<std::string_view>& fields) override;
  // Parses one machine_meta row into `records`, or rejects it.
  absl::Status ParseMeta(const LineReader& file, std::string_view line,
                         std::vector<MetaRecord>* records);
  // Turns one machine's records (in time order) into add and remove events.
  void MachineHistory(std::vector<MetaRecord>::iterator begin,
                      std::vector<MetaRecord>::iterator end, std::vector<MachineEvent>* machines);

  std::vector<std::string_view> fields_;
};

absl::Status Alibaba2018Reader::ReadMachines(const std::string& path) {
  std::vector<MetaRecord> records;
  absl::Status status = ForEachLine(path, [&](const LineReader& file, std::string_view line) {
    return ParseMeta(file, line, &records);
  });
  if (!status.ok()) return status;
  // Each machine's records in time order (file order among equal times).
  std::stable_sort(records.begin(), records.end(), [](const MetaRecord& a, const MetaRecord& b) {
    return a.machine != b.machine ? a.machine < b.machine : a.time < b.time;
  });
  std::vector<MachineEvent> machines;
  for (auto begin = records.begin(); begin != records.end();) {
    auto end = std::find_if(begin, records.end(),
                            [&](const MetaRecord& r) { return r.machine != begin->machine; });
    MachineHistory(begin, end, &machines);
    begin = end;
  }
  SetMachines(std::move(machines));
  return absl::OkStatus();
}

absl::Status Alibaba2018Reader::ParseMeta(const LineReader& file, std::string_view line,
                                          std::vector<MetaRecord>* records) {
  ++mutable_stats().lines;
  SplitCsv(line, &fields_);
  auto reject = [&](std::string_view reason, std::string_view message) {
    return diagnostics().Reject(file.Where(), reason, message);
  };
  MetaRecord record;
  double cpus = 0, mem = 0;
  if (fields_.size() != kMetaColumns) {
    return reject("wrong column count",
                  absl::StrCat("expected 7 machine_meta columns, found ", fields_.size()));
  }
  if (fields_[0].empty()) return reject("missing machine_id", "empty machine_id");
  if (!ParseInt(fields_[1], &record.time)) {
    return reject("bad timestamp",
                  absl::StrCat("time_stamp '", Av(fields_[1]), "' is not an integer"));
  }
  if (!ParseDouble(fields_[4], &cpus) || !ParseDouble(fields_[5], &mem) || cpus <= 0 || mem < 0) {
    return reject("bad capacity", absl::StrCat("need cpu_num > 0 and mem_size >= 0, found '",
                                               Av(fields_[4]), "', '", Av(fields_[5]), "'"));
  }
  if (fields_[6].empty()) return reject("missing status", "empty status");
  record.machine.assign(fields_[0]);
  record.domain1.assign(fields_[2]);
  record.domain2.assign(fields_[3]);
  record.capacity = {cpus, ScaleMem(mem), 0, 0};
  record.serving = fields_[6] == kServing;
  if (record.time < 0) {
    ++mutable_stats().skipped[std::string(kAdjustedNegativeTime)];
    record.time = 0;
  }
  records->push_back(std::move(record));
  return absl::OkStatus();
}

void Alibaba2018Reader::MachineHistory(std::vector<MetaRecord>::iterator begin,
                                       std::vector<MetaRecord>::iterator end,
                                       std::vector<MachineEvent>* machines) {
  const MetaRecord* added = nullptr;  // the record that added the machine, while present
  bool ever_served = false;
  auto remove = [&](const MetaRecord& record) {
    machines->push_back(
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
          ++mutable_stats().skipped["ignored: failure domain change"];
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
    machines->push_back(std::move(event));
    added = &record;
  }
  if (!ever_served) ++mutable_stats().skipped["ignored: machine never serving"];
}

absl::Status Alibaba2018Reader::ParseTask(const std::vector<std::string_view>& fields) {
  BatchTaskRow row{.job = fields[2],
                   .task = fields[0],
                   .group = fields[3],
                   .instance_num = fields[1],
                   .status = fields[4],
                   .plan_cpu = fields[7],
                   .plan_mem = fields[8]};
  if (row.task.empty() || row.job.empty()) {
    return RejectTask("missing name", "empty task_name or job_name");
  }
  absl::Status result;
  if (!CheckInstancesAndStatus(&row, &result)) return result;
  if (!ParseInt(fields[5], &row.start) || !ParseInt(fields[6], &row.end)) {
    return RejectTask("bad timestamp", absl::StrCat("start_time '", Av(fields[5]), "', end_time '",
                                                    Av(fields[6]), "' are not integers"));
  }
  return ExpandTask(row);
}

}  // namespace

ReaderOr OpenAlibaba2018(const Paths& paths, const ReadOptions& options) {
  static constexpr BatchFormat kFormat = {
      .name = "alibaba2018",
      .machine_table = "machine_meta",
      .expected = "machine_meta.csv (7 columns) or batch_task.csv (9 columns)",
      .recognise = Recognise};
  return OpenBatchTrace<Alibaba2018Reader>(kFormat, paths, options);
}

}  // namespace steward::traces::internal
