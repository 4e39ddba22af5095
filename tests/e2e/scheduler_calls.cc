#include "tests/e2e/scheduler_calls.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/substitute.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"

namespace steward::e2e {
namespace {

using mesos::v1::scheduler::Call;

std::string IdJson(const std::string& value) {
  return absl::StrCat("{\"value\":", JsonString(value), "}");
}

std::string ResourcesJson(const std::vector<std::pair<std::string, double>>& resources) {
  std::vector<std::string> entries;
  for (const auto& [name, value] : resources) {
    entries.push_back(absl::Substitute(R"({"name":$0,"type":"SCALAR","scalar":{"value":$1}})",
                                       JsonString(name), value));
  }
  return absl::StrCat("[", absl::StrJoin(entries, ","), "]");
}

Call NewCall(Call::Type type, const std::string& framework_id) {
  Call call;
  call.set_type(type);
  if (!framework_id.empty()) call.mutable_framework_id()->set_value(framework_id);
  return call;
}

}  // namespace

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string SchedulerCalls::content_type() const {
  return json() ? "application/json" : "application/x-protobuf";
}

std::string SchedulerCalls::Subscribe(const std::string& name, double failover_timeout,
                                      const std::string& framework_id) const {
  if (json()) {
    const std::string id =
        framework_id.empty() ? "" : absl::StrCat(R"("id":)", IdJson(framework_id), ",");
    const std::string call_id =
        framework_id.empty() ? "" : absl::StrCat(R"("framework_id":)", IdJson(framework_id), ",");
    return absl::Substitute(
        R"({$0"type":"SUBSCRIBE","subscribe":{"framework_info":{$1"user":"e2e","name":$2,)"
        R"("roles":["*"],"failover_timeout":$3,"capabilities":[{"type":"MULTI_ROLE"}]}}})",
        call_id, id, JsonString(name), failover_timeout);
  }
  Call call = NewCall(Call::SUBSCRIBE, framework_id);
  mesos::v1::FrameworkInfo* info = call.mutable_subscribe()->mutable_framework_info();
  if (!framework_id.empty()) info->mutable_id()->set_value(framework_id);
  info->set_user("e2e");
  info->set_name(name);
  const std::string any_role = "*";
  info->add_roles(any_role);
  info->set_failover_timeout(failover_timeout);
  info->add_capabilities()->set_type(mesos::v1::FrameworkInfo::Capability::MULTI_ROLE);
  return call.SerializeAsString();
}

std::string SchedulerCalls::Accept(const std::string& framework_id,
                                   const std::vector<std::string>& offer_ids,
                                   const std::vector<CommandTask>& tasks,
                                   double refuse_seconds) const {
  if (json()) {
    std::vector<std::string> offers;
    for (const std::string& id : offer_ids) offers.push_back(IdJson(id));
    std::vector<std::string> infos;
    for (const CommandTask& task : tasks) {
      infos.push_back(absl::Substitute(R"({"name":$0,"task_id":$1,"agent_id":$2,"resources":$3,)"
                                       R"("command":{"shell":true,"value":$4}})",
                                       JsonString(task.id), IdJson(task.id), IdJson(task.agent_id),
                                       ResourcesJson(task.resources), JsonString(task.command)));
    }
    return absl::Substitute(R"({"framework_id":$0,"type":"ACCEPT","accept":{"offer_ids":[$1],)"
                            R"("operations":[{"type":"LAUNCH","launch":{"task_infos":[$2]}}],)"
                            R"("filters":{"refuse_seconds":$3}}})",
                            IdJson(framework_id), absl::StrJoin(offers, ","),
                            absl::StrJoin(infos, ","), refuse_seconds);
  }
  Call call = NewCall(Call::ACCEPT, framework_id);
  for (const std::string& id : offer_ids) call.mutable_accept()->add_offer_ids()->set_value(id);
  mesos::v1::Offer::Operation* operation = call.mutable_accept()->add_operations();
  operation->set_type(mesos::v1::Offer::Operation::LAUNCH);
  for (const CommandTask& task : tasks) {
    mesos::v1::TaskInfo* info = operation->mutable_launch()->add_task_infos();
    info->set_name(task.id);
    info->mutable_task_id()->set_value(task.id);
    info->mutable_agent_id()->set_value(task.agent_id);
    for (const auto& [name, value] : task.resources) {
      mesos::v1::Resource* resource = info->add_resources();
      resource->set_name(name);
      resource->set_type(mesos::v1::Value::SCALAR);
      resource->mutable_scalar()->set_value(value);
    }
    info->mutable_command()->set_shell(true);
    info->mutable_command()->set_value(task.command);
  }
  call.mutable_accept()->mutable_filters()->set_refuse_seconds(refuse_seconds);
  return call.SerializeAsString();
}

std::string SchedulerCalls::Decline(const std::string& framework_id,
                                    const std::vector<std::string>& offer_ids) const {
  if (json()) {
    std::vector<std::string> offers;
    for (const std::string& id : offer_ids) offers.push_back(IdJson(id));
    return absl::Substitute(R"({"framework_id":$0,"type":"DECLINE","decline":{"offer_ids":[$1]}})",
                            IdJson(framework_id), absl::StrJoin(offers, ","));
  }
  Call call = NewCall(Call::DECLINE, framework_id);
  for (const std::string& id : offer_ids) call.mutable_decline()->add_offer_ids()->set_value(id);
  return call.SerializeAsString();
}

std::string SchedulerCalls::Kill(const std::string& framework_id, const std::string& task_id,
                                 const std::string& agent_id) const {
  if (json()) {
    return absl::Substitute(
        R"({"framework_id":$0,"type":"KILL","kill":{"task_id":$1,"agent_id":$2}})",
        IdJson(framework_id), IdJson(task_id), IdJson(agent_id));
  }
  Call call = NewCall(Call::KILL, framework_id);
  call.mutable_kill()->mutable_task_id()->set_value(task_id);
  call.mutable_kill()->mutable_agent_id()->set_value(agent_id);
  return call.SerializeAsString();
}

std::string SchedulerCalls::Acknowledge(const std::string& framework_id,
                                        const mesos::v1::TaskStatus& status) const {
  if (json()) {
    // `bytes` travel base64-encoded in JSON.
    return absl::Substitute(
        R"({"framework_id":$0,"type":"ACKNOWLEDGE","acknowledge":{"agent_id":$1,)"
        R"("task_id":$2,"uuid":$3}})",
        IdJson(framework_id), IdJson(status.agent_id().value()), IdJson(status.task_id().value()),
        JsonString(absl::Base64Escape(status.uuid())));
  }
  Call call = NewCall(Call::ACKNOWLEDGE, framework_id);
  *call.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
  *call.mutable_acknowledge()->mutable_task_id() = status.task_id();
  call.mutable_acknowledge()->set_uuid(status.uuid());
  return call.SerializeAsString();
}

std::string SchedulerCalls::Reconcile(
    const std::string& framework_id,
    const std::vector<std::pair<std::string, std::string>>& tasks) const {
  if (json()) {
    std::vector<std::string> entries;
    for (const auto& [task_id, agent_id] : tasks) {
      entries.push_back(
          absl::Substitute(R"({"task_id":$0,"agent_id":$1})", IdJson(task_id), IdJson(agent_id)));
    }
    return absl::Substitute(R"({"framework_id":$0,"type":"RECONCILE","reconcile":{"tasks":[$1]}})",
                            IdJson(framework_id), absl::StrJoin(entries, ","));
  }
  Call call = NewCall(Call::RECONCILE, framework_id);
  call.mutable_reconcile();
  for (const auto& [task_id, agent_id] : tasks) {
    Call::Reconcile::Task* task = call.mutable_reconcile()->add_tasks();
    task->mutable_task_id()->set_value(task_id);
    task->mutable_agent_id()->set_value(agent_id);
  }
  return call.SerializeAsString();
}

std::string SchedulerCalls::Teardown(const std::string& framework_id) const {
  if (json()) {
    return absl::Substitute(R"({"framework_id":$0,"type":"TEARDOWN"})", IdJson(framework_id));
  }
  return NewCall(Call::TEARDOWN, framework_id).SerializeAsString();
}

}  // namespace steward::e2e
