// A framework's whole life against a real steward-master and two real steward-agents, driven
// over HTTP as a third-party scheduler drives it: by JSON written out by hand, and by protobuf.
// It subscribes, gets offers from both agents, launches tasks on each, sees them finish (and
// reads what they printed from their sandboxes), kills one, reconciles, and tears down.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster_fixture.h"

namespace steward::e2e {
namespace {

using mesos::v1::TaskState;
using mesos::v1::TaskStatus;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

bool IsTerminal(TaskState state) {
  return state == mesos::v1::TASK_FINISHED || state == mesos::v1::TASK_FAILED ||
         state == mesos::v1::TASK_KILLED || state == mesos::v1::TASK_ERROR ||
         state == mesos::v1::TASK_LOST || state == mesos::v1::TASK_DROPPED;
}

// "task: STATE, STATE; task: ..." for failure messages.
std::string Describe(const std::map<std::string, std::vector<TaskStatus>>& updates) {
  std::vector<std::string> parts;
  for (const auto& [task, statuses] : updates) {
    std::vector<std::string> states;
    for (const TaskStatus& status : statuses) states.push_back(TaskState_Name(status.state()));
    parts.push_back(absl::StrCat(task, ": ", absl::StrJoin(states, ", ")));
  }
  return absl::StrJoin(parts, "; ");
}

// The states of `statuses` in order, each once.
std::vector<TaskState> States(const std::vector<TaskStatus>& statuses) {
  std::vector<TaskState> states;
  for (const TaskStatus& status : statuses) {
    if (states.empty() || states.back() != status.state()) states.push_back(status.state());
  }
  return states;
}

class FrameworkLifecycleTest : public ClusterTest,
                               public ::testing::WithParamInterface<Encoding> {};

TEST_P(FrameworkLifecycleTest, SubscribeLaunchFinishKillReconcileTeardown) {
  StartCluster(2);
  if (IsSkipped() || HasFatalFailure()) return;
  const SchedulerCalls calls(GetParam());
  const uint16_t master = cluster_->master_port();
  const std::string& agent_a = agent_ids_[0];
  const std::string& agent_b = agent_ids_[1];
  ASSERT_NE(agent_a, agent_b);

  // 1. Subscribe: a stream in the call's encoding, with a stream id.
  std::string framework_id;
  std::unique_ptr<TestFramework> framework =
      Subscribe(calls, calls.json() ? "lifecycle-json" : "lifecycle-protobuf", 0, &framework_id);
  ASSERT_FALSE(framework_id.empty());
  EXPECT_FALSE(framework->stream_id().empty());
  EXPECT_EQ(framework->Head().Header("Content-Type"), calls.content_type());

  // 2. Offers from both agents, each whole.
  std::map<std::string, mesos::v1::Offer> offer_on;
  for (const mesos::v1::Offer& offer : OffersFrom(*framework, agent_ids_)) {
    EXPECT_EQ(offer.framework_id().value(), framework_id);
    EXPECT_EQ(offer.hostname(), "127.0.0.1");
    offer_on.emplace(offer.agent_id().value(), offer);
  }
  ASSERT_TRUE(offer_on.contains(agent_a) && offer_on.contains(agent_b))
      << "no offer from each agent";

  // 3. Two tasks on each agent: one prints and finishes, one sleeps.
  const std::map<std::string, std::string> agent_of = {
      {"echo-a", agent_a}, {"sleeper-a", agent_a}, {"echo-b", agent_b}, {"sleeper-b", agent_b}};
  const std::map<std::string, uint16_t> port_of = {{agent_a, cluster_->agent_port(0)},
                                                   {agent_b, cluster_->agent_port(1)}};
  ASSERT_EQ(Post(*framework, calls,
                 calls.Accept(framework_id, {offer_on[agent_a].id().value()},
                              {{"echo-a", agent_a, "echo hello-a; echo oops-a >&2"},
                               {"sleeper-a", agent_a, "sleep 60"}},
                              /*refuse_seconds=*/5)),
            202);
  ASSERT_EQ(
      Post(*framework, calls,
           calls.Accept(framework_id, {offer_on[agent_b].id().value()},
                        {{"echo-b", agent_b, "echo hello-b"}, {"sleeper-b", agent_b, "sleep 60"}},
                        /*refuse_seconds=*/5)),
      202);

  // 4. Updates. Every one is acknowledged, except echo-b's first, which is held until the
  // agent has sent it again (and nothing later of echo-b may come first). Before a terminal
  // update of an echo task is acknowledged (the agent lists the task until then), its
  // sandbox's stdout and stderr are read. sleeper-a is killed once running.
  std::map<std::string, std::vector<TaskStatus>> updates;
  std::set<std::string> acknowledged;  // uuids
  std::optional<std::string> held;     // uuid of echo-b's first update
  int held_arrivals = 0;
  bool kill_sent = false;
  std::map<std::string, std::string> out, err;
  auto handle = [&](const TaskStatus& status) {
    const std::string& task = status.task_id().value();
    if (task.starts_with("echo-") && IsTerminal(status.state())) {
      const uint16_t port = port_of.at(agent_of.at(task));
      absl::StatusOr<std::string> sandbox = SandboxOf(port, framework_id, task);
      ASSERT_TRUE(sandbox.ok()) << sandbox.status();
      absl::StatusOr<std::string> stdout_text = ReadSandboxFile(port, *sandbox + "/stdout");
      absl::StatusOr<std::string> stderr_text = ReadSandboxFile(port, *sandbox + "/stderr");
      ASSERT_TRUE(stdout_text.ok()) << stdout_text.status();
      ASSERT_TRUE(stderr_text.ok()) << stderr_text.status();
      out[task] = *stdout_text;
      err[task] = *stderr_text;
    }
    if (task == "sleeper-a" && status.state() == mesos::v1::TASK_RUNNING && !kill_sent) {
      ASSERT_EQ(Post(*framework, calls, calls.Kill(framework_id, task, agent_a)), 202);
      kill_sent = true;
    }
    ASSERT_EQ(Post(*framework, calls, calls.Acknowledge(framework_id, status)), 202);
    acknowledged.insert(status.uuid());
    updates[task].push_back(status);
  };
  auto last_state = [&](const std::string& task) {
    return updates[task].empty() ? mesos::v1::TASK_STAGING : updates[task].back().state();
  };
  auto finished = [&] {
    return held_arrivals >= 2 && last_state("echo-a") == mesos::v1::TASK_FINISHED &&
           last_state("echo-b") == mesos::v1::TASK_FINISHED &&
           last_state("sleeper-a") == mesos::v1::TASK_KILLED &&
           last_state("sleeper-b") == mesos::v1::TASK_RUNNING;
  };
  const Deadline lifecycle(kStateTimeout * 3);
  while (!finished()) {
    std::optional<TaskStatus> status =
        NextUpdate(*framework, std::min(kEventTimeout, lifecycle.Remaining()));
    ASSERT_TRUE(status.has_value())
        << (lifecycle.Expired() ? absl::StrCat("the tasks did not all end as expected within ",
                                               lifecycle.budget().count(), " ms")
                                : absl::StrCat("no update within ", kEventTimeout.count(), " ms"))
        << "; so far: " << Describe(updates);
    const std::string task = status->task_id().value();
    ASSERT_TRUE(agent_of.contains(task)) << "update of an unknown task " << task;
    EXPECT_EQ(status->agent_id().value(), agent_of.at(task)) << task;
    ASSERT_EQ(status->uuid().size(), 16u) << task;
    if (acknowledged.contains(status->uuid())) continue;  // a resend that crossed our ack
    if (task == "echo-b" && (!held || held_arrivals < 2)) {
      if (!held) held = status->uuid();
      ASSERT_EQ(status->uuid(), *held)
          << "echo-b sent a later update before its first one was acknowledged";
      if (++held_arrivals < 2) continue;  // hold it
    }
    handle(*status);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(held_arrivals, 2) << "the unacknowledged update was not sent again";
  for (const char* task : {"echo-a", "echo-b"}) {
    const std::vector<TaskState> states = States(updates[task]);
    ASSERT_GE(states.size(), 2u) << Describe(updates);
    EXPECT_EQ(states[states.size() - 2], mesos::v1::TASK_RUNNING) << Describe(updates);
  }
  EXPECT_EQ(out["echo-a"], "hello-a\n");
  EXPECT_EQ(err["echo-a"], "oops-a\n");
  EXPECT_EQ(out["echo-b"], "hello-b\n");
  EXPECT_EQ(err["echo-b"], "");
  const std::vector<TaskState> killed = States(updates["sleeper-a"]);
  EXPECT_EQ(killed.back(), mesos::v1::TASK_KILLED) << Describe(updates);
  EXPECT_NE(std::find(killed.begin(), killed.end(), mesos::v1::TASK_RUNNING), killed.end());

  // 5. Explicit reconciliation: finished, killed and unknown tasks.
  ASSERT_EQ(
      Post(*framework, calls,
           calls.Reconcile(framework_id,
                           {{"echo-a", agent_a}, {"sleeper-a", agent_a}, {"ghost", agent_b}})),
      202);
  std::map<std::string, TaskStatus> reconciled;
  const Deadline reconciliation(kEventTimeout);
  while (reconciled.size() < 3) {
    std::optional<TaskStatus> status = NextUpdate(*framework, reconciliation.Remaining());
    ASSERT_TRUE(status.has_value()) << "reconciliation answered " << reconciled.size()
                                    << " of 3 within " << reconciliation.budget().count() << " ms";
    if (acknowledged.contains(status->uuid())) continue;
    EXPECT_EQ(status->reason(), TaskStatus::REASON_RECONCILIATION) << status->ShortDebugString();
    EXPECT_EQ(status->uuid(), "") << "reconciliation updates need no acknowledgement";
    reconciled[status->task_id().value()] = *status;
  }
  EXPECT_EQ(reconciled["echo-a"].state(), mesos::v1::TASK_FINISHED);
  EXPECT_EQ(reconciled["echo-a"].agent_id().value(), agent_a);
  EXPECT_EQ(reconciled["sleeper-a"].state(), mesos::v1::TASK_KILLED);
  EXPECT_EQ(reconciled["ghost"].state(), mesos::v1::TASK_LOST);

  // 6. Implicit reconciliation: the one task still running, and nothing else.
  ASSERT_EQ(Post(*framework, calls, calls.Reconcile(framework_id, {})), 202);
  std::vector<std::string> implicit;
  // Until 500 ms pass without an update (the answer is complete), for kEventTimeout at most.
  const Deadline answers(kEventTimeout);
  for (std::optional<TaskStatus> status = NextUpdate(*framework, answers.Remaining());
       status.has_value(); status = NextUpdate(*framework, std::min(std::chrono::milliseconds(500),
                                                                    answers.Remaining()))) {
    ASSERT_FALSE(answers.Expired())
        << "updates kept coming for " << answers.budget().count()
        << " ms after the implicit reconciliation; so far: " << absl::StrJoin(implicit, ", ");
    if (acknowledged.contains(status->uuid())) continue;
    implicit.push_back(absl::StrCat(status->task_id().value(), " ", TaskState_Name(status->state()),
                                    " ",
                                    status->agent_id().value() == agent_b ? "on b" : "elsewhere"));
  }
  EXPECT_THAT(implicit, ElementsAre("sleeper-b TASK_RUNNING on b"));

  // 7. The master's view agrees.
  absl::StatusOr<master_api::Response> tasks = WaitForOperator(
      master, master_api::Call::GET_TASKS,
      [](const master_api::Response& r) { return r.get_tasks().completed_tasks_size() == 3; },
      kStateTimeout, "three completed tasks");
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  const std::map<std::string, TaskState> expected = {{"echo-a", mesos::v1::TASK_FINISHED},
                                                     {"echo-b", mesos::v1::TASK_FINISHED},
                                                     {"sleeper-a", mesos::v1::TASK_KILLED},
                                                     {"sleeper-b", mesos::v1::TASK_RUNNING}};
  for (const auto& [task_id, state] : expected) {
    const mesos::v1::Task* task = FindTask(*tasks, task_id);
    ASSERT_NE(task, nullptr) << task_id;
    EXPECT_EQ(task->state(), state) << task_id;
    EXPECT_EQ(task->agent_id().value(), agent_of.at(task_id)) << task_id;
    EXPECT_EQ(task->framework_id().value(), framework_id) << task_id;
  }
  ASSERT_EQ(tasks->get_tasks().tasks_size(), 1);
  EXPECT_EQ(tasks->get_tasks().tasks(0).task_id().value(), "sleeper-b");

  // 8. Teardown: the stream ends, the framework is completed, its running task killed.
  ASSERT_EQ(Post(*framework, calls, calls.Teardown(framework_id)), 202);
  EXPECT_TRUE(framework->stream().WaitEnded(kEventTimeout)) << "the stream stayed open";
  absl::StatusOr<master_api::Response> frameworks = WaitForOperator(
      master, master_api::Call::GET_FRAMEWORKS,
      [](const master_api::Response& r) {
        return r.get_frameworks().frameworks_size() == 0 &&
               r.get_frameworks().completed_frameworks_size() == 1;
      },
      kStateTimeout, "the framework to be completed");
  ASSERT_TRUE(frameworks.ok()) << frameworks.status();
  EXPECT_EQ(frameworks->get_frameworks().completed_frameworks(0).framework_info().id().value(),
            framework_id);
  absl::StatusOr<master_api::Response> after = OperatorCall(master, master_api::Call::GET_TASKS);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(after->get_tasks().tasks(), IsEmpty());
  const mesos::v1::Task* sleeper = FindTask(*after, "sleeper-b");
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->state(), mesos::v1::TASK_KILLED);
  // Its process is gone too: the agent killed the task and its supervisor exited.
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (!TaskSupervisors(cluster_->dir()).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_THAT(TaskSupervisors(cluster_->dir()), IsEmpty());
  // A removed framework's calls are refused.
  EXPECT_EQ(Post(*framework, calls, calls.Reconcile(framework_id, {})), 403);
}

INSTANTIATE_TEST_SUITE_P(Encodings, FrameworkLifecycleTest,
                         ::testing::Values(Encoding::kJson, Encoding::kProtobuf),
                         [](const ::testing::TestParamInfo<Encoding>& param) {
                           return param.param == Encoding::kJson ? "Json" : "Protobuf";
                         });

}  // namespace
}  // namespace steward::e2e
