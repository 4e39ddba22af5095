// Small helpers shared by the agent tests: temporary directories, HTTP GETs against the agent,
// and JSON documents read as google.protobuf.Struct.
#ifndef STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_
#define STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/http_client.h"
#include "common/json.h"
#include "google/protobuf/struct.pb.h"

namespace steward::agent::testing {

// A fresh directory under /tmp, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/steward_agent_test.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::optional<common::HttpResponse> HttpGet(uint16_t port, const std::string& target) {
  common::HttpClient client("127.0.0.1", port);
  absl::StatusOr<common::HttpResponse> response = client.Get(target);
  if (!response.ok()) return std::nullopt;
  return *response;
}

inline std::optional<google::protobuf::Struct> ParseJson(const std::string& json) {
  google::protobuf::Struct document;
  if (!common::JsonToMessage(json, &document).ok()) return std::nullopt;
  return document;
}

// A top-level number of a JSON object (metrics snapshots), or nullopt.
inline std::optional<double> NumberField(const google::protobuf::Struct& document,
                                         const std::string& key) {
  auto it = document.fields().find(key);
  if (it == document.fields().end() || !it->second.has_number_value()) return std::nullopt;
  return it->second.number_value();
}

inline std::optional<double> Metric(uint16_t port, const std::string& name) {
  std::optional<common::HttpResponse> response = HttpGet(port, "/metrics/snapshot");
  if (!response.has_value() || response->status != 200) return std::nullopt;
  std::optional<google::protobuf::Struct> document = ParseJson(response->body);
  if (!document.has_value()) return std::nullopt;
  return NumberField(*document, name);
}

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_
