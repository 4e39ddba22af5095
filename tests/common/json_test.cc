#include "common/json.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/common/json_test.pb.h"

namespace steward::common {
namespace {

using ::steward::common::test::Outer;
using ::testing::HasSubstr;

TEST(JsonTest, ParsesKnownFieldsAndIgnoresUnknownOnes) {
  Outer outer;
  ASSERT_TRUE(JsonToMessage(R"({"framework_id": "f1", "cpus": 1.5, "kind": "SECOND",
                                "no_such_field": {"deep": [1, 2, {"x": null}]},
                                "inner": {"name": "n", "count": "7", "extra": true},
                                "tags": ["a", "b"], "labels": {"k": "v"}})",
                            &outer)
                  .ok());
  EXPECT_EQ(outer.framework_id(), "f1");
  EXPECT_EQ(outer.cpus(), 1.5);
  EXPECT_EQ(outer.kind(), Outer::SECOND);
  EXPECT_EQ(outer.inner().name(), "n");
  EXPECT_EQ(outer.inner().count(), 7);
  EXPECT_EQ(outer.tags_size(), 2);
  EXPECT_EQ(outer.labels().at("k"), "v");
}

TEST(JsonTest, AcceptsCamelCaseNamesToo) {
  Outer outer;
  ASSERT_TRUE(JsonToMessage(R"({"frameworkId": "f2"})", &outer).ok());
  EXPECT_EQ(outer.framework_id(), "f2");
}

TEST(JsonTest, NullReadsAsAbsent) {
  Outer outer;
  const absl::Status status =
      JsonToMessage(R"({"framework_id": null, "cpus": null, "kind": null, "inner": null,
                        "tags": null, "items": null, "labels": null, "enabled": null})",
                    &outer);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_FALSE(outer.has_framework_id());
  EXPECT_FALSE(outer.has_cpus());
  EXPECT_FALSE(outer.has_kind());
  EXPECT_FALSE(outer.has_inner());
  EXPECT_FALSE(outer.has_enabled());
  EXPECT_EQ(outer.tags_size(), 0);
  EXPECT_EQ(outer.items_size(), 0);
  EXPECT_TRUE(outer.labels().empty());
}

TEST(JsonTest, NullInsideNestedMessageReadsAsAbsent) {
  Outer outer;
  const absl::Status status =
      JsonToMessage(R"({"inner": {"name": null, "count": 3, "children": null}})", &outer);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(outer.has_inner());
  EXPECT_FALSE(outer.inner().has_name());
  EXPECT_EQ(outer.inner().count(), 3);
}

TEST(JsonTest, NullForAValueFieldIsTheNullValue) {
  // google.protobuf.Value represents JSON null itself, so there null is a value, not absence.
  Outer outer;
  ASSERT_TRUE(JsonToMessage(R"({"any_value": null})", &outer).ok());
  EXPECT_TRUE(outer.has_any_value());
  EXPECT_EQ(outer.any_value().kind_case(), google::protobuf::Value::kNullValue);
}

TEST(JsonTest, ClearsTheMessageFirst) {
  Outer outer;
  outer.set_framework_id("old");
  ASSERT_TRUE(JsonToMessage(R"({"cpus": 2})", &outer).ok());
  EXPECT_FALSE(outer.has_framework_id());
}

TEST(JsonTest, RejectsMalformedJsonAndWrongTypes) {
  Outer outer;
  for (const char* bad :
       {"{", R"({"cpus": "lots"})", R"({"tags": [{}]})", R"({"inner": 5})", "[1, 2]", "", "nul"}) {
    const absl::Status status = JsonToMessage(bad, &outer);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("steward.common.test.Outer")) << bad;
  }
}

TEST(JsonTest, UnknownEnumNameIsIgnoredLikeAnUnknownField) {
  // protobuf's ignore_unknown_fields also skips enum names it does not know, so a peer with a
  // newer enum does not fail the whole message.
  Outer outer;
  ASSERT_TRUE(JsonToMessage(R"({"kind": "THIRD", "cpus": 1})", &outer).ok());
  EXPECT_FALSE(outer.has_kind());
  EXPECT_EQ(outer.cpus(), 1);
}

TEST(JsonTest, DepthLimitRejectsDeepInputNamingTheLimit) {
  std::string deep = R"({"no_such_field": )";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  Outer outer;
  const absl::Status status = JsonToMessage(deep, &outer);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("limit of 64"));
  EXPECT_TRUE(JsonToMessage(deep, &outer, /*max_depth=*/101).ok());
}

TEST(JsonTest, DepthCheckSkipsBracketsInStrings) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a": "[[[[[[\"[[[["})", 2).ok());
  EXPECT_TRUE(CheckJsonDepth(R"({"a": [{}]})", 3).ok());
  EXPECT_FALSE(CheckJsonDepth(R"({"a": [{}]})", 2).ok());
}

TEST(JsonTest, OutputKeepsProtoFieldNames) {
  Outer outer;
  outer.set_framework_id("f1");
  outer.mutable_inner()->set_count(3);
  const absl::StatusOr<std::string> json = MessageToJson(outer);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("framework_id":"f1")"));
  EXPECT_THAT(*json, HasSubstr(R"("count":"3")"));  // int64 as a string, per proto3 JSON.
  Outer back;
  ASSERT_TRUE(JsonToMessage(*json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), outer.SerializeAsString());
}

}  // namespace
}  // namespace steward::common
