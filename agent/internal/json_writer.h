// A minimal streaming JSON writer for the agent's /state: objects, arrays, strings (escaped,
// always valid JSON), numbers as Mesos prints them, booleans. The caller nests Begin/End
// calls correctly; commas are placed automatically.
//
// Thread safety: none (a value type).
#ifndef STEWARD_AGENT_INTERNAL_JSON_WRITER_H_
#define STEWARD_AGENT_INTERNAL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace steward::agent::internal {

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

  const std::string& str() const { return out_; }

 private:
  void BeforeValue();

  std::string out_;
  std::vector<bool> first_;  // Per open container: no element written yet.
  bool after_key_ = false;
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_JSON_WRITER_H_
