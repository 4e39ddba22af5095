// Steward's native trace format: the workload model (workload.h) in a compact binary file
// that replays several times faster than parsing the original CSV. `steward-sim convert`
// writes it; OpenTrace("native", ...) reads it, streaming. docs/traces.md gives the layout.
#ifndef STEWARD_TRACES_NATIVE_H_
#define STEWARD_TRACES_NATIVE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traces/workload.h"

namespace steward::traces {

// Writes a native trace: the machines first, then tasks one at a time, then Close(). Runs of
// consecutive tasks identical but for a trace_id of a common prefix and consecutive decimal
// indexes (Alibaba's "job/task/0", "job/task/1", ...; SWF's "job/0", ...) become one group
// record, which the reader expands again.
class NativeWriter {
 public:
  static absl::StatusOr<std::unique_ptr<NativeWriter>> Create(
      const std::string& path, const std::vector<MachineEvent>& machines);
  ~NativeWriter();
  NativeWriter(const NativeWriter&) = delete;
  NativeWriter& operator=(const NativeWriter&) = delete;

  absl::Status Write(const TaskRecord& task);
  // Writes the tasks of `run` (TaskRun), the same file as writing them one at a time would
  // give when the run's trace_ids split as the writer splits them, and the same tasks always.
  absl::Status Write(const TaskRun& run);
  // Writes the pending run and the end marker (with the task count, so that a truncated file is
  // detected) and closes the file.
  absl::Status Close();

  int64_t tasks() const { return tasks_; }

 private:
  NativeWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  uint64_t KeyId(const std::string& key);
  // Appends a T or G record's tag and body (not its strings), defining new keys first.
  void PutRecord(char tag, const TaskRecord& task);
  // Appends the pending run as a T record (one task) or a G record.
  absl::Status WriteRun();
  absl::Status Flush();

  std::string path_;
  std::FILE* file_;
  std::string buffer_;
  absl::flat_hash_map<std::string, uint64_t> keys_;
  int64_t tasks_ = 0;
  // The pending run: its first task, how many tasks it holds, and, when run_indexed_, its
  // first task's trace_id split into run_.trace_id[0, run_prefix_) and index run_first_.
  TaskRecord run_;
  uint64_t run_count_ = 0;
  bool run_indexed_ = false;
  size_t run_prefix_ = 0;
  uint64_t run_first_ = 0;
};

// Reads every task of `reader` (a run at a time, TraceReader::NextRun) and writes them with its
// machines to `path`.
absl::Status ConvertToNative(TraceReader& reader, const std::string& path);

}  // namespace steward::traces

#endif  // STEWARD_TRACES_NATIVE_H_
