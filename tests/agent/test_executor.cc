// A minimal custom executor for the agent's process tests, speaking the v1 executor HTTP API
// in JSON like third-party executors do. It subscribes to MESOS_AGENT_ENDPOINT and, per event:
//   LAUNCH  -> UPDATE TASK_RUNNING, then TASK_FINISHED if the task's data is "finish"
//   KILL    -> UPDATE TASK_KILLED
//   MESSAGE -> MESSAGE call with "echo:" + data
//   SHUTDOWN -> exit 0
// and prints one line per event to stdout ("acknowledged TASK_ID", ...), which the tests read
// from the sandbox.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/recordio.h"
#include "proto/mesos/v1/executor/executor.pb.h"

namespace {

using mesos::v1::executor::Call;
using mesos::v1::executor::Event;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

class Executor {
 public:
  Executor(std::string host, uint16_t port) : stream_(host, port), calls_(host, port) {
    framework_id_.set_value(Env("MESOS_FRAMEWORK_ID"));
    executor_id_.set_value(Env("MESOS_EXECUTOR_ID"));
  }

  int Run() {
    Call subscribe = NewCall(Call::SUBSCRIBE);
    subscribe.mutable_subscribe();
    steward::common::HttpRequest request;
    request.method = "POST";
    request.target = "/api/v1/executor";
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = *steward::common::MessageToJson(subscribe);
    steward::common::RecordIoDecoder decoder;
    int exit_code = 0;
    bool done = false;
    absl::StatusOr<steward::common::HttpResponse> head = stream_.Stream(
        request,
        [](const steward::common::HttpResponse& response) {
          Say("subscribe answered " + std::to_string(response.status));
          return response.status == 200;
        },
        [&](std::string_view data) {
          std::vector<std::string> records;
          if (!decoder.Decode(data, &records).ok()) return false;
          for (const std::string& record : records) {
            Event event;
            if (!steward::common::JsonToMessage(record, &event).ok()) {
              Say("bad event");
              continue;
            }
            if (!Handle(event)) {
              done = true;
              return false;
            }
          }
          return true;
        });
    if (!head.ok()) {
      Say("stream failed: " + std::string(head.status().message()));
      exit_code = 1;
    }
    if (!done) Say("stream ended");
    return exit_code;
  }

 private:
  Call NewCall(Call::Type type) {
    Call call;
    call.set_type(type);
    *call.mutable_framework_id() = framework_id_;
    *call.mutable_executor_id() = executor_id_;
    return call;
  }

  void Post(const Call& call) {
    absl::StatusOr<steward::common::HttpResponse> response =
        calls_.Post("/api/v1/executor", *steward::common::MessageToJson(call), "application/json");
    Say(std::string(Call::Type_Name(call.type())) + " answered " +
        (response.ok() ? std::to_string(response->status) : "error"));
  }

  void Update(const mesos::v1::TaskID& task_id, mesos::v1::TaskState state) {
    Call call = NewCall(Call::UPDATE);
    mesos::v1::TaskStatus* status = call.mutable_update()->mutable_status();
    *status->mutable_task_id() = task_id;
    status->set_state(state);
    std::string uuid(16, '\0');
    for (char& byte : uuid) byte = static_cast<char>(absl::Uniform<int>(random_, 0, 256));
    status->set_uuid(uuid);
    Post(call);
  }

  // False ends the executor.
  bool Handle(const Event& event) {
    switch (event.type()) {
      case Event::SUBSCRIBED:
        Say("subscribed to agent " + event.subscribed().agent_info().id().value());
        return true;
      case Event::LAUNCH:
        Say("launch " + event.launch().task().task_id().value());
        Update(event.launch().task().task_id(), mesos::v1::TASK_RUNNING);
        if (event.launch().task().data() == "finish") {
          Update(event.launch().task().task_id(), mesos::v1::TASK_FINISHED);
        }
        return true;
      case Event::KILL:
        Say("kill " + event.kill().task_id().value());
        Update(event.kill().task_id(), mesos::v1::TASK_KILLED);
        return true;
      case Event::ACKNOWLEDGED:
        Say("acknowledged " + event.acknowledged().task_id().value());
        return true;
      case Event::MESSAGE: {
        Say("message " + event.message().data());
        Call call = NewCall(Call::MESSAGE);
        call.mutable_message()->set_data("echo:" + event.message().data());
        Post(call);
        return true;
      }
      case Event::SHUTDOWN:
        Say("shutdown");
        return false;
      case Event::HEARTBEAT:
        return true;
      default:
        Say("event " + std::string(Event::Type_Name(event.type())));
        return true;
    }
  }

  steward::common::HttpClient stream_;
  steward::common::HttpClient calls_;
  mesos::v1::FrameworkID framework_id_;
  mesos::v1::ExecutorID executor_id_;
  absl::BitGen random_;
};

}  // namespace

int main() {
  const std::string endpoint = Env("MESOS_AGENT_ENDPOINT");
  const size_t colon = endpoint.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(endpoint.substr(colon + 1), &port) ||
      port > 65535) {
    Say("MESOS_AGENT_ENDPOINT is not HOST:PORT: '" + endpoint + "'");
    return 2;
  }
  Executor executor(endpoint.substr(0, colon), static_cast<uint16_t>(port));
  return executor.Run();
}
