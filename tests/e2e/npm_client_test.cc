// A real third-party Mesos v1 client against a real steward-master and steward-agent: the npm
// package mesos-framework 0.5.3 (its Scheduler speaks the v1 scheduler HTTP API in JSON),
// driven by tests/e2e/npm/framework.js. The package is installed with npm into the build tree
// (STEWARD_E2E_NPM_WORK_DIR), never the source tree; the script's exit code and the master's
// state say whether an unmodified client works.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"

namespace steward::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kNode[] = "/usr/bin/node";
constexpr char kNpm[] = "/usr/bin/npm";
constexpr char kSourceDir[] = STEWARD_E2E_NPM_SOURCE_DIR;
constexpr char kWorkDir[] = STEWARD_E2E_NPM_WORK_DIR;

std::string Show(const CommandResult& result) {
  return absl::StrCat("exit code ", result.exit_code, result.timed_out ? " (timed out)" : "",
                      "\nstdout:\n", result.out, "\nstderr:\n", result.err);
}

// Copies the package files into the work dir and installs the package there unless the same
// package.json is installed already. The error names npm's output.
absl::Status InstallPackage() {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(kWorkDir, error);
  if (error) return absl::InternalError(absl::StrCat("mkdir ", kWorkDir, ": ", error.message()));
  const std::string manifest = ReadFile(absl::StrCat(kSourceDir, "/package.json"));
  const bool installed =
      ReadFile(absl::StrCat(kWorkDir, "/package.json")) == manifest &&
      ReadFile(absl::StrCat(kWorkDir, "/node_modules/mesos-framework/package.json"))
              .find("\"version\": \"0.5.3\"") != std::string::npos;
  for (const char* file : {"package.json", "package-lock.json", "framework.js"}) {
    fs::copy_file(absl::StrCat(kSourceDir, "/", file), absl::StrCat(kWorkDir, "/", file),
                  fs::copy_options::overwrite_existing, error);
    if (error) return absl::InternalError(absl::StrCat("copy ", file, ": ", error.message()));
  }
  if (installed) return absl::OkStatus();
  const CommandResult npm =
      RunCommand(kNpm, {"install", "--no-audit", "--no-fund"}, kWorkDir, kMaxWait);
  if (npm.exit_code != 0) {
    return absl::UnavailableError(
        absl::StrCat("npm install --no-audit --no-fund in ", kWorkDir, " failed: ", Show(npm)));
  }
  return absl::OkStatus();
}

// The rest of the line after "<prefix>" in `text`, or "".
std::string LineAfter(const std::string& text, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) return std::string(line);
  }
  return "";
}

class NpmClientTest : public ClusterTest {};

TEST_F(NpmClientTest, MesosFrameworkSchedulerLaunchesKillsReconcilesAndTearsDown) {
  if (::access(kNode, X_OK) != 0)
    GTEST_SKIP() << "node not found: skipping the third-party client test";
  if (::access(kNpm, X_OK) != 0)
    GTEST_SKIP() << "npm not found: skipping the third-party client test";
  StartCluster(1);
  if (IsSkipped() || HasFatalFailure()) return;
  absl::Status installed = InstallPackage();
  ASSERT_TRUE(installed.ok()) << installed;

  const CommandResult run =
      RunCommand(kNode, {"framework.js", absl::StrCat(cluster_->master_port())}, kWorkDir,
                 std::chrono::seconds(90));
  ASSERT_EQ(run.exit_code, 0) << Show(run) << "\nmaster stderr:\n"
                              << cluster_->master_process()->Stderr();
  const std::string framework_id = LineAfter(run.out, "SUBSCRIBED ");
  ASSERT_FALSE(framework_id.empty()) << run.out;
  EXPECT_EQ(LineAfter(run.out, "TORN DOWN "), framework_id);
  EXPECT_THAT(run.out, HasSubstr(" TASK_RUNNING"));
  EXPECT_THAT(run.out, HasSubstr(" TASK_FINISHED REASON_RECONCILIATION"));

  // The master saw the framework register and end, one task finish and one be killed.
  absl::StatusOr<master_api::Response> state =
      OperatorCall(cluster_->master_port(), master_api::Call::GET_STATE);
  ASSERT_TRUE(state.ok()) << state.status();
  const auto& frameworks = state->get_state().get_frameworks();
  EXPECT_EQ(frameworks.frameworks_size(), 0);
  ASSERT_EQ(frameworks.completed_frameworks_size(), 1);
  EXPECT_EQ(frameworks.completed_frameworks(0).framework_info().id().value(), framework_id);
  EXPECT_EQ(frameworks.completed_frameworks(0).framework_info().name(), "steward-npm-e2e");
  EXPECT_EQ(frameworks.completed_frameworks(0).framework_info().user(), "root");
  const auto& tasks = state->get_state().get_tasks();
  EXPECT_EQ(tasks.tasks_size(), 0);
  std::vector<std::string> completed;
  for (const mesos::v1::Task& task : tasks.completed_tasks()) {
    EXPECT_EQ(task.framework_id().value(), framework_id);
    EXPECT_EQ(task.agent_id().value(), agent_ids_[0]);
    completed.push_back(
        absl::StrCat(task.task_id().value().substr(0, task.task_id().value().rfind('.')), " ",
                     TaskState_Name(task.state())));
  }
  EXPECT_THAT(completed, ::testing::UnorderedElementsAre("steward-npm-e2e.hello-1 TASK_FINISHED",
                                                         "steward-npm-e2e.sleeper-1 TASK_KILLED"));
}

}  // namespace
}  // namespace steward::e2e
