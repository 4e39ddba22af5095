// The Mesos v1 executor HTTP API: POST /api/v1/executor (JSON or protobuf).
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/internal/agent_impl.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/recordio.h"

namespace steward::agent {

using internal::ExecutorRecord;
using internal::FrameworkRecord;
using internal::TaskRecord;
using ExecutorCall = mesos::v1::executor::Call;
using ExecutorEvent = mesos::v1::executor::Event;

namespace {

bool SeenUuid(const TaskRecord& task, const std::string& uuid) {
  for (const mesos::v1::TaskStatus& status : task.statuses) {
    if (status.uuid() == uuid) return true;
  }
  return false;
}

}  // namespace

void AgentImpl::ServeExecutorApi(const common::HttpRequest& request, common::Responder responder) {
  const std::string content_type(request.Header("Content-Type").value_or(""));
  const bool json = absl::StartsWithIgnoreCase(content_type, "application/json");
  if (!json && !absl::StartsWithIgnoreCase(content_type, "application/x-protobuf")) {
    responder.Reply(415,
                    "Expecting 'Content-Type' of application/json or "
                    "application/x-protobuf\n");
    return;
  }
  ExecutorCall call;
  if (json) {
    if (absl::Status status = common::JsonToMessage(request.body, &call); !status.ok()) {
      responder.Reply(
          400, absl::StrCat("Failed to parse the body into a Call: ", status.message(), "\n"));
      return;
    }
  } else if (!call.ParsePartialFromString(request.body)) {
    responder.Reply(400, "Failed to parse the body into a Call protobuf\n");
    return;
  }
  if (!call.IsInitialized()) {
    responder.Reply(
        400,
        absl::StrCat("Call is missing required fields: ", call.InitializationErrorString(), "\n"));
    return;
  }
  if (call.type() == ExecutorCall::UNKNOWN) {
    responder.Reply(400, "Call needs a known 'type'\n");
    return;
  }
  const std::string& framework_id = call.framework_id().value();
  const std::string& executor_id = call.executor_id().value();

  std::lock_guard lock(mu_);
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end() || framework->second.shutting_down) {
    responder.Reply(400, absl::StrCat("Unknown framework '", framework_id, "'\n"));
    return;
  }
  auto executor = framework->second.executors.find(executor_id);
  if (executor == framework->second.executors.end() || executor->second.command) {
    responder.Reply(400, absl::StrCat("Unknown executor '", executor_id, "' of framework '",
                                      framework_id, "'\n"));
    return;
  }
  switch (call.type()) {
    case ExecutorCall::SUBSCRIBE: {
      if (executor->second.terminated) {
        responder.Reply(400, absl::StrCat("Executor '", executor_id, "' has terminated\n"));
        return;
      }
      if (executor->second.pending_termination.has_value()) {
        responder.Reply(400, absl::StrCat("Executor '", executor_id, "' is being killed: ",
                                          executor->second.pending_termination->message(), "\n"));
        return;
      }
      const std::string accept =
          absl::AsciiStrToLower(std::string(request.Header("Accept").value_or("application/json")));
      bool json_events = true;
      if (absl::StrContains(accept, "application/x-protobuf")) {
        json_events = false;
      } else if (!absl::StrContains(accept, "application/json") &&
                 !absl::StrContains(accept, "*/*")) {
        responder.Reply(406,
                        "Expecting 'Accept' to allow application/json or "
                        "application/x-protobuf\n");
        return;
      }
      ExecutorSubscribeLocked(framework->second, executor->second, call.subscribe(), json_events,
                              std::move(responder));
      return;
    }
    case ExecutorCall::UPDATE: {
      if (!call.has_update()) {
        responder.Reply(400, "UPDATE call without 'update'\n");
        return;
      }
      auto [code, reason] =
          ExecutorUpdateLocked(framework->second, executor->second, call.update().status());
      if (code != 0) {
        metrics_.GetCounter("slave/invalid_status_updates")->Increment();
        responder.Reply(code, reason + "\n");
        return;
      }
      responder.Reply(202, "");
      return;
    }
    case ExecutorCall::MESSAGE: {
      if (!call.has_message()) {
        responder.Reply(400, "MESSAGE call without 'message'\n");
        return;
      }
      OutgoingCall message;
      message.call.set_type(steward::agent::Call::EXECUTOR_MESSAGE);
      auto* payload = message.call.mutable_executor_message();
      *payload->mutable_framework_id() = call.framework_id();
      *payload->mutable_executor_id() = call.executor_id();
      payload->set_data(call.message().data());
      outbox_.push_back(std::move(message));
      metrics_.GetCounter("slave/valid_framework_messages")->Increment();
      WakeLoop();
      responder.Reply(202, "");
      return;
    }
    case ExecutorCall::HEARTBEAT:
      responder.Reply(202, "");
      return;
    default:
      responder.Reply(400, absl::StrCat("Unsupported call type ", call.type(), "\n"));
      return;
  }
}

void AgentImpl::ExecutorSubscribeLocked(FrameworkRecord& framework, ExecutorRecord& executor,
                                        const ExecutorCall::Subscribe& subscribe, bool json,
                                        common::Responder responder) {
  const std::string& executor_id = executor.info.executor_id().value();
  if (executor.stream.has_value()) {
    executor.stream->responder.Close();
    executor.stream.reset();
  }
  if (!responder.StartStream(
          200, {{"Content-Type", json ? "application/json" : "application/x-protobuf"}})) {
    return;
  }
  executor.stream = internal::ExecutorStream{std::move(responder), json};
  STEWARD_LOG(INFO) << "Executor " << executor_id << " of framework " << framework.info.id().value()
                    << (executor.reregister_deadline.has_value()
                            ? " subscribed again after the agent's recovery"
                            : " subscribed");
  executor.reregister_deadline.reset();
  ExecutorEvent subscribed;
  subscribed.set_type(ExecutorEvent::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_executor_info() = executor.info;
  *subscribed.mutable_subscribed()->mutable_framework_info() = framework.info;
  *subscribed.mutable_subscribed()->mutable_agent_info() = AgentInfoLocked();
  subscribed.mutable_subscribed()->mutable_container_id()->set_value(executor.container_id);
  SendToExecutorLocked(executor, subscribed);

  // What the executor says it has that the agent does not know (an agent restart in between).
  for (const mesos::v1::TaskInfo& task : subscribe.unacknowledged_tasks()) {
    auto known = framework.tasks.find(task.task_id().value());
    if (known != framework.tasks.end() && known->second.executor_id == executor_id) {
      known->second.delivered = true;
    }
  }
  for (const ExecutorCall::Update& update : subscribe.unacknowledged_updates()) {
    auto known = framework.tasks.find(update.status().task_id().value());
    if (known == framework.tasks.end() || SeenUuid(known->second, update.status().uuid())) {
      continue;
    }
    auto [code, reason] = ExecutorUpdateLocked(framework, executor, update.status());
    if (code != 0) {
      STEWARD_LOG(WARNING) << "Ignoring an unacknowledged update of executor " << executor_id
                           << ": " << reason;
    }
  }
  for (auto& [task_id, task] : framework.tasks) {
    if (task.executor_id != executor_id || internal::IsTerminal(task.state)) continue;
    if (!task.delivered) {
      DeliverTaskLocked(executor, task);
    } else if (task.kill_requested && executor.stream.has_value()) {
      ExecutorEvent kill;
      kill.set_type(ExecutorEvent::KILL);
      *kill.mutable_kill()->mutable_task_id() = task.info.task_id();
      if (task.info.has_kill_policy()) {
        *kill.mutable_kill()->mutable_kill_policy() = task.info.kill_policy();
      }
      SendToExecutorLocked(executor, kill);
    }
  }
  if (executor.shutdown_deadline.has_value() && executor.stream.has_value()) {
    ExecutorEvent shutdown;
    shutdown.set_type(ExecutorEvent::SHUTDOWN);
    SendToExecutorLocked(executor, shutdown);
  }
  SaveCheckpointLocked();
}

std::pair<int, std::string> AgentImpl::ExecutorUpdateLocked(FrameworkRecord& framework,
                                                            ExecutorRecord& executor,
                                                            mesos::v1::TaskStatus status) {
  const std::string& executor_id = executor.info.executor_id().value();
  const std::string task_id = status.task_id().value();
  auto task = framework.tasks.find(task_id);
  if (task == framework.tasks.end()) {
    return {400, absl::StrCat("Unknown task '", task_id, "'")};
  }
  if (task->second.executor_id != executor_id) {
    return {400,
            absl::StrCat("Task '", task_id, "' does not belong to executor '", executor_id, "'")};
  }
  if (status.state() == mesos::v1::TASK_STAGING) {
    return {400, "Executors may not send TASK_STAGING updates"};
  }
  if (status.uuid().size() != 16) {
    return {400, "A status update needs a 16-byte 'uuid'"};
  }
  if (SeenUuid(task->second, status.uuid())) return {0, ""};  // A resend.
  if (internal::IsTerminal(task->second.state)) {
    return {400, absl::StrCat("Task '", task_id, "' is already ",
                              mesos::v1::TaskState_Name(task->second.state))};
  }
  status.set_source(mesos::v1::TaskStatus::SOURCE_EXECUTOR);
  task->second.delivered = true;
  AddUpdateLocked(framework, task->second, std::move(status));
  SaveCheckpointLocked();
  return {0, ""};
}

void AgentImpl::SendToExecutorLocked(ExecutorRecord& executor, const ExecutorEvent& event) {
  if (!executor.stream.has_value()) return;
  std::string payload;
  if (executor.stream->json) {
    absl::StatusOr<std::string> json = common::MessageToJson(event);
    if (!json.ok()) {
      STEWARD_LOG(ERROR) << "Cannot print an executor event as JSON: " << json.status();
      return;
    }
    payload = std::move(*json);
  } else {
    payload = event.SerializePartialAsString();
  }
  if (!executor.stream->responder.Write(common::EncodeRecordIo(payload))) {
    STEWARD_LOG(WARNING) << "Executor " << executor.info.executor_id().value()
                         << " is no longer subscribed";
    executor.stream.reset();
  }
}

void AgentImpl::DeliverTaskLocked(ExecutorRecord& executor, TaskRecord& task) {
  ExecutorEvent launch;
  launch.set_type(ExecutorEvent::LAUNCH);
  *launch.mutable_launch()->mutable_task() = task.info;
  SendToExecutorLocked(executor, launch);
  if (executor.stream.has_value()) task.delivered = true;
}

void AgentImpl::SendExecutorHeartbeatsLocked() {
  ExecutorEvent heartbeat;
  heartbeat.set_type(ExecutorEvent::HEARTBEAT);
  for (auto& [framework_id, framework] : frameworks_) {
    for (auto& [executor_id, executor] : framework.executors) {
      SendToExecutorLocked(executor, heartbeat);
    }
  }
}

}  // namespace steward::agent
