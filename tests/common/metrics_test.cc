#include "common/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CountersGaugesAndFunctionsInSnapshot) {
  MetricsRegistry registry;
  registry.GetCounter("master/tasks_finished")->Increment(3);
  registry.GetCounter("master/tasks_finished")->Increment();
  registry.GetGauge("master/elected")->Set(1);
  int calls = 0;
  registry.SetGaugeFunction("master/frameworks_active", [&calls] { return ++calls * 2.5; });
  auto snapshot = registry.Snapshot();
  EXPECT_EQ(snapshot["master/tasks_finished"], 4);
  EXPECT_EQ(snapshot["master/elected"], 1);
  EXPECT_EQ(snapshot["master/frameworks_active"], 2.5);
  EXPECT_EQ(registry.SnapshotJson(),
            "{\"master/elected\":1,\"master/frameworks_active\":5,\"master/tasks_finished\":4}");
}

TEST(MetricsTest, RemovedMetricsLeaveSnapshotsAndCanReturn) {
  MetricsRegistry registry;
  registry.GetGauge("allocator/mesos/roles/eng/shares/dominant")->Set(0.5);
  registry.GetGauge("allocator/mesos/roles/ops/shares/dominant")->Set(0.25);
  registry.GetTimer("registrar/state_store_ms")->Record(3);
  EXPECT_TRUE(registry.Remove("allocator/mesos/roles/eng/shares/dominant"));
  EXPECT_TRUE(registry.Remove("registrar/state_store_ms"));
  EXPECT_FALSE(registry.Remove("allocator/mesos/roles/eng/shares/dominant"));
  EXPECT_FALSE(registry.Remove("never/registered"));
  auto snapshot = registry.Snapshot();
  EXPECT_FALSE(snapshot.contains("allocator/mesos/roles/eng/shares/dominant"));
  EXPECT_FALSE(snapshot.contains("registrar/state_store_ms/count"));
  EXPECT_EQ(snapshot["allocator/mesos/roles/ops/shares/dominant"], 0.25);
  EXPECT_THAT(registry.Prometheus(), Not(HasSubstr("roles_eng")));
  EXPECT_THAT(registry.Prometheus(), HasSubstr("roles_ops"));
  // The name is free again, even for another kind of metric; a new one starts from zero.
  EXPECT_EQ(registry.GetCounter("allocator/mesos/roles/eng/shares/dominant")->value(), 0);
}

TEST(MetricsTest, TimerPercentilesOverWindow) {
  MetricsRegistry registry;
  Timer* timer = registry.GetTimer("allocator/mesos/allocation_run_ms", "", /*window=*/100);
  auto empty = registry.Snapshot();
  EXPECT_EQ(empty["allocator/mesos/allocation_run_ms/count"], 0);
  EXPECT_FALSE(empty.contains("allocator/mesos/allocation_run_ms/p50"));
  // 1000 samples 1..1000: the window keeps 901..1000; min and max cover all time.
  for (int i = 1; i <= 1000; ++i) timer->Record(i);
  auto s = registry.Snapshot();
  EXPECT_EQ(s["allocator/mesos/allocation_run_ms"], 1000);
  EXPECT_EQ(s["allocator/mesos/allocation_run_ms/count"], 1000);
  EXPECT_EQ(s["allocator/mesos/allocation_run_ms/min"], 1);
  EXPECT_EQ(s["allocator/mesos/allocation_run_ms/max"], 1000);
  EXPECT_DOUBLE_EQ(s["allocator/mesos/allocation_run_ms/p50"], 950.5);
  EXPECT_DOUBLE_EQ(s["allocator/mesos/allocation_run_ms/p90"], 990.1);
  EXPECT_DOUBLE_EQ(s["allocator/mesos/allocation_run_ms/p9999"], 999.9901);
}

TEST(MetricsTest, PrometheusText) {
  MetricsRegistry registry;
  registry.GetCounter("master/tasks_failed", "Tasks that failed.")->Increment(2);
  registry.GetGauge("master/uptime_secs")->Set(1.5);
  registry.GetTimer("allocator/run_ms")->Record(4);
  const std::string text = registry.Prometheus();
  EXPECT_THAT(text, HasSubstr("# HELP master_tasks_failed Tasks that failed.\n"
                              "# TYPE master_tasks_failed counter\nmaster_tasks_failed 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE master_uptime_secs gauge\nmaster_uptime_secs 1.5\n"));
  EXPECT_THAT(text, HasSubstr("allocator_run_ms{quantile=\"0.99\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("allocator_run_ms_sum 4\nallocator_run_ms_count 1\n"));
}

TEST(MetricsTest, ConcurrentUpdatesAreCounted) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 10000; ++i) {
        registry.GetCounter("c")->Increment();
        registry.GetTimer("t")->Record(i);
        if (i % 1000 == 0) registry.SnapshotJson();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto s = registry.Snapshot();
  EXPECT_EQ(s["c"], 40000);
  EXPECT_EQ(s["t/count"], 40000);
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(0.5), "0.5");
}

}  // namespace
}  // namespace steward::common
