#include "common/flags.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::common {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct Fixture {
  std::string work_dir;
  uint16_t port = 5050;
  bool verbose = false;
  double weight = 1.5;
  int64_t count = 3;
  std::chrono::nanoseconds interval = 1s;
  FlagSet flags{"prog", "Does things."};

  Fixture() {
    flags.Add("work_dir", &work_dir, "Where state lives.", FlagSet::kRequired);
    flags.Add("port", &port, "Port.");
    flags.Add("verbose", &verbose, "Talk more.");
    flags.Add("weight", &weight, "Weight.");
    flags.Add("count", &count, "Count.");
    flags.Add("interval", &interval, "Interval.");
  }

  absl::StatusOr<FlagSet::Result> Parse(std::vector<const char*> args,
                                        std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "prog");
    return flags.Parse(static_cast<int>(args.size()), args.data(), env);
  }
};

TEST(FlagsTest, ParsesEveryKindAndPositionals) {
  Fixture f;
  auto result = f.Parse({"--work_dir=/tmp/x", "--port=6000", "--verbose", "--weight=0.25",
                         "--count=-7", "--interval=250ms", "run", "--", "--not-a-flag"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(f.work_dir, "/tmp/x");
  EXPECT_EQ(f.port, 6000);
  EXPECT_TRUE(f.verbose);
  EXPECT_DOUBLE_EQ(f.weight, 0.25);
  EXPECT_EQ(f.count, -7);
  EXPECT_EQ(f.interval, 250ms);
  EXPECT_FALSE(result->help);
  EXPECT_THAT(result->positional, ElementsAre("run", "--not-a-flag"));
}

TEST(FlagsTest, EnvironmentAppliesUnlessCommandLineWins) {
  Fixture f;
  auto result =
      f.Parse({"--port=7000"},
              {{"STEWARD_WORK_DIR", "/env"}, {"STEWARD_PORT", "1"}, {"STEWARD_VERBOSE", "true"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(f.work_dir, "/env");
  EXPECT_EQ(f.port, 7000);
  EXPECT_TRUE(f.verbose);
}

TEST(FlagsTest, NoPrefixClearsBoolean) {
  Fixture f;
  f.verbose = true;
  ASSERT_TRUE(f.Parse({"--work_dir=/x", "--no-verbose"}).ok());
  EXPECT_FALSE(f.verbose);
}

TEST(FlagsTest, BadValuesNameTheFlagAndSource) {
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--port=70000"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("--port: '70000' is not a port number"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x"}, {{"STEWARD_COUNT", "12abc"}});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("STEWARD_COUNT (environment): '12abc'"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--interval=5"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("--interval: '5' is not a duration"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--prot=1"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("unknown flag --prot"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--port=1"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("missing required flag --work_dir"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--port"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("--port: needs a value"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--port=1", "--port=2"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("given twice"));
  }
  {
    Fixture f;
    auto r = f.Parse({"--work_dir=/x", "--verbose=maybe"});
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("not a boolean"));
  }
}

TEST(FlagsTest, HelpSkipsRequiredAndUsageListsDefaults) {
  Fixture f;
  auto r = f.Parse({"--help"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->help);
  const std::string usage = f.flags.Usage();
  EXPECT_THAT(usage, HasSubstr("Usage: prog [flags]"));
  EXPECT_THAT(usage, HasSubstr("--work_dir=STRING"));
  EXPECT_THAT(usage, HasSubstr("(required)"));
  EXPECT_THAT(usage, HasSubstr("--port=PORT"));
  EXPECT_THAT(usage, HasSubstr("(default: 5050)"));
  EXPECT_THAT(usage, HasSubstr("(default: 1secs)"));
  EXPECT_THAT(usage, HasSubstr("STEWARD_<NAME>"));
}

TEST(DurationTest, ParsesAndFormatsMesosNotation) {
  EXPECT_EQ(*ParseDuration("5secs"), 5s);
  EXPECT_EQ(*ParseDuration("0.5secs"), 500ms);
  EXPECT_EQ(*ParseDuration("100ms"), 100ms);
  EXPECT_EQ(*ParseDuration("2mins"), 120s);
  EXPECT_EQ(*ParseDuration("1hrs"), 3600s);
  EXPECT_EQ(*ParseDuration("1days"), 86400s);
  EXPECT_EQ(*ParseDuration("1weeks"), 604800s);
  EXPECT_EQ(*ParseDuration("7us"), 7us);
  EXPECT_EQ(*ParseDuration("9ns"), 9ns);
  for (const char* bad : {"", "5", "secs", "-1secs", "5 secs", "1e999secs", "5sec", "nansecs"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDuration(5s), "5secs");
  EXPECT_EQ(FormatDuration(1500ms), "1500ms");
  EXPECT_EQ(FormatDuration(120s), "2mins");
  EXPECT_EQ(FormatDuration(0s), "0secs");
}

}  // namespace
}  // namespace steward::common
