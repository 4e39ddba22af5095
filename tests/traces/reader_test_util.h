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

// Default options with strict handling of malformed records.
inline ReadOptions Strict() {
  ReadOptions options;
  options.strict = true;
  return options;
}

}  // namespace steward::traces::testing

#endif  // STEWARD_TESTS_TRACES_READER_TEST_UTIL_H_
