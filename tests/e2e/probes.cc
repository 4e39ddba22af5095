#include "tests/e2e/probes.h"

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/json.h"
#include "tests/e2e/cluster.h"

namespace steward::e2e {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr int64_t kFilesReadPiece = int64_t{1} << 20;

// `text` with every byte outside [A-Za-z0-9-._~/] percent-encoded (a query value).
std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<Struct> GetJson(uint16_t port, const std::string& target) {
  common::HttpClient client("127.0.0.1", port);
  absl::StatusOr<common::HttpResponse> response = client.Get(target);
  if (!response.ok()) return response.status();
  if (response->status == 404) {
    return absl::NotFoundError(absl::StrCat("GET ", target, ": 404 ", response->body));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", target, ": ", response->status, " ", response->body));
  }
  Struct value;
  if (absl::Status s = common::JsonToMessage(response->body, &value); !s.ok()) {
    return absl::DataLossError(absl::StrCat("GET ", target, ": ", s.message()));
  }
  return value;
}

const Value* Field(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

std::string StringField(const Struct& object, const std::string& name) {
  const Value* value = Field(object, name);
  return value != nullptr && value->has_string_value() ? value->string_value() : "";
}

// The objects of the array `name` in `object` (none if it is missing or not an array).
std::vector<const Struct*> Objects(const Struct& object, const std::string& name) {
  std::vector<const Struct*> out;
  const Value* value = Field(object, name);
  if (value == nullptr || !value->has_list_value()) return out;
  for (const Value& element : value->list_value().values()) {
    if (element.has_struct_value()) out.push_back(&element.struct_value());
  }
  return out;
}

}  // namespace

absl::StatusOr<master_api::Response> OperatorCall(uint16_t master_port,
                                                  master_api::Call::Type type) {
  master_api::Call call;
  call.set_type(type);
  common::HttpClient client("127.0.0.1", master_port);
  common::HttpRequest request;
  request.method = "POST";
  request.target = "/api/v1";
  request.headers = {{"Content-Type", "application/x-protobuf"},
                     {"Accept", "application/x-protobuf"}};
  request.body = call.SerializeAsString();
  absl::StatusOr<common::HttpResponse> response = client.Send(request);
  const std::string name = master_api::Call::Type_Name(type);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(name, ": ", response.status().message()));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": HTTP ", response->status, " ", response->body));
  }
  master_api::Response answer;
  if (!answer.ParseFromString(response->body)) {
    return absl::DataLossError(absl::StrCat(name, ": the answer is not a master.Response"));
  }
  return answer;
}

absl::StatusOr<master_api::Response> WaitForOperator(
    uint16_t master_port, master_api::Call::Type type,
    const std::function<bool(const master_api::Response&)>& done, std::chrono::milliseconds timeout,
    const std::string& what) {
  const Deadline deadline(timeout);
  std::string last = "no answer";
  while (true) {
    absl::StatusOr<master_api::Response> response = OperatorCall(master_port, type);
    if (response.ok() && done(*response)) return response;
    last = response.ok() ? response->ShortDebugString() : response.status().ToString();
    if (deadline.Expired()) {
      return absl::DeadlineExceededError(absl::StrCat("waited ", deadline.budget().count(),
                                                      " ms for ", what, "; last answer: ", last));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

absl::StatusOr<std::vector<std::string>> WaitForActiveAgents(uint16_t master_port,
                                                             const std::vector<uint16_t>& ports,
                                                             std::chrono::milliseconds timeout) {
  std::vector<std::string> ids(ports.size());
  auto all_active = [&](const master_api::Response& response) {
    const auto& agents = response.get_agents().agents();
    if (static_cast<size_t>(agents.size()) != ports.size()) return false;
    for (size_t n = 0; n < ports.size(); ++n) {
      ids[n].clear();
      for (const auto& agent : agents) {
        if (agent.active() && agent.agent_info().port() == ports[n]) {
          ids[n] = agent.agent_info().id().value();
        }
      }
      if (ids[n].empty()) return false;
    }
    return true;
  };
  absl::StatusOr<master_api::Response> response =
      WaitForOperator(master_port, master_api::Call::GET_AGENTS, all_active, timeout,
                      absl::StrCat(ports.size(), " active agents"));
  if (!response.ok()) return response.status();
  return ids;
}

const mesos::v1::Task* FindTask(const master_api::Response& response, const std::string& task_id) {
  const master_api::Response::GetTasks& tasks =
      response.has_get_state() ? response.get_state().get_tasks() : response.get_tasks();
  for (const auto* list : {&tasks.tasks(), &tasks.unreachable_tasks(), &tasks.completed_tasks()}) {
    for (const mesos::v1::Task& task : *list) {
      if (task.task_id().value() == task_id) return &task;
    }
  }
  return nullptr;
}

absl::StatusOr<Struct> AgentState(uint16_t agent_port) { return GetJson(agent_port, "/state"); }

absl::StatusOr<std::string> SandboxOf(uint16_t agent_port, const std::string& framework_id,
                                      const std::string& task_id) {
  absl::StatusOr<Struct> state = AgentState(agent_port);
  if (!state.ok()) return state.status();
  for (const Struct* framework : Objects(*state, "frameworks")) {
    if (StringField(*framework, "id") != framework_id) continue;
    for (const char* executors : {"executors", "completed_executors"}) {
      for (const Struct* executor : Objects(*framework, executors)) {
        for (const char* group : {"tasks", "queued_tasks", "completed_tasks"}) {
          for (const Struct* task : Objects(*executor, group)) {
            if (StringField(*task, "id") == task_id) return StringField(*executor, "directory");
          }
        }
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("the agent on port ", agent_port, " does not list task ",
                                          task_id, " of framework ", framework_id));
}

absl::StatusOr<std::string> ReadSandboxFile(uint16_t agent_port, const std::string& path) {
  const std::string base = absl::StrCat("/files/read?path=", UrlEncode(path));
  absl::StatusOr<Struct> end = GetJson(agent_port, base + "&offset=-1");
  if (!end.ok()) return end.status();
  const Value* size = Field(*end, "offset");
  if (size == nullptr || !size->has_number_value() || size->number_value() < 0) {
    return absl::DataLossError(absl::StrCat("GET ", base, "&offset=-1: no file size"));
  }
  std::string content;
  for (int64_t offset = 0; offset < static_cast<int64_t>(size->number_value());
       offset += kFilesReadPiece) {
    absl::StatusOr<Struct> piece =
        GetJson(agent_port, absl::StrCat(base, "&offset=", offset, "&length=", kFilesReadPiece));
    if (!piece.ok()) return piece.status();
    content += StringField(*piece, "data");
  }
  return content;
}

}  // namespace steward::e2e
