// Launch, output, environment, exit reporting, Kill and input validation, with cgroup v1
// isolation (skipped where the host has none) and without isolation.
#include "agent/containerizer.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/containerizer_fixture.h"

namespace steward::agent::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class ContainerizerTest : public ContainerizerFixture,
                          public ::testing::WithParamInterface<Isolation> {
 protected:
  void SetUp() override {
    if (!Start(GetParam())) GTEST_SKIP() << skip_reason_;
  }
};

TEST_P(ContainerizerTest, ShellTaskOutputIsAppendedToSandboxFiles) {
  const std::string sandbox = Sandbox("shell");
  std::filesystem::create_directories(sandbox);
  std::ofstream(sandbox + "/stdout") << "earlier\n";
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("shell", "echo out; echo err >&2")).ok());
  // The files exist as soon as Launch() returns.
  EXPECT_TRUE(std::filesystem::exists(sandbox + "/stdout"));
  EXPECT_TRUE(std::filesystem::exists(sandbox + "/stderr"));
  std::optional<ContainerExit> exit = WaitForExit("shell");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->container_id, "shell");
  EXPECT_TRUE(WIFEXITED(exit->wait_status));
  EXPECT_EQ(WEXITSTATUS(exit->wait_status), 0);
  EXPECT_EQ(exit->message, "exited with status 0");
  EXPECT_FALSE(exit->killed);
  EXPECT_FALSE(exit->oom_killed);
  EXPECT_EQ(ReadText(sandbox + "/stdout"), "earlier\nout\n");
  EXPECT_EQ(ReadText(sandbox + "/stderr"), "err\n");
}

TEST_P(ContainerizerTest, PidIsTheTaskProcessWhileItRunsAndAcrossARestart) {
  EXPECT_EQ(containerizer_->Pid("pid").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("pid", "echo $$; sleep 30")).ok());
  absl::StatusOr<int> pid = containerizer_->Pid("pid");
  ASSERT_TRUE(pid.ok()) << pid.status();
  // The shell the container runs prints its own pid.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string printed;
  while (printed.empty() && Clock::now() < deadline) {
    printed = std::string(absl::StripAsciiWhitespace(ReadText(Sandbox("pid") + "/stdout")));
    if (printed.empty()) std::this_thread::sleep_for(milliseconds(10));
  }
  int shell = 0;
  ASSERT_TRUE(absl::SimpleAtoi(printed, &shell)) << printed;
  EXPECT_EQ(*pid, shell);

  Restart();
  absl::StatusOr<int> recovered = containerizer_->Pid("pid");
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered, shell);

  ASSERT_TRUE(containerizer_->Kill("pid", milliseconds(0)).ok());
  ASSERT_TRUE(WaitForExit("pid").has_value());
  EXPECT_EQ(containerizer_->Pid("pid").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ContainerizerTest, SandboxIsCreatedWithParentsAndIsTheWorkingDirectory) {
  ContainerSpec spec = ShellSpec("cwd", "pwd");
  spec.sandbox = root_ + "/deep/er/sandbox";
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("cwd");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0);
  EXPECT_EQ(ReadText(spec.sandbox + "/stdout"), spec.sandbox + "\n");
}

TEST_P(ContainerizerTest, ArgvModePassesArgumentsWithSpacesUnchanged) {
  ContainerSpec spec = ShellSpec("argv", "printf");  // Found through PATH.
  spec.shell = false;
  spec.arguments = {"printf", "[%s]", "a b", "c  d", "$HOME", "*"};
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("argv");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0) << exit->message;
  EXPECT_EQ(ReadText(Sandbox("argv") + "/stdout"), "[a b][c  d][$HOME][*]");
}

TEST_P(ContainerizerTest, ArgvModeWithoutArgumentsUsesTheCommandAsArgv0) {
  ContainerSpec spec = ShellSpec("argv0", "/bin/sh");
  spec.shell = false;
  // sh reads its script from stdin, which is /dev/null: it exits 0 at once.
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("argv0");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0) << exit->message;
}

TEST_P(ContainerizerTest, EnvironmentIsMinimalPlusTheSpecsVariables) {
  ASSERT_EQ(::setenv("STEWARD_TEST_AGENT_ONLY", "leaked", 1), 0);
  ContainerSpec spec = ShellSpec("env",
                                 "printf '%s|%s|%s|%s' \"$FOO\" \"$HOME\" \"$MESOS_SANDBOX\" "
                                 "\"${STEWARD_TEST_AGENT_ONLY-unset}\"");
  spec.environment = {{"FOO", "bar baz"}, {"HOME", "/elsewhere"}};
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("env");
  ::unsetenv("STEWARD_TEST_AGENT_ONLY");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0) << exit->message;
  EXPECT_EQ(ReadText(Sandbox("env") + "/stdout"),
            absl::StrCat("bar baz|/elsewhere|", Sandbox("env"), "|unset"));
}

TEST_P(ContainerizerTest, ExitStatusesAndSignalsAreReported) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("three", "exit 3")).ok());
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("nine", "kill -9 $$")).ok());
  std::optional<ContainerExit> three = WaitForExit("three");
  std::optional<ContainerExit> nine = WaitForExit("nine");
  ASSERT_TRUE(three.has_value() && nine.has_value());
  EXPECT_TRUE(WIFEXITED(three->wait_status));
  EXPECT_EQ(WEXITSTATUS(three->wait_status), 3);
  EXPECT_EQ(three->message, "exited with status 3");
  EXPECT_TRUE(WIFSIGNALED(nine->wait_status));
  EXPECT_EQ(WTERMSIG(nine->wait_status), SIGKILL);
  EXPECT_EQ(nine->message, "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(nine->killed);
  EXPECT_FALSE(nine->oom_killed);
}

TEST_P(ContainerizerTest, ExecOfAMissingBinaryIsStatus127WithAMessage) {
  ContainerSpec absolute = ShellSpec("absolute", "/nonexistent/steward-no-such-binary");
  absolute.shell = false;
  ContainerSpec searched = ShellSpec("searched", "steward-no-such-command");
  searched.shell = false;
  ASSERT_TRUE(containerizer_->Launch(absolute).ok());
  ASSERT_TRUE(containerizer_->Launch(searched).ok());
  for (const char* id : {"absolute", "searched"}) {
    std::optional<ContainerExit> exit = WaitForExit(id);
    ASSERT_TRUE(exit.has_value());
    EXPECT_TRUE(WIFEXITED(exit->wait_status));
    EXPECT_EQ(WEXITSTATUS(exit->wait_status), 127);
    EXPECT_THAT(exit->message, StartsWith("cannot execute '"));
    EXPECT_THAT(exit->message, HasSubstr("No such file or directory"));
  }
}

TEST_P(ContainerizerTest, KillEndsATaskWithSigterm) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("term", "touch ready; sleep 30")).ok());
  ASSERT_TRUE(WaitForFile(Sandbox("term") + "/ready"));
  const auto start = Clock::now();
  ASSERT_TRUE(containerizer_->Kill("term", std::chrono::seconds(20)).ok());
  std::optional<ContainerExit> exit = WaitForExit("term");
  ASSERT_TRUE(exit.has_value());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(exit->killed);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGTERM);
  EXPECT_EQ(exit->message, "killed by signal 15 (SIGTERM) after a kill request");
}

TEST_P(ContainerizerTest, KillEscalatesToSigkillWhenSigtermIsIgnored) {
  ASSERT_TRUE(
      containerizer_
          ->Launch(ShellSpec("stubborn", "trap '' TERM; touch ready; while :; do sleep 0.05; done"))
          .ok());
  ASSERT_TRUE(WaitForFile(Sandbox("stubborn") + "/ready"));
  const auto start = Clock::now();
  ASSERT_TRUE(containerizer_->Kill("stubborn", milliseconds(300)).ok());
  std::optional<ContainerExit> exit = WaitForExit("stubborn");
  ASSERT_TRUE(exit.has_value());
  EXPECT_GE(Clock::now() - start, milliseconds(300));
  EXPECT_TRUE(exit->killed);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGKILL);
  EXPECT_EQ(exit->message,
            "killed by signal 9 (SIGKILL) after a kill request (SIGKILL after the grace period "
            "of 300 ms)");
}

TEST_P(ContainerizerTest, KillReachesAGrandchildInItsOwnSession) {
  // The grandchild leaves the task's process group and session and ignores SIGTERM.
  ASSERT_TRUE(containerizer_
                  ->Launch(ShellSpec("escape",
                                     "setsid sh -c 'trap \"\" TERM; echo $$ > gc.tmp; "
                                     "mv gc.tmp gc.pid; exec sleep 1000' & wait"))
                  .ok());
  ASSERT_TRUE(WaitForFile(Sandbox("escape") + "/gc.pid"));
  int grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadText(Sandbox("escape") + "/gc.pid")),
                               &grandchild));
  ASSERT_FALSE(ProcessGone(grandchild));
  EXPECT_NE(::getsid(grandchild), ::getsid(0));
  ASSERT_TRUE(containerizer_->Kill("escape", milliseconds(200)).ok());
  std::optional<ContainerExit> exit = WaitForExit("escape");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed);
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_P(ContainerizerTest, ProcessesLeftByAnEndedTaskAreKilled) {
  ASSERT_TRUE(
      containerizer_->Launch(ShellSpec("leftover", "setsid sleep 1000 & echo $! > bg.pid")).ok());
  std::optional<ContainerExit> exit = WaitForExit("leftover");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0);
  EXPECT_FALSE(exit->killed);
  int background = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripAsciiWhitespace(ReadText(Sandbox("leftover") + "/bg.pid")), &background));
  EXPECT_TRUE(ProcessGone(background));
}

TEST_P(ContainerizerTest, BadSpecsAreInvalidArgument) {
  for (const std::string& id :
       {std::string(), std::string("a/b"), std::string("."), std::string(".."),
        std::string("white space"), std::string(129, 'x')}) {
    absl::Status status = containerizer_->Launch(ShellSpec(id, "true"));
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << "'" << id << "': " << status;
  }
  ContainerSpec relative = ShellSpec("relative", "true");
  relative.sandbox = "relative/sandbox";
  EXPECT_TRUE(absl::IsInvalidArgument(containerizer_->Launch(relative)));
  EXPECT_TRUE(absl::IsInvalidArgument(containerizer_->Launch(ShellSpec("empty", ""))));
  ContainerSpec bad_env = ShellSpec("env", "true");
  bad_env.environment = {{"A=B", "c"}};
  EXPECT_TRUE(absl::IsInvalidArgument(containerizer_->Launch(bad_env)));
  ContainerSpec bad_cpus = ShellSpec("cpus", "true");
  bad_cpus.cpus = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(containerizer_->Launch(bad_cpus)));
  EXPECT_TRUE(containerizer_->Running().empty());

  // The longest valid id works end to end.
  const std::string longest(128, 'L');
  ASSERT_TRUE(containerizer_->Launch(ShellSpec(longest, "exit 4")).ok());
  std::optional<ContainerExit> exit = WaitForExit(longest);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(WEXITSTATUS(exit->wait_status), 4);
}

TEST_P(ContainerizerTest, IdsAreUniqueUntilReaped) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("dup", "touch ready; sleep 30")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(containerizer_->Launch(ShellSpec("dup", "true"))));
  EXPECT_EQ(containerizer_->Running(), std::vector<std::string>{"dup"});
  ASSERT_TRUE(containerizer_->Kill("dup", milliseconds(0)).ok());
  ASSERT_TRUE(WaitForExit("dup").has_value());
  EXPECT_TRUE(containerizer_->Running().empty());
  // Reaped: the id is free again.
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("dup", "exit 2")).ok());
  std::optional<ContainerExit> exit = WaitForExit("dup");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(WEXITSTATUS(exit->wait_status), 2);
}

TEST_P(ContainerizerTest, KillOfAnUnknownOrEndedContainerIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(containerizer_->Kill("nobody", milliseconds(0))));
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("quick", "true")).ok());
  // Ended but not yet reaped.
  ASSERT_TRUE(WaitForFile(RuntimeDir() + "/quick/exit.pb"));
  EXPECT_TRUE(absl::IsNotFound(containerizer_->Kill("quick", milliseconds(0))));
  EXPECT_EQ(containerizer_->Running(), std::vector<std::string>{"quick"});
  std::optional<ContainerExit> exit = WaitForExit("quick");
  ASSERT_TRUE(exit.has_value());
  EXPECT_FALSE(exit->killed);
  EXPECT_TRUE(absl::IsNotFound(containerizer_->Kill("quick", milliseconds(0))));
  EXPECT_TRUE(absl::IsInvalidArgument(containerizer_->Kill("quick", milliseconds(-1))));
}

TEST_P(ContainerizerTest, EachExitIsReapedOnceAndTheStateIsRemoved) {
  ASSERT_TRUE(containerizer_->Launch(ShellSpec("once", "true")).ok());
  ASSERT_TRUE(WaitForExit("once").has_value());
  EXPECT_FALSE(std::filesystem::exists(RuntimeDir() + "/once"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(containerizer_->Reap().empty());
}

INSTANTIATE_TEST_SUITE_P(Isolations, ContainerizerTest,
                         ::testing::Values(Isolation::kCgroupsV1, Isolation::kNone), IsolationName);

}  // namespace
}  // namespace steward::agent::testing
