#include "agent/internal/agent_state.h"

#include <utility>

namespace steward::agent::internal {

void SaveFrameworks(const Frameworks& frameworks, Checkpoint* checkpoint) {
  checkpoint->clear_frameworks();
  for (const auto& [framework_id, framework] : frameworks) {
    CheckpointedFramework* saved = checkpoint->add_frameworks();
    *saved->mutable_info() = framework.info;
    for (const auto& [executor_id, executor] : framework.executors) {
      CheckpointedExecutor* e = saved->add_executors();
      *e->mutable_info() = executor.info;
      e->set_command_executor(executor.command);
      e->set_container_id(executor.container_id);
      e->set_sandbox(executor.sandbox);
      e->set_terminated(executor.terminated);
      if (executor.pending_termination.has_value()) {
        *e->mutable_pending_termination() = *executor.pending_termination;
      }
    }
    for (const auto& [task_id, task] : framework.tasks) {
      CheckpointedTask* t = saved->add_tasks();
      *t->mutable_info() = task.info;
      t->mutable_executor_id()->set_value(task.executor_id);
      t->set_state(task.state);
      for (const mesos::v1::TaskStatus& status : task.updates.pending()) {
        *t->add_pending_updates() = status;
      }
      for (const mesos::v1::TaskStatus& status : task.statuses) *t->add_statuses() = status;
      t->set_kill_requested(task.kill_requested);
      t->set_delivered(task.delivered);
    }
  }
}

Frameworks LoadFrameworks(const Checkpoint& checkpoint, StatusUpdateStream::RetryPolicy policy,
                          std::chrono::steady_clock::time_point now) {
  Frameworks frameworks;
  for (const CheckpointedFramework& saved : checkpoint.frameworks()) {
    FrameworkRecord& framework = frameworks[saved.info().id().value()];
    framework.info = saved.info();
    for (const CheckpointedExecutor& e : saved.executors()) {
      ExecutorRecord& executor = framework.executors[e.info().executor_id().value()];
      executor.info = e.info();
      executor.command = e.command_executor();
      executor.container_id = e.container_id();
      executor.sandbox = e.sandbox();
      executor.terminated = e.terminated();
      if (e.has_pending_termination()) executor.pending_termination = e.pending_termination();
    }
    for (const CheckpointedTask& t : saved.tasks()) {
      auto [it, inserted] = framework.tasks.emplace(t.info().task_id().value(), policy);
      TaskRecord& task = it->second;
      task.info = t.info();
      task.executor_id = t.executor_id().value();
      task.state = t.state();
      for (const mesos::v1::TaskStatus& status : t.pending_updates()) {
        // Uuids were unique when saved; a duplicate would only repeat an update.
        (void)task.updates.Add(status, now);
      }
      task.statuses.assign(t.statuses().begin(), t.statuses().end());
      task.kill_requested = t.kill_requested();
      task.delivered = t.delivered();
    }
  }
  return frameworks;
}

mesos::v1::Task ToTask(const FrameworkRecord& framework, const TaskRecord& task,
                       const mesos::v1::AgentID& agent_id) {
  mesos::v1::Task out;
  out.set_name(task.info.name());
  *out.mutable_task_id() = task.info.task_id();
  *out.mutable_framework_id() = framework.info.id();
  if (task.info.has_executor()) *out.mutable_executor_id() = task.info.executor().executor_id();
  *out.mutable_agent_id() = agent_id;
  out.set_state(task.state);
  *out.mutable_resources() = task.info.resources();
  for (const mesos::v1::TaskStatus& status : task.statuses) *out.add_statuses() = status;
  if (!task.updates.empty()) {
    out.set_status_update_state(task.updates.pending().front().state());
    out.set_status_update_uuid(task.updates.pending().front().uuid());
  }
  if (task.info.has_labels()) *out.mutable_labels() = task.info.labels();
  if (task.info.has_kill_policy()) *out.mutable_kill_policy() = task.info.kill_policy();
  if (!framework.info.user().empty()) out.set_user(framework.info.user());
  *out.mutable_limits() = task.info.limits();
  return out;
}

}  // namespace steward::agent::internal
