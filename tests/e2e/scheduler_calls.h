// The bodies of Mesos v1 scheduler API calls as a third-party framework writes them: JSON text
// written out by hand (field names and enum names exactly as the Mesos documentation shows
// them, no protobuf code involved) or serialized protobuf `mesos.v1.scheduler.Call`s. End-to-end
// tests send them with tests/daemon/test_clients.h (TestFramework::Raw), so the master sees
// what a client in any language would send.
//
// Thread safety: immutable after construction.
#ifndef STEWARD_TESTS_E2E_SCHEDULER_CALLS_H_
#define STEWARD_TESTS_E2E_SCHEDULER_CALLS_H_

#include <string>
#include <utility>
#include <vector>

#include "proto/mesos/v1/mesos.pb.h"

namespace steward::e2e {

enum class Encoding { kJson, kProtobuf };

// A command task to launch: `command` runs under /bin/sh -c; `resources` are scalars.
struct CommandTask {
  std::string id;
  std::string agent_id;
  std::string command;
  std::vector<std::pair<std::string, double>> resources = {{"cpus", 0.1}, {"mem", 32}};
};

class SchedulerCalls {
 public:
  explicit SchedulerCalls(Encoding encoding) : encoding_(encoding) {}

  bool json() const { return encoding_ == Encoding::kJson; }
  // "application/json" or "application/x-protobuf".
  std::string content_type() const;

  // SUBSCRIBE as user "e2e" with role "*"; with `framework_id` a resubscription.
  std::string Subscribe(const std::string& name, double failover_timeout,
                        const std::string& framework_id = "") const;
  // ACCEPT of `offer_ids` launching `tasks`, with filters.refuse_seconds.
  std::string Accept(const std::string& framework_id, const std::vector<std::string>& offer_ids,
                     const std::vector<CommandTask>& tasks, double refuse_seconds) const;
  std::string Decline(const std::string& framework_id,
                      const std::vector<std::string>& offer_ids) const;
  std::string Kill(const std::string& framework_id, const std::string& task_id,
                   const std::string& agent_id) const;
  // ACKNOWLEDGE of `status` (its agent id, task id and uuid).
  std::string Acknowledge(const std::string& framework_id,
                          const mesos::v1::TaskStatus& status) const;
  // RECONCILE of (task id, agent id) pairs; none asks for every task (implicit).
  std::string Reconcile(const std::string& framework_id,
                        const std::vector<std::pair<std::string, std::string>>& tasks) const;
  std::string Teardown(const std::string& framework_id) const;

 private:
  Encoding encoding_;
};

// `text` as a JSON string literal, quotes included.
std::string JsonString(const std::string& text);

}  // namespace steward::e2e

#endif  // STEWARD_TESTS_E2E_SCHEDULER_CALLS_H_
