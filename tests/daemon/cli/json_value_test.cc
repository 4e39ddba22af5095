#include "daemon/cli/internal/json_value.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::cli {
namespace {

using ::testing::HasSubstr;

TEST(JsonValue, ParsesObjectsArraysAndScalars) {
  absl::StatusOr<JsonValue> value = JsonValue::Parse(
      R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "n": 9007199254740993} )");
  ASSERT_TRUE(value.ok()) << value.status();
  ASSERT_TRUE(value->is_object());
  const JsonValue* a = value->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items().size(), 5u);
  EXPECT_EQ(a->items()[0].integer(), 1);
  EXPECT_DOUBLE_EQ(a->items()[1].number(), -2500);
  EXPECT_EQ(a->items()[1].integer(), std::nullopt);
  EXPECT_TRUE(a->items()[2].boolean());
  EXPECT_EQ(a->items()[3].kind(), JsonValue::Kind::kBool);
  EXPECT_EQ(a->items()[4].kind(), JsonValue::Kind::kNull);
  EXPECT_EQ(value->Find("b")->StringOr("c"), "d");
  // Integers keep their exact value beyond a double's precision.
  EXPECT_EQ(value->Find("n")->integer(), 9007199254740993);
  EXPECT_EQ(value->Find("missing"), nullptr);
  EXPECT_EQ(value->StringOr("a", "fallback"), "fallback");
  EXPECT_TRUE(value->ArrayOr("b").empty());
}

TEST(JsonValue, DecodesStringEscapes) {
  absl::StatusOr<JsonValue> value =
      JsonValue::Parse(R"("q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20ac \ud83d\ude00")");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->text(), "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(JsonValue, BytesEscapesGiveBackRawBytes) {
  // The agent's files API writes a byte that is not UTF-8 as \u00XX; valid UTF-8 stays as is.
  const std::string text = "\"\\u00ff\\u00c3 \xc3\xa9 \\u0001\"";
  absl::StatusOr<JsonValue> bytes = JsonValue::Parse(text, {.bytes_escapes = true});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->text(), std::string("\xff\xc3 \xc3\xa9 \x01"));
  absl::StatusOr<JsonValue> characters = JsonValue::Parse(text);
  ASSERT_TRUE(characters.ok());
  EXPECT_EQ(characters->text(), std::string("\xc3\xbf\xc3\x83 \xc3\xa9 \x01"));
}

TEST(JsonValue, ErrorsNameTheOffset) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"", "byte 0: unexpected end of input"}, Case{"{\"a\" 1}", "byte 5: expected ':'"},
        Case{"[1,]", "byte 3: unexpected character ']'"}, Case{"[1 2]", "expected ',' or ']'"},
        Case{"\"abc", "unterminated string"}, Case{"\"a\nb\"", "control character"},
        Case{"\"\\x\"", "unknown escape"}, Case{"\"\\u12zz\"", "bad hex digit"},
        Case{"\"\\u12\"", "truncated \\u escape"}, Case{"\"\\ud800\"", "unpaired surrogate"},
        Case{"01", "unexpected text after the JSON value"}, Case{"-", "malformed number"},
        Case{"1.", "malformed number"}, Case{"1e999", "out of range"},
        Case{"nul", "unexpected character 'n'"}, Case{"{} x", "unexpected text"}}) {
    absl::StatusOr<JsonValue> value = JsonValue::Parse(c.text);
    ASSERT_FALSE(value.ok()) << c.text;
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(value.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(JsonValue, DeepNestingIsRefusedNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  absl::StatusOr<JsonValue> value = JsonValue::Parse(deep);
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(std::string(value.status().message()), HasSubstr("nesting is too deep"));
  const std::string fine = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(JsonValue::Parse(fine).ok());
}

}  // namespace
}  // namespace steward::cli
