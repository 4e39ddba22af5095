// Small helpers shared by the agent tests: temporary directories, HTTP GETs against the agent,
// and metrics read from its /metrics/snapshot.
#ifndef STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_
#define STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/http_client.h"
#include "tests/agent/json_value.h"

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

// A top-level number of the agent's /metrics/snapshot, or nullopt.
inline std::optional<double> Metric(uint16_t port, const std::string& name) {
  std::optional<common::HttpResponse> response = HttpGet(port, "/metrics/snapshot");
  if (!response.has_value() || response->status != 200) return std::nullopt;
  std::optional<JsonValue> document = ParseJsonValue(response->body);
  if (!document.has_value()) return std::nullopt;
  const JsonValue* value = document->Find(name);
  if (value == nullptr || value->kind != JsonValue::Kind::kNumber) return std::nullopt;
  return value->number;
}

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_AGENT_TEST_UTIL_H_
