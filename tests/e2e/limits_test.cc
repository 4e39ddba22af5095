// Task resource limits on a real steward-agent with cgroup isolation: a task that allocates
// far more memory than it asked for is killed and reported TASK_FAILED with
// REASON_CONTAINER_LIMITATION_MEMORY, and a running task's cgroup carries its CPU limit as a
// CFS quota. Skipped, saying so, when the agent reports that it has no cgroup isolation.
#include <unistd.h>

#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"

namespace steward::e2e {
namespace {

using mesos::v1::TaskStatus;
using ::testing::HasSubstr;

// The agent's isolation summary from its start-up log line ("...; isolation: <summary>").
std::string IsolationSummary(Process& agent) {
  const std::string kMarker = "; isolation: ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string log = agent.Stderr();
    if (const size_t at = log.find(kMarker); at != std::string::npos) {
      const size_t begin = at + kMarker.size();
      return log.substr(begin, log.find('\n', begin) - begin);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

// Where the cgroup hierarchy holding `controller` is mounted ("" for cgroup2's unified
// hierarchy when `controller` is empty), from /proc/self/mountinfo.
std::string CgroupMount(const std::string& controller) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // "... <mount point> <options> [optional fields] - <fs type> <source> <super options>"
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const std::vector<std::string> before = absl::StrSplit(line.substr(0, dash), ' ');
    const std::vector<std::string> after = absl::StrSplit(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    if (controller.empty() && after[0] == "cgroup2") return before[4];
    if (!controller.empty() && after[0] == "cgroup") {
      for (absl::string_view option : absl::StrSplit(after[2], ',')) {
        if (option == controller) return before[4];
      }
    }
  }
  return "";
}

// The directory of the cgroup of `pid` holding `controller` (v1), or its unified cgroup (v2).
std::string CgroupDirectory(pid_t pid, int version, const std::string& controller) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cgroup"));
  for (std::string line; std::getline(in, line);) {
    // "<id>:<controllers>:<path>"
    const std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    if (version == 2 && fields[0] == "0" && fields[1].empty()) {
      return CgroupMount("") + fields[2];
    }
    if (version == 1) {
      for (absl::string_view name : absl::StrSplit(fields[1], ',')) {
        if (name == controller) return CgroupMount(controller) + fields[2];
      }
    }
  }
  return "";
}

class LimitsTest : public ClusterTest {
 protected:
  void SetUp() override {
    StartCluster(1);
    if (IsSkipped() || HasFatalFailure()) return;
    const std::string summary = IsolationSummary(*cluster_->agent(0));
    ASSERT_FALSE(summary.empty()) << "the agent did not log its isolation";
    if (!summary.starts_with("cgroups v")) {
      GTEST_SKIP() << "the agent reports no cgroup isolation (" << summary
                   << "): task limits cannot be checked";
    }
    version_ = summary.starts_with("cgroups v2") ? 2 : 1;
    framework_ = Subscribe(calls_, "limited", 0, &framework_id_);
    ASSERT_FALSE(framework_id_.empty());
    const std::vector<mesos::v1::Offer> offers = OffersFrom(*framework_, agent_ids_);
    ASSERT_EQ(offers.size(), 1u);
    offer_id_ = offers[0].id().value();
  }

  // The next update of `task`, acknowledging every update as it arrives (those of other tasks
  // wait in `pending_` for their turn).
  std::optional<TaskStatus> NextOf(const std::string& task) {
    if (std::deque<TaskStatus>& queue = pending_[task]; !queue.empty()) {
      TaskStatus status = queue.front();
      queue.pop_front();
      return status;
    }
    while (std::optional<TaskStatus> status = NextUpdate(*framework_)) {
      EXPECT_EQ(Post(*framework_, calls_, calls_.Acknowledge(framework_id_, *status)), 202);
      if (status->task_id().value() == task) return status;
      pending_[status->task_id().value()].push_back(*status);
    }
    return std::nullopt;
  }

  const SchedulerCalls calls_{Encoding::kProtobuf};
  int version_ = 0;
  std::unique_ptr<TestFramework> framework_;
  std::string framework_id_;
  std::string offer_id_;
  std::map<std::string, std::deque<TaskStatus>> pending_;
};

TEST_F(LimitsTest, MemoryHogIsKilledAndCpuQuotaIsSet) {
  const std::string dir = cluster_->dir();
  // 512 MiB against a 64 MB limit: Python if this machine has it, else awk doubling a string.
  const std::string hog =
      ::access("/usr/bin/python3", X_OK) == 0
          ? "/usr/bin/python3 -c 'x = bytearray(512 * 1024 * 1024); print(len(x))'"
          : "awk 'BEGIN { s = \"x\"; for (i = 0; i < 29; i++) s = s s; print length(s) }'";
  ASSERT_EQ(Post(*framework_, calls_,
                 calls_.Accept(framework_id_, {offer_id_},
                               {{"hog", agent_ids_[0], hog, {{"cpus", 0.1}, {"mem", 64}}},
                                {"capped",
                                 agent_ids_[0],
                                 absl::StrCat("echo $$ > ", dir, "/capped.pid; sleep 60"),
                                 {{"cpus", 0.5}, {"mem", 32}}}},
                               5)),
            202);

  // The hog: killed by the memory limit.
  std::optional<TaskStatus> status;
  while ((status = NextOf("hog")).has_value() && (status->state() == mesos::v1::TASK_STARTING ||
                                                  status->state() == mesos::v1::TASK_RUNNING)) {
  }
  ASSERT_TRUE(status.has_value()) << "no terminal update of the memory hog";
  EXPECT_EQ(status->state(), mesos::v1::TASK_FAILED) << status->ShortDebugString();
  EXPECT_EQ(status->reason(), TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY)
      << status->ShortDebugString();
  EXPECT_EQ(status->source(), TaskStatus::SOURCE_AGENT);
  ASSERT_EQ(status->limitation().resources_size(), 1) << status->ShortDebugString();
  EXPECT_EQ(status->limitation().resources(0).name(), "mem");
  EXPECT_EQ(status->limitation().resources(0).scalar().value(), 64);

  // The capped task: its cgroup has a CFS quota of half the period while it runs.
  while ((status = NextOf("capped")).has_value() && status->state() != mesos::v1::TASK_RUNNING) {
    ASSERT_EQ(status->state(), mesos::v1::TASK_STARTING) << status->ShortDebugString();
  }
  ASSERT_TRUE(status.has_value()) << "the capped task did not run";
  pid_t pid = 0;
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(dir + "/capped.pid")), &pid) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(pid, 0) << "the capped task did not write its pid";
  const std::string cgroup = CgroupDirectory(pid, version_, "cpu");
  ASSERT_FALSE(cgroup.empty()) << "no cpu cgroup for pid " << pid;
  EXPECT_THAT(cgroup, HasSubstr("/" + cluster_->cgroups_root(0) + "/"))
      << "the task is not in the agent's cgroups";
  if (version_ == 2) {
    EXPECT_EQ(absl::StripAsciiWhitespace(ReadFile(cgroup + "/cpu.max")), "50000 100000");
    EXPECT_EQ(absl::StripAsciiWhitespace(ReadFile(cgroup + "/memory.max")),
              absl::StrCat(32 * 1024 * 1024));
  } else {
    if (::access((cgroup + "/cpu.cfs_quota_us").c_str(), R_OK) != 0) {
      GTEST_SKIP() << "this kernel has no CFS bandwidth control (" << cgroup
                   << "/cpu.cfs_quota_us is missing): the memory limit was checked, the CPU "
                      "quota cannot be";
    }
    EXPECT_EQ(absl::StripAsciiWhitespace(ReadFile(cgroup + "/cpu.cfs_quota_us")), "50000");
    EXPECT_EQ(absl::StripAsciiWhitespace(ReadFile(cgroup + "/cpu.cfs_period_us")), "100000");
    const std::string memory = CgroupDirectory(pid, 1, "memory");
    ASSERT_FALSE(memory.empty());
    EXPECT_EQ(absl::StripAsciiWhitespace(ReadFile(memory + "/memory.limit_in_bytes")),
              absl::StrCat(32 * 1024 * 1024));
  }
  ASSERT_EQ(Post(*framework_, calls_, calls_.Kill(framework_id_, "capped", agent_ids_[0])), 202);
  while ((status = NextOf("capped")).has_value() && !(status->state() == mesos::v1::TASK_KILLED)) {
  }
  EXPECT_TRUE(status.has_value()) << "the capped task was not killed";
}

}  // namespace
}  // namespace steward::e2e
