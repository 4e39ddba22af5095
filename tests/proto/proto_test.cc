// The Mesos v1 API subsets interoperate with Mesos clients: JSON in the shape Mesos v1 HTTP
// clients send and receive parses into Steward's messages, prints back (with proto field
// names) to the same values, survives a binary round trip, and uses Mesos's field numbers.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/mesos/v1/executor/executor.pb.h"
#include "proto/mesos/v1/master/master.pb.h"
#include "proto/mesos/v1/mesos.pb.h"
#include "proto/mesos/v1/quota/quota.pb.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"
#include "proto/steward/agent.pb.h"
#include "proto/steward/registry.pb.h"

namespace steward {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::util::JsonParseOptions;
using ::google::protobuf::util::JsonPrintOptions;
using ::google::protobuf::util::JsonStringToMessage;
using ::google::protobuf::util::MessageDifferencer;
using ::google::protobuf::util::MessageToJsonString;
using ::testing::HasSubstr;

namespace scheduler = ::mesos::v1::scheduler;

// Parses `json` strictly (unknown fields are errors) into `message`.
void ParseJson(const std::string& json, Message* message) {
  const auto status = JsonStringToMessage(json, message);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_TRUE(message->IsInitialized()) << message->InitializationErrorString();
}

std::string PrintJson(const Message& message) {
  JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = MessageToJsonString(message, &json, options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return json;
}

// JSON printed with proto field names parses back to an equal message, and so does the
// binary encoding.
void ExpectRoundTrips(const Message& message) {
  const std::string json = PrintJson(message);
  std::unique_ptr<Message> from_json(message.New());
  ParseJson(json, from_json.get());
  EXPECT_TRUE(MessageDifferencer::Equals(message, *from_json)) << json;

  std::string wire;
  ASSERT_TRUE(message.SerializeToString(&wire));
  std::unique_ptr<Message> from_wire(message.New());
  ASSERT_TRUE(from_wire->ParseFromString(wire));
  EXPECT_TRUE(MessageDifferencer::Equals(message, *from_wire));
}

// ---------------------------------------------------------------------------------------
// Scheduler calls as Mesos v1 JSON clients send them (shapes from Mesos's
// docs/scheduler-http-api.md).

constexpr char kSubscribe[] = R"json({
  "type": "SUBSCRIBE",
  "subscribe": {
    "framework_info": {
      "user": "foo",
      "name": "Example HTTP Framework",
      "roles": ["test1", "test2"],
      "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}],
      "failover_timeout": 604800,
      "checkpoint": true,
      "principal": "example-principal",
      "labels": {"labels": [{"key": "team", "value": "infra"}]}
    },
    "suppressed_roles": ["test2"]
  }
})json";

TEST(SchedulerJsonTest, Subscribe) {
  scheduler::Call call;
  ParseJson(kSubscribe, &call);
  EXPECT_EQ(call.type(), scheduler::Call::SUBSCRIBE);
  const mesos::v1::FrameworkInfo& info = call.subscribe().framework_info();
  EXPECT_EQ(info.user(), "foo");
  EXPECT_EQ(info.name(), "Example HTTP Framework");
  ASSERT_EQ(info.roles_size(), 2);
  EXPECT_EQ(info.roles(1), "test2");
  ASSERT_EQ(info.capabilities_size(), 2);
  EXPECT_EQ(info.capabilities(0).type(), mesos::v1::FrameworkInfo::Capability::MULTI_ROLE);
  EXPECT_DOUBLE_EQ(info.failover_timeout(), 604800.0);
  EXPECT_TRUE(info.checkpoint());
  EXPECT_EQ(info.labels().labels(0).value(), "infra");
  EXPECT_FALSE(info.has_id());
  EXPECT_FALSE(info.has_role());
  EXPECT_EQ(info.role(), "*");  // Mesos's default.
  EXPECT_EQ(call.subscribe().suppressed_roles(0), "test2");

  const std::string json = PrintJson(call);
  EXPECT_THAT(json, HasSubstr(R"("framework_info":{)"));
  EXPECT_THAT(json, HasSubstr(R"("suppressed_roles":["test2"])"));
  EXPECT_THAT(json, HasSubstr(R"("type":"SUBSCRIBE")"));
  ExpectRoundTrips(call);
}

// `limits` values are Value.Scalar messages, so they are objects here; the ACCEPT example in
// Mesos's docs shows bare numbers, which protobuf JSON does not accept for a message field.
constexpr char kAccept[] = R"json({
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "ACCEPT",
  "accept": {
    "offer_ids": [{"value": "12220-3440-12532-O12"}],
    "operations": [{
      "type": "LAUNCH",
      "launch": {
        "task_infos": [{
          "name": "My Task",
          "task_id": {"value": "12220-3440-12532-my-task"},
          "agent_id": {"value": "12220-3440-12532-S1233"},
          "command": {
            "shell": true,
            "value": "sleep 1000",
            "uris": [{"value": "http://example.com/app.tgz", "extract": true}],
            "environment": {"variables": [{"name": "PORT", "value": "31000"}]}
          },
          "resources": [
            {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*",
             "type": "SCALAR", "scalar": {"value": 1.0}},
            {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*",
             "type": "SCALAR", "scalar": {"value": 128.0}},
            {"allocation_info": {"role": "engineering"}, "name": "ports",
             "type": "RANGES",
             "ranges": {"range": [{"begin": 31000, "end": 31001}, {"begin": 31005, "end": 31005}]},
             "reservations": [{"type": "DYNAMIC", "role": "engineering",
                               "principal": "ops"}]}
          ],
          "limits": {"cpus": {"value": "Infinity"}, "mem": {"value": 512.0}},
          "kill_policy": {"grace_period": {"nanoseconds": 3000000000}}
        }]
      }
    }],
    "filters": {"refuse_seconds": 5.0}
  }
})json";

TEST(SchedulerJsonTest, AcceptWithLaunch) {
  scheduler::Call call;
  ParseJson(kAccept, &call);
  EXPECT_EQ(call.type(), scheduler::Call::ACCEPT);
  EXPECT_EQ(call.framework_id().value(), "12220-3440-12532-2345");
  ASSERT_EQ(call.accept().operations_size(), 1);
  const mesos::v1::Offer::Operation& op = call.accept().operations(0);
  EXPECT_EQ(op.type(), mesos::v1::Offer::Operation::LAUNCH);
  ASSERT_EQ(op.launch().task_infos_size(), 1);
  const mesos::v1::TaskInfo& task = op.launch().task_infos(0);
  EXPECT_EQ(task.command().value(), "sleep 1000");
  EXPECT_TRUE(task.command().uris(0).extract());
  EXPECT_EQ(task.command().environment().variables(0).type(),
            mesos::v1::Environment::Variable::VALUE);  // Mesos's default.
  ASSERT_EQ(task.resources_size(), 3);
  EXPECT_EQ(task.resources(0).type(), mesos::v1::Value::SCALAR);
  EXPECT_DOUBLE_EQ(task.resources(1).scalar().value(), 128.0);
  EXPECT_EQ(task.resources(1).allocation_info().role(), "engineering");
  const mesos::v1::Resource& ports = task.resources(2);
  EXPECT_EQ(ports.type(), mesos::v1::Value::RANGES);
  ASSERT_EQ(ports.ranges().range_size(), 2);
  EXPECT_EQ(ports.ranges().range(0).begin(), 31000u);
  EXPECT_EQ(ports.ranges().range(0).end(), 31001u);
  EXPECT_EQ(ports.reservations(0).type(), mesos::v1::Resource::ReservationInfo::DYNAMIC);
  EXPECT_EQ(ports.reservations(0).principal(), "ops");
  EXPECT_TRUE(std::isinf(task.limits().at("cpus").value()));
  EXPECT_DOUBLE_EQ(task.limits().at("mem").value(), 512.0);
  EXPECT_EQ(task.kill_policy().grace_period().nanoseconds(), 3'000'000'000);
  EXPECT_DOUBLE_EQ(call.accept().filters().refuse_seconds(), 5.0);

  const std::string json = PrintJson(call);
  EXPECT_THAT(json, HasSubstr(R"("task_infos":[)"));
  EXPECT_THAT(json, HasSubstr(R"("range":[{"begin":"31000","end":"31001"})"));
  EXPECT_THAT(json, HasSubstr(R"("cpus":{"value":"Infinity"})"));
  ExpectRoundTrips(call);
}

constexpr char kDecline[] = R"json({
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "DECLINE",
  "decline": {
    "offer_ids": [{"value": "12220-3440-12532-O12"}, {"value": "12220-3440-12532-O13"}],
    "filters": {"refuse_seconds": 3600}
  }
})json";

TEST(SchedulerJsonTest, DeclineWithFilters) {
  scheduler::Call call;
  ParseJson(kDecline, &call);
  EXPECT_EQ(call.type(), scheduler::Call::DECLINE);
  ASSERT_EQ(call.decline().offer_ids_size(), 2);
  EXPECT_EQ(call.decline().offer_ids(1).value(), "12220-3440-12532-O13");
  EXPECT_DOUBLE_EQ(call.decline().filters().refuse_seconds(), 3600.0);
  EXPECT_THAT(PrintJson(call), HasSubstr(R"("filters":{"refuse_seconds":3600})"));
  ExpectRoundTrips(call);

  // Without refuse_seconds the Mesos default of 5 seconds applies.
  scheduler::Call bare;
  ParseJson(R"json({"type": "DECLINE", "decline": {"filters": {}}})json", &bare);
  EXPECT_FALSE(bare.decline().filters().has_refuse_seconds());
  EXPECT_DOUBLE_EQ(bare.decline().filters().refuse_seconds(), 5.0);
}

// The uuid of a status update travels as raw bytes: base64 in JSON.
constexpr char kAcknowledge[] = R"json({
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "ACKNOWLEDGE",
  "acknowledge": {
    "agent_id": {"value": "12220-3440-12532-S1233"},
    "task_id": {"value": "12220-3440-12532-my-task"},
    "uuid": "mxxeOn8tTI6hsF1uf4CaGw=="
  }
})json";

TEST(SchedulerJsonTest, AcknowledgeUuidIsBase64Bytes) {
  scheduler::Call call;
  ParseJson(kAcknowledge, &call);
  EXPECT_EQ(call.type(), scheduler::Call::ACKNOWLEDGE);
  // 9b1c5e3a-7f2d-4c8e-a1b0-5d6e7f809a1b as its 16 bytes.
  const std::string expected("\x9b\x1c\x5e\x3a\x7f\x2d\x4c\x8e\xa1\xb0\x5d\x6e\x7f\x80\x9a\x1b",
                             16);
  EXPECT_EQ(call.acknowledge().uuid(), expected);
  EXPECT_EQ(call.acknowledge().task_id().value(), "12220-3440-12532-my-task");
  EXPECT_THAT(PrintJson(call), HasSubstr(R"("uuid":"mxxeOn8tTI6hsF1uf4CaGw==")"));
  ExpectRoundTrips(call);
}

// ---------------------------------------------------------------------------------------
// Events as the Mesos master sends them.

constexpr char kOffers[] = R"json({
  "type": "OFFERS",
  "offers": {
    "offers": [{
      "allocation_info": {"role": "engineering"},
      "id": {"value": "12214-23523-O235235"},
      "framework_id": {"value": "12124-235325-32425"},
      "agent_id": {"value": "12325-23523-S23523"},
      "hostname": "agent.host",
      "url": {"scheme": "http", "address": {"hostname": "agent.host", "ip": "10.0.0.7",
              "port": 5051}, "path": "/slave(1)"},
      "resources": [
        {"allocation_info": {"role": "engineering"}, "name": "cpus", "type": "SCALAR",
         "scalar": {"value": 2}, "role": "*"},
        {"allocation_info": {"role": "engineering"}, "name": "ports", "type": "RANGES",
         "ranges": {"range": [{"begin": 31000, "end": 32000}]}, "role": "*"},
        {"allocation_info": {"role": "engineering"}, "name": "disk", "type": "SCALAR",
         "scalar": {"value": 1024}, "role": "engineering",
         "reservation": {"principal": "ops"},
         "disk": {"source": {"type": "MOUNT", "mount": {"root": "/mnt/disk1"}}}}
      ],
      "attributes": [
        {"name": "os", "type": "TEXT", "text": {"value": "ubuntu16.04"}},
        {"name": "rack", "type": "SCALAR", "scalar": {"value": 7}}
      ],
      "executor_ids": [{"value": "12214-23523-my-executor"}]
    }]
  }
})json";

TEST(SchedulerJsonTest, OffersEvent) {
  scheduler::Event event;
  ParseJson(kOffers, &event);
  EXPECT_EQ(event.type(), scheduler::Event::OFFERS);
  ASSERT_EQ(event.offers().offers_size(), 1);
  const mesos::v1::Offer& offer = event.offers().offers(0);
  EXPECT_EQ(offer.hostname(), "agent.host");
  EXPECT_EQ(offer.url().address().port(), 5051);
  ASSERT_EQ(offer.resources_size(), 3);
  EXPECT_DOUBLE_EQ(offer.resources(0).scalar().value(), 2.0);
  EXPECT_EQ(offer.resources(1).ranges().range(0).end(), 32000u);
  EXPECT_EQ(offer.resources(2).role(), "engineering");
  EXPECT_EQ(offer.resources(2).reservation().principal(), "ops");
  EXPECT_EQ(offer.resources(2).disk().source().type(),
            mesos::v1::Resource::DiskInfo::Source::MOUNT);
  EXPECT_EQ(offer.attributes(0).text().value(), "ubuntu16.04");
  EXPECT_EQ(offer.attributes(1).type(), mesos::v1::Value::SCALAR);
  EXPECT_EQ(offer.executor_ids(0).value(), "12214-23523-my-executor");
  EXPECT_EQ(offer.allocation_info().role(), "engineering");

  const std::string json = PrintJson(event);
  EXPECT_THAT(json, HasSubstr(R"("allocation_info":{"role":"engineering"})"));
  EXPECT_THAT(json, HasSubstr(R"("executor_ids":[{"value":"12214-23523-my-executor"}])"));
  ExpectRoundTrips(event);
}

TEST(SchedulerJsonTest, UpdateAndSubscribedEvents) {
  scheduler::Event update;
  ParseJson(R"json({"type": "UPDATE", "update": {"status": {
      "task_id": {"value": "t1"}, "state": "TASK_FAILED", "source": "SOURCE_EXECUTOR",
      "reason": "REASON_CONTAINER_LIMITATION_MEMORY", "message": "OOM",
      "agent_id": {"value": "a1"}, "timestamp": 1700000000.5,
      "uuid": "mxxeOn8tTI6hsF1uf4CaGw=="}}})json",
            &update);
  EXPECT_EQ(update.update().status().state(), mesos::v1::TASK_FAILED);
  EXPECT_EQ(update.update().status().reason(),
            mesos::v1::TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
  ExpectRoundTrips(update);

  scheduler::Event subscribed;
  ParseJson(R"json({"type": "SUBSCRIBED", "subscribed": {
      "framework_id": {"value": "f1"}, "heartbeat_interval_seconds": 15,
      "master_info": {"id": "m1", "ip": 16777343, "port": 5050, "hostname": "master",
                      "version": "1.11.0"}}})json",
            &subscribed);
  EXPECT_EQ(subscribed.subscribed().master_info().port(), 5050u);
  ExpectRoundTrips(subscribed);
}

// Calls and operations Steward refuses still parse by name (so the master can refuse them
// by name) when the payload it does not model is ignored.
TEST(SchedulerJsonTest, UnsupportedCallsParseByType) {
  constexpr char kReserve[] = R"json({"type": "ACCEPT", "accept": {"operations": [
      {"type": "RESERVE", "reserve": {"resources": []}}]}})json";
  scheduler::Call strict;
  EXPECT_FALSE(JsonStringToMessage(kReserve, &strict).ok());

  JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  scheduler::Call call;
  ASSERT_TRUE(JsonStringToMessage(kReserve, &call, lenient).ok());
  EXPECT_EQ(call.accept().operations(0).type(), mesos::v1::Offer::Operation::RESERVE);

  scheduler::Call update_framework;
  ASSERT_TRUE(JsonStringToMessage(R"json({"type": "UPDATE_FRAMEWORK", "update_framework": {}})json",
                                  &update_framework, lenient)
                  .ok());
  EXPECT_EQ(update_framework.type(), scheduler::Call::UPDATE_FRAMEWORK);
}

// A missing required field (here the acknowledge uuid) fails the parse.
TEST(SchedulerJsonTest, MissingRequiredFieldFails) {
  scheduler::Call call;
  EXPECT_FALSE(JsonStringToMessage(R"json({"type": "ACKNOWLEDGE", "acknowledge": {
      "agent_id": {"value": "a"}, "task_id": {"value": "t"}}})json",
                                   &call)
                   .ok());
}

// ---------------------------------------------------------------------------------------
// Executor and operator APIs.

TEST(ExecutorJsonTest, UpdateCallAndLaunchEvent) {
  mesos::v1::executor::Call call;
  ParseJson(R"json({"executor_id": {"value": "e1"}, "framework_id": {"value": "f1"},
      "type": "UPDATE", "update": {"status": {"task_id": {"value": "t1"},
      "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR",
      "uuid": "mxxeOn8tTI6hsF1uf4CaGw=="}}})json",
            &call);
  EXPECT_EQ(call.update().status().state(), mesos::v1::TASK_RUNNING);
  ExpectRoundTrips(call);

  mesos::v1::executor::Event event;
  ParseJson(R"json({"type": "LAUNCH", "launch": {"task": {"name": "t",
      "task_id": {"value": "t1"}, "agent_id": {"value": "a1"},
      "command": {"value": "echo hi"}}}})json",
            &event);
  EXPECT_TRUE(event.launch().task().command().shell());  // Mesos's default.
  ExpectRoundTrips(event);
}

TEST(OperatorJsonTest, UpdateQuotaAndReserve) {
  mesos::v1::master::Call quota;
  ParseJson(R"json({"type": "UPDATE_QUOTA", "update_quota": {"force": false,
      "quota_configs": [{"role": "dev", "guarantees": {"cpus": {"value": 10}},
                         "limits": {"cpus": {"value": 20}, "mem": {"value": 4096}}}]}})json",
            &quota);
  EXPECT_DOUBLE_EQ(quota.update_quota().quota_configs(0).limits().at("mem").value(), 4096.0);
  ExpectRoundTrips(quota);

  mesos::v1::master::Call reserve;
  ParseJson(R"json({"type": "RESERVE_RESOURCES", "reserve_resources": {
      "agent_id": {"value": "a1"}, "resources": [{"name": "cpus", "type": "SCALAR",
      "scalar": {"value": 1}, "reservations": [{"type": "DYNAMIC", "role": "dev",
      "principal": "ops"}]}]}})json",
            &reserve);
  EXPECT_EQ(reserve.reserve_resources().resources(0).reservations(0).role(), "dev");
  ExpectRoundTrips(reserve);

  mesos::v1::master::Response health;
  ParseJson(R"json({"type": "GET_HEALTH", "get_health": {"healthy": true}})json", &health);
  EXPECT_TRUE(health.get_health().healthy());
  ExpectRoundTrips(health);
}

// ---------------------------------------------------------------------------------------
// Field numbers and enum values are Mesos's (include/mesos/v1/*.proto).

int FieldNumber(const Descriptor* message, const std::string& field) {
  const FieldDescriptor* f = message->FindFieldByName(field);
  return f == nullptr ? -1 : f->number();
}

TEST(MesosNumbersTest, FieldNumbersMatchMesos) {
  using mesos::v1::FrameworkInfo;
  using mesos::v1::Offer;
  using mesos::v1::Resource;
  using mesos::v1::TaskInfo;
  using mesos::v1::TaskStatus;
  EXPECT_EQ(FieldNumber(FrameworkInfo::descriptor(), "user"), 1);
  EXPECT_EQ(FieldNumber(FrameworkInfo::descriptor(), "roles"), 12);
  EXPECT_EQ(FieldNumber(FrameworkInfo::descriptor(), "capabilities"), 10);
  EXPECT_EQ(FieldNumber(Offer::descriptor(), "resources"), 5);
  EXPECT_EQ(FieldNumber(Offer::descriptor(), "allocation_info"), 10);
  EXPECT_EQ(FieldNumber(TaskInfo::descriptor(), "command"), 7);
  EXPECT_EQ(FieldNumber(TaskInfo::descriptor(), "kill_policy"), 12);
  EXPECT_EQ(FieldNumber(TaskInfo::descriptor(), "limits"), 15);
  EXPECT_EQ(FieldNumber(Resource::descriptor(), "provider_id"), 12);
  EXPECT_EQ(FieldNumber(Resource::descriptor(), "reservations"), 13);
  EXPECT_EQ(FieldNumber(TaskStatus::descriptor(), "uuid"), 11);
  EXPECT_EQ(FieldNumber(scheduler::Call::descriptor(), "revive"), 15);
  EXPECT_EQ(FieldNumber(scheduler::Call::descriptor(), "suppress"), 16);
  EXPECT_EQ(FieldNumber(mesos::v1::master::Call::descriptor(), "update_quota"), 20);
  EXPECT_EQ(FieldNumber(mesos::v1::master::Response::descriptor(), "get_quota"), 19);

  EXPECT_EQ(scheduler::Call::ACCEPT, 3);
  EXPECT_EQ(scheduler::Call::SUPPRESS, 12);
  EXPECT_EQ(scheduler::Call::UPDATE_FRAMEWORK, 17);
  EXPECT_EQ(scheduler::Event::OFFERS, 2);
  EXPECT_EQ(scheduler::Event::HEARTBEAT, 8);
  EXPECT_EQ(mesos::v1::executor::Event::SHUTDOWN, 7);
  EXPECT_EQ(mesos::v1::master::Call::UPDATE_QUOTA, 36);
  EXPECT_EQ(mesos::v1::master::Call::TEARDOWN, 31);
  EXPECT_EQ(mesos::v1::master::Response::GET_QUOTA, 18);
  EXPECT_EQ(Offer::Operation::LAUNCH_GROUP, 6);
  EXPECT_EQ(mesos::v1::TASK_STAGING, 6);
  EXPECT_EQ(mesos::v1::TASK_KILLING, 8);
  EXPECT_EQ(TaskStatus::REASON_AGENT_DRAINING, 34);
}

// Omitted upstream fields keep their numbers out of use.
TEST(MesosNumbersTest, OmittedFieldsAreReserved) {
  const Descriptor* task = mesos::v1::TaskInfo::descriptor();
  EXPECT_TRUE(task->IsReservedNumber(9));  // container
  EXPECT_TRUE(task->IsReservedName("health_check"));
  EXPECT_TRUE(scheduler::Call::descriptor()->IsReservedNumber(19));  // update_framework
}

// ---------------------------------------------------------------------------------------
// Steward's own messages.

TEST(StewardProtoTest, AgentProtocolRoundTrips) {
  agent::Call call;
  call.set_type(agent::Call::STATUS_UPDATE);
  call.mutable_agent_id()->set_value("a1");
  agent::Call::StatusUpdate* update = call.mutable_status_update();
  update->mutable_framework_id()->set_value("f1");
  update->mutable_status()->mutable_task_id()->set_value("t1");
  update->mutable_status()->set_state(mesos::v1::TASK_RUNNING);
  update->mutable_status()->set_uuid(std::string(16, '\x7f'));
  update->set_latest_state(mesos::v1::TASK_FINISHED);
  ExpectRoundTrips(call);

  agent::Event event;
  event.set_type(agent::Event::ACKNOWLEDGE_STATUS_UPDATE);
  event.mutable_acknowledge_status_update()->set_uuid(std::string(16, '\x01'));
  ExpectRoundTrips(event);
}

TEST(StewardProtoTest, RegistryRoundTrips) {
  registry::Registry registry;
  registry.set_version(7);
  registry::Agent* agent = registry.add_agents();
  agent->set_state(registry::Agent::UNREACHABLE);
  agent->mutable_info()->set_hostname("h1");
  registry::Framework* framework = registry.add_frameworks();
  framework->mutable_info()->set_user("u");
  framework->mutable_info()->set_name("n");
  framework->mutable_info()->set_failover_timeout(60);
  framework->mutable_registered_time()->set_nanoseconds(1);
  mesos::v1::quota::QuotaConfig* quota = registry.add_quotas();
  quota->set_role("dev");
  (*quota->mutable_guarantees())["cpus"].set_value(2);
  registry.add_weights()->set_weight(2);
  ExpectRoundTrips(registry);
}

}  // namespace
}  // namespace steward
