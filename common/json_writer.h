// A minimal streaming JSON writer for the daemons' hand-shaped documents (the master's
// /master/state in Mesos's v0 shape, the agent's /state): objects, arrays, strings (escaped,
// always valid JSON: invalid UTF-8 bytes become \u00XX), numbers as Mesos prints them,
// booleans, and raw JSON from elsewhere. The caller nests Begin/End calls correctly; commas
// are placed automatically.
//
// Thread safety: none (a value type).
#ifndef STEWARD_COMMON_JSON_WRITER_H_
#define STEWARD_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace steward::common {

// `text` as a JSON string literal with quotes; invalid UTF-8 bytes become \u00XX.
std::string JsonQuote(std::string_view text);

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The key of the next value inside an object.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Number(double value);  // Integers without a fraction; non-finite as null.
  JsonWriter& Bool(bool value);
  JsonWriter& Int(int64_t value);
  // Inserts already-serialized JSON (for example a protobuf message printed as JSON).
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }

 private:
  void BeforeValue();

  std::string out_;
  std::vector<bool> first_;  // Per open container: no element written yet.
  bool after_key_ = false;
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_JSON_WRITER_H_
