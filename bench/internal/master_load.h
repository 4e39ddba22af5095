// The load generator of bench/master_bench.cc: N simulated agents and M simulated frameworks
// driving one steward-master over loopback, on a few threads (bench/internal/async_http.h).
//
// Agents speak Steward's agent protocol (proto/steward/agent.proto) as the real agent does:
// SUBSCRIBE with their resources, read the event stream, and for every LAUNCH send a status
// update TASK_RUNNING and then, `task_duration` later, TASK_FINISHED, each with a random
// 16-byte uuid, the second only after the master forwarded the framework's acknowledgement of
// the first (ACKNOWLEDGE_STATUS_UPDATE); HEARTBEAT calls at the interval SUBSCRIBED gives.
// Like the real agent, an agent has one STATUS_UPDATE call in flight at a time and sends the
// updates queued meanwhile together in the next (Call.status_updates), when the master's
// SUBSCRIBED accepts batches. Frameworks speak the Mesos v1 scheduler API (protobuf or JSON):
// SUBSCRIBE, ACCEPT every offer launching as many tasks of `task_resources` as fit with
// refuse_seconds 0, and ACKNOWLEDGE every UPDATE that carries a uuid.
//
// Thread safety: Create, Start, Stop and the destructor from one owner thread; counters() and
// errors() from any thread.
#ifndef STEWARD_BENCH_INTERNAL_MASTER_LOAD_H_
#define STEWARD_BENCH_INTERNAL_MASTER_LOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/internal/async_http.h"

namespace steward::bench {

struct LoadOptions {
  uint16_t master_port = 0;  // on 127.0.0.1
  int agents = 100;
  int frameworks = 10;
  bool json = false;  // frameworks speak JSON (application/json) instead of protobuf
  // Ten default tasks fill an agent exactly (cpus and mem together), so no offer of left-over
  // memory alone is made, declined and made again every cycle, and at most ten tasks per
  // agent are in flight.
  std::string agent_resources = "cpus:1;mem:320";
  std::string task_resources = "cpus:0.1;mem:32";
  std::chrono::milliseconds task_duration{0};  // from TASK_RUNNING acknowledged to TASK_FINISHED
  int threads = 2;                             // threads running every connection
  int max_pending_subscribes = 64;             // SUBSCRIBEs in flight at once during Start()
};

// Totals since Start(). `launches`: LAUNCH events agents received; `offers`: offers frameworks
// received; `finished`: TASK_FINISHED updates whose acknowledgement reached the agent;
// `errors`: calls answered other than 202, streams that failed, undecodable events.
struct LoadCounters {
  int64_t launches = 0;
  int64_t offers = 0;
  int64_t finished = 0;
  int64_t status_updates = 0;
  int64_t status_update_calls = 0;  // STATUS_UPDATE calls that carried them
  int64_t acknowledgements = 0;
  int64_t errors = 0;
  int64_t agents_subscribed = 0;
  int64_t frameworks_subscribed = 0;
};

class SimAgent;
class SimFramework;
struct LoadShared;

class LoadGenerator {
 public:
  // InvalidArgument for sizes below 1, or resources that do not parse or lack cpus and mem.
  static absl::StatusOr<std::unique_ptr<LoadGenerator>> Create(LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Subscribes every agent, then every framework, and returns once all are subscribed; the
  // load runs from then on until Stop(). DeadlineExceeded after `timeout`, or the first error
  // if a subscription failed.
  absl::Status Start(std::chrono::milliseconds timeout);
  // Errors seen from now on are not counted: call it before stopping the master.
  void MarkStopping();
  // Closes every connection and joins the threads. Errors seen after the call are not counted.
  // Idempotent.
  void Stop();

  LoadCounters counters() const;
  // CPU seconds the load generator's threads have used so far (the rest of the process's CPU
  // time is the master's). From the owner thread.
  double CpuSeconds() const;
  // The first few error messages, for the report.
  std::vector<std::string> errors() const;

 private:
  explicit LoadGenerator(LoadOptions options);
  absl::Status WaitFor(const std::atomic<int64_t>& subscribed, int64_t target, int64_t pending,
                       std::chrono::steady_clock::time_point deadline) const;

  LoadOptions options_;
  std::unique_ptr<LoadShared> shared_;
  std::vector<std::unique_ptr<SimAgent>> agents_;
  std::vector<std::unique_ptr<SimFramework>> frameworks_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace steward::bench

#endif  // STEWARD_BENCH_INTERNAL_MASTER_LOAD_H_
