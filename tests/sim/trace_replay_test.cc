// Replaying traces: machines from the trace come and go (tasks on a removed machine are lost
// and run again), tasks out of order in the file are reordered, framework_by groups tasks.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/config.h"
#include "sim/results.h"
#include "sim/simulator.h"
#include "sim/workload_feed.h"
#include "tests/sim/sim_test_util.h"
#include "traces/native.h"

namespace steward::sim {
namespace {

using ::testing::HasSubstr;

traces::TaskRecord Task(double submit, double duration, double cpus, std::string user) {
  traces::TaskRecord task;
  task.submit_time = submit;
  task.duration = duration;
  task.demand = {.cpus = cpus, .mem = 100, .disk = 0, .gpus = 0};
  task.user = std::move(user);
  task.job = "j";
  return task;
}

// Two machines of 2 CPUs; m2 leaves at t=15 and comes back at t=40.
std::string WriteTrace(const std::string& name, const std::vector<traces::TaskRecord>& tasks) {
  std::vector<traces::MachineEvent> machines;
  for (const char* host : {"m1", "m2"}) {
    traces::MachineEvent add;
    add.name = host;
    add.capacity = {.cpus = 2, .mem = 1000, .disk = 0, .gpus = 0};
    machines.push_back(add);
  }
  traces::MachineEvent remove;
  remove.time = 15;
  remove.type = traces::MachineEvent::Type::kRemove;
  remove.name = "m2";
  machines.push_back(remove);
  traces::MachineEvent again = machines[1];
  again.time = 40;
  machines.push_back(again);
  const std::string path = ::testing::TempDir() + name;
  auto writer = traces::NativeWriter::Create(path, machines);
  EXPECT_TRUE(writer.ok());
  for (const traces::TaskRecord& task : tasks) EXPECT_TRUE((*writer)->Write(task).ok());
  EXPECT_TRUE((*writer)->Close().ok());
  return path;
}

SimConfig TraceScenario(const std::string& trace, Mode mode) {
  SimConfig config = testing::Scenario(
      "replay.textproto", absl::StrCat(R"(
traces { format: "native" paths: ")",
                                       trace, R"(" framework_by: "user" cluster_from_trace: true
         refuse_seconds: 1 }
options { sample_interval_seconds: 5 }
)"));
  config.mode = mode;
  return config;
}

TEST(TraceReplay, MachinesComeAndGoAndLostTasksRunAgain) {
  // Four 1-CPU tasks of 30 s at t=0 fill both machines; m2's two are lost at t=15, wait
  // until m1's two finish at t=30, and run again there (before m2 comes back at t=40).
  const std::string trace =
      WriteTrace("churn.native", {Task(0, 30, 1, "alice"), Task(0, 30, 1, "alice"),
                                  Task(0, 30, 1, "bob"), Task(0, 30, 1, "bob")});
  for (Mode mode : {Mode::kDirect, Mode::kOffer}) {
    SCOPED_TRACE(ModeName(mode));
    RunHooks hooks;
    hooks.check_invariants_every_event = true;
    absl::StatusOr<Results> results = Simulate(TraceScenario(trace, mode), hooks);
    ASSERT_TRUE(results.ok()) << results.status();
    EXPECT_EQ(results->tasks_lost, 2);
    ASSERT_EQ(results->agents.size(), 3u);  // m1, m2 (first life), m2 (second life)
    EXPECT_EQ(results->agents[1].removed, 15);
    EXPECT_EQ(results->agents[2].added, 40);
    int rerun = 0;
    for (const TaskRow& task : results->tasks) {
      EXPECT_EQ(task.state, TaskState::kFinished);
      if (task.losses == 1) {
        ++rerun;
        EXPECT_EQ(task.start, 30);
        EXPECT_EQ(task.end, 60);
        EXPECT_EQ(results->agents[task.agent].name, "m1");
      }
    }
    EXPECT_EQ(rerun, 2);
    EXPECT_EQ(results->end_time, 60);
    ASSERT_EQ(results->frameworks.size(), 2u);
    EXPECT_EQ(results->frameworks[0].name, "alice");
    EXPECT_EQ(results->frameworks[1].name, "bob");
  }
}

TEST(TraceReplay, OutOfOrderTasksAreReordered) {
  std::vector<traces::TaskRecord> tasks;
  for (int i = 9; i >= 0; --i) tasks.push_back(Task(i, 1, 0.5, "u" + std::to_string(i % 2)));
  const std::string trace = WriteTrace("disorder.native", tasks);
  absl::StatusOr<Results> results = Simulate(TraceScenario(trace, Mode::kDirect));
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(results->trace_tasks_late, 0);
  ASSERT_EQ(results->tasks.size(), 10u);
  for (size_t i = 0; i < results->tasks.size(); ++i) {
    EXPECT_EQ(results->tasks[i].submit, static_cast<double>(i));  // ids in submit order
    EXPECT_EQ(results->tasks[i].start, static_cast<double>(i));
  }
}

// Gives the tasks of another reader through Next() only: NextRun() is then the default, a
// run of one task each.
class TaskByTask : public traces::TraceReader {
 public:
  explicit TaskByTask(std::unique_ptr<traces::TraceReader> reader) : reader_(std::move(reader)) {}
  const std::vector<traces::MachineEvent>& machines() const override { return reader_->machines(); }
  absl::StatusOr<bool> Next(traces::TaskRecord* task) override { return reader_->Next(task); }
  const traces::ReadStats& stats() const override { return reader_->stats(); }

 private:
  std::unique_ptr<traces::TraceReader> reader_;
};

TEST(TraceReplay, FeedReleasesRunsAsTaskByTask) {
  // Runs longer than the reorder window, and earlier tasks after them: the window (counted in
  // tasks) decides which tasks the feed has seen, and must decide it as a task-by-task read.
  std::vector<traces::TaskRecord> tasks;
  auto add = [&](int n, double submit, const std::string& user) {
    for (int i = 0; i < n; ++i) {
      tasks.push_back(Task(submit, 5, 0.5, user));
      tasks.back().trace_id = user + "/" + std::to_string(i);
    }
  };
  const int window = static_cast<int>(WorkloadFeed::kReorderWindow);
  add(window + window / 2, 10, "a");
  add(5, 1, "b");
  add(3, 0, "c");
  add(window + 7, 2, "d");
  add(1, 3, "e");
  const std::string trace = WriteTrace("feed.native", tasks);
  TraceConfig config;
  config.format = "native";
  config.paths = {trace};
  config.time_offset = 0.5;
  auto open = [&]() {
    absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader =
        traces::OpenTrace("native", {trace}, {});
    EXPECT_TRUE(reader.ok()) << reader.status();
    return *std::move(reader);
  };
  WorkloadFeed by_run(open(), config);
  WorkloadFeed by_task(std::make_unique<TaskByTask>(open()), config);
  std::vector<std::string> order;
  for (size_t i = 0;; ++i) {
    absl::StatusOr<double> a = by_run.Peek();
    absl::StatusOr<double> b = by_task.Peek();
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(*a, *b) << i;
    if (*a == kNever) {
      EXPECT_EQ(i, tasks.size());
      break;
    }
    const FeedTask x = by_run.Pop();
    const FeedTask y = by_task.Pop();
    ASSERT_EQ(x.submit, y.submit) << i;
    ASSERT_EQ(x.key, y.key) << i;
    ASSERT_EQ(x.demand, y.demand) << i;
    ASSERT_EQ(x.duration, y.duration) << i;
    if (order.empty() || order.back() != x.key) order.push_back(x.key);
  }
  // The first window held only a's tasks; b, c and d came once it ran low, then the rest.
  EXPECT_EQ(order.front(), "a");
  EXPECT_EQ(by_run.stats().tasks, static_cast<int64_t>(tasks.size()));
  EXPECT_GT(order.size(), 3u);
}

TEST(TraceReplay, MissingTraceFileNamesTheScenarioField) {
  SimConfig config = TraceScenario("/nonexistent/trace.native", Mode::kDirect);
  absl::StatusOr<Results> results = Simulate(config);
  ASSERT_FALSE(results.ok());
  EXPECT_EQ(results.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(results.status().message(), HasSubstr("replay.textproto:2:1"));
  EXPECT_THAT(results.status().message(), HasSubstr("/nonexistent/trace.native"));
}

}  // namespace
}  // namespace steward::sim

namespace steward::sim {
namespace {

// The real openb trace (Alibaba GPU cluster, 2023): 8,152 pods on 1,523 nodes, all of it in
// DIRECT mode; in OFFER mode the first 500 pods (every task is offered most of the cluster
// before it starts, which makes the whole trace slow under the sanitizers).
TEST(TraceReplay, OpenbOnItsOwnNodesInBothModes) {
  const std::string dir = std::string(STEWARD_SHARED_TRACES) + "/openb/";
  for (Mode mode : {Mode::kDirect, Mode::kOffer}) {
    SCOPED_TRACE(ModeName(mode));
    const int64_t pods = mode == Mode::kDirect ? 8152 : 500;
    SimConfig config = testing::Scenario(
        "openb.textproto", absl::StrCat(R"(
traces { format: "openb" framework_by: "qos" cluster_from_trace: true
         paths: ")",
                                        dir, R"(openb_pod_list_default.csv"
         paths: ")",
                                        dir, R"(openb_node_list_all_node.csv" limit: )", pods, R"( }
options { sample_interval_seconds: 3600 }
)"));
    config.mode = mode;
    absl::StatusOr<Results> results = Simulate(config);
    ASSERT_TRUE(results.ok()) << results.status();
    const Summary summary = Summarize(*results);
    EXPECT_EQ(summary.submitted, pods);
    EXPECT_EQ(results->agents.size(), 1523u);
    EXPECT_EQ(summary.finished + summary.running_at_end + summary.pending_at_end + summary.failed,
              pods);
    EXPECT_GT(summary.finished, pods * 8 / 10);
    EXPECT_GE(results->frameworks.size(), 2u);  // of BE, Burstable, Guaranteed, LS
    for (double u : summary.mean_utilisation) {
      if (u >= 0) {
        EXPECT_LE(u, 1);
      }
    }
  }
}

TEST(TraceReplay, SyntheticWorkloadIsDeterministicAndAccounted) {
  constexpr char kSynthetic[] = R"(
traces { format: "synthetic" framework_by: "user"
         synthetic { machines: 20 tasks: 2000 frameworks: 5 span_seconds: 3600
                     machine: "cpus:16;mem:65536" max_duration_seconds: 7200 } }
options { seed: 9 sample_interval_seconds: 600 }
)";
  for (Mode mode : {Mode::kDirect, Mode::kOffer}) {
    SCOPED_TRACE(ModeName(mode));
    SimConfig config = testing::Scenario("synthetic.textproto", kSynthetic);
    config.mode = mode;
    RunHooks hooks;
    hooks.check_invariants_every_event = true;
    absl::StatusOr<Results> first = Simulate(config, hooks);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<Results> second = Simulate(config);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(first->agents.size(), 20u);
    EXPECT_EQ(first->tasks.size(), 2000u);
    EXPECT_EQ(first->frameworks.size(), 5u);
    const Summary summary = Summarize(*first);
    EXPECT_EQ(summary.finished, 2000);
    ASSERT_EQ(first->tasks.size(), second->tasks.size());
    for (size_t i = 0; i < first->tasks.size(); ++i) {
      EXPECT_EQ(first->tasks[i].start, second->tasks[i].start) << i;
      EXPECT_EQ(first->tasks[i].agent, second->tasks[i].agent) << i;
    }
  }
}

}  // namespace
}  // namespace steward::sim
