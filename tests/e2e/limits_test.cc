// Task resource limits on a real steward-agent with cgroup isolation: a task that allocates
// far more memory than it asked for is killed and reported TASK_FAILED with
// REASON_CONTAINER_LIMITATION_MEMORY, and a running task's cgroup carries its CPU limit as a
// CFS quota; and two agents sharing their parent cgroup, one of which stops while the other
// goes on launching tasks under limits. Skipped, saying so, when the agent reports that it
// has no cgroup isolation.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/mesos_resources.h"
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

// Sets *summary to the agent's isolation summary; fails if it logged none, and skips the test
// unless it isolates with cgroups (callers return when IsSkipped() or HasFatalFailure()).
void RequireCgroups(Process& agent, std::string* summary) {
  *summary = IsolationSummary(agent);
  ASSERT_FALSE(summary->empty()) << "the agent did not log its isolation";
  if (!summary->starts_with("cgroups v")) {
    GTEST_SKIP() << "the agent reports no cgroup isolation (" << *summary
                 << "): task limits cannot be checked";
  }
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
    std::string summary;
    RequireCgroups(*cluster_->agent(0), &summary);
    if (IsSkipped() || HasFatalFailure()) return;
    version_ = summary.starts_with("cgroups v2") ? 2 : 1;
    framework_ = Subscribe(calls_, "limited", 0, &framework_id_);
    ASSERT_FALSE(framework_id_.empty());
    const std::vector<mesos::v1::Offer> offers = OffersFrom(*framework_, agent_ids_);
    ASSERT_EQ(offers.size(), 1u);
    offer_id_ = offers[0].id().value();
  }

  // The next update of `task` before `deadline`, acknowledging every update as it arrives
  // (those of other tasks wait in `pending_` for their turn).
  std::optional<TaskStatus> NextOf(const std::string& task, const Deadline& deadline) {
    if (std::deque<TaskStatus>& queue = pending_[task]; !queue.empty()) {
      TaskStatus status = queue.front();
      queue.pop_front();
      return status;
    }
    while (std::optional<TaskStatus> status = NextUpdate(*framework_, deadline.Remaining())) {
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
  const Deadline hog_end(kStateTimeout);
  while (
      (status = NextOf("hog", hog_end)).has_value() &&
      (status->state() == mesos::v1::TASK_STARTING || status->state() == mesos::v1::TASK_RUNNING)) {
  }
  ASSERT_TRUE(status.has_value()) << "no terminal update of the memory hog within "
                                  << hog_end.budget().count() << " ms";
  EXPECT_EQ(status->state(), mesos::v1::TASK_FAILED) << status->ShortDebugString();
  EXPECT_EQ(status->reason(), TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY)
      << status->ShortDebugString();
  EXPECT_EQ(status->source(), TaskStatus::SOURCE_AGENT);
  ASSERT_EQ(status->limitation().resources_size(), 1) << status->ShortDebugString();
  EXPECT_EQ(status->limitation().resources(0).name(), "mem");
  EXPECT_EQ(status->limitation().resources(0).scalar().value(), 64);

  // The capped task: its cgroup has a CFS quota of half the period while it runs.
  const Deadline capped_runs(kStateTimeout);
  while ((status = NextOf("capped", capped_runs)).has_value() &&
         status->state() != mesos::v1::TASK_RUNNING) {
    ASSERT_EQ(status->state(), mesos::v1::TASK_STARTING) << status->ShortDebugString();
  }
  ASSERT_TRUE(status.has_value()) << "the capped task did not run within "
                                  << capped_runs.budget().count() << " ms";
  pid_t pid = 0;
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(dir + "/capped.pid")), &pid) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(pid, 0) << "the capped task did not write its pid";
  const std::string cgroup = CgroupDirectory(pid, version_, "cpu");
  ASSERT_FALSE(cgroup.empty()) << "no cpu cgroup for pid " << pid;
  EXPECT_THAT(cgroup, HasSubstr("/" + cluster_->cgroups_root() + "/"))
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
  const Deadline capped_killed(kStateTimeout);
  while ((status = NextOf("capped", capped_killed)).has_value() &&
         !(status->state() == mesos::v1::TASK_KILLED)) {
  }
  EXPECT_TRUE(status.has_value()) << "the capped task was not killed within "
                                  << capped_killed.budget().count() << " ms";
}

// The agents of a cluster share their parent cgroups (Cluster::cgroups_root(), as the two
// agents of `make cluster` share "steward"). One of them stopping leaves the parent to the
// other, which still runs tasks under limits.
class SharedCgroupsTest : public ClusterTest {
 protected:
  // Acknowledges updates until one of `task` is in `state` or terminal; that update, or
  // nullopt after kStateTimeout.
  std::optional<TaskStatus> AwaitState(TestFramework& framework, const std::string& framework_id,
                                       const std::string& task, mesos::v1::TaskState state) {
    const Deadline deadline(kStateTimeout);
    while (std::optional<TaskStatus> status = NextUpdate(framework, deadline.Remaining())) {
      if (!status->uuid().empty()) {
        EXPECT_EQ(Post(framework, calls_, calls_.Acknowledge(framework_id, *status)), 202);
      }
      if (status->task_id().value() != task) continue;
      if (status->state() == state || common::IsTerminalState(status->state())) return status;
    }
    ADD_FAILURE() << "no update of " << task << " to " << TaskState_Name(state) << " within "
                  << deadline.budget().count() << " ms";
    return std::nullopt;
  }

  const SchedulerCalls calls_{Encoding::kProtobuf};
};

TEST_F(SharedCgroupsTest, AStoppedAgentLeavesTheSharedParentCgroupToTheOther) {
  StartCluster(2);
  if (IsSkipped() || HasFatalFailure()) return;
  std::string summary;
  RequireCgroups(*cluster_->agent(0), &summary);
  if (IsSkipped() || HasFatalFailure()) return;
  ASSERT_EQ(IsolationSummary(*cluster_->agent(1)), summary)
      << "the agents should share their parent cgroups";
  const int version = summary.starts_with("cgroups v2") ? 2 : 1;
  const size_t in = summary.find(") in ");
  ASSERT_NE(in, std::string::npos) << summary;
  const std::vector<std::string> parents = absl::StrSplit(summary.substr(in + 5), ", ");

  absl::StatusOr<int> stopped = cluster_->StopAgent(0, SIGTERM);
  ASSERT_TRUE(stopped.ok() && *stopped == 0)
      << "agent 0 exited with " << (stopped.ok() ? std::to_string(*stopped) : "?");
  for (const std::string& parent : parents) {
    EXPECT_TRUE(std::filesystem::is_directory(parent))
        << parent << " was removed although agent 1 uses it";
  }

  std::string framework_id;
  std::unique_ptr<TestFramework> framework = Subscribe(calls_, "shared", 0, &framework_id);
  ASSERT_FALSE(framework_id.empty());
  std::string offer_id;
  for (const mesos::v1::Offer& offer : OffersFrom(*framework, {agent_ids_[1]})) {
    if (offer.agent_id().value() == agent_ids_[1]) offer_id = offer.id().value();
  }
  ASSERT_FALSE(offer_id.empty()) << "no offer from agent 1";
  const std::string dir = cluster_->dir();
  ASSERT_EQ(Post(*framework, calls_,
                 calls_.Accept(framework_id, {offer_id},
                               {{"limited",
                                 agent_ids_[1],
                                 absl::StrCat("echo $$ > ", dir, "/limited.pid; sleep 60"),
                                 {{"cpus", 0.5}, {"mem", 32}}}},
                               5)),
            202);
  std::optional<TaskStatus> running =
      AwaitState(*framework, framework_id, "limited", mesos::v1::TASK_RUNNING);
  ASSERT_TRUE(running.has_value());
  ASSERT_EQ(running->state(), mesos::v1::TASK_RUNNING) << running->ShortDebugString();

  pid_t pid = 0;
  const Deadline written(kStateTimeout);
  while (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(dir + "/limited.pid")), &pid) &&
         !written.Expired()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(pid, 0) << "the task did not write its pid within " << written.budget().count()
                    << " ms";
  const std::string memory = CgroupDirectory(pid, version, "memory");
  EXPECT_THAT(memory, HasSubstr("/" + cluster_->cgroups_root() + "/container-"));
  EXPECT_EQ(absl::StripAsciiWhitespace(
                ReadFile(memory + (version == 2 ? "/memory.max" : "/memory.limit_in_bytes"))),
            absl::StrCat(32 * 1024 * 1024));

  ASSERT_EQ(Post(*framework, calls_, calls_.Kill(framework_id, "limited", agent_ids_[1])), 202);
  std::optional<TaskStatus> killed =
      AwaitState(*framework, framework_id, "limited", mesos::v1::TASK_KILLED);
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->state(), mesos::v1::TASK_KILLED) << killed->ShortDebugString();
}

}  // namespace
}  // namespace steward::e2e
