// Forgetting tasks, executors and frameworks, and the bounded history /state shows of them.
//
// History limits follow Mesos's agent defaults (--max_completed_executors_per_framework=150,
// 200 completed tasks per executor) plus 50 completed frameworks. The sandbox of an executor
// that falls out of the history is deleted: that bounds the disk sandboxes take.
#include <string>
#include <utility>

#include "agent/internal/agent_impl.h"
#include "agent/internal/file_io.h"
#include "common/logging.h"

namespace steward::agent {

using internal::CompletedExecutor;
using internal::CompletedFramework;
using internal::CompletedTask;

namespace {

constexpr size_t kMaxCompletedTasksPerExecutor = 200;
constexpr size_t kMaxCompletedExecutorsPerFramework = 150;
constexpr size_t kMaxCompletedFrameworks = 50;

void RemoveSandbox(const CompletedExecutor& executor) {
  if (executor.sandbox.empty()) return;
  if (absl::Status status = internal::RemoveTree(executor.sandbox); !status.ok()) {
    STEWARD_LOG(WARNING) << "Cannot remove sandbox " << executor.sandbox << ": " << status;
  }
}

}  // namespace

void AgentImpl::MaybeForgetLocked(const std::string& framework_id, const std::string& task_id) {
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end()) return;
  auto task = framework->second.tasks.find(task_id);
  if (task == framework->second.tasks.end()) return;
  if (!internal::IsTerminal(task->second.state) || !task->second.updates.empty()) return;
  const std::string executor_id = task->second.executor_id;
  auto executor = framework->second.executors.find(executor_id);
  if (executor != framework->second.executors.end()) {
    std::deque<CompletedTask>& completed = executor->second.completed_tasks;
    completed.push_back(
        {std::move(task->second.info), task->second.state, std::move(task->second.statuses)});
    if (completed.size() > kMaxCompletedTasksPerExecutor) completed.pop_front();
  }
  framework->second.tasks.erase(task);
  STEWARD_LOG(INFO) << "Forgot task " << task_id << " of framework " << framework_id;
  if (!executor_id.empty()) MaybeForgetExecutorLocked(framework_id, executor_id);
  MaybeForgetFrameworkLocked(framework_id);
}

void AgentImpl::MaybeForgetExecutorLocked(const std::string& framework_id,
                                          const std::string& executor_id) {
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end()) return;
  auto executor = framework->second.executors.find(executor_id);
  if (executor == framework->second.executors.end() || !executor->second.terminated) return;
  for (const auto& [task_id, task] : framework->second.tasks) {
    if (task.executor_id == executor_id) return;
  }
  std::deque<CompletedExecutor>& completed = framework->second.completed_executors;
  completed.push_back({std::move(executor->second.info), executor->second.command,
                       std::move(executor->second.container_id),
                       std::move(executor->second.sandbox),
                       std::move(executor->second.completed_tasks)});
  if (completed.size() > kMaxCompletedExecutorsPerFramework) {
    RemoveSandbox(completed.front());
    completed.pop_front();
  }
  framework->second.executors.erase(executor);
}

void AgentImpl::MaybeForgetFrameworkLocked(const std::string& framework_id) {
  auto framework = frameworks_.find(framework_id);
  if (framework == frameworks_.end()) return;
  if (!framework->second.tasks.empty() || !framework->second.executors.empty()) return;
  completed_frameworks_.push_back(
      {std::move(framework->second.info), std::move(framework->second.completed_executors)});
  if (completed_frameworks_.size() > kMaxCompletedFrameworks) {
    for (const CompletedExecutor& executor : completed_frameworks_.front().completed_executors) {
      RemoveSandbox(executor);
    }
    completed_frameworks_.pop_front();
  }
  frameworks_.erase(framework);
  STEWARD_LOG(INFO) << "Forgot framework " << framework_id;
}

void AgentImpl::ReviveFrameworkLocked(internal::FrameworkRecord& framework) {
  for (auto it = completed_frameworks_.begin(); it != completed_frameworks_.end(); ++it) {
    if (it->info.id().value() != framework.info.id().value()) continue;
    framework.completed_executors = std::move(it->completed_executors);
    completed_frameworks_.erase(it);
    return;
  }
}

}  // namespace steward::agent
