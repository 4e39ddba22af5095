// The native trace format: exact round trip of machines and tasks, streaming limit, and
// clear errors for damaged files.
#include "traces/native.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/reader_test_util.h"
#include "tests/traces/test_files.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using ::testing::HasSubstr;
using testing::SameTask;
using testing::TaskStream;

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
    task.demand = {
        .cpus = 0.5 + i % 4, .mem = 1024.0 / (1 + i % 5), .disk = 0.1, .gpus = i % 2 * 0.25};
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

// Reads the file to its end through Next() or NextRun(); both must give the same status.
absl::Status ReadAllOnce(const std::string& path, bool runs) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  if (!reader.ok()) return reader.status();
  TaskRecord task;
  TaskRun run;
  while (true) {
    absl::StatusOr<bool> more = runs ? (*reader)->NextRun(&run) : (*reader)->Next(&task);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
  }
}

absl::Status ReadAll(const std::string& path) {
  const absl::Status tasks = ReadAllOnce(path, /*runs=*/false);
  EXPECT_EQ(ReadAllOnce(path, /*runs=*/true), tasks) << path;
  return tasks;
}

TEST(NativeTrace, DamagedFilesAreErrorsWithTheOffset) {
  const std::string good = Bytes(Convert("good.native", 50));
  ASSERT_TRUE(ReadAll(testing::WriteFixture("good2.native", good)).ok());

  const absl::Status truncated =
      ReadAll(testing::WriteFixture("cut.native", good.substr(0, good.size() - 20)));
  EXPECT_EQ(truncated.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(truncated.message(), HasSubstr("truncated"));
  EXPECT_THAT(truncated.message(), HasSubstr("cut.native: byte "));

  const absl::Status no_end =
      ReadAll(testing::WriteFixture("noend.native", good.substr(0, good.size() - 2)));
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

// Tasks identical but for trace_id, as Alibaba's instance expansion and SWF's processors make.
std::vector<TaskRecord> Runs() {
  TaskRecord base;
  base.submit_time = 12.5;
  base.duration = 30;
  base.demand = {.cpus = 0.5, .mem = 256, .disk = 0, .gpus = 0};
  base.user = "u1";
  base.job = "j_7";
  base.priority = -3;
  std::vector<TaskRecord> tasks;
  auto add = [&](const TaskRecord& task, const std::string& id) {
    tasks.push_back(task);
    tasks.back().trace_id = id;
  };
  for (int i = 0; i < 25; ++i) add(base, "j_7/t_3/" + std::to_string(i));  // Alibaba-like
  for (int i = 0; i < 12; ++i) add(base, "123/" + std::to_string(i));      // SWF-like
  TaskRecord changed = base;
  changed.demand.mem = 512;
  add(base, "b/0");
  add(base, "b/1");
  add(changed, "b/2");  // a changed field breaks the run
  add(changed, "b/3");
  add(changed, "b/5");  // not consecutive
  add(changed, "b/6");
  add(base, "a/9");  // across a digit count
  add(base, "a/10");
  add(base, "a/11");
  add(base, "c/08");  // leading zeros: "c/08", "c/09" are a run of prefix "c/0"; "c/010" is not
  add(base, "c/09");
  add(base, "c/010");
  add(base, "c/011");
  add(base, "d/0");
  add(base, "d/00");
  add(base, "7");  // no prefix
  add(base, "8");
  add(base, "nodigits");
  add(base, "nodigits");
  add(base, "");
  add(base, "x/99999999999999999998");  // too long for an index
  add(base, "x/99999999999999999999");
  add(base, "y/18446744073709551614");
  add(base, "y/18446744073709551615");
  TaskRecord negative_zero = base;
  negative_zero.duration = -0.0;  // equal to 0 but not the same bits
  add(base, "z/0");
  add(negative_zero, "z/1");
  TaskRecord keyed = base;
  keyed.app = "app";
  keyed.group = "grp";
  add(keyed, "k/1");
  add(keyed, "k/2");
  add(keyed, "k/3");
  add(base, "k/4");
  for (int i = 0; i < 3; ++i) add(base, "tail/" + std::to_string(i));
  return tasks;
}

std::string ConvertTasks(const std::string& name, const std::vector<TaskRecord>& tasks) {
  const std::string path = ::testing::TempDir() + name;
  VectorReader source(Machines(), tasks);
  EXPECT_TRUE(ConvertToNative(source, path).ok());
  return path;
}

// The file's tasks through Next(), checked to be the same through NextRun().
std::vector<TaskRecord> ReadTasks(const std::string& path, const ReadOptions& options = {}) {
  std::vector<TaskRecord> by_run[2];
  for (bool runs : {false, true}) {
    absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, options);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    std::vector<TaskRecord>& tasks = by_run[runs];
    tasks = testing::ReadAll(**reader, runs);
    EXPECT_EQ((*reader)->stats().tasks, static_cast<int64_t>(tasks.size()));
  }
  EXPECT_EQ(by_run[0].size(), by_run[1].size());
  for (size_t i = 0; i < std::min(by_run[0].size(), by_run[1].size()); ++i) {
    EXPECT_TRUE(SameTask(by_run[0][i], by_run[1][i])) << i << ": " << by_run[0][i].trace_id;
  }
  return by_run[0];
}

TEST(NativeTrace, RunsRoundTripExactly) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("runs.native", expected);
  const std::vector<TaskRecord> tasks = ReadTasks(path);
  ASSERT_EQ(tasks.size(), expected.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    SCOPED_TRACE(expected[i].trace_id);
    ExpectSame(tasks[i], expected[i]);
    EXPECT_EQ(std::signbit(tasks[i].duration), std::signbit(expected[i].duration));
  }
  // The runs are stored as groups: far smaller than one record per task.
  const std::string bytes = Bytes(path);
  const std::string flat = Bytes(ConvertTasks("flat.native", {expected[0]}));
  EXPECT_LT(bytes.size(), flat.size() + 40 * 60);
  EXPECT_NE(bytes.find("j_7/t_3/"), std::string::npos);
  EXPECT_EQ(bytes.find("j_7/t_3/1"), std::string::npos);
}

TEST(NativeTrace, CallerChangesBetweenCallsDoNotLeak) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("changes.native", expected);
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  ASSERT_TRUE(reader.ok());
  TaskRecord task;
  for (size_t i = 0;; ++i) {
    absl::StatusOr<bool> more = (*reader)->Next(&task);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) {
      EXPECT_EQ(i, expected.size());
      break;
    }
    ASSERT_LT(i, expected.size());
    ExpectSame(task, expected[i]);
    // Scribble over the record, as a caller may (same sizes too, and moved-from strings).
    task.user = std::string(task.user.size(), '#');
    task.job = "other";
    TaskRecord stolen = std::move(task);
    task.app = "x";
    task.trace_id = stolen.trace_id + "!";
    task.demand.cpus = 99;
    task.priority = 1000;
  }
}

TEST(NativeTrace, LimitInsideAGroup) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("glimit.native", expected);
  ReadOptions options;
  options.limit = 10;  // inside the first run of 25
  const std::vector<TaskRecord> tasks = ReadTasks(path, options);
  ASSERT_EQ(tasks.size(), 10u);
  for (size_t i = 0; i < tasks.size(); ++i) ExpectSame(tasks[i], expected[i]);
}

// A short prefix leaves the group record to the careful decoder (the file is smaller than the
// fast decoder's window); a long one lets the fast decoder see it first.
class DamagedGroup : public ::testing::TestWithParam<int> {};

TEST_P(DamagedGroup, EndMarkerCountsEveryTaskAndBadCountsAreErrors) {
  const std::string prefix = std::string(GetParam(), 'p') + "grp/";
  std::vector<TaskRecord> tasks;
  for (int i = 0; i < 3; ++i) {
    TaskRecord task;
    task.trace_id = prefix + std::to_string(i);
    tasks.push_back(task);
  }
  TaskRecord after;  // enough bytes after the group for the fast decoder
  after.duration = 5;
  after.trace_id = std::string(40, 'z');
  tasks.push_back(after);
  const std::string good = Bytes(ConvertTasks("group.native", tasks));
  ASSERT_EQ(good.substr(good.size() - 2), "E\x04");  // every task of the group counted
  EXPECT_EQ(ReadTasks(testing::WriteFixture("group2.native", good)).size(), 4u);
  // ... 'G' body, str prefix, varint first 0, varint count 3, then the T record.
  const size_t at = good.find(prefix + std::string("\x00\x03", 2));
  ASSERT_NE(at, std::string::npos);
  const std::string head = good.substr(0, at + prefix.size());
  const std::string rest = good.substr(at + prefix.size() + 2);
  auto with = [&](const std::string& name, const std::string& numbers) {
    return ReadAll(testing::WriteFixture(name, head + numbers + rest));
  };

  EXPECT_THAT(with("gmore.native", std::string("\x00\x04", 2)).message(),
              HasSubstr("end marker counts 4 tasks, file has 5"));
  const absl::Status one = with("gone.native", std::string("\x00\x01", 2));
  EXPECT_THAT(one.message(), HasSubstr("group task count out of range"));
  EXPECT_THAT(one.message(), HasSubstr("gone.native: byte " + std::to_string(head.size() + 2)));
  // A count past what int64 holds; an index range that wraps around; a bad varint.
  EXPECT_THAT(
      with("ghuge.native", std::string("\x00", 1) + std::string(9, '\xff') + "\x01").message(),
      HasSubstr("group task count out of range"));
  EXPECT_THAT(with("gwrap.native", std::string(9, '\xff') + "\x01\x03").message(),
              HasSubstr("group index out of range"));
  EXPECT_THAT(with("gvarint.native", std::string(10, '\xff') + "\x01\x03").message(),
              HasSubstr("malformed varint"));

  for (size_t cut = at; cut < at + prefix.size() + 2; cut += 1 + GetParam() / 10) {
    const absl::Status truncated =
        ReadAll(testing::WriteFixture("gcut.native", good.substr(0, cut)));
    EXPECT_THAT(truncated.message(), HasSubstr("truncated")) << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(NativeTrace, DamagedGroup, ::testing::Values(0, 300));

TEST(NativeTrace, OtherVersionsAreRejected) {
  std::string bytes = Bytes(Convert("v.native", 3));
  bytes[14] = 1;  // the u32 version after the 14-byte magic
  const absl::Status old = ReadAll(testing::WriteFixture("v1.native", bytes));
  EXPECT_THAT(old.message(), HasSubstr("unsupported native trace version 1"));
  EXPECT_THAT(old.message(), HasSubstr("convert the trace again"));
}

// Many records of long strings: both decoders run, across the reader's buffer boundary.
TEST(NativeTrace, LongStringsAcrossBuffers) {
  std::vector<TaskRecord> tasks = Tasks(3000);
  for (size_t i = 0; i < tasks.size(); ++i) {
    tasks[i].trace_id = std::string(100 + i * 7 % 1500, static_cast<char>('a' + i % 26));
    if (i % 100 == 0) tasks[i].user = std::string(300 + i, 'u');
  }
  const std::vector<TaskRecord> read = ReadTasks(ConvertTasks("long.native", tasks));
  ASSERT_EQ(read.size(), tasks.size());
  for (size_t i = 0; i < read.size(); ++i) ExpectSame(read[i], tasks[i]);
}

TEST(NativeTrace, NextRunGivesAGroupInOneCall) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("nextrun.native", expected);
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  ASSERT_TRUE(reader.ok());
  TaskRun run;
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 25);
  EXPECT_EQ(run.prefix, std::string("j_7/t_3/").size());
  EXPECT_EQ(run.index, 0u);
  ExpectSame(run.first, expected[0]);
  EXPECT_EQ(run.TraceId(24), "j_7/t_3/24");
  EXPECT_EQ((*reader)->stats().tasks, 25);
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 12);
  EXPECT_EQ(run.first.trace_id, "123/0");
  // Runs across a digit count ("a/9", "a/10", "a/11") and of a leading-zero prefix.
  int64_t runs = 2;
  bool across = false;
  while ((*reader)->NextRun(&run).value_or(false)) {
    ++runs;
    if (run.first.trace_id == "a/9") {
      across = true;
      EXPECT_EQ(run.count, 3);
      TaskRecord last;
      run.Get(2, &last);
      EXPECT_EQ(last.trace_id, "a/11");
    }
  }
  EXPECT_TRUE(across);
  EXPECT_LT(runs, static_cast<int64_t>(expected.size()) - 40);
  EXPECT_EQ((*reader)->stats().tasks, static_cast<int64_t>(expected.size()));
}

TEST(NativeTrace, NextAndNextRunMix) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("mix.native", expected);
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  ASSERT_TRUE(reader.ok());
  // Three tasks of the first group through Next(), then the rest of it is one run.
  TaskRecord task;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*reader)->Next(&task).value_or(false));
  ExpectSame(task, expected[2]);
  TaskRun run;
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 22);
  EXPECT_EQ(run.index, 3u);
  ExpectSame(run.first, expected[3]);
  // Then alternate to the end: every task once, in order.
  size_t at = 25;
  for (bool runs = false;; runs = !runs) {
    if (runs) {
      absl::StatusOr<bool> more = (*reader)->NextRun(&run);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      for (int64_t i = 0; i < run.count; ++i, ++at) {
        ASSERT_LT(at, expected.size());
        run.Get(i, &task);
        ExpectSame(task, expected[at]);
      }
    } else {
      absl::StatusOr<bool> more = (*reader)->Next(&task);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      ASSERT_LT(at, expected.size());
      ExpectSame(task, expected[at++]);
    }
  }
  EXPECT_EQ(at, expected.size());
  EXPECT_EQ((*reader)->stats().tasks, static_cast<int64_t>(expected.size()));
}

TEST(NativeTrace, NextRunStopsAtTheLimitInsideAGroup) {
  const std::vector<TaskRecord> expected = Runs();
  const std::string path = ConvertTasks("runlimit.native", expected);
  ReadOptions options;
  options.limit = 10;
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, options);
  ASSERT_TRUE(reader.ok());
  TaskRun run;
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 10);
  TaskRecord task;
  EXPECT_FALSE((*reader)->NextRun(&run).value_or(true));
  EXPECT_FALSE((*reader)->Next(&task).value_or(true));
  EXPECT_EQ((*reader)->stats().tasks, 10);
  // The limit inside a group after Next() took part of it.
  options.limit = 30;
  reader = OpenTrace("native", {path}, options);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Next(&task).value_or(false));
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 24);
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 5);  // of the SWF-like 12
  EXPECT_EQ(run.first.trace_id, "123/0");
  EXPECT_FALSE((*reader)->NextRun(&run).value_or(true));
  EXPECT_EQ((*reader)->stats().tasks, 30);
}

// A reader that hands out runs as given, to test NativeWriter::Write(const TaskRun&).
class RunReader : public TraceReader {
 public:
  explicit RunReader(std::vector<TaskRun> runs) : runs_(std::move(runs)) {}
  const std::vector<MachineEvent>& machines() const override { return machines_; }
  absl::StatusOr<bool> Next(TaskRecord*) override {
    return absl::UnimplementedError("RunReader gives runs only");
  }
  absl::StatusOr<bool> NextRun(TaskRun* run) override {
    if (next_ == runs_.size()) return false;
    *run = runs_[next_++];
    stats_.tasks += run->count;
    return true;
  }
  const ReadStats& stats() const override { return stats_; }

 private:
  std::vector<MachineEvent> machines_;
  std::vector<TaskRun> runs_;
  size_t next_ = 0;
  ReadStats stats_;
};

TaskRun MakeRun(const TaskRecord& base, const std::string& prefix, uint64_t index, int64_t count) {
  TaskRun run;
  run.first = base;
  run.first.trace_id = prefix + std::to_string(index);
  run.prefix = prefix.size();
  run.index = index;
  run.count = count;
  return run;
}

TEST(NativeTrace, WriterTakesRuns) {
  TaskRecord base;
  base.duration = 4;
  base.user = "u";
  TaskRecord other = base;
  other.user = "v";
  // Adjacent runs that continue each other merge; a split of the trace_id other than the
  // writer's own ("a/1" + 0, 1 for "a/10", "a/11") is kept as given.
  const std::vector<TaskRun> runs = {MakeRun(base, "j/", 0, 4),  MakeRun(base, "j/", 4, 3),
                                     MakeRun(other, "j/", 7, 2), MakeRun(base, "a/1", 0, 2),
                                     MakeRun(base, "a/1", 2, 1), MakeRun(base, "s/", 5, 1)};
  std::vector<TaskRecord> expected;
  for (const TaskRun& run : runs) {
    for (int64_t i = 0; i < run.count; ++i) {
      expected.emplace_back();
      run.Get(i, &expected.back());
    }
  }
  ASSERT_EQ(expected.size(), 13u);
  EXPECT_EQ(expected[9].trace_id, "a/10");
  EXPECT_EQ(expected[11].trace_id, "a/12");
  const std::string path = ::testing::TempDir() + "runs-in.native";
  RunReader source(runs);
  ASSERT_TRUE(ConvertToNative(source, path).ok());
  const std::vector<TaskRecord> read = ReadTasks(path);
  ASSERT_EQ(read.size(), expected.size());
  for (size_t i = 0; i < read.size(); ++i) ExpectSame(read[i], expected[i]);
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace("native", {path}, {});
  ASSERT_TRUE(reader.ok());
  TaskRun run;
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 7);  // the first two runs merged
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 2);
  ASSERT_TRUE((*reader)->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 3);  // "a/1" + 0, 1 and the single task "a/12" after them
  EXPECT_EQ(run.prefix, 3u);

  // A run whose trace_id does not end in its index, or of no tasks, is refused.
  auto writer = NativeWriter::Create(::testing::TempDir() + "badrun.native", {});
  ASSERT_TRUE(writer.ok());
  TaskRun bad = MakeRun(base, "j/", 3, 2);
  bad.index = 4;
  EXPECT_EQ((*writer)->Write(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = MakeRun(base, "j/", 3, 0);
  EXPECT_EQ((*writer)->Write(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = MakeRun(base, "j/", 3, 2);
  bad.prefix = 99;
  EXPECT_EQ((*writer)->Write(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*writer)->Close().ok());
}

// A key longer than the reader's buffer makes it grow.
TEST(NativeTrace, KeyLongerThanTheBuffer) {
  std::vector<TaskRecord> tasks = Tasks(20);
  tasks[5].user = std::string(300000, 'k');
  tasks[6].trace_id = std::string(200000, 't');
  const std::vector<TaskRecord> read = ReadTasks(ConvertTasks("huge.native", tasks));
  ASSERT_EQ(read.size(), tasks.size());
  for (size_t i = 0; i < read.size(); ++i) ExpectSame(read[i], tasks[i]);
}

// A reader of another reader that gives tasks only through Next(), so that NextRun() is the
// default of runs of one task (and ConvertToNative writes one task at a time).
class TaskByTask : public TraceReader {
 public:
  explicit TaskByTask(TraceReader& reader) : reader_(reader) {}
  const std::vector<MachineEvent>& machines() const override { return reader_.machines(); }
  absl::StatusOr<bool> Next(TaskRecord* task) override { return reader_.Next(task); }
  const ReadStats& stats() const override { return reader_.stats(); }

 private:
  TraceReader& reader_;
};

// The shared real traces: CSV read task by task and run by run, and the native file converted
// from it read both ways, give the same tasks in the same order with the same fields; the
// file does not depend on whether the conversion read runs.
struct SharedCase {
  const char* name;
  const char* format;
  std::vector<std::string> files;  // under the shared traces folder
  int64_t tasks;
};

class NativeMatchesCsv : public ::testing::TestWithParam<SharedCase> {};

TEST_P(NativeMatchesCsv, SameTasksBothWays) {
  const SharedCase& c = GetParam();
  std::vector<std::string> paths;
  for (const std::string& file : c.files) paths.push_back(testing::SharedTrace(file));
  auto open = [&](const std::string& format, const std::vector<std::string>& files) {
    absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace(format, files, {});
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? *std::move(reader) : nullptr;
  };
  const std::string native = ::testing::TempDir() + c.name + ".native";
  {
    std::unique_ptr<TraceReader> csv = open(c.format, paths);
    ASSERT_NE(csv, nullptr);
    ASSERT_TRUE(ConvertToNative(*csv, native).ok());
    std::unique_ptr<TraceReader> again = open(c.format, paths);
    ASSERT_NE(again, nullptr);
    TaskByTask one_by_one(*again);
    const std::string flat = ::testing::TempDir() + c.name + "-flat.native";
    ASSERT_TRUE(ConvertToNative(one_by_one, flat).ok());
    EXPECT_EQ(Bytes(native), Bytes(flat));
  }
  std::unique_ptr<TraceReader> readers[4] = {open(c.format, paths), open(c.format, paths),
                                             open("native", {native}), open("native", {native})};
  for (const auto& reader : readers) ASSERT_NE(reader, nullptr);
  ASSERT_EQ(readers[2]->machines().size(), readers[0]->machines().size());
  for (size_t i = 0; i < readers[0]->machines().size(); ++i) {
    const MachineEvent& a = readers[0]->machines()[i];
    const MachineEvent& b = readers[2]->machines()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.time, b.time);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.capacity, b.capacity);
    EXPECT_EQ(a.attributes, b.attributes);
  }
  TaskStream streams[4] = {TaskStream(*readers[0], false), TaskStream(*readers[1], true),
                           TaskStream(*readers[2], false), TaskStream(*readers[3], true)};
  TaskRecord tasks[4];
  int64_t count = 0;
  while (true) {
    bool more[4];
    for (int k = 0; k < 4; ++k) {
      absl::StatusOr<bool> next = streams[k].Next(&tasks[k]);
      ASSERT_TRUE(next.ok()) << next.status();
      more[k] = *next;
    }
    ASSERT_TRUE(more[1] == more[0] && more[2] == more[0] && more[3] == more[0]) << count;
    if (!more[0]) break;
    for (int k = 1; k < 4; ++k) {
      ASSERT_TRUE(SameTask(tasks[0], tasks[k]))
          << "task " << count << " (" << tasks[0].trace_id << ") differs in stream " << k;
    }
    ++count;
  }
  EXPECT_EQ(count, c.tasks);
  for (const auto& reader : readers) EXPECT_EQ(reader->stats().tasks, c.tasks);
  EXPECT_EQ(readers[1]->stats().skipped, readers[0]->stats().skipped);
  EXPECT_EQ(readers[1]->stats().lines, readers[0]->stats().lines);
  // Runs are what the formats group: far fewer calls than tasks where a row has many.
  // The native file may join more (openb's identical pods of consecutive names), never fewer.
  EXPECT_LE(streams[3].runs_read(), streams[1].runs_read());
  if (std::string(c.name) != "openb") {
    EXPECT_LT(streams[1].runs_read() * 5, c.tasks);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SharedTraces, NativeMatchesCsv,
    ::testing::Values(SharedCase{"alibaba2017",
                                 "alibaba2017",
                                 {"alibaba2017/batch_task.csv", "alibaba2017/server_event.csv"},
                                 10991149},
                      SharedCase{"openb",
                                 "openb",
                                 {"openb/openb_pod_list_default.csv",
                                  "openb/openb_node_list_all_node.csv"},
                                 8152},
                      SharedCase{"swf", "swf", {"swf/KTH-SP2-1996-2.1-cln.swf.gz"}, 217830}),
    [](const ::testing::TestParamInfo<SharedCase>& param) {
      return std::string(param.param.name);
    });

TEST(NativeTrace, OpenErrors) {
  EXPECT_EQ(OpenTrace("native", {"/nonexistent.native"}, {}).status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = Convert("two.native", 3);
  EXPECT_THAT(OpenTrace("native", {path, path}, {}).status().message(), HasSubstr("one file each"));
  EXPECT_THAT(OpenTrace("csv", {path}, {}).status().message(), HasSubstr("unknown trace format"));
}

}  // namespace
}  // namespace steward::traces
