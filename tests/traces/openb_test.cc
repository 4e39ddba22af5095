// openb reader: the published node and pod lists, every field mapping and quirk on fixtures,
// strict and lenient handling of bad input.
#include <map>
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
using ::testing::Pair;
using testing::ReadAll;
using testing::SharedTrace;
using testing::Strict;
using testing::WriteFixture;

constexpr char kNeverScheduled[] = "adjusted: never scheduled (runs for its pending time)";
constexpr char kNoTimes[] = "adjusted: no times (submitted at 0, runs to the end)";
constexpr char kZeroRun[] = "adjusted: zero run time (1 s)";
constexpr char kRenumbered[] = "ignored: gpu node list (renumbered subset of all nodes)";
constexpr char kPodHeader[] =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
    "deletion_time,scheduled_time\n";
constexpr char kNodeHeader[] = "sn,cpu_milli,memory_mib,gpu,model\n";

ReadOptions Limit(int64_t limit) {
  ReadOptions options;
  options.limit = limit;
  return options;
}

std::unique_ptr<TraceReader> Open(const std::vector<std::string>& paths,
                                  const ReadOptions& options = {}) {
  return testing::ExpectOpened(internal::OpenOpenb(paths, options));
}

struct Totals {
  double cpus = 0, mem = 0, gpus = 0, disk = 0, duration = 0, submit = 0;
  std::map<std::string, int> qos;
};

Totals Sum(const std::vector<TaskRecord>& tasks) {
  Totals totals;
  for (const TaskRecord& task : tasks) {
    totals.cpus += task.demand.cpus;
    totals.mem += task.demand.mem;
    totals.gpus += task.demand.gpus;
    totals.disk += task.demand.disk;
    totals.duration += task.duration;
    totals.submit += task.submit_time;
    ++totals.qos[task.qos];
  }
  return totals;
}

// Counts below were computed with awk over the published files (see docs/traces.md):
// 1,523 nodes in the all-node list (310 without GPU), 1,213 in the gpu-node list, 8,152 pods in
// the default list (897 Pending) and 7,439 in cpu050 (878 Pending).
TEST(OpenbRealTrace, DefaultPodsOnAllNodes) {
  std::unique_ptr<TraceReader> reader = Open({SharedTrace("openb/openb_pod_list_default.csv"),
                                              SharedTrace("openb/openb_node_list_all_node.csv")});
  ASSERT_NE(reader, nullptr);
  const std::vector<MachineEvent>& machines = reader->machines();
  ASSERT_EQ(machines.size(), 1523u);
  EXPECT_EQ(machines[0].name, "openb-node-0000");
  EXPECT_EQ(machines[0].capacity, (ResourceVector{.cpus = 32, .mem = 262144}));
  EXPECT_TRUE(machines[0].attributes.empty());
  EXPECT_EQ(machines.back().name, "openb-node-1522");
  EXPECT_EQ(machines.back().capacity, (ResourceVector{.cpus = 96, .mem = 393216, .gpus = 8}));
  EXPECT_THAT(machines.back().attributes, ElementsAre(Pair("gpu_model", "G2")));
  double cpus = 0, mem = 0, gpus = 0;
  int g2 = 0;
  for (const MachineEvent& machine : machines) {
    EXPECT_EQ(machine.time, 0);
    EXPECT_EQ(machine.type, MachineEvent::Type::kAdd);
    cpus += machine.capacity.cpus;
    mem += machine.capacity.mem;
    gpus += machine.capacity.gpus;
    if (!machine.attributes.empty() && machine.attributes[0].second == "G2") ++g2;
  }
  EXPECT_DOUBLE_EQ(cpus, 125514);
  EXPECT_DOUBLE_EQ(mem, 612028416);
  EXPECT_DOUBLE_EQ(gpus, 6212);
  EXPECT_EQ(g2, 549);

  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 8152u);
  EXPECT_EQ(reader->stats().tasks, 8152);
  EXPECT_EQ(reader->stats().lines, 1523 + 8152);
  EXPECT_EQ(reader->stats().machine_events, 1523);
  // openb-pod-6592 (Pending) was deleted at its creation time: 1 s instead of 0.
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNeverScheduled, 897), Pair(kZeroRun, 1)));

  // openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0
  EXPECT_EQ(tasks[0].trace_id, "openb-pod-0000");
  EXPECT_EQ(tasks[0].demand, (ResourceVector{.cpus = 12, .mem = 16384, .gpus = 1}));
  EXPECT_EQ(tasks[0].qos, "LS");
  EXPECT_EQ(tasks[0].submit_time, 0);
  EXPECT_EQ(tasks[0].duration, 12537496);
  // openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061 (a GPU-sharing pod)
  EXPECT_EQ(tasks[1].demand, (ResourceVector{.cpus = 6, .mem = 12288, .gpus = 0.46}));
  EXPECT_EQ(tasks[1].submit_time, 427061);
  EXPECT_EQ(tasks[1].duration, 12902960 - 427061);
  // openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403, (never scheduled)
  EXPECT_EQ(tasks[61].trace_id, "openb-pod-0061");
  EXPECT_EQ(tasks[61].submit_time, 10001278);
  EXPECT_EQ(tasks[61].duration, 10001403 - 10001278);
  EXPECT_DOUBLE_EQ(tasks[61].demand.cpus, 11.908);
  // openb-pod-4999,32000,49152,0,0,,BE,Running,11979977,11980123,11979985
  EXPECT_EQ(tasks[4999].demand, (ResourceVector{.cpus = 32, .mem = 49152}));
  EXPECT_EQ(tasks[4999].duration, 11980123 - 11979985);

  Totals totals = Sum(tasks);
  EXPECT_NEAR(totals.cpus, 85436.012, 1e-6);
  EXPECT_DOUBLE_EQ(totals.mem, 303546211);
  EXPECT_NEAR(totals.gpus, 6086.8, 1e-6);
  EXPECT_DOUBLE_EQ(totals.disk, 0);
  EXPECT_DOUBLE_EQ(totals.duration, 210028342 + 169413 + 1);  // scheduled + pending + 1 s
  EXPECT_DOUBLE_EQ(totals.submit, 94122763871);
  EXPECT_THAT(totals.qos, ElementsAre(Pair("BE", 3398), Pair("Burstable", 100),
                                      Pair("Guaranteed", 7), Pair("LS", 4647)));
  for (const TaskRecord& task : tasks) {
    EXPECT_TRUE(task.user.empty() && task.job.empty() && task.app.empty());
  }
}

TEST(OpenbRealTrace, Cpu050PodsOnGpuNodes) {
  std::unique_ptr<TraceReader> reader = Open({SharedTrace("openb/openb_node_list_gpu_node.csv"),
                                              SharedTrace("openb/openb_pod_list_cpu050.csv")});
  ASSERT_NE(reader, nullptr);
  ASSERT_EQ(reader->machines().size(), 1213u);
  double cpus = 0;
  for (const MachineEvent& machine : reader->machines()) cpus += machine.capacity.cpus;
  EXPECT_DOUBLE_EQ(cpus, 107018);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  EXPECT_EQ(tasks.size(), 7439u);
  EXPECT_EQ(reader->stats().lines, 1213 + 7439);
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair(kNeverScheduled, 878), Pair(kZeroRun, 1)));  // openb-pod-7285
  Totals totals = Sum(tasks);
  EXPECT_NEAR(totals.cpus, 72761.612, 1e-6);
  EXPECT_DOUBLE_EQ(totals.mem, 268502666);
  EXPECT_DOUBLE_EQ(totals.duration, 192629835 + 167706 + 1);
}

// The gpu-node list renames the all-node list's GPU nodes from openb-node-0000, so merging the
// two by sn would conflict on 935 names; it is recognised as that subset and not added again.
TEST(OpenbRealTrace, AllFilesInAnyOrder) {
  std::unique_ptr<TraceReader> reader = Open({SharedTrace("openb/openb_pod_list_default.csv"),
                                              SharedTrace("openb/openb_node_list_gpu_node.csv"),
                                              SharedTrace("openb/openb_pod_list_cpu050.csv"),
                                              SharedTrace("openb/openb_node_list_all_node.csv")},
                                             Strict());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->machines().size(), 1523u);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 7439u + 8152u);
  // Pod lists are read in path order: cpu050 first.
  EXPECT_EQ(tasks[0].demand.cpus, 8);  // openb-pod-0000,8000,30517,0,0,,BE,...
  EXPECT_EQ(tasks[7439].demand.cpus, 12);
  EXPECT_EQ(reader->stats().lines, 1523 + 1213 + 7439 + 8152);
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNeverScheduled, 878 + 897),
                                                   Pair(kZeroRun, 2), Pair(kRenumbered, 1213)));
}

TEST(OpenbRealTrace, LimitStopsEarly) {
  std::unique_ptr<TraceReader> reader =
      Open({SharedTrace("openb/openb_pod_list_default.csv")}, Limit(100));
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->machines().empty());
  EXPECT_EQ(ReadAll(*reader).size(), 100u);
  EXPECT_EQ(reader->stats().lines, 100);
}

TEST(OpenbFixture, FieldMappingAndQuirks) {
  const std::string pods = WriteFixture(
      "pods.csv",
      std::string(kPodHeader) +
          "whole,4000,8192,2,1000,V100|A100,LS,Running,100,400,150\n"  // 2 GPUs, spec ignored
          "shared,500,1024,1,250,,BE,Running,10,20,12\n"               // a quarter of a GPU
          "cpu,1500,100,0,0,,Burstable,Succeeded,5,5,5\n"              // zero run -> 1 s
          "pending,1000,10,0,0,,BE,Pending,30,90,\n"                   // waited 60 s
          "pending_forever,1000,10,0,0,,BE,Pending,30,,\n"             // no end: runs to the end
          "running,1000,10,0,0,,LS,Running,40,,41\n"                   // still running
          "early,1000,10,0,0,,LS,Running,-7,50,-2\n");                 // before the trace
  std::unique_ptr<TraceReader> reader = Open({pods}, Strict());
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 7u);
  EXPECT_EQ(tasks[0].demand, (ResourceVector{.cpus = 4, .mem = 8192, .gpus = 2}));
  EXPECT_EQ(tasks[0].submit_time, 100);
  EXPECT_EQ(tasks[0].duration, 250);
  EXPECT_EQ(tasks[0].qos, "LS");
  EXPECT_EQ(tasks[0].trace_id, "whole");
  EXPECT_EQ(tasks[1].demand, (ResourceVector{.cpus = 0.5, .mem = 1024, .gpus = 0.25}));
  EXPECT_EQ(tasks[1].duration, 8);
  EXPECT_EQ(tasks[2].duration, 1);
  EXPECT_EQ(tasks[3].submit_time, 30);
  EXPECT_EQ(tasks[3].duration, 60);
  EXPECT_EQ(tasks[4].duration, 0);
  EXPECT_EQ(tasks[5].submit_time, 40);
  EXPECT_EQ(tasks[5].duration, 0);
  EXPECT_EQ(tasks[6].submit_time, 0);
  EXPECT_EQ(tasks[6].duration, 50);
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair("adjusted: negative time", 1),
                                                   Pair(kNeverScheduled, 2), Pair(kZeroRun, 1)));
}

TEST(OpenbFixture, FiveColumnVariantGzipped) {
  const std::string pods =
      WriteFixture("pods5.csv.gz",
                   "name, cpu_milli ,memory_mib,num_gpu,gpu_milli\n"  // stray spaces in the header
                   "a,2000,4096,0,0\n"
                   "b,8000,16384,1,500\n",
                   /*gzip=*/true);
  std::unique_ptr<TraceReader> reader = Open({pods});
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].submit_time, 0);
  EXPECT_EQ(tasks[0].duration, 0);
  EXPECT_EQ(tasks[0].demand, (ResourceVector{.cpus = 2, .mem = 4096}));
  EXPECT_EQ(tasks[1].demand, (ResourceVector{.cpus = 8, .mem = 16384, .gpus = 0.5}));
  EXPECT_TRUE(tasks[1].qos.empty());
  EXPECT_THAT(reader->stats().skipped, ElementsAre(Pair(kNoTimes, 2)));
}

TEST(OpenbFixture, NodeListsMergeByName) {
  const std::string all = WriteFixture("all.csv", std::string(kNodeHeader) +
                                                      "n1,32000,262144,0,\n"
                                                      "n2,64000,131072,4,T4\n");
  const std::string more = WriteFixture("more.csv", std::string(kNodeHeader) +
                                                        "n2,64000,131072,4,T4\n"  // same node
                                                        "n0,8000,1024,1,A10\n");
  std::unique_ptr<TraceReader> reader = Open({more, all});
  ASSERT_NE(reader, nullptr);
  const std::vector<MachineEvent>& machines = reader->machines();
  ASSERT_EQ(machines.size(), 3u);
  EXPECT_EQ(machines[0].name, "n0");
  EXPECT_EQ(machines[0].capacity, (ResourceVector{.cpus = 8, .mem = 1024, .gpus = 1}));
  EXPECT_THAT(machines[0].attributes, ElementsAre(Pair("gpu_model", "A10")));
  EXPECT_EQ(machines[1].name, "n1");
  EXPECT_TRUE(machines[1].attributes.empty());
  EXPECT_EQ(machines[2].capacity, (ResourceVector{.cpus = 64, .mem = 131072, .gpus = 4}));
  EXPECT_TRUE(reader->stats().skipped.empty());
  TaskRecord task;
  absl::StatusOr<bool> more_tasks = reader->Next(&task);
  ASSERT_TRUE(more_tasks.ok());
  EXPECT_FALSE(*more_tasks);
}

TEST(OpenbFixture, ConflictingNodeCapacitiesAreAnError) {
  const std::string a = WriteFixture("a.csv", std::string(kNodeHeader) + "n1,32000,262144,0,\n");
  const std::string b = WriteFixture("b.csv", std::string(kNodeHeader) + "n1,16000,262144,0,\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = internal::OpenOpenb({a, b}, {});
  ASSERT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reader.status().message(), HasSubstr("'n1'"));
  EXPECT_THAT(reader.status().message(), HasSubstr("a.csv"));
  EXPECT_THAT(reader.status().message(), HasSubstr("b.csv"));
}

constexpr char kBadPods[] =
    "ok,1000,10,0,0,,LS,Running,1,2,1\n"
    "garbage line\n"                        // line 3: column count
    "x,abc,10,0,0,,LS,Running,1,2,1\n"      // line 4
    "y,1000,10,0,300,,LS,Running,1,2,1\n"   // line 5: share without num_gpu
    "z,1000,10,2,500,,LS,Running,1,2,1\n"   // line 6: share with several GPUs
    "w,1000,10,0,0,,LS,Running,1,2,5\n"     // line 7: deleted before scheduled
    "v,1000,10,0,0,,LS,Running,,2,1\n"      // line 8: no creation time
    "u,1000,10,0,0,,LS,Running,1,2,soon\n"  // line 9
    ",1000,10,0,0,,LS,Running,1,2,1\n"      // line 10
    "t,1000,-10,0,0,,LS,Running,1,2,1\n"    // line 11
    "last,1000,10,0,0,,LS,Running,1,2,1\n";

TEST(OpenbFixture, LenientCountsEachBadRecord) {
  const std::string pods = WriteFixture("bad.csv", std::string(kPodHeader) + kBadPods);
  std::unique_ptr<TraceReader> reader = Open({pods});
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> tasks = ReadAll(*reader);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[1].trace_id, "last");
  EXPECT_EQ(reader->stats().lines, 11);
  EXPECT_THAT(reader->stats().skipped,
              ElementsAre(Pair("bad cpu_milli", 1), Pair("bad creation_time", 1),
                          Pair("bad memory_mib", 1), Pair("bad scheduled_time", 1),
                          Pair("column count", 1), Pair("deletion before scheduling", 1),
                          Pair("empty name", 1), Pair("inconsistent gpu_milli", 2)));
  ASSERT_EQ(reader->stats().examples.size(), 9u);
  EXPECT_EQ(reader->stats().examples[0], pods + ":3: expected 11 columns, found 1");
}

TEST(OpenbFixture, StrictFailsOnTheFirstBadRecord) {
  const std::string pods = WriteFixture("bad.csv", std::string(kPodHeader) + kBadPods);
  std::unique_ptr<TraceReader> reader = Open({pods}, Strict());
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  ASSERT_TRUE(reader->Next(&task).value_or(false));
  absl::StatusOr<bool> bad = reader->Next(&task);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), pods + ":3: expected 11 columns, found 1");
}

TEST(OpenbFixture, BadFiles) {
  // Missing file.
  absl::StatusOr<std::unique_ptr<TraceReader>> missing =
      internal::OpenOpenb({"/nonexistent/openb_pod_list.csv"}, {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // A file of no openb role.
  const std::string other = WriteFixture("other.csv", "a,b,c\n1,2,3\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> unknown = internal::OpenOpenb({other}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr(other));
  // Empty file, and no files at all.
  const std::string empty = WriteFixture("empty.csv", "");
  EXPECT_EQ(internal::OpenOpenb({empty}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::OpenOpenb({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  // A pod list header without the demand columns.
  const std::string short_header = WriteFixture("short.csv", "name,cpu_milli\nx,1\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> header = internal::OpenOpenb({short_header}, {});
  ASSERT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.status().message(), HasSubstr(short_header + ":1: pod list header lacks"));
  // A bad node line in strict mode fails at open, naming file and line.
  const std::string nodes =
      WriteFixture("nodes.csv", std::string(kNodeHeader) + "n1,32000,262144,0,\nn2,1,2,-1,\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> strict = internal::OpenOpenb({nodes}, Strict());
  ASSERT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(strict.status().message(), nodes + ":3: bad gpu count '-1'");
}

}  // namespace
}  // namespace steward::traces
