#include "agent/agent_flags.h"

#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "agent/internal/machine_resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::agent {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class AgentFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/steward_flags_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf '" + dir_ + "'").c_str()), 0); }

  absl::StatusOr<AgentConfig> Parse(std::vector<std::string> args,
                                    std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "steward-agent");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return ParseAgentFlags(static_cast<int>(argv.size()), argv.data(), env);
  }

  std::string dir_;
};

double Scalar(const AgentOptions& options, const std::string& name) {
  for (const auto& resource : options.resources) {
    if (resource.name() == name) return resource.scalar().value();
  }
  return -1;
}

TEST_F(AgentFlagsTest, ParsesTheDaemonContract) {
  absl::StatusOr<AgentConfig> config = Parse(
      {"--master=10.0.0.1:5050", "--ip=127.0.0.1", "--port=5099", "--work_dir=" + dir_ + "/w",
       "--resources=cpus:2;mem:1024;disk:1024;ports:[31000-32000]", "--attributes=rack:r1;zone:z",
       "--isolation=none", "--status_update_retry_interval=250ms",
       "--executor_shutdown_grace_period=2secs", "--executor_reregistration_timeout=15secs"});
  ASSERT_TRUE(config.ok()) << config.status();
  const AgentOptions& options = config->agent;
  EXPECT_EQ(options.master_host, "10.0.0.1");
  EXPECT_EQ(options.master_port, 5050);
  EXPECT_EQ(options.port, 5099);
  EXPECT_EQ(options.work_dir, dir_ + "/w");
  EXPECT_EQ(Scalar(options, "cpus"), 2);
  EXPECT_EQ(Scalar(options, "mem"), 1024);
  EXPECT_EQ(options.resources.size(), 4);
  ASSERT_EQ(options.attributes.size(), 2);
  EXPECT_EQ(options.attributes[0].name(), "rack");
  EXPECT_EQ(options.status_update_retry_interval, 250ms);
  EXPECT_EQ(options.executor_shutdown_grace_period, 2s);
  EXPECT_EQ(options.executor_reregistration_timeout, 15s);
  EXPECT_EQ(config->containerizer.isolation, Containerizer::Isolation::kNone);
  EXPECT_EQ(config->containerizer.runtime_dir, dir_ + "/w/runtime");
}

TEST_F(AgentFlagsTest, DetectsWhatResourcesDoNotGive) {
  absl::StatusOr<AgentConfig> config =
      Parse({"--master=m:5050", "--work_dir=" + dir_, "--resources=cpus:3"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->agent.executor_reregistration_timeout, 2s);  // Mesos's default.
  EXPECT_EQ(Scalar(config->agent, "cpus"), 3);
  EXPECT_GT(Scalar(config->agent, "mem"), 0);
  EXPECT_GT(Scalar(config->agent, "disk"), 0);
  bool ports = false;
  for (const auto& resource : config->agent.resources) ports |= resource.name() == "ports";
  EXPECT_TRUE(ports);
}

TEST_F(AgentFlagsTest, WildcardAddressReportsTheMachinesHostname) {
  const std::string resources = "--resources=cpus:1;mem:1;disk:1;ports:[1-2]";
  absl::StatusOr<AgentConfig> config =
      Parse({"--master=m:5050", "--work_dir=" + dir_, resources, "--ip=0.0.0.0"});
  ASSERT_TRUE(config.ok()) << config.status();
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof(name) - 1), 0);
  EXPECT_EQ(config->agent.hostname, name);
  config = Parse({"--master=m:5050", "--work_dir=" + dir_, resources, "--ip=10.1.2.3"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->agent.hostname, "");  // The agent then reports its --ip.
  config = Parse({"--master=m:5050", "--work_dir=" + dir_, resources, "--hostname=h1"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->agent.hostname, "h1");
}

TEST_F(AgentFlagsTest, EnvironmentProvidesFlags) {
  absl::StatusOr<AgentConfig> config =
      Parse({"--work_dir=" + dir_, "--resources=cpus:1;mem:1;disk:1;ports:[1-2]"},
            {{"STEWARD_MASTER", "h:6000"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->agent.master_port, 6000);
}

TEST_F(AgentFlagsTest, BadFlagsAreClearErrors) {
  const std::string work_dir = "--work_dir=" + dir_;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{work_dir}, "--master"},
      {{"--master=m:5050"}, "--work_dir"},
      {{"--master=nohostport", work_dir}, "HOST:PORT"},
      {{"--master=zk://z:2181/steward", work_dir}, "not supported"},
      {{"--master=m:70000", work_dir}, "HOST:PORT"},
      {{"--master=m:5050", work_dir, "--resources=cpus:x"}, "--resources"},
      {{"--master=m:5050", work_dir, "--attributes=norack"}, "--attributes"},
      {{"--master=m:5050", work_dir, "--isolation=posix/cpu"}, "--isolation"},
      {{"--master=m:5050", work_dir, "--status_update_retry_interval=0secs"}, "positive"},
      {{"--master=m:5050", work_dir, "--status_update_retry_interval=5"}, "status_update"},
      {{"--master=m:5050", work_dir, "--executor_reregistration_timeout=0secs"}, "positive"},
      {{"--master=m:5050", work_dir, "--executor_reregistration_timeout=16secs"},
       "--executor_reregistration_timeout: must be at most 15secs"},
      {{"--master=m:5050", work_dir, "--executor_reregistration_timeout=2"},
       "executor_reregistration_timeout"},
      {{"--master=m:5050", work_dir, "--port=x"}, "--port"},
      {{"--master=m:5050", work_dir, "--bogus=1"}, "bogus"},
      {{"--master=m:5050", work_dir, "extra"}, "unexpected argument"},
  };
  for (const auto& [args, expected] : cases) {
    absl::StatusOr<AgentConfig> config = Parse(args);
    ASSERT_FALSE(config.ok()) << expected;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(expected));
  }
}

TEST_F(AgentFlagsTest, HelpSkipsRequiredFlags) {
  absl::StatusOr<AgentConfig> config = Parse({"--help"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->help);
  EXPECT_THAT(config->usage, HasSubstr("--status_update_retry_interval"));
  EXPECT_THAT(config->usage, HasSubstr("--executor_reregistration_timeout"));
}

TEST(MachineResourcesTest, DefaultsFollowMesos) {
  internal::MachineTotals totals;
  totals.cpus = 8;
  totals.memory_bytes = uint64_t{16} << 30;
  totals.filesystem_bytes = uint64_t{100} << 30;
  EXPECT_EQ(internal::DefaultResourceText(totals, true, true, true, true),
            "cpus:8;mem:15360;disk:92160;ports:[31000-32000]");
  totals.memory_bytes = uint64_t{1} << 30;  // Small machines keep half.
  totals.filesystem_bytes = uint64_t{10} << 30;
  EXPECT_EQ(internal::DefaultResourceText(totals, false, true, true, false), "mem:512;disk:5120");
  absl::StatusOr<internal::MachineTotals> probed = internal::ProbeMachine("/tmp");
  ASSERT_TRUE(probed.ok()) << probed.status();
  EXPECT_GT(probed->cpus, 0);
  EXPECT_GT(probed->memory_bytes, 0u);
  EXPECT_EQ(internal::ProbeMachine("/nonexistent/dir").status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace steward::agent
