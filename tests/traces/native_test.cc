// The native trace format: exact round trip of machines and tasks, streaming limit, and
// clear errors for damaged files.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/test_files.h"
#include "traces/native.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using ::testing::HasSubstr;

// A TraceReader over vectors, to feed ConvertToNative.
class VectorReader : public TraceReader {
 public:
  VectorReader(std::vector<MachineEvent> machines, std::vector<TaskRecord> tasks)
      : machines_(std::move(machines)), tasks_(std::move(tasks)) {}
  const std::vector<MachineEvent>& machines() const override { return machines_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override {
    if (next_ == tasks_.size()) return false;
    *task = tasks_[next_++];
    ++stats_.tasks;
    return true;
  }
  const ReadStats& stats() const override { return stats_; }

 private:
  std::vector<MachineEvent> machines_;
  std::vector<TaskRecord> tasks_;
  size_t next_ = 0;
  ReadStats stats_;
};

std::vector<MachineEvent> Machines() {
  MachineEvent add;
  add.name = "node-1";
  add.capacity = {.cpus = 96, .mem = 393216, .disk = 0, .gpus = 8};
  add.attributes = {{"gpu_model", "V100"}, {"rack", ""}};
  MachineEvent remove;
  remove.time = 3600.5;
  remove.type = MachineEvent::Type::kRemove;
  remove.name = "node-1";
  return {add, remove};
}

std::vector<TaskRecord> Tasks(int n) {
  std::vector<TaskRecord> tasks;
  for (int i = 0; i < n; ++i) {
    TaskRecord task;
    task.submit_time = i * 0.25;
    task.duration = i % 3 == 0 ? 0 : 17.125 * i;
    task.demand = {.cpus = 0.5 + i % 4, .mem = 1024.0 / (1 + i % 5), .disk = 0.1, .gpus = i % 2 * 0.25};
    task.user = "user" + std::to_string(i % 7);
    task.job = "job/" + std::to_string(i / 10);
    task.qos = i % 2 == 0 ? "LS" : "";
    task.queue = "q\xc3\xa9";
    task.priority = i % 5 - 2;  // negatives too
    task.trace_id = "t" + std::to_string(i);
    tasks.push_back(task);
  }
  return tasks;
}

std::string Convert(const std::string& name, int tasks) {
  const std::string path = ::testing::TempDir() + name;
  VectorReader source(Machines(), Tasks(tasks));
  EXPECT_TRUE(ConvertToNative(source, path).ok());
  return path;
}

void ExpectSame(const TaskRecord& a, const TaskRecord& b) {
  EXPECT_EQ(a.submit_time, b.submit_time);
  EXPECT_EQ(a.duration, b.duration);
  EXPECT_EQ(a.demand, b.demand);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.job, b.job);
  EXPECT_EQ(a.app, b.app);
  EXPECT_EQ(a.qos, b.qos);
  EXPECT_EQ(a.queue, b.queue);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.trace_id, b.trace_id);
}

TEST(NativeTrace, RoundTripIsExact) {
  const std::string path = Convert("round.native", 5000);
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  ASSERT_TRUE(reader.ok()) << reader.status();
  const std::vector<MachineEvent>& machines = (*reader)->machines();
  ASSERT_EQ(machines.size(), 2u);
  EXPECT_EQ(machines[0].name, "node-1");
  EXPECT_EQ(machines[0].capacity.gpus, 8);
  EXPECT_EQ(machines[0].attributes, Machines()[0].attributes);
  EXPECT_EQ(machines[1].type, MachineEvent::Type::kRemove);
  EXPECT_EQ(machines[1].time, 3600.5);
  const std::vector<TaskRecord> expected = Tasks(5000);
  TaskRecord task;
  size_t count = 0;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&task);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ASSERT_LT(count, expected.size());
    ExpectSame(task, expected[count]);
    ++count;
  }
  EXPECT_EQ(count, expected.size());
  EXPECT_EQ((*reader)->stats().tasks, 5000);
  EXPECT_EQ((*reader)->stats().TotalSkipped(), 0);
}

TEST(NativeTrace, LimitStopsEarly) {
  const std::string path = Convert("limit.native", 100);
  ReadOptions options;
  options.limit = 7;
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, options);
  ASSERT_TRUE(reader.ok());
  TaskRecord task;
  int count = 0;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&task);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++count;
  }
  EXPECT_EQ(count, 7);
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::Status ReadAll(const std::string& path) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  if (!reader.ok()) return reader.status();
  TaskRecord task;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&task);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
  }
}

TEST(NativeTrace, DamagedFilesAreErrorsWithTheOffset) {
  const std::string good = Bytes(Convert("good.native", 50));
  ASSERT_TRUE(ReadAll(testing::WriteFixture("good2.native", good)).ok());

  const absl::Status truncated =
      ReadAll(testing::WriteFixture("cut.native", good.substr(0, good.size() - 20)));
  EXPECT_EQ(truncated.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(truncated.message(), HasSubstr("truncated"));
  EXPECT_THAT(truncated.message(), HasSubstr("cut.native: byte "));

  const absl::Status no_end = ReadAll(testing::WriteFixture("noend.native", good.substr(0, good.size() - 2)));
  EXPECT_THAT(no_end.message(), HasSubstr("truncated"));

  const absl::Status trailing = ReadAll(testing::WriteFixture("trail.native", good + "x"));
  EXPECT_THAT(trailing.message(), HasSubstr("after the end marker"));

  const absl::Status magic = ReadAll(testing::WriteFixture("magic.native", "name,cpu\n1,2\n"));
  EXPECT_THAT(magic.message(), HasSubstr("not a Steward native trace"));

  std::string bad_tag = good;
  bad_tag[bad_tag.size() - 2] = 'Z';  // the end marker's tag
  EXPECT_THAT(ReadAll(testing::WriteFixture("tag.native", bad_tag)).message(),
              HasSubstr("unknown record tag"));
}

TEST(NativeTrace, OpenErrors) {
  EXPECT_EQ(OpenTrace("native", {"/nonexistent.native"}, {}).status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = Convert("two.native", 3);
  EXPECT_THAT(OpenTrace("native", {path, path}, {}).status().message(),
              HasSubstr("one file each"));
  EXPECT_THAT(OpenTrace("csv", {path}, {}).status().message(), HasSubstr("unknown trace format"));
}

}  // namespace
}  // namespace steward::traces
