// Scenario files: both syntaxes parse to the same scenario, and every error names
// file:line:col, for syntax errors and for checks made after parsing.
#include "sim/proto_file.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/config.h"
#include "tests/sim/sim_test_util.h"

namespace steward::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::WriteTemp;

std::string LoadError(std::string_view name, std::string_view text) {
  const std::string path = WriteTemp(name, text);
  absl::StatusOr<SimConfig> config = LoadScenario(path);
  EXPECT_FALSE(config.ok());
  return config.ok() ? "" : std::string(config.status().message());
}

constexpr char kText[] = R"(name: "small"
agents { name: "m" resources: "cpus:4;mem:8192" count: 2 }
roles { name: "eng" weight: 2 quota_guarantee: "cpus:1" }
frameworks {
  name: "f"
  role: "eng"
  tasks { resources: "cpus:1;mem:1024" count: 3 submit_seconds: 5 duration_seconds: 60 }
  refuse_seconds: 0
}
options { mode: DIRECT sorter: RANDOM placement: BEST_FIT seed: 7 }
)";

constexpr char kJson[] = R"({
  "name": "small",
  "agents": [{"name": "m", "resources": "cpus:4;mem:8192", "count": 2}],
  "roles": [{"name": "eng", "weight": 2, "quota_guarantee": "cpus:1"}],
  "frameworks": [{
    "name": "f", "role": "eng",
    "tasks": [{"resources": "cpus:1;mem:1024", "count": 3, "submitSeconds": 5,
               "duration_seconds": 60}],
    "refuse_seconds": 0
  }],
  "options": {"mode": "DIRECT", "sorter": "RANDOM", "placement": "BEST_FIT", "seed": 7}
})";

TEST(ScenarioFile, TextAndJsonGiveTheSameConfig) {
  for (const auto& [name, text] : {std::pair{"s.textproto", kText}, std::pair{"s.json", kJson}}) {
    SCOPED_TRACE(name);
    absl::StatusOr<SimConfig> config = LoadScenario(WriteTemp(name, text));
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->name, "small");
    ASSERT_EQ(config->agents.size(), 2u);
    EXPECT_EQ(config->agents[1].name, "m-1");
    ASSERT_EQ(config->roles.size(), 1u);
    EXPECT_EQ(*config->roles[0].weight, 2);
    ASSERT_TRUE(config->roles[0].quota.has_value());
    ASSERT_EQ(config->frameworks.size(), 1u);
    const FrameworkConfig& framework = config->frameworks[0];
    EXPECT_EQ(framework.role, "eng");
    EXPECT_EQ(framework.behaviour.refuse_seconds, 0);  // explicit 0 is kept
    EXPECT_EQ(framework.behaviour.tasks_per_offer, 0);
    ASSERT_EQ(framework.groups.size(), 1u);
    EXPECT_EQ(framework.groups[0].count, 3);
    EXPECT_EQ(framework.groups[0].submit, 5);
    EXPECT_EQ(framework.groups[0].demand.ToString(), "cpus:1;mem:1024");
    EXPECT_EQ(config->mode, Mode::kDirect);
    EXPECT_EQ(config->sorter, allocator::SorterKind::kRandom);
    EXPECT_EQ(config->placement, allocator::PlacementPolicy::kBestFit);
    EXPECT_EQ(config->seed, 7u);
    EXPECT_EQ(config->allocation_interval, kDefaultAllocationInterval);
  }
}

TEST(ScenarioFile, DefaultsAreMesosLike) {
  SimConfig config = testing::Scenario(
      "d.textproto", R"(agents { resources: "cpus:1" } frameworks { name: "f" })");
  EXPECT_EQ(config.mode, Mode::kOffer);
  EXPECT_EQ(config.sorter, allocator::SorterKind::kDrf);
  EXPECT_EQ(config.frameworks[0].role, "*");
  EXPECT_EQ(config.frameworks[0].behaviour.refuse_seconds, kDefaultRefuseSeconds);
  EXPECT_EQ(config.agents[0].name, "agent-0");
  EXPECT_EQ(config.name, "d");  // the file's stem
}

TEST(ScenarioFile, TextSyntaxErrorsAreLocated) {
  const std::string path_prefix = ::testing::TempDir() + "bad.textproto:";
  EXPECT_THAT(LoadError("bad.textproto", "name: \"x\"\nagentz { }\n"),
              StartsWith(path_prefix + "2:1: "));
  EXPECT_THAT(LoadError("bad.textproto", "name: \"x\"\noptions {\n  mode: OFFR\n}\n"),
              AllOf(StartsWith(path_prefix + "3:3: "), HasSubstr("OFFR")));
}

TEST(ScenarioFile, JsonSyntaxErrorsAreLocated) {
  const std::string prefix = ::testing::TempDir() + "bad.json:";
  EXPECT_THAT(LoadError("bad.json", "{\n  \"name\": \"x\",\n}\n"),
              AllOf(StartsWith(prefix + "3:1: "), HasSubstr("trailing comma")));
  EXPECT_THAT(LoadError("bad.json", "{\n  \"name\" \"x\"\n}"), StartsWith(prefix + "2:10: "));
  EXPECT_THAT(LoadError("bad.json", "{\"agents\": [\n  {\"count\": 1x}]}"),
              StartsWith(prefix + "2:13: "));
  // Valid JSON, but not a scenario: located at the offending key.
  EXPECT_THAT(LoadError("bad.json", "{\n  \"name\": \"x\",\n    \"agentz\": []\n}"),
              StartsWith(prefix + "3:5: "));
  EXPECT_THAT(LoadError("bad.json", "{\"agents\": [{},\n {\"resources\": 5}]}"),
              StartsWith(prefix + "2:3: "));
}

TEST(ScenarioFile, SemanticErrorsPointAtTheField) {
  const std::string prefix = ::testing::TempDir() + "sem.textproto:";
  EXPECT_THAT(LoadError("sem.textproto",
                        "frameworks { name: \"f\" }\nagents {\n  resources: \"cpus:-1\"\n}\n"),
              AllOf(StartsWith(prefix + "3:3: "), HasSubstr("negative")));
  EXPECT_THAT(LoadError("sem.textproto",
                        "agents { resources: \"cpus:1\" }\nframeworks { name: \"f\"\n"
                        "  tasks { resources: \"cpus:1\" count: 0 } }\n"),
              StartsWith(prefix + "3:3: "));  // count 0 is unset in proto3: the group
  EXPECT_THAT(
      LoadError("sem.textproto",
                "agents { resources: \"cpus:1\" }\nframeworks { name: \"f\" role: \"a//b\" }"),
      StartsWith(prefix + "2:24: "));
  EXPECT_THAT(LoadError("sem.textproto", "agents { resources: \"cpus:1\" }\n"),
              HasSubstr("no work"));
  EXPECT_THAT(LoadError("sem.textproto", "frameworks { name: \"f\" }\n"), HasSubstr("no machines"));
  EXPECT_THAT(LoadError("sem.textproto",
                        "agents { resources: \"cpus:1\" }\nframeworks { name: \"f\" }\n"
                        "traces { format: \"nope\" paths: \"x\" }\n"),
              AllOf(StartsWith(prefix + "3:10: "), HasSubstr("unknown trace format 'nope'")));
  EXPECT_THAT(LoadError("sem.textproto",
                        "agents { resources: \"cpus:1\" }\nframeworks { name: \"f\" }\n"
                        "options { allocation_interval_seconds: 0 }\n"),
              HasSubstr("must be a finite number > 0"));
  EXPECT_THAT(LoadError("sem.textproto",
                        "agents { resources: \"cpus:1\" }\nframeworks { name: \"f\"\n"
                        " tasks { resources: \"cpus(eng):1\" } }\n"),
              AllOf(StartsWith(prefix + "3:10: "), HasSubstr("unreserved scalars only")));
}

TEST(ScenarioFile, MissingFileAndUnknownExtension) {
  absl::StatusOr<SimConfig> missing = LoadScenario("/nonexistent/s.textproto");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(LoadError("s.yaml", "name: x"), HasSubstr("unknown file type"));
}

}  // namespace
}  // namespace steward::sim
