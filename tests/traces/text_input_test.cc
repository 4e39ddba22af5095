// LineReader, field splitting, number parsing and strict/lenient diagnostics: the text layer
// every trace reader stands on.
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/test_files.h"
#include "traces/internal/diagnostics.h"
#include "traces/internal/fields.h"
#include "traces/internal/line_reader.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using internal::LineReader;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::WriteFixture;

std::vector<std::string> ReadAll(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<std::string> lines;
  if (!reader.ok()) return lines;
  std::string_view line;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&line);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    lines.emplace_back(line);
    EXPECT_EQ((*reader)->line_number(), static_cast<int64_t>(lines.size()));
  }
  return lines;
}

TEST(LineReader, PlainAndGzipReadTheSame) {
  const std::string text = "a,b\r\n\nc,d\nlast";
  EXPECT_THAT(ReadAll(WriteFixture("plain.csv", text)), ElementsAre("a,b", "", "c,d", "last"));
  // Compression is recognised by content, not by name.
  EXPECT_THAT(ReadAll(WriteFixture("compressed.csv", text, /*gzip=*/true)),
              ElementsAre("a,b", "", "c,d", "last"));
}

TEST(LineReader, LinesLongerThanTheBufferAndManyLines) {
  const std::string huge(3 * 1024 * 1024 + 17, 'x');
  std::string text = ";" + huge + "\n";
  for (int i = 0; i < 100000; ++i) text += std::to_string(i) + "\n";
  for (bool gzip : {false, true}) {
    std::vector<std::string> lines = ReadAll(WriteFixture("long.txt", text, gzip));
    ASSERT_EQ(lines.size(), 100001u);
    EXPECT_EQ(lines[0].size(), huge.size() + 1);
    EXPECT_EQ(lines[100000], "99999");
  }
}

TEST(LineReader, EmptyFileHasNoLines) {
  EXPECT_TRUE(ReadAll(WriteFixture("empty.csv", "")).empty());
}

TEST(LineReader, MissingFileAndDirectoryAreErrors) {
  absl::StatusOr<std::unique_ptr<LineReader>> missing = LineReader::Open("/nonexistent/x.csv");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/x.csv"));
  absl::StatusOr<std::unique_ptr<LineReader>> directory = LineReader::Open(::testing::TempDir());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LineReader, CorruptGzipIsDataLossWithFileAndLine) {
  // A valid gzip header followed by garbage.
  std::string bytes = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
  bytes += std::string(64, '\x7f');
  const std::string path = WriteFixture("corrupt.gz", bytes);
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  ASSERT_TRUE(reader.ok());
  std::string_view line;
  absl::StatusOr<bool> more = (*reader)->Next(&line);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(more.status().message(), HasSubstr(path + ":1"));
}

TEST(Fields, CsvTrimsAndKeepsEmptyFields) {
  std::vector<std::string_view> fields;
  internal::SplitCsv(" create_timestamp , modify_timestamp,,x ", &fields);
  EXPECT_THAT(fields, ElementsAre("create_timestamp", "modify_timestamp", "", "x"));
  internal::SplitCsv("", &fields);
  EXPECT_THAT(fields, ElementsAre(""));
}

TEST(Fields, WhitespaceSplitDropsRuns) {
  std::vector<std::string_view> fields;
  internal::SplitWhitespace("  1 \t 0   -1 18.00 ", &fields);
  EXPECT_THAT(fields, ElementsAre("1", "0", "-1", "18.00"));
}

TEST(Fields, Numbers) {
  double d = 0;
  EXPECT_TRUE(internal::ParseDouble(" 0.25 ", &d));
  EXPECT_EQ(d, 0.25);
  EXPECT_TRUE(internal::ParseDouble("-3e2", &d));
  EXPECT_EQ(d, -300);
  for (std::string_view bad : {"", "abc", "1.5x", "nan", "inf", "1e999"}) {
    EXPECT_FALSE(internal::ParseDouble(bad, &d)) << bad;
  }
  int64_t i = 0;
  EXPECT_TRUE(internal::ParseInt("18.00", &i));
  EXPECT_EQ(i, 18);
  EXPECT_TRUE(internal::ParseInt("-1", &i));
  EXPECT_EQ(i, -1);
  EXPECT_TRUE(internal::ParseInt("+7", &i));
  EXPECT_EQ(i, 7);
  EXPECT_TRUE(internal::ParseInt("9223372036854775807", &i));
  EXPECT_EQ(i, INT64_MAX);
  for (std::string_view bad : {"", "1.5", "x", "1e300", "12 3"}) {
    EXPECT_FALSE(internal::ParseInt(bad, &i)) << bad;
  }
}

TEST(Diagnostics, LenientCountsAndStrictFails) {
  ReadStats stats;
  internal::Diagnostics lenient(/*strict=*/false, &stats);
  for (int k = 0; k < 12; ++k) {
    EXPECT_TRUE(lenient.Reject("f.csv:" + std::to_string(k + 1), "empty cpu", "no cpu").ok());
  }
  EXPECT_TRUE(lenient.Reject("f.csv:99", "bad time", "time 'x'").ok());
  stats.skipped["adjusted: negative timestamp"] = 4;
  stats.skipped["ignored: softerror"] = 2;
  EXPECT_EQ(stats.TotalAdjusted(), 4);
  EXPECT_EQ(stats.TotalIgnored(), 2);
  EXPECT_EQ(stats.skipped["empty cpu"], 12);
  EXPECT_EQ(stats.TotalSkipped(), 13);
  ASSERT_EQ(stats.examples.size(), internal::Diagnostics::kMaxExamples);
  EXPECT_EQ(stats.examples[0], "f.csv:1: no cpu");

  ReadStats strict_stats;
  internal::Diagnostics strict(/*strict=*/true, &strict_stats);
  absl::Status status = strict.Reject("f.csv:3", "empty cpu", "no cpu");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "f.csv:3: no cpu");
  EXPECT_EQ(strict_stats.TotalSkipped(), 0);
}

TEST(Workload, GroupKeysAndMesosText) {
  EXPECT_EQ(*ParseGroupKey("queue"), GroupKey::kQueue);
  EXPECT_EQ(GroupKeyName(GroupKey::kApp), "app");
  absl::StatusOr<GroupKey> bad = ParseGroupKey("team");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("user, job, app, qos, queue, group"));
  TaskRecord task;
  task.qos = "LS";
  EXPECT_EQ(task.Key(GroupKey::kQos), "LS");
  EXPECT_EQ(ToMesosText({.cpus = 0.5, .mem = 1024, .disk = 0, .gpus = 1}),
            "cpus:0.5;mem:1024;gpus:1");
  EXPECT_EQ(ToMesosText({}), "");
  EXPECT_EQ(ToMesosText({.cpus = 0, .mem = 0, .disk = 1048576, .gpus = 0}), "disk:1048576");
}

}  // namespace
}  // namespace steward::traces
