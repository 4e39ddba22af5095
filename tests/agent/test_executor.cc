// A minimal custom executor for the agent's process tests, speaking the v1 executor HTTP API
// in JSON like third-party executors do. It prints "pid N", subscribes to
// MESOS_AGENT_ENDPOINT and, per event:
//   LAUNCH   -> UPDATE TASK_RUNNING, then TASK_FINISHED if the task's data is "finish"
//   KILL     -> UPDATE TASK_KILLED
//   MESSAGE  -> "finish TASK_ID": UPDATE TASK_FINISHED of that task; otherwise a MESSAGE call
//               with "echo:" + data
//   SHUTDOWN -> exit 0
// and prints one line per event to stdout ("acknowledged TASK_ID", ...), which the tests read
// from the sandbox.
//
// When its stream ends (the agent restarted) and MESOS_CHECKPOINT is 1, it subscribes again
// every 100 ms, with the updates and tasks it has no acknowledgement for, until
// MESOS_RECOVERY_TIMEOUT has passed (then it exits 1), as Mesos executor libraries do. With
// TEST_EXECUTOR_ON_DISCONNECT=silent it instead prints "silent" and idles (for at most 60 s)
// without subscribing again: an executor hung across the agent's restart.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "common/flags.h"
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
    Say("pid " + std::to_string(::getpid()));
    const bool checkpoint = Env("MESOS_CHECKPOINT") == "1";
    std::chrono::nanoseconds recovery_timeout = std::chrono::minutes(15);
    if (absl::StatusOr<std::chrono::nanoseconds> parsed =
            steward::common::ParseDuration(Env("MESOS_RECOVERY_TIMEOUT"));
        parsed.ok()) {
      recovery_timeout = *parsed;
    }
    std::optional<std::chrono::steady_clock::time_point> disconnected;
    for (;;) {
      bool subscribed = false;
      bool shutdown = false;
      std::string failure;
      SubscribeOnce(&subscribed, &shutdown, &failure);
      if (shutdown) return 0;
      if (!checkpoint) {
        Say(subscribed ? "stream ended" : "stream failed: " + failure);
        return subscribed ? 0 : 1;
      }
      const auto now = std::chrono::steady_clock::now();
      if (subscribed || !disconnected.has_value()) {
        disconnected = now;
        Say("disconnected");
        if (Env("TEST_EXECUTOR_ON_DISCONNECT") == "silent") {
          Say("silent");
          for (int i = 0; i < 600; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return 1;
        }
      }
      if (now - *disconnected > recovery_timeout) {
        Say("recovery timed out");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

 private:
  // One SUBSCRIBE and its event stream, until the stream ends or SHUTDOWN.
  void SubscribeOnce(bool* subscribed, bool* shutdown, std::string* failure) {
    Call subscribe = NewCall(Call::SUBSCRIBE);
    Call::Subscribe* payload = subscribe.mutable_subscribe();
    for (const Call::Update& update : unacknowledged_updates_) {
      *payload->add_unacknowledged_updates() = update;
    }
    for (const mesos::v1::TaskInfo& task : unacknowledged_tasks_) {
      *payload->add_unacknowledged_tasks() = task;
    }
    steward::common::HttpRequest request;
    request.method = "POST";
    request.target = "/api/v1/executor";
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = *steward::common::MessageToJson(subscribe);
    steward::common::RecordIoDecoder decoder;
    absl::StatusOr<steward::common::HttpResponse> head = stream_.Stream(
        request,
        [&](const steward::common::HttpResponse& response) {
          Say("subscribe answered " + std::to_string(response.status));
          *subscribed = response.status == 200;
          return *subscribed;
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
              *shutdown = true;
              return false;
            }
          }
          return true;
        });
    if (!head.ok()) *failure = std::string(head.status().message());
    stream_.Close();
  }

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
    unacknowledged_updates_.push_back(call.update());
    std::erase_if(unacknowledged_tasks_, [&](const mesos::v1::TaskInfo& task) {
      return task.task_id().value() == task_id.value();
    });
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
        unacknowledged_tasks_.push_back(event.launch().task());
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
        std::erase_if(unacknowledged_updates_, [&](const Call::Update& update) {
          return update.status().uuid() == event.acknowledged().uuid();
        });
        return true;
      case Event::MESSAGE: {
        Say("message " + event.message().data());
        if (event.message().data().starts_with("finish ")) {
          mesos::v1::TaskID task_id;
          task_id.set_value(event.message().data().substr(7));
          Update(task_id, mesos::v1::TASK_FINISHED);
          return true;
        }
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
  std::vector<Call::Update> unacknowledged_updates_;       // Oldest first.
  std::vector<mesos::v1::TaskInfo> unacknowledged_tasks_;  // Launched, no update sent yet.
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
