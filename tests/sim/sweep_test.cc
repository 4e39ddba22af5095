// steward-sim sweep: the grid expands in a stated order, every run writes its folder and a
// row, runs in parallel give the same results as alone, and bad sweeps are located errors.
#include "sim/sweep.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sim/sim_test_util.h"

namespace steward::sim {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using ::testing::StartsWith;
using testing::WriteTemp;

std::string Error(const std::string& sweep) {
  absl::StatusOr<std::vector<SweepRun>> runs = PlanSweep(sweep);
  EXPECT_FALSE(runs.ok());
  return runs.ok() ? "" : std::string(runs.status().message());
}

constexpr char kScenario[] = R"(
name: "grid"
agents { resources: "cpus:4;mem:4096" count: 2 }
frameworks { name: "a" tasks { resources: "cpus:1;mem:256" count: 12 duration_seconds: 9 } }
frameworks { name: "b" tasks { resources: "cpus:2;mem:128" count: 6 submit_seconds: 2 duration_seconds: 13 } }
options { sample_interval_seconds: 4 }
)";

std::string WriteSweep(const std::string& body) {
  WriteTemp("grid.textproto", kScenario);
  return WriteTemp("grid-sweep.textproto", body);
}

TEST(Sweep, GridTimesSeedsInOrder) {
  const std::string sweep = WriteSweep(R"(
scenarios: "grid.textproto"
parameters { field: "options.mode" values: "DIRECT" values: "OFFER" }
parameters { field: "options.sorter" values: "DRF" values: "RANDOM" }
seeds: 1 seeds: 2
)");
  absl::StatusOr<std::vector<SweepRun>> runs = PlanSweep(sweep);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 8u);
  EXPECT_EQ((*runs)[0].name, "grid__options.mode=DIRECT__options.sorter=DRF__seed=1");
  EXPECT_EQ((*runs)[1].name, "grid__options.mode=DIRECT__options.sorter=DRF__seed=2");
  EXPECT_EQ((*runs)[2].name, "grid__options.mode=DIRECT__options.sorter=RANDOM__seed=1");
  EXPECT_EQ((*runs)[7].name, "grid__options.mode=OFFER__options.sorter=RANDOM__seed=2");

  const std::string parallel = ::testing::TempDir() + "sweep-parallel";
  const std::string serial = ::testing::TempDir() + "sweep-serial";
  std::filesystem::remove_all(parallel);
  std::filesystem::remove_all(serial);
  int done = 0;
  ASSERT_TRUE(RunSweep(*runs, {.out_dir = parallel,
                               .jobs = 4,
                               .on_done =
                                   [&](const SweepRun&, const absl::Status& s) {
                                     EXPECT_TRUE(s.ok()) << s;
                                     ++done;
                                   }})
                  .ok());
  EXPECT_EQ(done, 8);
  ASSERT_TRUE(RunSweep(*runs, {.out_dir = serial, .jobs = 1, .on_done = {}}).ok());
  const std::string csv = ReadFile(parallel + "/sweep.csv");
  EXPECT_THAT(csv, StartsWith("run,scenario,options.mode,options.sorter,seed,status,end_time,"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
  EXPECT_THAT(csv, HasSubstr(",DIRECT,DRF,1,ok,"));
  for (const SweepRun& run : *runs) {
    // Parallel runs write exactly what a run alone writes.
    EXPECT_EQ(ReadFile(parallel + "/" + run.name + "/tasks.csv"),
              ReadFile(serial + "/" + run.name + "/tasks.csv"))
        << run.name;
    EXPECT_EQ(ReadFile(parallel + "/" + run.name + "/timeline.csv"),
              ReadFile(serial + "/" + run.name + "/timeline.csv"));
  }
}

TEST(Sweep, BadSweepsAreLocated) {
  const std::string prefix = ::testing::TempDir() + "grid-sweep.textproto:";
  EXPECT_THAT(Error(WriteSweep("parameters { field: \"options.mode\" values: \"DIRECT\" }")),
              HasSubstr("a sweep needs scenarios"));
  EXPECT_THAT(Error(WriteSweep("scenarios: \"grid.textproto\"\n"
                               "parameters { field: \"options.mood\" values: \"DIRECT\" }")),
              AllOf(StartsWith(prefix + "2:36: "), HasSubstr("no field 'mood'")));
  EXPECT_THAT(Error(WriteSweep("scenarios: \"grid.textproto\"\n"
                               "parameters { field: \"options.mode\" values: \"SIDEWAYS\" }")),
              HasSubstr("'SIDEWAYS' is not a valid value"));
  EXPECT_THAT(
      Error(WriteSweep("scenarios: \"grid.textproto\"\n"
                       "parameters { field: \"frameworks[5].refuse_seconds\" values: \"1\" }")),
      HasSubstr("does not exist"));
  // A value that parses but fails the scenario's checks names the scenario's field.
  EXPECT_THAT(Error(WriteSweep("scenarios: \"grid.textproto\"\n"
                               "parameters { field: \"options.allocation_interval_seconds\" "
                               "values: \"-1\" }")),
              HasSubstr("must be a finite number > 0"));
  EXPECT_THAT(Error(WriteSweep("scenarios: \"missing.textproto\"")),
              HasSubstr("missing.textproto"));
}

}  // namespace
}  // namespace steward::sim
