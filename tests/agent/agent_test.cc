// The agent's logic in process: a real Agent (HTTP server, master link, checkpoint) against a
// fake master (tests/agent/fake_master.h) and a fake containerizer whose containers end when
// the test says so.
#include "agent/agent.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "common/master_detector.h"
#include "common/mesos_resources.h"
#include "common/recordio.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/mesos/v1/executor/executor.pb.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/fake_containerizer.h"
#include "tests/agent/fake_master.h"

namespace steward::agent {
namespace {

using steward::agent::Call;
using steward::agent::Event;
using ::testing::Contains;
using testing::FakeContainerizer;
using testing::FakeContainers;
using testing::FakeMaster;
using ::testing::HasSubstr;
using testing::LaunchCommand;
using ::testing::Pair;
using testing::TestFramework;
using namespace std::chrono_literals;

constexpr char kAgentId[] = "agent-1";

// The test playing a custom executor: SUBSCRIBE (protobuf) read on a thread, events kept.
class ExecutorStream {
 public:
  using ExecutorCall = mesos::v1::executor::Call;
  using ExecutorEvent = mesos::v1::executor::Event;

  ExecutorStream(uint16_t port, const ExecutorCall& subscribe)
      : client_(std::make_shared<common::HttpClient>("127.0.0.1", port)) {
    thread_ = std::thread([this, subscribe, client = client_] {
      common::HttpRequest request;
      request.method = "POST";
      request.target = "/api/v1/executor";
      request.headers = {{"Content-Type", "application/x-protobuf"},
                         {"Accept", "application/x-protobuf"}};
      request.body = subscribe.SerializeAsString();
      common::RecordIoDecoder decoder;
      (void)client->Stream(
          request,
          [this](const common::HttpResponse& head) {
            std::lock_guard lock(mu_);
            status_ = head.status;
            return true;
          },
          [this, &decoder](std::string_view data) {
            std::vector<std::string> records;
            if (!decoder.Decode(data, &records).ok()) return false;
            std::lock_guard lock(mu_);
            for (const std::string& record : records) {
              ExecutorEvent event;
              if (event.ParseFromString(record)) events_.push_back(event);
            }
            return true;
          });
      std::lock_guard lock(mu_);
      ended_ = true;
    });
  }
  ~ExecutorStream() {
    client_->Cancel();
    thread_.join();
  }

  std::vector<ExecutorEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  int status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  // Waits for an event of `type`; the last such event.
  std::optional<ExecutorEvent> WaitFor(ExecutorEvent::Type type, int count = 1) const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<ExecutorEvent> last;
      int seen = 0;
      for (const ExecutorEvent& event : events()) {
        if (event.type() == type) {
          last = event;
          ++seen;
        }
      }
      if (seen >= count) return last;
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

 private:
  std::shared_ptr<common::HttpClient> client_;
  mutable std::mutex mu_;
  std::vector<ExecutorEvent> events_;
  int status_ = 0;
  bool ended_ = false;
  std::thread thread_;
};

mesos::v1::executor::Call ExecutorCallOf(mesos::v1::executor::Call::Type type) {
  mesos::v1::executor::Call call;
  call.set_type(type);
  call.mutable_framework_id()->set_value("F1");
  call.mutable_executor_id()->set_value("E1");
  return call;
}

mesos::v1::executor::Call UpdateCall(const std::string& task_id, mesos::v1::TaskState state,
                                     const std::string& uuid) {
  mesos::v1::executor::Call call = ExecutorCallOf(mesos::v1::executor::Call::UPDATE);
  mesos::v1::TaskStatus* status = call.mutable_update()->mutable_status();
  status->mutable_task_id()->set_value(task_id);
  status->set_state(state);
  status->set_uuid(uuid);
  return call;
}

int PostExecutorCall(uint16_t port, const mesos::v1::executor::Call& call) {
  common::HttpClient client("127.0.0.1", port);
  absl::StatusOr<common::HttpResponse> response =
      client.Post("/api/v1/executor", call.SerializePartialAsString(), "application/x-protobuf");
  return response.ok() ? response->status : -1;
}

Event LaunchOnExecutor(const std::string& task_id,
                       const mesos::v1::FrameworkInfo& framework = TestFramework("F1")) {
  Event launch = LaunchCommand(framework, task_id, kAgentId, "");
  mesos::v1::TaskInfo* task = launch.mutable_launch()->mutable_task();
  task->clear_command();
  task->mutable_executor()->mutable_executor_id()->set_value("E1");
  task->mutable_executor()->mutable_command()->set_value("./my-executor");
  return launch;
}

// Defined with the custom-executor tests below.
std::string RunOneTaskOnACustomExecutor(FakeMaster& master, FakeContainers& containers,
                                        uint16_t port, const mesos::v1::FrameworkInfo& framework);

class AgentTest : public ::testing::Test {
 protected:
  void TearDown() override { StopAgent(); }

  AgentOptions Options() {
    AgentOptions options;
    options.master_host = "127.0.0.1";
    options.master_port = master_.port();
    options.ip = "127.0.0.1";
    options.port = 0;
    options.work_dir = dir_.path();
    options.resources = *common::ParseResourceText("cpus:4;mem:4096;disk:1000;ports:[31000-32000]");
    options.status_update_retry_interval = retry_interval_;
    options.registration_backoff_factor = 20ms;
    options.max_registration_backoff = 100ms;
    options.reap_interval = 10ms;
    options.executor_shutdown_grace_period = 300ms;
    options.executor_reregistration_timeout = reregistration_timeout_;
    options.master_detector = master_detector_;
    return options;
  }

  void StartAgent() {
    absl::StatusOr<std::unique_ptr<Agent>> agent =
        Agent::Create(Options(), std::make_unique<FakeContainerizer>(containers_));
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = std::move(*agent);
    ASSERT_TRUE(agent_->Start().ok());
  }

  // Starts the agent and waits for its SUBSCRIBE (SUBSCRIBED is then on its stream).
  void StartAndSubscribe() {
    const int before = master_.subscriptions();
    StartAgent();
    ASSERT_TRUE(master_.WaitFor([&](const FakeMaster& m) { return m.subscriptions() > before; }));
  }

  // Holds the answers to STATUS_UPDATE calls, launches T1 and waits for its first update's
  // call, then launches T2 and T3 while that call is unanswered.
  void LaunchThreeWhileFirstUpdateIsHeld() {
    master_.set_hold_status_updates(true);
    ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T1", kAgentId, "sleep 1")));
    ASSERT_TRUE(master_.WaitFor(
        [](const FakeMaster& m) { return m.calls_of(Call::STATUS_UPDATE).size() == 1; }));
    ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T2", kAgentId, "sleep 1")));
    ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T3", kAgentId, "sleep 1")));
    ASSERT_TRUE(
        master_.WaitFor([&](const FakeMaster&) { return containers_->Launched().size() == 3; }));
  }

  // Starts the agent, runs one task of `framework` on a custom executor and stops the agent
  // with the executor's container still running; returns that container (empty on failure).
  std::string RunCustomExecutorThenStop(const mesos::v1::FrameworkInfo& framework) {
    StartAndSubscribe();
    std::string container =
        RunOneTaskOnACustomExecutor(master_, *containers_, agent_->port(), framework);
    StopAgent();
    return container;
  }

  // For the next agent (after StopAgent()): a containerizer whose Recover() finds `alive`.
  std::shared_ptr<FakeContainers> RecoveringContainers(std::vector<std::string> alive) {
    auto restarted = std::make_shared<FakeContainers>();
    restarted->recover = std::move(alive);
    containers_ = restarted;
    return restarted;
  }

  void StopAgent() {
    if (agent_ != nullptr) agent_->Stop();
    agent_.reset();
  }

  // Launches a command task of framework F1 and waits until it is RUNNING.
  std::string LaunchRunning(const std::string& task_id, const std::string& command = "sleep 1") {
    EXPECT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), task_id, kAgentId, command)));
    EXPECT_TRUE(master_.WaitForUpdate(task_id, mesos::v1::TASK_RUNNING).has_value());
    return ContainerOf(task_id);
  }

  std::string ContainerOf(const std::string& task_id) {
    for (const ContainerSpec& spec : containers_->Launched()) {
      if (spec.sandbox.find("/executors/" + task_id + "/runs/") != std::string::npos) {
        return spec.container_id;
      }
    }
    return "";
  }

  std::vector<mesos::v1::TaskState> States(const std::string& task_id) {
    std::vector<mesos::v1::TaskState> states;
    for (const auto& status : master_.updates_for(task_id)) states.push_back(status.state());
    return states;
  }

  std::optional<testing::JsonValue> State() {
    std::optional<common::HttpResponse> response = testing::HttpGet(agent_->port(), "/state");
    if (!response.has_value() || response->status != 200) return std::nullopt;
    return testing::ParseJsonValue(response->body);
  }

  testing::TempDir dir_;
  FakeMaster master_;
  std::shared_ptr<FakeContainers> containers_ = std::make_shared<FakeContainers>();
  std::chrono::milliseconds retry_interval_ = 10s;
  std::chrono::milliseconds reregistration_timeout_ = 2s;
  std::shared_ptr<const common::MasterDetector> master_detector_;  // null: master_ itself
  std::unique_ptr<Agent> agent_;
};

// Expects `status` to carry the container status a Mesos agent sets while the container runs.
void ExpectContainerStatus(const mesos::v1::TaskStatus& status, const std::string& container,
                           uint32_t pid) {
  ASSERT_TRUE(status.has_container_status()) << status.DebugString();
  const mesos::v1::ContainerStatus& container_status = status.container_status();
  EXPECT_EQ(container_status.container_id().value(), container);
  EXPECT_EQ(container_status.executor_pid(), pid);
  ASSERT_EQ(container_status.network_infos_size(), 1);
  ASSERT_EQ(container_status.network_infos(0).ip_addresses_size(), 1);
  const auto& address = container_status.network_infos(0).ip_addresses(0);
  EXPECT_EQ(address.ip_address(), "127.0.0.1");
  EXPECT_EQ(address.protocol(), mesos::v1::NetworkInfo::IPv4);
}

TEST_F(AgentTest, FirstRegistrationThenReregistrationWithTheCheckpointedId) {
  StartAndSubscribe();
  const Call first = master_.calls_of(Call::SUBSCRIBE).at(0);
  EXPECT_FALSE(first.has_agent_id());
  EXPECT_FALSE(first.subscribe().agent_info().has_id());
  EXPECT_EQ(first.subscribe().agent_info().hostname(), "127.0.0.1");
  EXPECT_EQ(first.subscribe().agent_info().port(), agent_->port());
  EXPECT_EQ(first.subscribe().agent_info().resources_size(), 4);
  EXPECT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    return testing::Metric(agent_->port(), "slave/registered") == 1.0;
  }));
  std::optional<common::HttpResponse> health = testing::HttpGet(agent_->port(), "/health");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);

  StopAgent();
  StartAndSubscribe();
  const Call second = master_.calls_of(Call::SUBSCRIBE).at(1);
  EXPECT_EQ(second.agent_id().value(), kAgentId);
  EXPECT_EQ(second.subscribe().agent_info().id().value(), kAgentId);
}

TEST_F(AgentTest, CommandTaskRunsToFinishedAndIsForgottenAfterTheAck) {
  StartAndSubscribe();
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "echo hi");
  auto* variable = launch.mutable_launch()
                       ->mutable_task()
                       ->mutable_command()
                       ->mutable_environment()
                       ->add_variables();
  variable->set_name("FOO");
  variable->set_value("bar");
  ASSERT_TRUE(master_.Push(launch));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());

  const std::vector<ContainerSpec> launched = containers_->Launched();
  ASSERT_EQ(launched.size(), 1u);
  const ContainerSpec& spec = launched[0];
  EXPECT_EQ(spec.container_id.size(), 36u);  // A UUID.
  EXPECT_EQ(spec.sandbox,
            dir_.path() + "/slaves/agent-1/frameworks/F1/executors/T1/runs/" + spec.container_id);
  EXPECT_TRUE(spec.shell);
  EXPECT_EQ(spec.command, "echo hi");
  EXPECT_THAT(spec.environment, Contains(Pair("FOO", "bar")));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_TASK_ID", "T1")));
  EXPECT_DOUBLE_EQ(spec.cpus, 0.5);
  EXPECT_EQ(spec.mem_bytes, 64u << 20);

  containers_->End(spec.container_id, 0);
  const auto finished = master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED);
  ASSERT_TRUE(finished.has_value());
  EXPECT_THAT(States("T1"),
              ::testing::ElementsAre(mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING,
                                     mesos::v1::TASK_FINISHED));
  // Only while the container runs (STARTING comes before the launch) the update carries the
  // container status; the fake containerizer's first container has pid 1001.
  EXPECT_FALSE(master_.updates_for("T1").at(0).has_container_status());
  ExpectContainerStatus(master_.updates_for("T1").at(1), spec.container_id, 1001);
  EXPECT_FALSE(finished->has_container_status());
  for (const auto& status : master_.updates_for("T1")) {
    EXPECT_EQ(status.uuid().size(), 16u);
    EXPECT_EQ(status.agent_id().value(), kAgentId);
    EXPECT_EQ(status.executor_id().value(), "T1");
    EXPECT_EQ(status.source(), mesos::v1::TaskStatus::SOURCE_EXECUTOR);
    EXPECT_GT(status.timestamp(), 1e9);
  }
  const Call update = master_.calls_of(Call::STATUS_UPDATE).back();
  EXPECT_EQ(update.agent_id().value(), kAgentId);
  EXPECT_EQ(update.status_update().framework_id().value(), "F1");
  EXPECT_EQ(update.status_update().latest_state(), mesos::v1::TASK_FINISHED);
  // Acknowledged (the fake master acks at once): the framework is forgotten, and /state keeps
  // it among the completed ones (`steward tail` finds finished tasks' sandboxes there).
  std::optional<testing::JsonValue> state;
  EXPECT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    state = State();
    return state.has_value() && (*state)["frameworks"].array.empty();
  }));
  const testing::JsonValue& completed = (*state)["completed_frameworks"][0];
  EXPECT_EQ(completed["id"].string, "F1");
  const testing::JsonValue& executor = completed["completed_executors"][0];
  EXPECT_EQ(executor["directory"].string, spec.sandbox);
  EXPECT_EQ(executor["completed_tasks"][0]["id"].string, "T1");
  EXPECT_EQ(executor["completed_tasks"][0]["state"].string, "TASK_FINISHED");
  EXPECT_EQ(executor["completed_tasks"][0]["statuses"].array.size(), 3u);

  // The framework launching again takes its history back.
  LaunchRunning("T2");
  state = State();
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE((*state)["completed_frameworks"].array.empty());
  EXPECT_EQ((*state)["frameworks"][0]["completed_executors"][0]["id"].string, "T1");
  EXPECT_EQ((*state)["frameworks"][0]["executors"][0]["id"].string, "T2");
}

// A detector whose leader the test moves.
class MovableDetector final : public common::MasterDetector {
 public:
  explicit MovableDetector(common::MasterAddress leader) : leader_(std::move(leader)) {}
  void Move(common::MasterAddress leader) {
    std::lock_guard lock(mu_);
    leader_ = std::move(leader);
  }
  absl::StatusOr<common::MasterAddress> Leader() const override {
    std::lock_guard lock(mu_);
    if (leader_.port == 0) return absl::UnavailableError("no leader elected");
    return leader_;
  }

 private:
  mutable std::mutex mu_;
  common::MasterAddress leader_;
};

// The agent subscribes to the master its detector names: while there is none it keeps trying,
// and when its stream to one leader ends it subscribes to the next and sends its calls there.
TEST_F(AgentTest, FollowsTheLeaderItsMasterDetectorNames) {
  auto detector = std::make_shared<MovableDetector>(common::MasterAddress{"127.0.0.1", 0});
  master_detector_ = detector;
  StartAgent();
  std::this_thread::sleep_for(200ms);  // Several attempts find no leader.
  EXPECT_EQ(master_.subscriptions(), 0);
  detector->Move({"127.0.0.1", master_.port()});
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() == 1; }));

  FakeMaster next;
  detector->Move({"127.0.0.1", next.port()});
  master_.DropStream();
  ASSERT_TRUE(next.WaitFor([](const FakeMaster& m) { return m.subscriptions() == 1; }));
  const Call subscribe = next.calls_of(Call::SUBSCRIBE).back();
  EXPECT_EQ(subscribe.agent_id().value(), kAgentId);  // The same agent, re-registering.
  ASSERT_TRUE(next.Push(LaunchCommand(TestFramework("F1"), "T1", kAgentId, "sleep 1")));
  ASSERT_TRUE(next.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  EXPECT_TRUE(master_.updates_for("T1").empty());
  EXPECT_EQ(master_.subscriptions(), 1);
}

// Status updates that become due while a STATUS_UPDATE call is in flight go together in the
// next call (Call.status_updates) when the master accepts batches.
TEST_F(AgentTest, StatusUpdatesDueDuringACallShareTheNextCall) {
  StartAndSubscribe();
  ASSERT_NO_FATAL_FAILURE(LaunchThreeWhileFirstUpdateIsHeld());
  EXPECT_EQ(master_.calls_of(Call::STATUS_UPDATE).size(), 1u);  // The agent waits for its answer.
  master_.set_hold_status_updates(false);
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return m.calls_of(Call::STATUS_UPDATE).size() >= 2; }));
  const std::vector<Call> calls = master_.calls_of(Call::STATUS_UPDATE);
  EXPECT_TRUE(calls[0].has_status_update());  // A call of one update keeps the single form.
  EXPECT_EQ(calls[0].status_updates_size(), 0);
  const Call& batch = calls[1];
  EXPECT_FALSE(batch.has_status_update());
  ASSERT_GE(batch.status_updates_size(), 2);
  std::vector<std::string> tasks;
  for (const Call::StatusUpdate& update : batch.status_updates()) {
    EXPECT_EQ(update.framework_id().value(), "F1");
    EXPECT_EQ(update.status().uuid().size(), 16u);
    tasks.push_back(update.status().task_id().value());
  }
  EXPECT_THAT(tasks, ::testing::IsSupersetOf({"T2", "T3"}));
  EXPECT_EQ(std::set<std::string>(tasks.begin(), tasks.end()).size(), tasks.size())
      << "one update per task per call";
  // Every task's updates still arrive in order, each once acknowledged.
  for (const std::string task : {"T1", "T2", "T3"}) {
    ASSERT_TRUE(master_.WaitForUpdate(task, mesos::v1::TASK_RUNNING).has_value()) << task;
    EXPECT_THAT(States(task),
                ::testing::ElementsAre(mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING))
        << task;
  }
}

// An older master (no batches in SUBSCRIBED) gets one update per call, in the single form.
TEST_F(AgentTest, StatusUpdatesGoOnePerCallToAMasterWithoutBatches) {
  master_.set_accepts_status_update_batches(false);
  StartAndSubscribe();
  ASSERT_NO_FATAL_FAILURE(LaunchThreeWhileFirstUpdateIsHeld());
  master_.set_hold_status_updates(false);
  for (const std::string task : {"T1", "T2", "T3"}) {
    ASSERT_TRUE(master_.WaitForUpdate(task, mesos::v1::TASK_RUNNING).has_value()) << task;
  }
  const std::vector<Call> calls = master_.calls_of(Call::STATUS_UPDATE);
  EXPECT_GE(calls.size(), 6u);
  for (const Call& call : calls) {
    EXPECT_TRUE(call.has_status_update());
    EXPECT_EQ(call.status_updates_size(), 0);
  }
}

TEST_F(AgentTest, ArgvCommandsKeepTheirArguments) {
  StartAndSubscribe();
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "/bin/echo");
  auto* command = launch.mutable_launch()->mutable_task()->mutable_command();
  command->set_shell(false);
  command->add_arguments("echo");
  command->add_arguments("a b");
  ASSERT_TRUE(master_.Push(launch));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  const ContainerSpec spec = containers_->Launched().at(0);
  EXPECT_FALSE(spec.shell);
  EXPECT_EQ(spec.command, "/bin/echo");
  EXPECT_THAT(spec.arguments, ::testing::ElementsAre("echo", "a b"));
}

TEST_F(AgentTest, UnacknowledgedUpdateIsResentAndLaterOnesWaitInOrder) {
  retry_interval_ = 100ms;
  master_.set_auto_acknowledge(false);
  StartAndSubscribe();
  ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T1", kAgentId, "true")));
  // STARTING is resent (same uuid) while RUNNING waits behind it.
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.updates_for("T1").size() >= 3; }));
  std::vector<mesos::v1::TaskStatus> updates = master_.updates_for("T1");
  for (const auto& status : updates) {
    EXPECT_EQ(status.state(), mesos::v1::TASK_STARTING);
    EXPECT_EQ(status.uuid(), updates[0].uuid());
  }
  ASSERT_TRUE(master_.Acknowledge("F1", updates[0]));
  const auto running = master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING);
  ASSERT_TRUE(running.has_value());
  containers_->End(ContainerOf("T1"), 0);
  // FINISHED waits for RUNNING's acknowledgement.
  std::this_thread::sleep_for(300ms);
  for (const auto& status : master_.updates_for("T1")) {
    EXPECT_NE(status.state(), mesos::v1::TASK_FINISHED);
  }
  ASSERT_TRUE(master_.Acknowledge("F1", *running));
  const auto finished = master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED);
  ASSERT_TRUE(finished.has_value());
  // Strictly in order: every STARTING before every RUNNING before FINISHED.
  std::vector<mesos::v1::TaskState> states = States("T1");
  const std::vector<mesos::v1::TaskState> order = {
      mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING, mesos::v1::TASK_FINISHED};
  size_t rank = 0;
  for (const auto state : states) {
    while (rank < order.size() && order[rank] != state) ++rank;
    ASSERT_LT(rank, order.size()) << "out of order";
  }
  // A stale acknowledgement is ignored without harm.
  ASSERT_TRUE(master_.Acknowledge("F1", updates[0]));
  ASSERT_TRUE(master_.Acknowledge("F1", *finished));
  EXPECT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    std::optional<testing::JsonValue> state = State();
    return state.has_value() && (*state)["frameworks"].array.empty();
  }));
}

TEST_F(AgentTest, FailuresCarryTheExitMessageAndReason) {
  StartAndSubscribe();
  const std::string exit3 = LaunchRunning("T1");
  containers_->End(exit3, 3 << 8);
  const auto failed = master_.WaitForUpdate("T1", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->message(), "exited with status 3");

  const std::string oom = LaunchRunning("T2");
  containers_->End(oom, SIGKILL, /*oom=*/true, "memory limit of 64 MiB exceeded");
  const auto limited = master_.WaitForUpdate("T2", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->reason(), mesos::v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  EXPECT_EQ(limited->source(), mesos::v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(limited->message(), "memory limit of 64 MiB exceeded");
  ASSERT_EQ(limited->limitation().resources_size(), 1);
  EXPECT_EQ(limited->limitation().resources(0).name(), "mem");

  {
    std::lock_guard lock(containers_->mu);
    containers_->launch_error = absl::InternalError("fork failed");
  }
  ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T3", kAgentId, "true")));
  const auto launch_failed = master_.WaitForUpdate("T3", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(launch_failed.has_value());
  EXPECT_EQ(launch_failed->reason(), mesos::v1::TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
  EXPECT_THAT(launch_failed->message(), HasSubstr("fork failed"));
}

TEST_F(AgentTest, KillUsesTheKillPolicyAndReportsKillingWhenTheFrameworkWantsIt) {
  StartAndSubscribe();
  Event launch =
      LaunchCommand(TestFramework("F1", /*task_killing_state=*/true), "T1", kAgentId, "sleep 100");
  ASSERT_TRUE(master_.Push(launch));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  Event kill = testing::KillEvent("F1", "T1");
  kill.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(
      1'500'000'000);
  ASSERT_TRUE(master_.Push(kill));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_KILLED).has_value());
  EXPECT_THAT(States("T1"),
              ::testing::ElementsAre(mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING,
                                     mesos::v1::TASK_KILLING, mesos::v1::TASK_KILLED));
  EXPECT_THAT(containers_->Kills(), Contains(Pair(ContainerOf("T1"), 1500ms)));

  // Without the capability: no KILLING, and the default grace of 3 s.
  const std::string container = LaunchRunning("T2");
  ASSERT_TRUE(master_.Push(testing::KillEvent("F1", "T2")));
  ASSERT_TRUE(master_.WaitForUpdate("T2", mesos::v1::TASK_KILLED).has_value());
  EXPECT_THAT(States("T2"),
              ::testing::ElementsAre(mesos::v1::TASK_STARTING, mesos::v1::TASK_RUNNING,
                                     mesos::v1::TASK_KILLED));
  EXPECT_THAT(containers_->Kills(), Contains(Pair(container, 3000ms)));

  // A task the agent does not know is reported lost so the master stops waiting for it (the
  // framework is known: it has T3).
  LaunchRunning("T3");
  ASSERT_TRUE(master_.Push(testing::KillEvent("F1", "ghost")));
  EXPECT_TRUE(master_.WaitForUpdate("ghost", mesos::v1::TASK_LOST).has_value());
}

TEST_F(AgentTest, ResubscribesAfterTheStreamDropsAndReportsPendingWork) {
  master_.set_auto_acknowledge(false);
  StartAndSubscribe();
  ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T1", kAgentId, "sleep 100")));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_STARTING).has_value());
  master_.DropStream();
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() == 2; }));
  const Call resubscribe = master_.calls_of(Call::SUBSCRIBE).at(1);
  EXPECT_EQ(resubscribe.agent_id().value(), kAgentId);
  ASSERT_EQ(resubscribe.subscribe().frameworks_size(), 1);
  EXPECT_EQ(resubscribe.subscribe().frameworks(0).id().value(), "F1");
  ASSERT_EQ(resubscribe.subscribe().tasks_size(), 1);
  const mesos::v1::Task& task = resubscribe.subscribe().tasks(0);
  EXPECT_EQ(task.task_id().value(), "T1");
  EXPECT_EQ(task.state(), mesos::v1::TASK_RUNNING);
  EXPECT_EQ(task.status_update_state(), mesos::v1::TASK_STARTING);
  EXPECT_EQ(task.status_update_uuid(), master_.updates_for("T1").at(0).uuid());
  EXPECT_EQ(task.executor_id().value(), "");
  // The pending update is resent at once (long before its 10 s retry interval).
  ASSERT_TRUE(
      master_.WaitFor([](const FakeMaster& m) { return m.updates_for("T1").size() >= 2; }, 3s));
}

TEST_F(AgentTest, SilentMasterIsDroppedAfterThreeHeartbeatIntervals) {
  master_.set_heartbeat_interval_seconds(0.1);
  StartAndSubscribe();
  // The fake master never sends HEARTBEAT events; the agent does send HEARTBEAT calls.
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() >= 2; }, 5s));
  EXPECT_FALSE(master_.calls_of(Call::HEARTBEAT).empty());
  EXPECT_EQ(master_.calls_of(Call::HEARTBEAT).at(0).agent_id().value(), kAgentId);
}

TEST_F(AgentTest, RejectedCallsMakeTheAgentSubscribeAgain) {
  master_.set_heartbeat_interval_seconds(0.2);
  StartAndSubscribe();
  master_.set_refuse_calls(400);  // E.g. a stale Mesos-Stream-Id.
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() >= 2; }, 5s));
}

TEST_F(AgentTest, RestartRecoversRunningTasksAndFailsVanishedOnes) {
  StartAndSubscribe();
  const std::string alive = LaunchRunning("T1");
  const std::string vanished = LaunchRunning("T2");
  StopAgent();

  auto restarted = RecoveringContainers({alive});
  StartAndSubscribe();
  const Call subscribe = master_.calls_of(Call::SUBSCRIBE).back();
  EXPECT_EQ(subscribe.agent_id().value(), kAgentId);
  ASSERT_GE(subscribe.subscribe().tasks_size(), 1);
  bool reported_running = false;
  for (const auto& task : subscribe.subscribe().tasks()) {
    if (task.task_id().value() == "T1") reported_running = task.state() == mesos::v1::TASK_RUNNING;
  }
  EXPECT_TRUE(reported_running);
  const auto failed = master_.WaitForUpdate("T2", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(failed.has_value());
  EXPECT_THAT(failed->message(), HasSubstr("vanished"));
  EXPECT_EQ(failed->source(), mesos::v1::TaskStatus::SOURCE_AGENT);

  restarted->End(alive, 0);
  EXPECT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED).has_value());
}

TEST_F(AgentTest, MasterErrorEndsTheAgent) {
  StartAndSubscribe();
  Event error;
  error.set_type(Event::ERROR);
  error.mutable_error()->set_message("Agent agent-1 has been marked gone");
  ASSERT_TRUE(master_.Push(error));
  const absl::Status status = agent_->Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("marked gone"));
}

TEST_F(AgentTest, MalformedEventsAreLoggedAndSurvived) {
  StartAndSubscribe();
  ASSERT_TRUE(master_.PushRaw(common::EncodeRecordIo("\xff\xff not a protobuf")));
  Event empty_launch;
  empty_launch.set_type(Event::LAUNCH);  // No task.
  ASSERT_TRUE(master_.Push(empty_launch));
  Event both = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "true");
  both.mutable_launch()->mutable_task()->mutable_executor()->mutable_executor_id()->set_value("E");
  ASSERT_TRUE(master_.Push(both));
  const auto invalid = master_.WaitForUpdate("T1", mesos::v1::TASK_ERROR);
  ASSERT_TRUE(invalid.has_value());
  EXPECT_EQ(invalid->reason(), mesos::v1::TaskStatus::REASON_TASK_INVALID);
  ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "a/b", kAgentId, "true")));
  EXPECT_TRUE(master_.WaitForUpdate("a/b", mesos::v1::TASK_ERROR).has_value());
  // An event type from a newer master (field 1 = 99) parses with an unknown type.
  ASSERT_TRUE(master_.PushRaw(common::EncodeRecordIo(std::string("\x08\x63", 2))));
  EXPECT_EQ(master_.subscriptions(), 1);
  LaunchRunning("T2");  // Still working on the same stream.
  EXPECT_EQ(master_.subscriptions(), 1);

  // Broken framing cannot be resynchronised: the agent subscribes again.
  ASSERT_TRUE(master_.PushRaw("12x\n"));
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() == 2; }));
}

TEST_F(AgentTest, ExecutorApiRejectsBadRequests) {
  StartAndSubscribe();
  common::HttpClient client("127.0.0.1", agent_->port());
  absl::StatusOr<common::HttpResponse> response =
      client.Post("/api/v1/executor", "{}", "text/plain");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 415);
  response = client.Post("/api/v1/executor", "{not json", "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  response = client.Post("/api/v1/executor", R"({"type": "HEARTBEAT"})", "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr("executor_id"));
  response = client.Post(
      "/api/v1/executor",
      R"({"type": "SUBSCRIBE", "executor_id": {"value": "E"}, "framework_id": {"value": "F9"}})",
      "application/json");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr("Unknown framework"));
  response = client.Post("/api/v1/executor", "\x0a\x03garbage", "application/x-protobuf");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
}

TEST_F(AgentTest, ReservationsAreCheckpointedAndReported) {
  StartAndSubscribe();
  Event reserve;
  reserve.set_type(Event::RESERVE);
  mesos::v1::Resource* cpus = reserve.mutable_reserve()->add_resources();
  cpus->set_name("cpus");
  cpus->set_type(mesos::v1::Value::SCALAR);
  cpus->mutable_scalar()->set_value(1.5);
  auto* reservation = cpus->add_reservations();
  reservation->set_type(mesos::v1::Resource::ReservationInfo::DYNAMIC);
  reservation->set_role("eng");
  ASSERT_TRUE(master_.Push(reserve));
  Event bad_unreserve;
  bad_unreserve.set_type(Event::UNRESERVE);
  *bad_unreserve.mutable_unreserve()->add_resources() = *cpus;
  bad_unreserve.mutable_unreserve()->mutable_resources(0)->mutable_scalar()->set_value(5);
  ASSERT_TRUE(master_.Push(bad_unreserve));  // More than held: logged and ignored.
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    std::optional<testing::JsonValue> state = State();
    if (!state.has_value()) return false;
    return (*state)["reserved_resources"]["eng"]["cpus"].number == 1.5;
  }));

  // Survives a restart and is reported on re-subscription.
  StopAgent();
  StartAndSubscribe();
  Call subscribe = master_.calls_of(Call::SUBSCRIBE).back();
  ASSERT_EQ(subscribe.subscribe().checkpointed_resources_size(), 1);
  EXPECT_DOUBLE_EQ(subscribe.subscribe().checkpointed_resources(0).scalar().value(), 1.5);

  Event unreserve;
  unreserve.set_type(Event::UNRESERVE);
  *unreserve.mutable_unreserve()->add_resources() = *cpus;
  ASSERT_TRUE(master_.Push(unreserve));
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    std::optional<testing::JsonValue> state = State();
    return state.has_value() && (*state)["reserved_resources"].object.empty();
  }));
  master_.DropStream();
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) { return m.subscriptions() == 3; }));
  EXPECT_EQ(master_.calls_of(Call::SUBSCRIBE).back().subscribe().checkpointed_resources_size(), 0);
}

TEST_F(AgentTest, ShutdownFrameworkKillsEverythingAndForgetsIt) {
  StartAndSubscribe();
  const std::string first = LaunchRunning("T1");
  const std::string second = LaunchRunning("T2");
  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN_FRAMEWORK);
  shutdown.mutable_shutdown_framework()->mutable_framework_id()->set_value("F1");
  ASSERT_TRUE(master_.Push(shutdown));
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    std::optional<testing::JsonValue> state = State();
    return state.has_value() && (*state)["frameworks"].array.empty();
  }));
  EXPECT_FALSE(containers_->IsRunning(first));
  EXPECT_FALSE(containers_->IsRunning(second));
  EXPECT_TRUE(master_.updates_for("T1").size() == 2u);  // No KILLED for a removed framework.
}

TEST_F(AgentTest, StateAndMetricsDescribeTheRunningTask) {
  StartAndSubscribe();
  LaunchRunning("T1");
  std::optional<testing::JsonValue> state = State();
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ((*state)["id"].string, kAgentId);
  EXPECT_EQ((*state)["master_hostname"].string, "localhost");
  EXPECT_DOUBLE_EQ((*state)["resources"]["cpus"].number, 4);
  EXPECT_EQ((*state)["resources"]["ports"].string, "[31000-32000]");
  const testing::JsonValue& framework = (*state)["frameworks"][0];
  EXPECT_EQ(framework["id"].string, "F1");
  const testing::JsonValue& executor = framework["executors"][0];
  EXPECT_EQ(executor["id"].string, "T1");
  EXPECT_THAT(executor["directory"].string,
              HasSubstr("/slaves/agent-1/frameworks/F1/executors/T1/runs/"));
  const testing::JsonValue& task = executor["tasks"][0];
  EXPECT_EQ(task["state"].string, "TASK_RUNNING");
  EXPECT_EQ(task["slave_id"].string, kAgentId);
  EXPECT_EQ(task["statuses"].array.size(), 2u);
  const testing::JsonValue& container = task["statuses"][1]["container_status"];
  EXPECT_EQ(container["executor_pid"].number, 1001);
  EXPECT_EQ(container["container_id"]["value"].string, ContainerOf("T1"));
  EXPECT_EQ(container["network_infos"][0]["ip_addresses"][0]["ip_address"].string, "127.0.0.1");

  EXPECT_EQ(testing::Metric(agent_->port(), "slave/tasks_running"), 1.0);
  EXPECT_EQ(testing::Metric(agent_->port(), "slave/cpus_used"), 0.5);
  EXPECT_EQ(testing::Metric(agent_->port(), "slave/cpus_total"), 4.0);
  EXPECT_EQ(testing::Metric(agent_->port(), "slave/mem_total"), 4096.0);
  EXPECT_EQ(testing::Metric(agent_->port(), "slave/executors_running"), 1.0);
  EXPECT_EQ(testing::Metric(agent_->port(), "slave/tasks_finished"), 0.0);
  EXPECT_GE(*testing::Metric(agent_->port(), "slave/valid_status_updates"), 2.0);
  EXPECT_GE(*testing::Metric(agent_->port(), "slave/uptime_secs"), 0.0);
  std::optional<common::HttpResponse> prometheus = testing::HttpGet(agent_->port(), "/metrics");
  ASSERT_TRUE(prometheus.has_value());
  EXPECT_THAT(prometheus->body, HasSubstr("slave_tasks_running 1"));
}

TEST_F(AgentTest, CustomExecutorExitFailsItsTasksAndIsReported) {
  StartAndSubscribe();
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "");
  mesos::v1::TaskInfo* task = launch.mutable_launch()->mutable_task();
  task->clear_command();
  mesos::v1::ExecutorInfo* executor = task->mutable_executor();
  executor->mutable_executor_id()->set_value("E1");
  executor->mutable_command()->set_value("./my-executor");
  ASSERT_TRUE(master_.Push(launch));
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) { return !containers_->Launched().empty(); }));
  const ContainerSpec spec = containers_->Launched().at(0);
  EXPECT_EQ(spec.command, "./my-executor");
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_EXECUTOR_ID", "E1")));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_FRAMEWORK_ID", "F1")));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_CHECKPOINT", "1")));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_AGENT_ENDPOINT",
                                              "127.0.0.1:" + std::to_string(agent_->port()))));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_SANDBOX", spec.sandbox)));
  EXPECT_THAT(spec.environment, Contains(Pair("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "300ms")));
  // The executor never subscribes and dies: its queued task fails, the master hears of it.
  containers_->End(spec.container_id, 1 << 8);
  const auto failed = master_.WaitForUpdate("T1", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->reason(), mesos::v1::TaskStatus::REASON_EXECUTOR_TERMINATED);
  EXPECT_EQ(failed->executor_id().value(), "E1");
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_EXITED).empty(); }));
  const Call exited = master_.calls_of(Call::EXECUTOR_EXITED).at(0);
  EXPECT_EQ(exited.executor_exited().executor_id().value(), "E1");
  EXPECT_EQ(exited.executor_exited().status(), 1 << 8);
}

TEST_F(AgentTest, CustomExecutorUpdatesSurviveAnAgentRestart) {
  using ExecutorEvent = mesos::v1::executor::Event;
  using ExecutorCall = mesos::v1::executor::Call;
  master_.set_auto_acknowledge(false);
  StartAndSubscribe();
  ASSERT_TRUE(master_.Push(LaunchOnExecutor("T1")));
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) { return !containers_->Launched().empty(); }));
  const std::string container = containers_->Launched().at(0).container_id;
  const uint16_t port = agent_->port();

  std::string running_uuid(16, 'r');
  {
    ExecutorStream stream(port, ExecutorCallOf(ExecutorCall::SUBSCRIBE));
    const auto subscribed = stream.WaitFor(ExecutorEvent::SUBSCRIBED);
    ASSERT_TRUE(subscribed.has_value());
    EXPECT_EQ(subscribed->subscribed().container_id().value(), container);
    EXPECT_EQ(subscribed->subscribed().agent_info().id().value(), kAgentId);
    EXPECT_EQ(subscribed->subscribed().executor_info().executor_id().value(), "E1");
    const auto launch = stream.WaitFor(ExecutorEvent::LAUNCH);
    ASSERT_TRUE(launch.has_value());
    EXPECT_EQ(launch->launch().task().task_id().value(), "T1");

    // Bad updates are refused with a reason; a resent one is accepted once.
    EXPECT_EQ(PostExecutorCall(port, UpdateCall("T1", mesos::v1::TASK_RUNNING, "short")), 400);
    EXPECT_EQ(PostExecutorCall(port, UpdateCall("T1", mesos::v1::TASK_STAGING, running_uuid)), 400);
    EXPECT_EQ(PostExecutorCall(port, UpdateCall("T9", mesos::v1::TASK_RUNNING, running_uuid)), 400);
    EXPECT_EQ(PostExecutorCall(port, UpdateCall("T1", mesos::v1::TASK_RUNNING, running_uuid)), 202);
    EXPECT_EQ(PostExecutorCall(port, UpdateCall("T1", mesos::v1::TASK_RUNNING, running_uuid)), 202);
    const auto running = master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING);
    ASSERT_TRUE(running.has_value());
    EXPECT_EQ(running->uuid(), running_uuid);
    EXPECT_EQ(running->source(), mesos::v1::TaskStatus::SOURCE_EXECUTOR);
    EXPECT_EQ(running->executor_id().value(), "E1");
    ExpectContainerStatus(*running, container, 1001);
    StopAgent();  // The executor's stream ends with the agent.
    ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) { return stream.ended(); }));
  }

  auto restarted = RecoveringContainers({container});
  StartAndSubscribe();
  const Call subscribe = master_.calls_of(Call::SUBSCRIBE).back();
  ASSERT_EQ(subscribe.subscribe().executors_size(), 1);
  EXPECT_EQ(subscribe.subscribe().executors(0).executor_id().value(), "E1");
  EXPECT_EQ(subscribe.subscribe().executors(0).framework_id().value(), "F1");
  ASSERT_EQ(subscribe.subscribe().tasks_size(), 1);
  EXPECT_EQ(subscribe.subscribe().tasks(0).status_update_uuid(), running_uuid);
  EXPECT_EQ(subscribe.subscribe().tasks(0).executor_id().value(), "E1");

  // The executor subscribes again, listing what it has no acknowledgement for: RUNNING (which
  // the agent has) and FINISHED (which it never got).
  const std::string finished_uuid(16, 'f');
  ExecutorCall resubscribe = ExecutorCallOf(ExecutorCall::SUBSCRIBE);
  *resubscribe.mutable_subscribe()->add_unacknowledged_updates() =
      UpdateCall("T1", mesos::v1::TASK_RUNNING, running_uuid).update();
  *resubscribe.mutable_subscribe()->add_unacknowledged_updates() =
      UpdateCall("T1", mesos::v1::TASK_FINISHED, finished_uuid).update();
  ExecutorStream stream(agent_->port(), resubscribe);
  ASSERT_TRUE(stream.WaitFor(ExecutorEvent::SUBSCRIBED).has_value());
  // T1 was delivered before the restart (checkpointed): it is not launched again.

  const auto running = master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING);
  ASSERT_TRUE(running.has_value());
  ASSERT_TRUE(master_.Acknowledge("F1", *running));
  const auto acked = stream.WaitFor(ExecutorEvent::ACKNOWLEDGED);
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acknowledged().uuid(), running_uuid);
  const auto finished = master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED);
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->uuid(), finished_uuid);
  // The executor still runs: the recovered container's pid (the fake's 2000 + n).
  ExpectContainerStatus(*finished, container, 2001);
  ASSERT_TRUE(master_.Acknowledge("F1", *finished));
  const auto acked_finished = stream.WaitFor(ExecutorEvent::ACKNOWLEDGED, 2);
  ASSERT_TRUE(acked_finished.has_value());
  EXPECT_EQ(acked_finished->acknowledged().uuid(), finished_uuid);

  // A framework message reaches the executor; its message reaches the master.
  Event message;
  message.set_type(Event::FRAMEWORK_MESSAGE);
  message.mutable_framework_message()->mutable_framework_id()->set_value("F1");
  message.mutable_framework_message()->mutable_executor_id()->set_value("E1");
  message.mutable_framework_message()->set_data("ping");
  ASSERT_TRUE(master_.Push(message));
  const auto received = stream.WaitFor(ExecutorEvent::MESSAGE);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->message().data(), "ping");
  ExecutorCall reply = ExecutorCallOf(ExecutorCall::MESSAGE);
  reply.mutable_message()->set_data("pong");
  EXPECT_EQ(PostExecutorCall(agent_->port(), reply), 202);
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_MESSAGE).empty(); }));
  EXPECT_EQ(master_.calls_of(Call::EXECUTOR_MESSAGE).at(0).executor_message().data(), "pong");

  // SHUTDOWN_EXECUTOR: the executor is told, and killed once the grace period is over.
  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN_EXECUTOR);
  shutdown.mutable_shutdown_executor()->mutable_framework_id()->set_value("F1");
  shutdown.mutable_shutdown_executor()->mutable_executor_id()->set_value("E1");
  ASSERT_TRUE(master_.Push(shutdown));
  ASSERT_TRUE(stream.WaitFor(ExecutorEvent::SHUTDOWN).has_value());
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_EXITED).empty(); }, 15s));
  EXPECT_FALSE(restarted->IsRunning(container));
  for (const ExecutorEvent& event : stream.events()) {
    EXPECT_NE(event.type(), ExecutorEvent::LAUNCH);
  }
}

// A custom executor runs T1 (RUNNING, acknowledged) when the agent stops; returns its container.
std::string RunOneTaskOnACustomExecutor(FakeMaster& master, FakeContainers& containers,
                                        uint16_t port, const mesos::v1::FrameworkInfo& framework) {
  using ExecutorCall = mesos::v1::executor::Call;
  EXPECT_TRUE(master.Push(LaunchOnExecutor("T1", framework)));
  EXPECT_TRUE(master.WaitFor([&](const FakeMaster&) { return !containers.Launched().empty(); }));
  ExecutorCall subscribe = ExecutorCallOf(ExecutorCall::SUBSCRIBE);
  *subscribe.mutable_framework_id() = framework.id();
  ExecutorStream stream(port, subscribe);
  EXPECT_TRUE(stream.WaitFor(mesos::v1::executor::Event::LAUNCH).has_value());
  ExecutorCall update = UpdateCall("T1", mesos::v1::TASK_RUNNING, std::string(16, 'r'));
  *update.mutable_framework_id() = framework.id();
  EXPECT_EQ(PostExecutorCall(port, update), 202);
  EXPECT_TRUE(master.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  return containers.Launched().empty() ? "" : containers.Launched().at(0).container_id;
}

class ReregistrationTimeoutTest : public AgentTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ReregistrationTimeoutTest, SilentRecoveredExecutorIsKilledAndItsTasksReported) {
  const bool partition_aware = GetParam();
  mesos::v1::FrameworkInfo framework = TestFramework("F1");
  if (partition_aware) {
    framework.add_capabilities()->set_type(mesos::v1::FrameworkInfo::Capability::PARTITION_AWARE);
  }
  const std::string container = RunCustomExecutorThenStop(framework);
  ASSERT_FALSE(container.empty());

  // The container survives the restart, but its executor never subscribes again.
  auto restarted = RecoveringContainers({container});
  reregistration_timeout_ = 300ms;
  const auto start = std::chrono::steady_clock::now();
  StartAndSubscribe();
  const mesos::v1::TaskState expected =
      partition_aware ? mesos::v1::TASK_GONE : mesos::v1::TASK_LOST;
  const auto lost = master_.WaitForUpdate("T1", expected);
  ASSERT_TRUE(lost.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(lost->reason(), mesos::v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  EXPECT_EQ(lost->source(), mesos::v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(lost->message(), "Executor did not reregister within 300ms");
  EXPECT_EQ(lost->executor_id().value(), "E1");
  EXPECT_FALSE(lost->has_container_status());  // The container is gone.
  EXPECT_THAT(restarted->Kills(), ::testing::ElementsAre(Pair(container, 0ms)));
  EXPECT_FALSE(restarted->IsRunning(container));
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_EXITED).empty(); }));
  EXPECT_EQ(master_.calls_of(Call::EXECUTOR_EXITED).at(0).executor_exited().executor_id().value(),
            "E1");
  // Too late now.
  mesos::v1::executor::Call subscribe = ExecutorCallOf(mesos::v1::executor::Call::SUBSCRIBE);
  *subscribe.mutable_framework_id() = framework.id();
  EXPECT_EQ(PostExecutorCall(agent_->port(), subscribe), 400);
}

INSTANTIATE_TEST_SUITE_P(PartitionAware, ReregistrationTimeoutTest, ::testing::Bool());

TEST_F(AgentTest, RecoveredExecutorThatSubscribesInTimeKeepsRunning) {
  using ExecutorCall = mesos::v1::executor::Call;
  using ExecutorEvent = mesos::v1::executor::Event;
  const std::string container = RunCustomExecutorThenStop(TestFramework("F1"));
  ASSERT_FALSE(container.empty());

  auto restarted = RecoveringContainers({container});
  reregistration_timeout_ = 2s;  // Slow (sanitizer) builds still subscribe well within it.
  const auto start = std::chrono::steady_clock::now();
  StartAndSubscribe();
  ExecutorStream stream(agent_->port(), ExecutorCallOf(ExecutorCall::SUBSCRIBE));
  ASSERT_TRUE(stream.WaitFor(ExecutorEvent::SUBSCRIBED).has_value());
  std::this_thread::sleep_until(start + 2500ms);  // Past the timeout.
  EXPECT_TRUE(restarted->Kills().empty());
  EXPECT_TRUE(restarted->IsRunning(container));
  EXPECT_FALSE(stream.ended());
  EXPECT_EQ(PostExecutorCall(agent_->port(),
                             UpdateCall("T1", mesos::v1::TASK_FINISHED, std::string(16, 'f'))),
            202);
  const auto finished = master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED);
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->source(), mesos::v1::TaskStatus::SOURCE_EXECUTOR);
  for (const auto& status : master_.updates_for("T1")) {
    EXPECT_NE(status.state(), mesos::v1::TASK_LOST);
  }
}

TEST_F(AgentTest, ReregistrationTimeoutOutlivesAnotherRestartBeforeTheExit) {
  const std::string container = RunCustomExecutorThenStop(TestFramework("F1"));
  ASSERT_FALSE(container.empty());

  // The executor stays silent and the kill does not end the container before the agent stops
  // again.
  auto restarted = RecoveringContainers({container});
  restarted->kills_end_containers = false;
  reregistration_timeout_ = 200ms;
  StartAndSubscribe();
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) { return !restarted->Kills().empty(); }));
  StopAgent();
  for (const auto& status : master_.updates_for("T1")) {
    EXPECT_NE(status.state(), mesos::v1::TASK_LOST);
  }

  // The third agent finds the container gone: the checkpointed reason still applies.
  containers_ = std::make_shared<FakeContainers>();
  StartAndSubscribe();
  const auto lost = master_.WaitForUpdate("T1", mesos::v1::TASK_LOST);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->reason(), mesos::v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  EXPECT_EQ(lost->message(), "Executor did not reregister within 200ms");
}

}  // namespace
}  // namespace steward::agent
