// Agent restarts: containers outlive the Containerizer (their supervisors keep running) and
// a new one on the same runtime_dir recovers them.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/containerizer.h"
#include "agent/internal/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/steward/containerizer.pb.h"
#include "tests/agent/containerizer_fixture.h"

namespace steward::agent::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RecoveryTest : public ContainerizerFixture, public ::testing::WithParamInterface<Isolation> {
 protected:
  void SetUp() override {
    if (!Start(GetParam())) GTEST_SKIP() << skip_reason_;
  }

  checkpoint::Process ReadProcess(const std::string& id, const char* file) {
    checkpoint::Process process;
    absl::Status status =
        internal::ReadMessage(absl::StrCat(RuntimeDir(), "/", id, "/", file), &process);
    EXPECT_TRUE(status.ok()) << status;
    return process;
  }
};

TEST_P(RecoveryTest, ARunningTaskSurvivesARestartAndIsReapedAfterIt) {
  ASSERT_TRUE(containerizer_
                  ->Launch(ShellSpec("survivor",
                                     "touch ready; "
                                     "while [ ! -e go ]; do sleep 0.02; done; exit 7"))
                  .ok());
  ASSERT_TRUE(
      containerizer_
          ->Launch(ShellSpec("stubborn", "trap '' TERM; touch ready; while :; do sleep 0.05; done"))
          .ok());
  ASSERT_TRUE(WaitForFile(Sandbox("survivor") + "/ready"));
  ASSERT_TRUE(WaitForFile(Sandbox("stubborn") + "/ready"));
  const checkpoint::Process supervisor = ReadProcess("survivor", "supervisor.pb");

  EXPECT_THAT(Restart(), ElementsAre("stubborn", "survivor"));
  EXPECT_FALSE(ProcessGone(supervisor.pid()));
  EXPECT_THAT(containerizer_->Running(), ElementsAre("stubborn", "survivor"));
  EXPECT_THAT(containerizer_->Reap(), IsEmpty());

  std::ofstream(Sandbox("survivor") + "/go").put('\n');
  std::optional<ContainerExit> exit = WaitForExit("survivor");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(exit->wait_status));
  EXPECT_EQ(WEXITSTATUS(exit->wait_status), 7);
  EXPECT_EQ(exit->message, "exited with status 7");

  // A recovered container can still be killed, with escalation.
  ASSERT_TRUE(containerizer_->Kill("stubborn", milliseconds(100)).ok());
  exit = WaitForExit("stubborn");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGKILL);
  EXPECT_THAT(containerizer_->Running(), IsEmpty());
}

TEST_P(RecoveryTest, ATaskThatEndedWithoutAContainerizerIsReportedOnRecover) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("gone", "exit 5")).ok());
  const checkpoint::Process supervisor = ReadProcess("gone", "supervisor.pb");
  containerizer_.reset();
  ASSERT_TRUE(WaitForFile(RuntimeDir() + "/gone/exit.pb"));
  EXPECT_THAT(Restart(), ElementsAre("gone"));
  std::optional<ContainerExit> exit = WaitForExit("gone");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(exit->wait_status));
  EXPECT_EQ(WEXITSTATUS(exit->wait_status), 5);
  EXPECT_EQ(exit->message, "exited with status 5");
  EXPECT_FALSE(std::filesystem::exists(RuntimeDir() + "/gone"));
  // The supervisor was this process's child: the new containerizer collected the zombie.
  EXPECT_TRUE(ProcessGone(supervisor.pid()));
}

TEST_P(RecoveryTest, AKilledSupervisorIsAFailureAndItsTaskIsDestroyed) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("orphan", "touch ready; sleep 1000")).ok());
  ASSERT_TRUE(WaitForFile(Sandbox("orphan") + "/ready"));
  const checkpoint::Process supervisor = ReadProcess("orphan", "supervisor.pb");
  const checkpoint::Process task = ReadProcess("orphan", "task.pb");
  ASSERT_EQ(::kill(supervisor.pid(), SIGKILL), 0);
  std::optional<ContainerExit> exit = WaitForExit("orphan");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGKILL);
  EXPECT_FALSE(exit->killed);
  EXPECT_THAT(exit->message, HasSubstr("supervisor ended without recording how the task ended"));
  // The task was re-parented to init when its supervisor died, so it may linger as a zombie.
  EXPECT_TRUE(ProcessDead(task.pid()));
}

TEST_P(RecoveryTest, SigtermToTheSupervisorKillsTheTaskAndIsRecorded) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("stopped", "touch ready; sleep 1000")).ok());
  ASSERT_TRUE(WaitForFile(Sandbox("stopped") + "/ready"));
  const checkpoint::Process supervisor = ReadProcess("stopped", "supervisor.pb");
  ASSERT_EQ(::kill(supervisor.pid(), SIGTERM), 0);
  std::optional<ContainerExit> exit = WaitForExit("stopped");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGTERM);
}

TEST_P(RecoveryTest, ALaunchInterruptedByAgentDeathIsReportedAsFailed) {
  // What an agent that died right after creating the container's directory leaves behind.
  ASSERT_TRUE(std::filesystem::create_directories(RuntimeDir() + "/interrupted"));
  EXPECT_THAT(Restart(), ElementsAre("interrupted"));
  std::optional<ContainerExit> exit = WaitForExit("interrupted");
  ASSERT_TRUE(exit.has_value());
  EXPECT_THAT(exit->message, HasSubstr("the agent stopped while launching it"));
  EXPECT_FALSE(std::filesystem::exists(RuntimeDir() + "/interrupted"));
}

TEST_P(RecoveryTest, RemovalsInterruptedByAgentDeathAreFinishedSilently) {
  ASSERT_TRUE(std::filesystem::create_directories(RuntimeDir() + "/reaped~old/deeper"));
  std::ofstream(RuntimeDir() + "/not a container") << "x";
  EXPECT_THAT(Restart(), IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(RuntimeDir() + "/reaped~old"));
  EXPECT_TRUE(std::filesystem::exists(RuntimeDir() + "/not a container"));
}

TEST_P(RecoveryTest, RecoverComesOnceAndBeforeLaunch) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("early", "true")).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(containerizer_->Recover().status()));
  ASSERT_TRUE(WaitForExit("early").has_value());

  EXPECT_THAT(Restart(), IsEmpty());
  EXPECT_TRUE(absl::IsFailedPrecondition(containerizer_->Recover().status()));
}

TEST_P(RecoveryTest, LeftoverStateBlocksTheIdUntilRecovered) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("held", "exit 1")).ok());
  containerizer_.reset();
  ASSERT_TRUE(WaitForFile(RuntimeDir() + "/held/exit.pb"));
  ASSERT_TRUE(Start(GetParam()));  // A new agent that skips Recover().
  EXPECT_TRUE(absl::IsAlreadyExists(containerizer_->Launch(ShellSpec("held", "true"))));
  containerizer_.reset();
  EXPECT_THAT(Restart(), ElementsAre("held"));
  ASSERT_TRUE(WaitForExit("held").has_value());
}

INSTANTIATE_TEST_SUITE_P(Isolations, RecoveryTest,
                         ::testing::Values(Isolation::kCgroupsV1, Isolation::kNone), IsolationName);

}  // namespace
}  // namespace steward::agent::testing
