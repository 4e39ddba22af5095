// Helpers for tests of TraceReader implementations: opening a reader that must open, and
// reading every task it yields.
#ifndef STEWARD_TESTS_TRACES_READER_TEST_UTIL_H_
#define STEWARD_TESTS_TRACES_READER_TEST_UTIL_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "traces/workload.h"

namespace steward::traces::testing {

// The reader an Open* call returned; a failed expectation and nullptr when it failed.
inline std::unique_ptr<TraceReader> ExpectOpened(
    absl::StatusOr<std::unique_ptr<TraceReader>> reader) {
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? std::move(*reader) : nullptr;
}

// Calls `visit` with each task `reader` yields, in order. An error is a failed expectation
// and ends the loop.
template <typename Visit>
void ForEachTask(TraceReader& reader, Visit&& visit) {
  TaskRecord task;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&task);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    visit(task);
  }
}

// Every task `reader` yields (up to an error, which is a failed expectation).
inline std::vector<TaskRecord> ReadAll(TraceReader& reader) {
  std::vector<TaskRecord> tasks;
  ForEachTask(reader, [&](const TaskRecord& task) { tasks.push_back(task); });
  return tasks;
}

// Pulls tasks from a reader one at a time through Next(), or through NextRun() expanding each
// run with TaskRun::Get, so that both paths can be compared task by task.
class TaskStream {
 public:
  TaskStream(TraceReader& reader, bool runs) : reader_(reader), runs_(runs) {}

  absl::StatusOr<bool> Next(TaskRecord* task) {
    if (!runs_) return reader_.Next(task);
    if (next_ == run_.count || !started_) {
      absl::StatusOr<bool> more = reader_.NextRun(&run_);
      if (!more.ok() || !*more) return more;
      started_ = true;
      next_ = 0;
      ++runs_read_;
      EXPECT_GE(run_.count, 1);
      if (run_.count > 1) {  // the run's first trace_id is its prefix and index
        EXPECT_EQ(run_.first.trace_id, run_.TraceId(0));
        EXPECT_LE(run_.prefix, run_.first.trace_id.size());
      }
    }
    run_.Get(next_++, task);
    return true;
  }

  int64_t runs_read() const { return runs_read_; }

 private:
  TraceReader& reader_;
  bool runs_;
  bool started_ = false;
  TaskRun run_;
  int64_t next_ = 0;
  int64_t runs_read_ = 0;
};

// Every task `reader` yields, through NextRun() with the runs expanded or through Next() (up
// to an error, which is a failed expectation).
inline std::vector<TaskRecord> ReadAll(TraceReader& reader, bool runs) {
  std::vector<TaskRecord> tasks;
  TaskStream stream(reader, runs);
  TaskRecord task;
  while (true) {
    absl::StatusOr<bool> more = stream.Next(&task);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    tasks.push_back(task);
  }
  return tasks;
}

inline std::vector<TaskRecord> ReadAllRuns(TraceReader& reader) { return ReadAll(reader, true); }

// Whether two tasks agree in every field (doubles by value).
inline bool SameTask(const TaskRecord& a, const TaskRecord& b) {
  return a.submit_time == b.submit_time && a.duration == b.duration && a.demand == b.demand &&
         a.user == b.user && a.job == b.job && a.app == b.app && a.qos == b.qos &&
         a.queue == b.queue && a.group == b.group && a.priority == b.priority &&
         a.trace_id == b.trace_id;
}

// Default options with strict handling of malformed records.
inline ReadOptions Strict() {
  ReadOptions options;
  options.strict = true;
  return options;
}

}  // namespace steward::traces::testing

#endif  // STEWARD_TESTS_TRACES_READER_TEST_UTIL_H_
