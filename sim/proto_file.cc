#include "sim/proto_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace steward::sim {
namespace {

using allocator::internal::Av;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;

std::string Child(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(Av(prefix), ".", Av(name));
}

std::string Indexed(std::string_view path, int index) {
  return absl::StrCat(Av(path), "[", index, "]");
}

// ---- text format ----

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int at_line, google::protobuf::io::ColumnNumber at_column,
                const std::string& text) override {
    if (found) return;
    found = true;
    line = at_line + 1;
    column = at_column + 1;
    message = text;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

  bool found = false;
  int line = 0;
  int column = 0;
  std::string message;
};

void MapTextLocations(const TextFormat::ParseInfoTree* tree, const Message& message,
                      const std::string& prefix, SourceMap* map) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string path = Child(prefix, field->name());
    const int count = field->is_repeated() ? reflection->FieldSize(message, field)
                                           : (reflection->HasField(message, field) ? 1 : 0);
    for (int k = 0; k < count; ++k) {
      const int index = field->is_repeated() ? k : -1;
      const TextFormat::ParseLocation location = tree->GetLocation(field, index);
      const std::string item = field->is_repeated() ? Indexed(path, k) : path;
      if (location.line >= 0) map->Add(item, location.line + 1, location.column + 1);
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const TextFormat::ParseInfoTree* nested = tree->GetTreeForNested(field, index);
      if (nested == nullptr) continue;
      const Message& child = field->is_repeated()
                                 ? reflection->GetRepeatedMessage(message, field, k)
                                 : reflection->GetMessage(message, field);
      MapTextLocations(nested, child, item, map);
    }
  }
}

absl::StatusOr<SourceMap> ParseText(std::string_view text, const std::string& name,
                                    Message* message) {
  SourceMap map(name);
  TextFormat::Parser parser;
  FirstError errors;
  TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), message)) {
    if (!errors.found) return absl::InvalidArgumentError(absl::StrCat(name, ": cannot parse"));
    // protobuf reports some errors (unknown field, unknown enum value) after the token that
    // caused them, sometimes on the next line; point at the token itself (the field name the
    // message quotes last) when it occurs before the reported position.
    int line = errors.line;
    int column = errors.column;
    const size_t close = errors.message.rfind('"');
    const size_t open = close == std::string::npos || close == 0
                            ? std::string::npos
                            : errors.message.rfind('"', close - 1);
    if (open != std::string::npos && close > open + 1) {
      const std::string token = errors.message.substr(open + 1, close - open - 1);
      size_t end = 0;  // offset of the reported position
      for (int l = 1; l < line && end != std::string_view::npos; ++l) {
        end = text.find('\n', end);
        if (end != std::string_view::npos) ++end;
      }
      if (end != std::string_view::npos) {
        end = std::min(text.size(), end + static_cast<size_t>(column - 1));
        const size_t at = text.substr(0, end).rfind(token);
        if (at != std::string_view::npos) {
          line = 1 + static_cast<int>(std::count(
                         text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
          const size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
          column =
              static_cast<int>(
                  at - (line_start == std::string_view::npos || at == 0 ? 0 : line_start + 1)) +
              1;
        }
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(name, ":", line, ":", column, ": ", errors.message));
  }
  MapTextLocations(&tree, *message, "", &map);
  return map;
}

// ---- JSON ----

// A JSON scanner that checks the syntax (strictly: no trailing commas, no comments) and
// records where each field was written, following the message's descriptor so that paths use
// proto field names whether the file spells them "duration_seconds" or "durationSeconds".
class JsonScanner {
 public:
  JsonScanner(std::string_view text, SourceMap* map) : text_(text), map_(map) {}

  // OK, or InvalidArgument "name:line:col: message".
  absl::Status Scan(const Descriptor* descriptor) {
    SkipSpace();
    if (!Value(descriptor, "", nullptr)) return Failure();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the top-level value");
      return Failure();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Failure() const {
    return absl::InvalidArgumentError(
        absl::StrCat(map_->file(), ":", error_line_, ":", error_column_, ": ", error_));
  }
  bool Fail(std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
      error_line_ = line_;
      error_column_ = static_cast<int>(pos_ - line_start_) + 1;
    }
    return false;
  }
  int Column() const { return static_cast<int>(pos_ - line_start_) + 1; }
  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }
  bool Expect(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return Fail(pos_ < text_.size() ? absl::StrCat("expected '", std::string(1, c), "', found '",
                                                   std::string(1, text_[pos_]), "'")
                                    : absl::StrCat("expected '", std::string(1, c),
                                                   "', found the end of the file"));
  }
  bool String(std::string* out) {
    if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a string");
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\n') return Fail("unterminated string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size()) break;
        const char e = text_[pos_];
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k) {
            if (pos_ + k >= text_.size() ||
                !std::isxdigit(static_cast<unsigned char>(text_[pos_ + k]))) {
              return Fail("bad \\u escape");
            }
          }
          pos_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return Fail(absl::StrCat("bad escape '\\", std::string(1, e), "'"));
        }
        if (out != nullptr) out->push_back(e);
      } else if (out != nullptr) {
        out->push_back(c);
      }
      ++pos_;
    }
    return Fail("unterminated string");
  }
  bool Literal() {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.')) {
      ++pos_;
    }
    const std::string_view word = text_.substr(start, pos_ - start);
    if (word.empty()) {
      return Fail(pos_ < text_.size()
                      ? absl::StrCat("unexpected '", std::string(1, text_[pos_]), "'")
                      : std::string("unexpected end of the file"));
    }
    if (word == "true" || word == "false" || word == "null") return true;
    // A number: -? digits (. digits)? ([eE] [+-]? digits)?
    size_t i = 0;
    auto digits = [&] {
      const size_t begin = i;
      while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i;
      return i > begin;
    };
    if (i < word.size() && word[i] == '-') ++i;
    bool ok = digits();
    if (ok && i < word.size() && word[i] == '.') {
      ++i;
      ok = digits();
    }
    if (ok && i < word.size() && (word[i] == 'e' || word[i] == 'E')) {
      ++i;
      if (i < word.size() && (word[i] == '+' || word[i] == '-')) ++i;
      ok = digits();
    }
    if (!ok || i != word.size()) {
      pos_ = start;
      return Fail(absl::StrCat("'", Av(word), "' is not a JSON value"));
    }
    return true;
  }
  // `field`: the field this value belongs to (nullptr at the top level or for unknown keys).
  bool Value(const Descriptor* descriptor, const std::string& path, const FieldDescriptor* field) {
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end of the file");
    const char c = text_[pos_];
    if (c == '{') {
      const Descriptor* nested = descriptor;
      if (field != nullptr) {
        nested =
            field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
      }
      return Object(nested, path);
    }
    if (c == '[') {
      ++pos_;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      for (int index = 0;; ++index) {
        SkipSpace();
        const std::string item = Indexed(path, index);
        map_->Add(item, line_, Column());
        if (!Value(descriptor, item, field)) return false;
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        return Expect(']');
      }
    }
    if (c == '"') return String(nullptr);
    return Literal();
  }
  bool Object(const Descriptor* descriptor, const std::string& path) {
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      const int key_line = line_;
      const int key_column = Column();
      std::string key;
      if (!String(&key)) return false;
      const FieldDescriptor* field = nullptr;
      if (descriptor != nullptr) {
        field = descriptor->FindFieldByName(key);
        for (int i = 0; field == nullptr && i < descriptor->field_count(); ++i) {
          if (descriptor->field(i)->json_name() == key) field = descriptor->field(i);
        }
      }
      const std::string child = Child(path, field != nullptr ? field->name() : key);
      map_->Add(child, key_line, key_column);
      if (!Expect(':')) return false;
      if (!Value(descriptor, child, field)) return false;
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == '}') return Fail("trailing comma");
        continue;
      }
      return Expect('}');
    }
  }

  std::string_view text_;
  SourceMap* map_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  std::string error_;
  int error_line_ = 0;
  int error_column_ = 0;
};

// protobuf's JSON errors name the field as "(path): message" or "path: message".
std::string ErrorPath(std::string_view message) {
  if (!message.empty() && message.front() == '(') {
    const size_t close = message.find(')');
    if (close != std::string_view::npos) return std::string(message.substr(1, close - 1));
  }
  const size_t colon = message.find(':');
  if (colon != std::string_view::npos &&
      message.substr(0, colon).find(' ') == std::string_view::npos) {
    return std::string(message.substr(0, colon));
  }
  return "";
}

absl::StatusOr<SourceMap> ParseJson(std::string_view text, const std::string& name,
                                    Message* message) {
  SourceMap map(name);
  JsonScanner scanner(text, &map);
  if (absl::Status syntax = scanner.Scan(message->GetDescriptor()); !syntax.ok()) return syntax;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(text), message, options);
  if (!status.ok()) {
    const std::string detail(status.message());
    return map.Error(ErrorPath(detail), detail);
  }
  return map;
}

}  // namespace

void SourceMap::Add(std::string path, int line, int column) {
  locations_.emplace(std::move(path), std::make_pair(line, column));
}

std::string SourceMap::Where(std::string_view path) const {
  std::string probe(path);
  while (true) {
    const auto it = locations_.find(probe);
    if (it != locations_.end()) {
      return absl::StrCat(file_, ":", it->second.first, ":", it->second.second);
    }
    // Up one level: drop "[i]" or ".name".
    const size_t cut = probe.find_last_of(".[");
    if (cut == std::string::npos) break;
    probe.resize(cut);
  }
  return file_;
}

absl::Status SourceMap::Error(std::string_view path, absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(Where(path), ": ", message));
}

absl::StatusOr<SourceMap> ParseProtoText(std::string_view text, const std::string& name,
                                         Message* message) {
  if (absl::EndsWith(name, ".json")) return ParseJson(text, name, message);
  if (absl::EndsWith(name, ".textproto") || absl::EndsWith(name, ".pbtxt") ||
      absl::EndsWith(name, ".txtpb")) {
    return ParseText(text, name, message);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": unknown file type: expected .textproto, .pbtxt, .txtpb or .json"));
}

absl::StatusOr<SourceMap> ParseProtoFile(const std::string& path, Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream content;
  content << in.rdbuf();
  return ParseProtoText(content.str(), path, message);
}

}  // namespace steward::sim
