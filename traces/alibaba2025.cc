// Alibaba cluster-trace-gpu-v2025: disaggregated_DLRM_trace.csv, GPU-disaggregated serving of
// deep learning recommendation models (NSDI'25). One file with a header, one row per inference
// instance:
//   instance_sn, role (CN | HN), app_name, cpu_request, cpu_limit, gpu_request, gpu_limit,
//   rdma_request, rdma_limit, memory_request, memory_limit (GiB), disk_request, disk_limit
//   (GiB), max_instance_per_node, creation_time, scheduled_time, deletion_time
// Times are seconds from the trace start, empty (or NaN) when outside the trace. The trace has
// no machine list. Mapping and quirks: docs/traces.md.
#include <algorithm>
#include <array>
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

constexpr double kMbPerGib = 1024;  // 1 MiB counted as 1 MB

// The published column order, used for a file without a header.
constexpr std::array<std::string_view, 17> kPublished = {"instance_sn",   "role",
                                                         "app_name",      "cpu_request",
                                                         "cpu_limit",     "gpu_request",
                                                         "gpu_limit",     "rdma_request",
                                                         "rdma_limit",    "memory_request",
                                                         "memory_limit",  "disk_request",
                                                         "disk_limit",    "max_instance_per_node",
                                                         "creation_time", "scheduled_time",
                                                         "deletion_time"};

// The columns the reader uses, located by the header's names.
enum Column { kSn, kRole, kApp, kCpu, kGpu, kMem, kDisk, kCreation, kScheduled, kDeletion, kUsed };
constexpr std::array<std::string_view, kUsed> kUsedNames = {
    "instance_sn",    "role",         "app_name",      "cpu_request",    "gpu_request",
    "memory_request", "disk_request", "creation_time", "scheduled_time", "deletion_time"};

// Empty and NaN both mean "outside the trace" (the README says NaN, the file has empty).
bool Missing(std::string_view field) {
  return field.empty() || field == "NaN" || field == "nan" || field == "NAN";
}

class Alibaba2025Reader : public TraceReader {
 public:
  Alibaba2025Reader(const ReadOptions& options, std::unique_ptr<LineReader> file)
      : options_(options), diagnostics_(options.strict, &stats_), file_(std::move(file)) {}

  // Reads the header (or, without one, takes the published order). InvalidArgument naming the
  // file when the file is not this format or lacks a column the reader needs.
  absl::Status Start();

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;

 private:
  absl::Status Parse(std::string_view line, TaskRecord* task, bool* kept);
  // A time column: false when malformed; *present false for empty or NaN.
  bool Time(Column column, double* value, bool* present);

  ReadOptions options_;
  ReadStats stats_;
  Diagnostics diagnostics_;
  std::unique_ptr<LineReader> file_;
  std::vector<MachineEvent> machines_;  // the trace has none
  std::vector<std::string_view> fields_;
  std::array<size_t, kUsed> index_{};
  size_t columns_ = 0;
  std::string pending_;  // a first line that was data, not a header
  bool has_pending_ = false;
  bool done_ = false;
};

absl::Status Alibaba2025Reader::Start() {
  std::string_view line;
  absl::StatusOr<bool> more = file_->Next(&line);
  if (!more.ok()) return more.status();
  const std::string& path = file_->path();
  if (!*more) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty, not an alibaba2025 file"));
  }
  SplitCsv(line, &fields_);
  if (std::find(fields_.begin(), fields_.end(), "instance_sn") != fields_.end()) {
    columns_ = fields_.size();
    for (size_t used = 0; used < kUsed; ++used) {
      size_t found = columns_;
      for (size_t i = 0; i < columns_; ++i) {
        if (fields_[i] == kUsedNames[used]) found = i;
      }
      if (found == columns_) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":1: header lacks column '", Av(kUsedNames[used]), "'"));
      }
      index_[used] = found;
    }
    return absl::OkStatus();
  }
  double number = 0;
  if (fields_.size() != kPublished.size() || !ParseDouble(fields_[3], &number)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not an alibaba2025 file: expected the disaggregated_DLRM_trace.csv header or ",
        kPublished.size(), " columns"));
  }
  columns_ = kPublished.size();
  for (size_t used = 0; used < kUsed; ++used) {
    for (size_t i = 0; i < kPublished.size(); ++i) {
      if (kPublished[i] == kUsedNames[used]) index_[used] = i;
    }
  }
  pending_.assign(line);
  has_pending_ = true;
  return absl::OkStatus();
}

bool Alibaba2025Reader::Time(Column column, double* value, bool* present) {
  const std::string_view field = fields_[index_[column]];
  *present = !Missing(field);
  if (!*present) return true;
  if (!ParseDouble(field, value)) return false;
  if (*value < 0) {
    ++stats_.skipped[std::string(kAdjustedNegativeTime)];
    *value = 0;
  }
  return true;
}

absl::Status Alibaba2025Reader::Parse(std::string_view line, TaskRecord* task, bool* kept) {
  *kept = false;
  SplitCsv(line, &fields_);
  auto reject = [&](std::string_view reason, std::string_view message) {
    return diagnostics_.Reject(file_->Where(), reason, message);
  };
  if (fields_.size() != columns_) {
    return reject("wrong column count",
                  absl::StrCat("expected ", columns_, " columns, found ", fields_.size()));
  }
  if (fields_[index_[kSn]].empty()) return reject("missing instance_sn", "empty instance_sn");
  ResourceVector demand;
  const std::array<std::pair<Column, double*>, 4> requests = {
      {{kCpu, &demand.cpus}, {kGpu, &demand.gpus}, {kMem, &demand.mem}, {kDisk, &demand.disk}}};
  for (const auto& [column, out] : requests) {
    const std::string_view field = fields_[index_[column]];
    if (!ParseDouble(field, out) || *out < 0) {
      return reject("bad request", absl::StrCat(Av(kUsedNames[column]), " '", Av(field),
                                                "' is not a non-negative number"));
    }
  }
  demand.mem *= kMbPerGib;
  demand.disk *= kMbPerGib;
  double creation = 0, scheduled = 0, deletion = 0;
  bool has_creation = false, has_scheduled = false, has_deletion = false;
  if (!Time(kCreation, &creation, &has_creation) || !Time(kScheduled, &scheduled, &has_scheduled) ||
      !Time(kDeletion, &deletion, &has_deletion)) {
    return reject("bad timestamp",
                  absl::StrCat("times '", Av(fields_[index_[kCreation]]), "', '",
                               Av(fields_[index_[kScheduled]]), "', '",
                               Av(fields_[index_[kDeletion]]), "' are not numbers"));
  }
  // Running from before the trace: submitted at its start.
  if (!has_creation) ++stats_.skipped["adjusted: created before trace start"];
  const double submit = has_creation ? creation : 0;
  const double start = has_scheduled ? scheduled : submit;
  double duration = 0;  // no deletion in the trace: runs until the simulation ends
  if (has_deletion) {
    if (deletion < start || deletion < submit) {
      return reject("deletion before start",
                    absl::StrCat("deletion_time ", deletion, " before creation ", submit,
                                 " or scheduling ", start));
    }
    duration = deletion - start;
    if (duration == 0) {
      duration = 1;
      ++stats_.skipped[std::string(kAdjustedZeroDuration)];
    }
  }
  task->submit_time = submit;
  task->duration = duration;
  task->demand = demand;
  task->user.clear();
  task->job.clear();
  task->app.assign(fields_[index_[kApp]]);
  task->qos.clear();
  task->queue.clear();
  task->group.assign(fields_[index_[kRole]]);
  task->priority = 0;
  task->trace_id.assign(fields_[index_[kSn]]);
  *kept = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> Alibaba2025Reader::Next(TaskRecord* task) {
  while (!done_) {
    if (options_.limit > 0 && stats_.tasks >= options_.limit) break;
    std::string_view line;
    if (has_pending_) {
      line = pending_;
      has_pending_ = false;
    } else {
      absl::StatusOr<bool> more = file_->Next(&line);
      if (!more.ok()) return more.status();
      if (!*more) break;
    }
    if (Trim(line).empty()) continue;
    ++stats_.lines;
    bool kept = false;
    absl::Status status = Parse(line, task, &kept);
    if (!status.ok()) return status;
    if (kept) {
      ++stats_.tasks;
      return true;
    }
  }
  done_ = true;
  return false;
}

}  // namespace

ReaderOr OpenAlibaba2025(const Paths& paths, const ReadOptions& options) {
  if (paths.empty()) {
    return absl::InvalidArgumentError(
        "alibaba2025: no paths (expected disaggregated_DLRM_trace.csv)");
  }
  if (paths.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(paths[1], ": alibaba2025 is one file (disaggregated_DLRM_trace.csv); ",
                     paths.size(), " paths given"));
  }
  absl::StatusOr<std::unique_ptr<LineReader>> file = LineReader::Open(paths[0]);
  if (!file.ok()) return file.status();
  auto reader = std::make_unique<Alibaba2025Reader>(options, std::move(*file));
  absl::Status status = reader->Start();
  if (!status.ok()) return status;
  return reader;
}

}  // namespace steward::traces::internal
