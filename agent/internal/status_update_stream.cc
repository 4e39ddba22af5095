#include "agent/internal/status_update_stream.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"

namespace steward::agent::internal {

absl::Status StatusUpdateStream::Add(mesos::v1::TaskStatus status, Clock::time_point now) {
  if (!status.has_uuid() || status.uuid().empty()) {
    return absl::InvalidArgumentError("a status update needs a uuid");
  }
  for (const mesos::v1::TaskStatus& pending : pending_) {
    if (pending.uuid() == status.uuid()) {
      return absl::AlreadyExistsError("status update already pending");
    }
  }
  pending_.push_back(std::move(status));
  if (pending_.size() == 1) {
    due_ = now;
    backoff_ = policy_.initial;
  }
  return absl::OkStatus();
}

std::optional<mesos::v1::TaskStatus> StatusUpdateStream::TakeDue(Clock::time_point now) {
  if (pending_.empty() || now < due_) return std::nullopt;
  due_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, std::max(policy_.max, policy_.initial));
  return pending_.front();
}

absl::StatusOr<mesos::v1::TaskStatus> StatusUpdateStream::Acknowledge(std::string_view uuid,
                                                                      Clock::time_point now) {
  if (pending_.empty() || pending_.front().uuid() != uuid) {
    return absl::NotFoundError("no pending status update with this uuid at the front");
  }
  mesos::v1::TaskStatus acknowledged = std::move(pending_.front());
  pending_.pop_front();
  due_ = now;
  backoff_ = policy_.initial;
  return acknowledged;
}

void StatusUpdateStream::ResendNow(Clock::time_point now) {
  due_ = now;
  backoff_ = policy_.initial;
}

std::optional<StatusUpdateStream::Clock::time_point> StatusUpdateStream::next_due() const {
  if (pending_.empty()) return std::nullopt;
  return due_;
}

}  // namespace steward::agent::internal
