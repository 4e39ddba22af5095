// A framework's session with the master's scheduler API (POST /api/v1/scheduler, JSON), as
// `steward run` uses it.
//
// Subscribe() opens the event stream on its own connection, read by a background thread that
// decodes the RecordIO records into events and queues them; NextEvent() takes them in order.
// Calls (ACCEPT, DECLINE, ACKNOWLEDGE, ...) go out on a second connection with the
// framework id and the Mesos-Stream-Id header filled in. Close() (and the destructor) stops
// the reader at once, also while it waits for the next event.
//
// Thread safety: all methods from one thread (the caller's); the reader thread is internal.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_SCHEDULER_SESSION_H_
#define STEWARD_DAEMON_CLI_INTERNAL_SCHEDULER_SESSION_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/http_client.h"
#include "daemon/cli/internal/arguments.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"

namespace steward::cli {

class SchedulerSession {
 public:
  explicit SchedulerSession(const GlobalOptions& global);
  SchedulerSession(const SchedulerSession&) = delete;
  SchedulerSession& operator=(const SchedulerSession&) = delete;
  ~SchedulerSession();

  // Subscribes a new framework described by `info` and returns once the master answered.
  // Errors: Unavailable (master unreachable), FailedPrecondition with the master's reason
  // (4xx/5xx). At most once per session.
  absl::Status Subscribe(const mesos::v1::FrameworkInfo& info);

  // The next event, waiting at most until `deadline`; nullopt if none came by then. Once the
  // stream ended: Unavailable ("the master closed the event stream", or the read error), or
  // DataLoss for a record that is not a valid event. Events queued before the end are
  // returned first.
  absl::StatusOr<std::optional<mesos::v1::scheduler::Event>> NextEvent(
      std::chrono::steady_clock::time_point deadline);

  // Sends `call` with the framework id (from the SUBSCRIBED event, which NextEvent() must have
  // returned) and the stream id. Errors: Unavailable, FailedPrecondition with the master's
  // reason.
  absl::Status Send(mesos::v1::scheduler::Call call);

  // Set once NextEvent() returned SUBSCRIBED.
  const std::string& framework_id() const { return framework_id_; }

  // Stops the reader thread and closes both connections. Idempotent.
  void Close();

 private:
  void ReadStream(std::string body);

  const GlobalOptions global_;
  common::HttpClient calls_;
  std::unique_ptr<common::HttpClient> stream_;  // used by the reader thread; Cancel() by Close()
  std::thread reader_;
  std::string stream_id_;
  std::string framework_id_;

  std::mutex mu_;
  std::condition_variable changed_;
  // Guarded by mu_:
  bool head_received_ = false;  // the SUBSCRIBE answer's status line and headers arrived
  int head_status_ = 0;
  std::string head_stream_id_;
  std::string error_body_;  // body of a non-200 answer
  std::deque<mesos::v1::scheduler::Event> events_;
  bool ended_ = false;
  absl::Status end_status_;
};

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_SCHEDULER_SESSION_H_
