// The pending status updates of one task: sent to the master one at a time and in order,
// each resent with exponential backoff until the framework's acknowledgement arrives.
//
// The front update is the only one ever in flight. It is due immediately when it reaches the
// front (on Add() to an empty stream, or after the previous one is acknowledged); once taken
// for sending it is due again after the retry interval, which doubles on every resend up to a
// maximum and starts over for the next update. Pure logic over a caller-supplied clock.
//
// Thread safety: none; the owner serialises access.
#ifndef STEWARD_AGENT_INTERNAL_STATUS_UPDATE_STREAM_H_
#define STEWARD_AGENT_INTERNAL_STATUS_UPDATE_STREAM_H_

#include <chrono>
#include <deque>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/mesos/v1/mesos.pb.h"

namespace steward::agent::internal {

class StatusUpdateStream {
 public:
  using Clock = std::chrono::steady_clock;

  struct RetryPolicy {
    std::chrono::milliseconds initial{10'000};  // First resend after this long.
    std::chrono::milliseconds max{600'000};     // Doubling stops here.
  };

  explicit StatusUpdateStream(RetryPolicy policy) : policy_(policy) {}

  // Appends `status` (which must carry a uuid) behind the pending ones. Returns
  // InvalidArgument without a uuid and AlreadyExists if an update with this uuid is pending
  // (a resent executor update); the stream is unchanged then.
  absl::Status Add(mesos::v1::TaskStatus status, Clock::time_point now);

  // If the front update is due at `now`, returns it and schedules its next resend; otherwise
  // returns nullopt.
  std::optional<mesos::v1::TaskStatus> TakeDue(Clock::time_point now);

  // Acknowledges the front update if `uuid` is its uuid and returns it; the next update (if
  // any) becomes due at `now`. Returns NotFound for any other uuid (a duplicate or stale
  // acknowledgement), leaving the stream unchanged.
  absl::StatusOr<mesos::v1::TaskStatus> Acknowledge(std::string_view uuid, Clock::time_point now);

  // Makes the front update due at `now` with the retry interval reset (after resubscribing).
  void ResendNow(Clock::time_point now);

  // When the front update is due next; nullopt when the stream is empty.
  std::optional<Clock::time_point> next_due() const;

  bool empty() const { return pending_.empty(); }
  // Oldest (in flight) first.
  const std::deque<mesos::v1::TaskStatus>& pending() const { return pending_; }

 private:
  RetryPolicy policy_;
  std::deque<mesos::v1::TaskStatus> pending_;
  Clock::time_point due_{};
  std::chrono::milliseconds backoff_{0};  // Interval after the next send.
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_STATUS_UPDATE_STREAM_H_
