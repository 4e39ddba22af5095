// The agent's implementation behind agent/agent.h. One mutex guards all state; three kinds of
// threads enter it:
//   - the master link's reader thread delivers master events (agent_master_events.cc);
//   - HTTP server threads serve the executor API and the read-only endpoints
//     (agent_executor_api.cc, agent_http.cc);
//   - the agent loop (agent_impl.cc) collects ended containers, runs timers, and sends due
//     status updates and queued calls to the master outside the lock.
// Task launches, kills, container exits and status updates live in agent_tasks.cc; forgetting
// and the completed history in agent_history.cc.
//
// Every change to what the checkpoint holds is saved before the lock is released, and before
// a container is launched (so a crash right after a launch still knows the container).
#ifndef STEWARD_AGENT_INTERNAL_AGENT_IMPL_H_
#define STEWARD_AGENT_INTERNAL_AGENT_IMPL_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "agent/agent.h"
#include "agent/containerizer.h"
#include "agent/internal/agent_state.h"
#include "agent/internal/checkpoint_store.h"
#include "agent/internal/master_link.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "proto/mesos/v1/executor/executor.pb.h"
#include "proto/steward/agent.pb.h"
#include "proto/steward/agent_checkpoint.pb.h"

namespace steward::agent {

class AgentImpl {
 public:
  using Clock = std::chrono::steady_clock;

  AgentImpl(AgentOptions options, std::unique_ptr<Containerizer> containerizer,
            std::optional<Checkpoint> checkpoint);
  ~AgentImpl();

  absl::Status Start();
  uint16_t port() const;
  absl::Status Wait();
  void Stop();

 private:
  struct OutgoingCall {
    steward::agent::Call call;
    bool reliable = false;  // Kept and retried until sent; otherwise dropped on failure.
  };

  // ---- agent_impl.cc: lifecycle, loop, checkpoint, recovery.
  void RunLoop();
  // Sends the due status updates and the queued calls; returns when done.
  void SendToMaster(std::vector<steward::agent::Call> updates, std::deque<OutgoingCall> calls);
  void RecoverLocked();
  void SaveCheckpointLocked();
  // When the loop must wake up next.
  Clock::time_point NextWakeLocked(Clock::time_point now) const;
  void WakeLoop();
  void Fail(absl::Status reason);
  mesos::v1::AgentInfo AgentInfoLocked() const;

  // ---- agent_master_events.cc.
  steward::agent::Call BuildSubscribeCall();
  bool OnMasterEvent(const steward::agent::Event& event);
  bool HandleSubscribedLocked(const steward::agent::Event::Subscribed& subscribed);
  void HandleLaunchLocked(const steward::agent::Event::Launch& launch);
  void HandleKillLocked(const steward::agent::Event::Kill& kill);
  void HandleAcknowledgeLocked(const steward::agent::Event::AcknowledgeStatusUpdate& ack);
  void HandleShutdownFrameworkLocked(const std::string& framework_id);
  void HandleShutdownExecutorLocked(const steward::agent::Event::ShutdownExecutor& shutdown);
  void HandleFrameworkMessageLocked(const steward::agent::Event::FrameworkMessage& message);

  // ---- agent_tasks.cc.
  void LaunchCommandTaskLocked(internal::FrameworkRecord& framework,
                               const mesos::v1::TaskInfo& task);
  void LaunchExecutorTaskLocked(internal::FrameworkRecord& framework,
                                const mesos::v1::TaskInfo& task);
  // Starts the container of a (new or relaunched) custom executor.
  absl::Status StartExecutorLocked(internal::FrameworkRecord& framework,
                                   internal::ExecutorRecord& executor,
                                   const mesos::v1::TaskInfo& first_task);
  // Records a task that failed validation or launch and reports `state` for it.
  void RejectTaskLocked(internal::FrameworkRecord& framework, const mesos::v1::TaskInfo& task,
                        mesos::v1::TaskState state, mesos::v1::TaskStatus::Reason reason,
                        const std::string& message);
  void KillTaskLocked(internal::FrameworkRecord& framework, internal::TaskRecord& task,
                      const mesos::v1::KillPolicy* override_policy, bool framework_shutdown);
  void ShutdownExecutorLocked(internal::FrameworkRecord& framework,
                              internal::ExecutorRecord& executor);
  // A recovered custom executor did not subscribe again in time: records what its tasks
  // become (TASK_LOST, or TASK_GONE for a partition-aware framework, with
  // REASON_EXECUTOR_REREGISTRATION_TIMEOUT) and kills its container; the updates follow
  // when the container's exit is reaped.
  void ReregistrationTimeoutLocked(internal::FrameworkRecord& framework,
                                   internal::ExecutorRecord& executor);
  // Reads the pid of the executor's container from the containerizer (0 when unknown).
  void ReadPidLocked(internal::ExecutorRecord& executor);
  void HandleContainerExitLocked(const ContainerExit& exit);
  // The container of `executor` has ended (or vanished): its tasks get their terminal state.
  void ExecutorEndedLocked(internal::FrameworkRecord& framework, internal::ExecutorRecord& executor,
                           const ContainerExit& exit, bool vanished);
  // Appends a status update (uuid, timestamps, ids and container status filled in unless set)
  // and makes `state` the task's latest state. Updates of a shutting-down framework are not
  // kept.
  void AddUpdateLocked(internal::FrameworkRecord& framework, internal::TaskRecord& task,
                       mesos::v1::TaskStatus status);
  mesos::v1::TaskStatus NewStatus(const internal::TaskRecord& task, mesos::v1::TaskState state,
                                  mesos::v1::TaskStatus::Source source,
                                  const std::string& message) const;
  std::chrono::milliseconds KillGrace(const internal::TaskRecord& task,
                                      const mesos::v1::KillPolicy* override_policy) const;
  // Fills status.container_status as a Mesos agent does while the task's container runs:
  // container id, executor pid, and the agent's IP address (containers share the agent's
  // network). Left alone for a task not yet delivered to its executor, once the container
  // has ended, for the agent's own TASK_LOST/DROPPED/GONE, and when the executor named a
  // different container.
  void FillContainerStatusLocked(const internal::FrameworkRecord& framework,
                                 const internal::TaskRecord& task,
                                 mesos::v1::TaskStatus* status) const;
  std::string SandboxFor(const std::string& framework_id, const std::string& executor_id,
                         const std::string& container_id) const;
  // Locates the executor running `container_id`.
  bool FindContainerLocked(const std::string& container_id, internal::FrameworkRecord** framework,
                           internal::ExecutorRecord** executor);

  // ---- agent_history.cc.
  // Forgets the task if terminal and acknowledged, then its executor and framework if empty;
  // each moves into the completed history.
  void MaybeForgetLocked(const std::string& framework_id, const std::string& task_id);
  void MaybeForgetExecutorLocked(const std::string& framework_id, const std::string& executor_id);
  void MaybeForgetFrameworkLocked(const std::string& framework_id);
  // A framework launching again takes its completed executors back from the history.
  void ReviveFrameworkLocked(internal::FrameworkRecord& framework);

  // ---- agent_executor_api.cc.
  void ServeExecutorApi(const common::HttpRequest& request, common::Responder responder);
  void ExecutorSubscribeLocked(internal::FrameworkRecord& framework,
                               internal::ExecutorRecord& executor,
                               const mesos::v1::executor::Call::Subscribe& subscribe, bool json,
                               common::Responder responder);
  // Returns the HTTP status and reason for a bad update (0 when accepted).
  std::pair<int, std::string> ExecutorUpdateLocked(internal::FrameworkRecord& framework,
                                                   internal::ExecutorRecord& executor,
                                                   mesos::v1::TaskStatus status);
  // Writes an event to the executor's stream; drops the stream if the executor is gone.
  void SendToExecutorLocked(internal::ExecutorRecord& executor,
                            const mesos::v1::executor::Event& event);
  void DeliverTaskLocked(internal::ExecutorRecord& executor, internal::TaskRecord& task);
  void SendExecutorHeartbeatsLocked();

  // ---- agent_http.cc.
  void ServeState(common::Responder responder);
  // JSON snapshot (/metrics/snapshot) or Prometheus text (/metrics).
  void ServeMetrics(common::Responder responder, bool prometheus);
  // Sets the gauges derived from the agent's state.
  void RefreshGauges();

  const AgentOptions options_;
  const std::unique_ptr<Containerizer> containerizer_;
  const internal::StatusUpdateStream::RetryPolicy retry_policy_;
  const std::chrono::system_clock::time_point start_time_;
  // The agent's address in container statuses; empty when it cannot be determined (a
  // wildcard --ip whose hostname does not resolve).
  const std::optional<mesos::v1::NetworkInfo> agent_network_;
  internal::CheckpointStore store_;
  common::MetricsRegistry metrics_;
  std::unique_ptr<common::HttpServer> server_;
  std::unique_ptr<internal::MasterLink> link_;

  mutable std::mutex mu_;
  std::condition_variable loop_cv_;
  std::condition_variable done_cv_;
  bool wake_ = false;
  bool started_ = false;
  bool stopping_ = false;
  bool done_ = false;
  absl::Status exit_status_;
  std::optional<mesos::v1::AgentID> agent_id_;
  std::optional<mesos::v1::MasterInfo> master_info_;
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> checkpointed_resources_;
  internal::Frameworks frameworks_;
  std::deque<internal::CompletedFramework> completed_frameworks_;  // Oldest first.
  std::deque<OutgoingCall> outbox_;
  Clock::time_point next_executor_heartbeat_{};
  std::thread loop_;
};

}  // namespace steward::agent

#endif  // STEWARD_AGENT_INTERNAL_AGENT_IMPL_H_
