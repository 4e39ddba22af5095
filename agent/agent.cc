#include "agent/agent.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/internal/agent_impl.h"
#include "agent/internal/checkpoint_store.h"

namespace steward::agent {

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options,
                                                     std::unique_ptr<Containerizer> containerizer) {
  if (containerizer == nullptr) return absl::InvalidArgumentError("no containerizer");
  if (options.master_host.empty()) return absl::InvalidArgumentError("no master host");
  if (options.master_port == 0) return absl::InvalidArgumentError("no master port");
  if (options.ip.empty()) return absl::InvalidArgumentError("no IP address to listen on");
  if (!options.work_dir.starts_with("/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("work_dir '", options.work_dir, "' is not an absolute path"));
  }
  if (options.status_update_retry_interval.count() <= 0 ||
      options.registration_backoff_factor.count() <= 0 || options.reap_interval.count() <= 0 ||
      options.executor_heartbeat_interval.count() <= 0) {
    return absl::InvalidArgumentError("intervals must be positive");
  }
  if (options.executor_reregistration_timeout.count() <= 0 ||
      options.executor_reregistration_timeout > kMaxExecutorReregistrationTimeout) {
    return absl::InvalidArgumentError(
        "executor_reregistration_timeout must be positive and at most 15 seconds");
  }
  internal::CheckpointStore store(options.work_dir + "/meta");
  absl::StatusOr<std::optional<Checkpoint>> checkpoint = store.Load();
  if (!checkpoint.ok()) return checkpoint.status();
  return std::unique_ptr<Agent>(new Agent(std::make_unique<AgentImpl>(
      std::move(options), std::move(containerizer), std::move(*checkpoint))));
}

Agent::Agent(std::unique_ptr<AgentImpl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() = default;

absl::Status Agent::Start() { return impl_->Start(); }
uint16_t Agent::port() const { return impl_->port(); }
absl::Status Agent::Wait() { return impl_->Wait(); }
void Agent::Stop() { impl_->Stop(); }

}  // namespace steward::agent
