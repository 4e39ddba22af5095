#include "tests/agent/fake_master.h"

#include <utility>

#include "common/recordio.h"

namespace steward::agent::testing {

using steward::agent::Call;
using steward::agent::Event;

FakeMaster::FakeMaster() {
  common::HttpServer::Options options;
  options.threads = 2;
  server_ = std::make_unique<common::HttpServer>(options);
  server_->Route("POST", "/api/v1/agent",
                 [this](const common::HttpRequest& request, common::Responder responder) {
                   Handle(request, std::move(responder));
                 });
  if (!server_->Start().ok()) std::abort();
}

FakeMaster::~FakeMaster() {
  {
    std::lock_guard lock(mu_);
    stream_.reset();
    held_.clear();
  }
  server_->Stop();
}

void FakeMaster::set_agent_id(std::string id) {
  std::lock_guard lock(mu_);
  agent_id_ = std::move(id);
}
void FakeMaster::set_heartbeat_interval_seconds(double seconds) {
  std::lock_guard lock(mu_);
  heartbeat_interval_seconds_ = seconds;
}
void FakeMaster::set_auto_acknowledge(bool on) {
  std::lock_guard lock(mu_);
  auto_acknowledge_ = on;
}
void FakeMaster::set_refuse_calls(int status) {
  std::lock_guard lock(mu_);
  refuse_calls_ = status;
}

void FakeMaster::set_accepts_status_update_batches(bool on) {
  std::lock_guard lock(mu_);
  accepts_status_update_batches_ = on;
}
void FakeMaster::set_hold_status_updates(bool on) {
  std::lock_guard lock(mu_);
  hold_status_updates_ = on;
  if (on) return;
  for (auto& [call, responder] : held_) AnswerLocked(call, responder);
  held_.clear();
}

std::vector<Call::StatusUpdate> FakeMaster::UpdatesOf(const Call& call) {
  std::vector<Call::StatusUpdate> out;
  if (call.type() != Call::STATUS_UPDATE) return out;
  if (call.has_status_update()) out.push_back(call.status_update());
  out.insert(out.end(), call.status_updates().begin(), call.status_updates().end());
  return out;
}

void FakeMaster::Handle(const common::HttpRequest& request, common::Responder responder) {
  Call call;
  if (request.Header("Content-Type") != "application/x-protobuf" ||
      !call.ParseFromString(request.body)) {
    responder.Reply(400, "bad call");
    return;
  }
  std::lock_guard lock(mu_);
  calls_.push_back(call);
  cv_.notify_all();
  if (call.type() == Call::SUBSCRIBE) {
    if (stream_.has_value()) stream_->Close();
    ++subscriptions_;
    stream_id_ = "stream-" + std::to_string(++next_stream_);
    const std::string id = call.has_agent_id() ? call.agent_id().value() : agent_id_;
    responder.StartStream(
        200, {{"Content-Type", "application/x-protobuf"}, {"Mesos-Stream-Id", stream_id_}});
    Event subscribed = SubscribedEvent(id, heartbeat_interval_seconds_);
    subscribed.mutable_subscribed()->set_accepts_status_update_batches(
        accepts_status_update_batches_);
    responder.Write(common::EncodeRecordIo(subscribed.SerializeAsString()));
    stream_ = responder;
    return;
  }
  if (refuse_calls_ != 0) {
    responder.Reply(refuse_calls_, "refused by the test");
    return;
  }
  if (request.Header("Mesos-Stream-Id") != stream_id_) {
    responder.Reply(400, "The 'Mesos-Stream-Id' header does not match the agent's stream");
    return;
  }
  if (call.type() == Call::STATUS_UPDATE && hold_status_updates_) {
    held_.emplace_back(call, std::move(responder));
    return;
  }
  AnswerLocked(call, responder);
}

void FakeMaster::AnswerLocked(const Call& call, common::Responder& responder) {
  responder.Reply(202, "");
  if (!auto_acknowledge_ || !stream_.has_value()) return;
  for (const Call::StatusUpdate& update : UpdatesOf(call)) {
    Event ack;
    ack.set_type(Event::ACKNOWLEDGE_STATUS_UPDATE);
    auto* payload = ack.mutable_acknowledge_status_update();
    *payload->mutable_framework_id() = update.framework_id();
    *payload->mutable_task_id() = update.status().task_id();
    payload->set_uuid(update.status().uuid());
    stream_->Write(common::EncodeRecordIo(ack.SerializeAsString()));
  }
}

std::vector<Call> FakeMaster::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<Call> FakeMaster::calls_of(Call::Type type) const {
  std::lock_guard lock(mu_);
  std::vector<Call> out;
  for (const Call& call : calls_) {
    if (call.type() == type) out.push_back(call);
  }
  return out;
}

std::vector<mesos::v1::TaskStatus> FakeMaster::updates_for(const std::string& task_id) const {
  std::lock_guard lock(mu_);
  std::vector<mesos::v1::TaskStatus> out;
  for (const Call& call : calls_) {
    for (const Call::StatusUpdate& update : UpdatesOf(call)) {
      if (update.status().task_id().value() == task_id) out.push_back(update.status());
    }
  }
  return out;
}

int FakeMaster::subscriptions() const {
  std::lock_guard lock(mu_);
  return subscriptions_;
}

bool FakeMaster::WaitFor(const std::function<bool(const FakeMaster&)>& predicate,
                         std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate(*this)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
  return true;
}

std::optional<mesos::v1::TaskStatus> FakeMaster::WaitForUpdate(
    const std::string& task_id, mesos::v1::TaskState state,
    std::chrono::milliseconds timeout) const {
  std::optional<mesos::v1::TaskStatus> found;
  WaitFor(
      [&](const FakeMaster& master) {
        for (const mesos::v1::TaskStatus& status : master.updates_for(task_id)) {
          if (status.state() == state) {
            found = status;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

bool FakeMaster::Push(const Event& event) {
  return PushRaw(common::EncodeRecordIo(event.SerializeAsString()));
}

bool FakeMaster::PushRaw(const std::string& bytes) {
  std::lock_guard lock(mu_);
  return stream_.has_value() && stream_->Write(bytes);
}

bool FakeMaster::Acknowledge(const std::string& framework_id, const mesos::v1::TaskStatus& status) {
  Event ack;
  ack.set_type(Event::ACKNOWLEDGE_STATUS_UPDATE);
  auto* payload = ack.mutable_acknowledge_status_update();
  payload->mutable_framework_id()->set_value(framework_id);
  *payload->mutable_task_id() = status.task_id();
  payload->set_uuid(status.uuid());
  return Push(ack);
}

void FakeMaster::DropStream() {
  std::lock_guard lock(mu_);
  if (stream_.has_value()) stream_->Close();
  stream_.reset();
}

Event SubscribedEvent(const std::string& agent_id, double heartbeat_seconds) {
  Event event;
  event.set_type(Event::SUBSCRIBED);
  event.mutable_subscribed()->mutable_agent_id()->set_value(agent_id);
  auto* master = event.mutable_subscribed()->mutable_master_info();
  master->set_id("master-1");
  master->set_ip(0x0100007f);
  master->set_port(5050);
  master->set_hostname("localhost");
  event.mutable_subscribed()->set_heartbeat_interval_seconds(heartbeat_seconds);
  return event;
}

mesos::v1::FrameworkInfo TestFramework(const std::string& id, bool task_killing_state) {
  mesos::v1::FrameworkInfo framework;
  framework.set_user("nobody");
  framework.set_name("test-framework");
  framework.mutable_id()->set_value(id);
  if (task_killing_state) {
    framework.add_capabilities()->set_type(
        mesos::v1::FrameworkInfo::Capability::TASK_KILLING_STATE);
  }
  return framework;
}

Event LaunchCommand(const mesos::v1::FrameworkInfo& framework, const std::string& task_id,
                    const std::string& agent_id, const std::string& shell_command) {
  Event event;
  event.set_type(Event::LAUNCH);
  *event.mutable_launch()->mutable_framework_info() = framework;
  mesos::v1::TaskInfo* task = event.mutable_launch()->mutable_task();
  task->set_name(task_id);
  task->mutable_task_id()->set_value(task_id);
  task->mutable_agent_id()->set_value(agent_id);
  task->mutable_command()->set_value(shell_command);
  for (const auto& [name, amount] : {std::pair<const char*, double>{"cpus", 0.5}, {"mem", 64}}) {
    mesos::v1::Resource* resource = task->add_resources();
    resource->set_name(name);
    resource->set_type(mesos::v1::Value::SCALAR);
    resource->mutable_scalar()->set_value(amount);
  }
  return event;
}

Event KillEvent(const std::string& framework_id, const std::string& task_id) {
  Event event;
  event.set_type(Event::KILL);
  event.mutable_kill()->mutable_framework_id()->set_value(framework_id);
  event.mutable_kill()->mutable_task_id()->set_value(task_id);
  return event;
}

}  // namespace steward::agent::testing
