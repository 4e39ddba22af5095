// Restarts with running tasks: an agent killed and started again on the same work_dir and port
// keeps its id and its tasks (same processes), and a master stopped and started again on the
// same work_dir and port gets its agents and frameworks back with nothing lost. The tasks wait
// for a file the test creates, so they finish exactly when the test says, on any machine load.
// Their TASK_RUNNING updates carry the container status (container id, pid, agent IP).
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
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
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

// A task that prints, writes its shell's pid to `dir`/<id>.pid, and finishes once
// `dir`/<id>.go exists.
CommandTask WaitingTask(const std::string& id, const std::string& agent_id,
                        const std::string& dir) {
  const std::string base = absl::StrCat(dir, "/", id);
  return {id, agent_id,
          absl::StrCat("echo started; echo $$ > ", base, ".pid; while [ ! -e ", base,
                       ".go ]; do sleep 0.05; done; echo finished")};
}

bool Alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// The pid a WaitingTask wrote, or 0 while it has not.
pid_t TaskPid(const std::string& dir, const std::string& id) {
  pid_t pid = 0;
  const std::string text = ReadFile(absl::StrCat(dir, "/", id, ".pid"));
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return pid;
}

// The parent of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."), or 0.
pid_t ParentOf(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  const std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  pid_t parent = 0;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &parent)) return 0;
  return parent;
}

// Waits (up to kStateTimeout) until the WaitingTask `id` has written its pid; 0 if it did not.
pid_t WaitForTaskPid(const std::string& dir, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (TaskPid(dir, id) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return TaskPid(dir, id);
}

void Go(const std::string& dir, const std::string& id) {
  std::ofstream(absl::StrCat(dir, "/", id, ".go")).put('\n');
}

std::string SignalName(int signal) { return signal == SIGKILL ? "Sigkill" : "Sigterm"; }

class RestartTest : public ClusterTest, public ::testing::WithParamInterface<int> {
 protected:
  // Acknowledges updates until `task` is in `state` (which may have arrived already, while
  // waiting for another task); fails on a terminal state short of it.
  void AwaitState(TestFramework& framework, const SchedulerCalls& calls,
                  const std::string& framework_id, const std::string& task,
                  mesos::v1::TaskState state) {
    const Deadline deadline(kStateTimeout);
    while (!states_.contains(task) || states_[task] != state) {
      if (states_.contains(task)) {
        ASSERT_TRUE(states_[task] == mesos::v1::TASK_STAGING ||
                    states_[task] == mesos::v1::TASK_STARTING ||
                    states_[task] == mesos::v1::TASK_RUNNING)
            << task << " became " << TaskState_Name(states_[task]) << " instead of "
            << TaskState_Name(state);
      }
      std::optional<TaskStatus> status =
          NextUpdate(framework, std::min(kEventTimeout, deadline.Remaining()));
      ASSERT_TRUE(status.has_value())
          << "no update within " << (deadline.Expired() ? deadline.budget() : kEventTimeout).count()
          << " ms while waiting for " << task << " to be " << TaskState_Name(state);
      if (!status->uuid().empty()) {
        ASSERT_EQ(Post(framework, calls, calls.Acknowledge(framework_id, *status)), 202);
      }
      states_[status->task_id().value()] = status->state();
      if (status->state() == mesos::v1::TASK_RUNNING) running_[status->task_id().value()] = *status;
    }
  }

  // The TASK_RUNNING update of `task` carries, as a Mesos agent sets it, the container's id,
  // the pid of the process the container runs (the task's shell, `pid`) and the agent's IP.
  void ExpectContainerStatus(const std::string& task, pid_t pid) {
    ASSERT_TRUE(running_.contains(task)) << "no TASK_RUNNING of " << task;
    const TaskStatus& status = running_[task];
    ASSERT_TRUE(status.has_container_status()) << status.DebugString();
    EXPECT_FALSE(status.container_status().container_id().value().empty());
    EXPECT_EQ(status.container_status().executor_pid(), static_cast<uint32_t>(pid));
    ASSERT_EQ(status.container_status().network_infos_size(), 1) << status.DebugString();
    ASSERT_EQ(status.container_status().network_infos(0).ip_addresses_size(), 1);
    EXPECT_EQ(status.container_status().network_infos(0).ip_addresses(0).ip_address(), "127.0.0.1");
  }

  // Launches `tasks` on the offers (one per agent named in them); all are accepted.
  void Launch(TestFramework& framework, const SchedulerCalls& calls,
              const std::string& framework_id, const std::vector<CommandTask>& tasks) {
    std::vector<std::string> agents;
    for (const CommandTask& task : tasks) agents.push_back(task.agent_id);
    for (const mesos::v1::Offer& offer : OffersFrom(framework, agents)) {
      std::vector<CommandTask> here;
      for (const CommandTask& task : tasks) {
        if (task.agent_id == offer.agent_id().value()) here.push_back(task);
      }
      if (here.empty()) continue;
      ASSERT_EQ(Post(framework, calls, calls.Accept(framework_id, {offer.id().value()}, here, 5)),
                202);
    }
  }

  // Waits until GET_TASKS lists `task` as running on `agent_id`.
  void ExpectRunningAtMaster(const std::string& task, const std::string& agent_id) {
    absl::StatusOr<master_api::Response> tasks = WaitForOperator(
        cluster_->master_port(), master_api::Call::GET_TASKS,
        [&](const master_api::Response& r) {
          const mesos::v1::Task* found = FindTask(r, task);
          return found != nullptr && found->state() == mesos::v1::TASK_RUNNING &&
                 found->agent_id().value() == agent_id;
        },
        kStateTimeout, absl::StrCat(task, " running on ", agent_id));
    EXPECT_TRUE(tasks.ok()) << tasks.status();
  }

  std::map<std::string, mesos::v1::TaskState> states_;  // the latest update of each task
  std::map<std::string, TaskStatus> running_;           // the TASK_RUNNING of each task
};

class AgentRestartTest : public RestartTest {};

TEST_P(AgentRestartTest, TasksKeepRunningAndTheirEndIsReported) {
  StartCluster(1);
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string dir = cluster_->dir();
  const uint16_t agent_port = cluster_->agent_port(0);
  const SchedulerCalls calls(Encoding::kProtobuf);
  std::string framework_id;
  std::unique_ptr<TestFramework> framework = Subscribe(calls, "patient", 60, &framework_id);
  ASSERT_FALSE(framework_id.empty());
  // "survivor" ends after the agent's restart, "lonely" while no agent runs.
  Launch(*framework, calls, framework_id,
         {WaitingTask("survivor", agent_ids_[0], dir), WaitingTask("lonely", agent_ids_[0], dir)});
  if (HasFatalFailure()) return;
  AwaitState(*framework, calls, framework_id, "survivor", mesos::v1::TASK_RUNNING);
  AwaitState(*framework, calls, framework_id, "lonely", mesos::v1::TASK_RUNNING);
  if (HasFatalFailure()) return;
  const pid_t survivor = WaitForTaskPid(dir, "survivor");
  const pid_t lonely = WaitForTaskPid(dir, "lonely");
  ASSERT_TRUE(Alive(survivor) && Alive(lonely));
  ExpectContainerStatus("survivor", survivor);  // Protobuf events.
  ExpectContainerStatus("lonely", lonely);
  absl::StatusOr<std::string> survivor_sandbox = SandboxOf(agent_port, framework_id, "survivor");
  absl::StatusOr<std::string> lonely_sandbox = SandboxOf(agent_port, framework_id, "lonely");
  ASSERT_TRUE(survivor_sandbox.ok()) << survivor_sandbox.status();
  ASSERT_TRUE(lonely_sandbox.ok()) << lonely_sandbox.status();
  // Each task runs under its own supervisor (agent/containerizer.h).
  ASSERT_EQ(TaskSupervisors(dir).size(), 2u);
  const pid_t survivor_supervisor = ParentOf(survivor);
  ASSERT_THAT(TaskSupervisors(dir), Contains(survivor_supervisor));

  absl::StatusOr<int> stopped = cluster_->StopAgent(0, GetParam());
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, GetParam() == SIGKILL ? 128 + SIGKILL : 0);
  EXPECT_TRUE(Alive(survivor)) << "the task died with its agent";
  Go(dir, "lonely");
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (Alive(lonely) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(Alive(lonely)) << "the lonely task did not end";

  absl::StatusOr<Process*> restarted = cluster_->RestartAgent(0);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  absl::StatusOr<std::vector<std::string>> ids =
      WaitForActiveAgents(cluster_->master_port(), AgentPorts(), kStateTimeout);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, agent_ids_) << "the agent came back with another id";
  // The same processes run the survivor; the master and the new agent list it as running.
  EXPECT_TRUE(Alive(survivor));
  EXPECT_EQ(ParentOf(survivor), survivor_supervisor);
  EXPECT_THAT(TaskSupervisors(dir), Contains(survivor_supervisor));
  ExpectRunningAtMaster("survivor", agent_ids_[0]);
  EXPECT_TRUE(SandboxOf(agent_port, framework_id, "survivor").ok());

  // What ended while the agent was away is reported now, and what ends later too.
  AwaitState(*framework, calls, framework_id, "lonely", mesos::v1::TASK_FINISHED);
  if (HasFatalFailure()) return;
  Go(dir, "survivor");
  AwaitState(*framework, calls, framework_id, "survivor", mesos::v1::TASK_FINISHED);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(Alive(survivor));
  EXPECT_THAT(TaskSupervisors(dir), IsEmpty());
  for (const std::string& sandbox : {*survivor_sandbox, *lonely_sandbox}) {
    absl::StatusOr<std::string> out = ReadSandboxFile(agent_port, sandbox + "/stdout");
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, "started\nfinished\n") << sandbox;
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, AgentRestartTest, ::testing::Values(SIGKILL, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return SignalName(param.param);
                         });

class MasterRestartTest : public RestartTest {};

TEST_P(MasterRestartTest, AgentsAndFrameworkComeBackAndNothingIsLost) {
  StartCluster(2);
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string dir = cluster_->dir();
  const SchedulerCalls calls(Encoding::kJson);
  std::string framework_id;
  std::unique_ptr<TestFramework> framework = Subscribe(calls, "faithful", 3600, &framework_id);
  ASSERT_FALSE(framework_id.empty());
  // "early" ends while no master runs, "finisher" after the restart; "victim" is killed then.
  Launch(*framework, calls, framework_id,
         {WaitingTask("early", agent_ids_[0], dir), WaitingTask("finisher", agent_ids_[0], dir),
          WaitingTask("victim", agent_ids_[1], dir)});
  if (HasFatalFailure()) return;
  for (const char* task : {"early", "finisher", "victim"}) {
    AwaitState(*framework, calls, framework_id, task, mesos::v1::TASK_RUNNING);
  }
  if (HasFatalFailure()) return;
  const pid_t early = WaitForTaskPid(dir, "early");
  ASSERT_TRUE(Alive(early));
  ExpectContainerStatus("early", early);  // JSON events.

  absl::StatusOr<int> stopped = cluster_->StopMaster(GetParam());
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, GetParam() == SIGKILL ? 128 + SIGKILL : 0);
  EXPECT_TRUE(framework->stream().WaitEnded(kEventTimeout))
      << "the event stream outlived the master";
  framework.reset();
  Go(dir, "early");
  const auto deadline = std::chrono::steady_clock::now() + kStateTimeout;
  while (Alive(early) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(Alive(early)) << "the early task did not end";

  absl::StatusOr<Process*> restarted = cluster_->RestartMaster();
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  // The agents reregister with their ids and report their tasks.
  absl::StatusOr<std::vector<std::string>> ids =
      WaitForActiveAgents(cluster_->master_port(), AgentPorts(), kStateTimeout);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, agent_ids_);
  ExpectRunningAtMaster("finisher", agent_ids_[0]);
  ExpectRunningAtMaster("victim", agent_ids_[1]);

  // The framework resubscribes with its id and is the same framework.
  std::string resubscribed_id;
  framework = Subscribe(calls, "faithful", 3600, &resubscribed_id, framework_id);
  ASSERT_EQ(resubscribed_id, framework_id);
  absl::StatusOr<master_api::Response> frameworks =
      OperatorCall(cluster_->master_port(), master_api::Call::GET_FRAMEWORKS);
  ASSERT_TRUE(frameworks.ok()) << frameworks.status();
  ASSERT_EQ(frameworks->get_frameworks().frameworks_size(), 1);
  const auto& entry = frameworks->get_frameworks().frameworks(0);
  EXPECT_EQ(entry.framework_info().id().value(), framework_id);
  EXPECT_TRUE(entry.connected());
  EXPECT_TRUE(entry.active());
  EXPECT_FALSE(entry.recovered());
  // An agent may re-register before it has noticed that "early" ended (it reaps exits every
  // 100 ms, after the task's supervisor has written the exit record): the master then lists
  // "early" as running until the agent's update arrives. Wait for that, boundedly.
  std::vector<std::string> running;
  absl::StatusOr<master_api::Response> tasks = WaitForOperator(
      cluster_->master_port(), master_api::Call::GET_TASKS,
      [&running](const master_api::Response& r) {
        running.clear();
        for (const mesos::v1::Task& task : r.get_tasks().tasks()) {
          if (task.state() == mesos::v1::TASK_RUNNING) running.push_back(task.task_id().value());
        }
        std::sort(running.begin(), running.end());
        return running == std::vector<std::string>{"finisher", "victim"};
      },
      kStateTimeout, "exactly finisher and victim running");
  EXPECT_TRUE(tasks.ok()) << tasks.status();
  EXPECT_THAT(running, UnorderedElementsAreArray({"finisher", "victim"}));

  // Nothing is lost: the end of the task that finished while no master ran, the later
  // completion and the kill all reach the framework.
  AwaitState(*framework, calls, framework_id, "early", mesos::v1::TASK_FINISHED);
  if (HasFatalFailure()) return;
  Go(dir, "finisher");
  AwaitState(*framework, calls, framework_id, "finisher", mesos::v1::TASK_FINISHED);
  if (HasFatalFailure()) return;
  ASSERT_EQ(Post(*framework, calls, calls.Kill(framework_id, "victim", agent_ids_[1])), 202);
  AwaitState(*framework, calls, framework_id, "victim", mesos::v1::TASK_KILLED);
  if (HasFatalFailure()) return;
  absl::StatusOr<master_api::Response> done = WaitForOperator(
      cluster_->master_port(), master_api::Call::GET_TASKS,
      [](const master_api::Response& r) {
        auto is = [&r](const std::string& id, mesos::v1::TaskState state) {
          const mesos::v1::Task* task = FindTask(r, id);
          return task != nullptr && task->state() == state;
        };
        return r.get_tasks().tasks_size() == 0 && is("early", mesos::v1::TASK_FINISHED) &&
               is("finisher", mesos::v1::TASK_FINISHED) && is("victim", mesos::v1::TASK_KILLED);
      },
      kStateTimeout, "the three tasks completed");
  EXPECT_TRUE(done.ok()) << done.status();
}

INSTANTIATE_TEST_SUITE_P(Signals, MasterRestartTest, ::testing::Values(SIGTERM, SIGKILL),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return SignalName(param.param);
                         });

}  // namespace
}  // namespace steward::e2e
