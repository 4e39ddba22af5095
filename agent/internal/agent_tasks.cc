// Launching and killing tasks and executors, container exits, and status updates.
//
// Task users (CommandInfo.user, FrameworkInfo.user) are not switched to: tasks run as the
// agent's user, like a Mesos agent with --switch_user=false.
#include <sys/wait.h>

#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/internal/agent_impl.h"
#include "agent/internal/ids.h"
#include "common/flags.h"
#include "common/logging.h"

namespace steward::agent {

using internal::ExecutorRecord;
using internal::FrameworkRecord;
using internal::TaskRecord;
using mesos::v1::TaskStatus;

namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

// Sums scalar `name` over `resources`.
double Scalar(const google::protobuf::RepeatedPtrField<mesos::v1::Resource>& resources,
              const std::string& name) {
  double total = 0;
  for (const mesos::v1::Resource& resource : resources) {
    if (resource.name() == name && resource.type() == mesos::v1::Value::SCALAR &&
        std::isfinite(resource.scalar().value()) && resource.scalar().value() > 0) {
      total += resource.scalar().value();
    }
  }
  return total;
}

// The container limits for `resources`, raised to the task's explicit `limits` (+inf or a
// value at or above the allocation lifts the limit to that value; +inf removes it).
void SetLimits(const google::protobuf::RepeatedPtrField<mesos::v1::Resource>& resources,
               const google::protobuf::Map<std::string, mesos::v1::Value::Scalar>& limits,
               ContainerSpec* spec) {
  double cpus = Scalar(resources, "cpus");
  double mem_mb = Scalar(resources, "mem");
  if (auto it = limits.find("cpus"); it != limits.end()) {
    cpus = std::isinf(it->second.value()) ? 0 : std::max(cpus, it->second.value());
  }
  if (auto it = limits.find("mem"); it != limits.end()) {
    mem_mb = std::isinf(it->second.value()) ? 0 : std::max(mem_mb, it->second.value());
  }
  spec->cpus = cpus;
  spec->mem_bytes = static_cast<uint64_t>(std::llround(mem_mb * 1024.0 * 1024.0));
}

// Checks a CommandInfo the agent is asked to run; the reason on failure.
absl::Status ValidateCommand(const mesos::v1::CommandInfo& command, const std::string& what) {
  if (command.value().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no command value"));
  }
  if (command.uris_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": fetching URIs is not supported by Steward agents"));
  }
  for (const auto& variable : command.environment().variables()) {
    if (variable.type() == mesos::v1::Environment::Variable::SECRET) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": secret environment variable '",
                                                     variable.name(), "' is not supported"));
    }
    if (variable.name().empty() || variable.name().find('=') != std::string::npos ||
        variable.name().find('\0') != std::string::npos ||
        variable.value().find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": bad environment variable name '", variable.name(), "'"));
    }
  }
  return absl::OkStatus();
}

// `defaults` first, then the command's own variables, which replace defaults of the same name.
Env Environment(Env defaults, const mesos::v1::CommandInfo& command) {
  std::set<std::string> own;
  for (const auto& variable : command.environment().variables()) own.insert(variable.name());
  Env env;
  for (auto& [name, value] : defaults) {
    if (own.count(name) == 0) env.emplace_back(std::move(name), std::move(value));
  }
  for (const auto& variable : command.environment().variables()) {
    env.emplace_back(variable.name(), variable.value());
  }
  return env;
}

void SetCommand(const mesos::v1::CommandInfo& command, ContainerSpec* spec) {
  spec->shell = command.shell();
  spec->command = command.value();
  spec->arguments.assign(command.arguments().begin(), command.arguments().end());
}

bool HasCapability(const mesos::v1::FrameworkInfo& info,
                   mesos::v1::FrameworkInfo::Capability::Type type) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

std::chrono::milliseconds ToMillis(const mesos::v1::DurationInfo& duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(std::max<int64_t>(0, duration.nanoseconds())));
}

}  // namespace

std::string AgentImpl::SandboxFor(const std::string& framework_id, const std::string& executor_id,
                                  const std::string& container_id) const {
  return absl::StrCat(options_.work_dir, "/slaves/", agent_id_->value(), "/frameworks/",
                      framework_id, "/executors/", executor_id, "/runs/", container_id);
}

std::chrono::milliseconds AgentImpl::KillGrace(const TaskRecord& task,
                                               const mesos::v1::KillPolicy* override_policy) const {
  if (override_policy != nullptr && override_policy->has_grace_period()) {
    return ToMillis(override_policy->grace_period());
  }
  if (task.info.has_kill_policy() && task.info.kill_policy().has_grace_period()) {
    return ToMillis(task.info.kill_policy().grace_period());
  }
  return options_.default_kill_grace_period;
}

TaskStatus AgentImpl::NewStatus(const TaskRecord& task, mesos::v1::TaskState state,
                                TaskStatus::Source source, const std::string& message) const {
  TaskStatus status;
  *status.mutable_task_id() = task.info.task_id();
  status.set_state(state);
  status.set_source(source);
  if (!message.empty()) status.set_message(message);
  return status;
}

void AgentImpl::AddUpdateLocked(FrameworkRecord& framework, TaskRecord& task, TaskStatus status) {
  if (agent_id_.has_value()) *status.mutable_agent_id() = *agent_id_;
  if (!task.executor_id.empty()) status.mutable_executor_id()->set_value(task.executor_id);
  if (!status.has_timestamp()) {
    status.set_timestamp(
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  }
  if (!status.has_uuid()) status.set_uuid(internal::RandomUuidBytes());
  FillContainerStatusLocked(framework, task, &status);
  const bool was_terminal = internal::IsTerminal(task.state);
  task.state = status.state();
  metrics_.GetCounter("slave/valid_status_updates")->Increment();
  if (!was_terminal && internal::IsTerminal(task.state)) {
    switch (task.state) {
      case mesos::v1::TASK_FINISHED:
        metrics_.GetCounter("slave/tasks_finished")->Increment();
        break;
      case mesos::v1::TASK_KILLED:
        metrics_.GetCounter("slave/tasks_killed")->Increment();
        break;
      case mesos::v1::TASK_FAILED:
      case mesos::v1::TASK_ERROR:
        metrics_.GetCounter("slave/tasks_failed")->Increment();
        break;
      default:
        metrics_.GetCounter("slave/tasks_lost")->Increment();
        break;
    }
  }
  STEWARD_LOG(INFO) << "Task " << task.info.task_id().value() << " of framework "
                    << framework.info.id().value() << " is "
                    << mesos::v1::TaskState_Name(status.state())
                    << (status.message().empty() ? "" : ": " + status.message());
  TaskStatus recorded = status;
  recorded.clear_data();
  task.statuses.push_back(std::move(recorded));
  if (framework.shutting_down) return;
  if (absl::Status added = task.updates.Add(std::move(status), Clock::now()); !added.ok()) {
    STEWARD_LOG(WARNING) << "Status update not queued: " << added;
  }
  WakeLoop();
}

void AgentImpl::FillContainerStatusLocked(const FrameworkRecord& framework, const TaskRecord& task,
                                          TaskStatus* status) const {
  auto executor_it = framework.executors.find(task.executor_id);
  if (executor_it == framework.executors.end()) return;
  const ExecutorRecord& executor = executor_it->second;
  if (executor.terminated || executor.pid == 0 || !task.delivered) return;
  if (status->source() == TaskStatus::SOURCE_AGENT &&
      (status->state() == mesos::v1::TASK_LOST || status->state() == mesos::v1::TASK_DROPPED ||
       status->state() == mesos::v1::TASK_GONE)) {
    return;
  }
  if (status->has_container_status() && status->container_status().has_container_id() &&
      status->container_status().container_id().value() != executor.container_id) {
    return;
  }
  mesos::v1::ContainerStatus* container = status->mutable_container_status();
  container->mutable_container_id()->set_value(executor.container_id);
  container->set_executor_pid(executor.pid);
  if (container->network_infos_size() == 0 && agent_network_.has_value()) {
    *container->add_network_infos() = *agent_network_;
  }
}

void AgentImpl::ReadPidLocked(ExecutorRecord& executor) {
  executor.pid = 0;
  absl::StatusOr<int> pid = containerizer_->Pid(executor.container_id);
  if (pid.ok() && *pid > 0) {
    executor.pid = static_cast<uint32_t>(*pid);
  } else if (!pid.ok() && !absl::IsNotFound(pid.status())) {
    STEWARD_LOG(WARNING) << "Cannot read the pid of container " << executor.container_id << ": "
                         << pid.status();
  }
}

void AgentImpl::RejectTaskLocked(FrameworkRecord& framework, const mesos::v1::TaskInfo& info,
                                 mesos::v1::TaskState state, TaskStatus::Reason reason,
                                 const std::string& message) {
  STEWARD_LOG(WARNING) << "Task " << info.task_id().value() << ": " << message;
  auto [it, inserted] = framework.tasks.try_emplace(info.task_id().value(), retry_policy_);
  TaskRecord& task = it->second;
  if (inserted) task.info = info;
  TaskStatus status = NewStatus(task, state, TaskStatus::SOURCE_AGENT, message);
  status.set_reason(reason);
  AddUpdateLocked(framework, task, std::move(status));
}

void AgentImpl::LaunchCommandTaskLocked(FrameworkRecord& framework,
                                        const mesos::v1::TaskInfo& info) {
  const std::string& framework_id = framework.info.id().value();
  const std::string& task_id = info.task_id().value();
  if (absl::Status status = ValidateCommand(info.command(), "command task"); !status.ok()) {
    RejectTaskLocked(framework, info, mesos::v1::TASK_ERROR, TaskStatus::REASON_TASK_INVALID,
                     std::string(status.message()));
    return;
  }
  if (framework.executors.count(task_id) > 0) {
    RejectTaskLocked(framework, info, mesos::v1::TASK_ERROR, TaskStatus::REASON_TASK_INVALID,
                     absl::StrCat("an executor with id '", task_id, "' exists already"));
    return;
  }
  ExecutorRecord& executor = framework.executors[task_id];
  executor.command = true;
  executor.info.mutable_executor_id()->set_value(task_id);
  *executor.info.mutable_framework_id() = framework.info.id();
  executor.info.set_name(absl::StrCat("Command Executor (Task: ", task_id, ")"));
  *executor.info.mutable_command() = info.command();
  *executor.info.mutable_resources() = info.resources();
  executor.container_id = internal::RandomUuidString();
  executor.sandbox = SandboxFor(framework_id, task_id, executor.container_id);
  auto [it, inserted] = framework.tasks.try_emplace(task_id, retry_policy_);
  TaskRecord& task = it->second;
  task.info = info;
  task.executor_id = task_id;
  task.delivered = true;
  SaveCheckpointLocked();  // Before the launch: a crash right after it still knows the container.

  ContainerSpec spec;
  spec.container_id = executor.container_id;
  spec.sandbox = executor.sandbox;
  SetCommand(info.command(), &spec);
  spec.environment = Environment({{"MESOS_FRAMEWORK_ID", framework_id},
                                  {"MESOS_EXECUTOR_ID", task_id},
                                  {"MESOS_TASK_ID", task_id},
                                  {"MESOS_AGENT_ID", agent_id_->value()},
                                  {"MESOS_DIRECTORY", executor.sandbox}},
                                 info.command());
  SetLimits(info.resources(), info.limits(), &spec);
  AddUpdateLocked(framework, task,
                  NewStatus(task, mesos::v1::TASK_STARTING, TaskStatus::SOURCE_EXECUTOR, ""));
  if (absl::Status status = containerizer_->Launch(spec); !status.ok()) {
    executor.terminated = true;
    metrics_.GetCounter("slave/container_launch_errors")->Increment();
    TaskStatus failed =
        NewStatus(task, mesos::v1::TASK_FAILED, TaskStatus::SOURCE_AGENT,
                  absl::StrCat("Failed to launch the container: ", status.message()));
    failed.set_reason(TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
    AddUpdateLocked(framework, task, std::move(failed));
    return;
  }
  ReadPidLocked(executor);
  AddUpdateLocked(framework, task,
                  NewStatus(task, mesos::v1::TASK_RUNNING, TaskStatus::SOURCE_EXECUTOR, ""));
}

void AgentImpl::LaunchExecutorTaskLocked(FrameworkRecord& framework,
                                         const mesos::v1::TaskInfo& info) {
  const std::string& executor_id = info.executor().executor_id().value();
  const auto reject = [&](const std::string& message) {
    RejectTaskLocked(framework, info, mesos::v1::TASK_ERROR, TaskStatus::REASON_TASK_INVALID,
                     message);
  };
  if (absl::Status status = internal::ValidatePathId("executor id", executor_id); !status.ok()) {
    return reject(std::string(status.message()));
  }
  if (absl::Status status = ValidateCommand(info.executor().command(), "executor"); !status.ok()) {
    return reject(std::string(status.message()));
  }
  auto existing = framework.executors.find(executor_id);
  if (existing != framework.executors.end()) {
    if (existing->second.command) {
      return reject(absl::StrCat("executor id '", executor_id, "' is a command task's"));
    }
    if (!existing->second.terminated && (existing->second.shutdown_deadline.has_value() ||
                                         existing->second.pending_termination.has_value())) {
      RejectTaskLocked(framework, info, mesos::v1::TASK_FAILED,
                       TaskStatus::REASON_EXECUTOR_TERMINATED,
                       absl::StrCat("executor '", executor_id, "' is shutting down"));
      return;
    }
  }
  auto [executor_it, new_executor] = framework.executors.try_emplace(executor_id);
  ExecutorRecord& executor = executor_it->second;
  auto [task_it, inserted] = framework.tasks.try_emplace(info.task_id().value(), retry_policy_);
  TaskRecord& task = task_it->second;
  task.info = info;
  task.executor_id = executor_id;
  if (new_executor || executor.terminated) {
    if (absl::Status status = StartExecutorLocked(framework, executor, info); !status.ok()) {
      metrics_.GetCounter("slave/container_launch_errors")->Increment();
      TaskStatus failed = NewStatus(
          task, mesos::v1::TASK_FAILED, TaskStatus::SOURCE_AGENT,
          absl::StrCat("Failed to launch executor '", executor_id, "': ", status.message()));
      failed.set_reason(TaskStatus::REASON_CONTAINER_LAUNCH_FAILED);
      AddUpdateLocked(framework, task, std::move(failed));
      return;
    }
  }
  if (executor.stream.has_value()) DeliverTaskLocked(executor, task);
}

absl::Status AgentImpl::StartExecutorLocked(FrameworkRecord& framework, ExecutorRecord& executor,
                                            const mesos::v1::TaskInfo& first_task) {
  const std::string& framework_id = framework.info.id().value();
  executor.info = first_task.executor();
  *executor.info.mutable_framework_id() = framework.info.id();
  executor.command = false;
  executor.container_id = internal::RandomUuidString();
  const std::string& executor_id = executor.info.executor_id().value();
  executor.sandbox = SandboxFor(framework_id, executor_id, executor.container_id);
  executor.terminated = false;
  executor.stream.reset();
  executor.shutdown_deadline.reset();
  executor.reregister_deadline.reset();
  executor.pending_termination.reset();
  executor.pid = 0;
  SaveCheckpointLocked();

  const std::chrono::milliseconds grace = executor.info.has_shutdown_grace_period()
                                              ? ToMillis(executor.info.shutdown_grace_period())
                                              : options_.executor_shutdown_grace_period;
  ContainerSpec spec;
  spec.container_id = executor.container_id;
  spec.sandbox = executor.sandbox;
  SetCommand(executor.info.command(), &spec);
  spec.environment = Environment(
      {{"MESOS_FRAMEWORK_ID", framework_id},
       {"MESOS_EXECUTOR_ID", executor_id},
       {"MESOS_AGENT_ID", agent_id_->value()},
       {"MESOS_DIRECTORY", executor.sandbox},
       {"MESOS_SANDBOX", executor.sandbox},
       {"MESOS_AGENT_ENDPOINT", absl::StrCat(options_.ip, ":", port())},
       {"MESOS_CHECKPOINT", "1"},
       {"MESOS_RECOVERY_TIMEOUT", common::FormatDuration(options_.executor_recovery_timeout)},
       {"MESOS_SUBSCRIPTION_BACKOFF_MAX",
        common::FormatDuration(options_.executor_subscription_backoff_max)},
       {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", common::FormatDuration(grace)}},
      executor.info.command());
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> resources = executor.info.resources();
  resources.MergeFrom(first_task.resources());
  SetLimits(resources, first_task.limits(), &spec);
  STEWARD_LOG(INFO) << "Starting executor " << executor_id << " of framework " << framework_id
                    << " in container " << executor.container_id;
  if (absl::Status status = containerizer_->Launch(spec); !status.ok()) {
    executor.terminated = true;
    return status;
  }
  ReadPidLocked(executor);
  return absl::OkStatus();
}

void AgentImpl::KillTaskLocked(FrameworkRecord& framework, TaskRecord& task,
                               const mesos::v1::KillPolicy* override_policy,
                               bool framework_shutdown) {
  const std::string& task_id = task.info.task_id().value();
  if (internal::IsTerminal(task.state)) {
    STEWARD_LOG(INFO) << "Not killing task " << task_id << ": it is already "
                      << mesos::v1::TaskState_Name(task.state);
    return;
  }
  auto executor_it = framework.executors.find(task.executor_id);
  if (executor_it == framework.executors.end() || executor_it->second.terminated) return;
  ExecutorRecord& executor = executor_it->second;
  const std::chrono::milliseconds grace = KillGrace(task, override_policy);
  STEWARD_LOG(INFO) << "Killing task " << task_id << " of framework " << framework.info.id().value()
                    << " (grace " << grace.count() << " ms)";
  if (executor.command) {
    if (!framework_shutdown && task.state != mesos::v1::TASK_KILLING &&
        HasCapability(framework.info, mesos::v1::FrameworkInfo::Capability::TASK_KILLING_STATE)) {
      AddUpdateLocked(framework, task,
                      NewStatus(task, mesos::v1::TASK_KILLING, TaskStatus::SOURCE_EXECUTOR, ""));
    }
    task.kill_requested = true;
    if (absl::Status status = containerizer_->Kill(executor.container_id, grace);
        !status.ok() && !absl::IsNotFound(status)) {
      STEWARD_LOG(WARNING) << "Cannot kill container " << executor.container_id << ": " << status;
    }
    return;
  }
  task.kill_requested = true;
  if (!task.delivered) {
    AddUpdateLocked(framework, task,
                    NewStatus(task, mesos::v1::TASK_KILLED, TaskStatus::SOURCE_AGENT,
                              "Killed before it was delivered to its executor"));
    return;
  }
  if (executor.stream.has_value()) {
    mesos::v1::executor::Event event;
    event.set_type(mesos::v1::executor::Event::KILL);
    *event.mutable_kill()->mutable_task_id() = task.info.task_id();
    event.mutable_kill()->mutable_kill_policy()->mutable_grace_period()->set_nanoseconds(
        std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count());
    SendToExecutorLocked(executor, event);
  }
  // Otherwise the KILL goes out when the executor subscribes again.
}

void AgentImpl::ShutdownExecutorLocked(FrameworkRecord& framework, ExecutorRecord& executor) {
  if (executor.terminated) return;
  const std::string& executor_id = executor.info.executor_id().value();
  for (auto& [task_id, task] : framework.tasks) {
    if (task.executor_id == executor_id && !internal::IsTerminal(task.state)) {
      task.kill_requested = true;
    }
  }
  const std::chrono::milliseconds grace = executor.info.has_shutdown_grace_period()
                                              ? ToMillis(executor.info.shutdown_grace_period())
                                              : options_.executor_shutdown_grace_period;
  STEWARD_LOG(INFO) << "Shutting down executor " << executor_id << " of framework "
                    << framework.info.id().value();
  executor.reregister_deadline.reset();  // It is going away either way.
  if (executor.stream.has_value()) {
    mesos::v1::executor::Event event;
    event.set_type(mesos::v1::executor::Event::SHUTDOWN);
    SendToExecutorLocked(executor, event);
    executor.shutdown_deadline = Clock::now() + grace;
  } else if (absl::Status status = containerizer_->Kill(executor.container_id, grace);
             !status.ok() && !absl::IsNotFound(status)) {
    STEWARD_LOG(WARNING) << "Cannot kill container " << executor.container_id << ": " << status;
  }
}

void AgentImpl::ReregistrationTimeoutLocked(FrameworkRecord& framework, ExecutorRecord& executor) {
  const std::string& executor_id = executor.info.executor_id().value();
  const std::string timeout = common::FormatDuration(options_.executor_reregistration_timeout);
  // As Mesos: TASK_GONE, or TASK_LOST for frameworks that do not know TASK_GONE.
  ExecutorTermination termination;
  termination.set_state(
      HasCapability(framework.info, mesos::v1::FrameworkInfo::Capability::PARTITION_AWARE)
          ? mesos::v1::TASK_GONE
          : mesos::v1::TASK_LOST);
  termination.set_reason(TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  termination.set_message(absl::StrCat("Executor did not reregister within ", timeout));
  executor.pending_termination = std::move(termination);
  STEWARD_LOG(WARNING) << "Executor " << executor_id << " of framework "
                       << framework.info.id().value() << " did not subscribe again within "
                       << timeout << " of the agent's recovery; killing container "
                       << executor.container_id;
  absl::Status status = containerizer_->Kill(executor.container_id, std::chrono::milliseconds(0));
  if (absl::IsNotFound(status)) {
    // It ended by itself just now: its exit is on its way and tells what happened.
    executor.pending_termination.reset();
  } else if (!status.ok()) {
    STEWARD_LOG(WARNING) << "Cannot kill container " << executor.container_id << ": " << status;
  }
}

bool AgentImpl::FindContainerLocked(const std::string& container_id, FrameworkRecord** framework,
                                    ExecutorRecord** executor) {
  for (auto& [framework_id, f] : frameworks_) {
    for (auto& [executor_id, e] : f.executors) {
      if (e.container_id == container_id) {
        *framework = &f;
        *executor = &e;
        return true;
      }
    }
  }
  return false;
}

void AgentImpl::HandleContainerExitLocked(const ContainerExit& exit) {
  FrameworkRecord* framework = nullptr;
  ExecutorRecord* executor = nullptr;
  if (!FindContainerLocked(exit.container_id, &framework, &executor)) {
    STEWARD_LOG(WARNING) << "Container " << exit.container_id << " that the agent does not "
                         << "know ended: " << exit.message;
    return;
  }
  const std::string framework_id = framework->info.id().value();
  const std::string executor_id = executor->info.executor_id().value();
  STEWARD_LOG(INFO) << "Container " << exit.container_id << " of executor " << executor_id
                    << " (framework " << framework_id << ") ended: " << exit.message;
  ExecutorEndedLocked(*framework, *executor, exit, /*vanished=*/false);
  std::vector<std::string> task_ids;
  for (const auto& [task_id, task] : framework->tasks) {
    if (task.executor_id == executor_id) task_ids.push_back(task_id);
  }
  for (const std::string& task_id : task_ids) MaybeForgetLocked(framework_id, task_id);
  MaybeForgetExecutorLocked(framework_id, executor_id);
  MaybeForgetFrameworkLocked(framework_id);
  SaveCheckpointLocked();
}

void AgentImpl::ExecutorEndedLocked(FrameworkRecord& framework, ExecutorRecord& executor,
                                    const ContainerExit& exit, bool vanished) {
  executor.terminated = true;
  executor.shutdown_deadline.reset();
  executor.reregister_deadline.reset();
  executor.pid = 0;
  const std::optional<ExecutorTermination> termination = std::move(executor.pending_termination);
  executor.pending_termination.reset();
  if (executor.stream.has_value()) {
    executor.stream->responder.Close();
    executor.stream.reset();
  }
  const std::string& executor_id = executor.info.executor_id().value();
  if (!executor.command && !framework.shutting_down) {
    OutgoingCall exited;
    exited.reliable = true;
    exited.call.set_type(steward::agent::Call::EXECUTOR_EXITED);
    auto* payload = exited.call.mutable_executor_exited();
    *payload->mutable_framework_id() = framework.info.id();
    *payload->mutable_executor_id() = executor.info.executor_id();
    if (!vanished) payload->set_status(exit.wait_status);
    outbox_.push_back(std::move(exited));
    WakeLoop();
  }
  for (auto& [task_id, task] : framework.tasks) {
    if (task.executor_id != executor_id || internal::IsTerminal(task.state)) continue;
    TaskStatus status;
    if (termination.has_value()) {
      status =
          NewStatus(task, termination->state(), TaskStatus::SOURCE_AGENT, termination->message());
      status.set_reason(termination->reason());
    } else if (vanished) {
      status = NewStatus(task, mesos::v1::TASK_FAILED, TaskStatus::SOURCE_AGENT, exit.message);
      status.set_reason(TaskStatus::REASON_EXECUTOR_TERMINATED);
    } else if (exit.oom_killed) {
      status = NewStatus(task, mesos::v1::TASK_FAILED, TaskStatus::SOURCE_AGENT, exit.message);
      status.set_reason(TaskStatus::REASON_CONTAINER_LIMITATION_MEMORY);
      for (const mesos::v1::Resource& resource : task.info.resources()) {
        if (resource.name() == "mem") *status.mutable_limitation()->add_resources() = resource;
      }
    } else if (task.kill_requested || framework.shutting_down) {
      status = NewStatus(task, mesos::v1::TASK_KILLED,
                         executor.command ? TaskStatus::SOURCE_EXECUTOR : TaskStatus::SOURCE_AGENT,
                         exit.message);
    } else if (executor.command) {
      const bool success = WIFEXITED(exit.wait_status) && WEXITSTATUS(exit.wait_status) == 0;
      status = NewStatus(task, success ? mesos::v1::TASK_FINISHED : mesos::v1::TASK_FAILED,
                         TaskStatus::SOURCE_EXECUTOR, exit.message);
    } else {
      status = NewStatus(task, mesos::v1::TASK_FAILED, TaskStatus::SOURCE_AGENT,
                         absl::StrCat("Executor terminated: ", exit.message));
      status.set_reason(TaskStatus::REASON_EXECUTOR_TERMINATED);
    }
    AddUpdateLocked(framework, task, std::move(status));
  }
}

}  // namespace steward::agent
