// openb (Alibaba cluster-trace-gpu-v2023): node lists give machines, pod lists give tasks.
// Mapping and quirks: docs/traces.md, section "openb".
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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

namespace steward::traces::internal {
namespace {

using allocator::internal::Av;

constexpr int kMissing = -1;

// Index of `name` among the header's fields, or kMissing.
int ColumnOf(const std::vector<std::string_view>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return kMissing;
}

std::string_view FieldAt(const std::vector<std::string_view>& fields, int column) {
  return column == kMissing ? std::string_view() : fields[static_cast<size_t>(column)];
}

// Columns of a pod list, found by name in its header (the five-column variant has no times).
struct PodColumns {
  int name = kMissing, cpu_milli = kMissing, memory_mib = kMissing, num_gpu = kMissing,
      gpu_milli = kMissing, qos = kMissing, creation = kMissing, deletion = kMissing,
      scheduled = kMissing;
  size_t count = 0;
  bool has_times() const {
    return creation != kMissing || deletion != kMissing || scheduled != kMissing;
  }
};

absl::StatusOr<PodColumns> PodColumnsOf(const std::vector<std::string_view>& header,
                                        const std::string& where) {
  PodColumns columns;
  columns.name = ColumnOf(header, "name");
  columns.cpu_milli = ColumnOf(header, "cpu_milli");
  columns.memory_mib = ColumnOf(header, "memory_mib");
  columns.num_gpu = ColumnOf(header, "num_gpu");
  columns.gpu_milli = ColumnOf(header, "gpu_milli");
  columns.qos = ColumnOf(header, "qos");
  columns.creation = ColumnOf(header, "creation_time");
  columns.deletion = ColumnOf(header, "deletion_time");
  columns.scheduled = ColumnOf(header, "scheduled_time");
  columns.count = header.size();
  if (columns.name == kMissing || columns.cpu_milli == kMissing || columns.memory_mib == kMissing ||
      columns.num_gpu == kMissing || columns.gpu_milli == kMissing) {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     ": pod list header lacks one of name, cpu_milli, memory_mib, "
                     "num_gpu, gpu_milli (expected "
                     "'name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,...]')"));
  }
  return columns;
}

struct NodeColumns {
  int sn = kMissing, cpu_milli = kMissing, memory_mib = kMissing, gpu = kMissing, model = kMissing;
  size_t count = 0;
};

struct Node {
  std::string name;
  ResourceVector capacity;
  std::string model;

  bool SameMachine(const Node& other) const {
    return capacity == other.capacity && model == other.model;
  }
};

std::string Describe(const Node& node) {
  return absl::StrCat("cpus ", node.capacity.cpus, ", mem ", node.capacity.mem, " MB, gpus ",
                      node.capacity.gpus, ", model '", node.model, "'");
}

struct NodeList {
  std::string path;
  std::vector<Node> nodes;  // file order
  bool AllGpu() const {
    return !nodes.empty() && std::all_of(nodes.begin(), nodes.end(),
                                         [](const Node& n) { return n.capacity.gpus > 0; });
  }
};

// A non-negative finite number.
bool ParseAmount(std::string_view text, double* out) { return ParseDouble(text, out) && *out >= 0; }

// The published gpu-node list is the all-node list's GPU nodes, in the same order, renamed from
// openb-node-0000. True when `gpus` is exactly that subset of `all` (capacities and models).
bool IsRenumberedGpuSubset(const NodeList& gpus, const NodeList& all) {
  if (!gpus.AllGpu()) return false;
  size_t next = 0;
  for (const Node& node : all.nodes) {
    if (node.capacity.gpus == 0) continue;
    if (next == gpus.nodes.size() || !node.SameMachine(gpus.nodes[next])) return false;
    ++next;
  }
  return next == gpus.nodes.size();
}

class OpenbReader : public TraceReader {
 public:
  explicit OpenbReader(const ReadOptions& options)
      : options_(options),
        diagnostics_(options.strict, &stats_),
        never_scheduled_(&stats_, "adjusted: never scheduled (runs for its pending time)"),
        no_times_(&stats_, "adjusted: no times (submitted at 0, runs to the end)"),
        negative_time_(&stats_, "adjusted: negative time"),
        zero_run_(&stats_, "adjusted: zero run time (1 s)"),
        renumbered_gpu_list_(&stats_, "ignored: gpu node list (renumbered subset of all nodes)") {}

  absl::Status Open(const Paths& paths);

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;
  const ReadStats& stats() const override { return stats_; }

 private:
  absl::Status ReadNodeList(std::unique_ptr<LineReader> reader,
                            const std::vector<std::string_view>& header);
  absl::Status BuildMachines();
  // Opens the next pod list; false when there is none left.
  absl::StatusOr<bool> OpenNextPodList();
  // Parses one pod line into `task`; false (after a counted skip) if the line is rejected.
  absl::StatusOr<bool> ParsePod(std::string_view line, TaskRecord* task);
  // A time column: empty -> nullopt; negative -> 0 (counted); malformed -> error status.
  absl::StatusOr<std::optional<double>> ParseTime(std::string_view text, bool* negative);

  ReadOptions options_;
  ReadStats stats_;
  Diagnostics diagnostics_;
  Tally never_scheduled_, no_times_, negative_time_, zero_run_, renumbered_gpu_list_;

  std::vector<NodeList> node_lists_;
  std::vector<MachineEvent> machines_;

  std::vector<std::string> pod_paths_;  // sorted by path; read in turn
  size_t next_pod_path_ = 0;
  std::unique_ptr<LineReader> pods_;
  PodColumns columns_;
  std::vector<std::string_view> fields_;
};

absl::Status OpenbReader::Open(const Paths& paths) {
  if (paths.empty()) {
    return absl::InvalidArgumentError("openb: no files (expected pod lists and/or node lists)");
  }
  for (const std::string& path : paths) {
    absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
    if (!reader.ok()) return reader.status();
    std::string_view line;
    absl::StatusOr<bool> more = (*reader)->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, no header"));
    SplitCsv(line, &fields_);
    if (ColumnOf(fields_, "name") == 0 && ColumnOf(fields_, "cpu_milli") != kMissing) {
      absl::StatusOr<PodColumns> columns = PodColumnsOf(fields_, (*reader)->Where());
      if (!columns.ok()) return columns.status();
      pod_paths_.push_back(path);
    } else if (ColumnOf(fields_, "sn") == 0) {
      absl::Status status = ReadNodeList(std::move(*reader), fields_);
      if (!status.ok()) return status;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": not an openb pod list (header 'name,cpu_milli,...') or node list (header "
                       "'sn,cpu_milli,...'); header is '",
                       Av(line.substr(0, 200)), "'"));
    }
  }
  std::sort(pod_paths_.begin(), pod_paths_.end());
  return BuildMachines();
}

absl::Status OpenbReader::ReadNodeList(std::unique_ptr<LineReader> reader,
                                       const std::vector<std::string_view>& header) {
  NodeColumns columns;
  columns.sn = ColumnOf(header, "sn");
  columns.cpu_milli = ColumnOf(header, "cpu_milli");
  columns.memory_mib = ColumnOf(header, "memory_mib");
  columns.gpu = ColumnOf(header, "gpu");
  columns.model = ColumnOf(header, "model");
  columns.count = header.size();
  if (columns.cpu_milli == kMissing || columns.memory_mib == kMissing) {
    return absl::InvalidArgumentError(
        absl::StrCat(reader->Where(),
                     ": node list header lacks cpu_milli or memory_mib (expected "
                     "'sn,cpu_milli,memory_mib,gpu,model')"));
  }
  NodeList list;
  list.path = reader->path();
  std::vector<std::string_view> fields;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = reader->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++stats_.lines;
    SplitCsv(line, &fields);
    absl::Status rejected;
    Node node;
    double cpu_milli = 0;
    double memory_mib = 0;
    int64_t gpus = 0;
    if (fields.size() != columns.count) {
      rejected = diagnostics_.Reject(
          reader->Where(), "column count",
          absl::StrCat("expected ", columns.count, " columns, found ", fields.size()));
    } else if (fields[static_cast<size_t>(columns.sn)].empty()) {
      rejected = diagnostics_.Reject(reader->Where(), "empty sn", "empty node name (sn)");
    } else if (!ParseAmount(FieldAt(fields, columns.cpu_milli), &cpu_milli)) {
      rejected = diagnostics_.Reject(
          reader->Where(), "bad cpu_milli",
          absl::StrCat("bad cpu_milli '", Av(FieldAt(fields, columns.cpu_milli)), "'"));
    } else if (!ParseAmount(FieldAt(fields, columns.memory_mib), &memory_mib)) {
      rejected = diagnostics_.Reject(
          reader->Where(), "bad memory_mib",
          absl::StrCat("bad memory_mib '", Av(FieldAt(fields, columns.memory_mib)), "'"));
    } else if (columns.gpu != kMissing &&
               !(ParseInt(FieldAt(fields, columns.gpu), &gpus) && gpus >= 0)) {
      rejected = diagnostics_.Reject(
          reader->Where(), "bad gpu",
          absl::StrCat("bad gpu count '", Av(FieldAt(fields, columns.gpu)), "'"));
    } else {
      node.name = std::string(fields[static_cast<size_t>(columns.sn)]);
      node.capacity.cpus = cpu_milli / 1000;
      node.capacity.mem = memory_mib;
      node.capacity.gpus = static_cast<double>(gpus);
      node.model = std::string(FieldAt(fields, columns.model));
      list.nodes.push_back(std::move(node));
      continue;
    }
    if (!rejected.ok()) return rejected;
  }
  node_lists_.push_back(std::move(list));
  return absl::OkStatus();
}

absl::Status OpenbReader::BuildMachines() {
  // The published pair: drop the gpu-node list when it only renames the all-node list's GPUs.
  if (node_lists_.size() == 2) {
    for (size_t gpu = 0; gpu < 2; ++gpu) {
      const NodeList& all = node_lists_[1 - gpu];
      if (!all.AllGpu() && IsRenumberedGpuSubset(node_lists_[gpu], all)) {
        renumbered_gpu_list_.Add(static_cast<int64_t>(node_lists_[gpu].nodes.size()));
        node_lists_.erase(node_lists_.begin() + static_cast<std::ptrdiff_t>(gpu));
        break;
      }
    }
  }
  // Union by name; the same name with another capacity is an error whatever the mode.
  std::map<std::string_view, std::pair<const Node*, const std::string*>> by_name;
  for (const NodeList& list : node_lists_) {
    for (const Node& node : list.nodes) {
      auto [it, inserted] = by_name.emplace(node.name, std::make_pair(&node, &list.path));
      if (inserted || it->second.first->SameMachine(node)) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("openb: node '", node.name, "' is ", Describe(*it->second.first), " in ",
                       *it->second.second, " but ", Describe(node), " in ", list.path,
                       " (node lists are merged by sn)"));
    }
  }
  machines_.reserve(by_name.size());
  for (const auto& [name, entry] : by_name) {
    MachineEvent machine;
    machine.name = std::string(name);
    machine.capacity = entry.first->capacity;
    if (!entry.first->model.empty())
      machine.attributes.emplace_back("gpu_model", entry.first->model);
    machines_.push_back(std::move(machine));
  }
  stats_.machine_events = static_cast<int64_t>(machines_.size());
  node_lists_.clear();
  return absl::OkStatus();
}

absl::StatusOr<bool> OpenbReader::OpenNextPodList() {
  pods_.reset();
  if (next_pod_path_ == pod_paths_.size()) return false;
  absl::StatusOr<std::unique_ptr<LineReader>> reader =
      LineReader::Open(pod_paths_[next_pod_path_++]);
  if (!reader.ok()) return reader.status();
  pods_ = std::move(*reader);
  std::string_view line;
  absl::StatusOr<bool> more = pods_->Next(&line);
  if (!more.ok()) return more.status();
  if (!*more) return absl::InvalidArgumentError(absl::StrCat(pods_->path(), ": empty file"));
  SplitCsv(line, &fields_);
  absl::StatusOr<PodColumns> columns = PodColumnsOf(fields_, pods_->Where());
  if (!columns.ok()) return columns.status();
  columns_ = *columns;
  return true;
}

absl::StatusOr<std::optional<double>> OpenbReader::ParseTime(std::string_view text,
                                                             bool* negative) {
  if (text.empty()) return std::optional<double>();
  double value = 0;
  if (!ParseDouble(text, &value)) return absl::InvalidArgumentError("bad time");
  if (value < 0) {
    *negative = true;
    value = 0;
  }
  return std::optional<double>(value);
}

absl::StatusOr<bool> OpenbReader::ParsePod(std::string_view line, TaskRecord* task) {
  ++stats_.lines;
  SplitCsv(line, &fields_);
  auto reject = [&](std::string_view reason, const std::string& message) -> absl::StatusOr<bool> {
    absl::Status status = diagnostics_.Reject(pods_->Where(), reason, message);
    if (!status.ok()) return status;
    return false;
  };
  if (fields_.size() != columns_.count) {
    return reject("column count",
                  absl::StrCat("expected ", columns_.count, " columns, found ", fields_.size()));
  }
  const std::string_view name = FieldAt(fields_, columns_.name);
  if (name.empty()) return reject("empty name", "empty pod name");
  double cpu_milli = 0;
  double memory_mib = 0;
  int64_t num_gpu = 0;
  double gpu_milli = 0;
  if (!ParseAmount(FieldAt(fields_, columns_.cpu_milli), &cpu_milli)) {
    return reject("bad cpu_milli",
                  absl::StrCat("bad cpu_milli '", Av(FieldAt(fields_, columns_.cpu_milli)), "'"));
  }
  if (!ParseAmount(FieldAt(fields_, columns_.memory_mib), &memory_mib)) {
    return reject("bad memory_mib",
                  absl::StrCat("bad memory_mib '", Av(FieldAt(fields_, columns_.memory_mib)), "'"));
  }
  if (!ParseInt(FieldAt(fields_, columns_.num_gpu), &num_gpu) || num_gpu < 0) {
    return reject("bad num_gpu",
                  absl::StrCat("bad num_gpu '", Av(FieldAt(fields_, columns_.num_gpu)), "'"));
  }
  if (!ParseAmount(FieldAt(fields_, columns_.gpu_milli), &gpu_milli) || gpu_milli > 1000) {
    return reject("bad gpu_milli",
                  absl::StrCat("bad gpu_milli '", Av(FieldAt(fields_, columns_.gpu_milli)),
                               "' (expected 0 to 1000)"));
  }
  // gpu_milli is the share of one device for a GPU-sharing pod (num_gpu 1); whole-GPU pods
  // carry 1000 and CPU pods 0. Any other pairing is contradictory.
  double gpus = static_cast<double>(num_gpu);
  if (num_gpu == 1 && gpu_milli > 0 && gpu_milli < 1000) {
    gpus = gpu_milli / 1000;
  } else if (!(num_gpu == 0 && gpu_milli == 0) && !(num_gpu > 0 && gpu_milli == 1000)) {
    return reject("inconsistent gpu_milli",
                  absl::StrCat("num_gpu ", num_gpu, " with gpu_milli ", gpu_milli,
                               " (a share below 1000 needs num_gpu 1)"));
  }

  double submit = 0;
  double duration = 0;
  if (!columns_.has_times()) {
    no_times_.Add();
  } else {
    bool negative = false;
    absl::StatusOr<std::optional<double>> creation =
        ParseTime(FieldAt(fields_, columns_.creation), &negative);
    absl::StatusOr<std::optional<double>> scheduled =
        ParseTime(FieldAt(fields_, columns_.scheduled), &negative);
    absl::StatusOr<std::optional<double>> deletion =
        ParseTime(FieldAt(fields_, columns_.deletion), &negative);
    if (!creation.ok() || !creation->has_value()) {
      return reject(
          "bad creation_time",
          absl::StrCat("bad creation_time '", Av(FieldAt(fields_, columns_.creation)), "'"));
    }
    if (!scheduled.ok()) {
      return reject(
          "bad scheduled_time",
          absl::StrCat("bad scheduled_time '", Av(FieldAt(fields_, columns_.scheduled)), "'"));
    }
    if (!deletion.ok()) {
      return reject(
          "bad deletion_time",
          absl::StrCat("bad deletion_time '", Av(FieldAt(fields_, columns_.deletion)), "'"));
    }
    submit = **creation;
    // A scheduled pod runs from scheduled_time; a never-scheduled one is given the time it
    // waited (creation to deletion) as its run time, since that is how long it was wanted.
    const bool ran = scheduled->has_value();
    const double start = ran ? **scheduled : submit;
    if (deletion->has_value()) {
      if (**deletion < start) {
        return reject(ran ? "deletion before scheduling" : "deletion before creation",
                      absl::StrCat("deletion_time ", **deletion, " is before ",
                                   ran ? "scheduled_time " : "creation_time ", start));
      }
      duration = **deletion - start;
      if (duration == 0) {
        duration = 1;  // the trace's resolution; 0 would mean "runs to the end"
        zero_run_.Add();
      }
    }
    if (!ran) never_scheduled_.Add();
    if (negative) negative_time_.Add();
  }

  *task = TaskRecord();
  task->submit_time = submit;
  task->duration = duration;
  task->demand.cpus = cpu_milli / 1000;
  task->demand.mem = memory_mib;
  task->demand.gpus = gpus;
  task->qos = std::string(FieldAt(fields_, columns_.qos));
  task->trace_id = std::string(name);
  return true;
}

absl::StatusOr<bool> OpenbReader::Next(TaskRecord* task) {
  if (options_.limit > 0 && stats_.tasks >= options_.limit) return false;
  while (true) {
    if (pods_ == nullptr) {
      absl::StatusOr<bool> opened = OpenNextPodList();
      if (!opened.ok()) return opened.status();
      if (!*opened) return false;
    }
    std::string_view line;
    absl::StatusOr<bool> more = pods_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) {
      pods_.reset();
      continue;
    }
    absl::StatusOr<bool> parsed = ParsePod(line, task);
    if (!parsed.ok()) return parsed.status();
    if (*parsed) {
      ++stats_.tasks;
      return true;
    }
  }
}

}  // namespace

ReaderOr OpenOpenb(const Paths& paths, const ReadOptions& options) {
  auto reader = std::make_unique<OpenbReader>(options);
  absl::Status status = reader->Open(paths);
  if (!status.ok()) return status;
  return std::unique_ptr<TraceReader>(std::move(reader));
}

}  // namespace steward::traces::internal
