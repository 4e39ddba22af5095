// Alibaba cluster-trace-gpu-v2025 (disaggregated DLRM serving) reader. No copy of the trace is
// in ../shared/traces, so the fixtures follow the published README (its field list and its two
// sample rows) and the quirks of the published file (empty times outside the trace window).
#include <map>
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

using internal::OpenAlibaba2025;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::WriteFixture;

constexpr char kHeader[] =
    "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,"
    "rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,"
    "creation_time,scheduled_time,deletion_time\n";

std::unique_ptr<TraceReader> Open(const std::string& path, const ReadOptions& options = {}) {
  return testing::ExpectOpened(OpenAlibaba2025({path}, options));
}

const std::string& Fixture() {
  static const std::string* const path = new std::string(WriteFixture(
      "disaggregated_DLRM_trace.csv",
      std::string(kHeader) +
          // The README's two sample rows.
          "instance_7185,HN,app_0,12,12,1,1,25,25,120.0,120.0,680.0,800.0,8,,,\n"
          "instance_13574,CN,app_130,64,64,0,0,1,1,320.0,320.0,255.0,300.0,-1,1435629.0,"
          "1435629.0,1435760.0\n"
          "instance_2,CN,app_1,8,8,0,0,1,1,40.0,40.0,85.0,100.0,-1,100.0,160.0,\n"  // not deleted
          "instance_3,HN,app_2,8,8,1,1,1,1,40,40,80,80,2,,,500.0\n"       // before the trace start
          "instance_4,HN,app_2,8,8,1,1,1,1,40,40,80,80,2,NaN,NaN,NaN\n"   // the README's NaN
          "instance_5,CN,app_3,8,8,0,0,1,1,40,40,80,80,2,200,250,250\n"   // zero duration
          "instance_6,CN,app_3,8,8,0,0,1,1,40,40,80,80,2,300,350,320\n"   // deleted before start
          "instance_7,CN,app_3,-8,8,0,0,1,1,40,40,80,80,2,300,350,400\n"  // negative request
          "instance_8,CN,app_3,8,8,0,0,1,1,40,40,80,80,2,abc,,\n"         // garbage time
          "instance_9,CN,app_3,8,8,0,0,1,1,40,40,80,80\n"                 // 13 columns
          ",CN,app_3,8,8,0,0,1,1,40,40,80,80,2,,,\n"                      // no name
          "\n"
          "instance_11,HN,app_4,6,6,0.5,0.5,1,1,30,30,80,80,2,-20,-20,30\n"));
  return *path;
}

TEST(Alibaba2025, FieldMappingAndQuirks) {
  std::unique_ptr<TraceReader> reader = Open(Fixture());
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->machines().empty());
  std::vector<TaskRecord> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 7u);
  EXPECT_EQ(read[0].trace_id, "instance_7185");
  EXPECT_EQ(read[0].app, "app_0");
  EXPECT_EQ(read[0].group, "HN");
  EXPECT_EQ(read[0].submit_time, 0);
  EXPECT_EQ(read[0].duration, 0);
  EXPECT_EQ(read[0].demand, (ResourceVector{12, 120 * 1024, 680 * 1024, 1}));
  EXPECT_EQ(read[1].trace_id, "instance_13574");
  EXPECT_EQ(read[1].group, "CN");
  EXPECT_EQ(read[1].submit_time, 1435629);
  EXPECT_EQ(read[1].duration, 131);
  EXPECT_EQ(read[1].demand, (ResourceVector{64, 320 * 1024, 255 * 1024, 0}));
  EXPECT_EQ(read[2].submit_time, 100);
  EXPECT_EQ(read[2].duration, 0);
  EXPECT_EQ(read[3].submit_time, 0);
  EXPECT_EQ(read[3].duration, 500);
  EXPECT_EQ(read[4].trace_id, "instance_4");
  EXPECT_EQ(read[4].duration, 0);
  EXPECT_EQ(read[5].submit_time, 200);
  EXPECT_EQ(read[5].duration, 1);
  EXPECT_EQ(read[6].trace_id, "instance_11");
  EXPECT_EQ(read[6].submit_time, 0);
  EXPECT_EQ(read[6].duration, 30);
  EXPECT_EQ(read[6].demand.gpus, 0.5);
  for (const TaskRecord& task : read) {
    EXPECT_TRUE(task.user.empty() && task.job.empty() && task.qos.empty());
  }
  const ReadStats& stats = reader->stats();
  EXPECT_EQ(stats.lines, 12);
  EXPECT_EQ(stats.tasks, 7);
  EXPECT_EQ(stats.skipped, (std::map<std::string, int64_t>{
                               {"adjusted: created before trace start", 3},
                               {"adjusted: negative timestamp", 2},
                               {"adjusted: zero duration", 1},
                               {"deletion before start", 1},
                               {"bad request", 1},
                               {"bad timestamp", 1},
                               {"wrong column count", 1},
                               {"missing instance_sn", 1},
                           }));
  EXPECT_THAT(stats.examples[0], HasSubstr("disaggregated_DLRM_trace.csv:8: deletion_time 320"));
}

TEST(Alibaba2025, StrictAndLimit) {
  ReadOptions options;
  options.strict = true;
  std::unique_ptr<TraceReader> reader = Open(Fixture(), options);
  ASSERT_NE(reader, nullptr);
  TaskRecord task;
  absl::StatusOr<bool> more;
  int count = 0;
  while ((more = reader->Next(&task)).ok() && *more) ++count;
  EXPECT_EQ(count, 6);
  EXPECT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(more.status().message(), HasSubstr("disaggregated_DLRM_trace.csv:8: "));

  options = {};
  options.limit = 2;
  reader = Open(Fixture(), options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(ReadAll(*reader).size(), 2u);
}

TEST(Alibaba2025, ColumnsByHeaderNameOrPublishedOrder) {
  // Columns in another order are found by name.
  const std::string reordered = WriteFixture(
      "a25_reordered.csv",
      "app_name,instance_sn,deletion_time,scheduled_time,creation_time,role,cpu_request,"
      "gpu_request,memory_request,disk_request\n"
      "app_9,instance_1,70,20,10,HN,4,1,16,32\n");
  std::unique_ptr<TraceReader> reader = Open(reordered);
  ASSERT_NE(reader, nullptr);
  std::vector<TaskRecord> read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].trace_id, "instance_1");
  EXPECT_EQ(read[0].app, "app_9");
  EXPECT_EQ(read[0].submit_time, 10);
  EXPECT_EQ(read[0].duration, 50);
  EXPECT_EQ(read[0].demand, (ResourceVector{4, 16 * 1024, 32 * 1024, 1}));

  // Without a header the published order is assumed, and the first line is data.
  const std::string headerless = WriteFixture(
      "a25_headerless.csv", "instance_1,CN,app_1,2,2,0,0,1,1,4.0,4.0,8.0,8.0,-1,5,6,9\n");
  reader = Open(headerless);
  ASSERT_NE(reader, nullptr);
  read = ReadAll(*reader);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].demand, (ResourceVector{2, 4096, 8192, 0}));
  EXPECT_EQ(read[0].duration, 3);
  EXPECT_EQ(reader->stats().lines, 1);
}

TEST(Alibaba2025, BadInputIsAClearError) {
  EXPECT_EQ(OpenAlibaba2025({"/nonexistent/disaggregated_DLRM_trace.csv"}, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenAlibaba2025({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<TraceReader>> two = OpenAlibaba2025({Fixture(), Fixture()}, {});
  EXPECT_EQ(two.status().code(), absl::StatusCode::kInvalidArgument);

  const std::string lacking =
      WriteFixture("a25_lacking.csv",
                   "instance_sn,role,app_name,cpu_request,memory_request,disk_request,"
                   "creation_time,scheduled_time,deletion_time\n");
  EXPECT_THAT(OpenAlibaba2025({lacking}, {}).status().message(),
              HasSubstr("a25_lacking.csv:1: header lacks column 'gpu_request'"));

  const std::string other = WriteFixture("a25_other.csv", "m_1,0,1,2,96,100,USING\n");
  absl::StatusOr<std::unique_ptr<TraceReader>> wrong = OpenAlibaba2025({other}, {});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("a25_other.csv: not an alibaba2025 file"));

  const std::string empty = WriteFixture("a25_empty.csv", "");
  EXPECT_EQ(OpenAlibaba2025({empty}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace steward::traces
