// GET /state (the shape of a Mesos agent's /state, completed executors and frameworks
// included) and GET /metrics/snapshot (Mesos agent metric names).
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/internal/agent_impl.h"
#include "common/json.h"
#include "common/json_writer.h"

namespace steward::agent {

using common::JsonWriter;
using internal::ExecutorRecord;
using internal::FrameworkRecord;
using internal::TaskRecord;
using ResourceList = google::protobuf::RepeatedPtrField<mesos::v1::Resource>;

namespace {

std::string RangesText(const mesos::v1::Value::Ranges& ranges) {
  std::vector<std::string> parts;
  for (const auto& range : ranges.range()) {
    parts.push_back(absl::StrCat(range.begin(), "-", range.end()));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

std::string SetText(const mesos::v1::Value::Set& set) {
  return absl::StrCat("{", absl::StrJoin(set.item(), ","), "}");
}

// Mesos's JSON form of a resource list: {"cpus": 2, "mem": 1024, "ports": "[31000-32000]"}.
void WriteResources(const ResourceList& resources, JsonWriter* json) {
  std::map<std::string, double> scalars;
  std::map<std::string, std::vector<std::string>> others;
  for (const mesos::v1::Resource& resource : resources) {
    switch (resource.type()) {
      case mesos::v1::Value::SCALAR:
        scalars[resource.name()] += resource.scalar().value();
        break;
      case mesos::v1::Value::RANGES:
        others[resource.name()].push_back(RangesText(resource.ranges()));
        break;
      case mesos::v1::Value::SET:
        others[resource.name()].push_back(SetText(resource.set()));
        break;
      default:
        break;
    }
  }
  json->BeginObject();
  for (const auto& [name, value] : scalars) json->Key(name).Number(value);
  for (const auto& [name, values] : others) json->Key(name).String(absl::StrJoin(values, ","));
  json->EndObject();
}

double ScalarTotal(const ResourceList& resources, const std::string& name) {
  double total = 0;
  for (const mesos::v1::Resource& resource : resources) {
    if (resource.name() == name && resource.type() == mesos::v1::Value::SCALAR) {
      total += resource.scalar().value();
    }
  }
  return total;
}

std::string ReservationRole(const mesos::v1::Resource& resource) {
  if (!resource.reservations().empty()) {
    return resource.reservations(resource.reservations_size() - 1).role();
  }
  return resource.role();
}

void WriteAttributes(const google::protobuf::RepeatedPtrField<mesos::v1::Attribute>& attributes,
                     JsonWriter* json) {
  json->BeginObject();
  for (const mesos::v1::Attribute& attribute : attributes) {
    json->Key(attribute.name());
    switch (attribute.type()) {
      case mesos::v1::Value::SCALAR:
        json->Number(attribute.scalar().value());
        break;
      case mesos::v1::Value::RANGES:
        json->String(RangesText(attribute.ranges()));
        break;
      case mesos::v1::Value::SET:
        json->String(SetText(attribute.set()));
        break;
      default:
        json->String(attribute.text().value());
        break;
    }
  }
  json->EndObject();
}

void WriteTask(const std::string& framework_id, const mesos::v1::TaskInfo& info,
               mesos::v1::TaskState state, const std::vector<mesos::v1::TaskStatus>& statuses,
               const std::string& agent_id, JsonWriter* json) {
  json->BeginObject();
  json->Key("id").String(info.task_id().value());
  json->Key("name").String(info.name());
  json->Key("framework_id").String(framework_id);
  json->Key("executor_id").String(info.has_executor() ? info.executor().executor_id().value() : "");
  json->Key("slave_id").String(agent_id);
  json->Key("state").String(mesos::v1::TaskState_Name(state));
  json->Key("resources");
  WriteResources(info.resources(), json);
  json->Key("statuses").BeginArray();
  for (const mesos::v1::TaskStatus& status : statuses) {
    json->BeginObject();
    json->Key("state").String(mesos::v1::TaskState_Name(status.state()));
    json->Key("timestamp").Number(status.timestamp());
    if (status.has_message()) json->Key("message").String(status.message());
    if (status.has_reason()) {
      json->Key("reason").String(mesos::v1::TaskStatus::Reason_Name(status.reason()));
    }
    if (status.has_container_status()) {
      // As Mesos's /state: the protobuf's JSON form (container_id, executor_pid, network_infos).
      absl::StatusOr<std::string> container = common::MessageToJson(status.container_status());
      if (container.ok()) json->Key("container_status").Raw(*container);
    }
    json->EndObject();
  }
  json->EndArray();
  json->EndObject();
}

// The fields every executor object has, before its task lists.
void WriteExecutorHead(const std::string& framework_id, const mesos::v1::ExecutorInfo& info,
                       bool command, const std::string& container_id, const std::string& sandbox,
                       JsonWriter* json) {
  json->Key("id").String(info.executor_id().value());
  json->Key("name").String(info.name());
  json->Key("framework_id").String(framework_id);
  json->Key("source").String("");
  json->Key("type").String(command ? "COMMAND" : "CUSTOM");
  json->Key("container").String(container_id);
  json->Key("directory").String(sandbox);
  json->Key("resources");
  WriteResources(info.resources(), json);
}

void WriteCompletedExecutors(const std::string& framework_id,
                             const std::deque<internal::CompletedExecutor>& executors,
                             const std::string& agent_id, JsonWriter* json) {
  json->BeginArray();
  for (const internal::CompletedExecutor& executor : executors) {
    json->BeginObject();
    WriteExecutorHead(framework_id, executor.info, executor.command, executor.container_id,
                      executor.sandbox, json);
    json->Key("tasks").BeginArray().EndArray();
    json->Key("queued_tasks").BeginArray().EndArray();
    json->Key("completed_tasks").BeginArray();
    for (const internal::CompletedTask& task : executor.completed_tasks) {
      WriteTask(framework_id, task.info, task.state, task.statuses, agent_id, json);
    }
    json->EndArray();
    json->EndObject();
  }
  json->EndArray();
}

void WriteFrameworkHead(const mesos::v1::FrameworkInfo& info, JsonWriter* json) {
  json->Key("id").String(info.id().value());
  json->Key("name").String(info.name());
  json->Key("user").String(info.user());
  json->Key("hostname").String(info.hostname());
  json->Key("role").String(info.role());
  json->Key("roles").BeginArray();
  for (const std::string& role : info.roles()) json->String(role);
  json->EndArray();
  json->Key("failover_timeout").Number(info.failover_timeout());
  json->Key("checkpoint").Bool(info.checkpoint());
  json->Key("capabilities").BeginArray();
  for (const auto& capability : info.capabilities()) {
    json->String(mesos::v1::FrameworkInfo::Capability::Type_Name(capability.type()));
  }
  json->EndArray();
}

}  // namespace

void AgentImpl::ServeState(common::Responder responder) {
  JsonWriter json;
  {
    std::lock_guard lock(mu_);
    const std::string agent_id = agent_id_.has_value() ? agent_id_->value() : "";
    const mesos::v1::AgentInfo info = AgentInfoLocked();
    json.BeginObject();
    json.Key("version").String(options_.version);
    json.Key("start_time")
        .Number(std::chrono::duration<double>(start_time_.time_since_epoch()).count());
    json.Key("id").String(agent_id);
    json.Key("hostname").String(info.hostname());
    json.Key("port").Number(info.port());
    json.Key("capabilities").BeginArray();
    for (const char* capability : {"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"}) {
      json.String(capability);
    }
    json.EndArray();
    json.Key("resources");
    WriteResources(options_.resources, &json);
    json.Key("attributes");
    WriteAttributes(options_.attributes, &json);
    json.Key("reserved_resources").BeginObject();
    std::map<std::string, ResourceList> by_role;
    for (const mesos::v1::Resource& resource : checkpointed_resources_) {
      *by_role[ReservationRole(resource)].Add() = resource;
    }
    for (const auto& [role, resources] : by_role) {
      json.Key(role);
      WriteResources(resources, &json);
    }
    json.EndObject();
    if (master_info_.has_value()) {
      json.Key("master_hostname")
          .String(master_info_->has_hostname() ? master_info_->hostname()
                                               : master_info_->address().ip());
      json.Key("master_info").BeginObject();
      json.Key("id").String(master_info_->id());
      json.Key("hostname").String(master_info_->hostname());
      json.Key("port").Number(master_info_->port());
      if (master_info_->has_address()) json.Key("ip").String(master_info_->address().ip());
      if (master_info_->has_version()) json.Key("version").String(master_info_->version());
      json.EndObject();
    }
    json.Key("flags").BeginObject();
    json.Key("master").String(absl::StrCat(options_.master_host, ":", options_.master_port));
    json.Key("ip").String(options_.ip);
    json.Key("port").String(absl::StrCat(port()));
    json.Key("work_dir").String(options_.work_dir);
    json.EndObject();

    json.Key("frameworks").BeginArray();
    for (const auto& [framework_id, framework] : frameworks_) {
      json.BeginObject();
      WriteFrameworkHead(framework.info, &json);
      json.Key("executors").BeginArray();
      for (const auto& [executor_id, executor] : framework.executors) {
        json.BeginObject();
        WriteExecutorHead(framework_id, executor.info, executor.command, executor.container_id,
                          executor.sandbox, &json);
        json.Key("terminated").Bool(executor.terminated);
        for (const char* group : {"tasks", "queued_tasks", "completed_tasks"}) {
          json.Key(group).BeginArray();
          for (const auto& [task_id, task] : framework.tasks) {
            if (task.executor_id != executor_id) continue;
            const char* in = internal::IsTerminal(task.state) ? "completed_tasks"
                             : task.delivered                 ? "tasks"
                                                              : "queued_tasks";
            if (std::string_view(in) != group) continue;
            WriteTask(framework_id, task.info, task.state, task.statuses, agent_id, &json);
          }
          if (std::string_view(group) == "completed_tasks") {
            for (const internal::CompletedTask& task : executor.completed_tasks) {
              WriteTask(framework_id, task.info, task.state, task.statuses, agent_id, &json);
            }
          }
          json.EndArray();
        }
        json.EndObject();
      }
      json.EndArray();
      json.Key("completed_executors");
      WriteCompletedExecutors(framework_id, framework.completed_executors, agent_id, &json);
      json.EndObject();
    }
    json.EndArray();
    json.Key("completed_frameworks").BeginArray();
    for (const internal::CompletedFramework& framework : completed_frameworks_) {
      json.BeginObject();
      WriteFrameworkHead(framework.info, &json);
      json.Key("executors").BeginArray().EndArray();
      json.Key("completed_executors");
      WriteCompletedExecutors(framework.info.id().value(), framework.completed_executors, agent_id,
                              &json);
      json.EndObject();
    }
    json.EndArray();
    json.EndObject();
  }
  responder.Reply(200, json.str(), "application/json");
}

void AgentImpl::RefreshGauges() {
  {
    std::lock_guard lock(mu_);
    std::map<mesos::v1::TaskState, int> by_state;
    double cpus_used = 0;
    double mem_used = 0;
    double disk_used = 0;
    int executors_running = 0;
    for (const auto& [framework_id, framework] : frameworks_) {
      for (const auto& [task_id, task] : framework.tasks) {
        if (internal::IsTerminal(task.state)) continue;
        ++by_state[task.state];
        cpus_used += ScalarTotal(task.info.resources(), "cpus");
        mem_used += ScalarTotal(task.info.resources(), "mem");
        disk_used += ScalarTotal(task.info.resources(), "disk");
      }
      for (const auto& [executor_id, executor] : framework.executors) {
        if (executor.terminated) continue;
        ++executors_running;
        if (executor.command) continue;  // A command task's resources are the task's.
        cpus_used += ScalarTotal(executor.info.resources(), "cpus");
        mem_used += ScalarTotal(executor.info.resources(), "mem");
        disk_used += ScalarTotal(executor.info.resources(), "disk");
      }
    }
    const auto set = [this](const std::string& name, double value) {
      metrics_.GetGauge(name)->Set(value);
    };
    set("slave/registered", link_->subscribed() ? 1 : 0);
    set("slave/uptime_secs",
        std::chrono::duration<double>(std::chrono::system_clock::now() - start_time_).count());
    set("slave/tasks_staging", by_state[mesos::v1::TASK_STAGING]);
    set("slave/tasks_starting", by_state[mesos::v1::TASK_STARTING]);
    set("slave/tasks_running", by_state[mesos::v1::TASK_RUNNING]);
    set("slave/tasks_killing", by_state[mesos::v1::TASK_KILLING]);
    set("slave/executors_running", executors_running);
    set("slave/frameworks_active", static_cast<double>(frameworks_.size()));
    for (const auto& [name, used] : std::vector<std::pair<std::string, double>>{
             {"cpus", cpus_used}, {"mem", mem_used}, {"disk", disk_used}}) {
      const double total = ScalarTotal(options_.resources, name);
      set("slave/" + name + "_total", total);
      set("slave/" + name + "_used", used);
      set("slave/" + name + "_percent", total > 0 ? used / total : 0);
    }
  }
}

void AgentImpl::ServeMetrics(common::Responder responder, bool prometheus) {
  RefreshGauges();
  if (prometheus) {
    responder.Reply(200, metrics_.Prometheus(), "text/plain; version=0.0.4");
  } else {
    responder.Reply(200, metrics_.SnapshotJson(), "application/json");
  }
}

}  // namespace steward::agent
