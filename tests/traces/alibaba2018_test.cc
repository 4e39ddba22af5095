// Alibaba cluster-trace-v2018 reader: the real machine_meta.csv, and fixtures written from the
// published schema (cluster-trace-v2018/schema.md) for batch_task.csv and the quirks.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/reader_test_util.h"
#include "tests/traces/test_files.h"
#include "traces/internal/readers.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using internal::OpenAlibaba2018;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::SharedTrace;
using testing::WriteFixture;

constexpr double kMemMb = 512.0 * 1024;  // stated default normalised memory

std::unique_ptr<TraceReader> Open(const std::vector<std::string>& paths,
                                  const ReadOptions& options = {}) {
  return testing::ExpectOpened(OpenAlibaba2018(paths, options));
}

std::string Describe(const MachineEvent& event) {
  std::string text = absl::StrCat(event.time, " ", event.name, " ",
                                  event.type == MachineEvent::Type::kAdd ? "add" : "remove");
  if (event.type == MachineEvent::Type::kAdd) {
    absl::StrAppend(&text, " ", static_cast<int64_t>(event.capacity.cpus), "/",
                    static_cast<int64_t>(event.capacity.mem));
  }
  for (const auto& [key, value] : event.attributes) absl::StrAppend(&text, " ", key, "=", value);
  return text;
}

TEST(Alibaba2018, RealMachineMeta) {
  // Computed with awk: 17,592 records of 4,034 machines (the README's count); 4,033 are ever
  // USING (3,887 from time 0), m_2739 is only ever IMPORT_INSTALLING; no machine leaves
  // USING; 34 records change a failure domain of a machine in service.
  const std::string tasks = WriteFixture("batch_task.csv", "M1,1,j_1,1,Terminated,5,9,100,1\n");
  for (bool strict : {false, true}) {
    ReadOptions options;
    options.strict = strict;
    std::unique_ptr<TraceReader> reader =
        Open({tasks, SharedTrace("alibaba2018/machine_meta.csv")}, options);
    ASSERT_NE(reader, nullptr);
    const std::vector<MachineEvent>& machines = reader->machines();
    ASSERT_EQ(machines.size(), 4033u);
    int64_t at_zero = 0;
    for (const MachineEvent& machine : machines) {
      EXPECT_EQ(machine.type, MachineEvent::Type::kAdd);
      EXPECT_EQ(machine.capacity, (ResourceVector{96, kMemMb, 0, 0}));
      EXPECT_NE(machine.name, "m_2739");
      if (machine.time == 0) ++at_zero;
    }
    EXPECT_EQ(at_zero, 3887);
    EXPECT_EQ(Describe(machines.front()),
              "0 m_1 add 96/524288 failure_domain_1=219 failure_domain_2=17");
    EXPECT_EQ(machines.back().time, 570157);
    EXPECT_EQ(ReadAll(*reader).size(), 1u);
    const ReadStats& stats = reader->stats();
    EXPECT_EQ(stats.lines, 17592 + 1);
    EXPECT_EQ(stats.machine_events, 4033);
    EXPECT_EQ(stats.skipped, (std::map<std::string, int64_t>{
                                 {"ignored: failure domain change", 34},
                                 {"ignored: machine never serving", 1},
                             }));
  }
}

TEST(Alibaba2018, MachineHistory) {
  const std::string meta = WriteFixture("machine_meta.csv",
                                        "m_1,300,1,2,96,100,USING\n"
                                        "m_1,0,1,2,96,100,USING\n"
                                        "m_2,50,3,,96,100,IMPORT_INSTALLING\n"
                                        "m_1,200,1,2,96,100,OFFLINE\n"
                                        "m_1,100,1,2,96,100,USING\n"
                                        "m_1,400,1,2,64,50,USING\n"
                                        "m_1,500,1,9,64,50,USING\n"
                                        "m_2,60,3,,96,100,USING\n"
                                        "m_3,5,1,1,96,100,IMPORT_INSTALLING\n"
                                        "m_4,-5,7,7,32,25,USING\n");
  const std::string tasks = WriteFixture("batch_task.csv", "");
  std::unique_ptr<TraceReader> reader = Open({meta, tasks});
  ASSERT_NE(reader, nullptr);
  std::vector<std::string> seen;
  for (const MachineEvent& event : reader->machines()) seen.push_back(Describe(event));
  EXPECT_THAT(seen, ElementsAre("0 m_1 add 96/524288 failure_domain_1=1 failure_domain_2=2",
                                "0 m_4 add 32/131072 failure_domain_1=7 failure_domain_2=7",
                                "60 m_2 add 96/524288 failure_domain_1=3", "200 m_1 remove",
                                "300 m_1 add 96/524288 failure_domain_1=1 failure_domain_2=2",
                                "400 m_1 remove",
                                "400 m_1 add 64/262144 failure_domain_1=1 failure_domain_2=2"));
  EXPECT_EQ(reader->stats().lines, 10);
  EXPECT_EQ(reader->stats().skipped, (std::map<std::string, int64_t>{
                                         {"adjusted: negative timestamp", 1},
                                         {"ignored: failure domain change", 1},
                                         {"ignored: machine never serving", 1},
                                     }));
}

TEST(Alibaba2018, BatchTaskMappingAndQuirks) {
  const std::string tasks =
      WriteFixture("batch_task.csv",
                   "M1,3,j_1,1,Terminated,100,160,100,0.39\n"  // 3 instances of 1 core, 60 s
                   "R2_1,1,j_1,1,Running,200,0,50,0.5\n"       // open: runs to the end
                   "task_Nzg3ODA=,1,j_2,12,Waiting,0,0,,\n"    // no plan: skipped
                   "M3,1,j_3,1,Failed,300,250,100,1\n"         // end before start
                   "M4,1,j_3,1,Terminated,-10,20,100,1\n"      // before the trace: from 0
                   "M5,1,j_3,1,Terminated,-10,-2,100,1\n"      // ended before the trace
                   "M6,2.0,j_3,1,Interrupted,400,400,150,1\n"  // zero duration -> 1 s
                   "M7,1,j_3,1,Lost,1,2,100,1\n"               // unknown status
                   "J8_6_7,1,j_4,3,Cancelled,500,700,100,1\n");
  ReadOptions options;
  options.normalised_machine.mem = 1000;  // overrides the 512 GiB default
  std::unique_ptr<TraceReader> reader = Open({tasks}, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->machines().empty());
  std::vector<TaskRecord> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 8u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(read[i].trace_id, absl::StrCat("j_1/M1/", i));
    EXPECT_EQ(read[i].submit_time, 100);
    EXPECT_EQ(read[i].duration, 60);
    EXPECT_DOUBLE_EQ(read[i].demand.cpus, 1);
    EXPECT_DOUBLE_EQ(read[i].demand.mem, 3.9);
    EXPECT_EQ(read[i].job, "j_1");
    EXPECT_EQ(read[i].group, "1");
  }
  EXPECT_EQ(read[3].trace_id, "j_1/R2_1/0");
  EXPECT_EQ(read[3].submit_time, 200);
  EXPECT_EQ(read[3].duration, 0);
  EXPECT_EQ(read[3].demand.cpus, 0.5);
  EXPECT_DOUBLE_EQ(read[3].demand.mem, 5);
  EXPECT_EQ(read[4].trace_id, "j_3/M4/0");
  EXPECT_EQ(read[4].submit_time, 0);
  EXPECT_EQ(read[4].duration, 20);
  EXPECT_EQ(read[5].trace_id, "j_3/M6/0");
  EXPECT_EQ(read[6].trace_id, "j_3/M6/1");
  EXPECT_EQ(read[6].duration, 1);
  EXPECT_EQ(read[6].demand.cpus, 1.5);
  EXPECT_EQ(read[7].trace_id, "j_4/J8_6_7/0");
  EXPECT_EQ(read[7].duration, 200);
  EXPECT_EQ(read[7].group, "3");
  const ReadStats& stats = reader->stats();
  EXPECT_EQ(stats.lines, 9);
  EXPECT_EQ(stats.tasks, 8);
  EXPECT_EQ(stats.skipped, (std::map<std::string, int64_t>{
                               {"empty plan_cpu or plan_mem", 1},
                               {"end before start", 1},
                               {"ended before trace start", 1},
                               {"unknown status", 1},
                               {"adjusted: negative timestamp", 1},
                               {"adjusted: zero duration", 1},
                           }));

  options.strict = true;
  reader = Open({tasks}, options);
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  absl::StatusOr<bool> more;
  while ((more = reader->Next(&task)).ok() && *more) {
  }
  EXPECT_THAT(more.status().message(), HasSubstr("batch_task.csv:3: Waiting task without"));

  options.strict = false;
  options.limit = 2;
  reader = Open({tasks}, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader).size(), 2u);
}

TEST(Alibaba2018, FilesAreRecognisedByContentWhenRenamed) {
  const std::string meta = WriteFixture("a18_x.csv", "m_1,0,1,2,96,100,USING\n");
  const std::string tasks = WriteFixture("a18_y.csv", "M1,1,j_1,1,Terminated,5,9,100,1\n");
  std::unique_ptr<TraceReader> reader = Open({tasks, meta}, {});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->machines().size(), 1u);
  EXPECT_EQ(ReadAll(*reader).size(), 1u);
}

TEST(Alibaba2018, BadInputIsAClearError) {
  const std::string tasks = WriteFixture("batch_task.csv", "M1,1,j_1,1,Terminated,5,9,100,1\n");
  EXPECT_EQ(OpenAlibaba2018({tasks, "/nonexistent/machine_meta.csv"}, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenAlibaba2018({"/nonexistent/t.csv"}, {}).status().code(),
            absl::StatusCode::kNotFound);

  // batch_instance.csv, by name and by content, is refused with the reason.
  const std::string instance_row = "ins_1,M1,j_1,1,Terminated,5,9,m_1,1,1,50,60,0.1,0.2\n";
  for (const std::string& path : {WriteFixture("batch_instance.csv", instance_row),
                                  WriteFixture("a18_inst.csv", instance_row)}) {
    absl::StatusOr<std::unique_ptr<TraceReader>> refused = OpenAlibaba2018({tasks, path}, {});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(), HasSubstr("batch_instance.csv is not read"));
  }

  const std::string usage = WriteFixture("a18_usage.csv", "m_1,0,30,40,5.0,3,1.2,1.3,4\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> unknown = OpenAlibaba2018({tasks, usage}, {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("a18_usage.csv: not an alibaba2018 file"));

  const std::string meta = WriteFixture("machine_meta.csv", "m_1,0,1,2,96,100,USING\n");
  EXPECT_THAT(OpenAlibaba2018({meta}, {}).status().message(), HasSubstr("no batch_task.csv"));
  EXPECT_EQ(OpenAlibaba2018({tasks, tasks}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  const std::string bad_meta =
      WriteFixture("machine_meta_bad.csv",
                   "m_1,0,1,2,96,100,USING\nm_2,zero,1,2,96,100,USING\nm_3,0,1,2,96,100\n"
                   "m_4,0,1,2,0,100,USING\n,0,1,2,96,100,USING\nm_6,0,1,2,96,100,\n");
  ReadOptions strict;
  strict.strict = true;
  EXPECT_THAT(OpenAlibaba2018({tasks, bad_meta}, strict).status().message(),
              HasSubstr("machine_meta_bad.csv:2: time_stamp 'zero' is not an integer"));
  std::unique_ptr<TraceReader> reader = Open({tasks, bad_meta});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->machines().size(), 1u);
  EXPECT_EQ(reader->stats().skipped, (std::map<std::string, int64_t>{
                                         {"bad timestamp", 1},
                                         {"wrong column count", 1},
                                         {"bad capacity", 1},
                                         {"missing machine_id", 1},
                                         {"missing status", 1},
                                     }));

  const std::string bad_tasks =
      WriteFixture("batch_task_bad.csv",
                   "garbage\nM1,0,j_1,1,Terminated,5,9,100,1\n,1,j_1,1,Terminated,5,9,100,1\n"
                   "M1,1,j_1,1,Terminated,5,x,100,1\nM1,1,j_1,1,Terminated,5,9,-1,1\n"
                   "M1,1,j_1,1,Terminated,5,9,100,big\n");
  reader = Open({bad_tasks});
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(ReadAll(*reader).empty());
  EXPECT_EQ(reader->stats().skipped, (std::map<std::string, int64_t>{
                                         {"wrong column count", 1},
                                         {"bad instance_num", 1},
                                         {"missing name", 1},
                                         {"bad timestamp", 1},
                                         {"bad plan_cpu", 1},
                                         {"bad plan_mem", 1},
                                     }));
  EXPECT_THAT(reader->stats().examples[0],
              HasSubstr("batch_task_bad.csv:1: expected 9 batch_task columns, found 1"));
}

}  // namespace
}  // namespace steward::traces
