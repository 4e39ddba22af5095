#include "common/mesos_resources.h"

#include <string>

#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::common {
namespace {

using ::testing::HasSubstr;
namespace v1 = mesos::v1;

TEST(MesosResourcesTest, TextRoundTripsThroughProto) {
  auto wire =
      ParseResourceText("cpus:2;mem:1024;cpus(eng/web):0.5;ports:[31000-32000];disks:{a,b}");
  ASSERT_TRUE(wire.ok()) << wire.status();
  auto back = FromProto(*wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToString(), "cpus:2;cpus(eng/web):0.5;disks:{a,b};mem:1024;ports:[31000-32000]");
  // The reserved entry carries one STATIC reservation with the role.
  bool found = false;
  for (const v1::Resource& r : *wire) {
    if (r.reservations_size() == 1) {
      found = true;
      EXPECT_EQ(r.name(), "cpus");
      EXPECT_EQ(r.reservations(0).role(), "eng/web");
      EXPECT_EQ(r.reservations(0).type(), v1::Resource::ReservationInfo::STATIC);
    }
  }
  EXPECT_TRUE(found);
}

TEST(MesosResourcesTest, AllocationRoleAndDynamicReservations) {
  auto parsed = allocator::Resources::Parse("cpus(ops):1;mem:64");
  ASSERT_TRUE(parsed.ok());
  ResourceList wire = ToProto(*parsed, v1::Resource::ReservationInfo::DYNAMIC, "ops");
  ASSERT_EQ(wire.size(), 2);
  for (const v1::Resource& r : wire) EXPECT_EQ(r.allocation_info().role(), "ops");
  EXPECT_EQ(wire.Get(0).reservations(0).type(), v1::Resource::ReservationInfo::DYNAMIC);
}

TEST(MesosResourcesTest, ReadsJsonFromMesosClients) {
  v1::Resource r;
  ASSERT_TRUE(JsonToMessage(R"({"name":"cpus","type":"SCALAR","scalar":{"value":0.1},
                                "role":"*"})",
                            &r)
                  .ok());
  ResourceList list;
  *list.Add() = r;
  ASSERT_TRUE(JsonToMessage(R"({"name":"mem","type":"SCALAR","scalar":{"value":32},
      "reservations":[{"type":"STATIC","role":"a"},{"type":"DYNAMIC","role":"a/b"}]})",
                            list.Add())
                  .ok());
  auto bag = FromProto(list);
  ASSERT_TRUE(bag.ok()) << bag.status();
  EXPECT_EQ(bag->ToString(), "cpus:0.1;mem(a/b):32");
}

TEST(MesosResourcesTest, RefusesBadResourcesNamingThem) {
  auto expect_error = [](const std::string& json, const std::string& message) {
    ResourceList list;
    ASSERT_TRUE(JsonToMessage(json, list.Add()).ok()) << json;
    auto bag = FromProto(list);
    ASSERT_FALSE(bag.ok()) << json;
    EXPECT_EQ(bag.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bag.status().message(), HasSubstr(message)) << json;
  };
  expect_error(R"({"name":"cpus","type":"SCALAR","scalar":{"value":-1}})", "resource 0 ('cpus')");
  expect_error(R"({"name":"cpus","type":"SCALAR"})", "SCALAR without scalar");
  expect_error(R"({"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}})",
               "resource 0 ('ports')");
  expect_error(R"({"name":"x","type":"TEXT"})", "only SCALAR, RANGES and SET");
  expect_error(R"({"name":"disk","type":"SCALAR","scalar":{"value":1},
                   "disk":{"persistence":{"id":"v"}}})",
               "persistent volumes");
  expect_error(R"({"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"../x"})", "role");
}

TEST(MesosResourcesTest, ParsesAttributes) {
  auto attributes = ParseAttributes("rack:r1; cores:8 ;ports:[1-3];tags:{a,b}");
  ASSERT_TRUE(attributes.ok()) << attributes.status();
  ASSERT_EQ(attributes->size(), 4);
  EXPECT_EQ(attributes->Get(0).type(), v1::Value::TEXT);
  EXPECT_EQ(attributes->Get(0).text().value(), "r1");
  EXPECT_EQ(attributes->Get(1).type(), v1::Value::SCALAR);
  EXPECT_EQ(attributes->Get(1).scalar().value(), 8);
  EXPECT_EQ(attributes->Get(2).type(), v1::Value::RANGES);
  EXPECT_EQ(attributes->Get(3).type(), v1::Value::SET);
  EXPECT_TRUE(ParseAttributes("").ok());
  auto bad = ParseAttributes("rack");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("attribute 1 ('rack'): expected NAME:VALUE"));
}

}  // namespace
}  // namespace steward::common
