// SWF reader: the three published Parallel Workloads Archive logs, the header, every field
// mapping and quirk on fixtures, strict and lenient handling of bad input.
#include "traces/swf.h"

#include <cstdint>
#include <memory>
#include <set>
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
using testing::ForEachTask;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using testing::ReadAll;
using testing::SharedTrace;
using testing::WriteFixture;

constexpr char kNoMemory[] = "adjusted: no memory (default per processor)";
constexpr char kZeroRun[] = "adjusted: zero run time (1 s)";

ReadOptions Options(bool strict, double mem_per_proc_mb = 0) {
  ReadOptions options;
  options.strict = strict;
  options.swf_mem_per_proc_mb = mem_per_proc_mb;
  return options;
}

std::unique_ptr<TraceReader> Open(const std::string& path, const ReadOptions& options = {}) {
  return testing::ExpectOpened(internal::OpenSwf({path}, options));
}

// What a whole real log adds up to, computed while streaming (the logs expand to up to 310,000
// tasks, so tasks are not kept).
struct LogTotals {
  int64_t tasks = 0;
  double cpu_seconds = 0;
  double submit_sum = 0;
  double mem = 0;
  std::set<std::string> users, groups, queues;
};

LogTotals Stream(TraceReader& reader) {
  LogTotals totals;
  ForEachTask(reader, [&](const TaskRecord& task) {
    ++totals.tasks;
    totals.cpu_seconds += task.demand.cpus * task.duration;
    totals.submit_sum += task.submit_time;
    totals.mem += task.demand.mem;
    totals.users.insert(task.user);
    totals.groups.insert(task.group);
    totals.queues.insert(task.queue);
  });
  return totals;
}

void ExpectMachines(const TraceReader& reader, size_t count, double cpus_each) {
  const std::vector<MachineEvent>& machines = reader.machines();
  ASSERT_EQ(machines.size(), count);
  EXPECT_EQ(reader.stats().machine_events, static_cast<int64_t>(count));
  for (size_t i = 0; i < machines.size(); ++i) {
    EXPECT_EQ(machines[i].time, 0);
    EXPECT_EQ(machines[i].capacity, (ResourceVector{.cpus = cpus_each, .mem = cpus_each * 1024}));
    if (i > 0) {
      EXPECT_LT(machines[i - 1].name, machines[i].name);
    }
  }
}

// Expected numbers computed with zcat | awk over the published logs. A job of N processors is N
// tasks; sums are processors x run time (0 -> 1 s) and processors x submit time.
TEST(SwfRealTrace, Kth) {
  std::unique_ptr<TraceReader> reader = Open(SharedTrace("swf/KTH-SP2-1996-2.1-cln.swf.gz"));
  ASSERT_NE(reader, nullptr);
  ExpectMachines(*reader, 100, 1);  // MaxNodes 100, MaxProcs 100
  EXPECT_EQ(reader->machines()[0].name, "node-00");
  LogTotals totals = Stream(*reader);
  // 28,476 records (the header's MaxRecords); job 27313 states neither processor count.
  EXPECT_EQ(reader->stats().lines, 28476);
  EXPECT_EQ(totals.tasks, 217830);
  EXPECT_EQ(reader->stats().tasks, 217830);
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNoMemory, 28475), Pair(kZeroRun, 8),
                                                   Pair("unknown processors", 1)));
  EXPECT_DOUBLE_EQ(totals.cpu_seconds, 2011271385);
  EXPECT_DOUBLE_EQ(totals.submit_sum, 2923748092842);
  EXPECT_DOUBLE_EQ(totals.mem, 217830.0 * 1024);
  EXPECT_EQ(totals.users.size(), 214u);
  EXPECT_EQ(totals.groups.size(), 252u);
  EXPECT_THAT(totals.queues, ElementsAre(""));  // -1 throughout
}

TEST(SwfRealTrace, KthStrictStopsAtTheJobWithoutProcessors) {
  std::unique_ptr<TraceReader> reader =
      Open(SharedTrace("swf/KTH-SP2-1996-2.1-cln.swf.gz"), Options(/*strict=*/true));
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  absl::StatusOr<bool> more = true;
  int64_t tasks = 0;
  while (more.ok() && *more) {
    more = reader->Next(&task);
    if (more.ok() && *more) ++tasks;
  }
  ASSERT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(more.status().message(),
              HasSubstr("KTH-SP2-1996-2.1-cln.swf.gz:27323: requested -1 and allocated -1"));
  EXPECT_GT(tasks, 200000);
}

TEST(SwfRealTrace, Nasa) {
  std::unique_ptr<TraceReader> reader =
      Open(SharedTrace("swf/NASA-iPSC-1993-3.1-cln.swf.gz"), Options(/*strict=*/true));
  ASSERT_NE(reader, nullptr);
  ExpectMachines(*reader, 128, 1);
  LogTotals totals = Stream(*reader);
  // The cleaned log has 18,239 records (its header's MaxRecords, 42,264, is the original's).
  EXPECT_EQ(reader->stats().lines, 18239);
  EXPECT_EQ(totals.tasks, 309953);
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNoMemory, 18239), Pair(kZeroRun, 173)));
  EXPECT_DOUBLE_EQ(totals.cpu_seconds, 474244330);
  EXPECT_DOUBLE_EQ(totals.submit_sum, 1184275054180);
  EXPECT_EQ(totals.users.size(), 69u);
  EXPECT_EQ(totals.groups.size(), 2u);
}

TEST(SwfRealTrace, LcgWithItsLongHeader) {
  std::unique_ptr<TraceReader> reader =
      Open(SharedTrace("swf/LCG.swf.gz"), Options(/*strict=*/false, /*mem_per_proc_mb=*/2048));
  ASSERT_NE(reader, nullptr);
  // Only MaxProcs (24,515) is stated: machines of one processor each.
  const std::vector<MachineEvent>& machines = reader->machines();
  ASSERT_EQ(machines.size(), 24515u);
  EXPECT_EQ(machines[0].name, "node-00000");
  EXPECT_EQ(machines.back().name, "node-24514");
  EXPECT_EQ(machines.back().capacity, (ResourceVector{.cpus = 1, .mem = 2048}));
  LogTotals totals = Stream(*reader);
  EXPECT_EQ(reader->stats().lines, 188041);  // MaxRecords
  EXPECT_EQ(totals.tasks, 188041);
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNoMemory, 188041), Pair(kZeroRun, 521)));
  EXPECT_DOUBLE_EQ(totals.cpu_seconds, 1502531280);
  EXPECT_DOUBLE_EQ(totals.submit_sum, 94744116545);
  EXPECT_DOUBLE_EQ(totals.mem, 188041.0 * 2048);
  EXPECT_EQ(totals.users.size(), 216u);
  EXPECT_EQ(totals.groups.size(), 28u);
}

TEST(SwfRealTrace, Headers) {
  absl::StatusOr<SwfHeader> lcg = ReadSwfHeader(SharedTrace("swf/LCG.swf.gz"));
  ASSERT_TRUE(lcg.ok()) << lcg.status();
  EXPECT_EQ(lcg->entries.size(), 186u);
  ASSERT_NE(lcg->Find("UnixStartTime"), nullptr);
  EXPECT_EQ(*lcg->Find("UnixStartTime"), "1132444805");
  EXPECT_EQ(*lcg->Find("MaxProcs"), "24515");
  EXPECT_EQ(lcg->Find("MaxNodes"), nullptr);
  EXPECT_EQ(*lcg->Find("Partition"), "1 grid.ici.ro");
  int partitions = 0;
  for (const auto& [key, value] : lcg->entries) partitions += key == "Partition" ? 1 : 0;
  EXPECT_EQ(partitions, 170);

  absl::StatusOr<SwfHeader> kth = ReadSwfHeader(SharedTrace("swf/KTH-SP2-1996-2.1-cln.swf.gz"));
  ASSERT_TRUE(kth.ok()) << kth.status();
  EXPECT_EQ(kth->entries.size(), 18u);
  EXPECT_EQ(*kth->Find("Computer"), "IBM SP2");
  EXPECT_EQ(*kth->Find("StartTime"), "Mon Sep 23 14:00:31 CEST 1996");
  EXPECT_EQ(*kth->Find("Information"), "http://www.pdc.kth.se/");  // continuation left out

  EXPECT_EQ(ReadSwfHeader("/nonexistent.swf").status().code(), absl::StatusCode::kNotFound);
}

constexpr char kHeader[] =
    "; Version: 2.2\n"
    "; MaxNodes: 4\n"
    "; MaxProcs: 32\n"
    ";       a continuation line: not a key\n";

TEST(SwfFixture, FieldMapping) {
  const std::string path = WriteFixture(
      "jobs.swf",
      std::string(kHeader) +
          // job submit wait run alloc cpu usedmem reqprocs reqtime reqmem status user group
          // exe queue partition preceding think
          "1 10 5 100 2 -1 -1 3 200 4096 1 7 8 9 2 1 -1 -1\n"           // requested 3, 4 MB each
          "  2 20.00 -1 0 2 -1 2048 -1 -1 -1 0 -1 -1 -1 -1 -1 -1 -1\n"  // allocated, used mem
          "3 -5 0 30 1 -1 -1 1 -1 -1 5 1 1 1 1 1 -1 -1\n"               // before the log
          "4 40 0 50 16 -1 -1 2 -1 -1 1 1 1 1 1 1 -1 -1\n"              // 2 nodes of 8 procs
          "5 50 0 60 8 -1 -1 99 -1 -1 1 1 1 1 1 1 -1 -1\n"              // 99 > MaxProcs
          "6 60 0 70 5 -1 -1 4 -1 -1 1 1 1 1 1 1 -1 -1\n");             // just different
  std::unique_ptr<TraceReader> reader = Open(path, Options(/*strict=*/true, 512));
  ASSERT_NE(reader, nullptr);
  // MaxNodes 4 of MaxProcs / MaxNodes = 8 processors, 512 MB per processor.
  ASSERT_EQ(reader->machines().size(), 4u);
  EXPECT_EQ(reader->machines()[3].name, "node-3");
  EXPECT_EQ(reader->machines()[3].capacity, (ResourceVector{.cpus = 8, .mem = 4096}));
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 3u + 2 + 1 + 16 + 8 + 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tasks[i].trace_id, "1/" + std::to_string(i));
    EXPECT_EQ(tasks[i].submit_time, 10);
    EXPECT_EQ(tasks[i].duration, 100);
    EXPECT_EQ(tasks[i].demand, (ResourceVector{.cpus = 1, .mem = 4}));
    EXPECT_EQ(tasks[i].job, "1");
    EXPECT_EQ(tasks[i].user, "7");
    EXPECT_EQ(tasks[i].group, "8");
    EXPECT_EQ(tasks[i].app, "9");
    EXPECT_EQ(tasks[i].queue, "2");
    EXPECT_TRUE(tasks[i].qos.empty());
  }
  EXPECT_EQ(tasks[3].trace_id, "2/0");
  EXPECT_EQ(tasks[3].submit_time, 20);
  EXPECT_EQ(tasks[3].duration, 1);
  EXPECT_EQ(tasks[3].demand, (ResourceVector{.cpus = 1, .mem = 2}));
  EXPECT_TRUE(tasks[3].user.empty() && tasks[3].queue.empty() && tasks[3].app.empty());
  EXPECT_EQ(tasks[5].trace_id, "3/0");
  EXPECT_EQ(tasks[5].submit_time, 0);
  EXPECT_EQ(tasks[5].demand.mem, 512);
  EXPECT_EQ(tasks[6].trace_id, "4/0");
  EXPECT_EQ(tasks[21].trace_id, "4/15");
  EXPECT_EQ(tasks[22].trace_id, "5/0");
  EXPECT_EQ(tasks[29].trace_id, "5/7");
  EXPECT_EQ(tasks[30].trace_id, "6/0");
  EXPECT_EQ(tasks.back().trace_id, "6/3");
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair("adjusted: negative submit time", 1), Pair(kNoMemory, 4),
                          Pair("adjusted: requested processors beyond the machine", 1),
                          Pair("adjusted: requested processors in nodes", 1), Pair(kZeroRun, 1)));
}

TEST(SwfFixture, MachinesFromPartialHeaders) {
  // Processors that do not divide evenly: the first machines get one more.
  std::unique_ptr<TraceReader> uneven =
      Open(WriteFixture("uneven.swf", "; MaxNodes: 3\n; MaxProcs: 8\n"));
  ASSERT_NE(uneven, nullptr);
  ASSERT_EQ(uneven->machines().size(), 3u);
  EXPECT_EQ(uneven->machines()[0].capacity.cpus, 3);
  EXPECT_EQ(uneven->machines()[1].capacity.cpus, 3);
  EXPECT_EQ(uneven->machines()[2].capacity.cpus, 2);
  EXPECT_EQ(uneven->machines()[2].capacity.mem, 2048);  // default 1024 MB per processor
  // Only MaxNodes: single-processor nodes.
  std::unique_ptr<TraceReader> nodes = Open(WriteFixture("nodes.swf", "; MaxNodes: 2\n"));
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(nodes->machines().size(), 2u);
  // No header, gzipped: no machines; the first line is a job.
  std::unique_ptr<TraceReader> bare = Open(
      WriteFixture("bare.swf.gz", "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n", /*gzip=*/true));
  ASSERT_NE(bare, nullptr);
  EXPECT_THAT(bare->machines(), IsEmpty());
  EXPECT_EQ(ReadAll(*bare).size(), 1u);
  // A bad header value: counted in lenient mode, an error naming the line in strict mode.
  const std::string bad = WriteFixture("bad_header.swf", "; Version: 2.2\n; MaxProcs: many\n");
  std::unique_ptr<TraceReader> lenient = Open(bad);
  ASSERT_NE(lenient, nullptr);
  EXPECT_THAT(lenient->machines(), IsEmpty());
  EXPECT_THAT(lenient->stats().skipped, ElementsAre(Pair("bad header value", 1)));
  absl::StatusOr<std::unique_ptr<TraceReader>> strict =
      internal::OpenSwf({bad}, Options(/*strict=*/true));
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.status().message(), bad + ":2: MaxProcs 'many' is not a positive integer");
}

constexpr char kBadJobs[] =
    "; MaxProcs: 4\n"
    "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n"
    "2 0 0 10 1 -1 -1 1\n"                             // line 3: too few fields
    "3 0 0 ten 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n"    // line 4
    "4 0 0 -1 1 -1 -1 1 -1 -1 5 1 1 1 1 1 -1 -1\n"     // line 5: cancelled, never ran
    "5 -1 0 10 1 -1 -1 1 -1 -1 1 1 1 1 1 1 -1 -1\n"    // line 6
    "6 0 0 10 -1 -1 -1 -1 -1 -1 1 1 1 1 1 1 -1 -1\n"   // line 7
    "7 0 0 10 1.5 -1 -1 -1 -1 -1 1 1 1 1 1 1 -1 -1\n"  // line 8
    "; a comment between jobs\n"
    "\n"
    "8 0 0 10 2 -1 -1 2 -1 -1 1 1 1 1 1 1 -1 -1\n";

TEST(SwfFixture, LenientCountsEachBadRecord) {
  const std::string path = WriteFixture("bad.swf", kBadJobs);
  std::unique_ptr<TraceReader> reader = Open(path);
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[2].trace_id, "8/1");
  EXPECT_EQ(reader->stats().lines, 8);
  EXPECT_THAT(
      reader->stats().skipped,
      ElementsAre(Pair(kNoMemory, 2), Pair("column count", 1), Pair("fractional processors", 1),
                  Pair("not a number", 1), Pair("unknown processors", 1),
                  Pair("unknown run time", 1), Pair("unknown submit time", 1)));
  EXPECT_EQ(reader->stats().examples[0], path + ":3: expected 18 fields, found 8");
}

TEST(SwfFixture, StrictFailsOnTheFirstBadRecord) {
  const std::string path = WriteFixture("bad.swf", kBadJobs);
  std::unique_ptr<TraceReader> reader = Open(path, Options(/*strict=*/true));
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  ASSERT_TRUE(reader->Next(&task).value_or(false));
  absl::StatusOr<bool> bad = reader->Next(&task);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), path + ":3: expected 18 fields, found 8");
}

TEST(SwfFixture, LimitCountsTasksNotJobs) {
  const std::string path =
      WriteFixture("big.swf", "1 0 0 10 64 -1 -1 64 -1 -1 1 1 1 1 1 1 -1 -1\n");
  ReadOptions options;
  options.limit = 10;
  std::unique_ptr<TraceReader> reader = Open(path, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader).size(), 10u);
}

TEST(SwfFixture, NextRunGivesAJobsTasksAtOnce) {
  const std::string path = WriteFixture(
      "runs.swf",
      "7 0 0 10 64 -1 -1 64 -1 -1 1 1 1 1 1 1 -1 -1\n8 5 0 10 3 -1 -1 3 -1 -1 1 1 1 1 1 1 -1 -1\n");
  ReadOptions options;
  options.limit = 66;
  std::unique_ptr<TraceReader> reader = Open(path, options);
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  ASSERT_TRUE(reader->Next(&task).value_or(false));  // task 0 of job 7
  TaskRun run;
  ASSERT_TRUE(reader->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 63);  // the rest of job 7
  EXPECT_EQ(run.first.trace_id, "7/1");
  EXPECT_EQ(run.prefix, 2u);
  EXPECT_EQ(run.index, 1u);
  EXPECT_EQ(run.TraceId(62), "7/63");
  EXPECT_EQ(run.first.demand, task.demand);
  ASSERT_TRUE(reader->NextRun(&run).value_or(false));
  EXPECT_EQ(run.count, 2);  // the limit cuts job 8
  EXPECT_EQ(run.first.submit_time, 5);
  EXPECT_FALSE(reader->NextRun(&run).value_or(true));
  EXPECT_EQ(reader->stats().tasks, 66);
  // Expanded, the runs are the tasks Next() gives.
  std::unique_ptr<TraceReader> by_task = Open(path, options);
  std::unique_ptr<TraceReader> by_run = Open(path, options);
  ASSERT_NE(by_task, nullptr);
  ASSERT_NE(by_run, nullptr);
  const std::vector<TaskRecord> tasks = ReadAll(*by_task);
  const std::vector<TaskRecord> expanded = testing::ReadAllRuns(*by_run);
  ASSERT_EQ(tasks.size(), expanded.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_TRUE(testing::SameTask(tasks[i], expanded[i])) << i;
  }
}

TEST(SwfFixture, StrictFailsOnTheFirstBadRecordThroughNextRun) {
  const std::string path = WriteFixture("badruns.swf", kBadJobs);
  std::unique_ptr<TraceReader> reader = Open(path, Options(/*strict=*/true));
  ASSERT_NE(reader, nullptr);
  TaskRun run;
  ASSERT_TRUE(reader->NextRun(&run).value_or(false));
  absl::StatusOr<bool> bad = reader->NextRun(&run);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), path + ":3: expected 18 fields, found 8");
}

TEST(SwfFixture, BadFiles) {
  EXPECT_EQ(internal::OpenSwf({"/nonexistent/x.swf"}, {}).status().code(),
            absl::StatusCode::kNotFound);
  const std::string csv = WriteFixture("not.swf", "a,b,c\n1,2,3\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> unknown = internal::OpenSwf({csv}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr(csv + ": not an SWF file"));
  const std::string empty = WriteFixture("empty.swf", "");
  EXPECT_EQ(internal::OpenSwf({empty}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::OpenSwf({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string one = WriteFixture("one.swf", "; Version: 2.2\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> two = internal::OpenSwf({one, one}, {});
  EXPECT_EQ(two.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(two.status().message(), HasSubstr("one SWF file"));
}

}  // namespace
}  // namespace steward::traces
