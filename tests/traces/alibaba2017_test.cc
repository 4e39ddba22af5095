// Alibaba cluster-trace-v2017 reader: the real batch_task.csv and server_event.csv, and
// fixtures for each mapping rule and quirk.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/reader_test_util.h"
#include "tests/traces/test_files.h"
#include "traces/internal/readers.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using internal::OpenAlibaba2017;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::SharedTrace;
using testing::WriteFixture;

constexpr double kMemMb = 256.0 * 1024;    // stated default normalised memory
constexpr double kDiskMb = 1024.0 * 1024;  // stated default normalised disk

std::unique_ptr<TraceReader> Open(const std::vector<std::string>& paths,
                                  const ReadOptions& options = {}) {
  return testing::ExpectOpened(OpenAlibaba2017(paths, options));
}

constexpr char kHeader[] =
    "task_create_time, task_end_time, job_id, task_id,number_of_instances, status, "
    "number_of_cpus_requested_per_instance_in_the_task,normalized_memory_requested_per_instance_"
    "in_the_task\n";

TEST(Alibaba2017, RealFilesInAnyOrder) {
  // Expected numbers computed with awk over the files; 80,553 task rows of 12,951 jobs and
  // 1,313 machines match the traces README.
  std::unique_ptr<TraceReader> reader = Open(
      {SharedTrace("alibaba2017/server_event.csv"), SharedTrace("alibaba2017/batch_task.csv")});
  ASSERT_NE(reader, nullptr);
  ASSERT_EQ(reader->machines().size(), 1313u);
  for (const MachineEvent& machine : reader->machines()) {
    EXPECT_EQ(machine.type, MachineEvent::Type::kAdd);
    EXPECT_EQ(machine.time, 0);
    EXPECT_EQ(machine.capacity.cpus, 64);
  }
  // "0,1,add,,64,0.6899697150104833,1" sorts first by name.
  EXPECT_EQ(reader->machines()[0].name, "1");
  EXPECT_DOUBLE_EQ(reader->machines()[0].capacity.mem, 0.6899697150104833 * kMemMb);
  EXPECT_DOUBLE_EQ(reader->machines()[0].capacity.disk, kDiskMb);

  TaskRecord task;
  absl::StatusOr<bool> more = reader->Next(&task);
  ASSERT_TRUE(more.ok() && *more);
  // 6459,6524,3,4,15740,Terminated,50,0.007956928
  EXPECT_EQ(task.submit_time, 6459);
  EXPECT_EQ(task.duration, 65);
  EXPECT_EQ(task.demand.cpus, 0.5);
  EXPECT_DOUBLE_EQ(task.demand.mem, 0.007956928 * kMemMb);
  EXPECT_EQ(task.job, "3");
  EXPECT_EQ(task.trace_id, "3/4/0");
  int64_t count = 1;
  int64_t open = 0;
  absl::flat_hash_set<std::string> jobs = {task.job};
  while (true) {
    more = reader->Next(&task);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++count;
    if (task.duration == 0) ++open;
    jobs.insert(task.job);
    ASSERT_GE(task.submit_time, 0);
    ASSERT_GE(task.duration, 0);
  }
  EXPECT_EQ(count, 10991149);
  EXPECT_EQ(open, 450164);         // instances of Running tasks: no end in the trace
  EXPECT_EQ(jobs.size(), 12013u);  // of 12,951: the other jobs' rows are all skipped
  const ReadStats& stats = reader->stats();
  EXPECT_EQ(stats.tasks, 10991149);
  EXPECT_EQ(stats.lines, 80553 + 1352);
  EXPECT_EQ(stats.machine_events, 1313);
  EXPECT_EQ(stats.skipped, (std::map<std::string, int64_t>{
                               {"empty plan_cpu or plan_mem", 9017},
                               {"ended before trace start", 117},
                               {"adjusted: negative timestamp", 50},
                               {"adjusted: zero duration", 24},
                               {"ignored: softerror", 39},
                           }));
}

TEST(Alibaba2017, StrictStopsAtTheFirstBadRecord) {
  ReadOptions options;
  options.strict = true;
  absl::StatusOr<std::unique_ptr<TraceReader>> reader =
      OpenAlibaba2017({SharedTrace("alibaba2017/batch_task.csv")}, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  TaskRecord task;
  absl::StatusOr<bool> more;
  int64_t count = 0;
  while ((more = (*reader)->Next(&task)).ok() && *more) ++count;
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  // Line 4 is "6036,6046,4,7,393,Waiting,,"; lines 2 and 3 hold 15740 + 1 instances.
  EXPECT_THAT(more.status().message(), HasSubstr("batch_task.csv:4: Waiting task without"));
  EXPECT_EQ(count, 15741);
}

TEST(Alibaba2017, FieldMappingAndQuirks) {
  const std::string tasks = WriteFixture(
      "a17_tasks.csv",
      std::string(kHeader) +
          "100,160,7,1,2,Terminated,50,0.01\n"      // 2 instances, 60 s each
          "200,250,7,2,1,Failed,100,0.02\n"         // ended: failed at 250
          "300,0,8,1,1,Running,200,0.03\n"          // open: end field is not an end
          "400,400,8,2,1,Waiting,,\n"               // skipped: no plan
          "-60,40,9,1,1,Terminated,40,0.01\n"       // before the trace: submit 0, runs 40 s
          "-60,-5,9,2,1,Terminated,40,0.01\n"       // ended before the trace
          "500,450,9,3,1,Terminated,40,0.01\n"      // end before create
          "600,600,9,4,1,Terminated, 75 , 0.5 \n"   // zero duration -> 1 s; spaces trimmed
          "700,800,9,5,1.00,Cancelled,55.0,0.04\n"  // float in an integer column
          "\n");
  std::unique_ptr<TraceReader> reader = Open({tasks});
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->machines().empty());
  std::vector<TaskRecord> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 7u);
  EXPECT_EQ(read[0].trace_id, "7/1/0");
  EXPECT_EQ(read[1].trace_id, "7/1/1");
  for (int i : {0, 1}) {
    EXPECT_EQ(read[i].submit_time, 100);
    EXPECT_EQ(read[i].duration, 60);
    EXPECT_EQ(read[i].demand, (ResourceVector{0.5, 0.01 * kMemMb, 0, 0}));
    EXPECT_EQ(read[i].job, "7");
  }
  EXPECT_EQ(read[2].trace_id, "7/2/0");
  EXPECT_EQ(read[2].duration, 50);
  EXPECT_EQ(read[2].demand.cpus, 1);
  EXPECT_EQ(read[3].trace_id, "8/1/0");
  EXPECT_EQ(read[3].submit_time, 300);
  EXPECT_EQ(read[3].duration, 0);
  EXPECT_EQ(read[3].demand.cpus, 2);
  EXPECT_EQ(read[4].trace_id, "9/1/0");
  EXPECT_EQ(read[4].submit_time, 0);
  EXPECT_EQ(read[4].duration, 40);
  EXPECT_EQ(read[5].trace_id, "9/4/0");
  EXPECT_EQ(read[5].duration, 1);
  EXPECT_EQ(read[5].demand, (ResourceVector{0.75, 0.5 * kMemMb, 0, 0}));
  EXPECT_EQ(read[6].trace_id, "9/5/0");
  EXPECT_EQ(read[6].duration, 100);
  EXPECT_EQ(read[6].demand.cpus, 0.55);
  const ReadStats& stats = reader->stats();
  EXPECT_EQ(stats.lines, 9);
  EXPECT_EQ(stats.tasks, 7);
  EXPECT_EQ(stats.skipped, (std::map<std::string, int64_t>{
                               {"empty plan_cpu or plan_mem", 1},
                               {"ended before trace start", 1},
                               {"end before start", 1},
                               {"adjusted: negative timestamp", 1},
                               {"adjusted: zero duration", 1},
                           }));
  EXPECT_THAT(stats.examples[0], HasSubstr("a17_tasks.csv:5: Waiting task without plan_cpu"));
}

TEST(Alibaba2017, NormalisedMachineOverridesTheDefault) {
  const std::string tasks = WriteFixture("a17_norm_tasks.csv", "1,2,1,1,1,Terminated,100,0.5\n");
  const std::string events = WriteFixture("a17_norm_events.csv", "0,5,add,,64,0.5,0.25\n");
  ReadOptions options;
  options.normalised_machine.mem = 1000;
  options.normalised_machine.disk = 4000;
  std::unique_ptr<TraceReader> reader = Open({tasks, events}, options);
  ASSERT_NE(reader, nullptr);
  ASSERT_EQ(reader->machines().size(), 1u);
  EXPECT_EQ(reader->machines()[0].capacity, (ResourceVector{64, 500, 1000, 0}));
  std::vector<TaskRecord> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].demand, (ResourceVector{1, 500, 0, 0}));
}

TEST(Alibaba2017, MachineEventsAreReplayedInTimeOrder) {
  // Unsorted, as the real file is: the harderror of m2 comes first in the file but after its
  // add in time; m1 is added again with a new capacity; softerrors change nothing.
  const std::string events = WriteFixture("server_event.csv",
                                          "500,m2,harderror,disk_fail,,,\n"
                                          "0,m2,add,,32,0.5,1\n"
                                          "0,m1,add,,64,1,1\n"
                                          "300,m1,softerror,agent_check,0,0,0\n"
                                          "-10,m3,add,,16,0.25,0.5\n"
                                          "700,m1,add,,64,0.75,1\n"
                                          "800,m9,harderror,disk_fail,,,\n");
  const std::string tasks = WriteFixture("batch_task.csv", "");
  std::unique_ptr<TraceReader> reader = Open({events, tasks});
  ASSERT_NE(reader, nullptr);
  std::vector<std::string> seen;
  for (const MachineEvent& event : reader->machines()) {
    seen.push_back(absl::StrCat(event.time, " ", event.name, " ",
                                event.type == MachineEvent::Type::kAdd ? "add " : "remove ",
                                static_cast<int64_t>(event.capacity.cpus), "/",
                                static_cast<int64_t>(event.capacity.mem), "/",
                                static_cast<int64_t>(event.capacity.disk)));
  }
  EXPECT_THAT(seen, ElementsAre("0 m1 add 64/262144/1048576", "0 m2 add 32/131072/1048576",
                                "0 m3 add 16/65536/524288", "500 m2 remove 0/0/0",
                                "700 m1 remove 0/0/0", "700 m1 add 64/196608/1048576"));
  EXPECT_EQ(reader->stats().machine_events, 6);
  EXPECT_EQ(reader->stats().skipped, (std::map<std::string, int64_t>{
                                         {"adjusted: negative timestamp", 1},
                                         {"ignored: harderror on absent machine", 1},
                                         {"ignored: softerror", 1},
                                     }));
  EXPECT_TRUE(ReadAll(*reader).empty());
}

TEST(Alibaba2017, LimitStopsInsideARow) {
  ReadOptions options;
  options.limit = 3;
  std::unique_ptr<TraceReader> reader =
      Open({WriteFixture("a17_limit.csv", "1,2,1,1,5,Terminated,100,0.5\n")}, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader).size(), 3u);
  EXPECT_EQ(reader->stats().tasks, 3);
}

TEST(Alibaba2017, NextRunGivesARowsInstancesAtOnce) {
  ReadOptions options;
  options.limit = 7;
  std::unique_ptr<TraceReader> reader = Open(
      {WriteFixture("a17_runs.csv", "1,2,1,1,5,Terminated,100,0.5\n3,9,2,4,3,Failed,50,0.25\n")},
      options);
  ASSERT_NE(reader, nullptr);
  TaskRun run;
  ASSERT_TRUE(reader->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 5);
  EXPECT_EQ(run.first.trace_id, "1/1/0");
  EXPECT_EQ(run.prefix, 4u);
  EXPECT_EQ(run.index, 0u);
  EXPECT_EQ(run.TraceId(4), "1/1/4");
  EXPECT_EQ(run.first.demand.cpus, 1);
  ASSERT_TRUE(reader->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 2);  // the limit cuts the second row
  EXPECT_EQ(run.first.trace_id, "2/4/0");
  EXPECT_EQ(run.first.duration, 6);
  EXPECT_EQ(run.first.demand.cpus, 0.5);
  EXPECT_FALSE(reader->NextRun(&run).value_or(true));
  EXPECT_EQ(reader->stats().tasks, 7);
}

TEST(Alibaba2017, StrictStopsAtTheFirstBadRecordThroughNextRun) {
  ReadOptions options;
  options.strict = true;
  absl::StatusOr<std::unique_ptr<TraceReader>> reader =
      OpenAlibaba2017({SharedTrace("alibaba2017/batch_task.csv")}, options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  TaskRun run;
  absl::StatusOr<bool> more;
  int64_t count = 0;
  int64_t runs = 0;
  while ((more = (*reader)->NextRun(&run)).ok() && *more) {
    count += run.count;
    ++runs;
  }
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(more.status().message(), HasSubstr("batch_task.csv:4: Waiting task without"));
  EXPECT_EQ(count, 15741);
  EXPECT_EQ(runs, 2);  // one per row
}

TEST(Alibaba2017, FilesAreRecognisedByContentWhenRenamed) {
  const std::string tasks = WriteFixture("renamed_a.csv", "1,2,1,1,1,Terminated,100,0.5\n");
  const std::string events = WriteFixture("renamed_b.csv", "0,5,add,,64,0.5,0.25\n");
  std::unique_ptr<TraceReader> reader = Open({events, tasks});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->machines().size(), 1u);
  EXPECT_EQ(ReadAll(*reader).size(), 1u);
  const std::string header_only = WriteFixture("renamed_c.csv", kHeader);
  EXPECT_TRUE(OpenAlibaba2017({header_only}, {}).ok());
}

TEST(Alibaba2017, BadInputIsAClearError) {
  const std::string tasks = WriteFixture("a17_bad_tasks.csv", "1,2,1,1,1,Terminated,100,0.5\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> missing =
      OpenAlibaba2017({tasks, "/nonexistent/server_event.csv"}, {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  // A batch_instance.csv row (12 columns) fits no role.
  const std::string instance =
      WriteFixture("a17_instance.csv", "5,10,1,1,99,Terminated,1,1,0.5,0.4,0.01,0.01\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> unknown = OpenAlibaba2017({tasks, instance}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("a17_instance.csv: not an alibaba2017 file"));

  const std::string events = WriteFixture("a17_only_events.csv", "0,5,add,,64,0.5,0.25\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> no_tasks = OpenAlibaba2017({events}, {});
  EXPECT_EQ(no_tasks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_tasks.status().message(), HasSubstr("no batch_task.csv"));

  absl::StatusOr<std::unique_ptr<TraceReader>> twice = OpenAlibaba2017({tasks, tasks}, {});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);

  ReadOptions strict;
  strict.strict = true;
  const std::string garbage =
      WriteFixture("batch_task_garbage.csv", "1,2,1,1,1,Terminated,100,0.5\nnot a row at all\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenAlibaba2017({garbage}, strict);
  ASSERT_TRUE(reader.ok());
  TaskRecord task;
  EXPECT_TRUE(*(*reader)->Next(&task));
  absl::StatusOr<bool> more = (*reader)->Next(&task);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(more.status().message(),
              HasSubstr("batch_task_garbage.csv:2: expected 8 batch_task columns, found 1"));

  const std::string bad_values = WriteFixture(
      "batch_task_values.csv",
      "1,2,1,1,0,Terminated,100,0.5\nx,2,1,1,1,Terminated,100,0.5\n1,2,1,1,1,Lost,100,0.5\n"
      "1,2,1,1,1,Terminated,-5,0.5\n1,2,1,1,1,Terminated,100,lots\n1,2,,1,1,Terminated,1,1\n");
  reader = OpenAlibaba2017({bad_values}, {});
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(ReadAll(**reader).empty());
  EXPECT_EQ((*reader)->stats().skipped, (std::map<std::string, int64_t>{
                                            {"bad timestamp", 1},
                                            {"bad instance_num", 1},
                                            {"unknown status", 1},
                                            {"bad plan_cpu", 1},
                                            {"bad plan_mem", 1},
                                            {"missing id", 1},
                                        }));

  const std::string bad_events = WriteFixture(
      "server_event_bad.csv", "0,1,add,,64,0.5\n0,2,reboot,,64,0.5,1\n0,3,add,,0,0.5,1\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> events_strict =
      OpenAlibaba2017({tasks, bad_events}, strict);
  EXPECT_THAT(events_strict.status().message(),
              HasSubstr("server_event_bad.csv:1: expected 7 server_event columns, found 6"));
  absl::StatusOr<std::unique_ptr<TraceReader>> events_lenient =
      OpenAlibaba2017({tasks, bad_events}, {});
  ASSERT_TRUE(events_lenient.ok());
  EXPECT_TRUE((*events_lenient)->machines().empty());
  EXPECT_EQ((*events_lenient)->stats().skipped, (std::map<std::string, int64_t>{
                                                    {"wrong column count", 1},
                                                    {"unknown event type", 1},
                                                    {"bad capacity", 1},
                                                }));
}

}  // namespace
}  // namespace steward::traces
