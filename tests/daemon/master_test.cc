// The master in-process, driven over real HTTP on 127.0.0.1 by test frameworks (scheduler API,
// JSON and protobuf) and fake agents (Steward's agent protocol).
#include "daemon/master.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "common/json.h"
#include "common/mesos_resources.h"
#include "daemon/cli/internal/json_value.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/mesos/v1/master/master.pb.h"
#include "tests/daemon/test_clients.h"

namespace steward::daemon {
namespace {

using ::testing::HasSubstr;
using namespace testing;
using Call = v1::scheduler::Call;
using Event = v1::scheduler::Event;

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("steward-master-test-" + std::to_string(getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  return dir;
}

// A FileRegistrar whose writes can be made to fail (as a full disk would), counting them.
struct RegistrarControl {
  std::atomic<bool> fail{false};
  std::atomic<int> stores{0};
  std::atomic<int> failed{0};
  // Each write takes this long (a slow disk).
  std::atomic<int> delay_ms{0};
  // While set, a write waits (up to 3 s) before it proceeds; `in_store` counts writes begun.
  std::atomic<bool> hold{false};
  std::atomic<int> in_store{0};
};

class ControlledRegistrar : public Registrar {
 public:
  ControlledRegistrar(std::unique_ptr<Registrar> inner, std::shared_ptr<RegistrarControl> control)
      : inner_(std::move(inner)), control_(std::move(control)) {}
  absl::StatusOr<registry::Registry> Recover() override { return inner_->Recover(); }
  absl::Status Store(const registry::Registry& registry) override {
    ++control_->in_store;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (control_->hold && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(control_->delay_ms.load()));
    if (control_->fail) {
      ++control_->failed;
      return absl::UnavailableError("injected write failure");
    }
    ++control_->stores;
    return inner_->Store(registry);
  }

 private:
  std::unique_ptr<Registrar> inner_;
  std::shared_ptr<RegistrarControl> control_;
};

class MasterTest : public ::testing::Test {
 protected:
  void SetUp() override { work_dir_ = TempDir(); }
  void TearDown() override {
    master_.reset();
    std::filesystem::remove_all(work_dir_);
  }

  void StartMaster(MasterOptions options = {}) {
    options.port = 0;
    options.work_dir = work_dir_;
    if (options.allocation_interval == std::chrono::seconds(1)) {
      options.allocation_interval = std::chrono::milliseconds(30);
    }
    options.heartbeat_interval = std::chrono::milliseconds(100);
    auto registrar = FileRegistrar::Create(work_dir_);
    ASSERT_TRUE(registrar.ok());
    auto master = Master::Create(
        options, std::make_unique<ControlledRegistrar>(*std::move(registrar), registrar_control_));
    ASSERT_TRUE(master.ok()) << master.status();
    master_ = *std::move(master);
    ASSERT_TRUE(master_->Start().ok());
    port_ = master_->port();
  }

  static Call SubscribeCall(const std::string& name, const std::string& role = "*",
                            double failover_timeout = 60) {
    Call call;
    call.set_type(Call::SUBSCRIBE);
    v1::FrameworkInfo* info = call.mutable_subscribe()->mutable_framework_info();
    info->set_user("tester");
    info->set_name(name);
    info->add_roles(role);
    info->set_failover_timeout(failover_timeout);
    info->add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
    return call;
  }

  static agent::Call AgentSubscribe(const std::string& host, const std::string& resources,
                                    const std::string& id = "") {
    agent::Call call;
    call.set_type(agent::Call::SUBSCRIBE);
    v1::AgentInfo* info = call.mutable_subscribe()->mutable_agent_info();
    info->set_hostname(host);
    info->set_port(5051);
    *info->mutable_resources() = *common::ParseResourceText(resources);
    if (!id.empty()) {
      info->mutable_id()->set_value(id);
      call.mutable_agent_id()->set_value(id);
    }
    call.mutable_subscribe()->set_version("test");
    return call;
  }

  // A SUBSCRIBE the master accepts as well-formed but the allocator refuses: an attribute
  // without a name.
  static agent::Call SubscribeRefusedByAllocator(const std::string& host,
                                                 const std::string& resources,
                                                 const std::string& id) {
    agent::Call call = AgentSubscribe(host, resources, id);
    v1::Attribute* attribute = call.mutable_subscribe()->mutable_agent_info()->add_attributes();
    attribute->set_name("");
    attribute->set_type(v1::Value::TEXT);
    attribute->mutable_text()->set_value("x");
    return call;
  }

  std::unique_ptr<TestFramework> Framework(const std::string& name, bool json = true,
                                           const std::string& role = "*",
                                           double failover_timeout = 60) {
    auto framework =
        std::make_unique<TestFramework>(port_, SubscribeCall(name, role, failover_timeout), json);
    EXPECT_EQ(framework->Head().status, 200);
    auto subscribed = framework->Next(Event::SUBSCRIBED);
    EXPECT_TRUE(subscribed.has_value());
    if (subscribed) framework_ids_[framework.get()] = subscribed->subscribed().framework_id();
    return framework;
  }

  std::unique_ptr<FakeAgent> Agent(const std::string& host, const std::string& resources,
                                   std::string* agent_id) {
    auto agent = std::make_unique<FakeAgent>(port_, AgentSubscribe(host, resources));
    auto subscribed = agent->Next(agent::Event::SUBSCRIBED);
    EXPECT_TRUE(subscribed.has_value());
    if (subscribed) *agent_id = subscribed->subscribed().agent_id().value();
    return agent;
  }

  v1::FrameworkID IdOf(TestFramework* f) { return framework_ids_[f]; }

  Call Launch(TestFramework* f, const v1::Offer& offer, const std::string& task_id,
              const std::string& resources) {
    Call call;
    call.set_type(Call::ACCEPT);
    *call.mutable_framework_id() = IdOf(f);
    *call.mutable_accept()->add_offer_ids() = offer.id();
    v1::Offer::Operation* op = call.mutable_accept()->add_operations();
    op->set_type(v1::Offer::Operation::LAUNCH);
    v1::TaskInfo* task = op->mutable_launch()->add_task_infos();
    task->set_name(task_id);
    task->mutable_task_id()->set_value(task_id);
    *task->mutable_agent_id() = offer.agent_id();
    task->mutable_command()->set_value("sleep 1");
    *task->mutable_resources() = *common::ParseResourceText(resources);
    call.mutable_accept()->mutable_filters()->set_refuse_seconds(0);
    return call;
  }

  static agent::Call StatusCall(const std::string& agent_id, const v1::FrameworkID& framework,
                                const std::string& task_id, v1::TaskState state,
                                const std::string& uuid) {
    agent::Call call;
    call.set_type(agent::Call::STATUS_UPDATE);
    call.mutable_agent_id()->set_value(agent_id);
    *call.mutable_status_update()->mutable_framework_id() = framework;
    v1::TaskStatus* status = call.mutable_status_update()->mutable_status();
    status->mutable_task_id()->set_value(task_id);
    status->set_state(state);
    status->set_uuid(uuid);
    status->mutable_agent_id()->set_value(agent_id);
    call.mutable_status_update()->set_latest_state(state);
    return call;
  }

  Call Ack(TestFramework* f, const v1::TaskStatus& status) {
    Call call;
    call.set_type(Call::ACKNOWLEDGE);
    *call.mutable_framework_id() = IdOf(f);
    *call.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
    *call.mutable_acknowledge()->mutable_task_id() = status.task_id();
    call.mutable_acknowledge()->set_uuid(status.uuid());
    return call;
  }

  // POST /api/v1 in JSON; parses the answer when there is one.
  v1::master::Response Operator(const std::string& json, int expect_status = 200) {
    common::HttpClient client("127.0.0.1", port_);
    auto response = client.Post("/api/v1", json);
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response->status, expect_status) << response->body;
    v1::master::Response parsed;
    if (response->status == 200 && !response->body.empty()) {
      EXPECT_TRUE(common::JsonToMessage(response->body, &parsed).ok()) << response->body;
    }
    return parsed;
  }

  // Reads one value from /metrics/snapshot (-1 if absent). The snapshot is one flat JSON
  // object of numbers, so the value is the number after `"name":`.
  double Metric(const std::string& name) {
    common::HttpClient client("127.0.0.1", port_);
    auto response = client.Get("/metrics/snapshot");
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return -1;
    const std::string key = "\"" + name + "\":";
    const size_t at = response->body.find(key);
    if (at == std::string::npos) return -1;
    const char* begin = response->body.c_str() + at + key.size();
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    EXPECT_NE(end, begin) << response->body;
    return value;
  }

  std::string work_dir_;
  std::shared_ptr<RegistrarControl> registrar_control_ = std::make_shared<RegistrarControl>();
  std::unique_ptr<Master> master_;
  uint16_t port_ = 0;
  std::map<TestFramework*, v1::FrameworkID> framework_ids_;
};

double Scalar(const google::protobuf::RepeatedPtrField<v1::Resource>& resources,
              const std::string& name) {
  double sum = 0;
  for (const auto& r : resources) {
    if (r.name() == name) sum += r.scalar().value();
  }
  return sum;
}

const std::string kUuid1 = "0123456789abcdef";
const std::string kUuid2 = "fedcba9876543210";

TEST_F(MasterTest, TaskLifecycleOverJson) {
  StartMaster();
  auto framework = Framework("lifecycle");
  EXPECT_FALSE(framework->stream_id().empty());
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:4;mem:1024", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(offers->offers().offers_size(), 1);
  const v1::Offer offer = offers->offers().offers(0);
  EXPECT_EQ(offer.agent_id().value(), agent_id);
  EXPECT_EQ(offer.hostname(), "host-a");
  EXPECT_DOUBLE_EQ(Scalar(offer.resources(), "cpus"), 4);
  EXPECT_EQ(offer.resources(0).allocation_info().role(), "*");
  // GET_FRAMEWORKS lists the outstanding offer as the framework received it.
  auto listed = Operator(R"({"type":"GET_FRAMEWORKS"})");
  ASSERT_EQ(listed.get_frameworks().frameworks_size(), 1);
  ASSERT_EQ(listed.get_frameworks().frameworks(0).offers_size(), 1);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      listed.get_frameworks().frameworks(0).offers(0), offer))
      << listed.get_frameworks().frameworks(0).offers(0).ShortDebugString() << " vs "
      << offer.ShortDebugString();

  ASSERT_EQ(framework->Call(Launch(framework.get(), offer, "t1", "cpus:1;mem:128")).status, 202);
  auto launch = agent->Next(agent::Event::LAUNCH);
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->launch().task().task_id().value(), "t1");
  EXPECT_EQ(launch->launch().framework_info().id().value(), IdOf(framework.get()).value());

  // The rest of the agent comes back in a later offer (refuse_seconds 0).
  auto rest = framework->Next(Event::OFFERS);
  ASSERT_TRUE(rest.has_value());
  EXPECT_DOUBLE_EQ(Scalar(rest->offers().offers(0).resources(), "cpus"), 3);

  agent::Call running_call =
      StatusCall(agent_id, IdOf(framework.get()), "t1", v1::TASK_RUNNING, kUuid1);
  v1::ContainerStatus* container =
      running_call.mutable_status_update()->mutable_status()->mutable_container_status();
  container->set_executor_pid(4242);
  container->add_network_infos()->add_ip_addresses()->set_ip_address("127.0.0.1");
  ASSERT_EQ(agent->Post(running_call).status, 202);
  auto running = framework->Next(Event::UPDATE);
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->update().status().state(), v1::TASK_RUNNING);
  EXPECT_EQ(running->update().status().uuid(), kUuid1);
  EXPECT_EQ(running->update().status().container_status().executor_pid(), 4242u);
  {
    // /master/state shows the container status in the task's statuses, as Mesos does.
    common::HttpClient client("127.0.0.1", port_);
    auto state = client.Get("/master/state");
    ASSERT_TRUE(state.ok());
    EXPECT_THAT(state->body,
                HasSubstr(R"("container_status":{"network_infos":[{"ip_addresses":[{"ip_address":)"
                          R"("127.0.0.1"}]}],"executor_pid":4242})"));
  }
  ASSERT_EQ(framework->Call(Ack(framework.get(), running->update().status())).status, 202);
  auto ack = agent->Next(agent::Event::ACKNOWLEDGE_STATUS_UPDATE);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->acknowledge_status_update().uuid(), kUuid1);

  ASSERT_EQ(
      agent->Post(StatusCall(agent_id, IdOf(framework.get()), "t1", v1::TASK_FINISHED, kUuid2))
          .status,
      202);
  auto finished = framework->Next(Event::UPDATE);
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->update().status().state(), v1::TASK_FINISHED);
  ASSERT_EQ(framework->Call(Ack(framework.get(), finished->update().status())).status, 202);

  auto tasks = Operator(R"({"type":"GET_TASKS"})");
  EXPECT_EQ(tasks.get_tasks().tasks_size(), 0);
  ASSERT_EQ(tasks.get_tasks().completed_tasks_size(), 1);
  EXPECT_EQ(tasks.get_tasks().completed_tasks(0).state(), v1::TASK_FINISHED);

  // Everything is free again. The recovered cpu may come in an offer of its own first:
  // decline every outstanding offer in one call, and the next offer holds the whole agent.
  Call decline;
  decline.set_type(Call::DECLINE);
  *decline.mutable_framework_id() = IdOf(framework.get());
  *decline.mutable_decline()->add_offer_ids() = rest->offers().offers(0).id();
  if (auto extra = framework->Next(Event::OFFERS, 300ms); extra.has_value()) {
    for (const v1::Offer& o : extra->offers().offers()) {
      *decline.mutable_decline()->add_offer_ids() = o.id();
    }
  }
  decline.mutable_decline()->mutable_filters()->set_refuse_seconds(0);
  ASSERT_EQ(framework->Call(decline).status, 202);
  auto full = framework->Next(Event::OFFERS);
  ASSERT_TRUE(full.has_value());
  EXPECT_DOUBLE_EQ(Scalar(full->offers().offers(0).resources(), "cpus"), 4);

  common::HttpClient client("127.0.0.1", port_);
  auto metrics = client.Get("/metrics/snapshot");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("\"master/tasks_finished\":1"));
  EXPECT_THAT(metrics->body, HasSubstr("\"master/slaves_connected\":1"));
  EXPECT_THAT(metrics->body, HasSubstr("\"allocator/mesos/allocation_run_ms/p99\""));
}

// One STATUS_UPDATE call carrying several tasks' updates (Call.status_updates): the master
// says in SUBSCRIBED that it takes them, forwards them in order, and refuses a malformed call
// whole, applying none of its updates.
TEST_F(MasterTest, StatusUpdateBatchesApplyInOrderOrNotAtAll) {
  StartMaster();
  auto framework = Framework("batches", /*json=*/false);
  FakeAgent agent(port_, AgentSubscribe("host-a", "cpus:4;mem:1024"));
  auto subscribed = agent.Next(agent::Event::SUBSCRIBED);
  ASSERT_TRUE(subscribed.has_value());
  EXPECT_TRUE(subscribed->subscribed().accepts_status_update_batches());
  const std::string agent_id = subscribed->subscribed().agent_id().value();
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  Call accept = Launch(framework.get(), offers->offers().offers(0), "t1", "cpus:1;mem:128");
  v1::TaskInfo* second =
      accept.mutable_accept()->mutable_operations(0)->mutable_launch()->add_task_infos();
  *second = accept.accept().operations(0).launch().task_infos(0);
  second->mutable_task_id()->set_value("t2");
  ASSERT_EQ(framework->Call(accept).status, 202);
  ASSERT_TRUE(agent.Next(agent::Event::LAUNCH).has_value());
  ASSERT_TRUE(agent.Next(agent::Event::LAUNCH).has_value());
  const v1::FrameworkID framework_id = IdOf(framework.get());
  auto batch = [&](const std::vector<std::pair<std::string, std::string>>& tasks_and_uuids) {
    agent::Call call;
    call.set_type(agent::Call::STATUS_UPDATE);
    call.mutable_agent_id()->set_value(agent_id);
    for (const auto& [task_id, uuid] : tasks_and_uuids) {
      *call.add_status_updates() =
          StatusCall(agent_id, framework_id, task_id, v1::TASK_RUNNING, uuid).status_update();
    }
    return call;
  };
  const double invalid_before = Metric("master/invalid_status_updates");

  // A bad uuid in the second update: refused, and the first is not forwarded either.
  auto refused = agent.Post(batch({{"t1", kUuid1}, {"t2", "short"}}));
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.body, HasSubstr("Status update 1 (task 't2') needs a 16-byte 'uuid'"));
  EXPECT_THAT(refused.body, HasSubstr("none of the call's 2 updates was applied"));
  // Both forms at once, and neither: refused.
  agent::Call both = batch({{"t1", kUuid1}});
  *both.mutable_status_update() = both.status_updates(0);
  EXPECT_EQ(agent.Post(both).status, 400);
  auto neither = agent.Post(batch({}));
  EXPECT_EQ(neither.status, 400);
  EXPECT_THAT(neither.body, HasSubstr("Expecting 'status_update' or 'status_updates'"));
  EXPECT_FALSE(framework->Next(Event::UPDATE, 300ms).has_value());
  EXPECT_EQ(Metric("master/invalid_status_updates"), invalid_before + 3);
  auto tasks = Operator(R"({"type":"GET_TASKS"})");
  ASSERT_EQ(tasks.get_tasks().tasks_size(), 2);
  for (const v1::Task& task : tasks.get_tasks().tasks()) {
    EXPECT_EQ(task.state(), v1::TASK_STAGING) << task.task_id().value();
  }

  // A well-formed batch: both forwarded, in the call's order; acknowledgements go back per task.
  ASSERT_EQ(agent.Post(batch({{"t2", kUuid2}, {"t1", kUuid1}})).status, 202);
  auto first = framework->Next(Event::UPDATE);
  auto next = framework->Next(Event::UPDATE);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(first->update().status().task_id().value(), "t2");
  EXPECT_EQ(first->update().status().uuid(), kUuid2);
  EXPECT_EQ(first->update().status().agent_id().value(), agent_id);
  EXPECT_EQ(next->update().status().task_id().value(), "t1");
  EXPECT_EQ(next->update().status().uuid(), kUuid1);
  ASSERT_EQ(framework->Call(Ack(framework.get(), next->update().status())).status, 202);
  auto ack = agent.Next(agent::Event::ACKNOWLEDGE_STATUS_UPDATE);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->acknowledge_status_update().task_id().value(), "t1");
  EXPECT_EQ(ack->acknowledge_status_update().uuid(), kUuid1);
  tasks = Operator(R"({"type":"GET_TASKS"})");
  ASSERT_EQ(tasks.get_tasks().tasks_size(), 2);
  for (const v1::Task& task : tasks.get_tasks().tasks()) {
    EXPECT_EQ(task.state(), v1::TASK_RUNNING) << task.task_id().value();
  }
  // A single update in the older form is still taken.
  ASSERT_EQ(
      agent.Post(StatusCall(agent_id, framework_id, "t1", v1::TASK_FINISHED, "0000000000000001"))
          .status,
      202);
  auto finished = framework->Next(Event::UPDATE);
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->update().status().state(), v1::TASK_FINISHED);
}

TEST_F(MasterTest, BadInputIsRefusedAndStateSurvives) {
  MasterOptions options;
  options.max_body_bytes = 256 * 1024;
  StartMaster(options);
  auto framework = Framework("victim");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  const v1::Offer offer = offers->offers().offers(0);
  const std::string id = IdOf(framework.get()).value();
  const std::string stream = framework->stream_id();
  struct Case {
    std::string body;
    std::string content_type;
    std::string stream_id;
    int status;
    std::string message;
  };
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::vector<Case> cases = {
      {"{not json", "application/json", stream, 400, "Failed to parse"},
      {R"({"type":"DECLINE","framework_id":{"value":7}})", "application/json", stream, 400,
       "Failed to parse"},
      {R"({"type":"NO_SUCH_CALL","framework_id":{"value":")" + id + R"("}})", "application/json",
       stream, 400, "type"},
      {deep, "application/json", stream, 400, "nest"},
      {R"({"type":"DECLINE","framework_id":{"value":")" + id + R"("}})", "text/plain", stream, 415,
       "Content-Type"},
      {R"({"type":"REVIVE","framework_id":{"value":")" + id + R"("}})", "application/json", "", 400,
       "Mesos-Stream-Id"},
      {R"({"type":"REVIVE","framework_id":{"value":")" + id + R"("}})", "application/json", "wrong",
       400, "didn't match"},
      {R"({"type":"REVIVE"})", "application/json", stream, 400, "framework_id"},
      {R"({"type":"DECLINE","framework_id":{"value":")" + id +
           R"("},"decline":{"offer_ids":[{"value":"nope"}]}})",
       "application/json", stream, 400, "not outstanding"},
      {"\x08\x99\x99", "application/x-protobuf", stream, 400, "Failed to parse"},
      {std::string(300 * 1024, ' '), "application/json", stream, 413, "too large"},
  };
  for (const Case& c : cases) {
    auto response = framework->Raw(c.body, c.content_type, c.stream_id);
    EXPECT_EQ(response.status, c.status) << c.body.substr(0, 80);
    EXPECT_THAT(response.body, HasSubstr(c.message)) << c.body.substr(0, 80);
  }
  // Resources beyond the offer: refused whole, the offer stays outstanding.
  auto too_big = framework->Call(Launch(framework.get(), offer, "big", "cpus:3;mem:128"));
  EXPECT_EQ(too_big.status, 400);
  EXPECT_THAT(too_big.body, HasSubstr("beyond the offers"));
  // An unsupported operation is refused by name.
  Call reserve = Launch(framework.get(), offer, "x", "cpus:1");
  reserve.mutable_accept()->mutable_operations(0)->set_type(v1::Offer::Operation::CREATE);
  auto refused = framework->Call(reserve);
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(refused.body, HasSubstr("CREATE is not supported"));
  // An invalid task in a valid ACCEPT is reported TASK_ERROR; its sibling launches.
  Call mixed = Launch(framework.get(), offer, "good", "cpus:1;mem:64");
  v1::TaskInfo* bad =
      mixed.mutable_accept()->mutable_operations(0)->mutable_launch()->add_task_infos();
  *bad = mixed.accept().operations(0).launch().task_infos(0);
  bad->mutable_task_id()->set_value("bad/id");
  ASSERT_EQ(framework->Call(mixed).status, 202);
  auto error = framework->Next(Event::UPDATE);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->update().status().task_id().value(), "bad/id");
  EXPECT_EQ(error->update().status().state(), v1::TASK_ERROR);
  EXPECT_EQ(error->update().status().reason(), v1::TaskStatus::REASON_TASK_INVALID);
  auto launch = agent->Next(agent::Event::LAUNCH);
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->launch().task().task_id().value(), "good");

  // Bad requests at the HTTP level.
  common::HttpClient client("127.0.0.1", port_);
  auto bad_path = client.Get("/%zz");
  ASSERT_TRUE(bad_path.ok());
  EXPECT_GE(bad_path->status, 400);
  EXPECT_LT(bad_path->status, 500);
  auto unknown_operator = client.Post("/api/v1", R"({"type":"START_MAINTENANCE"})");
  ASSERT_TRUE(unknown_operator.ok());
  EXPECT_EQ(unknown_operator->status, 400);
  EXPECT_THAT(unknown_operator->body, HasSubstr("not supported"));
  auto agent_garbage = client.Post("/api/v1/agent", "garbage", "application/x-protobuf");
  ASSERT_TRUE(agent_garbage.ok());
  EXPECT_EQ(agent_garbage->status, 400);

  // The framework and its task survived all of it.
  auto frameworks = Operator(R"({"type":"GET_FRAMEWORKS"})");
  ASSERT_EQ(frameworks.get_frameworks().frameworks_size(), 1);
  EXPECT_TRUE(frameworks.get_frameworks().frameworks(0).connected());
  auto tasks = Operator(R"({"type":"GET_TASKS"})");
  ASSERT_EQ(tasks.get_tasks().tasks_size(), 1);
  EXPECT_EQ(tasks.get_tasks().tasks(0).task_id().value(), "good");
  Call revive;
  revive.set_type(Call::REVIVE);
  *revive.mutable_framework_id() = IdOf(framework.get());
  EXPECT_EQ(framework->Call(revive).status, 202);
}

TEST_F(MasterTest, DeclineFilterHoldsUntilRevive) {
  StartMaster();
  auto framework = Framework("decliner");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  Call decline;
  decline.set_type(Call::DECLINE);
  *decline.mutable_framework_id() = IdOf(framework.get());
  *decline.mutable_decline()->add_offer_ids() = offers->offers().offers(0).id();
  decline.mutable_decline()->mutable_filters()->set_refuse_seconds(1000);
  ASSERT_EQ(framework->Call(decline).status, 202);
  // Declining the same offer twice is refused (it is no longer outstanding).
  EXPECT_EQ(framework->Call(decline).status, 400);
  EXPECT_FALSE(framework->Next(Event::OFFERS, 300ms).has_value());
  Call revive;
  revive.set_type(Call::REVIVE);
  *revive.mutable_framework_id() = IdOf(framework.get());
  ASSERT_EQ(framework->Call(revive).status, 202);
  EXPECT_TRUE(framework->Next(Event::OFFERS).has_value());
  // Suppress stops offers; a role the framework does not have is refused.
  Call suppress;
  suppress.set_type(Call::SUPPRESS);
  *suppress.mutable_framework_id() = IdOf(framework.get());
  suppress.mutable_suppress()->add_roles("other");
  EXPECT_EQ(framework->Call(suppress).status, 400);
}

TEST_F(MasterTest, KillReconcileAndMessages) {
  StartMaster();
  auto framework = Framework("killer");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1")).status,
      202);
  ASSERT_TRUE(agent->Next(agent::Event::LAUNCH).has_value());
  ASSERT_EQ(agent->Post(StatusCall(agent_id, IdOf(framework.get()), "t", v1::TASK_RUNNING, kUuid1))
                .status,
            202);
  ASSERT_TRUE(framework->Next(Event::UPDATE).has_value());

  Call kill;
  kill.set_type(Call::KILL);
  *kill.mutable_framework_id() = IdOf(framework.get());
  kill.mutable_kill()->mutable_task_id()->set_value("t");
  ASSERT_EQ(framework->Call(kill).status, 202);
  auto killed = agent->Next(agent::Event::KILL);
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->kill().task_id().value(), "t");

  // Killing an unknown task answers with its reconciled state.
  kill.mutable_kill()->mutable_task_id()->set_value("ghost");
  ASSERT_EQ(framework->Call(kill).status, 202);
  auto lost = framework->Next(Event::UPDATE);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->update().status().task_id().value(), "ghost");
  EXPECT_EQ(lost->update().status().state(), v1::TASK_LOST);

  Call reconcile;
  reconcile.set_type(Call::RECONCILE);
  *reconcile.mutable_framework_id() = IdOf(framework.get());
  reconcile.mutable_reconcile();
  ASSERT_EQ(framework->Call(reconcile).status, 202);
  auto implicit = framework->Next(Event::UPDATE);
  ASSERT_TRUE(implicit.has_value());
  EXPECT_EQ(implicit->update().status().task_id().value(), "t");
  EXPECT_EQ(implicit->update().status().state(), v1::TASK_RUNNING);
  EXPECT_EQ(implicit->update().status().reason(), v1::TaskStatus::REASON_RECONCILIATION);
  EXPECT_FALSE(implicit->update().status().has_uuid());

  reconcile.mutable_reconcile()->add_tasks()->mutable_task_id()->set_value("unknown");
  ASSERT_EQ(framework->Call(reconcile).status, 202);
  auto explicit_unknown = framework->Next(Event::UPDATE);
  ASSERT_TRUE(explicit_unknown.has_value());
  EXPECT_EQ(explicit_unknown->update().status().task_id().value(), "unknown");
  EXPECT_EQ(explicit_unknown->update().status().state(), v1::TASK_LOST);

  Call message;
  message.set_type(Call::MESSAGE);
  *message.mutable_framework_id() = IdOf(framework.get());
  message.mutable_message()->mutable_agent_id()->set_value(agent_id);
  message.mutable_message()->mutable_executor_id()->set_value("t");
  message.mutable_message()->set_data("hello");
  ASSERT_EQ(framework->Call(message).status, 202);
  auto delivered = agent->Next(agent::Event::FRAMEWORK_MESSAGE);
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->framework_message().data(), "hello");

  agent::Call from_executor;
  from_executor.set_type(agent::Call::EXECUTOR_MESSAGE);
  from_executor.mutable_agent_id()->set_value(agent_id);
  *from_executor.mutable_executor_message()->mutable_framework_id() = IdOf(framework.get());
  from_executor.mutable_executor_message()->mutable_executor_id()->set_value("t");
  from_executor.mutable_executor_message()->set_data("pong");
  ASSERT_EQ(agent->Post(from_executor).status, 202);
  auto pong = framework->Next(Event::MESSAGE);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->message().data(), "pong");
}

TEST_F(MasterTest, AgentDisconnectRescindsOffers) {
  StartMaster();
  auto framework = Framework("watcher");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  agent->Disconnect();
  auto rescind = framework->Next(Event::RESCIND);
  ASSERT_TRUE(rescind.has_value());
  EXPECT_EQ(rescind->rescind().offer_id().value(), offers->offers().offers(0).id().value());
  // Accepting the rescinded offer is refused.
  auto late = framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1"));
  EXPECT_EQ(late.status, 400);
}

TEST_F(MasterTest, TeardownShutsDownTasksAndForbidsResubscription) {
  StartMaster();
  auto framework = Framework("short-lived");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1")).status,
      202);
  ASSERT_TRUE(agent->Next(agent::Event::LAUNCH).has_value());
  Call teardown;
  teardown.set_type(Call::TEARDOWN);
  *teardown.mutable_framework_id() = IdOf(framework.get());
  ASSERT_EQ(framework->Call(teardown).status, 202);
  auto shutdown = agent->Next(agent::Event::SHUTDOWN_FRAMEWORK);
  ASSERT_TRUE(shutdown.has_value());
  EXPECT_EQ(shutdown->shutdown_framework().framework_id().value(), IdOf(framework.get()).value());
  Call again = SubscribeCall("short-lived");
  *again.mutable_subscribe()->mutable_framework_info()->mutable_id() = IdOf(framework.get());
  TestFramework back(port_, again);
  EXPECT_EQ(back.Head().status, 403);
  auto frameworks = Operator(R"({"type":"GET_FRAMEWORKS"})");
  EXPECT_EQ(frameworks.get_frameworks().frameworks_size(), 0);
  EXPECT_EQ(frameworks.get_frameworks().completed_frameworks_size(), 1);
}

TEST_F(MasterTest, ProtobufFramework) {
  StartMaster();
  auto framework = Framework("binary", /*json=*/false);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  const common::HttpResponse head = framework->Head();
  EXPECT_EQ(head.Header("Content-Type").value_or(""), "application/x-protobuf");
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "p", "cpus:1")).status,
      202);
  auto launch = agent->Next(agent::Event::LAUNCH);
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->launch().task().task_id().value(), "p");
}

TEST_F(MasterTest, OffersSayWhereTheAgentServes) {
  // Third-party clients read `url.address.ip` of every offer (the npm mesos-framework package
  // fails on an offer without it). An agent named by an IP address is at that address; one
  // named otherwise is at the address its subscription came from.
  StartMaster();
  auto framework = Framework("where");
  std::string named_id;
  std::string numeric_id;
  auto named = Agent("host-a", "cpus:1;mem:128", &named_id);
  auto numeric = Agent("127.0.0.1", "cpus:1;mem:128", &numeric_id);
  std::map<std::string, v1::Offer> offers;
  while (offers.size() < 2) {
    auto event = framework->Next(Event::OFFERS);
    ASSERT_TRUE(event.has_value());
    for (const v1::Offer& offer : event->offers().offers())
      offers[offer.agent_id().value()] = offer;
  }
  for (const std::string& id : {named_id, numeric_id}) {
    ASSERT_TRUE(offers.contains(id));
    const v1::Offer& offer = offers[id];
    ASSERT_TRUE(offer.has_url()) << offer.ShortDebugString();
    EXPECT_EQ(offer.url().scheme(), "http");
    EXPECT_EQ(offer.url().address().hostname(), offer.hostname());
    EXPECT_EQ(offer.url().address().ip(), "127.0.0.1");
    EXPECT_EQ(offer.url().address().port(), 5051);
  }
  EXPECT_EQ(offers[named_id].hostname(), "host-a");
}

// With --allocation_shards the master's engine runs parallel cycles: every agent is still
// offered, once, and bad shard settings are refused before anything starts.
TEST_F(MasterTest, ParallelCyclesOfferEveryAgentOnce) {
  for (auto [shards, round] : {std::pair{0, 64}, std::pair{2, 0}}) {
    MasterOptions bad;
    bad.work_dir = work_dir_;
    bad.allocation_shards = shards;
    bad.allocation_round_agents = round;
    auto registrar = FileRegistrar::Create(work_dir_);
    ASSERT_TRUE(registrar.ok());
    auto refused = Master::Create(bad, *std::move(registrar));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr(shards < 1 ? "allocation_shards must be at least 1, got 0"
                                     : "allocation_round_agents must be at least 1, got 0"));
  }

  MasterOptions options;
  options.allocation_shards = 3;
  options.allocation_round_agents = 1;
  StartMaster(options);
  auto first = Framework("first");
  auto second = Framework("second");
  constexpr int kAgents = 6;
  std::vector<std::string> ids(kAgents);
  std::vector<std::unique_ptr<FakeAgent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(Agent(absl::StrCat("host-", i), "cpus:2;mem:256", &ids[i]));
  }
  // Each agent is offered whole to exactly one framework, and both frameworks get some.
  std::map<std::string, std::string> holder;  // agent id -> framework name
  std::map<std::string, int> per_framework;
  auto take = [&](TestFramework& framework, const std::string& name) {
    auto event = framework.Next(Event::OFFERS, std::chrono::milliseconds(200));
    if (!event.has_value()) return;
    for (const v1::Offer& offer : event->offers().offers()) {
      auto [it, fresh] = holder.emplace(offer.agent_id().value(), name);
      EXPECT_TRUE(fresh) << offer.agent_id().value() << " offered to " << it->second << " and "
                         << name;
      ++per_framework[name];
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (holder.size() < kAgents && std::chrono::steady_clock::now() < deadline) {
    take(*first, "first");
    take(*second, "second");
  }
  ASSERT_EQ(holder.size(), static_cast<size_t>(kAgents));
  for (const std::string& id : ids) EXPECT_TRUE(holder.contains(id)) << id;
  EXPECT_EQ(per_framework["first"] + per_framework["second"], kAgents);
  EXPECT_GT(per_framework["first"], 0);
  EXPECT_GT(per_framework["second"], 0);
}

TEST_F(MasterTest, FailoverTimeoutRemovesDisconnectedFramework) {
  StartMaster();
  auto framework = Framework("fragile", true, "*", /*failover_timeout=*/0.2);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1")).status,
      202);
  ASSERT_TRUE(agent->Next(agent::Event::LAUNCH).has_value());
  framework->Disconnect();
  auto shutdown = agent->Next(agent::Event::SHUTDOWN_FRAMEWORK, 5s);
  ASSERT_TRUE(shutdown.has_value());
  auto frameworks = Operator(R"({"type":"GET_FRAMEWORKS"})");
  EXPECT_EQ(frameworks.get_frameworks().frameworks_size(), 0);
}

TEST_F(MasterTest, ResubscribeWithinFailoverTimeoutKeepsTasks) {
  StartMaster();
  auto framework = Framework("steady", true, "*", 60);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1")).status,
      202);
  ASSERT_TRUE(agent->Next(agent::Event::LAUNCH).has_value());
  const v1::FrameworkID id = IdOf(framework.get());
  framework->Disconnect();
  Call again = SubscribeCall("steady");
  *again.mutable_subscribe()->mutable_framework_info()->mutable_id() = id;
  *again.mutable_framework_id() = id;
  TestFramework back(port_, again);
  auto subscribed = back.Next(Event::SUBSCRIBED);
  ASSERT_TRUE(subscribed.has_value());
  EXPECT_EQ(subscribed->subscribed().framework_id().value(), id.value());
  auto tasks = Operator(R"({"type":"GET_TASKS"})");
  ASSERT_EQ(tasks.get_tasks().tasks_size(), 1);
}

TEST_F(MasterTest, MasterRestartRecoversAgentsFrameworksAndTasks) {
  StartMaster();
  auto framework = Framework("survivor");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:4;mem:1024", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:3;mem:256"))
          .status,
      202);
  auto launch = agent->Next(agent::Event::LAUNCH);
  ASSERT_TRUE(launch.has_value());
  const v1::FrameworkID framework_id = IdOf(framework.get());
  const v1::FrameworkInfo framework_info = launch->launch().framework_info();
  ASSERT_EQ(Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
              {"role":"eng","guarantees":{"cpus":{"value":1}}}]}})",
                     200)
                .has_type(),
            false);

  // Restart the master on the same work_dir.
  framework.reset();
  agent.reset();
  master_.reset();
  StartMaster();
  auto quota = Operator(R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(quota.get_quota().status().configs_size(), 1);
  EXPECT_EQ(quota.get_quota().status().configs(0).role(), "eng");
  auto recovered = Operator(R"({"type":"GET_AGENTS"})");
  ASSERT_EQ(recovered.get_agents().recovered_agents_size(), 1);

  // The agent reregisters with its id and reports the running task.
  agent::Call resubscribe = AgentSubscribe("host-a", "cpus:4;mem:1024", agent_id);
  *resubscribe.mutable_subscribe()->add_frameworks() = framework_info;
  v1::Task* task = resubscribe.mutable_subscribe()->add_tasks();
  task->set_name("t");
  task->mutable_task_id()->set_value("t");
  *task->mutable_framework_id() = framework_id;
  task->mutable_agent_id()->set_value(agent_id);
  task->set_state(v1::TASK_RUNNING);
  *task->mutable_resources() = *common::ParseResourceText("cpus:3;mem:256");
  FakeAgent back(port_, resubscribe);
  auto subscribed = back.Next(agent::Event::SUBSCRIBED);
  ASSERT_TRUE(subscribed.has_value());
  EXPECT_EQ(subscribed->subscribed().agent_id().value(), agent_id);

  // The framework resubscribes; its task is known and its resources are not offered.
  Call again = SubscribeCall("survivor");
  *again.mutable_subscribe()->mutable_framework_info()->mutable_id() = framework_id;
  TestFramework returned(port_, again);
  ASSERT_TRUE(returned.Next(Event::SUBSCRIBED).has_value());
  auto tasks = Operator(R"({"type":"GET_TASKS"})");
  ASSERT_EQ(tasks.get_tasks().tasks_size(), 1);
  EXPECT_EQ(tasks.get_tasks().tasks(0).state(), v1::TASK_RUNNING);
  // The task keeps cpus:3;mem:256. Of the rest, the last cpu is held as headroom for the
  // recovered quota guarantee of 'eng', so the offer holds only memory.
  auto offer = returned.Next(Event::OFFERS);
  ASSERT_TRUE(offer.has_value());
  EXPECT_DOUBLE_EQ(Scalar(offer->offers().offers(0).resources(), "cpus"), 0);
  EXPECT_DOUBLE_EQ(Scalar(offer->offers().offers(0).resources(), "mem"), 768);
}

TEST_F(MasterTest, OperatorQuotaReservationsAndEndpoints) {
  StartMaster();
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:4;mem:1024", &agent_id);
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":3}}}]}})");
  // A guarantee beyond the cluster is refused without force, and nothing changes.
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"ops","guarantees":{"cpus":{"value":100}}}]}})",
           409);
  auto quota = Operator(R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(quota.get_quota().status().configs_size(), 1);
  // A guarantee above its own limit is invalid.
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":3}},"limits":{"cpus":{"value":2}}}]}})",
           400);

  Operator(R"({"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":")" + agent_id +
               R"("},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
               "reservations":[{"type":"DYNAMIC","role":"ops"}]}]}})",
           202);
  auto reserve = agent->Next(agent::Event::RESERVE);
  ASSERT_TRUE(reserve.has_value());
  EXPECT_EQ(reserve->reserve().resources(0).reservations(0).role(), "ops");
  // More than is free: 409.
  Operator(R"({"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":")" + agent_id +
               R"("},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":10},
               "reservations":[{"type":"DYNAMIC","role":"ops"}]}]}})",
           409);

  // An ops framework gets the reservation.
  auto ops = Framework("ops-fw", true, "ops");
  auto offers = ops->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  bool dynamic = false;
  for (const auto& r : offers->offers().offers(0).resources()) {
    if (r.reservations_size() > 0 &&
        r.reservations(0).type() == v1::Resource::ReservationInfo::DYNAMIC) {
      dynamic = true;
    }
  }
  EXPECT_TRUE(dynamic);

  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"eng","weight":2.5}]}})");
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"eng","weight":-1}]}})",
           400);
  auto weights = Operator(R"({"type":"GET_WEIGHTS"})");
  ASSERT_EQ(weights.get_weights().weight_infos_size(), 1);
  EXPECT_EQ(weights.get_weights().weight_infos(0).role(), "eng");
  EXPECT_EQ(weights.get_weights().weight_infos(0).weight(), 2.5);

  auto roles = Operator(R"({"type":"GET_ROLES"})");
  std::set<std::string> names;
  for (const auto& role : roles.get_roles().roles()) names.insert(role.name());
  EXPECT_TRUE(names.contains("eng"));
  EXPECT_TRUE(names.contains("ops"));

  // Protobuf answers for protobuf requests.
  common::HttpClient client("127.0.0.1", port_);
  v1::master::Call get_state;
  get_state.set_type(v1::master::Call::GET_STATE);
  common::HttpRequest request;
  request.method = "POST";
  request.target = "/api/v1";
  request.headers = {{"Content-Type", "application/x-protobuf"},
                     {"Accept", "application/x-protobuf"}};
  request.body = get_state.SerializeAsString();
  auto state = client.Send(request);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->status, 200);
  v1::master::Response parsed;
  ASSERT_TRUE(parsed.ParseFromString(state->body));
  EXPECT_EQ(parsed.get_state().get_agents().agents_size(), 1);
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "text/html"}};
  request.body = R"({"type":"GET_HEALTH"})";
  auto not_acceptable = client.Send(request);
  ASSERT_TRUE(not_acceptable.ok());
  EXPECT_EQ(not_acceptable->status, 406);

  auto v0 = client.Get("/master/state");
  ASSERT_TRUE(v0.ok());
  EXPECT_THAT(v0->body, HasSubstr("\"slaves\":[{\"id\":\"" + agent_id + "\""));
  EXPECT_THAT(v0->body, HasSubstr("\"reserved_resources\":{\"ops\":{\"cpus\":1"));
  auto summary = client.Get("/master/state-summary");
  ASSERT_TRUE(summary.ok());
  EXPECT_THAT(summary->body, HasSubstr("\"TASK_RUNNING\":0"));
  auto prometheus = client.Get("/metrics");
  ASSERT_TRUE(prometheus.ok());
  EXPECT_THAT(prometheus->body, HasSubstr("# TYPE master_slaves_connected gauge\n"));
  EXPECT_THAT(prometheus->body, HasSubstr("allocator_mesos_allocation_run_ms_count "));
  auto page = client.Get("/");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->body, HasSubstr(agent_id));
  EXPECT_THAT(page->body, HasSubstr("ops-fw"));
  auto health = client.Get("/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto redirect = client.Get("/master/redirect");
  ASSERT_TRUE(redirect.ok());
  EXPECT_EQ(redirect->status, 307);
}

TEST_F(MasterTest, SilentAgentBecomesUnreachableAndItsTasksAreLost) {
  MasterOptions options;
  options.agent_ping_timeout = std::chrono::milliseconds(100);
  options.max_agent_ping_timeouts = 3;
  StartMaster(options);
  auto framework = Framework("bystander");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());
  ASSERT_EQ(
      framework->Call(Launch(framework.get(), offers->offers().offers(0), "t", "cpus:1")).status,
      202);
  // The fake agent never heartbeats: after 300 ms the task is reported lost.
  auto lost = framework->Next(Event::UPDATE, 5s);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->update().status().state(), v1::TASK_LOST);
  EXPECT_EQ(lost->update().status().reason(), v1::TaskStatus::REASON_AGENT_REMOVED);
  common::HttpClient client("127.0.0.1", port_);
  auto metrics = client.Get("/metrics/snapshot");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("\"master/slaves_unreachable\":1"));
}

// A SUBSCRIBE whose registry write fails is answered 503 and admits nothing; the agent's retry
// after the registry recovers is admitted, and the admission survives a master restart.
TEST_F(MasterTest, AgentIsAdmittedOnlyAfterItsRegistryWrite) {
  StartMaster();
  registrar_control_->fail = true;
  {
    FakeAgent refused(port_, AgentSubscribe("host-a", "cpus:2;mem:512"));
    EXPECT_EQ(refused.stream().Head().status, 503);
    EXPECT_FALSE(refused.Next(agent::Event::SUBSCRIBED, 200ms).has_value());
  }
  EXPECT_GE(registrar_control_->failed.load(), 1);
  auto agents = Operator(R"({"type":"GET_AGENTS"})");
  EXPECT_EQ(agents.get_agents().agents_size(), 0);
  EXPECT_EQ(agents.get_agents().recovered_agents_size(), 0);
  EXPECT_EQ(Metric("master/slave_registrations"), 0);

  registrar_control_->fail = false;
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  ASSERT_FALSE(agent_id.empty());
  EXPECT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().agents_size(), 1);
  agent.reset();
  master_.reset();
  StartMaster();
  auto recovered = Operator(R"({"type":"GET_AGENTS"})");
  ASSERT_EQ(recovered.get_agents().recovered_agents_size(), 1);
  EXPECT_EQ(recovered.get_agents().recovered_agents(0).id().value(), agent_id);
}

// An unreachable agent whose reregistration fails (registry write, then the allocator's
// refusal) stays recorded as unreachable; a later successful reregistration clears it.
TEST_F(MasterTest, FailedReregistrationKeepsTheUnreachableRecord) {
  MasterOptions options;
  options.agent_ping_timeout = std::chrono::milliseconds(100);
  options.max_agent_ping_timeouts = 2;
  StartMaster(options);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  // The fake agent never heartbeats: after 200 ms it is unreachable.
  for (int i = 0; i < 100 && Metric("master/slaves_unreachable") != 1; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(Metric("master/slaves_unreachable"), 1);
  agent.reset();

  registrar_control_->fail = true;
  {
    FakeAgent refused(port_, AgentSubscribe("host-a", "cpus:2;mem:512", agent_id));
    EXPECT_EQ(refused.stream().Head().status, 503);
  }
  EXPECT_EQ(Metric("master/slaves_unreachable"), 1);
  registrar_control_->fail = false;
  {
    FakeAgent refused(port_, SubscribeRefusedByAllocator("host-a", "cpus:2;mem:512", agent_id));
    EXPECT_EQ(refused.stream().Head().status, 400);
  }
  EXPECT_EQ(Metric("master/slaves_unreachable"), 1);
  EXPECT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().agents_size(), 0);

  FakeAgent back(port_, AgentSubscribe("host-a", "cpus:2;mem:512", agent_id));
  ASSERT_TRUE(back.Next(agent::Event::SUBSCRIBED).has_value());
  EXPECT_EQ(Metric("master/slaves_unreachable"), 0);
}

// A recovered agent (known from the registry after a master restart) whose reregistration the
// allocator refuses is still known afterwards, and still in the registry.
TEST_F(MasterTest, RefusedReregistrationKeepsTheRecoveredAgent) {
  StartMaster();
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  agent.reset();
  master_.reset();
  StartMaster();
  ASSERT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().recovered_agents_size(), 1);
  {
    FakeAgent refused(port_, SubscribeRefusedByAllocator("host-a", "cpus:2;mem:512", agent_id));
    EXPECT_EQ(refused.stream().Head().status, 400);
  }
  EXPECT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().recovered_agents_size(), 1);
  // A write after the refusal (the weights call) must still list the agent.
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
             {"role":"eng","weight":2}]}})");
  master_.reset();
  StartMaster();
  EXPECT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().recovered_agents_size(), 1);
}

// Operator calls and framework subscriptions whose registry write fails answer 503 and leave
// nothing changed.
TEST_F(MasterTest, FailedRegistryWritesAreNotAnsweredAsSuccess) {
  StartMaster();
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:4;mem:1024", &agent_id);
  auto framework = Framework("kept");
  const std::string framework_id = IdOf(framework.get()).value();
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
             {"role":"eng","weight":3}]}})");
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
             {"role":"ops","guarantees":{"cpus":{"value":1},"mem":{"value":64}}}]}})");
  registrar_control_->fail = true;

  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
             {"role":"eng","weight":2},{"role":"ops","weight":5}]}})",
           503);
  auto weights = Operator(R"({"type":"GET_WEIGHTS"})");
  ASSERT_EQ(weights.get_weights().weight_infos_size(), 1);
  EXPECT_EQ(weights.get_weights().weight_infos(0).role(), "eng");
  EXPECT_EQ(weights.get_weights().weight_infos(0).weight(), 3);

  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
             {"role":"eng","guarantees":{"cpus":{"value":1}}}]}})",
           503);
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
             {"role":"ops","guarantees":{"cpus":{"value":2},"mem":{"value":128}}}]}})",
           503);
  {
    auto quota = Operator(R"({"type":"GET_QUOTA"})");
    ASSERT_EQ(quota.get_quota().status().configs_size(), 1);
    const auto& ops = quota.get_quota().status().configs(0);
    EXPECT_EQ(ops.role(), "ops");
    EXPECT_EQ(ops.guarantees().at("cpus").value(), 1);
    EXPECT_EQ(ops.guarantees().at("mem").value(), 64);
  }

  Operator(absl::StrCat(R"({"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":")",
                        agent_id, R"("},"resources":[{"name":"cpus","type":"SCALAR",
             "scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}})"),
           503);
  {
    common::HttpClient client("127.0.0.1", port_);
    auto state = client.Get("/master/state");
    ASSERT_TRUE(state.ok());
    EXPECT_THAT(state->body, HasSubstr("\"reserved_resources\":{}"));
    EXPECT_THAT(state->body, Not(HasSubstr("\"eng\":{\"cpus\"")));
  }

  {
    TestFramework refused(port_, SubscribeCall("refused"), /*json=*/true);
    EXPECT_EQ(refused.Head().status, 503);
  }
  auto frameworks = Operator(R"({"type":"GET_FRAMEWORKS"})");
  ASSERT_EQ(frameworks.get_frameworks().frameworks_size(), 1);
  EXPECT_EQ(frameworks.get_frameworks().frameworks(0).framework_info().id().value(), framework_id);

  // A teardown takes effect (its tasks are gone for good) but is not reported as durable.
  Operator(absl::StrCat(R"({"type":"TEARDOWN","teardown":{"framework_id":{"value":")", framework_id,
                        R"("}}})"),
           503);
}

// A role's share gauge goes away with the last framework, quota or weight that names it.
TEST_F(MasterTest, ShareGaugesOfGoneRolesAreRemoved) {
  StartMaster();
  auto framework = Framework("eng-fw", true, "eng");
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
             {"role":"ops","weight":2}]}})");
  const std::string eng = "allocator/mesos/roles/eng/shares/dominant";
  const std::string ops = "allocator/mesos/roles/ops/shares/dominant";
  EXPECT_EQ(Metric(eng), 0);
  EXPECT_EQ(Metric(ops), 0);
  Operator(absl::StrCat(R"({"type":"TEARDOWN","teardown":{"framework_id":{"value":")",
                        IdOf(framework.get()).value(), R"("}}})"));
  EXPECT_EQ(Metric(eng), -1);  // absent
  EXPECT_EQ(Metric(ops), 0);
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
             {"role":"ops","weight":1}]}})");  // the default weight: no weight recorded
  EXPECT_EQ(Metric(ops), -1);
  common::HttpClient client("127.0.0.1", port_);
  auto prometheus = client.Get("/metrics");
  ASSERT_TRUE(prometheus.ok());
  EXPECT_THAT(prometheus->body, Not(HasSubstr("roles_eng")));
  EXPECT_THAT(prometheus->body, Not(HasSubstr("roles_ops")));
  EXPECT_THAT(prometheus->body, HasSubstr("master_uptime_secs"));
}

// Agents that subscribe together share registry writes (group commit): every one of them is
// in the registry a restarted master recovers, with fewer writes than subscriptions.
TEST_F(MasterTest, ConcurrentAgentSubscriptionsShareRegistryWrites) {
  StartMaster();
  constexpr int kAgents = 40;
  registrar_control_->delay_ms = 50;
  const int stores_before = registrar_control_->stores;
  std::vector<std::unique_ptr<FakeAgent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(std::make_unique<FakeAgent>(
        port_, AgentSubscribe(absl::StrCat("host-", i), "cpus:1;mem:256")));
  }
  std::set<std::string> ids;
  for (auto& agent : agents) {
    auto subscribed = agent->Next(agent::Event::SUBSCRIBED, 30s);
    ASSERT_TRUE(subscribed.has_value());
    ids.insert(subscribed->subscribed().agent_id().value());
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kAgents));
  const int writes = registrar_control_->stores - stores_before;
  EXPECT_GE(writes, 1);
  EXPECT_LT(writes, kAgents / 2) << "subscriptions did not share registry writes";
  EXPECT_EQ(Metric("registrar/writes"), registrar_control_->stores.load());
  EXPECT_GE(Metric("registrar/requests"), kAgents);
  EXPECT_EQ(Metric("registrar/write_failures"), 0);
  EXPECT_GE(Metric("registrar/state_store_ms/count"), writes);

  agents.clear();
  master_.reset();
  registrar_control_->delay_ms = 0;
  StartMaster();
  auto recovered = Operator(R"({"type":"GET_AGENTS"})");
  std::set<std::string> recovered_ids;
  for (const auto& info : recovered.get_agents().recovered_agents()) {
    recovered_ids.insert(info.id().value());
  }
  EXPECT_EQ(recovered_ids, ids);
}

// The registry write runs without the master's lock: while one is in flight the master
// answers other calls, and the agent it admits is not SUBSCRIBED (nor listed) before it ends.
TEST_F(MasterTest, RegistryWriteDoesNotHoldTheMaster) {
  StartMaster();
  const int begun = registrar_control_->in_store;
  registrar_control_->hold = true;
  FakeAgent agent(port_, AgentSubscribe("host-a", "cpus:1;mem:256"));
  for (int i = 0; i < 500 && registrar_control_->in_store == begun; ++i) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_GT(registrar_control_->in_store.load(), begun);
  const auto start = std::chrono::steady_clock::now();
  auto agents = Operator(R"({"type":"GET_AGENTS"})");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1500ms) << "GET_AGENTS waited for the registry write";
  EXPECT_EQ(agents.get_agents().agents_size(), 0);
  EXPECT_FALSE(agent.Next(agent::Event::SUBSCRIBED, 100ms).has_value());
  registrar_control_->hold = false;
  ASSERT_TRUE(agent.Next(agent::Event::SUBSCRIBED).has_value());
  EXPECT_EQ(Operator(R"({"type":"GET_AGENTS"})").get_agents().agents_size(), 1);
}

// ---------------------------------------------------------------------------------------
// The allocation loop: cycles run without the master's lock; handlers read snapshots.

// Parks the allocation loop thread inside a cycle (MasterOptions::cycle_hook) on request, so a
// test can act while a cycle is in progress, deterministically.
class CycleGate {
 public:
  // The next time the loop reaches `stage` (and, for kAfterCycle, the cycle made at least one
  // offer), it parks until Release().
  void ArmAt(MasterOptions::CycleStage stage) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
    stage_ = stage;
  }
  bool WaitParked(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return parked_; });
  }
  bool parked() {
    std::lock_guard<std::mutex> lock(mu_);
    return parked_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  void Hook(MasterOptions::CycleStage stage, size_t offers) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!armed_ || stage != stage_) return;
    if (stage == MasterOptions::CycleStage::kAfterCycle && offers == 0) return;
    armed_ = false;
    parked_ = true;
    released_ = false;
    cv_.notify_all();
    // Bounded, so that a failing test cannot hang the loop (and the master's Stop) forever.
    cv_.wait_for(lock, 20s, [this] { return released_; });
    parked_ = false;
  }
  // The hook shares ownership of the gate: the master's loop may call it until the master
  // is destroyed, which the fixture does after the test body's locals are gone.
  static std::function<void(MasterOptions::CycleStage, size_t)> HookOf(
      std::shared_ptr<CycleGate> gate) {
    return [gate](MasterOptions::CycleStage stage, size_t offers) { gate->Hook(stage, offers); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  MasterOptions::CycleStage stage_ = MasterOptions::CycleStage::kBeforeCycle;
  bool parked_ = false;
  bool released_ = false;
};

// /master/state, parsed (null if it could not be read).
cli::JsonValue StateOf(uint16_t port) {
  common::HttpClient client("127.0.0.1", port);
  auto response = client.Get("/master/state");
  EXPECT_TRUE(response.ok());
  if (!response.ok()) return cli::JsonValue();
  EXPECT_EQ(response->status, 200);
  absl::StatusOr<cli::JsonValue> state = cli::JsonValue::Parse(response->body);
  EXPECT_TRUE(state.ok()) << state.status() << ": " << response->body;
  return state.ok() ? *std::move(state) : cli::JsonValue();
}

// The member `key` (a null value if absent).
const cli::JsonValue& Obj(const cli::JsonValue& v, const std::string& key) {
  static const cli::JsonValue* const kNull = new cli::JsonValue();
  const cli::JsonValue* member = v.Find(key);
  return member == nullptr ? *kNull : *member;
}

const std::vector<cli::JsonValue>& List(const cli::JsonValue& v, const std::string& key) {
  return v.ArrayOr(key);
}

double Number(const cli::JsonValue& v, const std::string& key) {
  const cli::JsonValue* member = v.Find(key);
  return member != nullptr && member->is_number() ? member->number() : 0;
}

bool Bool(const cli::JsonValue& v, const std::string& key) {
  const cli::JsonValue* member = v.Find(key);
  return member != nullptr && member->kind() == cli::JsonValue::Kind::kBool && member->boolean();
}

// The agents and frameworks the master and its allocator snapshot show, and whether they
// agree. `why` says how they differ.
bool MasterAndAllocatorAgree(const cli::JsonValue& state, std::string* why) {
  const cli::JsonValue& alloc = Obj(state, "allocator");
  if (Number(alloc, "events_seen") != Number(alloc, "events_submitted")) {
    *why = "the snapshot lags the master's events";
    return false;
  }
  // Agents: same ids, active = connected; what frameworks hold = total - free.
  std::map<std::string, bool> master_agents, alloc_agents;
  for (const auto& a : List(state, "slaves")) {
    master_agents[a.StringOr("id")] = Bool(a, "active");
  }
  double held_on_agents = 0;
  for (const auto& agent : List(alloc, "agents")) {
    alloc_agents[agent.StringOr("id")] = Bool(agent, "active");
    held_on_agents += Number(Obj(agent, "total"), "cpus") - Number(Obj(agent, "free"), "cpus");
  }
  if (master_agents != alloc_agents) {
    *why = "agents differ";
    return false;
  }
  // Frameworks: same ids and activity; allocated = used + offered in the master.
  std::map<std::string, std::pair<bool, double>> master_fws, alloc_fws;
  for (const auto& fw : List(state, "frameworks")) {
    master_fws[fw.StringOr("id")] = {
        Bool(fw, "active"),
        Number(Obj(fw, "used_resources"), "cpus") + Number(Obj(fw, "offered_resources"), "cpus")};
  }
  double held_by_frameworks = 0;
  for (const auto& fw : List(alloc, "frameworks")) {
    auto& entry = alloc_fws[fw.StringOr("id")];
    entry.first = Bool(fw, "active");
    entry.second += Number(Obj(fw, "allocated"), "cpus");
    held_by_frameworks += Number(Obj(fw, "allocated"), "cpus");
  }
  if (master_fws != alloc_fws) {
    *why = "frameworks (activity or allocation) differ";
    return false;
  }
  if (std::abs(held_on_agents - held_by_frameworks) > 1e-9) {
    *why = "what agents miss is not what frameworks hold";
    return false;
  }
  return true;
}

// Polls until the master and its allocator snapshot agree (offers of a cycle reach the master
// shortly after its snapshot), at most 10 s. Returns the last difference, or "".
std::string AwaitAgreement(uint16_t port) {
  std::string why;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (MasterAndAllocatorAgree(StateOf(port), &why)) return "";
    std::this_thread::sleep_for(5ms);
  }
  return why;
}

// While the loop is parked inside a cycle (the allocator is busy and the loop holds no lock),
// state and metrics endpoints, operator reads and scheduler calls that need no allocator
// answer are served; their events are applied once the cycle ends.
TEST_F(MasterTest, HandlersAreServedWhileACycleRuns) {
  auto gate = std::make_shared<CycleGate>();
  MasterOptions options;
  options.cycle_hook = CycleGate::HookOf(gate);
  StartMaster(options);
  auto framework = Framework("busy");
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);
  auto offers = framework->Next(Event::OFFERS);
  ASSERT_TRUE(offers.has_value());

  gate->ArmAt(MasterOptions::CycleStage::kBeforeCycle);
  ASSERT_TRUE(gate->WaitParked());
  const double cycle = Number(Obj(StateOf(port_), "allocator"), "cycle");
  common::HttpClient client("127.0.0.1", port_);
  for (const char* path :
       {"/master/state", "/master/state-summary", "/metrics/snapshot", "/metrics", "/"}) {
    auto response = client.Get(path);
    ASSERT_TRUE(response.ok()) << path;
    EXPECT_EQ(response->status, 200) << path;
  }
  EXPECT_EQ(Operator(R"({"type":"GET_ROLES"})").get_roles().roles_size(), 1);
  EXPECT_EQ(Operator(R"({"type":"GET_FRAMEWORKS"})").get_frameworks().frameworks_size(), 1);
  Operator(R"({"type":"GET_QUOTA"})");
  // A decline (with a long filter) and a suppress are accepted while the cycle runs.
  Call decline;
  decline.set_type(Call::DECLINE);
  *decline.mutable_framework_id() = IdOf(framework.get());
  *decline.mutable_decline()->add_offer_ids() = offers->offers().offers(0).id();
  decline.mutable_decline()->mutable_filters()->set_refuse_seconds(1000);
  EXPECT_EQ(framework->Call(decline).status, 202);
  Call suppress;
  suppress.set_type(Call::SUPPRESS);
  *suppress.mutable_framework_id() = IdOf(framework.get());
  EXPECT_EQ(framework->Call(suppress).status, 202);
  // All of that happened inside the one parked cycle.
  EXPECT_TRUE(gate->parked());
  EXPECT_EQ(Number(Obj(StateOf(port_), "allocator"), "cycle"), cycle);
  gate->Release();

  // Once the cycle ends the loop applies the events: the allocator shows the framework
  // suppressed, nothing allocated, and the two views agree.
  EXPECT_EQ(AwaitAgreement(port_), "");
  const auto alloc = Obj(StateOf(port_), "allocator");
  ASSERT_EQ(List(alloc, "frameworks").size(), 1);
  const auto& fw = List(alloc, "frameworks")[0];
  EXPECT_TRUE(Bool(fw, "suppressed"));
  EXPECT_EQ(Number(Obj(fw, "allocated"), "cpus"), 0);
  EXPECT_GT(Number(alloc, "cycle"), cycle);
  EXPECT_FALSE(framework->Next(Event::OFFERS, 200ms).has_value());
  EXPECT_GT(Metric("allocator/steward/cycle"), cycle);
  EXPECT_GE(Metric("allocator/steward/events_applied"), 6);
  EXPECT_GE(Metric("allocator/steward/last_cycle_ms"), 0);
  EXPECT_EQ(Metric("allocator/steward/event_queue_depth"), 0);
}

// Offers computed by a cycle whose framework suppressed its role, or left, before the master
// turned them into Mesos offers go back to the allocator (NotFound for a gone framework is
// counted, not an error); nothing stays allocated.
TEST_F(MasterTest, StaleOffersAreRecovered) {
  auto gate = std::make_shared<CycleGate>();
  MasterOptions options;
  options.cycle_hook = CycleGate::HookOf(gate);
  StartMaster(options);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:2;mem:512", &agent_id);

  // 1. The framework suppresses while its offer is computed: recovered.
  gate->ArmAt(MasterOptions::CycleStage::kAfterCycle);
  auto first = Framework("suppressor");
  ASSERT_TRUE(gate->WaitParked());
  Call suppress;
  suppress.set_type(Call::SUPPRESS);
  *suppress.mutable_framework_id() = IdOf(first.get());
  ASSERT_EQ(first->Call(suppress).status, 202);
  gate->Release();
  EXPECT_FALSE(first->Next(Event::OFFERS, 300ms).has_value());
  EXPECT_EQ(Metric("allocator/steward/stale_offers_recovered"), 1);
  EXPECT_EQ(Metric("allocator/steward/stale_offers_gone"), 0);
  EXPECT_EQ(AwaitAgreement(port_), "");
  EXPECT_EQ(Metric("master/outstanding_offers"), 0);

  // 2. The framework tears itself down meanwhile: the allocator forgot it, NotFound.
  gate->ArmAt(MasterOptions::CycleStage::kAfterCycle);
  auto second = Framework("leaver");
  ASSERT_TRUE(gate->WaitParked());
  Call teardown;
  teardown.set_type(Call::TEARDOWN);
  *teardown.mutable_framework_id() = IdOf(second.get());
  ASSERT_EQ(second->Call(teardown).status, 202);
  gate->Release();
  for (int i = 0; i < 500 && Metric("allocator/steward/stale_offers_gone") < 1; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(Metric("allocator/steward/stale_offers_gone"), 1);
  EXPECT_EQ(Metric("allocator/steward/stale_offers_recovered"), 1);
  EXPECT_EQ(AwaitAgreement(port_), "");
  const auto alloc = Obj(StateOf(port_), "allocator");
  ASSERT_EQ(List(alloc, "agents").size(), 1);
  const auto& a = List(alloc, "agents")[0];
  EXPECT_EQ(Number(Obj(a, "free"), "cpus"), 2);
  EXPECT_EQ(Metric("master/outstanding_offers"), 0);
}

// Many threads subscribe frameworks (each waits for the allocator's id while holding the
// master's lock), register agents and decline offers while cycles run every millisecond:
// nothing deadlocks, and at the end the master's view and the allocator snapshot agree.
TEST_F(MasterTest, ConcurrentSubscriptionsAndDeclinesDuringCycles) {
  MasterOptions options;
  options.allocation_interval = std::chrono::milliseconds(1);
  StartMaster(options);
  constexpr int kFrameworkThreads = 4;
  constexpr int kFrameworksPerThread = 3;
  constexpr int kAgentThreads = 2;
  constexpr int kAgentsPerThread = 5;
  std::atomic<int> failures{0};
  std::atomic<int> declines{0};
  std::mutex keep_mu;
  std::vector<std::unique_ptr<TestFramework>> keep_frameworks;
  std::vector<std::unique_ptr<FakeAgent>> keep_agents;
  std::vector<std::thread> threads;
  for (int t = 0; t < kAgentThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAgentsPerThread; ++i) {
        auto agent = std::make_unique<FakeAgent>(
            port_, AgentSubscribe(absl::StrCat("host-", t, "-", i), "cpus:1;mem:256"));
        if (!agent->Next(agent::Event::SUBSCRIBED, 30s).has_value()) ++failures;
        std::lock_guard<std::mutex> lock(keep_mu);
        keep_agents.push_back(std::move(agent));
      }
    });
  }
  for (int t = 0; t < kFrameworkThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFrameworksPerThread; ++i) {
        auto framework = std::make_unique<TestFramework>(
            port_, SubscribeCall(absl::StrCat("fw-", t, "-", i), absl::StrCat("role", t % 2)),
            true);
        auto subscribed = framework->Next(Event::SUBSCRIBED, 30s);
        if (!subscribed.has_value()) {
          ++failures;
          continue;
        }
        const v1::FrameworkID id = subscribed->subscribed().framework_id();
        auto decline_all = [&](const Event& offers) {
          Call decline;
          decline.set_type(Call::DECLINE);
          *decline.mutable_framework_id() = id;
          for (const auto& offer : offers.offers().offers()) {
            *decline.mutable_decline()->add_offer_ids() = offer.id();
          }
          decline.mutable_decline()->mutable_filters()->set_refuse_seconds(0);
          if (framework->Call(decline).status == 202) {
            ++declines;
          } else {
            ++failures;
          }
        };
        // Decline a few offers (refuse 0: they come back to someone), and one bad decline.
        for (int round = 0; round < 3; ++round) {
          // Others may hold the cluster's resources for a while: not every framework gets
          // three offers in time.
          auto offers = framework->Next(Event::OFFERS, 2s);
          if (!offers.has_value()) break;
          decline_all(*offers);
        }
        Call bad;
        bad.set_type(Call::DECLINE);
        *bad.mutable_framework_id() = id;
        bad.mutable_decline()->add_offer_ids()->set_value("no-such-offer");
        auto refused = framework->Call(bad);
        if (refused.status != 400 || refused.body.find("not outstanding") == std::string::npos) {
          ++failures;
        }
        // Done: no more offers for it (offers a cycle computed meanwhile are stale and go
        // back); those already sent are declined, so the others get the resources.
        Call suppress;
        suppress.set_type(Call::SUPPRESS);
        *suppress.mutable_framework_id() = id;
        if (framework->Call(suppress).status != 202) ++failures;
        while (auto late = framework->Next(Event::OFFERS, 200ms)) decline_all(*late);
        std::lock_guard<std::mutex> lock(keep_mu);
        keep_frameworks.push_back(std::move(framework));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GE(declines, kFrameworkThreads * kFrameworksPerThread);
  ASSERT_EQ(keep_frameworks.size(), static_cast<size_t>(kFrameworkThreads * kFrameworksPerThread));
  ASSERT_EQ(keep_agents.size(), static_cast<size_t>(kAgentThreads * kAgentsPerThread));
  EXPECT_EQ(AwaitAgreement(port_), "");
  const auto state = StateOf(port_);
  EXPECT_EQ(List(state, "frameworks").size(), kFrameworkThreads * kFrameworksPerThread);
  EXPECT_EQ(List(state, "slaves").size(), kAgentThreads * kAgentsPerThread);
  EXPECT_GT(Number(Obj(state, "allocator"), "cycle"), 10);
  // Every bad decline was refused by the master itself (no event); the allocator rejected
  // nothing.
  EXPECT_EQ(Number(Obj(state, "allocator"), "events_rejected"), 0);
}

// Operator changes answer with the allocator's real outcome and are visible to the same
// client at once (read-your-writes through the snapshot); refused ones change nothing.
TEST_F(MasterTest, OperatorChangesAreReadBackAndBadOnesLoseNothing) {
  MasterOptions options;
  options.allocation_interval = std::chrono::milliseconds(5);
  StartMaster(options);
  std::string agent_id;
  auto agent = Agent("host-a", "cpus:4;mem:1024", &agent_id);
  auto framework = Framework("reader", true, "eng");
  auto role_view = [this](const std::string& name) {
    const auto alloc = Obj(StateOf(port_), "allocator");
    for (const auto& r : List(alloc, "roles")) {
      if (r.StringOr("name") == name) return r;
    }
    return cli::JsonValue();
  };
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":3}}}]}})");
  // No polling: the answer came after a snapshot with the change was published.
  EXPECT_EQ(Number(Obj(role_view("eng"), "guarantee"), "cpus"), 2);
  EXPECT_EQ(Number(Obj(role_view("eng"), "limit"), "cpus"), 3);
  // Two roles, the second refused by the allocator (guarantee above limit): all or nothing.
  Operator(R"({"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
      {"role":"eng","guarantees":{"cpus":{"value":1}}},
      {"role":"ops","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":1}}}]}})",
           400);
  EXPECT_EQ(Number(Obj(role_view("eng"), "guarantee"), "cpus"), 2);
  EXPECT_EQ(Number(Obj(role_view("ops"), "guarantee"), "cpus"), 0);
  auto quota = Operator(R"({"type":"GET_QUOTA"})");
  ASSERT_EQ(quota.get_quota().status().configs_size(), 1);
  EXPECT_EQ(quota.get_quota().status().configs(0).role(), "eng");
  // A weight: refused when invalid, applied (new role node) when valid.
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"web","weight":-1}]}})",
           400);
  EXPECT_TRUE(role_view("web").members().empty());
  Operator(R"({"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
      {"role":"web","weight":2}]}})");
  EXPECT_FALSE(role_view("web").members().empty());
  // A reservation beyond what is free is refused with the allocator's reason; a fitting one
  // is applied and at once visible as the role's consumption.
  {
    common::HttpClient client("127.0.0.1", port_);
    auto refused = client.Post(
        "/api/v1", R"({"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":")" +
                       agent_id + R"("},"resources":[{"name":"cpus","type":"SCALAR",
                       "scalar":{"value":10},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}})");
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 409);
    EXPECT_THAT(refused->body, HasSubstr("Cannot reserve"));
  }
  Operator(R"({"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":")" + agent_id +
               R"("},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
               "reservations":[{"type":"DYNAMIC","role":"ops"}]}]}})",
           202);
  EXPECT_EQ(Number(Obj(role_view("ops"), "consumed"), "cpus"), 1);
  EXPECT_EQ(AwaitAgreement(port_), "");
}

}  // namespace
}  // namespace steward::daemon
