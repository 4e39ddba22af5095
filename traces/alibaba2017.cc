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

// By name first; a renamed file by its first line: the task table's header (a non-numeric
// first field naming the job) or 8 columns with a status word, the event table by 7 columns
// with an event type in the third.
absl::StatusOr<BatchFile> Recognise(const std::string& path) {
  const std::string_view name = BaseName(path);
  if (name.find("batch_task") != std::string_view::npos) return BatchFile::kTasks;
  if (name.find("server_event") != std::string_view::npos) return BatchFile::kMachines;
  absl::StatusOr<std::string> first = FirstLine(path);
  if (!first.ok()) return first.status();
  std::vector<std::string_view> fields;
  SplitCsv(*first, &fields);
  if (fields.size() == kTaskColumns) {
    if (!IsInteger(fields[0]) && first->find("job") != std::string::npos) return BatchFile::kTasks;
    if (IsInteger(fields[0]) && ClassifyBatchStatus(fields[5]) != BatchStatus::kUnknown) {
      return BatchFile::kTasks;
    }
  }
  if (fields.size() == kEventColumns &&
      (fields[2] == "add" || fields[2] == "softerror" || fields[2] == "harderror")) {
    return BatchFile::kMachines;
  }
  return BatchFile::kNone;
}

struct RawEvent {
  int64_t time = 0;
  bool add = false;  // add, else harderror
  std::string machine;
  ResourceVector capacity;
};

class Alibaba2017Reader : public BatchTaskReader {
 public:
  Alibaba2017Reader(const ReadOptions& options, std::unique_ptr<LineReader> tasks)
      : BatchTaskReader(options, std::move(tasks),
                        {.task_columns = kTaskColumns,
                         .mem_full_scale = 1,
                         .default_mem_mb = kDefaultMemMb,
                         .default_disk_mb = kDefaultDiskMb,
                         .start_name = "create"}) {}

  // server_event.csv.
  absl::Status ReadMachines(const std::string& path) override;

 private:
  // The added header line of the task file.
  bool IsTaskHeader(std::string_view line) const override {
    return !IsInteger(Trim(line.substr(0, line.find(','))));
  }
  absl::Status ParseTask(const std::vector<std::string_view>& fields) override;
  // Parses one server_event row into `events`, or rejects it.
  absl::Status ParseEvent(const LineReader& file, std::string_view line,
                          std::vector<RawEvent>* events);

  std::vector<std::string_view> fields_;
};

absl::Status Alibaba2017Reader::ReadMachines(const std::string& path) {
  std::vector<RawEvent> events;
  absl::Status status = ForEachLine(path, [&](const LineReader& file, std::string_view line) {
    return ParseEvent(file, line, &events);
  });
  if (!status.ok()) return status;

  // The file is not in time order; replay it in time order (file order among equal times) to
  // know which machines are present when a harderror arrives.
  std::stable_sort(events.begin(), events.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.time < b.time; });
  absl::flat_hash_set<std::string> present;
  std::vector<MachineEvent> machines;
  for (RawEvent& event : events) {
    const bool is_present = present.contains(event.machine);
    if (!event.add) {
      if (!is_present) {
        ++mutable_stats().skipped["ignored: harderror on absent machine"];
        continue;
      }
      present.erase(event.machine);
      machines.push_back(
          {static_cast<double>(event.time), MachineEvent::Type::kRemove, event.machine, {}, {}});
      continue;
    }
    if (is_present) {
      // A second add while present changes the capacity: out with the old, in with the new.
      machines.push_back(
          {static_cast<double>(event.time), MachineEvent::Type::kRemove, event.machine, {}, {}});
    }
    present.insert(event.machine);
    machines.push_back({static_cast<double>(event.time),
                        MachineEvent::Type::kAdd,
                        std::move(event.machine),
                        event.capacity,
                        {}});
  }
  SetMachines(std::move(machines));
  return absl::OkStatus();
}

absl::Status Alibaba2017Reader::ParseEvent(const LineReader& file, std::string_view line,
                                           std::vector<RawEvent>* events) {
  SplitCsv(line, &fields_);
  if (file.line_number() == 1 && !fields_.empty() && !IsInteger(fields_[0])) {
    return absl::OkStatus();  // header
  }
  ReadStats& stats = mutable_stats();
  ++stats.lines;
  auto reject = [&](std::string_view reason, std::string_view message) {
    return diagnostics().Reject(file.Where(), reason, message);
  };
  if (fields_.size() != kEventColumns) {
    return reject("wrong column count",
                  absl::StrCat("expected 7 server_event columns, found ", fields_.size()));
  }
  RawEvent event;
  if (!ParseInt(fields_[0], &event.time)) {
    return reject("bad timestamp",
                  absl::StrCat("timestamp '", Av(fields_[0]), "' is not an integer"));
  }
  if (fields_[1].empty()) return reject("missing machine_id", "empty machine_id");
  const std::string_view type = fields_[2];
  if (type == "softerror") {
    // The machine stays in the cluster: the publishers say running work goes on, and the
    // model has no "no new placements" state.
    ++stats.skipped["ignored: softerror"];
    return absl::OkStatus();
  }
  if (type != "add" && type != "harderror") {
    return reject("unknown event type", absl::StrCat("unknown event type '", Av(type), "'"));
  }
  event.add = type == "add";
  event.machine = std::string(fields_[1]);
  if (event.add) {
    double cpu = 0, mem = 0, disk = 0;
    if (!ParseDouble(fields_[4], &cpu) || !ParseDouble(fields_[5], &mem) ||
        !ParseDouble(fields_[6], &disk) || cpu <= 0 || mem < 0 || disk < 0) {
      return reject("bad capacity",
                    absl::StrCat("add needs cpu > 0 and mem, disk >= 0; found '", Av(fields_[4]),
                                 "', '", Av(fields_[5]), "', '", Av(fields_[6]), "'"));
    }
    event.capacity = {cpu, ScaleMem(mem), disk * machine().disk, 0};
  }
  if (event.time < 0) {
    ++stats.skipped[std::string(kAdjustedNegativeTime)];
    event.time = 0;
  }
  events->push_back(std::move(event));
  return absl::OkStatus();
}

absl::Status Alibaba2017Reader::ParseTask(const std::vector<std::string_view>& fields) {
  BatchTaskRow row{.job = fields[2],
                   .task = fields[3],
                   .instance_num = fields[4],
                   .status = fields[5],
                   .plan_cpu = fields[6],
                   .plan_mem = fields[7]};
  if (!ParseInt(fields[0], &row.start) || !ParseInt(fields[1], &row.end)) {
    return RejectTask("bad timestamp", absl::StrCat("timestamps '", Av(fields[0]), "', '",
                                                    Av(fields[1]), "' are not integers"));
  }
  if (row.job.empty() || row.task.empty()) {
    return RejectTask("missing id", "empty job_id or task_id");
  }
  absl::Status result;
  if (!CheckInstancesAndStatus(&row, &result)) return result;
  return ExpandTask(row);
}

}  // namespace

ReaderOr OpenAlibaba2017(const Paths& paths, const ReadOptions& options) {
  static constexpr BatchFormat kFormat = {
      .name = "alibaba2017",
      .machine_table = "server_event",
      .expected =
          "batch_task.csv (8 columns) or server_event.csv (7 columns, "
          "add/softerror/harderror)",
      .recognise = Recognise};
  return OpenBatchTrace<Alibaba2017Reader>(kFormat, paths, options);
}

}  // namespace steward::traces::internal
