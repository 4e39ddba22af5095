// POST /api/v1/agent: Steward's agent protocol (proto/steward/agent.proto), protobuf only.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/mesos_resources.h"
#include "common/recordio.h"
#include "daemon/internal/master_impl.h"

namespace steward::daemon {

using common::HttpRequest;
using common::Responder;

namespace {

// The agent's IP address for offers' `url`: its hostname when that is an IP address (the
// agent's --ip by default), else the address its SUBSCRIBE came from ("IP:PORT").
std::string AgentIp(const std::string& hostname, const std::string& peer) {
  unsigned char address[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, hostname.c_str(), address) == 1 ||
      ::inet_pton(AF_INET6, hostname.c_str(), address) == 1) {
    return hostname;
  }
  return peer.substr(0, peer.rfind(':'));
}

// Refuses a SUBSCRIBE for good: an ERROR event makes the agent stop retrying.
void RefuseAgent(Responder& responder, const std::string& message) {
  agent::Event error;
  error.set_type(agent::Event::ERROR);
  error.mutable_error()->set_message(message);
  responder.StartStream(200, {{"Content-Type", "application/x-protobuf"}});
  responder.Write(common::EncodeRecordIo(error.SerializeAsString()));
  responder.Close();
}

bool IsProtobuf(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string_view type = content_type->substr(0, content_type->find(';'));
  return type == "application/x-protobuf";
}

}  // namespace

void Master::Impl::HandleAgent(const HttpRequest& request, Responder responder) {
  if (!IsProtobuf(request.Header("Content-Type"))) {
    responder.Reply(415, "The agent API takes 'Content-Type: application/x-protobuf'");
    return;
  }
  agent::Call call;
  if (!call.ParseFromString(request.body)) {
    responder.Reply(400, "Failed to parse body into steward.agent.Call");
    return;
  }
  if (!call.has_type() || call.type() == agent::Call::UNKNOWN) {
    responder.Reply(400, "Expecting 'type' to be present and known");
    return;
  }
  if (call.type() == agent::Call::SUBSCRIBE) {
    AgentSubscribe(call, request.peer, std::move(responder));
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  AgentEntry* agent = FindAgent(call.agent_id().value());
  if (agent == nullptr || !agent->connected) {
    responder.Reply(400, absl::StrCat("Agent '", call.agent_id().value(),
                                      "' is not subscribed; subscribe first"));
    return;
  }
  std::optional<std::string_view> stream = request.Header("Mesos-Stream-Id");
  if (!stream || *stream != agent->stream.id) {
    responder.Reply(400, "The 'Mesos-Stream-Id' header does not match the agent's stream");
    return;
  }
  agent->last_seen = Now();
  absl::Status status;
  switch (call.type()) {
    case agent::Call::HEARTBEAT:
      break;
    case agent::Call::STATUS_UPDATE:
      status = AgentStatusUpdates(*agent, call);
      break;
    case agent::Call::EXECUTOR_MESSAGE: {
      const auto& message = call.executor_message();
      FrameworkEntry* framework = FindFramework(message.framework_id().value());
      if (framework == nullptr) {
        status = absl::InvalidArgumentError("Unknown framework");
        break;
      }
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::MESSAGE);
      *event.mutable_message()->mutable_agent_id() = agent->info.id();
      *event.mutable_message()->mutable_executor_id() = message.executor_id();
      event.mutable_message()->set_data(message.data());
      SendFrameworkEvent(*framework, event);
      break;
    }
    case agent::Call::EXECUTOR_EXITED: {
      const auto& exited = call.executor_exited();
      FrameworkEntry* framework = FindFramework(exited.framework_id().value());
      if (framework == nullptr) break;
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::FAILURE);
      *event.mutable_failure()->mutable_agent_id() = agent->info.id();
      *event.mutable_failure()->mutable_executor_id() = exited.executor_id();
      event.mutable_failure()->set_status(exited.status());
      SendFrameworkEvent(*framework, event);
      break;
    }
    default:
      status = absl::InvalidArgumentError("Unsupported call type");
  }
  if (!status.ok()) {
    responder.Reply(400, std::string(status.message()));
    return;
  }
  lock.unlock();  // the reply may be written at once, on this thread
  responder.Reply(202, "");
}

absl::Status Master::Impl::AgentStatusUpdates(AgentEntry& agent, const agent::Call& call) {
  if (call.has_status_update() && call.status_updates_size() > 0) {
    invalid_status_updates_->Increment();
    return absl::InvalidArgumentError(
        "A STATUS_UPDATE call carries 'status_update' or 'status_updates', not both");
  }
  if (call.has_status_update()) {
    if (call.status_update().status().uuid().size() != 16) {
      invalid_status_updates_->Increment();
      return absl::InvalidArgumentError("A status update needs a 16-byte 'uuid'");
    }
    ApplyStatusUpdateLocked(agent, call.status_update());
    return absl::OkStatus();
  }
  if (call.status_updates_size() == 0) {
    invalid_status_updates_->Increment();
    return absl::InvalidArgumentError(
        "Expecting 'status_update' or 'status_updates' to be present");
  }
  // All or nothing: the agent resends the whole call, so applying a prefix would only make
  // the master forward those updates twice.
  for (int i = 0; i < call.status_updates_size(); ++i) {
    const v1::TaskStatus& status = call.status_updates(i).status();
    if (status.uuid().size() != 16) {
      invalid_status_updates_->Increment();
      return absl::InvalidArgumentError(
          absl::StrCat("Status update ", i, " (task '", status.task_id().value(),
                       "') needs a 16-byte 'uuid'; none of the call's ", call.status_updates_size(),
                       " updates was applied"));
    }
  }
  for (const agent::Call::StatusUpdate& update : call.status_updates()) {
    ApplyStatusUpdateLocked(agent, update);
  }
  return absl::OkStatus();
}

void Master::Impl::ApplyStatusUpdateLocked(AgentEntry& agent,
                                           const agent::Call::StatusUpdate& update) {
  const v1::TaskStatus& status = update.status();
  FrameworkEntry* framework = FindFramework(update.framework_id().value());
  if (framework == nullptr) {
    // The framework is gone; the agent was told to shut it down and drops the update.
    invalid_status_updates_->Increment();
    return;
  }
  // Built in place in the framework's UPDATE event (a copy of the status fewer).
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::UPDATE);
  v1::TaskStatus& forwarded = *event.mutable_update()->mutable_status();
  forwarded = status;
  *forwarded.mutable_agent_id() = agent.info.id();
  auto it = framework->tasks.find(status.task_id().value());
  if (it != framework->tasks.end()) {
    TaskEntry& task = it->second;
    const v1::TaskState latest = update.has_latest_state() ? update.latest_state() : status.state();
    UpdateTaskLocked(*framework, task, forwarded, latest);
    task.task.set_status_update_state(status.state());
    task.task.set_status_update_uuid(status.uuid());
  }
  valid_status_updates_->Increment();
  SendFrameworkEvent(*framework, event);
}

void Master::Impl::AgentSubscribe(const agent::Call& call, const std::string& peer,
                                  Responder responder) {
  if (!call.has_subscribe() || !call.subscribe().has_agent_info() ||
      !call.subscribe().agent_info().IsInitialized()) {
    responder.Reply(400, "Expecting 'subscribe.agent_info' with a hostname");
    return;
  }
  const agent::Call::Subscribe& subscribe = call.subscribe();
  v1::AgentInfo info = subscribe.agent_info();
  absl::StatusOr<allocator::Resources> total = common::FromProto(info.resources());
  if (!total.ok()) {
    responder.Reply(400, absl::StrCat("Invalid agent resources: ", total.status().message()));
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    responder.Reply(503, "Master is shutting down");
    return;
  }
  std::string agent_id = info.has_id() ? info.id().value() : "";
  const bool reregister = !agent_id.empty();
  if (reregister) {
    auto gone = unreachable_agents_.find(agent_id);
    if (gone != unreachable_agents_.end() && gone->second.state() == registry::Agent::GONE) {
      RefuseAgent(responder, absl::StrCat("Agent ", agent_id, " has been marked gone"));
      return;
    }
    if (pending_agents_.contains(agent_id)) {
      responder.Reply(503, absl::StrCat("Agent ", agent_id,
                                        " is being admitted by an earlier SUBSCRIBE; retry"));
      return;
    }
  } else {
    agent_id = absl::StrCat(master_id_, "-S", next_agent_++);
    info.mutable_id()->set_value(agent_id);
  }
  const AgentEntry* existing = FindAgent(agent_id);
  if (existing != nullptr && existing->alloc.valid() && !(existing->total == *total)) {
    RefuseAgent(responder,
                absl::StrCat("Agent ", agent_id, " reregistered with resources ", total->ToString(),
                             " but was admitted with ", existing->total.ToString(),
                             "; changing an agent's resources needs a new agent id"));
    return;
  }
  AgentAdmission admission;
  admission.info = info;
  admission.total = *total;
  admission.subscribe = subscribe;
  admission.peer = peer;
  admission.reregister = reregister;
  admission.registered_time = existing != nullptr ? existing->registered_time : WallNow();
  if (existing == nullptr || !existing->alloc.valid()) {
    // The allocator checks the agent now, so that a refusal changes nothing; it stays
    // inactive (offers nothing) until the registry write admits it.
    absl::StatusOr<allocator::AgentId> alloc = AddAgentToAllocatorLocked(info, *total);
    if (!alloc.ok()) {
      responder.Reply(400, absl::StrCat("Cannot admit agent: ", alloc.status().message()));
      return;
    }
    admission.alloc = *alloc;
  }
  admission.responder = std::move(responder);
  pending_agents_.emplace(agent_id, std::move(admission));
  PersistThenLocked([this, agent_id](const absl::Status& status) {
    FinishAgentSubscribeLocked(agent_id, status);
  });
  UnlockAndRunDeferred(lock);
  KickLoop();
}

absl::StatusOr<allocator::AgentId> Master::Impl::AddAgentToAllocatorLocked(
    const v1::AgentInfo& info, const allocator::Resources& total) {
  allocator::AgentInfo alloc_info;
  alloc_info.name = info.id().value();
  alloc_info.total = total;
  for (const v1::Attribute& attribute : info.attributes()) {
    std::string value;
    switch (attribute.type()) {
      case v1::Value::SCALAR:
        value = absl::StrCat(attribute.scalar().value());
        break;
      case v1::Value::TEXT:
        value = attribute.text().value();
        break;
      default:
        value = attribute.ShortDebugString();
    }
    alloc_info.attributes.emplace_back(attribute.name(), value);
  }
  const allocator::EventOutcome added = ApplyLocked(allocator::events::AddAgent{alloc_info});
  if (!added.status.ok()) return added.status;
  SubmitLocked(allocator::events::DeactivateAgent{added.agent()});
  return added.agent();
}

void Master::Impl::FinishAgentSubscribeLocked(const std::string& agent_id,
                                              const absl::Status& status) {
  auto node = pending_agents_.extract(agent_id);
  if (node.empty()) return;
  AgentAdmission& admission = node.mapped();
  Responder& responder = *admission.responder;
  if (!status.ok()) {
    if (admission.alloc.valid()) SubmitLocked(allocator::events::RemoveAgent{admission.alloc});
    responder.Reply(
        503, absl::StrCat("Agent ", agent_id,
                          " was not admitted: the registry write failed: ", status.message()));
    return;
  }
  AgentEntry* agent = FindAgent(agent_id);
  allocator::AgentId alloc = admission.alloc;
  if ((agent == nullptr || !agent->alloc.valid()) && !alloc.valid()) {
    // Marked unreachable while its registry write was in flight: the allocator forgot it.
    absl::StatusOr<allocator::AgentId> added =
        AddAgentToAllocatorLocked(admission.info, admission.total);
    if (!added.ok()) {
      responder.Reply(503, absl::StrCat("Cannot admit agent: ", added.status().message()));
      PersistThenLocked(nullptr);  // the registry lists it admitted; write what is true
      return;
    }
    alloc = *added;
  }
  const bool from_unreachable = unreachable_agents_.erase(agent_id) > 0;
  if (agent == nullptr) {
    auto entry = std::make_unique<AgentEntry>();
    entry->registered_time = admission.registered_time;
    agent = AddAgentLocked(agent_id, std::move(entry));
  }
  if (alloc.valid()) {
    if (agent->alloc.valid()) {
      // Cannot happen: one admission per id at a time.
      SubmitLocked(allocator::events::RemoveAgent{alloc});
    } else {
      agent->alloc = alloc;
      agent_by_alloc_[alloc.value()] = agent_id;
    }
  }
  if (agent->connected && agent->stream.responder) agent->stream.responder->Close();
  const v1::AgentInfo& info = admission.info;
  agent->info = info;
  agent->ip = AgentIp(info.hostname(), admission.peer);
  agent->total = admission.total;
  agent->version = admission.subscribe.version();
  SubmitLocked(allocator::events::ActivateAgent{agent->alloc});
  if (admission.reregister) {
    agent->reregistered_time = WallNow();
    agent_reregistrations_->Increment();
    ReconcileAgentTasksLocked(*agent, admission.subscribe, from_unreachable);
  } else {
    agent_registrations_->Increment();
  }
  agent->recovered = false;
  agent->connected = true;
  agent->last_seen = Now();
  agent->stream.id = UuidText(NewUuidBytes());
  agent->stream.encoding = Encoding::kProtobuf;
  agent->stream.responder = responder;
  const std::string stream_id = agent->stream.id;
  responder.StartStream(
      200, {{"Content-Type", "application/x-protobuf"}, {"Mesos-Stream-Id", stream_id}});
  agent::Event subscribed;
  subscribed.set_type(agent::Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_agent_id() = info.id();
  *subscribed.mutable_subscribed()->mutable_master_info() = MasterInfoProto();
  subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.heartbeat_interval).count());
  subscribed.mutable_subscribed()->set_accepts_status_update_batches(true);
  SendAgentEvent(*agent, subscribed);
  // Kills asked for while the agent was away.
  for (const auto& [framework_id, task_id] : agent->tasks) {
    FrameworkEntry* framework = FindFramework(framework_id);
    if (framework == nullptr || !framework->tasks.contains(task_id)) continue;
    TaskEntry& task = framework->tasks.at(task_id);
    if (!task.kill_pending) continue;
    task.kill_pending = false;
    agent::Event kill;
    kill.set_type(agent::Event::KILL);
    *kill.mutable_kill()->mutable_framework_id() = framework->info.id();
    *kill.mutable_kill()->mutable_task_id() = task.task.task_id();
    if (task.kill_policy) *kill.mutable_kill()->mutable_kill_policy() = *task.kill_policy;
    SendAgentEvent(*agent, kill);
  }
  STEWARD_LOG(INFO) << (admission.reregister ? "Reregistered" : "Registered") << " agent "
                    << agent_id << " at " << info.hostname() << ":" << info.port() << " with "
                    << admission.total.ToString();
  KickLoop();
  // Registered without the lock: the callback takes it, and runs inline if the server stopped.
  after_unlock_.push_back([this, responder, agent_id, stream_id]() mutable {
    responder.OnDisconnect([this, agent_id, stream_id] {
      std::lock_guard<std::mutex> guard(mu_);
      if (stopping_) return;
      if (AgentEntry* a = FindAgent(agent_id); a != nullptr) DisconnectAgentLocked(*a, stream_id);
    });
  });
}

void Master::Impl::ReconcileAgentTasksLocked(AgentEntry& agent,
                                             const agent::Call::Subscribe& subscribe,
                                             bool from_unreachable) {
  const std::string& agent_id = agent.info.id().value();
  std::set<std::string> shut_down;
  for (const v1::FrameworkInfo& info : subscribe.frameworks()) {
    const std::string& id = info.id().value();
    if (removed_framework_ids_.contains(id)) {
      if (shut_down.insert(id).second) {
        agent::Event shutdown;
        shutdown.set_type(agent::Event::SHUTDOWN_FRAMEWORK);
        *shutdown.mutable_shutdown_framework()->mutable_framework_id() = info.id();
        SendAgentEvent(agent, shutdown);
      }
      continue;
    }
    (void)EnsureRecoveredFrameworkLocked(info);
  }
  std::set<std::pair<std::string, std::string>> reported;
  for (const v1::Task& task : subscribe.tasks()) {
    const std::string& framework_id = task.framework_id().value();
    const std::string& task_id = task.task_id().value();
    FrameworkEntry* framework = FindFramework(framework_id);
    if (framework == nullptr) continue;
    reported.insert({framework_id, task_id});
    if (framework->tasks.contains(task_id)) continue;
    // A task the master does not know: the master restarted, or the agent was unreachable.
    const bool partition_aware = UnknownTaskState(*framework) == v1::TASK_UNKNOWN;
    if (from_unreachable && !partition_aware && !common::IsTerminalState(task.state())) {
      agent::Event kill;
      kill.set_type(agent::Event::KILL);
      *kill.mutable_kill()->mutable_framework_id() = task.framework_id();
      *kill.mutable_kill()->mutable_task_id() = task.task_id();
      SendAgentEvent(agent, kill);
      continue;
    }
    TaskEntry entry;
    entry.task = task;
    *entry.task.mutable_agent_id() = agent.info.id();
    absl::StatusOr<allocator::Resources> used = common::FromProto(task.resources());
    std::string role = framework->roles.front();
    for (const v1::Resource& r : task.resources()) {
      if (r.has_allocation_info() && r.allocation_info().has_role()) {
        role = r.allocation_info().role();
      }
    }
    entry.role = role;
    entry.released = true;
    if (used.ok() && !common::IsTerminalState(task.state())) {
      absl::StatusOr<allocator::RoleId> role_id = FindRoleLocked(role);
      if (role_id.ok() &&
          ApplyLocked(allocator::events::AddInUse{framework->alloc, agent.alloc, *role_id, *used})
              .status.ok()) {
        entry.used = *used;
        entry.released = false;
      } else {
        STEWARD_LOG(WARNING) << "Task " << task_id << " on agent " << agent_id
                             << " reports resources " << used->ToString()
                             << " that are not free for role " << role;
      }
    }
    framework->tasks.emplace(task_id, std::move(entry));
    agent.tasks.insert({framework_id, task_id});
  }
  // Tasks the master launched there that the agent does not report never arrived or are gone.
  const auto known = agent.tasks;
  for (const auto& key : known) {
    if (reported.contains(key)) continue;
    FrameworkEntry* framework = FindFramework(key.first);
    if (framework == nullptr || !framework->tasks.contains(key.second)) continue;
    TaskEntry& task = framework->tasks.at(key.second);
    if (!common::IsTerminalState(task.task.state())) {
      v1::TaskStatus status =
          MakeStatus(key.second, agent_id, v1::TASK_LOST, v1::TaskStatus::REASON_AGENT_RESTARTED,
                     "Task was not found on the reregistered agent");
      UpdateTaskLocked(*framework, task, status, v1::TASK_LOST);
      SendStatusToFramework(*framework, status);
    }
    CompleteTaskLocked(*framework, key.second);
  }
}

}  // namespace steward::daemon
