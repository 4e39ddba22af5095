// The workload model every trace format maps to, and the streaming reader interface.
//
// A workload is a set of machines (capacity, added and removed over time) and a stream of
// tasks (submit time, run time, demand, grouping keys). Units are fixed here, and each reader
// converts its format's units explicitly (docs/traces.md says how, format by format):
//   cpus in cores, mem and disk in MB, gpus in devices (fractional for a shared GPU),
//   times in seconds from the start of the trace.
//
// Readers stream: machines are small and read when the reader opens, tasks are pulled one at
// a time (Next) or a run of identical tasks at a time (NextRun), so a trace of many gigabytes
// replays in bounded memory. Tasks come in file order,
// which for most traces is close to, but not exactly, submit order; the simulator orders them
// (see sim/).
//
// Malformed records: in strict mode the first one is an InvalidArgument error naming
// `file:line`; in lenient mode (the default) it is skipped and counted in ReadStats under a
// reason, and the first few messages are kept for the summary. Nothing is dropped silently.
#ifndef STEWARD_TRACES_WORKLOAD_H_
#define STEWARD_TRACES_WORKLOAD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::traces {

// Scalar resources of the model. All non-negative and finite.
struct ResourceVector {
  double cpus = 0;  // cores
  double mem = 0;   // MB
  double disk = 0;  // MB
  double gpus = 0;  // devices

  friend bool operator==(const ResourceVector&, const ResourceVector&) = default;
};

// Mesos text notation of the non-zero entries, e.g. "cpus:4;mem:8192" ("" when all zero).
std::string ToMesosText(const ResourceVector& resources);

// How trace entities map to frameworks (TraceSource.framework_by in the scenario).
enum class GroupKey { kUser, kJob, kApp, kQos, kQueue, kGroup };
// "user", "job", "app", "qos", "queue" or "group"; InvalidArgument naming the choices otherwise.
absl::StatusOr<GroupKey> ParseGroupKey(std::string_view name);
std::string_view GroupKeyName(GroupKey key);

struct TaskRecord {
  double submit_time = 0;  // seconds from trace start; never negative
  double duration = 0;     // run time once started, seconds; 0 = runs until the simulation ends
  ResourceVector demand;   // of this one task
  // Grouping keys; empty when the format has no such field.
  std::string user;
  std::string job;
  std::string app;
  std::string qos;
  std::string queue;
  std::string group;
  int64_t priority = 0;  // priority or scheduling class where the format has one
  std::string trace_id;  // the task's identity in the trace (e.g. "job/task/instance")

  const std::string& Key(GroupKey key) const;
};

// Consecutive tasks of a trace that are identical in every field but trace_id, and whose
// trace_ids are a common prefix followed by consecutive decimal indexes (Alibaba's instances
// "job/task/0", "job/task/1", ...; an SWF job's "job/0", ...). TraceReader::NextRun hands
// them out in one call, so that a consumer pays per run, not per task, for what the tasks
// share. A run of one task is any task.
struct TaskRun {
  // The run's first task, trace_id included.
  TaskRecord first;
  // Tasks in the run, at least 1.
  int64_t count = 1;
  // When count > 1: first.trace_id is first.trace_id[0, prefix) followed by `index` in
  // decimal without leading zeros, and task i (0 <= i < count) has the trace_id
  // first.trace_id[0, prefix) + decimal(index + i). Unused when count is 1.
  size_t prefix = 0;
  uint64_t index = 0;

  // Writes task i of the run (0 <= i < count) into *task: every field, trace_id included.
  void Get(int64_t i, TaskRecord* task) const;
  // The trace_id of task i (0 <= i < count).
  std::string TraceId(int64_t i) const;
};

struct MachineEvent {
  enum class Type { kAdd, kRemove };
  double time = 0;  // seconds from trace start; 0 = present from the start
  Type type = Type::kAdd;
  std::string name;
  ResourceVector capacity;                                      // kAdd only
  std::vector<std::pair<std::string, std::string>> attributes;  // e.g. {"gpu_model", "V100"}
};

struct ReadOptions {
  bool strict = false;  // first malformed record is an error (default: counted skip)
  int64_t limit = 0;    // stop after this many tasks; 0 = all
  // The machine that normalised values (Google 2011, Alibaba) are scaled against. A zero
  // field means the format's stated default (docs/traces.md).
  ResourceVector normalised_machine;
  // SWF has no machine list and memory only per job: memory per processor (MB) given to the
  // machines built from the header and to jobs that state none. 0 = the stated default.
  double swf_mem_per_proc_mb = 0;
};

// What a reader read, and everything it did to records on the way. `counts` holds three
// kinds of entries, told apart by the key (docs/traces.md, "The workload model"):
//   "reason"             a malformed record, skipped (an error in strict mode);
//   "adjusted: reason"   a record kept with a value changed or filled in;
//   "ignored: reason"    a well-formed record that carries nothing the model uses.
struct ReadStats {
  int64_t lines = 0;                       // data lines read (headers and comments excluded)
  int64_t tasks = 0;                       // tasks produced
  int64_t machine_events = 0;              // machine events produced
  std::map<std::string, int64_t> skipped;  // key (see above) -> count
  std::vector<std::string> examples;       // "file:line: message" for the first few skips

  // Malformed records skipped (keys without a prefix).
  int64_t TotalSkipped() const;
  // Records kept with a changed value ("adjusted: ..." keys).
  int64_t TotalAdjusted() const;
  // Well-formed records not used ("ignored: ..." keys).
  int64_t TotalIgnored() const;
};

inline constexpr std::string_view kAdjustedPrefix = "adjusted: ";
inline constexpr std::string_view kIgnoredPrefix = "ignored: ";

class TraceReader {
 public:
  virtual ~TraceReader() = default;

  // Machines the trace defines (node lists, machine events, or built from an SWF header),
  // sorted by (time, name). Empty for formats or file sets without machines.
  virtual const std::vector<MachineEvent>& machines() const = 0;

  // The next task in file order. Returns false at the end (or once `limit` tasks were read).
  // Errors: InvalidArgument "file:line: ..." in strict mode, or an I/O failure.
  virtual absl::StatusOr<bool> Next(TaskRecord* task) = 0;

  // The next run of tasks in file order (TaskRun): expanding the runs gives exactly the tasks,
  // in the same order, that Next() would give, and the same stats() (a run of N counts N
  // tasks) and errors. Where one run ends and the next begins is the reader's choice (a
  // reader may give a run of one task where another gives a longer run). Next() and NextRun()
  // may be mixed: a run starts with the task after the last one Next() returned. Returns false
  // at the end (or once `limit` tasks were read; a run never goes past the limit).
  // The default gives runs of one task through Next(); readers whose format stores runs
  // (native, Alibaba batch tasks, SWF) override it and do not touch the tasks one by one.
  virtual absl::StatusOr<bool> NextRun(TaskRun* run);

  virtual const ReadStats& stats() const = 0;
};

// The formats OpenTrace knows, as written in TraceSource.format.
const std::vector<std::string_view>& TraceFormats();

// Opens a trace of `format` made of `paths` (in any order: each file is recognised by its
// header or name). InvalidArgument for an unknown format or a file that fits no role of the
// format, NotFound for a missing file.
absl::StatusOr<std::unique_ptr<TraceReader>> OpenTrace(std::string_view format,
                                                       const std::vector<std::string>& paths,
                                                       const ReadOptions& options);

}  // namespace steward::traces

#endif  // STEWARD_TRACES_WORKLOAD_H_
