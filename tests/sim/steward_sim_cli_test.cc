// steward-sim as a user runs it: exit codes, messages, and the output files.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"

namespace steward::sim {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::WriteTemp;

struct Outcome {
  int exit_code;
  std::string output;  // stdout and stderr together
};

Outcome RunSim(const std::string& args) {
  const std::string command = std::string(STEWARD_SIM_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  Outcome outcome{-1, ""};
  if (pipe == nullptr) return outcome;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) outcome.output.append(buffer, n);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

TEST(StewardSimCli, RunWritesTheFourFilesAndASummary) {
  const std::string out = ::testing::TempDir() + "cli-run";
  std::filesystem::remove_all(out);
  const Outcome outcome = RunSim("run " + std::string(STEWARD_SOURCE_DIR) +
                                 "/sim/scenarios/drf-paper.textproto --quiet --out " + out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr("scenario drf-paper"));
  EXPECT_THAT(outcome.output, HasSubstr("mean utilisation: cpus 96.0%"));
  for (const char* file : {"summary.json", "tasks.csv", "agents.csv", "timeline.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
  }
  EXPECT_THAT(ReadFile(out + "/summary.json"), HasSubstr("\"scenario\": \"drf-paper\""));
}

TEST(StewardSimCli, SeedFlagReplacesTheScenarioSeed) {
  const std::string out = ::testing::TempDir() + "cli-seed";
  const Outcome outcome = RunSim("run " + std::string(STEWARD_SOURCE_DIR) +
                                 "/sim/scenarios/drf-paper.textproto --quiet --seed 42 --out " + out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_THAT(ReadFile(out + "/summary.json"), HasSubstr("\"seed\": 42"));
}

TEST(StewardSimCli, BadScenarioExitsTwoWithFileLineColumn) {
  const std::string path = WriteTemp("cli-bad.textproto", "frameworks { name: \"f\" }\nagents {\n  resources: \"cpus:x\"\n}\n");
  const Outcome outcome = RunSim("run " + path + " --quiet");
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_THAT(outcome.output, HasSubstr(path + ":3:3: "));
}

TEST(StewardSimCli, BadCommandLinesExitTwo) {
  EXPECT_EQ(RunSim("").exit_code, 2);
  EXPECT_EQ(RunSim("frobnicate").exit_code, 2);
  EXPECT_EQ(RunSim("run").exit_code, 2);
  EXPECT_EQ(RunSim("run x.textproto --seed -3").exit_code, 2);
  const Outcome unknown = RunSim("run x.textproto --bogus");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown option '--bogus'"));
  const Outcome missing = RunSim("run /nonexistent.textproto");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent.textproto"));
}

TEST(StewardSimCli, HelpDescribesTheCommands) {
  const Outcome help = RunSim("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("steward-sim run SCENARIO"));
}

}  // namespace
}  // namespace steward::sim
