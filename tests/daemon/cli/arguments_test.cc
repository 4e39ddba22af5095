#include "daemon/cli/internal/arguments.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/cli/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(SplitCommand, FindsTheCommandAfterGlobalFlagsAndTheirValues) {
  CommandSplit split = SplitCommand({"--master", "10.0.0.1:5050", "--json", "agents", "--all"});
  EXPECT_EQ(split.command, "agents");
  EXPECT_THAT(split.rest, ElementsAre("--master", "10.0.0.1:5050", "--json", "--all"));

  split = SplitCommand({"--master=h:1", "quota", "set", "eng", "cpus:1"});
  EXPECT_EQ(split.command, "quota");
  EXPECT_THAT(split.rest, ElementsAre("--master=h:1", "set", "eng", "cpus:1"));
}

TEST(SplitCommand, NoCommandBeforeADoubleDash) {
  CommandSplit split = SplitCommand({"--json", "--", "run"});
  EXPECT_EQ(split.command, "");
  EXPECT_THAT(split.rest, ElementsAre("--json", "--", "run"));
  EXPECT_EQ(SplitCommand({}).command, "");
}

TEST(ParseHostPort, AcceptsHostAndPortOnly) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseHostPort("10.0.0.1:5050", &host, &port).ok());
  EXPECT_EQ(host, "10.0.0.1");
  EXPECT_EQ(port, 5050);
  ASSERT_TRUE(ParseHostPort("[::1]:80", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"nohost", ":5050", "h:", "h:0", "h:65536", "h:+1", "h:1x", "h: 1"}) {
    const absl::Status status = ParseHostPort(bad, &host, &port);
    EXPECT_TRUE(IsUsageError(status)) << bad;
    EXPECT_THAT(std::string(status.message()), HasSubstr("is not HOST:PORT")) << bad;
  }
}

class CommandFlagsTest : public ::testing::Test {
 protected:
  absl::StatusOr<CommandFlags::Parsed> Parse(std::vector<std::string> args,
                                             std::map<std::string, std::string> env = {}) {
    global_ = GlobalOptions();
    CommandFlags flags(&global_);
    flags.Add("name", &name_);
    flags.Add("force", &force_);
    flags.Add("timeout", &timeout_);
    flags.AddRepeated("env", &env_);
    return flags.Parse(args, env);
  }

  GlobalOptions global_;
  std::string name_;
  bool force_ = false;
  std::chrono::nanoseconds timeout_{0};
  std::vector<std::string> env_;
};

TEST_F(CommandFlagsTest, ValuesWithEqualsOrAsTheNextArgument) {
  absl::StatusOr<CommandFlags::Parsed> parsed =
      Parse({"--name", "hello", "--timeout=2secs", "--force", "pos", "--master", "m:1"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(name_, "hello");
  EXPECT_EQ(timeout_, std::chrono::seconds(2));
  EXPECT_TRUE(force_);
  EXPECT_EQ(global_.master_host, "m");
  EXPECT_EQ(global_.master_port, 1);
  EXPECT_THAT(parsed->positional, ElementsAre("pos"));
  EXPECT_FALSE(parsed->has_command);
}

TEST_F(CommandFlagsTest, BooleansDoNotTakeTheNextArgument) {
  absl::StatusOr<CommandFlags::Parsed> parsed = Parse({"--force", "set"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(force_);
  EXPECT_THAT(parsed->positional, ElementsAre("set"));
}

TEST_F(CommandFlagsTest, RepeatedFlagsAndTheCommandAfterDoubleDash) {
  absl::StatusOr<CommandFlags::Parsed> parsed =
      Parse({"--env=A=1", "--env", "B=2=3", "--", "ls", "--name=x", "--", "-l"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(env_, ElementsAre("A=1", "B=2=3"));
  EXPECT_TRUE(parsed->has_command);
  EXPECT_THAT(parsed->command, ElementsAre("ls", "--name=x", "--", "-l"));
  EXPECT_EQ(name_, "");
  EXPECT_THAT(parsed->positional, IsEmpty());
}

TEST_F(CommandFlagsTest, OnlyTheMasterComesFromTheEnvironment) {
  absl::StatusOr<CommandFlags::Parsed> parsed =
      Parse({}, {{"STEWARD_MASTER", "env-host:7"}, {"STEWARD_NAME", "x"}, {"STEWARD_JSON", "1"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(global_.master_host, "env-host");
  EXPECT_EQ(name_, "");
  EXPECT_FALSE(global_.json);
}

TEST_F(CommandFlagsTest, TheCommandLineWinsOverTheEnvironment) {
  ASSERT_TRUE(Parse({"--master=flag:1"}, {{"STEWARD_MASTER", "env:2"}}).ok());
  EXPECT_EQ(global_.master_host, "flag");
}

TEST_F(CommandFlagsTest, ErrorsAreUsageErrorsNamingTheFlag) {
  auto expect_usage = [](const absl::StatusOr<CommandFlags::Parsed>& parsed,
                         const std::string& message) {
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(IsUsageError(parsed.status())) << parsed.status();
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(message));
  };
  expect_usage(Parse({"--bogus"}), "unknown flag --bogus");
  expect_usage(Parse({"--name"}), "--name: needs a value");
  expect_usage(Parse({"--name", "--"}), "--name: needs a value");
  expect_usage(Parse({"--timeout=5"}), "--timeout: '5' is not a duration");
  expect_usage(Parse({"--name=a", "--name=b"}), "--name given twice");
  expect_usage(Parse({"--master=x"}), "--master: 'x' is not HOST:PORT");
  expect_usage(Parse({}, {{"STEWARD_MASTER", "x"}}),
               "STEWARD_MASTER (environment): 'x' is not HOST:PORT");
  expect_usage(Parse({"--request_timeout=0secs"}), "--request_timeout: must be positive");
}

TEST_F(CommandFlagsTest, HelpSkipsTheChecks) {
  absl::StatusOr<CommandFlags::Parsed> parsed = Parse({"--master=x", "--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  EXPECT_TRUE(Parse({"-h"})->help);
}

TEST(ExitCodeFor, UsageFailureAndSuccess) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(UsageError("bad")), 2);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("from the master")), 1);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("down")), 1);
}

}  // namespace
}  // namespace steward::cli
