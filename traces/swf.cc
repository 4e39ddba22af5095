// Standard Workload Format (Parallel Workloads Archive, v2.2): one job per line, expanded into
// one single-processor task per processor. Mapping and quirks: docs/traces.md, section "swf".
#include "traces/swf.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "traces/internal/diagnostics.h"
#include "traces/internal/fields.h"
#include "traces/internal/line_reader.h"
#include "traces/internal/readers.h"
#include "traces/internal/tally.h"

namespace steward::traces {
namespace {

using allocator::internal::Av;
using internal::Diagnostics;
using internal::LineReader;
using internal::ParseDouble;
using internal::ParseInt;
using internal::Tally;
using internal::Trim;

constexpr double kDefaultMemPerProcMb = 1024;
constexpr size_t kFields = 18;

// SWF fields, 0-based (the standard numbers them from 1).
enum Field : size_t {
  kJob = 0,
  kSubmit = 1,
  kRunTime = 3,
  kAllocatedProcs = 4,
  kUsedMemory = 6,
  kRequestedProcs = 7,
  kRequestedMemory = 9,
  kUser = 11,
  kGroup = 12,
  kExecutable = 13,
  kQueue = 14,
};

bool IsComment(std::string_view line) {
  line = Trim(line);
  return !line.empty() && line.front() == ';';
}

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// "; Key: value" -> {Key, value}; false for continuation lines (indented text after ';').
bool ParseHeaderLine(std::string_view line, std::pair<std::string, std::string>* entry) {
  line = Trim(line);
  line.remove_prefix(1);  // ';'
  size_t indent = 0;
  while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
  if (indent > 2) return false;
  line.remove_prefix(indent);
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!IsKeyChar(line[i])) return false;
  }
  entry->first = std::string(line.substr(0, colon));
  entry->second = std::string(Trim(line.substr(colon + 1)));
  return true;
}

// Reads the leading comment block into `header` (and each entry's line number into `lines` when
// given). Leaves `first_data` at the first line after it, if any; false at the end of the file.
absl::StatusOr<bool> ReadHeaderBlock(LineReader& reader, SwfHeader* header,
                                     std::vector<int64_t>* lines, std::string_view* first_data) {
  std::pair<std::string, std::string> entry;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(first_data);
    if (!more.ok() || !*more) return more;
    if (!IsComment(*first_data)) return true;
    if (ParseHeaderLine(*first_data, &entry)) {
      header->entries.push_back(std::move(entry));
      if (lines != nullptr) lines->push_back(reader.line_number());
    }
  }
}

// An id field as key text: "-1" (unknown) gives "", "18.00" gives "18".
std::string KeyText(std::string_view field) {
  int64_t value = 0;
  if (!ParseInt(field, &value) || value < 0) return std::string();
  return absl::StrCat(value);
}

class SwfReader : public TraceReader {
 public:
  explicit SwfReader(const ReadOptions& options)
      : options_(options),
        diagnostics_(options.strict, &stats_),
        mem_per_proc_mb_(options.swf_mem_per_proc_mb > 0 ? options.swf_mem_per_proc_mb
                                                         : kDefaultMemPerProcMb),
        no_memory_(&stats_, "adjusted: no memory (default per processor)"),
        zero_run_(&stats_, "adjusted: zero run time (1 s)"),
        negative_submit_(&stats_, "adjusted: negative submit time"),
        procs_in_nodes_(&stats_, "adjusted: requested processors in nodes"),
        procs_beyond_machine_(&stats_, "adjusted: requested processors beyond the machine") {}

  absl::Status Open(const internal::Paths& paths);

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;
  // The rest of a job's tasks (up to the limit) as one run.
  absl::StatusOr<bool> NextRun(TaskRun* run) override;
  const ReadStats& stats() const override { return stats_; }

 private:
  // Reads MaxNodes / MaxProcs from the header and builds the machines.
  absl::Status BuildMachines(const SwfHeader& header, const std::vector<int64_t>& lines);
  // Reads job lines until a job has tasks left to give; false at the end or the limit.
  absl::StatusOr<bool> Fill();
  // Parses one job line into job_ and remaining_; false (after a counted skip) if rejected.
  absl::StatusOr<bool> ParseJob(std::string_view line);

  ReadOptions options_;
  ReadStats stats_;
  Diagnostics diagnostics_;
  double mem_per_proc_mb_;
  Tally no_memory_, zero_run_, negative_submit_, procs_in_nodes_, procs_beyond_machine_;

  int64_t max_procs_ = 0;       // from the header; 0 = not stated
  int64_t procs_per_node_ = 0;  // MaxProcs / MaxNodes when both are stated and divide evenly
  std::vector<MachineEvent> machines_;

  std::unique_ptr<LineReader> lines_;
  std::vector<std::string_view> fields_;
  TaskRecord job_;          // the current job's task, trace_id aside
  int64_t remaining_ = 0;   // tasks of job_ not yet produced
  int64_t next_index_ = 0;  // index of the next task within job_
};

absl::Status SwfReader::Open(const internal::Paths& paths) {
  if (paths.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "swf: a trace is one SWF file (each has its own time origin and machine); got ",
        paths.size(), " files"));
  }
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(paths[0]);
  if (!reader.ok()) return reader.status();
  lines_ = std::move(*reader);
  SwfHeader header;
  std::vector<int64_t> header_lines;
  std::string_view line;
  absl::StatusOr<bool> data = ReadHeaderBlock(*lines_, &header, &header_lines, &line);
  if (!data.ok()) return data.status();
  if (lines_->line_number() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(paths[0], ": empty file"));
  }
  // Without a header the file must start with a job line of 18 numbers.
  if (*data && lines_->line_number() == 1) {
    internal::SplitWhitespace(line, &fields_);
    double number = 0;
    bool numeric = fields_.size() == kFields;
    for (size_t i = 0; numeric && i < fields_.size(); ++i) {
      numeric = ParseDouble(fields_[i], &number);
    }
    if (!numeric) {
      return absl::InvalidArgumentError(
          absl::StrCat(paths[0],
                       ": not an SWF file (expected ';' header lines or 18 numeric fields; line 1 "
                       "is '",
                       Av(line.substr(0, 200)), "')"));
    }
  }
  absl::Status status = BuildMachines(header, header_lines);
  if (!status.ok()) return status;
  // Tasks are read from the start again; the header is a few hundred lines at most.
  absl::StatusOr<std::unique_ptr<LineReader>> again = LineReader::Open(paths[0]);
  if (!again.ok()) return again.status();
  lines_ = std::move(*again);
  return absl::OkStatus();
}

absl::Status SwfReader::BuildMachines(const SwfHeader& header, const std::vector<int64_t>& lines) {
  int64_t nodes = 0;
  for (size_t i = 0; i < header.entries.size(); ++i) {
    const auto& [key, text] = header.entries[i];
    int64_t* value = key == "MaxNodes" ? &nodes : key == "MaxProcs" ? &max_procs_ : nullptr;
    if (value == nullptr) continue;
    if (!ParseInt(text, value) || *value <= 0) {
      *value = 0;
      absl::Status status =
          diagnostics_.Reject(absl::StrCat(lines_->path(), ":", lines[i]), "bad header value",
                              absl::StrCat(key, " '", text, "' is not a positive integer"));
      if (!status.ok()) return status;
    }
  }
  // MaxNodes machines sharing MaxProcs processors (the first MaxProcs % MaxNodes get one more);
  // with only one of the two, machines of one processor each.
  int64_t count = nodes > 0 ? nodes : max_procs_;
  const int64_t procs = max_procs_ > 0 ? max_procs_ : nodes;
  if (count > procs) count = procs;
  if (nodes > 0 && max_procs_ > 0 && max_procs_ % nodes == 0) procs_per_node_ = max_procs_ / nodes;
  const size_t width = absl::StrCat(count > 0 ? count - 1 : 0).size();
  machines_.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t cpus = procs / count + (i < procs % count ? 1 : 0);
    MachineEvent machine;
    std::string number = absl::StrCat(i);
    machine.name = absl::StrCat("node-", std::string(width - number.size(), '0'), number);
    machine.capacity.cpus = static_cast<double>(cpus);
    machine.capacity.mem = static_cast<double>(cpus) * mem_per_proc_mb_;
    machines_.push_back(std::move(machine));
  }
  stats_.machine_events = count;
  return absl::OkStatus();
}

absl::StatusOr<bool> SwfReader::ParseJob(std::string_view line) {
  ++stats_.lines;
  internal::SplitWhitespace(line, &fields_);
  auto reject = [&](std::string_view reason, const std::string& message) -> absl::StatusOr<bool> {
    absl::Status status = diagnostics_.Reject(lines_->Where(), reason, message);
    if (!status.ok()) return status;
    return false;
  };
  if (fields_.size() != kFields) {
    return reject("column count",
                  absl::StrCat("expected ", kFields, " fields, found ", fields_.size()));
  }
  double values[kFields];
  for (size_t i = 0; i < kFields; ++i) {
    if (!ParseDouble(fields_[i], &values[i])) {
      return reject("not a number",
                    absl::StrCat("field ", i + 1, " '", Av(fields_[i]), "' is not a number"));
    }
  }
  if (values[kSubmit] == -1) return reject("unknown submit time", "submit time is -1");
  if (values[kRunTime] < 0) {
    return reject("unknown run time", absl::StrCat("run time ", values[kRunTime]));
  }
  // Processors: requested, else allocated; both must be whole.
  const double requested = values[kRequestedProcs];
  const double allocated = values[kAllocatedProcs];
  double procs = requested > 0 ? requested : allocated;
  if (procs <= 0) {
    return reject("unknown processors", absl::StrCat("requested ", requested, " and allocated ",
                                                     allocated, " processors: neither is known"));
  }
  // A few logs count requested processors in nodes: take the allocation when it is exactly
  // that many nodes' processors, or when the request exceeds the whole machine.
  if (requested > 0 && allocated > 0 && requested != allocated) {
    if (procs_per_node_ > 1 && requested * static_cast<double>(procs_per_node_) == allocated) {
      procs = allocated;
      procs_in_nodes_.Add();
    } else if (max_procs_ > 0 && requested > static_cast<double>(max_procs_) &&
               allocated <= static_cast<double>(max_procs_)) {
      procs = allocated;
      procs_beyond_machine_.Add();
    }
  }
  int64_t tasks = 0;
  if (!ParseInt(fields_[procs == requested ? kRequestedProcs : kAllocatedProcs], &tasks)) {
    return reject("fractional processors", absl::StrCat(procs, " processors"));
  }

  job_ = TaskRecord();
  job_.submit_time = values[kSubmit];
  if (job_.submit_time < 0) {
    job_.submit_time = 0;
    negative_submit_.Add();
  }
  job_.duration = values[kRunTime];
  if (job_.duration == 0) {
    job_.duration = 1;  // the format's resolution; 0 would mean "runs to the end"
    zero_run_.Add();
  }
  // Memory per processor in KB (1 MB = 1024 KB): requested, else used, else the default.
  const double kb = values[kRequestedMemory] > 0 ? values[kRequestedMemory] : values[kUsedMemory];
  if (kb > 0) {
    job_.demand.mem = kb / 1024;
  } else {
    job_.demand.mem = mem_per_proc_mb_;
    no_memory_.Add();
  }
  job_.demand.cpus = 1;
  job_.job = KeyText(fields_[kJob]);
  job_.user = KeyText(fields_[kUser]);
  job_.group = KeyText(fields_[kGroup]);
  job_.queue = KeyText(fields_[kQueue]);
  job_.app = KeyText(fields_[kExecutable]);
  remaining_ = tasks;
  next_index_ = 0;
  return true;
}

absl::StatusOr<bool> SwfReader::Fill() {
  if (options_.limit > 0 && stats_.tasks >= options_.limit) return false;
  while (remaining_ == 0) {
    std::string_view line;
    absl::StatusOr<bool> more = lines_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return false;
    if (IsComment(line) || Trim(line).empty()) continue;
    absl::StatusOr<bool> parsed = ParseJob(line);
    if (!parsed.ok()) return parsed.status();
  }
  return true;
}

absl::StatusOr<bool> SwfReader::Next(TaskRecord* task) {
  absl::StatusOr<bool> more = Fill();
  if (!more.ok() || !*more) return more;
  *task = job_;
  task->trace_id = absl::StrCat(job_.job, "/", next_index_);
  ++next_index_;
  --remaining_;
  ++stats_.tasks;
  return true;
}

absl::StatusOr<bool> SwfReader::NextRun(TaskRun* run) {
  absl::StatusOr<bool> more = Fill();
  if (!more.ok() || !*more) return more;
  int64_t take = remaining_;
  if (options_.limit > 0) take = std::min(take, options_.limit - stats_.tasks);
  run->first = job_;
  run->first.trace_id = absl::StrCat(job_.job, "/", next_index_);
  run->count = take;
  run->prefix = job_.job.size() + 1;
  run->index = static_cast<uint64_t>(next_index_);
  next_index_ += take;
  remaining_ -= take;
  stats_.tasks += take;
  return true;
}

}  // namespace

const std::string* SwfHeader::Find(std::string_view key) const {
  for (const auto& [name, value] : entries) {
    if (name == key) return &value;
  }
  return nullptr;
}

absl::StatusOr<SwfHeader> ReadSwfHeader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) return reader.status();
  SwfHeader header;
  std::string_view line;
  absl::StatusOr<bool> data = ReadHeaderBlock(**reader, &header, nullptr, &line);
  if (!data.ok()) return data.status();
  return header;
}

namespace internal {

ReaderOr OpenSwf(const Paths& paths, const ReadOptions& options) {
  auto reader = std::make_unique<SwfReader>(options);
  absl::Status status = reader->Open(paths);
  if (!status.ok()) return status;
  return std::unique_ptr<TraceReader>(std::move(reader));
}

}  // namespace internal
}  // namespace steward::traces
