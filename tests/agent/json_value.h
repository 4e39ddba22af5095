// A tiny JSON reader for the agent tests' checks of /state and /metrics/snapshot.
//
// google.protobuf.Struct cannot be used for this: its map field is laid out differently in
// code compiled with -fsanitize=thread (protobuf's MapFieldBase adds members under TSan)
// than in Debian's uninstrumented libprotobuf, so reading a Struct parsed by the library
// crashes in the TSan build.
#ifndef STEWARD_TESTS_AGENT_JSON_VALUE_H_
#define STEWARD_TESTS_AGENT_JSON_VALUE_H_

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace steward::agent::testing {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  // The member `key` of an object, or nullptr.
  const JsonValue* Find(std::string_view key) const {
    for (const auto& [name, value] : object) {
      if (name == key) return &value;
    }
    return nullptr;
  }
  // The member `key`, or a null value when absent (for chained lookups in tests).
  const JsonValue& operator[](std::string_view key) const {
    static const JsonValue kNull;
    const JsonValue* found = Find(key);
    return found != nullptr ? *found : kNull;
  }
  const JsonValue& operator[](size_t index) const {
    static const JsonValue kNull;
    return index < array.size() ? array[index] : kNull;
  }
};

namespace json_internal {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  std::optional<JsonValue> Document() {
    std::optional<JsonValue> value = Value();
    Space();
    if (!value.has_value() || pos_ != text_.size()) return std::nullopt;
    return value;
  }

 private:
  void Space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    Space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::optional<std::string> String() {
    if (!Eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return std::nullopt;
      c = text_[pos_++];
      switch (c) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return std::nullopt;
          const unsigned code =
              std::strtoul(std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16);
          pos_ += 4;
          if (code < 0x80) {
            out.push_back(static_cast<char>(code));
          } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
          }
          break;
        }
        default:
          out.push_back(c);
          break;
      }
    }
    if (pos_ >= text_.size()) return std::nullopt;
    ++pos_;
    return out;
  }

  std::optional<JsonValue> Value() {
    Space();
    if (pos_ >= text_.size()) return std::nullopt;
    JsonValue value;
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      value.kind = JsonValue::Kind::kObject;
      if (Eat('}')) return value;
      do {
        std::optional<std::string> key = String();
        if (!key.has_value() || !Eat(':')) return std::nullopt;
        std::optional<JsonValue> member = Value();
        if (!member.has_value()) return std::nullopt;
        value.object.emplace_back(std::move(*key), std::move(*member));
      } while (Eat(','));
      if (!Eat('}')) return std::nullopt;
    } else if (c == '[') {
      ++pos_;
      value.kind = JsonValue::Kind::kArray;
      if (Eat(']')) return value;
      do {
        std::optional<JsonValue> element = Value();
        if (!element.has_value()) return std::nullopt;
        value.array.push_back(std::move(*element));
      } while (Eat(','));
      if (!Eat(']')) return std::nullopt;
    } else if (c == '"') {
      std::optional<std::string> s = String();
      if (!s.has_value()) return std::nullopt;
      value.kind = JsonValue::Kind::kString;
      value.string = std::move(*s);
    } else if (Word("true")) {
      value.kind = JsonValue::Kind::kBool;
      value.boolean = true;
    } else if (Word("false")) {
      value.kind = JsonValue::Kind::kBool;
    } else if (Word("null")) {
      value.kind = JsonValue::Kind::kNull;
    } else {
      const std::string rest(text_.substr(pos_, 64));
      char* end = nullptr;
      value.number = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str()) return std::nullopt;
      pos_ += static_cast<size_t>(end - rest.c_str());
      value.kind = JsonValue::Kind::kNumber;
    }
    return value;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace json_internal

// Parses a complete JSON document; nullopt when malformed.
inline std::optional<JsonValue> ParseJsonValue(std::string_view text) {
  return json_internal::Reader(text).Document();
}

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_JSON_VALUE_H_
