#include "agent/internal/checkpoint_store.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "agent/internal/agent_state.h"
#include "agent/internal/file_io.h"
#include "agent/internal/ids.h"
#include "gtest/gtest.h"

namespace steward::agent::internal {
namespace {

using namespace std::chrono_literals;

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/steward_checkpoint_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf '" + dir_ + "'").c_str()), 0); }
  std::string dir_;
};

TEST_F(CheckpointStoreTest, FreshDirectoryHasNoCheckpoint) {
  CheckpointStore store(dir_ + "/meta");
  absl::StatusOr<std::optional<Checkpoint>> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(CheckpointStoreTest, FrameworksRoundTripWithPendingUpdatesInOrder) {
  Frameworks frameworks;
  FrameworkRecord& framework = frameworks["F1"];
  framework.info.set_user("u");
  framework.info.set_name("f");
  framework.info.mutable_id()->set_value("F1");
  ExecutorRecord& executor = framework.executors["T1"];
  executor.command = true;
  executor.info.mutable_executor_id()->set_value("T1");
  executor.container_id = "C1";
  executor.sandbox = "/w/slaves/A/frameworks/F1/executors/T1/runs/C1";
  auto [it, inserted] = framework.tasks.try_emplace("T1", StatusUpdateStream::RetryPolicy{});
  TaskRecord& task = it->second;
  task.info.set_name("t");
  task.info.mutable_task_id()->set_value("T1");
  task.info.mutable_agent_id()->set_value("A");
  task.executor_id = "T1";
  task.state = mesos::v1::TASK_RUNNING;
  task.kill_requested = true;
  for (const auto state : {mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING}) {
    mesos::v1::TaskStatus status;
    status.mutable_task_id()->set_value("T1");
    status.set_state(state);
    status.set_uuid(RandomUuidBytes());
    ASSERT_TRUE(task.updates.Add(status, StatusUpdateStream::Clock::now()).ok());
  }

  Checkpoint checkpoint;
  checkpoint.mutable_agent_id()->set_value("A");
  SaveFrameworks(frameworks, &checkpoint);
  CheckpointStore store(dir_ + "/meta");
  ASSERT_TRUE(store.Save(checkpoint).ok());

  absl::StatusOr<std::optional<Checkpoint>> loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->agent_id().value(), "A");
  const auto now = StatusUpdateStream::Clock::now();
  Frameworks restored = LoadFrameworks(**loaded, {10ms, 1s}, now);
  ASSERT_EQ(restored.count("F1"), 1u);
  const TaskRecord& back = restored.at("F1").tasks.at("T1");
  EXPECT_EQ(back.state, mesos::v1::TASK_RUNNING);
  EXPECT_TRUE(back.kill_requested);
  ASSERT_EQ(back.updates.pending().size(), 2u);
  EXPECT_EQ(back.updates.pending()[0].state(), mesos::v1::TASK_STARTING);
  EXPECT_EQ(back.updates.pending()[1].state(), mesos::v1::TASK_RUNNING);
  EXPECT_EQ(back.updates.next_due(), now);
  EXPECT_EQ(restored.at("F1").executors.at("T1").container_id, "C1");
  EXPECT_TRUE(restored.at("F1").executors.at("T1").command);

  // The Task reported on re-subscription names the update in flight.
  mesos::v1::AgentID agent_id;
  agent_id.set_value("A");
  const mesos::v1::Task reported = ToTask(restored.at("F1"), back, agent_id);
  EXPECT_EQ(reported.state(), mesos::v1::TASK_RUNNING);
  EXPECT_EQ(reported.status_update_state(), mesos::v1::TASK_STARTING);
  EXPECT_EQ(reported.status_update_uuid(), back.updates.pending()[0].uuid());
  EXPECT_FALSE(reported.has_executor_id());  // A command task.
}

TEST_F(CheckpointStoreTest, SaveReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  CheckpointStore store(dir_ + "/meta");
  Checkpoint first;
  first.mutable_agent_id()->set_value("A1");
  ASSERT_TRUE(store.Save(first).ok());
  Checkpoint second;
  second.mutable_agent_id()->set_value("A2");
  ASSERT_TRUE(store.Save(second).ok());
  EXPECT_EQ((*store.Load())->agent_id().value(), "A2");
  EXPECT_EQ(std::system(("test $(ls '" + dir_ + "/meta' | wc -l) -eq 1").c_str()), 0);
}

TEST_F(CheckpointStoreTest, CorruptCheckpointIsDataLoss) {
  CheckpointStore store(dir_ + "/meta");
  ASSERT_TRUE(MakeDirectories(dir_ + "/meta", 0755).ok());
  std::ofstream(store.path()) << "\xff\xff\xff\xff garbage";
  absl::StatusOr<std::optional<Checkpoint>> loaded = store.Load();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

TEST(IdsTest, UuidsAreVersion4AndPrintCanonically) {
  const std::string a = RandomUuidBytes();
  const std::string b = RandomUuidBytes();
  ASSERT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_EQ(static_cast<uint8_t>(a[6]) >> 4, 4);
  const std::string text = UuidToString(a);
  ASSERT_EQ(text.size(), 36u);
  EXPECT_EQ(text[8], '-');
  EXPECT_EQ(text[14], '4');
  EXPECT_EQ(UuidToString(std::string("\x00\xff", 2)), "00ff");
}

TEST(IdsTest, PathIdsMustBeSafeDirectoryNames) {
  EXPECT_TRUE(ValidatePathId("task id", "web-1.a_b").ok());
  for (const char* bad : {"", ".", "..", "a/b", "a b", "a\\b", "a\nb"}) {
    EXPECT_EQ(ValidatePathId("task id", bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace steward::agent::internal
