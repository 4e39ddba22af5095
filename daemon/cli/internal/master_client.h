// The CLI's HTTP access to the master's operator API and to agents' read-only endpoints.
//
// Every failure becomes one clear sentence for the user (errors.h: exit code 1):
//   Unavailable         "cannot reach the master: cannot connect to 127.0.0.1:5050: ..."
//   FailedPrecondition  "the master refused UPDATE_QUOTA (409 Conflict): <the master's reason>"
//   DataLoss            an answer that does not parse
// Not thread-safe: one client per thread.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_MASTER_CLIENT_H_
#define STEWARD_DAEMON_CLI_INTERNAL_MASTER_CLIENT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/http_client.h"
#include "daemon/cli/internal/arguments.h"
#include "google/protobuf/message.h"
#include "proto/mesos/v1/master/master.pb.h"

namespace steward::cli {

// "404 Not Found", "409 Conflict", ... ("HTTP 599" for codes without a known phrase).
std::string HttpStatusText(int status);

// The answer body as an error detail: trimmed, at most one line of ~200 characters.
std::string ErrorDetail(std::string_view body);

// `call` as compact JSON for a request. Internal error (rather than protobuf's abort) when a
// required field is unset.
absl::StatusOr<std::string> CallJson(const google::protobuf::Message& call);

// `message` as indented JSON with the proto field names (what `--json` prints); protobuf's
// text form if a required field is unset.
std::string PrettyJson(const google::protobuf::Message& message);

// Options for an HttpClient bounded by the CLI's --request_timeout.
common::HttpClient::Options ClientOptions(const GlobalOptions& global);

class MasterClient {
 public:
  explicit MasterClient(const GlobalOptions& global);

  // POST /api/v1 with `call` in JSON. Returns the parsed answer; calls answered without a body
  // (UPDATE_QUOTA, TEARDOWN, ...) return an empty Response. Errors as in the file comment.
  absl::StatusOr<mesos::v1::master::Response> Call(const mesos::v1::master::Call& call);

  // "HOST:PORT" of the master.
  const std::string& address() const { return address_; }

 private:
  std::string address_;
  common::HttpClient http_;
};

// GET http://host:port`target` from an agent (or any Steward daemon) and return the body of a
// 200 answer. `who` names the peer in errors ("the agent at 10.0.0.7:5051"). Errors:
// Unavailable (unreachable), NotFound (404), FailedPrecondition (other statuses).
absl::StatusOr<std::string> HttpGet(common::HttpClient& client, std::string_view who,
                                    const std::string& target);

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_MASTER_CLIENT_H_
