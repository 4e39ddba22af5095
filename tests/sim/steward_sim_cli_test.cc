// steward-sim as a user runs it: exit codes, messages, and the output files.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"
#include "traces/native.h"

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
  const Outcome outcome =
      RunSim("run " + std::string(STEWARD_SOURCE_DIR) +
             "/sim/scenarios/drf-paper.textproto --quiet --seed 42 --out " + out);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_THAT(ReadFile(out + "/summary.json"), HasSubstr("\"seed\": 42"));
}

TEST(StewardSimCli, BadScenarioExitsTwoWithFileLineColumn) {
  const std::string path = WriteTemp(
      "cli-bad.textproto", "frameworks { name: \"f\" }\nagents {\n  resources: \"cpus:x\"\n}\n");
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

std::string SmallNativeTrace() {
  traces::MachineEvent machine;
  machine.name = "n1";
  machine.capacity = {.cpus = 8, .mem = 4096, .disk = 0, .gpus = 1};
  const std::string path = ::testing::TempDir() + "cli.native";
  auto writer = traces::NativeWriter::Create(path, {machine});
  EXPECT_TRUE(writer.ok());
  for (int i = 0; i < 3; ++i) {
    traces::TaskRecord task;
    task.submit_time = 10 * i;
    task.duration = 100;
    task.demand = {.cpus = 2, .mem = 512, .disk = 0, .gpus = 0};
    task.user = i == 0 ? "ann" : "bo";
    EXPECT_TRUE((*writer)->Write(task).ok());
  }
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

TEST(StewardSimCli, InspectAndConvertANativeTrace) {
  const std::string trace = SmallNativeTrace();
  const Outcome inspect = RunSim("inspect " + trace);
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_THAT(inspect.output, HasSubstr("machines: 1 distinct"));
  EXPECT_THAT(inspect.output, HasSubstr("tasks: 3, submitted from 0 s to 20 s"));
  EXPECT_THAT(inspect.output, HasSubstr("distinct users 2"));
  const std::string copy = ::testing::TempDir() + "cli-copy.native";
  const Outcome convert =
      RunSim("convert --format native " + trace + " --out " + copy + " --limit 2");
  EXPECT_EQ(convert.exit_code, 0) << convert.output;
  EXPECT_THAT(convert.output, HasSubstr("2 tasks"));
  EXPECT_THAT(RunSim("inspect " + copy).output, HasSubstr("tasks: 2,"));
}

TEST(StewardSimCli, InspectAndConvertErrors) {
  const Outcome no_format = RunSim("inspect " + WriteTemp("plain.csv", "a,b\n"));
  EXPECT_EQ(no_format.exit_code, 2);
  EXPECT_THAT(no_format.output, HasSubstr("needs --format"));
  const Outcome unknown = RunSim("inspect --format nope x.csv");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown trace format 'nope'"));
  EXPECT_EQ(RunSim("convert --format native").exit_code, 2);
  EXPECT_EQ(RunSim("convert --format native x --out").exit_code, 2);
  EXPECT_THAT(RunSim("inspect --format native x --limit -1").output, HasSubstr("--limit"));
  EXPECT_THAT(RunSim("inspect --format native x --normalised-machine cpus:x").output,
              HasSubstr("--normalised-machine"));
  const Outcome scenario =
      RunSim("inspect " + std::string(STEWARD_SOURCE_DIR) + "/sim/scenarios/drf-paper.textproto");
  EXPECT_EQ(scenario.exit_code, 0) << scenario.output;
  EXPECT_THAT(scenario.output, HasSubstr("framework A (role *): 1 task groups, 10 tasks"));
}

TEST(StewardSimCli, MalformedTraceRecordStrictExitsTwoLenientCounts) {
  const std::string pods = WriteTemp("cli-pods.csv",
                                     "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,"
                                     "pod_phase,creation_time,deletion_time,scheduled_time\n"
                                     "p0,1000,1024,0,0,,LS,Running,0,100,0\n"
                                     "p1,lots,1024,0,0,,LS,Running,0,100,0\n");
  const std::string nodes =
      WriteTemp("cli-nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,8000,8192,0,\n");
  for (bool strict : {true, false}) {
    const std::string scenario = WriteTemp(
        "cli-trace.textproto", "traces { format: \"openb\" paths: \"" + pods + "\" paths: \"" +
                                   nodes + "\" cluster_from_trace: true framework_by: \"qos\"" +
                                   (strict ? " strict: true" : "") + " }\n");
    const Outcome outcome =
        RunSim("run " + scenario + " --quiet --out " + ::testing::TempDir() + "cli-trace-out");
    if (strict) {
      EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
      EXPECT_THAT(outcome.output, HasSubstr(pods + ":3: "));
    } else {
      EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
      EXPECT_THAT(outcome.output, HasSubstr("1 tasks"));
      EXPECT_THAT(outcome.output, HasSubstr("1 skipped"));
    }
  }
}

TEST(StewardSimCli, HelpDescribesTheCommands) {
  const Outcome help = RunSim("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("steward-sim run SCENARIO"));
}

}  // namespace
}  // namespace steward::sim
