// POST /api/v1/scheduler: the Mesos v1 scheduler HTTP API.
//
// Validation that concerns the whole call (encoding, missing fields, stream id, unknown or
// foreign offers, unsupported operations, resources beyond the offers) is answered with a 4xx
// and a reason, and changes nothing. Problems of single tasks in an otherwise valid ACCEPT
// (duplicate or malformed ids, neither or both of command and executor, no resources) are
// reported as Mesos does: a TASK_ERROR update with REASON_TASK_INVALID, while the other tasks
// launch.
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/mesos_resources.h"
#include "common/recordio.h"
#include "daemon/internal/master_impl.h"

namespace steward::daemon {

using common::HttpRequest;
using common::Responder;
using v1::scheduler::Call;

namespace {

constexpr double kDefaultRefuseSeconds = 5.0;

bool HasCapability(const v1::FrameworkInfo& info, v1::FrameworkInfo::Capability::Type type) {
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == type) return true;
  }
  return false;
}

std::vector<std::string> RolesOf(const v1::FrameworkInfo& info) {
  std::vector<std::string> roles(info.roles().begin(), info.roles().end());
  if (roles.empty()) roles.push_back(info.role());
  return roles;
}

// A task id Mesos accepts: non-empty, no '/', no NUL, not "." or "..".
absl::Status ValidateTaskId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("Task ID is empty");
  if (id == "." || id == "..") return absl::InvalidArgumentError("Task ID is '.' or '..'");
  for (char c : id) {
    if (c == '/' || c == '\0' || static_cast<unsigned char>(c) < 0x20) {
      return absl::InvalidArgumentError("Task ID contains '/' or a control character");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> RefuseSeconds(bool has_filters, const v1::Filters& filters) {
  if (!has_filters || !filters.has_refuse_seconds()) return kDefaultRefuseSeconds;
  const double refuse = filters.refuse_seconds();
  if (std::isnan(refuse) || refuse < 0) {
    return absl::InvalidArgumentError("filters.refuse_seconds must be a non-negative number");
  }
  return refuse;
}

}  // namespace

void Master::Impl::HandleScheduler(const HttpRequest& request, Responder responder) {
  int http_status = 400;
  absl::StatusOr<Negotiated> negotiated = Negotiate(request, &http_status);
  if (!negotiated.ok()) {
    invalid_framework_calls_->Increment();
    responder.Reply(http_status, std::string(negotiated.status().message()));
    return;
  }
  Call call;
  if (absl::Status status =
          ParseBody(request.body, negotiated->body, options_.max_json_depth, &call);
      !status.ok()) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, std::string(status.message()));
    return;
  }
  if (!call.has_type() || call.type() == Call::UNKNOWN) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, "Expecting 'type' to be present and known");
    return;
  }
  if (call.type() == Call::SUBSCRIBE) {
    Subscribe(call, negotiated->answer, std::move(responder));
    return;
  }
  if (!call.has_framework_id() || call.framework_id().value().empty()) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, absl::StrCat("Expecting 'framework_id' to be present for ",
                                      Call::Type_Name(call.type())));
    return;
  }
  std::optional<std::string_view> stream_header = request.Header("Mesos-Stream-Id");
  std::unique_lock<std::mutex> lock(mu_);
  const std::string& framework_id = call.framework_id().value();
  FrameworkEntry* framework = FindFramework(framework_id);
  if (framework == nullptr || !framework->connected) {
    invalid_framework_calls_->Increment();
    responder.Reply(403, removed_framework_ids_.contains(framework_id)
                             ? absl::StrCat("Framework ", framework_id, " has been removed")
                             : absl::StrCat("Framework ", framework_id, " is not subscribed"));
    return;
  }
  if (!stream_header || *stream_header != framework->stream.id) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, stream_header
                             ? absl::StrCat("The stream ID '", std::string(*stream_header),
                                            "' included in this request didn't match the "
                                            "stream ID currently associated with framework ID ",
                                            framework_id)
                             : std::string("All non-subscribe calls should include the "
                                           "'Mesos-Stream-Id' header"));
    return;
  }
  absl::Status status;
  switch (call.type()) {
    case Call::TEARDOWN:
      RemoveFrameworkLocked(framework_id, "framework requested teardown");
      break;
    case Call::ACCEPT:
      status = call.has_accept() ? HandleAccept(*framework, call.accept())
                                 : absl::InvalidArgumentError("Expecting 'accept' to be present");
      break;
    case Call::DECLINE:
      status = call.has_decline() ? HandleDecline(*framework, call.decline())
                                  : absl::InvalidArgumentError("Expecting 'decline' to be present");
      break;
    case Call::REVIVE:
      status = HandleReviveSuppress(*framework, call.revive().roles(), /*revive=*/true);
      break;
    case Call::SUPPRESS:
      status = HandleReviveSuppress(*framework, call.suppress().roles(), /*revive=*/false);
      break;
    case Call::KILL:
      status = call.has_kill() ? HandleKill(*framework, call.kill())
                               : absl::InvalidArgumentError("Expecting 'kill' to be present");
      break;
    case Call::ACKNOWLEDGE:
      status = call.has_acknowledge()
                   ? HandleAcknowledge(*framework, call.acknowledge())
                   : absl::InvalidArgumentError("Expecting 'acknowledge' to be present");
      break;
    case Call::RECONCILE:
      HandleReconcile(*framework, call.reconcile());
      break;
    case Call::SHUTDOWN: {
      if (!call.has_shutdown()) {
        status = absl::InvalidArgumentError("Expecting 'shutdown' to be present");
        break;
      }
      AgentEntry* agent = FindAgent(call.shutdown().agent_id().value());
      if (agent == nullptr) {
        status = absl::InvalidArgumentError(
            absl::StrCat("Unknown agent ", call.shutdown().agent_id().value()));
        break;
      }
      agent::Event event;
      event.set_type(agent::Event::SHUTDOWN_EXECUTOR);
      *event.mutable_shutdown_executor()->mutable_framework_id() = framework->info.id();
      *event.mutable_shutdown_executor()->mutable_executor_id() = call.shutdown().executor_id();
      SendAgentEvent(*agent, event);
      break;
    }
    case Call::MESSAGE: {
      if (!call.has_message()) {
        status = absl::InvalidArgumentError("Expecting 'message' to be present");
        break;
      }
      AgentEntry* agent = FindAgent(call.message().agent_id().value());
      if (agent == nullptr || !agent->connected) {
        status = absl::InvalidArgumentError(absl::StrCat(
            "Agent ", call.message().agent_id().value(), " is unknown or not connected"));
        break;
      }
      agent::Event event;
      event.set_type(agent::Event::FRAMEWORK_MESSAGE);
      *event.mutable_framework_message()->mutable_framework_id() = framework->info.id();
      *event.mutable_framework_message()->mutable_executor_id() = call.message().executor_id();
      event.mutable_framework_message()->set_data(call.message().data());
      SendAgentEvent(*agent, event);
      break;
    }
    default:
      status = absl::InvalidArgumentError(
          absl::StrCat("Call type ", Call::Type_Name(call.type()), " is not supported by Steward"));
      break;
  }
  if (!status.ok()) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, std::string(status.message()));
    return;
  }
  valid_framework_calls_->Increment();
  lock.unlock();  // the reply may be written at once, on this thread
  responder.Reply(202, "");
}

void Master::Impl::Subscribe(const Call& call, Encoding encoding, Responder responder) {
  if (!call.has_subscribe()) {
    invalid_framework_calls_->Increment();
    responder.Reply(400, "Expecting 'subscribe' to be present");
    return;
  }
  v1::FrameworkInfo info = call.subscribe().framework_info();
  if (call.has_framework_id() && info.has_id() &&
      call.framework_id().value() != info.id().value()) {
    responder.Reply(400, "'framework_id' differs from 'subscribe.framework_info.id'");
    return;
  }
  if (call.has_framework_id() && !info.has_id()) *info.mutable_id() = call.framework_id();
  const std::vector<std::string> roles = RolesOf(info);
  std::set<std::string> unique_roles(roles.begin(), roles.end());
  if (unique_roles.size() != roles.size()) {
    responder.Reply(400, "'framework_info.roles' contains duplicates");
    return;
  }
  for (const std::string& role : roles) {
    if (absl::Status s = allocator::ValidateRolePath(role); !s.ok()) {
      responder.Reply(400, absl::StrCat("Invalid role '", role, "': ", s.message()));
      return;
    }
  }
  for (const std::string& role : call.subscribe().suppressed_roles()) {
    if (!unique_roles.contains(role)) {
      responder.Reply(
          400, absl::StrCat("Suppressed role '", role, "' is not one of the framework's roles"));
      return;
    }
  }
  if (std::isnan(info.failover_timeout()) || info.failover_timeout() < 0) {
    responder.Reply(400, "'failover_timeout' must be a non-negative number");
    return;
  }

  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) {
    responder.Reply(503, "Master is shutting down");
    return;
  }
  FrameworkAdmission admission;
  if (info.has_id()) {
    const std::string& id = info.id().value();
    if (removed_framework_ids_.contains(id)) {
      responder.Reply(403, absl::StrCat("Framework ", id, " has been removed"));
      return;
    }
    if (pending_frameworks_.contains(id)) {
      responder.Reply(
          503, absl::StrCat("Framework ", id, " is being subscribed by an earlier call; retry"));
      return;
    }
    const FrameworkEntry* existing = FindFramework(id);
    if (existing != nullptr &&
        std::set<std::string>(existing->roles.begin(), existing->roles.end()) != unique_roles) {
      responder.Reply(400, "Changing a framework's roles on resubscription is not supported");
      return;
    }
    admission.resubscribe = true;
    admission.registered_time = existing != nullptr ? existing->registered_time : 0;
  } else {
    info.mutable_id()->set_value(
        absl::StrCat(master_id_, "-", absl::Dec(next_framework_++, absl::kZeroPad4)));
  }
  if (admission.registered_time == 0) admission.registered_time = WallNow();
  const std::string framework_id = info.id().value();
  admission.info = std::move(info);
  admission.subscribe = call.subscribe();
  admission.encoding = encoding;
  admission.responder = std::move(responder);
  pending_frameworks_.emplace(framework_id, std::move(admission));
  PersistThenLocked([this, framework_id](const absl::Status& status) {
    FinishSubscribeLocked(framework_id, status);
  });
  UnlockAndRunDeferred(lock);
}

void Master::Impl::FinishSubscribeLocked(const std::string& framework_id,
                                         const absl::Status& status) {
  auto node = pending_frameworks_.extract(framework_id);
  if (node.empty()) return;
  FrameworkAdmission& admission = node.mapped();
  Responder& responder = *admission.responder;
  const v1::FrameworkInfo& info = admission.info;
  if (!status.ok()) {
    responder.Reply(
        503, absl::StrCat("Framework ", framework_id,
                          " was not subscribed: the registry write failed: ", status.message()));
    return;
  }
  if (removed_framework_ids_.contains(framework_id)) {  // torn down meanwhile
    responder.Reply(403, absl::StrCat("Framework ", framework_id, " has been removed"));
    return;
  }
  FrameworkEntry* framework = FindFramework(framework_id);
  if (framework == nullptr) {
    absl::StatusOr<FrameworkEntry*> created = EnsureRecoveredFrameworkLocked(info);
    if (!created.ok()) {
      invalid_framework_calls_->Increment();
      responder.Reply(400, std::string(created.status().message()));
      PersistThenLocked(nullptr);  // the registry lists it; write what is true
      return;
    }
    framework = *created;
    framework->registered_time = admission.registered_time;
  }
  // A framework that subscribes again (failover to a new scheduler instance) replaces the
  // old stream, which is told why and closed.
  if (framework->connected && framework->stream.responder) {
    v1::scheduler::Event error;
    error.set_type(v1::scheduler::Event::ERROR);
    error.mutable_error()->set_message("Framework failed over");
    SendFrameworkEvent(*framework, error);
    framework->stream.responder->Close();
    RemoveFrameworkOffersLocked(*framework, /*send_events=*/false);
  }
  framework->info = info;
  framework->recovered = false;
  framework->connected = true;
  framework->failover_deadline.reset();
  framework->unregistered_time = 0;
  if (admission.resubscribe) framework->reregistered_time = WallNow();
  if (framework->registered_time == 0) framework->registered_time = admission.registered_time;
  framework->stream.id = UuidText(NewUuidBytes());
  framework->stream.encoding = admission.encoding;
  framework->stream.responder = responder;
  SubmitLocked(allocator::events::ActivateFramework{framework->alloc});
  framework->suppressed_roles.clear();
  const auto& suppressed = admission.subscribe.suppressed_roles();
  for (const std::string& role : framework->roles) {
    absl::StatusOr<allocator::RoleId> role_id = FindRoleLocked(role);
    if (!role_id.ok()) continue;
    if (std::find(suppressed.begin(), suppressed.end(), role) != suppressed.end()) {
      SubmitLocked(allocator::events::Suppress{framework->alloc, *role_id});
      framework->suppressed_roles.insert(role);
    } else {
      SubmitLocked(allocator::events::Revive{framework->alloc, *role_id});
    }
  }
  const std::string stream_id = framework->stream.id;
  responder.StartStream(200, {{"Content-Type", ContentTypeOf(admission.encoding)},
                              {"Mesos-Stream-Id", stream_id},
                              {"Cache-Control", "no-cache"}});
  v1::scheduler::Event subscribed;
  subscribed.set_type(v1::scheduler::Event::SUBSCRIBED);
  *subscribed.mutable_subscribed()->mutable_framework_id() = info.id();
  subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(
      std::chrono::duration<double>(options_.heartbeat_interval).count());
  *subscribed.mutable_subscribed()->mutable_master_info() = MasterInfoProto();
  SendFrameworkEvent(*framework, subscribed);
  valid_framework_calls_->Increment();
  STEWARD_LOG(INFO) << (admission.resubscribe ? "Resubscribed" : "Subscribed") << " framework "
                    << framework_id << " (" << info.name() << ") with roles "
                    << absl::StrJoin(framework->roles, ",");
  KickLoop();
  // Registered without the lock: the callback takes it, and runs inline if the server stopped.
  after_unlock_.push_back([this, responder, framework_id, stream_id]() mutable {
    responder.OnDisconnect([this, framework_id, stream_id] {
      std::lock_guard<std::mutex> guard(mu_);
      if (stopping_) return;
      if (FrameworkEntry* f = FindFramework(framework_id); f != nullptr) {
        DisconnectFrameworkLocked(*f, stream_id);
      }
    });
  });
}

absl::Status Master::Impl::HandleAccept(FrameworkEntry& framework, const Call::Accept& accept) {
  if (accept.offer_ids_size() == 0) {
    return absl::InvalidArgumentError("ACCEPT needs at least one offer id");
  }
  absl::StatusOr<double> refuse = RefuseSeconds(accept.has_filters(), accept.filters());
  if (!refuse.ok()) return refuse.status();
  // 1. The offers: outstanding, this framework's, distinct, on one agent.
  std::set<std::string> offer_ids;
  std::string agent_id;
  std::map<std::string, allocator::Resources> offered;  // by role name
  for (const v1::OfferID& id : accept.offer_ids()) {
    auto it = offers_.find(id.value());
    if (it == offers_.end() || it->second.framework_id != framework.info.id().value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Offer ", id.value(),
          " is not outstanding for this framework (unknown, or already accepted, declined or "
          "rescinded)"));
    }
    if (!offer_ids.insert(id.value()).second) {
      return absl::InvalidArgumentError(absl::StrCat("Offer ", id.value(), " is listed twice"));
    }
    if (!agent_id.empty() && agent_id != it->second.agent_id) {
      return absl::InvalidArgumentError("Offers of one ACCEPT must all be on the same agent");
    }
    agent_id = it->second.agent_id;
    (void)offered[RoleNameLocked(it->second.role)].Add(it->second.resources);
  }
  AgentEntry* agent = FindAgent(agent_id);
  // 2. The operations: only LAUNCH; every task's resources parse, have a role, and fit.
  struct Launch {
    const v1::TaskInfo* info;
    std::string role;
    allocator::Resources resources;
    std::string invalid;  // non-empty: reported as TASK_ERROR
  };
  std::vector<Launch> launches;
  std::map<std::string, allocator::Resources> used;  // by role
  std::set<std::string> ids_in_call;
  for (const v1::Offer::Operation& operation : accept.operations()) {
    if (operation.type() != v1::Offer::Operation::LAUNCH) {
      return absl::InvalidArgumentError(
          absl::StrCat("Operation ", v1::Offer::Operation::Type_Name(operation.type()),
                       " is not supported by Steward (it supports LAUNCH)"));
    }
    for (const v1::TaskInfo& task : operation.launch().task_infos()) {
      Launch launch{&task, "", {}, ""};
      absl::StatusOr<allocator::Resources> resources = common::FromProto(task.resources());
      if (!resources.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Task '", task.task_id().value(), "': ", resources.status().message()));
      }
      launch.resources = *resources;
      // The role: the resources' allocation_info, else the single role of the offers.
      std::set<std::string> roles;
      for (const v1::Resource& r : task.resources()) {
        if (r.has_allocation_info() && r.allocation_info().has_role()) {
          roles.insert(r.allocation_info().role());
        }
      }
      if (roles.empty() && offered.size() == 1) roles.insert(offered.begin()->first);
      if (roles.size() != 1 || !offered.contains(*roles.begin())) {
        return absl::InvalidArgumentError(
            absl::StrCat("Task '", task.task_id().value(),
                         "': its resources must carry the allocation role of one of the offers"));
      }
      launch.role = *roles.begin();
      if (absl::Status s = ValidateTaskId(task.task_id().value()); !s.ok()) {
        launch.invalid = std::string(s.message());
      } else if (framework.tasks.contains(task.task_id().value()) ||
                 !ids_in_call.insert(task.task_id().value()).second) {
        launch.invalid = "Task has duplicate ID";
      } else if (task.agent_id().value() != agent_id) {
        launch.invalid = absl::StrCat("Task uses agent ", task.agent_id().value(),
                                      " but the offers are on agent ", agent_id);
      } else if (task.has_command() == task.has_executor()) {
        launch.invalid = "Task must have exactly one of 'command' and 'executor'";
      } else if (launch.resources.empty()) {
        launch.invalid = "Task uses no resources";
      } else if (task.has_executor() &&
                 task.executor().framework_id().value() != framework.info.id().value() &&
                 task.executor().has_framework_id()) {
        launch.invalid = "ExecutorInfo has another framework's id";
      }
      if (launch.invalid.empty()) {
        if (absl::Status s = used[launch.role].Add(launch.resources); !s.ok()) {
          return absl::InvalidArgumentError(std::string(s.message()));
        }
      }
      launches.push_back(std::move(launch));
    }
  }
  for (const auto& [role, resources] : used) {
    if (!offered[role].Contains(resources)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Tasks use resources beyond the offers: they need ", resources.ToString(),
                       " of role '", role, "' but the offers hold ", offered[role].ToString()));
    }
  }
  // 3. Commit: take the offers, launch the valid tasks, decline what is left.
  for (const std::string& id : offer_ids) TakeOfferLocked(id);
  for (const Launch& launch : launches) {
    const v1::TaskInfo& info = *launch.info;
    if (!launch.invalid.empty()) {
      tasks_error_->Increment();
      SendStatusToFramework(framework,
                            MakeStatus(info.task_id().value(), agent_id, v1::TASK_ERROR,
                                       v1::TaskStatus::REASON_TASK_INVALID, launch.invalid));
      continue;
    }
    TaskEntry entry;
    v1::Task& task = entry.task;
    task.set_name(info.name());
    *task.mutable_task_id() = info.task_id();
    *task.mutable_framework_id() = framework.info.id();
    if (info.has_executor()) *task.mutable_executor_id() = info.executor().executor_id();
    *task.mutable_agent_id() = info.agent_id();
    task.set_state(v1::TASK_STAGING);
    *task.mutable_resources() =
        common::ToProto(launch.resources, v1::Resource::ReservationInfo::STATIC, launch.role);
    if (info.has_labels()) *task.mutable_labels() = info.labels();
    if (info.has_kill_policy()) *task.mutable_kill_policy() = info.kill_policy();
    task.set_user(framework.info.user());
    entry.used = launch.resources;
    entry.role = launch.role;
    if (info.has_executor()) entry.executor = info.executor();
    framework.tasks.emplace(info.task_id().value(), std::move(entry));
    agent->tasks.insert({framework.info.id().value(), info.task_id().value()});
    agent::Event event;
    event.set_type(agent::Event::LAUNCH);
    *event.mutable_launch()->mutable_framework_info() = framework.info;
    v1::TaskInfo* launched = event.mutable_launch()->mutable_task();
    *launched = info;
    if (launched->has_executor() && !launched->executor().has_framework_id()) {
      *launched->mutable_executor()->mutable_framework_id() = framework.info.id();
    }
    SendAgentEvent(*agent, event);
    tasks_launched_->Increment();
  }
  const double now = Now();
  for (auto& [role, resources] : offered) {
    allocator::Resources left = resources;
    if (used.contains(role)) (void)left.Subtract(used[role]);
    if (left.empty()) continue;
    absl::StatusOr<allocator::RoleId> role_id = FindRoleLocked(role);
    if (!role_id.ok()) continue;
    SubmitLocked(
        allocator::events::Decline{framework.alloc, agent->alloc, *role_id, left, *refuse, now});
  }
  return absl::OkStatus();
}

absl::Status Master::Impl::HandleDecline(FrameworkEntry& framework, const Call::Decline& decline) {
  absl::StatusOr<double> refuse = RefuseSeconds(decline.has_filters(), decline.filters());
  if (!refuse.ok()) return refuse.status();
  std::set<std::string> ids;
  for (const v1::OfferID& id : decline.offer_ids()) {
    auto it = offers_.find(id.value());
    if (it == offers_.end() || it->second.framework_id != framework.info.id().value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Offer ", id.value(),
          " is not outstanding for this framework (unknown, or already accepted, declined or "
          "rescinded)"));
    }
    ids.insert(id.value());
  }
  const double now = Now();
  for (const std::string& id : ids) {
    OfferEntry offer = TakeOfferLocked(id);
    AgentEntry* agent = FindAgent(offer.agent_id);
    SubmitLocked(allocator::events::Decline{framework.alloc, agent->alloc, offer.role,
                                            std::move(offer.resources), *refuse, now});
    offers_declined_->Increment();
  }
  return absl::OkStatus();
}

absl::Status Master::Impl::HandleReviveSuppress(
    FrameworkEntry& framework, const google::protobuf::RepeatedPtrField<std::string>& roles,
    bool revive) {
  std::vector<std::string> targets(roles.begin(), roles.end());
  if (targets.empty()) targets = framework.roles;
  for (const std::string& role : targets) {
    if (std::find(framework.roles.begin(), framework.roles.end(), role) == framework.roles.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Role '", role, "' is not one of the framework's roles"));
    }
  }
  for (const std::string& role : targets) {
    absl::StatusOr<allocator::RoleId> role_id = FindRoleLocked(role);
    if (!role_id.ok()) continue;
    if (revive) {
      SubmitLocked(allocator::events::Revive{framework.alloc, *role_id});
      framework.suppressed_roles.erase(role);
    } else {
      SubmitLocked(allocator::events::Suppress{framework.alloc, *role_id});
      framework.suppressed_roles.insert(role);
    }
  }
  if (revive) KickLoop();
  return absl::OkStatus();
}

v1::TaskState Master::Impl::UnknownTaskState(const FrameworkEntry& framework) const {
  return HasCapability(framework.info, v1::FrameworkInfo::Capability::PARTITION_AWARE)
             ? v1::TASK_UNKNOWN
             : v1::TASK_LOST;
}

absl::Status Master::Impl::HandleKill(FrameworkEntry& framework, const Call::Kill& kill) {
  const std::string& task_id = kill.task_id().value();
  auto it = framework.tasks.find(task_id);
  if (it == framework.tasks.end() || common::IsTerminalState(it->second.task.state())) {
    // As Mesos: killing a task the master does not know answers with its reconciled state.
    SendStatusToFramework(framework,
                          MakeStatus(task_id, kill.has_agent_id() ? kill.agent_id().value() : "",
                                     it == framework.tasks.end() ? UnknownTaskState(framework)
                                                                 : it->second.task.state(),
                                     v1::TaskStatus::REASON_RECONCILIATION,
                                     "Attempted to kill an unknown or finished task"));
    return absl::OkStatus();
  }
  TaskEntry& task = it->second;
  AgentEntry* agent = FindAgent(task.task.agent_id().value());
  if (kill.has_kill_policy()) task.kill_policy = kill.kill_policy();
  if (agent == nullptr || !agent->connected) {
    task.kill_pending = true;
    return absl::OkStatus();
  }
  agent::Event event;
  event.set_type(agent::Event::KILL);
  *event.mutable_kill()->mutable_framework_id() = framework.info.id();
  *event.mutable_kill()->mutable_task_id() = kill.task_id();
  if (task.kill_policy) *event.mutable_kill()->mutable_kill_policy() = *task.kill_policy;
  SendAgentEvent(*agent, event);
  return absl::OkStatus();
}

absl::Status Master::Impl::HandleAcknowledge(FrameworkEntry& framework,
                                             const Call::Acknowledge& ack) {
  if (ack.uuid().size() != 16) {
    return absl::InvalidArgumentError("'uuid' is not a valid UUID (16 bytes)");
  }
  AgentEntry* agent = FindAgent(ack.agent_id().value());
  if (agent == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("Unknown agent ", ack.agent_id().value()));
  }
  agent::Event event;
  event.set_type(agent::Event::ACKNOWLEDGE_STATUS_UPDATE);
  *event.mutable_acknowledge_status_update()->mutable_framework_id() = framework.info.id();
  *event.mutable_acknowledge_status_update()->mutable_task_id() = ack.task_id();
  event.mutable_acknowledge_status_update()->set_uuid(ack.uuid());
  SendAgentEvent(*agent, event);
  auto it = framework.tasks.find(ack.task_id().value());
  if (it != framework.tasks.end()) {
    v1::Task& task = it->second.task;
    if (task.status_update_uuid() == ack.uuid() &&
        common::IsTerminalState(task.status_update_state())) {
      CompleteTaskLocked(framework, ack.task_id().value());
    }
  }
  return absl::OkStatus();
}

void Master::Impl::HandleReconcile(FrameworkEntry& framework, const Call::Reconcile& rec) {
  auto reconciled = [&](const v1::Task& task) {
    v1::TaskStatus status;
    if (task.statuses_size() > 0) status = task.statuses(task.statuses_size() - 1);
    *status.mutable_task_id() = task.task_id();
    *status.mutable_agent_id() = task.agent_id();
    status.set_state(task.state());
    status.set_source(v1::TaskStatus::SOURCE_MASTER);
    status.set_reason(v1::TaskStatus::REASON_RECONCILIATION);
    status.clear_uuid();
    status.set_timestamp(WallNow());
    SendStatusToFramework(framework, status);
  };
  if (rec.tasks_size() == 0) {
    for (const auto& [id, task] : framework.tasks) reconciled(task.task);
    return;
  }
  for (const Call::Reconcile::Task& asked : rec.tasks()) {
    auto it = framework.tasks.find(asked.task_id().value());
    if (it != framework.tasks.end()) {
      reconciled(it->second.task);
      continue;
    }
    const v1::Task* completed = nullptr;
    for (const v1::Task& task : framework.completed_tasks) {
      if (task.task_id().value() == asked.task_id().value()) completed = &task;
    }
    if (completed != nullptr) {
      reconciled(*completed);
      continue;
    }
    SendStatusToFramework(
        framework,
        MakeStatus(asked.task_id().value(), asked.has_agent_id() ? asked.agent_id().value() : "",
                   UnknownTaskState(framework), v1::TaskStatus::REASON_RECONCILIATION,
                   "Reconciliation: task is unknown to the master"));
  }
}

}  // namespace steward::daemon
