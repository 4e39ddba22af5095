// Cgroup isolation on this host (v1 when usable; skipped otherwise), isolation selection and
// option checking.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/containerizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/containerizer_fixture.h"

namespace steward::agent::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string SelfExe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// The value of a cgroup v1 control file of the cgroup that `cgroup_file` (a copy of a task's
// /proc/self/cgroup) lists for `controller`, assuming the hierarchies are mounted at
// /sys/fs/cgroup/<controller> (as on this host).
std::string ControlFile(const std::string& cgroup_file, const std::string& controller,
                        const std::string& file, std::string* directory) {
  for (absl::string_view line : absl::StrSplit(cgroup_file, '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    std::vector<std::string> controllers = absl::StrSplit(parts[1], ',');
    if (std::find(controllers.begin(), controllers.end(), controller) == controllers.end()) {
      continue;
    }
    *directory = absl::StrCat("/sys/fs/cgroup/", parts[1], parts[2]);
    std::ifstream in(*directory + "/" + file);
    std::string value;
    std::getline(in, value);
    return value;
  }
  return "";
}

// The parent cgroup directories named by an isolation summary ("cgroups vN (...) in A, B").
std::vector<std::string> ParentCgroups(const std::string& summary) {
  const size_t in = summary.find(") in ");
  if (in == std::string::npos) return {};
  return absl::StrSplit(summary.substr(in + 5), ", ");
}

class CgroupsV1Test : public ContainerizerFixture {
 protected:
  void SetUp() override {
    if (!Start(Isolation::kCgroupsV1)) {
      GTEST_SKIP() << "no usable cgroup v1 cpu and memory hierarchies: " << skip_reason_;
    }
  }

  // Launches `id` on `containerizer` with 0.5 cpus and 128 MiB, checks that the task runs in
  // cgroups under the parent with those limits, then kills it and checks how it ended.
  void LaunchUnderLimits(Containerizer& containerizer, const std::string& id) {
    ContainerSpec spec =
        ShellSpec(id, "cat /proc/self/cgroup > cgroups.txt; mv cgroups.txt cgroups; sleep 30");
    spec.cpus = 0.5;
    spec.mem_bytes = uint64_t{128} << 20;
    absl::Status launched = containerizer.Launch(spec);
    ASSERT_TRUE(launched.ok()) << launched;
    ASSERT_TRUE(WaitForFile(Sandbox(id) + "/cgroups"));
    const std::string cgroups = ReadText(Sandbox(id) + "/cgroups");
    std::string cpu_dir, memory_dir;
    EXPECT_EQ(ControlFile(cgroups, "cpu", "cpu.shares", &cpu_dir), "512");
    EXPECT_EQ(ControlFile(cgroups, "memory", "memory.limit_in_bytes", &memory_dir),
              absl::StrCat(uint64_t{128} << 20));
    const std::string leaf = absl::StrCat("/", options_.cgroup_name, "/container-", id);
    EXPECT_THAT(cpu_dir, HasSubstr(leaf));
    EXPECT_THAT(memory_dir, HasSubstr(leaf));
    ASSERT_TRUE(containerizer.Kill(id, std::chrono::milliseconds(0)).ok());
  }
};

TEST_F(CgroupsV1Test, SummaryNamesTheControllers) {
  EXPECT_THAT(containerizer_->IsolationSummary(), StartsWith("cgroups v1 (cpu, memory"));
}

TEST_F(CgroupsV1Test, LimitsAreWrittenToTheTasksCgroups) {
  ContainerSpec spec = ShellSpec("limits",
                                 "cat /proc/self/cgroup > cgroups.txt; "
                                 "mv cgroups.txt cgroups; sleep 30");
  spec.cpus = 0.5;
  spec.mem_bytes = uint64_t{256} << 20;
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  ASSERT_TRUE(WaitForFile(Sandbox("limits") + "/cgroups"));
  const std::string cgroups = ReadText(Sandbox("limits") + "/cgroups");
  std::string cpu_dir, memory_dir;
  EXPECT_EQ(ControlFile(cgroups, "cpu", "cpu.shares", &cpu_dir), "512");
  EXPECT_EQ(ControlFile(cgroups, "cpu", "cpu.cfs_period_us", &cpu_dir), "100000");
  EXPECT_EQ(ControlFile(cgroups, "cpu", "cpu.cfs_quota_us", &cpu_dir), "50000");
  EXPECT_EQ(ControlFile(cgroups, "memory", "memory.limit_in_bytes", &memory_dir),
            absl::StrCat(uint64_t{256} << 20));
  EXPECT_THAT(cpu_dir, HasSubstr(absl::StrCat("/", options_.cgroup_name, "/container-limits")));
  EXPECT_THAT(memory_dir, HasSubstr(absl::StrCat("/", options_.cgroup_name, "/container-limits")));

  ASSERT_TRUE(containerizer_->Kill("limits", std::chrono::milliseconds(0)).ok());
  std::optional<ContainerExit> exit = WaitForExit("limits");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed);
  EXPECT_FALSE(exit->oom_killed);
  // The container's cgroups are removed when it ends.
  EXPECT_FALSE(std::filesystem::exists(cpu_dir));
  EXPECT_FALSE(std::filesystem::exists(memory_dir));
}

TEST_F(CgroupsV1Test, ExceedingTheMemoryLimitIsReportedAsOomKilled) {
  ContainerSpec spec = ShellSpec("hungry", SelfExe());
  spec.shell = false;
  spec.arguments = {SelfExe(), "--allocate-mib=2048"};
  spec.mem_bytes = uint64_t{64} << 20;
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("hungry");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->oom_killed) << exit->message;
  EXPECT_FALSE(exit->killed);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_EQ(WTERMSIG(exit->wait_status), SIGKILL);
  EXPECT_EQ(exit->message, "memory limit of 64 MiB exceeded; killed by signal 9 (SIGKILL)");
}

TEST_F(CgroupsV1Test, ATaskWithinItsMemoryLimitIsNotOomKilled) {
  ContainerSpec spec = ShellSpec("modest", SelfExe());
  spec.shell = false;
  spec.arguments = {SelfExe(), "--allocate-mib=8"};
  spec.mem_bytes = uint64_t{512} << 20;
  ASSERT_TRUE(containerizer_->Launch(spec).ok());
  std::optional<ContainerExit> exit = WaitForExit("modest");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->wait_status, 0) << exit->message;
  EXPECT_FALSE(exit->oom_killed);
}

TEST_F(CgroupsV1Test, AChildForkedIntoANewProcessGroupIsKilledThroughTheCgroup) {
  // The child leaves the task's process group; the cgroup still holds it.
  ASSERT_TRUE(containerizer_
                  ->Launch(ShellSpec("group",
                                     "setsid sh -c 'echo $$ > child.tmp; mv child.tmp "
                                     "child.pid; exec sleep 1000' & wait"))
                  .ok());
  ASSERT_TRUE(WaitForFile(Sandbox("group") + "/child.pid"));
  int child = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      absl::StripAsciiWhitespace(ReadText(Sandbox("group") + "/child.pid")), &child));
  const std::string cgroup = ReadText(absl::StrCat("/proc/", child, "/cgroup"));
  EXPECT_THAT(cgroup, HasSubstr("/container-group"));
  ASSERT_TRUE(containerizer_->Kill("group", std::chrono::milliseconds(100)).ok());
  ASSERT_TRUE(WaitForExit("group").has_value());
  EXPECT_TRUE(ProcessGone(child));
}

// Several agents on one machine share the parent cgroup (same --cgroups_root, same own
// cgroup). One of them stopping must not take the parent away from the others.
TEST_F(CgroupsV1Test, AContainerizerStoppingLeavesTheSharedParentToTheOthers) {
  Containerizer::Options other_options = options_;
  other_options.runtime_dir = root_ + "/runtime-other";
  absl::StatusOr<std::unique_ptr<Containerizer>> other = Containerizer::Create(other_options);
  ASSERT_TRUE(other.ok()) << other.status();
  const std::vector<std::string> parents = ParentCgroups((*other)->IsolationSummary());
  ASSERT_EQ(parents, ParentCgroups(containerizer_->IsolationSummary()));
  ASSERT_FALSE(parents.empty());

  // The other one runs a task and stops; its task's cgroups are gone, and so would be the
  // parent if the other containerizer thought it was alone.
  ASSERT_NO_FATAL_FAILURE(LaunchUnderLimits(**other, "other-task"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(*other)->Running().empty() && std::chrono::steady_clock::now() < deadline) {
    (void)(*other)->Reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*other)->Running().empty());
  other->reset();
  for (const std::string& parent : parents) {
    EXPECT_TRUE(std::filesystem::is_directory(parent)) << parent << " removed while in use";
  }

  // The remaining containerizer still launches under limits. (TearDown checks that the last
  // one to stop removes the parent.)
  ASSERT_NO_FATAL_FAILURE(LaunchUnderLimits(*containerizer_, "after"));
  std::optional<ContainerExit> exit = WaitForExit("after");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed) << exit->message;
}

// Whoever removed it (an older agent, an operator), a missing parent is created again by the
// next launch.
TEST_F(CgroupsV1Test, ALaunchRecreatesARemovedParent) {
  const std::vector<std::string> parents = ParentCgroups(containerizer_->IsolationSummary());
  ASSERT_FALSE(parents.empty());
  for (const std::string& parent : parents) {
    ASSERT_EQ(::rmdir(parent.c_str()), 0) << parent << ": " << std::strerror(errno);
  }
  ASSERT_NO_FATAL_FAILURE(LaunchUnderLimits(*containerizer_, "recreated"));
  std::optional<ContainerExit> exit = WaitForExit("recreated");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->killed) << exit->message;
}

// Launches race a loop that removes the parent whenever it is empty: each launch still gets
// its cgroups (a parent removed between its creation and the container's is created again).
// The loop pauses briefly between passes: a remover that never yields the core can, on a
// 2-core machine, win every one of a launch's bounded retries, which no real remover (another
// agent stopping, an operator) does.
TEST_F(CgroupsV1Test, LaunchesSurviveConcurrentRemovalOfTheParent) {
  const std::vector<std::string> parents = ParentCgroups(containerizer_->IsolationSummary());
  ASSERT_FALSE(parents.empty());
  std::atomic<bool> done{false};
  std::atomic<int> removals{0};
  std::thread remover([&] {
    while (!done.load()) {
      for (const std::string& parent : parents) {
        if (::rmdir(parent.c_str()) == 0) ++removals;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  constexpr int kLaunches = 12;
  int launched = 0;
  for (int i = 0; i < kLaunches; ++i) {
    const std::string id = absl::StrCat("race-", i);
    ContainerSpec spec = ShellSpec(id, "exit 0");
    spec.cpus = 0.1;
    spec.mem_bytes = uint64_t{64} << 20;
    absl::Status status = containerizer_->Launch(spec);
    EXPECT_TRUE(status.ok()) << id << ": " << status;
    if (!status.ok()) continue;
    ++launched;
    std::optional<ContainerExit> exit = WaitForExit(id);
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->wait_status, 0) << id << ": " << exit->message;
  }
  done.store(true);
  remover.join();
  EXPECT_EQ(launched, kLaunches);
  // Every task ended and left the parent empty, so the loop removed it at least once.
  EXPECT_GT(removals.load(), 0);
}

class IsolationChoiceTest : public ContainerizerFixture {};

TEST_F(IsolationChoiceTest, NoneRunsWithoutLimitsAndSaysSo) {
  ASSERT_TRUE(Start(Isolation::kNone));
  EXPECT_THAT(containerizer_->IsolationSummary(), StartsWith("none: "));
  EXPECT_THAT(containerizer_->IsolationSummary(), HasSubstr("without cpu and memory limits"));
}

TEST_F(IsolationChoiceTest, AutoPicksAUsableIsolation) {
  ASSERT_TRUE(Start(Isolation::kAuto));
  const std::string summary = containerizer_->IsolationSummary();
  EXPECT_TRUE(absl::StartsWith(summary, "cgroups v2 (cpu, memory") ||
              absl::StartsWith(summary, "cgroups v1 (cpu, memory") ||
              absl::StartsWith(summary, "none: no usable cgroup controllers; "))
      << summary;
}

TEST_F(IsolationChoiceTest, UnusableV2IsFailedPrecondition) {
  std::ifstream controllers_file("/sys/fs/cgroup/unified/cgroup.controllers");
  std::string controllers;
  std::getline(controllers_file, controllers);
  if (!controllers_file || absl::StrContains(controllers, "memory")) {
    GTEST_SKIP() << "needs a host whose cgroup2 hierarchy at /sys/fs/cgroup/unified lacks the "
                    "memory controller";
  }
  EXPECT_FALSE(Start(Isolation::kCgroupsV2));
  EXPECT_THAT(skip_reason_, StartsWith("cgroups v2 not usable: "));
  EXPECT_THAT(skip_reason_, HasSubstr("lacks"));
}

TEST(ContainerizerOptionsTest, BadOptionsAreInvalidArgument) {
  Containerizer::Options options;
  options.isolation = Containerizer::Isolation::kNone;
  options.runtime_dir = "relative/runtime";
  EXPECT_TRUE(absl::IsInvalidArgument(Containerizer::Create(options).status()));
  options.runtime_dir = "";
  EXPECT_TRUE(absl::IsInvalidArgument(Containerizer::Create(options).status()));
  options.runtime_dir = "/tmp/steward-containerizer-options-test";
  for (const char* name : {"", "a/b", "..", "."}) {
    options.cgroup_name = name;
    EXPECT_TRUE(absl::IsInvalidArgument(Containerizer::Create(options).status())) << name;
  }
  options.isolation = static_cast<Containerizer::Isolation>(42);
  options.cgroup_name = "steward";
  EXPECT_TRUE(absl::IsInvalidArgument(Containerizer::Create(options).status()));
}

}  // namespace
}  // namespace steward::agent::testing
