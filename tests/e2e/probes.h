// What end-to-end tests read from running daemons over HTTP on 127.0.0.1: the master's
// operator API (protobuf), an agent's /state, and files in task sandboxes through the agent's
// files API. Every call is one HTTP exchange (or a poll of them) with its own client, so any
// thread may call them; errors name the request and, for a refusal, the status and body.
#ifndef STEWARD_TESTS_E2E_PROBES_H_
#define STEWARD_TESTS_E2E_PROBES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "proto/mesos/v1/master/master.pb.h"

namespace steward::e2e {

namespace master_api = ::mesos::v1::master;

// POST /api/v1 with a call of `type` and no payload (GET_STATE, GET_TASKS, ...), in protobuf.
// Unavailable when the master cannot be reached, FailedPrecondition for an answer other than
// 200, DataLoss for a body that does not parse.
absl::StatusOr<master_api::Response> OperatorCall(uint16_t master_port,
                                                  master_api::Call::Type type);

// Asks GET `type` until `done` holds for the answer (errors count as "not yet"); returns that
// answer, or DeadlineExceeded naming `what` and the last answer or error.
absl::StatusOr<master_api::Response> WaitForOperator(
    uint16_t master_port, master_api::Call::Type type,
    const std::function<bool(const master_api::Response&)>& done, std::chrono::milliseconds timeout,
    const std::string& what);

// Waits until GET_AGENTS lists exactly `count` active agents; returns their ids ordered as
// `ports` (the agents' ports). DeadlineExceeded otherwise.
absl::StatusOr<std::vector<std::string>> WaitForActiveAgents(uint16_t master_port,
                                                             const std::vector<uint16_t>& ports,
                                                             std::chrono::milliseconds timeout);

// The task with `task_id` in an operator answer's task lists (GET_TASKS or GET_STATE), among
// active (`tasks`), unreachable and completed tasks; nullptr if absent. Points into `response`.
const mesos::v1::Task* FindTask(const master_api::Response& response, const std::string& task_id);

// GET /state of the agent on `agent_port`, parsed as a JSON value.
absl::StatusOr<google::protobuf::Struct> AgentState(uint16_t agent_port);

// The sandbox directory of the executor that runs `task_id` of `framework_id`, as the agent's
// /state lists it (while the agent still lists the task). NotFound otherwise.
absl::StatusOr<std::string> SandboxOf(uint16_t agent_port, const std::string& framework_id,
                                      const std::string& task_id);

// The whole file at `path` through the agent's GET /files/read, in pieces of at most 1 MiB,
// as the answers' `data` strings hold it (text output reads back unchanged; the API escapes
// bytes that are not UTF-8). NotFound for a missing file (404).
absl::StatusOr<std::string> ReadSandboxFile(uint16_t agent_port, const std::string& path);

}  // namespace steward::e2e

#endif  // STEWARD_TESTS_E2E_PROBES_H_
