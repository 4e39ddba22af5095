#include "daemon/cli/internal/sandbox.h"

#include <string>

#include "daemon/cli/internal/json_value.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::cli {
namespace {

// The parts of an agent's GET /state that FindSandbox reads.
constexpr char kAgentState[] = R"({
  "id": "agent-1",
  "frameworks": [
    {"id": "fw-1", "executors": [
      {"id": "e1", "directory": "/w/slaves/a/frameworks/fw-1/executors/e1/runs/c1",
       "tasks": [{"id": "running"}], "queued_tasks": [{"id": "queued"}],
       "completed_tasks": [{"id": "done"}]},
      {"id": "e2", "directory": "", "tasks": [{"id": "nodir"}]}
    ], "completed_executors": [
      {"id": "e3", "directory": "/w/e3", "completed_tasks": [{"id": "old"}]}
    ]}
  ],
  "completed_frameworks": [
    {"id": "fw-2", "executors": [{"id": "e4", "directory": "/w/e4", "tasks": [{"id": "done"}]}]}
  ]
})";

class FindSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<JsonValue> parsed = JsonValue::Parse(kAgentState);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    state_ = *parsed;
  }
  JsonValue state_;
};

TEST_F(FindSandboxTest, FindsTheExecutorDirectoryOfEveryTaskGroup) {
  const std::string e1 = "/w/slaves/a/frameworks/fw-1/executors/e1/runs/c1";
  EXPECT_EQ(FindSandbox(state_, "fw-1", "running").value(), e1);
  EXPECT_EQ(FindSandbox(state_, "fw-1", "queued").value(), e1);
  EXPECT_EQ(FindSandbox(state_, "fw-1", "done").value(), e1);
  EXPECT_EQ(FindSandbox(state_, "fw-1", "old").value(), "/w/e3");
  // The same task id in another (completed) framework is a different task.
  EXPECT_EQ(FindSandbox(state_, "fw-2", "done").value(), "/w/e4");
}

TEST_F(FindSandboxTest, UnknownTasksAndMissingDirectories) {
  EXPECT_EQ(FindSandbox(state_, "fw-1", "other").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FindSandbox(state_, "fw-3", "running").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FindSandbox(state_, "fw-1", "nodir").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FindSandbox(JsonValue(), "fw-1", "running").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(UrlEncode, KeepsUnreservedCharactersAndSlashes) {
  EXPECT_EQ(UrlEncode("/a/b-c_d.e~f"), "/a/b-c_d.e~f");
  EXPECT_EQ(UrlEncode("a b&c=d%e+f"), "a%20b%26c%3Dd%25e%2Bf");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
}

}  // namespace
}  // namespace steward::cli
