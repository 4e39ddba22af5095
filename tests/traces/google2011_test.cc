// Google clusterdata-2011-2 reader: the published job_events part, task and machine events on
// fixtures written from the documented schema, strict and lenient handling of bad input.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/reader_test_util.h"
#include "tests/traces/test_files.h"
#include "traces/internal/readers.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using testing::ReadAll;
using testing::SharedTrace;
using testing::Strict;
using testing::WriteFixture;

constexpr char kJobEvents[] = "google2011/job_events/part-00000-of-00500.csv.gz";
constexpr char kUser[] = "70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=";

std::unique_ptr<TraceReader> Open(const std::vector<std::string>& paths,
                                  const ReadOptions& options = {}) {
  return testing::ExpectOpened(internal::OpenGoogle2011(paths, options));
}

// task_events: time,missing_info,job_id,task_index,machine_id,event_type,user,
// scheduling_class,priority,cpu_request,memory_request,disk_request,different_machine_restriction
std::string TaskEvent(int64_t micros, int64_t job, int index, int type, double cpu = 0.25,
                      double mem = 0.5, double disk = 0.001, int scheduling_class = 2,
                      int priority = 9) {
  return std::to_string(micros) + ",," + std::to_string(job) + "," + std::to_string(index) + ",," +
         std::to_string(type) + "," + kUser + "," + std::to_string(scheduling_class) + "," +
         std::to_string(priority) + "," + std::to_string(cpu) + "," + std::to_string(mem) + "," +
         std::to_string(disk) + ",0\n";
}

// The published part holds 10,704 job events (4,900 jobs, 4,092 logical names; counted with
// zcat | awk) and no task events: no tasks, every line counted, nothing skipped.
TEST(Google2011RealTrace, JobEventsAloneGiveNoTasks) {
  for (const ReadOptions& options : {ReadOptions(), Strict()}) {
    std::unique_ptr<TraceReader> reader = Open({SharedTrace(kJobEvents)}, options);
    ASSERT_NE(reader, nullptr);
    EXPECT_THAT(reader->machines(), IsEmpty());
    TaskRecord task;
    absl::StatusOr<bool> more = reader->Next(&task);
    ASSERT_TRUE(more.ok()) << more.status();
    EXPECT_FALSE(*more);
    EXPECT_EQ(reader->stats().lines, 10704);
    EXPECT_EQ(reader->stats().tasks, 0);
    EXPECT_EQ(reader->stats().machine_events, 0);
    EXPECT_THAT(reader->stats().skipped, IsEmpty());
  }
}

TEST(Google2011RealTrace, JobEventsNameTheTasksApplication) {
  const std::string tasks = WriteFixture(
      "task_events-join.csv", TaskEvent(0, 3418309, 0, 0) + TaskEvent(0, 3418314, 0, 0) +
                                  TaskEvent(1000000, 99, 0, 0) + TaskEvent(2000000, 3418309, 0, 5));
  std::unique_ptr<TraceReader> reader = Open({tasks, SharedTrace(kJobEvents)});
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> records = ReadAll(*reader);
  ASSERT_EQ(records.size(), 3u);
  // Killed at 2 s, never scheduled: runs for the 2 s it waited.
  EXPECT_EQ(records[0].trace_id, "3418309/0@0");
  EXPECT_EQ(records[0].app, "wAmgn2H74cdoMuSFwJF3NaUEaudVBTZ0/HaNZBwIpEQ=");
  EXPECT_EQ(records[0].duration, 2);
  // Still pending when the events end.
  EXPECT_EQ(records[1].app, "ShNjeaoUeqGV2i9WMKEX9HTeuc9K2Fdfovibt7Mp6qI=");
  EXPECT_EQ(records[1].duration, 0);
  EXPECT_EQ(records[2].job, "99");
  EXPECT_TRUE(records[2].app.empty());  // not in job_events
  EXPECT_EQ(reader->stats().lines, 10704 + 4);
}

// One task's life across two part files given out of order, one of them compressed.
TEST(Google2011Fixture, TaskLifecycles) {
  const std::string part0 =
      WriteFixture("task_events-part-00000-of-00002.csv",
                   TaskEvent(0, 1, 0, 0) +                           // SUBMIT before the window
                       TaskEvent(0, 1, 0, 1) +                       // SCHEDULE
                       TaskEvent(600000000, 1, 1, 0) +               // SUBMIT
                       TaskEvent(600500000, 1, 1, 1) +               // SCHEDULE
                       TaskEvent(700000000, 1, 0, 4) +               // FINISH: 1/0 ran 700 s
                       TaskEvent(700000000, 1, 1, 2) +               // EVICT: 1/1 ran 99.5 s
                       TaskEvent(700000001, 1, 1, 0, 0.125, 0.25));  // resubmitted: a new run
  const std::string part1 =
      WriteFixture("task_events-part-00001-of-00002.csv.gz",
                   TaskEvent(800000000, 1, 1, 1) +                         // SCHEDULE
                       TaskEvent(800000000, 1, 1, 3) +                     // FAIL at once: 1 us
                       TaskEvent(810000000, 2, 0, 0) +                     // SUBMIT
                       TaskEvent(820000000, 2, 0, 7, 0.5, 0.5, 0, 1, 4) +  // UPDATE_PENDING
                       TaskEvent(830000000, 2, 0, 5) +                     // KILL while pending
                       TaskEvent(840000000, 3, 0, 1) +           // SCHEDULE without SUBMIT
                       TaskEvent(850000000, 3, 0, 8, 1, 1) +     // UPDATE_RUNNING
                       TaskEvent(860000000, 4, 0, 0) +           // pending at the end
                       TaskEvent(870000000, 5, 0, 0) +           // running at the end
                       TaskEvent(880000000, 5, 0, 1) +           //
                       TaskEvent(9223372036854775807, 3, 0, 4),  // FINISH after the window
                   /*gzip=*/true);
  std::unique_ptr<TraceReader> reader = Open({part1, part0}, Strict());
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 7u);
  // The default reference machine: 32 cores, 65536 MB, 1048576 MB of disk.
  EXPECT_EQ(tasks[0].trace_id, "1/0@0");
  EXPECT_EQ(tasks[0].submit_time, 0);
  EXPECT_EQ(tasks[0].duration, 700);
  EXPECT_EQ(tasks[0].demand, (ResourceVector{.cpus = 8, .mem = 32768, .disk = 1048.576}));
  EXPECT_EQ(tasks[0].user, kUser);
  EXPECT_EQ(tasks[0].job, "1");
  EXPECT_EQ(tasks[0].qos, "2");
  EXPECT_EQ(tasks[0].priority, 9);
  EXPECT_TRUE(tasks[0].app.empty());
  EXPECT_EQ(tasks[1].trace_id, "1/1@600000000");
  EXPECT_EQ(tasks[1].submit_time, 600);
  EXPECT_DOUBLE_EQ(tasks[1].duration, 99.5);
  EXPECT_EQ(tasks[2].trace_id, "1/1@700000001");
  EXPECT_DOUBLE_EQ(tasks[2].submit_time, 700.000001);
  EXPECT_DOUBLE_EQ(tasks[2].duration, 1e-6);
  EXPECT_EQ(tasks[2].demand.cpus, 4);
  EXPECT_EQ(tasks[2].demand.mem, 16384);
  EXPECT_EQ(tasks[3].trace_id, "2/0@810000000");
  EXPECT_EQ(tasks[3].duration, 20);
  EXPECT_EQ(tasks[3].demand, (ResourceVector{.cpus = 16, .mem = 32768}));
  EXPECT_EQ(tasks[3].qos, "1");
  EXPECT_EQ(tasks[3].priority, 4);
  EXPECT_EQ(tasks[4].trace_id, "3/0@840000000");
  EXPECT_EQ(tasks[4].submit_time, 840);
  EXPECT_EQ(tasks[4].duration, 0);
  EXPECT_EQ(tasks[4].demand.cpus, 8);  // not the running update's 32
  EXPECT_EQ(tasks[5].trace_id, "4/0@860000000");
  EXPECT_EQ(tasks[5].duration, 0);
  EXPECT_EQ(tasks[6].trace_id, "5/0@870000000");
  EXPECT_EQ(tasks[6].duration, 0);
  EXPECT_EQ(reader->stats().lines, 18);
  EXPECT_EQ(reader->stats().tasks, 7);
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair("adjusted: ended after the trace window (runs to the end)", 1),
                          Pair("adjusted: never scheduled (runs for its pending time)", 1),
                          Pair("adjusted: scheduled without submit", 1),
                          Pair("adjusted: zero run time (1 us)", 1),
                          Pair("ignored: request update while running", 1)));
}

TEST(Google2011Fixture, ReferenceMachineAndLimit) {
  const std::string tasks =
      WriteFixture("task_events-ref.csv",
                   TaskEvent(5000000, 7, 0, 0, 0.5, 0.25, 0.5) + TaskEvent(5000000, 7, 1, 0) +
                       TaskEvent(6000000, 7, 0, 1) + TaskEvent(9000000, 7, 0, 4));
  ReadOptions options;
  options.normalised_machine = ResourceVector{.cpus = 64, .mem = 1000};  // disk: the default
  options.limit = 1;
  std::unique_ptr<TraceReader> reader = Open({tasks}, options);
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> records = ReadAll(*reader);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].demand, (ResourceVector{.cpus = 32, .mem = 250, .disk = 524288}));
  EXPECT_EQ(records[0].submit_time, 5);
  EXPECT_EQ(records[0].duration, 3);
}

// machine_events: time,machine_id,event_type,platform_id,cpus,memory
TEST(Google2011Fixture, MachineEvents) {
  const std::string part0 = WriteFixture("machine_events-part-00000-of-00002.csv.gz",
                                         "0,5,0,P1,0.5,0.25\n"
                                         "0,6,0,P2,1,1\n"
                                         "100000000,5,2,P1,0.5,0.25\n"   // no change
                                         "200000000,5,2,P1,1,0.5\n"      // a capacity change
                                         "50000000,9,0,P1,0.25,0.25\n",  // out of time order
                                         /*gzip=*/true);
  const std::string part1 = WriteFixture("machine_events-part-00001-of-00002.csv",
                                         "300000000,6,1,,,\n"
                                         "400000000,7,0,P1,,\n"  // line 2: no capacity
                                         "500000000,8,1,,,\n"    // line 3: never added
                                         "-5,10,0,P3,0.5,0.5\n"  // before the trace
                                         "9223372036854775807,9,1,,,\n");
  std::unique_ptr<TraceReader> reader = Open({part1, part0});
  ASSERT_NE(reader, nullptr);
  const std::vector<MachineEvent>& machines = reader->machines();
  ASSERT_EQ(machines.size(), 7u);
  using Type = MachineEvent::Type;
  EXPECT_EQ(machines[0].name, "10");
  EXPECT_EQ(machines[0].time, 0);
  EXPECT_EQ(machines[1].name, "5");
  EXPECT_EQ(machines[1].type, Type::kAdd);
  EXPECT_EQ(machines[1].capacity, (ResourceVector{.cpus = 16, .mem = 16384, .disk = 1048576}));
  EXPECT_THAT(machines[1].attributes, ElementsAre(Pair("platform_id", "P1")));
  EXPECT_EQ(machines[2].name, "6");
  EXPECT_EQ(machines[3].name, "9");
  EXPECT_EQ(machines[3].time, 50);
  EXPECT_EQ(machines[4].name, "5");
  EXPECT_EQ(machines[4].time, 200);
  EXPECT_EQ(machines[4].type, Type::kRemove);
  EXPECT_EQ(machines[5].name, "5");
  EXPECT_EQ(machines[5].type, Type::kAdd);
  EXPECT_EQ(machines[5].capacity.cpus, 32);
  EXPECT_EQ(machines[5].capacity.mem, 32768);
  EXPECT_EQ(machines[6].name, "6");
  EXPECT_EQ(machines[6].time, 300);
  EXPECT_EQ(machines[6].type, Type::kRemove);
  EXPECT_EQ(reader->stats().machine_events, 7);
  EXPECT_EQ(reader->stats().lines, 10);
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair("adjusted: negative time", 1), Pair("empty capacity", 1),
                          Pair("ignored: machine event after the trace window", 1),
                          Pair("ignored: machine update without capacity change", 1),
                          Pair("remove of an absent machine", 1)));
  EXPECT_EQ(reader->stats().examples[0], part1 + ":2: machine 7 has no cpus");
  EXPECT_EQ(reader->stats().examples[1], part1 + ":3: remove of an absent machine 8");
  TaskRecord task;
  EXPECT_FALSE(reader->Next(&task).value_or(true));
}

TEST(Google2011Fixture, TablesRecognisedByColumnCount) {
  const std::string machines = WriteFixture("m.csv", "0,1,0,P,0.5,0.5\n");
  const std::string tasks = WriteFixture(
      "t.csv", TaskEvent(0, 1, 0, 0) + TaskEvent(0, 1, 0, 1) + TaskEvent(3000000, 1, 0, 4));
  const std::string jobs = WriteFixture("j.csv", "0,,1,0,u,2,name,logical\n");
  std::unique_ptr<TraceReader> reader = Open({tasks, jobs, machines}, Strict());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->machines().size(), 1u);
  std::vector<TaskRecord> records = ReadAll(*reader);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].app, "logical");
  EXPECT_EQ(records[0].duration, 3);
  EXPECT_EQ(reader->stats().lines, 5);
}

constexpr char kBadEvents[] = "garbage\n";  // line 2 of the file below

std::string BadTaskEvents() {
  return TaskEvent(0, 1, 0, 0) + kBadEvents +               // line 2: one column
         TaskEvent(10, 2, 0, 4) +                           // line 3: end of a task never seen
         TaskEvent(20, 1, 0, 9) +                           // line 4: no event type 9
         TaskEvent(30, 1, 0, 0) +                           // line 5: submitted twice
         TaskEvent(40, 1, 0, 1) + TaskEvent(30, 1, 0, 4) +  // line 7: ends before schedule
         "50,,3,0,,0,u,1,0,,0.1,0.1,0\n" +                  // line 8: no cpu request
         "60,,x,0,,0,u,1,0,0.1,0.1,0.1,0\n" +               // line 9
         TaskEvent(70, 4, 0, 7) +                           // line 10: update of a task never seen
         TaskEvent(80, 5, 0, 0) + TaskEvent(90, 5, 0, 4);
}

TEST(Google2011Fixture, LenientCountsEachBadRecord) {
  const std::string path = WriteFixture("task_events-bad.csv", BadTaskEvents());
  std::unique_ptr<TraceReader> reader = Open({path});
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 1u);  // 5/0; 1/0 was dropped at its bad end
  EXPECT_EQ(tasks[0].trace_id, "5/0@80");
  EXPECT_EQ(reader->stats().lines, 12);
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair("adjusted: never scheduled (runs for its pending time)", 1),
                          Pair("bad event_type", 1), Pair("bad job_id", 1), Pair("column count", 1),
                          Pair("end before schedule", 1), Pair("end of an unknown task", 1),
                          Pair("missing request", 1), Pair("submit of an open task", 1),
                          Pair("update of an unknown task", 1)));
  EXPECT_EQ(reader->stats().examples[0], path + ":2: expected 13 task_events columns, found 1");
}

TEST(Google2011Fixture, StrictFailsOnTheFirstBadRecord) {
  const std::string path = WriteFixture("task_events-bad.csv", BadTaskEvents());
  std::unique_ptr<TraceReader> reader = Open({path}, Strict());
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  absl::StatusOr<bool> bad = reader->Next(&task);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), path + ":2: expected 13 task_events columns, found 1");
}

TEST(Google2011Fixture, BadFiles) {
  EXPECT_EQ(
      internal::OpenGoogle2011({"/nonexistent/task_events/part-00000.csv.gz"}, {}).status().code(),
      absl::StatusCode::kNotFound);
  const std::string other = WriteFixture("other.csv", "1,2,3,4,5,6,7\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> unknown = internal::OpenGoogle2011({other}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr(other + ": not a google2011"));
  const std::string empty = WriteFixture("empty.csv", "");
  EXPECT_EQ(internal::OpenGoogle2011({empty}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::OpenGoogle2011({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  // A job_events file with a bad line: an error at open in strict mode.
  const std::string jobs = WriteFixture("job_events-bad.csv", "0,,1,0,u,2,n,l\n0,,1,0,u\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> strict = internal::OpenGoogle2011({jobs}, Strict());
  ASSERT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.status().message(), jobs + ":2: expected 8 job_events columns, found 5");
}

}  // namespace
}  // namespace steward::traces
