// Master -> agent events, and the SUBSCRIBE call that reports the agent's state.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/internal/agent_impl.h"
#include "agent/internal/ids.h"
#include "agent/internal/reservations.h"
#include "common/logging.h"

namespace steward::agent {

using internal::ExecutorRecord;
using internal::FrameworkRecord;
using internal::TaskRecord;
using steward::agent::Call;
using steward::agent::Event;

Call AgentImpl::BuildSubscribeCall() {
  std::lock_guard lock(mu_);
  Call call;
  call.set_type(Call::SUBSCRIBE);
  if (agent_id_.has_value()) *call.mutable_agent_id() = *agent_id_;
  Call::Subscribe* subscribe = call.mutable_subscribe();
  *subscribe->mutable_agent_info() = AgentInfoLocked();
  for (const auto type : {mesos::v1::AgentInfo::Capability::MULTI_ROLE,
                          mesos::v1::AgentInfo::Capability::HIERARCHICAL_ROLE,
                          mesos::v1::AgentInfo::Capability::RESERVATION_REFINEMENT}) {
    subscribe->add_capabilities()->set_type(type);
  }
  subscribe->set_version(options_.version);
  for (const auto& [framework_id, framework] : frameworks_) {
    if (framework.shutting_down) continue;
    *subscribe->add_frameworks() = framework.info;
    for (const auto& [task_id, task] : framework.tasks) {
      *subscribe->add_tasks() = internal::ToTask(framework, task, *call.mutable_agent_id());
    }
    for (const auto& [executor_id, executor] : framework.executors) {
      if (executor.command || executor.terminated) continue;
      *subscribe->add_executors() = executor.info;
    }
  }
  *subscribe->mutable_checkpointed_resources() = checkpointed_resources_;
  STEWARD_LOG(INFO) << (agent_id_.has_value()
                            ? "Re-subscribing to the master as agent " + agent_id_->value()
                            : std::string("Subscribing to the master"))
                    << " with " << subscribe->tasks_size() << " task(s)";
  return call;
}

bool AgentImpl::OnMasterEvent(const Event& event) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  switch (event.type()) {
    case Event::SUBSCRIBED:
      return HandleSubscribedLocked(event.subscribed());
    case Event::LAUNCH:
      HandleLaunchLocked(event.launch());
      break;
    case Event::KILL:
      HandleKillLocked(event.kill());
      break;
    case Event::ACKNOWLEDGE_STATUS_UPDATE:
      HandleAcknowledgeLocked(event.acknowledge_status_update());
      break;
    case Event::SHUTDOWN_FRAMEWORK:
      HandleShutdownFrameworkLocked(event.shutdown_framework().framework_id().value());
      break;
    case Event::SHUTDOWN_EXECUTOR:
      HandleShutdownExecutorLocked(event.shutdown_executor());
      break;
    case Event::FRAMEWORK_MESSAGE:
      HandleFrameworkMessageLocked(event.framework_message());
      break;
    case Event::RESERVE:
    case Event::UNRESERVE: {
      const bool reserve = event.type() == Event::RESERVE;
      const auto& resources = reserve ? event.reserve().resources() : event.unreserve().resources();
      absl::Status status =
          reserve ? internal::AddReservations(resources, &checkpointed_resources_)
                  : internal::SubtractReservations(resources, &checkpointed_resources_);
      if (!status.ok()) {
        STEWARD_LOG(ERROR) << "Ignoring " << Event::Type_Name(event.type()) << ": " << status;
        break;
      }
      STEWARD_LOG(INFO) << "Applied " << Event::Type_Name(event.type()) << " of "
                        << resources.size() << " resource(s); " << checkpointed_resources_.size()
                        << " checkpointed reservation(s) now";
      SaveCheckpointLocked();
      break;
    }
    case Event::HEARTBEAT:
      break;
    case Event::ERROR:
      Fail(absl::FailedPreconditionError(
          absl::StrCat("The master refused this agent: ", event.error().message())));
      return false;
    default:
      STEWARD_LOG(WARNING) << "Ignoring master event of unknown type " << event.type();
      break;
  }
  return true;
}

bool AgentImpl::HandleSubscribedLocked(const Event::Subscribed& subscribed) {
  const std::string& id = subscribed.agent_id().value();
  if (agent_id_.has_value() && agent_id_->value() != id) {
    Fail(absl::FailedPreconditionError(
        absl::StrCat("The master assigned agent id ", id, " but this agent is ", agent_id_->value(),
                     " (move ", options_.work_dir, "/meta away to register as a new agent)")));
    return false;
  }
  const bool first = !agent_id_.has_value();
  agent_id_ = subscribed.agent_id();
  if (subscribed.has_master_info()) master_info_ = subscribed.master_info();
  if (first) SaveCheckpointLocked();
  const Clock::time_point now = Clock::now();
  size_t pending = 0;
  for (auto& [framework_id, framework] : frameworks_) {
    for (auto& [task_id, task] : framework.tasks) {
      if (task.updates.empty()) continue;
      task.updates.ResendNow(now);
      ++pending;
    }
  }
  STEWARD_LOG(INFO) << (first ? "Registered" : "Re-registered") << " with the master as agent "
                    << id << "; resending " << pending << " pending status update(s)";
  WakeLoop();
  return true;
}

void AgentImpl::HandleLaunchLocked(const Event::Launch& launch) {
  if (!launch.has_task() || !launch.has_framework_info() || !launch.framework_info().has_id() ||
      launch.framework_info().id().value().empty()) {
    STEWARD_LOG(ERROR) << "Ignoring LAUNCH without a task or a framework id";
    return;
  }
  if (!agent_id_.has_value()) {
    STEWARD_LOG(ERROR) << "Ignoring LAUNCH before the agent has an id";
    return;
  }
  const mesos::v1::TaskInfo& task = launch.task();
  const std::string& framework_id = launch.framework_info().id().value();
  const std::string& task_id = task.task_id().value();
  auto existing = frameworks_.find(framework_id);
  if (existing != frameworks_.end() && existing->second.shutting_down) {
    STEWARD_LOG(WARNING) << "Ignoring LAUNCH of task " << task_id << ": framework " << framework_id
                         << " is shutting down";
    return;
  }
  const bool known = existing != frameworks_.end();
  FrameworkRecord& framework = frameworks_[framework_id];
  framework.info = launch.framework_info();
  if (!known) ReviveFrameworkLocked(framework);
  if (framework.tasks.count(task_id) > 0) {
    STEWARD_LOG(WARNING) << "Ignoring duplicate LAUNCH of task " << task_id << " (framework "
                         << framework_id << ")";
    return;
  }
  STEWARD_LOG(INFO) << "Launching task " << task_id << " of framework " << framework_id;
  const auto invalid = [&](const std::string& message) {
    RejectTaskLocked(framework, task, mesos::v1::TASK_ERROR,
                     mesos::v1::TaskStatus::REASON_TASK_INVALID, message);
  };
  if (absl::Status status = internal::ValidatePathId("framework id", framework_id); !status.ok()) {
    return invalid(std::string(status.message()));
  }
  if (absl::Status status = internal::ValidatePathId("task id", task_id); !status.ok()) {
    return invalid(std::string(status.message()));
  }
  if (task.has_command() == task.has_executor()) {
    return invalid("a task needs exactly one of 'command' and 'executor'");
  }
  if (task.has_command()) {
    LaunchCommandTaskLocked(framework, task);
  } else {
    LaunchExecutorTaskLocked(framework, task);
  }
  SaveCheckpointLocked();
}

void AgentImpl::HandleKillLocked(const Event::Kill& kill) {
  const std::string& framework_id = kill.framework_id().value();
  const std::string& task_id = kill.task_id().value();
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end()) {
    STEWARD_LOG(WARNING) << "Ignoring KILL of task " << task_id << " of unknown framework "
                         << framework_id;
    return;
  }
  auto task = framework->second.tasks.find(task_id);
  if (task == framework->second.tasks.end()) {
    // Tell the master the task is not here, so it stops waiting for it (as Mesos does).
    STEWARD_LOG(WARNING) << "KILL of unknown task " << task_id << " of framework " << framework_id;
    mesos::v1::TaskInfo unknown;
    unknown.set_name("");
    unknown.mutable_task_id()->set_value(task_id);
    *unknown.mutable_agent_id() = *agent_id_;
    bool partition_aware = false;
    for (const auto& capability : framework->second.info.capabilities()) {
      partition_aware |= capability.type() == mesos::v1::FrameworkInfo::Capability::PARTITION_AWARE;
    }
    RejectTaskLocked(framework->second, unknown,
                     partition_aware ? mesos::v1::TASK_DROPPED : mesos::v1::TASK_LOST,
                     mesos::v1::TaskStatus::REASON_TASK_UNKNOWN,
                     "the task is unknown to the agent");
    SaveCheckpointLocked();
    return;
  }
  KillTaskLocked(framework->second, task->second,
                 kill.has_kill_policy() ? &kill.kill_policy() : nullptr,
                 /*framework_shutdown=*/false);
  SaveCheckpointLocked();
}

void AgentImpl::HandleAcknowledgeLocked(const Event::AcknowledgeStatusUpdate& ack) {
  const std::string& framework_id = ack.framework_id().value();
  const std::string& task_id = ack.task_id().value();
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end()) {
    STEWARD_LOG(WARNING) << "Ignoring acknowledgement for unknown framework " << framework_id;
    return;
  }
  auto task = framework->second.tasks.find(task_id);
  if (task == framework->second.tasks.end()) {
    STEWARD_LOG(WARNING) << "Ignoring acknowledgement for unknown task " << task_id;
    return;
  }
  absl::StatusOr<mesos::v1::TaskStatus> acked =
      task->second.updates.Acknowledge(ack.uuid(), Clock::now());
  if (!acked.ok()) {
    STEWARD_LOG(WARNING) << "Ignoring unexpected acknowledgement "
                         << internal::UuidToString(ack.uuid()) << " for task " << task_id
                         << " (duplicate or out of order)";
    return;
  }
  // Executor-generated updates are acknowledged to the executor too.
  auto executor = framework->second.executors.find(task->second.executor_id);
  if (acked->source() == mesos::v1::TaskStatus::SOURCE_EXECUTOR &&
      executor != framework->second.executors.end() && !executor->second.command) {
    mesos::v1::executor::Event event;
    event.set_type(mesos::v1::executor::Event::ACKNOWLEDGED);
    *event.mutable_acknowledged()->mutable_task_id() = acked->task_id();
    event.mutable_acknowledged()->set_uuid(acked->uuid());
    SendToExecutorLocked(executor->second, event);
  }
  MaybeForgetLocked(framework_id, task_id);
  SaveCheckpointLocked();
  WakeLoop();
}

void AgentImpl::HandleShutdownFrameworkLocked(const std::string& framework_id) {
  auto it = frameworks_.find(framework_id);
  if (it == frameworks_.end()) {
    STEWARD_LOG(WARNING) << "Ignoring SHUTDOWN_FRAMEWORK of unknown framework " << framework_id;
    return;
  }
  FrameworkRecord& framework = it->second;
  STEWARD_LOG(INFO) << "Shutting down framework " << framework_id;
  framework.shutting_down = true;
  for (auto& [task_id, task] : framework.tasks) {
    // Updates of a framework being removed are not delivered any more (as Mesos does).
    while (!task.updates.empty()) {
      (void)task.updates.Acknowledge(task.updates.pending().front().uuid(), Clock::now());
    }
  }
  for (auto& [executor_id, executor] : framework.executors) {
    if (executor.command) {
      auto task = framework.tasks.find(executor_id);
      if (task != framework.tasks.end()) {
        KillTaskLocked(framework, task->second, nullptr, /*framework_shutdown=*/true);
      }
    } else {
      ShutdownExecutorLocked(framework, executor);
    }
  }
  std::vector<std::string> task_ids;
  for (const auto& [task_id, task] : framework.tasks) task_ids.push_back(task_id);
  for (const std::string& task_id : task_ids) MaybeForgetLocked(framework_id, task_id);
  MaybeForgetFrameworkLocked(framework_id);
  SaveCheckpointLocked();
}

void AgentImpl::HandleShutdownExecutorLocked(const Event::ShutdownExecutor& shutdown) {
  const std::string& framework_id = shutdown.framework_id().value();
  const std::string& executor_id = shutdown.executor_id().value();
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end() || framework->second.executors.count(executor_id) == 0) {
    STEWARD_LOG(WARNING) << "Ignoring SHUTDOWN_EXECUTOR of unknown executor " << executor_id
                         << " (framework " << framework_id << ")";
    return;
  }
  ExecutorRecord& executor = framework->second.executors.at(executor_id);
  if (executor.command) {
    auto task = framework->second.tasks.find(executor_id);
    if (task != framework->second.tasks.end()) {
      KillTaskLocked(framework->second, task->second, nullptr, /*framework_shutdown=*/false);
    }
  } else {
    ShutdownExecutorLocked(framework->second, executor);
  }
  SaveCheckpointLocked();
}

void AgentImpl::HandleFrameworkMessageLocked(const Event::FrameworkMessage& message) {
  auto framework = frameworks_.find(message.framework_id().value());
  if (framework == frameworks_.end()) {
    STEWARD_LOG(WARNING) << "Dropping framework message for unknown framework "
                         << message.framework_id().value();
    return;
  }
  auto executor = framework->second.executors.find(message.executor_id().value());
  if (executor == framework->second.executors.end() || executor->second.command ||
      !executor->second.stream.has_value()) {
    STEWARD_LOG(WARNING) << "Dropping framework message for executor "
                         << message.executor_id().value()
                         << ": unknown, a command executor, or not subscribed";
    return;
  }
  mesos::v1::executor::Event event;
  event.set_type(mesos::v1::executor::Event::MESSAGE);
  event.mutable_message()->set_data(message.data());
  SendToExecutorLocked(executor->second, event);
}

}  // namespace steward::agent
