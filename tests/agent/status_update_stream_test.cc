#include "agent/internal/status_update_stream.h"

#include <chrono>

#include "gtest/gtest.h"

namespace steward::agent::internal {
namespace {

using namespace std::chrono_literals;
using Clock = StatusUpdateStream::Clock;

mesos::v1::TaskStatus Status(mesos::v1::TaskState state, const std::string& uuid) {
  mesos::v1::TaskStatus status;
  status.mutable_task_id()->set_value("t");
  status.set_state(state);
  status.set_uuid(uuid);
  return status;
}

TEST(StatusUpdateStreamTest, SendsOneAtATimeInOrderAndRetriesWithDoublingBackoff) {
  StatusUpdateStream stream({/*initial=*/100ms, /*max=*/350ms});
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(stream.Add(Status(mesos::v1::TASK_STARTING, "u1"), t0).ok());
  ASSERT_TRUE(stream.Add(Status(mesos::v1::TASK_RUNNING, "u2"), t0).ok());
  ASSERT_EQ(stream.next_due(), t0);

  auto first = stream.TakeDue(t0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->uuid(), "u1");
  EXPECT_FALSE(stream.TakeDue(t0 + 99ms).has_value());  // In flight; the second waits.
  // Unacknowledged: resent after 100 ms, then 200 ms, then capped at 350 ms.
  auto retry = stream.TakeDue(t0 + 100ms);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->uuid(), "u1");
  EXPECT_EQ(stream.next_due(), t0 + 300ms);
  ASSERT_TRUE(stream.TakeDue(t0 + 300ms).has_value());
  EXPECT_EQ(stream.next_due(), t0 + 650ms);
  ASSERT_TRUE(stream.TakeDue(t0 + 650ms).has_value());
  EXPECT_EQ(stream.next_due(), t0 + 1000ms);

  // The ack of the front makes the next one due at once, with the interval reset.
  EXPECT_EQ(stream.Acknowledge("u2", t0 + 700ms).status().code(), absl::StatusCode::kNotFound);
  auto acked = stream.Acknowledge("u1", t0 + 700ms);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->state(), mesos::v1::TASK_STARTING);
  auto second = stream.TakeDue(t0 + 700ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->uuid(), "u2");
  EXPECT_EQ(stream.next_due(), t0 + 800ms);
  ASSERT_TRUE(stream.Acknowledge("u2", t0 + 750ms).ok());
  EXPECT_TRUE(stream.empty());
  EXPECT_FALSE(stream.next_due().has_value());
  EXPECT_FALSE(stream.TakeDue(t0 + 10s).has_value());
}

TEST(StatusUpdateStreamTest, ResendNowMakesTheFrontDueWithTheIntervalReset) {
  StatusUpdateStream stream({100ms, 10s});
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(stream.Add(Status(mesos::v1::TASK_RUNNING, "u1"), t0).ok());
  ASSERT_TRUE(stream.TakeDue(t0).has_value());
  ASSERT_TRUE(stream.TakeDue(t0 + 100ms).has_value());  // Backoff now 200 ms.
  stream.ResendNow(t0 + 150ms);
  ASSERT_TRUE(stream.TakeDue(t0 + 150ms).has_value());
  EXPECT_EQ(stream.next_due(), t0 + 250ms);
}

TEST(StatusUpdateStreamTest, RefusesUpdatesWithoutUuidAndDuplicates) {
  StatusUpdateStream stream({100ms, 1s});
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(stream.Add(Status(mesos::v1::TASK_RUNNING, ""), t0).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(stream.Add(Status(mesos::v1::TASK_RUNNING, "u1"), t0).ok());
  EXPECT_EQ(stream.Add(Status(mesos::v1::TASK_FINISHED, "u1"), t0).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(stream.pending().size(), 1u);
}

}  // namespace
}  // namespace steward::agent::internal
