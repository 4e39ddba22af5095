// A small streaming JSON writer for the master's hand-shaped documents (/master/state in
// Mesos's v0 shape, /master/state-summary), which are not protobuf messages.
//
//   JsonWriter w;
//   w.BeginObject(); w.Key("id"); w.String(id); w.Key("tasks"); w.BeginArray(); ...
//
// The writer inserts commas; callers keep Begin/End balanced. Strings are escaped per RFC 8259
// (control characters as \u00XX); non-finite numbers are written as null.
#ifndef STEWARD_DAEMON_INTERNAL_JSON_WRITER_H_
#define STEWARD_DAEMON_INTERNAL_JSON_WRITER_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace steward::daemon {

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key) {
    Separate();
    Escaped(key);
    out_ += ':';
    after_key_ = true;
  }
  void String(std::string_view value) {
    Separate();
    Escaped(value);
  }
  void Number(double value) {
    Separate();
    if (!std::isfinite(value)) {
      out_ += "null";
    } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
      out_ += std::to_string(static_cast<int64_t>(value));
    } else {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.17g", value);
      out_ += buffer;
    }
  }
  void Int(int64_t value) {
    Separate();
    out_ += std::to_string(value);
  }
  void Bool(bool value) {
    Separate();
    out_ += value ? "true" : "false";
  }
  // Inserts already-serialized JSON (for example a protobuf message printed as JSON).
  void Raw(std::string_view json) {
    Separate();
    out_ += json;
  }
  const std::string& str() const { return out_; }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
  }
  void Close(char c) {
    out_ += c;
    first_.pop_back();
  }
  void Escaped(std::string_view s) {
    out_ += '"';
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (ch) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
            out_ += buffer;
          } else {
            out_ += ch;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace steward::daemon

#endif  // STEWARD_DAEMON_INTERNAL_JSON_WRITER_H_
