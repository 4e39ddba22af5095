// A GoogleTest fixture for end-to-end tests of the whole cluster: a real steward-master and
// real steward-agents (tests/e2e/cluster.h) with fast timings, and frameworks speaking the
// scheduler API over HTTP (tests/daemon/test_clients.h, tests/e2e/scheduler_calls.h).
#ifndef STEWARD_TESTS_E2E_CLUSTER_FIXTURE_H_
#define STEWARD_TESTS_E2E_CLUSTER_FIXTURE_H_

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"
#include "tests/daemon/test_clients.h"
#include "tests/e2e/cluster.h"
#include "tests/e2e/probes.h"
#include "tests/e2e/scheduler_calls.h"

namespace steward::e2e {

using daemon::testing::TestFramework;
using SchedulerEvent = mesos::v1::scheduler::Event;

// Master flags: allocation every 50 ms, heartbeats every second.
inline const std::vector<std::string> kFastMasterFlags = {"--allocation_interval=50ms",
                                                          "--heartbeat_interval=1secs"};
// Agent flags: quick re-registration and a resend of unacknowledged updates after 500 ms.
inline const std::vector<std::string> kFastAgentFlags = {
    "--resources=cpus:2;mem:1024;disk:1024;ports:[31000-31100]",
    "--registration_backoff_factor=50ms", "--status_update_retry_interval=500ms"};

// Waits for one event, and for one state (of the master, a task, a process).
inline constexpr std::chrono::milliseconds kEventTimeout{15000};
inline constexpr std::chrono::milliseconds kStateTimeout{20000};
static_assert(kEventTimeout <= kMaxWait && kStateTimeout <= kMaxWait);

class ClusterTest : public ::testing::Test {
 protected:
  // Creates the cluster and starts its master and `agents` agents (with kFastAgentFlags), then
  // waits until the master lists them all as active; their ids go to agent_ids_. Skips the
  // test when this build has no agent binary and agents are wanted.
  void StartCluster(int agents) {
    if (agents > 0 && !Cluster::HasAgentBinary()) {
      GTEST_SKIP() << "this build has no steward-agent binary";
    }
    absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Create();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<Process*> master = cluster_->StartMaster(kFastMasterFlags);
    ASSERT_TRUE(master.ok()) << master.status();
    for (int n = 0; n < agents; ++n) {
      absl::StatusOr<Process*> agent = cluster_->StartAgent(kFastAgentFlags);
      ASSERT_TRUE(agent.ok()) << agent.status();
    }
    absl::StatusOr<std::vector<std::string>> ids =
        WaitForActiveAgents(cluster_->master_port(), AgentPorts(), kStateTimeout);
    ASSERT_TRUE(ids.ok()) << ids.status();
    agent_ids_ = *std::move(ids);
  }

  // Stops the daemons still running with SIGTERM: each must exit 0 (a sanitizer build exits
  // otherwise on a leak), and no daemon's log may hold a sanitizer report.
  void TearDown() override {
    if (!cluster_) return;
    for (size_t n = 0; n < cluster_->agent_count(); ++n) {
      if (cluster_->agent(n) == nullptr) continue;
      absl::StatusOr<int> code = cluster_->StopAgent(n, SIGTERM);
      EXPECT_TRUE(code.ok() && *code == 0)
          << "agent " << n << " exited with " << (code.ok() ? std::to_string(*code) : "?");
    }
    if (cluster_->master_process() != nullptr) {
      absl::StatusOr<int> code = cluster_->StopMaster(SIGTERM);
      EXPECT_TRUE(code.ok() && *code == 0)
          << "the master exited with " << (code.ok() ? std::to_string(*code) : "?");
    }
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(cluster_->dir(), error)) {
      if (entry.path().extension() != ".stderr") continue;
      const std::string log = ReadFile(entry.path().string());
      EXPECT_EQ(log.find("Sanitizer"), std::string::npos) << entry.path() << ":\n" << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << entry.path() << ":\n" << log;
    }
  }

  // The ports of every agent the cluster started, in start order.
  std::vector<uint16_t> AgentPorts() const {
    std::vector<uint16_t> ports;
    for (size_t n = 0; n < cluster_->agent_count(); ++n) ports.push_back(cluster_->agent_port(n));
    return ports;
  }

  // Subscribes a framework; its id goes to `*framework_id` (empty on failure, with a test
  // failure recorded).
  std::unique_ptr<TestFramework> Subscribe(const SchedulerCalls& calls, const std::string& name,
                                           double failover_timeout, std::string* framework_id,
                                           const std::string& resubscribe_id = "") {
    auto framework = std::make_unique<TestFramework>(
        cluster_->master_port(), calls.Subscribe(name, failover_timeout, resubscribe_id),
        calls.json());
    const common::HttpResponse head = framework->stream().Head(kEventTimeout);
    EXPECT_EQ(head.status, 200) << head.body;
    std::optional<SchedulerEvent> subscribed =
        framework->Next(SchedulerEvent::SUBSCRIBED, kEventTimeout);
    EXPECT_TRUE(subscribed.has_value()) << "no SUBSCRIBED event";
    *framework_id = subscribed ? subscribed->subscribed().framework_id().value() : "";
    return framework;
  }

  // The next UPDATE event's status, or nullopt after `timeout`.
  static std::optional<mesos::v1::TaskStatus> NextUpdate(
      TestFramework& framework, std::chrono::milliseconds timeout = kEventTimeout) {
    std::optional<SchedulerEvent> event = framework.Next(SchedulerEvent::UPDATE, timeout);
    if (!event) return std::nullopt;
    return event->update().status();
  }

  // Offers until there is one from each agent in `agent_ids` (others are kept too), for at
  // most kEventTimeout in all.
  static std::vector<mesos::v1::Offer> OffersFrom(TestFramework& framework,
                                                  const std::vector<std::string>& agent_ids) {
    const Deadline deadline(kEventTimeout);
    std::vector<mesos::v1::Offer> offers;
    auto covered = [&] {
      for (const std::string& id : agent_ids) {
        bool found = false;
        for (const mesos::v1::Offer& offer : offers) found |= offer.agent_id().value() == id;
        if (!found) return false;
      }
      return true;
    };
    while (!covered() && !deadline.Expired()) {
      std::optional<SchedulerEvent> event =
          framework.Next(SchedulerEvent::OFFERS, deadline.Remaining());
      if (!event) break;
      for (const mesos::v1::Offer& offer : event->offers().offers()) offers.push_back(offer);
    }
    return offers;
  }

  // Sends `body` with the framework's stream id; the HTTP status (-1 if it could not be sent).
  static int Post(TestFramework& framework, const SchedulerCalls& calls, const std::string& body) {
    return framework.Raw(body, calls.content_type(), framework.stream_id()).status;
  }

  std::unique_ptr<Cluster> cluster_;
  std::vector<std::string> agent_ids_;  // in start order
};

}  // namespace steward::e2e

#endif  // STEWARD_TESTS_E2E_CLUSTER_FIXTURE_H_
