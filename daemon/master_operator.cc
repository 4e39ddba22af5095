// Routes, the operator API (POST /api/v1), the GET endpoints, metrics and the status page.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/mesos_resources.h"
#include "daemon/internal/master_impl.h"
#include "google/protobuf/util/message_differencer.h"

namespace steward::daemon {

using common::HttpRequest;
using common::JsonWriter;
using common::Responder;
using v1::master::Call;
using v1::master::Response;

namespace {

void AddTo(allocator::Resources* sum, const allocator::Resources& more) { (void)sum->Add(more); }

// Mesos's v0 JSON form of resources: {"cpus":1.5,"mem":128,"ports":"[31000-32000]"}, summed
// over reservations; cpus, mem, disk and gpus are always present.
void WriteResourcesV0(JsonWriter& w, const allocator::Resources& resources) {
  std::map<std::string, std::string> others;
  std::map<std::string, double> scalars = {{"cpus", 0}, {"mem", 0}, {"disk", 0}, {"gpus", 0}};
  for (const allocator::Resource& entry : resources.entries()) {
    switch (entry.kind) {
      case allocator::ResourceKind::kScalar:
        scalars[entry.name] += static_cast<double>(entry.scalar) / allocator::kMilliPerUnit;
        break;
      case allocator::ResourceKind::kRanges:
        others[entry.name] = entry.ranges.ToString();
        break;
      case allocator::ResourceKind::kSet:
        others[entry.name] = absl::StrCat("{", absl::StrJoin(entry.items, ","), "}");
        break;
    }
  }
  w.BeginObject();
  for (const auto& [name, value] : scalars) {
    w.Key(name);
    w.Number(value);
  }
  for (const auto& [name, value] : others) {
    w.Key(name);
    w.String(value);
  }
  w.EndObject();
}

void WriteAttributesV0(JsonWriter& w, const google::protobuf::RepeatedPtrField<v1::Attribute>& as) {
  w.BeginObject();
  for (const v1::Attribute& a : as) {
    w.Key(a.name());
    switch (a.type()) {
      case v1::Value::SCALAR:
        w.Number(a.scalar().value());
        break;
      case v1::Value::TEXT:
        w.String(a.text().value());
        break;
      default:
        w.String(a.ShortDebugString());
    }
  }
  w.EndObject();
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

allocator::Resources ResourcesOf(const common::ResourceList& list) {
  absl::StatusOr<allocator::Resources> parsed = common::FromProto(list);
  return parsed.ok() ? *parsed : allocator::Resources();
}

}  // namespace

void Master::Impl::RegisterRoutes() {
  auto route = [this](const char* method, const char* path,
                      void (Impl::*handler)(const HttpRequest&, Responder)) {
    server_->Route(method, path, [this, handler](const HttpRequest& request, Responder responder) {
      (this->*handler)(request, std::move(responder));
    });
  };
  route("POST", "/api/v1/scheduler", &Impl::HandleScheduler);
  route("POST", "/api/v1/agent", &Impl::HandleAgent);
  route("POST", "/api/v1", &Impl::HandleOperator);
  auto json = [this](const char* path, bool summary) {
    server_->Route("GET", path, [this, summary](const HttpRequest&, Responder responder) {
      std::string body;
      {
        std::lock_guard<std::mutex> lock(mu_);
        body = StateJsonLocked(summary);
      }
      responder.Reply(200, std::move(body), "application/json");
    });
  };
  json("/master/state", false);
  json("/state", false);
  json("/master/state-summary", true);
  server_->Route("GET", "/metrics/snapshot", [this](const HttpRequest&, Responder responder) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      RefreshGaugesLocked();
    }
    responder.Reply(200, metrics_.SnapshotJson(), "application/json");
  });
  server_->Route("GET", "/metrics", [this](const HttpRequest&, Responder responder) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      RefreshGaugesLocked();
    }
    responder.Reply(200, metrics_.Prometheus(), "text/plain; version=0.0.4");
  });
  server_->Route("GET", "/health",
                 [](const HttpRequest&, Responder responder) { responder.Reply(200, ""); });
  server_->Route("GET", "/version", [](const HttpRequest&, Responder responder) {
    responder.Reply(200, absl::StrCat("{\"version\":\"", STEWARD_VERSION, "\"}"),
                    "application/json");
  });
  server_->Route("GET", "/master/redirect", [this](const HttpRequest&, Responder responder) {
    // A standalone master always leads: redirect to itself.
    common::HttpResponse response;
    response.status = 307;
    response.headers.emplace_back("Location", absl::StrCat("//", options_.hostname, ":", port()));
    responder.Reply(std::move(response));
  });
  server_->Route("GET", "/", [this](const HttpRequest&, Responder responder) {
    std::string page;
    {
      std::lock_guard<std::mutex> lock(mu_);
      page = StatusPageLocked();
    }
    responder.Reply(200, std::move(page), "text/html; charset=utf-8");
  });
}

// ---------------------------------------------------------------------------------------
// Operator API

void Master::Impl::HandleOperator(const HttpRequest& request, Responder responder) {
  int http_status = 400;
  absl::StatusOr<Negotiated> negotiated = Negotiate(request, &http_status);
  if (!negotiated.ok()) {
    responder.Reply(http_status, std::string(negotiated.status().message()));
    return;
  }
  Call call;
  if (absl::Status status =
          ParseBody(request.body, negotiated->body, options_.max_json_depth, &call);
      !status.ok()) {
    responder.Reply(400, std::string(status.message()));
    return;
  }
  Response response;
  std::unique_lock<std::mutex> lock(mu_);
  switch (call.type()) {
    case Call::GET_HEALTH:
      response.set_type(Response::GET_HEALTH);
      response.mutable_get_health()->set_healthy(true);
      break;
    case Call::GET_VERSION:
      response.set_type(Response::GET_VERSION);
      response.mutable_get_version()->mutable_version_info()->set_version(STEWARD_VERSION);
      break;
    case Call::GET_STATE:
      response.set_type(Response::GET_STATE);
      *response.mutable_get_state()->mutable_get_tasks() = GetTasksLocked();
      *response.mutable_get_state()->mutable_get_executors() = GetExecutorsLocked();
      *response.mutable_get_state()->mutable_get_frameworks() = GetFrameworksLocked();
      *response.mutable_get_state()->mutable_get_agents() = GetAgentsLocked();
      break;
    case Call::GET_AGENTS:
      response.set_type(Response::GET_AGENTS);
      *response.mutable_get_agents() = GetAgentsLocked();
      break;
    case Call::GET_FRAMEWORKS:
      response.set_type(Response::GET_FRAMEWORKS);
      *response.mutable_get_frameworks() = GetFrameworksLocked();
      break;
    case Call::GET_EXECUTORS:
      response.set_type(Response::GET_EXECUTORS);
      *response.mutable_get_executors() = GetExecutorsLocked();
      break;
    case Call::GET_TASKS:
      response.set_type(Response::GET_TASKS);
      *response.mutable_get_tasks() = GetTasksLocked();
      break;
    case Call::GET_ROLES:
      response.set_type(Response::GET_ROLES);
      *response.mutable_get_roles() = GetRolesLocked();
      break;
    case Call::GET_QUOTA:
      response.set_type(Response::GET_QUOTA);
      *response.mutable_get_quota() = GetQuotaLocked();
      break;
    case Call::GET_WEIGHTS:
      response.set_type(Response::GET_WEIGHTS);
      for (const auto& [role, weight] : weights_) {
        v1::WeightInfo* info = response.mutable_get_weights()->add_weight_infos();
        info->set_role(role);
        info->set_weight(weight);
      }
      break;
    case Call::UPDATE_WEIGHTS: {
      std::map<std::string, double> previous;
      for (const v1::WeightInfo& info : call.update_weights().weight_infos()) {
        auto it = weights_.find(info.role());
        previous.emplace(info.role(), it == weights_.end() ? 1.0 : it->second);
      }
      if (absl::Status s = UpdateWeightsLocked(call.update_weights()); !s.ok()) {
        responder.Reply(400, std::string(s.message()));
        return;
      }
      PersistThenLocked([this, responder, previous,
                         update = call.update_weights()](const absl::Status& s) mutable {
        if (s.ok()) {
          responder.Reply(200, "");
          return;
        }
        // Undo what is still this call's doing (a later call may have changed a weight since).
        Call::UpdateWeights undo;
        for (const v1::WeightInfo& info : update.weight_infos()) {
          auto it = weights_.find(info.role());
          if ((it == weights_.end() ? 1.0 : it->second) != info.weight()) continue;
          v1::WeightInfo* back = undo.add_weight_infos();
          back->set_role(info.role());
          back->set_weight(previous.at(info.role()));
        }
        (void)UpdateWeightsLocked(undo);
        responder.Reply(
            503, absl::StrCat("Weights not updated: the registry write failed: ", s.message()));
      });
      UnlockAndRunDeferred(lock);
      return;
    }
    case Call::UPDATE_QUOTA: {
      std::map<std::string, v1::quota::QuotaConfig> previous;
      for (const v1::quota::QuotaConfig& config : call.update_quota().quota_configs()) {
        v1::quota::QuotaConfig& before = previous[config.role()];
        before.set_role(config.role());  // no guarantee, no limit: no quota
        for (const v1::quota::QuotaConfig& q : quotas_) {
          if (q.role() == config.role()) before = q;
        }
      }
      if (absl::Status s = UpdateQuotaLocked(call.update_quota()); !s.ok()) {
        responder.Reply(s.code() == absl::StatusCode::kFailedPrecondition ? 409 : 400,
                        std::string(s.message()));
        return;
      }
      PersistThenLocked(
          [this, responder, previous, update = call.update_quota()](const absl::Status& s) mutable {
            if (s.ok()) {
              responder.Reply(200, "");
              return;
            }
            // Undo what is still this call's doing (a later call may have changed a quota since).
            Call::UpdateQuota undo;
            undo.set_force(true);
            for (const v1::quota::QuotaConfig& config : update.quota_configs()) {
              const v1::quota::QuotaConfig* current = nullptr;
              for (const v1::quota::QuotaConfig& q : quotas_) {
                if (q.role() == config.role()) current = &q;
              }
              // (Compared as messages: map fields serialize in no fixed order.)
              const bool set_by_this_call =
                  current == nullptr
                      ? config.guarantees().empty() && config.limits().empty()
                      : google::protobuf::util::MessageDifferencer::Equals(*current, config);
              if (set_by_this_call) *undo.add_quota_configs() = previous.at(config.role());
            }
            if (absl::Status undone = UpdateQuotaLocked(undo); !undone.ok()) {
              STEWARD_LOG(ERROR) << "Restoring quota after a failed registry write: " << undone;
            }
            responder.Reply(
                503, absl::StrCat("Quota not updated: the registry write failed: ", s.message()));
          });
      UnlockAndRunDeferred(lock);
      return;
    }
    case Call::RESERVE_RESOURCES:
    case Call::UNRESERVE_RESOURCES: {
      const bool reserve = call.type() == Call::RESERVE_RESOURCES;
      if (reserve ? !call.has_reserve_resources() : !call.has_unreserve_resources()) {
        responder.Reply(400, "Expecting the call's payload to be present");
        return;
      }
      Call::ReserveResources as_reserve;
      if (reserve) {
        as_reserve = call.reserve_resources();
      } else {
        *as_reserve.mutable_agent_id() = call.unreserve_resources().agent_id();
        *as_reserve.mutable_resources() = call.unreserve_resources().resources();
      }
      if (absl::Status s = ReserveLocked(as_reserve, reserve); !s.ok()) {
        responder.Reply(s.code() == absl::StatusCode::kFailedPrecondition ? 409 : 400,
                        std::string(s.message()));
        return;
      }
      PersistThenLocked([this, responder, as_reserve, reserve](const absl::Status& s) mutable {
        if (s.ok()) {
          responder.Reply(202, "");
          return;
        }
        // Undo: the inverse operation, if the resources are still as this call left them.
        AgentEntry* agent = FindAgent(as_reserve.agent_id().value());
        absl::StatusOr<allocator::Resources> resources = common::FromProto(as_reserve.resources());
        if (agent != nullptr && resources.ok() &&
            agent->dynamic_reservations.Contains(*resources) == reserve) {
          if (absl::Status undone = ReserveLocked(as_reserve, !reserve); !undone.ok()) {
            STEWARD_LOG(ERROR) << "Undoing a reservation after a failed registry write: " << undone;
          }
        }
        responder.Reply(
            503, absl::StrCat(reserve ? "Resources not reserved" : "Resources not unreserved",
                              ": the registry write failed: ", s.message()));
      });
      UnlockAndRunDeferred(lock);
      return;
    }
    case Call::TEARDOWN: {
      const std::string& id = call.teardown().framework_id().value();
      if (FindFramework(id) == nullptr) {
        responder.Reply(400, absl::StrCat("Unknown framework ", id));
        return;
      }
      RemoveFrameworkLocked(
          id, "torn down by the operator", [responder, id](const absl::Status& s) mutable {
            if (s.ok()) {
              responder.Reply(200, "");
              return;
            }
            // A removal cannot be undone (its tasks were killed): say that it is not durable yet.
            responder.Reply(
                503,
                absl::StrCat("Framework ", id, " was removed, but the registry write failed (",
                             s.message(), "); the master retries the write with its next change"));
          });
      UnlockAndRunDeferred(lock);
      return;
    }
    default:
      responder.Reply(400, absl::StrCat("Operator call ", Call::Type_Name(call.type()),
                                        " is not supported by Steward"));
      return;
  }
  lock.unlock();
  responder.Reply(200, Serialize(response, negotiated->answer), ContentTypeOf(negotiated->answer));
}

absl::Status Master::Impl::UpdateQuotaLocked(const Call::UpdateQuota& update) {
  allocator::Resources cluster;
  for (const auto& [id, agent] : agents_) AddTo(&cluster, agent->total);
  struct Change {
    std::string role;
    allocator::Quota quota;
    v1::quota::QuotaConfig config;
  };
  std::vector<Change> changes;
  for (const v1::quota::QuotaConfig& config : update.quota_configs()) {
    if (config.role() == "*") {
      return absl::InvalidArgumentError("The default role '*' cannot have a quota");
    }
    if (absl::Status s = allocator::ValidateRolePath(config.role()); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid role '", config.role(), "': ", s.message()));
    }
    Change change{config.role(), {}, config};
    for (const auto& [name, value] : config.guarantees()) {
      absl::StatusOr<int64_t> milli = allocator::UnitsToMilli(value.value());
      if (!milli.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("Guarantee of '", name, "' for role '",
                                                       config.role(),
                                                       "': ", milli.status().message()));
      }
      change.quota.guarantee.Set(name, *milli);
      if (!update.force() && *milli > cluster.ScalarMilli(name)) {
        return absl::FailedPreconditionError(
            absl::StrCat("Guarantee of ", value.value(), " ", name, " for role '", config.role(),
                         "' exceeds the cluster's total (", cluster.ScalarMilli(name) / 1000.0,
                         "); use 'force' to set it anyway"));
      }
    }
    for (const auto& [name, value] : config.limits()) {
      absl::StatusOr<int64_t> milli = allocator::UnitsToMilli(value.value());
      if (!milli.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Limit of '", name, "' for role '", config.role(), "': ", milli.status().message()));
      }
      change.quota.limit.Set(name, *milli);
    }
    changes.push_back(std::move(change));
  }
  // Apply all or nothing: on a failure, restore the quotas already changed.
  // Each SetQuota's outcome is waited for (the loop applies it; see ApplyLocked).
  auto set_quota = [this](const std::string& role, const allocator::Quota& quota) {
    allocator::EventOutcome outcome = ApplyLocked(allocator::events::SetQuota{role, quota});
    if (outcome.status.ok()) {
      if (quota.guarantee.empty() && quota.limit.empty()) {
        allocator_quotas_.erase(role);
      } else {
        allocator_quotas_[role] = quota;
      }
    }
    return outcome;
  };
  std::vector<std::pair<std::string, allocator::Quota>> previous;
  allocator::EventOutcome last;
  for (const Change& change : changes) {
    auto old = allocator_quotas_.find(change.role);
    allocator::Quota before = old == allocator_quotas_.end() ? allocator::Quota() : old->second;
    last = set_quota(change.role, change.quota);
    if (!last.status.ok()) {
      for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
        (void)set_quota(it->first, it->second);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("Quota for role '", change.role, "': ", last.status.message()));
    }
    previous.emplace_back(change.role, before);
  }
  // Read-your-writes: the allocator section of /master/state and the metrics show it.
  if (!changes.empty()) WaitPublishedLocked(last);
  for (const Change& change : changes) {
    quotas_.erase(
        std::remove_if(quotas_.begin(), quotas_.end(),
                       [&](const v1::quota::QuotaConfig& c) { return c.role() == change.role; }),
        quotas_.end());
    if (!change.config.guarantees().empty() || !change.config.limits().empty()) {
      quotas_.push_back(change.config);
    }
  }
  KickLoop();
  return absl::OkStatus();
}

absl::Status Master::Impl::UpdateWeightsLocked(const Call::UpdateWeights& update) {
  for (const v1::WeightInfo& info : update.weight_infos()) {
    if (absl::Status s = allocator::ValidateRolePath(info.role()); !s.ok() || info.role() == "*") {
      return absl::InvalidArgumentError(absl::StrCat("Invalid role '", info.role(), "'"));
    }
    if (!(info.weight() > 0) || !std::isfinite(info.weight())) {
      return absl::InvalidArgumentError(
          absl::StrCat("Weight of role '", info.role(), "' must be a positive finite number"));
    }
  }
  allocator::EventOutcome last;
  for (const v1::WeightInfo& info : update.weight_infos()) {
    last = ApplyLocked(allocator::events::SetWeight{info.role(), info.weight()});
    if (!last.status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Weight of role '", info.role(), "': ", last.status.message()));
    }
    if (info.weight() == 1.0) {
      weights_.erase(info.role());
    } else {
      weights_[info.role()] = info.weight();
    }
  }
  if (update.weight_infos_size() > 0) WaitPublishedLocked(last);
  KickLoop();
  return absl::OkStatus();
}

absl::Status Master::Impl::ReserveLocked(const Call::ReserveResources& request, bool reserve_op) {
  AgentEntry* agent = FindAgent(request.agent_id().value());
  if (agent == nullptr || !agent->alloc.valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unknown or unregistered agent ", request.agent_id().value()));
  }
  absl::StatusOr<allocator::Resources> resources = common::FromProto(request.resources());
  if (!resources.ok()) return resources.status();
  if (resources->empty()) return absl::InvalidArgumentError("No resources given");
  std::map<std::string, allocator::Resources> by_role;
  for (const allocator::Resource& entry : resources->entries()) {
    if (entry.unreserved()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Resource '", entry.name, "' has no reservation role"));
    }
    (void)by_role[entry.reservation].Add(*allocator::Resources::FromEntries({entry}));
  }
  if (!reserve_op && !agent->dynamic_reservations.Contains(*resources)) {
    return absl::InvalidArgumentError(absl::StrCat(
        resources->ToString(), " is not dynamically reserved on agent ", agent->info.id().value(),
        " (its dynamic reservations: ", agent->dynamic_reservations.ToString(), ")"));
  }
  // Offers on the agent hold its free resources: take them back first, as Mesos does.
  RescindAgentOffersLocked(*agent);
  allocator::EventOutcome last;
  if (reserve_op) {
    std::vector<std::pair<std::string, allocator::Resources>> done;
    for (const auto& [role, bag] : by_role) {
      last = ApplyLocked(allocator::events::Reserve{agent->alloc, role, bag.WithReservation("")});
      if (!last.status.ok()) {
        for (const auto& [r, b] : done) {
          (void)ApplyLocked(allocator::events::Unreserve{agent->alloc, b});
        }
        return absl::FailedPreconditionError(
            absl::StrCat("Cannot reserve ", bag.ToString(), ": ", last.status.message()));
      }
      done.emplace_back(role, bag);
    }
    (void)agent->dynamic_reservations.Add(*resources);
  } else {
    last = ApplyLocked(allocator::events::Unreserve{agent->alloc, *resources});
    if (!last.status.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Cannot unreserve ", resources->ToString(), ": ", last.status.message()));
    }
    (void)agent->dynamic_reservations.Subtract(*resources);
  }
  WaitPublishedLocked(last);
  agent::Event event;
  event.set_type(reserve_op ? agent::Event::RESERVE : agent::Event::UNRESERVE);
  common::ResourceList wire = common::ToProto(*resources, v1::Resource::ReservationInfo::DYNAMIC);
  if (reserve_op) {
    *event.mutable_reserve()->mutable_resources() = wire;
  } else {
    *event.mutable_unreserve()->mutable_resources() = wire;
  }
  SendAgentEvent(*agent, event);
  KickLoop();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Views of the state

allocator::Resources Master::Impl::AgentUsedLocked(const AgentEntry& agent) const {
  allocator::Resources sum;
  for (const auto& [framework_id, task_id] : agent.tasks) {
    const FrameworkEntry* framework = FindFramework(framework_id);
    if (framework == nullptr) continue;
    auto it = framework->tasks.find(task_id);
    if (it != framework->tasks.end() && !it->second.released) AddTo(&sum, it->second.used);
  }
  return sum;
}

allocator::Resources Master::Impl::AgentOfferedLocked(const AgentEntry& agent) const {
  allocator::Resources sum;
  for (const std::string& id : agent.offers) AddTo(&sum, offers_.at(id).resources);
  return sum;
}

allocator::Resources Master::Impl::FrameworkUsedLocked(const FrameworkEntry& framework) const {
  allocator::Resources sum;
  for (const auto& [id, task] : framework.tasks) {
    if (!task.released) AddTo(&sum, task.used);
  }
  return sum;
}

allocator::Resources Master::Impl::FrameworkOfferedLocked(const FrameworkEntry& framework) const {
  allocator::Resources sum;
  for (const std::string& id : framework.offers) AddTo(&sum, offers_.at(id).resources);
  return sum;
}

std::set<std::string> Master::Impl::KnownRolesLocked() const {
  std::set<std::string> roles;
  for (const auto& [id, framework] : frameworks_) {
    roles.insert(framework->roles.begin(), framework->roles.end());
  }
  for (const v1::quota::QuotaConfig& config : quotas_) roles.insert(config.role());
  for (const auto& [role, weight] : weights_) roles.insert(role);
  return roles;
}

Response::GetAgents Master::Impl::GetAgentsLocked() const {
  Response::GetAgents out;
  for (const auto& [id, agent] : agents_) {
    if (agent->recovered) {
      *out.add_recovered_agents() = agent->info;
      continue;
    }
    Response::GetAgents::Agent* a = out.add_agents();
    *a->mutable_agent_info() = agent->info;
    a->set_active(agent->connected);
    a->set_deactivated(false);
    a->set_version(agent->version);
    a->set_pid(absl::StrCat("slave(1)@", agent->info.hostname(), ":", agent->info.port()));
    *a->mutable_registered_time() = TimeInfoOf(agent->registered_time);
    if (agent->reregistered_time > 0) {
      *a->mutable_reregistered_time() = TimeInfoOf(agent->reregistered_time);
    }
    *a->mutable_total_resources() = agent->info.resources();
    *a->mutable_allocated_resources() = common::ToProto(AgentUsedLocked(*agent));
    *a->mutable_offered_resources() = common::ToProto(AgentOfferedLocked(*agent));
  }
  return out;
}

Response::GetFrameworks Master::Impl::GetFrameworksLocked() const {
  Response::GetFrameworks out;
  auto fill = [this](const FrameworkEntry& framework, Response::GetFrameworks::Framework* f) {
    *f->mutable_framework_info() = framework.info;
    f->set_active(framework.connected);
    f->set_connected(framework.connected);
    f->set_recovered(framework.recovered);
    if (framework.registered_time > 0) {
      *f->mutable_registered_time() = TimeInfoOf(framework.registered_time);
    }
    if (framework.reregistered_time > 0) {
      *f->mutable_reregistered_time() = TimeInfoOf(framework.reregistered_time);
    }
    if (framework.unregistered_time > 0) {
      *f->mutable_unregistered_time() = TimeInfoOf(framework.unregistered_time);
    }
    for (const std::string& id : framework.offers) {
      const OfferEntry& offer = offers_.at(id);
      if (const AgentEntry* agent = FindAgent(offer.agent_id); agent != nullptr) {
        OfferProto(offer, *agent, f->add_offers());
      }
    }
    *f->mutable_allocated_resources() = common::ToProto(FrameworkUsedLocked(framework));
    *f->mutable_offered_resources() = common::ToProto(FrameworkOfferedLocked(framework));
  };
  for (const auto& [id, framework] : frameworks_) fill(*framework, out.add_frameworks());
  for (const auto& framework : completed_frameworks_) {
    fill(*framework, out.add_completed_frameworks());
  }
  return out;
}

Response::GetTasks Master::Impl::GetTasksLocked() const {
  Response::GetTasks out;
  auto all = [&](const FrameworkEntry& framework) {
    for (const auto& [id, task] : framework.tasks) *out.add_tasks() = task.task;
    for (const v1::Task& task : framework.completed_tasks) *out.add_completed_tasks() = task;
  };
  for (const auto& [id, framework] : frameworks_) all(*framework);
  for (const auto& framework : completed_frameworks_) {
    for (const v1::Task& task : framework->completed_tasks) *out.add_completed_tasks() = task;
  }
  return out;
}

Response::GetExecutors Master::Impl::GetExecutorsLocked() const {
  Response::GetExecutors out;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [task_id, task] : framework->tasks) {
      if (!task.executor || common::IsTerminalState(task.task.state())) continue;
      auto key =
          std::make_tuple(id, task.executor->executor_id().value(), task.task.agent_id().value());
      if (!seen.insert(key).second) continue;
      Response::GetExecutors::Executor* e = out.add_executors();
      *e->mutable_executor_info() = *task.executor;
      *e->mutable_agent_id() = task.task.agent_id();
    }
  }
  return out;
}

Response::GetRoles Master::Impl::GetRolesLocked() const {
  Response::GetRoles out;
  for (const std::string& role : KnownRolesLocked()) {
    v1::Role* r = out.add_roles();
    r->set_name(role);
    auto weight = weights_.find(role);
    r->set_weight(weight == weights_.end() ? 1.0 : weight->second);
    allocator::Resources allocated;
    for (const auto& [id, framework] : frameworks_) {
      if (std::find(framework->roles.begin(), framework->roles.end(), role) ==
          framework->roles.end()) {
        continue;
      }
      r->add_frameworks()->set_value(id);
      for (const auto& [task_id, task] : framework->tasks) {
        if (task.role == role && !task.released) AddTo(&allocated, task.used);
      }
    }
    *r->mutable_resources() = common::ToProto(allocated);
  }
  return out;
}

Response::GetQuota Master::Impl::GetQuotaLocked() const {
  Response::GetQuota out;
  out.mutable_status();  // required, also when no role has a quota
  for (const v1::quota::QuotaConfig& config : quotas_) {
    *out.mutable_status()->add_configs() = config;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// /master/state, /master/state-summary

std::string Master::Impl::StateJsonLocked(bool summary) const {
  JsonWriter w;
  auto task_counts = [&w](const std::vector<const v1::Task*>& tasks) {
    std::map<std::string, int64_t> counts;
    for (const char* state :
         {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
          "TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_UNREACHABLE"}) {
      counts[state] = 0;
    }
    for (const v1::Task* task : tasks) ++counts[v1::TaskState_Name(task->state())];
    for (const auto& [state, count] : counts) {
      w.Key(state);
      w.Int(count);
    }
  };
  auto write_task = [&w](const v1::Task& task, const std::string& role) {
    w.BeginObject();
    w.Key("id");
    w.String(task.task_id().value());
    w.Key("name");
    w.String(task.name());
    w.Key("framework_id");
    w.String(task.framework_id().value());
    w.Key("executor_id");
    w.String(task.executor_id().value());
    w.Key("slave_id");
    w.String(task.agent_id().value());
    w.Key("state");
    w.String(v1::TaskState_Name(task.state()));
    w.Key("role");
    w.String(role);
    w.Key("resources");
    WriteResourcesV0(w, ResourcesOf(task.resources()));
    w.Key("statuses");
    w.BeginArray();
    for (const v1::TaskStatus& status : task.statuses()) {
      w.BeginObject();
      w.Key("state");
      w.String(v1::TaskState_Name(status.state()));
      w.Key("timestamp");
      w.Number(status.timestamp());
      if (status.has_message()) {
        w.Key("message");
        w.String(status.message());
      }
      // As Mesos shows it: the agent's container status with protobuf's field names.
      if (status.has_container_status()) {
        if (absl::StatusOr<std::string> json = common::MessageToJson(status.container_status());
            json.ok()) {
          w.Key("container_status");
          w.Raw(*json);
        }
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  };
  auto task_role = [](const v1::Task& task) {
    for (const v1::Resource& r : task.resources()) {
      if (r.has_allocation_info()) return r.allocation_info().role();
    }
    return std::string();
  };

  w.BeginObject();
  w.Key("version");
  w.String(STEWARD_VERSION);
  w.Key("id");
  w.String(master_id_);
  w.Key("pid");
  w.String(absl::StrCat("master@", options_.ip, ":", port()));
  w.Key("hostname");
  w.String(options_.hostname);
  w.Key("start_time");
  w.Number(start_wall_);
  w.Key("elected_time");
  w.Number(start_wall_);
  int64_t activated = 0;
  for (const auto& [id, agent] : agents_) activated += agent->connected ? 1 : 0;
  w.Key("activated_slaves");
  w.Int(activated);
  w.Key("deactivated_slaves");
  w.Int(static_cast<int64_t>(agents_.size()) - activated);
  w.Key("unreachable_slaves");
  w.Int(static_cast<int64_t>(unreachable_agents_.size()));
  w.Key("leader");
  w.String(absl::StrCat("master@", options_.ip, ":", port()));
  if (!summary) {
    w.Key("leader_info");
    absl::StatusOr<std::string> leader = common::MessageToJson(MasterInfoProto());
    w.Raw(leader.ok() ? *leader : "{}");
    w.Key("flags");
    w.BeginObject();
    w.Key("ip");
    w.String(options_.ip);
    w.Key("port");
    w.String(absl::StrCat(options_.port));
    w.Key("work_dir");
    w.String(options_.work_dir);
    w.Key("allocation_interval");
    w.String(
        absl::StrCat(std::chrono::duration<double>(options_.allocation_interval).count(), "secs"));
    w.EndObject();
  }
  w.Key("slaves");
  w.BeginArray();
  for (const auto& [id, agent] : agents_) {
    w.BeginObject();
    w.Key("id");
    w.String(id);
    w.Key("hostname");
    w.String(agent->info.hostname());
    w.Key("port");
    w.Int(agent->info.port());
    w.Key("pid");
    w.String(absl::StrCat("slave(1)@", agent->info.hostname(), ":", agent->info.port()));
    w.Key("active");
    w.Bool(agent->connected);
    w.Key("version");
    w.String(agent->version);
    w.Key("registered_time");
    w.Number(agent->registered_time);
    w.Key("resources");
    WriteResourcesV0(w, agent->total);
    w.Key("used_resources");
    WriteResourcesV0(w, AgentUsedLocked(*agent));
    w.Key("offered_resources");
    WriteResourcesV0(w, AgentOfferedLocked(*agent));
    w.Key("reserved_resources");
    w.BeginObject();
    std::map<std::string, allocator::Resources> reserved;
    for (const allocator::Resource& entry : agent->total.Reserved().entries()) {
      (void)reserved[entry.reservation].Add(*allocator::Resources::FromEntries({entry}));
    }
    for (const allocator::Resource& entry : agent->dynamic_reservations.entries()) {
      (void)reserved[entry.reservation].Add(*allocator::Resources::FromEntries({entry}));
    }
    for (const auto& [role, bag] : reserved) {
      w.Key(role);
      WriteResourcesV0(w, bag);
    }
    w.EndObject();
    w.Key("unreserved_resources");
    allocator::Resources unreserved = agent->total.Unreserved();
    (void)unreserved.Subtract(agent->dynamic_reservations.WithReservation(""));
    WriteResourcesV0(w, unreserved);
    w.Key("attributes");
    WriteAttributesV0(w, agent->info.attributes());
    if (summary) {
      std::vector<const v1::Task*> tasks;
      for (const auto& [framework_id, task_id] : agent->tasks) {
        const FrameworkEntry* framework = FindFramework(framework_id);
        if (framework != nullptr && framework->tasks.contains(task_id)) {
          tasks.push_back(&framework->tasks.at(task_id).task);
        }
      }
      task_counts(tasks);
    }
    w.EndObject();
  }
  w.EndArray();
  auto write_framework = [&](const FrameworkEntry& framework) {
    w.BeginObject();
    w.Key("id");
    w.String(framework.info.id().value());
    w.Key("name");
    w.String(framework.info.name());
    w.Key("user");
    w.String(framework.info.user());
    w.Key("hostname");
    w.String(framework.info.hostname());
    w.Key("webui_url");
    w.String(framework.info.webui_url());
    w.Key("role");
    w.String(framework.roles.empty() ? "*" : framework.roles.front());
    w.Key("roles");
    w.BeginArray();
    for (const std::string& role : framework.roles) w.String(role);
    w.EndArray();
    w.Key("active");
    w.Bool(framework.connected);
    w.Key("connected");
    w.Bool(framework.connected);
    w.Key("recovered");
    w.Bool(framework.recovered);
    w.Key("failover_timeout");
    w.Number(framework.info.failover_timeout());
    w.Key("checkpoint");
    w.Bool(framework.info.checkpoint());
    w.Key("registered_time");
    w.Number(framework.registered_time);
    w.Key("unregistered_time");
    w.Number(framework.unregistered_time);
    w.Key("capabilities");
    w.BeginArray();
    for (const auto& capability : framework.info.capabilities()) {
      w.String(v1::FrameworkInfo::Capability::Type_Name(capability.type()));
    }
    w.EndArray();
    w.Key("used_resources");
    WriteResourcesV0(w, FrameworkUsedLocked(framework));
    w.Key("offered_resources");
    WriteResourcesV0(w, FrameworkOfferedLocked(framework));
    if (summary) {
      std::vector<const v1::Task*> tasks;
      std::set<std::string> agent_ids;
      for (const auto& [id, task] : framework.tasks) {
        tasks.push_back(&task.task);
        agent_ids.insert(task.task.agent_id().value());
      }
      task_counts(tasks);
      w.Key("slave_ids");
      w.BeginArray();
      for (const std::string& id : agent_ids) w.String(id);
      w.EndArray();
    } else {
      w.Key("tasks");
      w.BeginArray();
      for (const auto& [id, task] : framework.tasks) write_task(task.task, task.role);
      w.EndArray();
      w.Key("completed_tasks");
      w.BeginArray();
      for (const v1::Task& task : framework.completed_tasks) write_task(task, task_role(task));
      w.EndArray();
      w.Key("offers");
      w.BeginArray();
      for (const std::string& id : framework.offers) {
        const OfferEntry& offer = offers_.at(id);
        w.BeginObject();
        w.Key("id");
        w.String(id);
        w.Key("framework_id");
        w.String(offer.framework_id);
        w.Key("slave_id");
        w.String(offer.agent_id);
        w.Key("resources");
        WriteResourcesV0(w, offer.resources);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  };
  w.Key("frameworks");
  w.BeginArray();
  for (const auto& [id, framework] : frameworks_) write_framework(*framework);
  w.EndArray();
  if (!summary) {
    w.Key("completed_frameworks");
    w.BeginArray();
    for (const auto& framework : completed_frameworks_) write_framework(*framework);
    w.EndArray();
    w.Key("orphan_tasks");
    w.BeginArray();
    w.EndArray();
    w.Key("unregistered_frameworks");
    w.BeginArray();
    w.EndArray();
    WriteAllocatorSnapshot(w);
  }
  w.EndObject();
  return w.str();
}

void Master::Impl::WriteAllocatorSnapshot(JsonWriter& w) const {
  // Steward's addition: the allocator as its latest published snapshot shows it. It may lag
  // the rest of the document by the events not applied yet: `events_submitted` (as of this
  // document) minus `events_seen` (as of the snapshot).
  allocator::ConcurrentAllocator::SnapshotRef snapshot = allocator_->Acquire();
  auto quantities = [&w](const allocator::ResourceQuantities& q) {
    w.BeginObject();
    for (const auto& [name, milli] : q.entries()) {
      w.Key(name);
      w.Number(static_cast<double>(milli) / allocator::kMilliPerUnit);
    }
    w.EndObject();
  };
  w.Key("allocator");
  w.BeginObject();
  w.Key("cycle");
  w.Int(static_cast<int64_t>(snapshot->cycle));
  w.Key("time");
  w.Number(snapshot->time);
  w.Key("events_seen");
  w.Int(static_cast<int64_t>(snapshot->events_seen));
  w.Key("events_submitted");
  w.Int(static_cast<int64_t>(events_submitted_.load()));
  w.Key("events_rejected");
  w.Int(static_cast<int64_t>(snapshot->counters.events_rejected));
  w.Key("agents");
  w.BeginArray();
  for (const auto& agent : snapshot->agents) {
    w.BeginObject();
    w.Key("id");
    w.String(agent->name);  // the Mesos agent id
    w.Key("active");
    w.Bool(agent->active);
    w.Key("total");
    quantities(agent->total);
    w.Key("free");
    quantities(agent->free);
    w.EndObject();
  }
  w.EndArray();
  w.Key("frameworks");
  w.BeginArray();
  for (const auto& framework : snapshot->frameworks) {
    w.BeginObject();
    w.Key("id");
    w.String(framework->name);  // the Mesos framework id
    w.Key("role");
    w.String(framework->role_path);
    w.Key("active");
    w.Bool(framework->active);
    w.Key("suppressed");
    w.Bool(framework->suppressed);
    w.Key("allocated");
    quantities(framework->allocated);
    w.Key("offered");
    quantities(framework->offered);
    w.Key("dominant_share");
    w.Number(framework->dominant_share);
    w.EndObject();
  }
  w.EndArray();
  w.Key("roles");
  w.BeginArray();
  for (const auto& role : snapshot->roles) {
    w.BeginObject();
    w.Key("name");
    w.String(role->path);
    w.Key("share");
    w.Number(role->share);
    w.Key("consumed");
    quantities(role->allocated);
    w.Key("guarantee");
    quantities(role->quota.guarantee);
    w.Key("limit");
    quantities(role->quota.limit);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

// ---------------------------------------------------------------------------------------
// Status page

std::string Master::Impl::StatusPageLocked() const {
  std::string page = absl::StrCat(
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"5\"><title>Steward master ",
      HtmlEscape(options_.hostname), ":", port(),
      "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
      "margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
      "th{background:#eee}</style></head><body><h1>Steward master</h1><p>id ",
      HtmlEscape(master_id_), " &middot; version ", STEWARD_VERSION, " &middot; ", agents_.size(),
      " agents &middot; ", frameworks_.size(), " frameworks &middot; ", offers_.size(),
      " outstanding offers</p>");
  absl::StrAppend(&page,
                  "<h2>Agents</h2><table><tr><th>id</th><th>host</th><th>state</th>"
                  "<th>resources</th><th>used</th><th>offered</th></tr>");
  for (const auto& [id, agent] : agents_) {
    absl::StrAppend(
        &page, "<tr><td>", HtmlEscape(id), "</td><td>", HtmlEscape(agent->info.hostname()), ":",
        agent->info.port(), "</td><td>",
        agent->connected ? "active" : (agent->recovered ? "recovering" : "disconnected"),
        "</td><td>", HtmlEscape(agent->total.ToString()), "</td><td>",
        HtmlEscape(AgentUsedLocked(*agent).ToString()), "</td><td>",
        HtmlEscape(AgentOfferedLocked(*agent).ToString()), "</td></tr>");
  }
  absl::StrAppend(&page,
                  "</table><h2>Frameworks</h2><table><tr><th>id</th><th>name</th><th>roles</th>"
                  "<th>state</th><th>tasks</th><th>used</th></tr>");
  for (const auto& [id, framework] : frameworks_) {
    absl::StrAppend(
        &page, "<tr><td>", HtmlEscape(id), "</td><td>", HtmlEscape(framework->info.name()),
        "</td><td>", HtmlEscape(absl::StrJoin(framework->roles, ", ")), "</td><td>",
        framework->connected ? "connected" : "disconnected", "</td><td>", framework->tasks.size(),
        "</td><td>", HtmlEscape(FrameworkUsedLocked(*framework).ToString()), "</td></tr>");
  }
  absl::StrAppend(&page,
                  "</table><h2>Tasks</h2><table><tr><th>id</th><th>name</th><th>framework</th>"
                  "<th>agent</th><th>state</th><th>resources</th></tr>");
  for (const auto& [fid, framework] : frameworks_) {
    for (const auto& [tid, task] : framework->tasks) {
      absl::StrAppend(&page, "<tr><td>", HtmlEscape(tid), "</td><td>", HtmlEscape(task.task.name()),
                      "</td><td>", HtmlEscape(fid), "</td><td>",
                      HtmlEscape(task.task.agent_id().value()), "</td><td>",
                      v1::TaskState_Name(task.task.state()), "</td><td>",
                      HtmlEscape(task.used.ToString()), "</td></tr>");
    }
  }
  absl::StrAppend(&page,
                  "</table><h2>Roles</h2><table><tr><th>role</th><th>weight</th>"
                  "<th>frameworks</th><th>guarantee</th><th>limit</th></tr>");
  for (const std::string& role : KnownRolesLocked()) {
    std::string guarantee, limit;
    for (const v1::quota::QuotaConfig& config : quotas_) {
      if (config.role() != role) continue;
      for (const auto& [name, value] : config.guarantees()) {
        absl::StrAppend(&guarantee, guarantee.empty() ? "" : ";", name, ":", value.value());
      }
      for (const auto& [name, value] : config.limits()) {
        absl::StrAppend(&limit, limit.empty() ? "" : ";", name, ":", value.value());
      }
    }
    int frameworks = 0;
    for (const auto& [id, framework] : frameworks_) {
      frameworks += std::count(framework->roles.begin(), framework->roles.end(), role);
    }
    auto weight = weights_.find(role);
    absl::StrAppend(&page, "<tr><td>", HtmlEscape(role), "</td><td>",
                    weight == weights_.end() ? 1.0 : weight->second, "</td><td>", frameworks,
                    "</td><td>", HtmlEscape(guarantee), "</td><td>", HtmlEscape(limit),
                    "</td></tr>");
  }
  absl::StrAppend(&page,
                  "</table><p>JSON: <a href=\"/master/state\">/master/state</a>, "
                  "<a href=\"/metrics/snapshot\">/metrics/snapshot</a>; Prometheus: "
                  "<a href=\"/metrics\">/metrics</a></p></body></html>");
  return page;
}

// ---------------------------------------------------------------------------------------
// Metrics

void Master::Impl::RegisterMetrics() {
  tasks_finished_ = metrics_.GetCounter("master/tasks_finished", "Tasks that finished.");
  tasks_failed_ = metrics_.GetCounter("master/tasks_failed", "Tasks that failed.");
  tasks_killed_ = metrics_.GetCounter("master/tasks_killed", "Tasks that were killed.");
  tasks_lost_ = metrics_.GetCounter("master/tasks_lost", "Tasks that were lost.");
  tasks_error_ = metrics_.GetCounter("master/tasks_error", "Tasks that were invalid.");
  tasks_dropped_ = metrics_.GetCounter("master/tasks_dropped", "Tasks that were dropped.");
  tasks_launched_ =
      metrics_.GetCounter("master/tasks_launched", "Tasks sent to agents for launch.");
  offers_sent_ = metrics_.GetCounter("master/messages_resource_offers", "Offers made.");
  offers_declined_ = metrics_.GetCounter("master/messages_decline_offers", "Offers declined.");
  offers_rescinded_ =
      metrics_.GetCounter("master/offers_rescinded", "Offers rescinded or withdrawn.");
  valid_status_updates_ =
      metrics_.GetCounter("master/valid_status_updates", "Status updates forwarded.");
  invalid_status_updates_ =
      metrics_.GetCounter("master/invalid_status_updates", "Status updates dropped.");
  valid_framework_calls_ =
      metrics_.GetCounter("master/valid_framework_to_master_calls", "Accepted scheduler calls.");
  invalid_framework_calls_ =
      metrics_.GetCounter("master/invalid_framework_to_master_calls", "Refused scheduler calls.");
  allocation_runs_ =
      metrics_.GetCounter("allocator/mesos/allocation_runs", "Allocation cycles run.");
  stale_offers_recovered_ = metrics_.GetCounter(
      "allocator/steward/stale_offers_recovered",
      "Offers of a cycle that were stale when the master turned them into Mesos offers and "
      "went back to the allocator.");
  stale_offers_gone_ = metrics_.GetCounter(
      "allocator/steward/stale_offers_gone",
      "Stale offers whose framework or agent had already left the allocator (nothing to "
      "recover).");
  allocation_run_ms_ = metrics_.GetTimer("allocator/mesos/allocation_run_ms",
                                         "Time of one allocation cycle, in milliseconds.");
  agent_registrations_ =
      metrics_.GetCounter("master/slave_registrations", "Agents admitted for the first time.");
  agent_reregistrations_ =
      metrics_.GetCounter("master/slave_reregistrations", "Agents that reregistered.");
  agent_removals_ = metrics_.GetCounter("master/slave_removals", "Agents removed as unreachable.");
  registrar_writes_ = metrics_.GetCounter(
      "registrar/writes", "Registry versions stored (each one write and fsync), failed or not.");
  registrar_write_failures_ =
      metrics_.GetCounter("registrar/write_failures", "Registry writes that failed.");
  registrar_requests_ = metrics_.GetCounter(
      "registrar/requests",
      "Changes that asked for a registry write; concurrent ones share one write.");
  registrar_store_ms_ =
      metrics_.GetTimer("registrar/state_store_ms", "Time to store one registry version (ms).");
}

void Master::Impl::RefreshGaugesLocked() {
  auto set = [this](const std::string& name, double value) { metrics_.GetGauge(name)->Set(value); };
  set("master/uptime_secs", Now());
  set("master/elected", 1);
  int64_t connected = 0;
  for (const auto& [id, agent] : agents_) connected += agent->connected ? 1 : 0;
  set("master/slaves_connected", static_cast<double>(connected));
  set("master/slaves_disconnected", static_cast<double>(agents_.size() - connected));
  set("master/slaves_active", static_cast<double>(connected));
  set("master/slaves_inactive", static_cast<double>(agents_.size() - connected));
  set("master/slaves_unreachable", static_cast<double>(unreachable_agents_.size()));
  int64_t fw_connected = 0;
  std::map<v1::TaskState, int64_t> states;
  for (const auto& [id, framework] : frameworks_) {
    fw_connected += framework->connected ? 1 : 0;
    for (const auto& [task_id, task] : framework->tasks) ++states[task.task.state()];
  }
  set("master/frameworks_connected", static_cast<double>(fw_connected));
  set("master/frameworks_disconnected", static_cast<double>(frameworks_.size() - fw_connected));
  set("master/frameworks_active", static_cast<double>(fw_connected));
  set("master/frameworks_inactive", static_cast<double>(frameworks_.size() - fw_connected));
  set("master/outstanding_offers", static_cast<double>(offers_.size()));
  set("master/tasks_staging", static_cast<double>(states[v1::TASK_STAGING]));
  set("master/tasks_starting", static_cast<double>(states[v1::TASK_STARTING]));
  set("master/tasks_running", static_cast<double>(states[v1::TASK_RUNNING]));
  set("master/tasks_killing", static_cast<double>(states[v1::TASK_KILLING]));
  allocator::Resources total, used, offered;
  for (const auto& [id, agent] : agents_) {
    AddTo(&total, agent->total);
    AddTo(&used, AgentUsedLocked(*agent));
    AddTo(&offered, AgentOfferedLocked(*agent));
  }
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) {
    const double t = static_cast<double>(total.ScalarMilli(name)) / allocator::kMilliPerUnit;
    const double u = static_cast<double>(used.ScalarMilli(name)) / allocator::kMilliPerUnit;
    const double o = static_cast<double>(offered.ScalarMilli(name)) / allocator::kMilliPerUnit;
    set(absl::StrCat("master/", name, "_total"), t);
    set(absl::StrCat("master/", name, "_used"), u);
    set(absl::StrCat("master/", name, "_percent"), t > 0 ? u / t : 0);
    set(absl::StrCat("allocator/mesos/resources/", name, "/total"), t);
    set(absl::StrCat("allocator/mesos/resources/", name, "/offered_or_allocated"), u + o);
  }
  auto share_name = [](const std::string& role) {
    return absl::StrCat("allocator/mesos/roles/", role, "/shares/dominant");
  };
  // Allocator figures come from its latest snapshot (never from the engine, which the loop
  // may be using right now).
  allocator::ConcurrentAllocator::SnapshotRef snapshot = allocator_->Acquire();
  std::set<std::string> shown;
  for (const std::string& role : KnownRolesLocked()) {
    const allocator::RoleView* view = snapshot->FindRole(role);
    if (view == nullptr) continue;
    set(share_name(role), view->share);
    shown.insert(role);
  }
  // The allocation loop and its event intake.
  const allocator::IntakeCounters& counters = snapshot->counters;
  set("allocator/steward/cycle", static_cast<double>(snapshot->cycle));
  set("allocator/steward/last_cycle_ms", last_cycle_ms_.load());
  set("allocator/steward/events_applied", static_cast<double>(counters.events_applied));
  set("allocator/steward/events_rejected", static_cast<double>(counters.events_rejected));
  set("allocator/steward/event_batches", static_cast<double>(counters.batches));
  set("allocator/steward/snapshots_published", static_cast<double>(counters.snapshots_published));
  set("allocator/steward/snapshots_freed", static_cast<double>(counters.snapshots_freed));
  set("allocator/steward/snapshots_pending", static_cast<double>(snapshots_pending_.load()));
  // Applied first, then submitted: every applied event was submitted before, so the
  // difference is never negative.
  const uint64_t done = events_done_.load();
  set("allocator/steward/event_queue_depth", static_cast<double>(events_submitted_.load() - done));
  // Roles no framework, quota or weight names any more lose their gauge.
  for (const std::string& role : share_gauge_roles_) {
    if (!shown.contains(role)) metrics_.Remove(share_name(role));
  }
  share_gauge_roles_ = std::move(shown);
}

}  // namespace steward::daemon
