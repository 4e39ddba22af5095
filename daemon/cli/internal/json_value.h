// A small JSON document model for the agents' ad-hoc JSON endpoints (GET /state and
// GET /files/read), which have no protobuf schema.
//
// Parse() reads RFC 8259 JSON. Numbers keep their text (and a double). Strings are decoded to
// bytes; `\uXXXX` escapes become UTF-8, except that with `bytes_escapes` the escapes \u0080 to
// \u00ff become the single raw byte 0x80-0xff: the agent's files API writes file bytes that are
// not valid UTF-8 that way (agent/internal/files_api.h), so a file's bytes read back exactly.
// Errors are InvalidArgument with the byte offset. Nesting deeper than 128 is refused.
// Values are immutable after parsing; concurrent reads are safe.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_JSON_VALUE_H_
#define STEWARD_DAEMON_CLI_INTERNAL_JSON_VALUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace steward::cli {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  struct ParseOptions {
    bool bytes_escapes = false;
  };
  static absl::StatusOr<JsonValue> Parse(std::string_view text, ParseOptions options);
  static absl::StatusOr<JsonValue> Parse(std::string_view text) { return Parse(text, {}); }

  Kind kind() const { return kind_; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kNumber; }

  bool boolean() const { return boolean_; }
  double number() const { return number_; }
  // Integer value of a number written without fraction or exponent, if it fits int64.
  std::optional<int64_t> integer() const;
  // The decoded string (kString) or the number's text (kNumber).
  const std::string& text() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }
  // Members in document order (duplicates kept; Find returns the first).
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  // The member `key` of an object, or nullptr (also for non-objects).
  const JsonValue* Find(std::string_view key) const;
  // The member's string, or "" when absent or not a string.
  std::string StringOr(std::string_view key, std::string fallback = "") const;
  // The member's items, or an empty list when absent or not an array.
  const std::vector<JsonValue>& ArrayOr(std::string_view key) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool boolean_ = false;
  double number_ = 0;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_JSON_VALUE_H_
