#include "agent/internal/agent_impl.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/internal/files_api.h"
#include "common/flags.h"
#include "common/logging.h"

namespace steward::agent {

using internal::ExecutorRecord;
using internal::FrameworkRecord;
using internal::TaskRecord;

namespace {

// The NetworkInfo of `address` when it is a literal IPv4 or IPv6 address.
std::optional<mesos::v1::NetworkInfo> NetworkOf(const std::string& address) {
  in_addr v4;
  in6_addr v6;
  mesos::v1::NetworkInfo network;
  mesos::v1::NetworkInfo::IPAddress* ip = network.add_ip_addresses();
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    ip->set_ip_address(address);  // The protocol defaults to IPv4, as Mesos leaves it.
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    ip->set_protocol(mesos::v1::NetworkInfo::IPv6);
    ip->set_ip_address(address);
  } else {
    return std::nullopt;
  }
  return network;
}

// The agent's address as container statuses report it: --ip, or for a wildcard --ip the
// first address the reported hostname resolves to (as Mesos reports the address its
// libprocess bound to).
std::optional<mesos::v1::NetworkInfo> AgentNetwork(const AgentOptions& options) {
  if (options.ip != "0.0.0.0" && options.ip != "::") {
    std::optional<mesos::v1::NetworkInfo> network = NetworkOf(options.ip);
    if (!network.has_value()) {
      STEWARD_LOG(WARNING) << "--ip " << options.ip << " is not an IP address; task statuses "
                           << "carry no network_infos";
    }
    return network;
  }
  const std::string& host = options.hostname;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (host.empty() || ::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) {
    STEWARD_LOG(WARNING) << "Hostname '" << host << "' does not resolve; task statuses carry "
                         << "no network_infos";
    return std::nullopt;
  }
  std::optional<mesos::v1::NetworkInfo> network;
  for (addrinfo* entry = found; entry != nullptr && !network.has_value(); entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (entry->ai_family == AF_INET) {
      address = &reinterpret_cast<const sockaddr_in*>(entry->ai_addr)->sin_addr;
    } else if (entry->ai_family == AF_INET6) {
      address = &reinterpret_cast<const sockaddr_in6*>(entry->ai_addr)->sin6_addr;
    }
    if (address != nullptr && ::inet_ntop(entry->ai_family, address, text, sizeof(text))) {
      network = NetworkOf(text);
    }
  }
  ::freeaddrinfo(found);
  return network;
}

}  // namespace

AgentImpl::AgentImpl(AgentOptions options, std::unique_ptr<Containerizer> containerizer,
                     std::optional<Checkpoint> checkpoint)
    : options_(std::move(options)),
      containerizer_(std::move(containerizer)),
      retry_policy_{options_.status_update_retry_interval,
                    options_.max_status_update_retry_interval},
      start_time_(std::chrono::system_clock::now()),
      agent_network_(AgentNetwork(options_)),
      store_(options_.work_dir + "/meta") {
  if (checkpoint.has_value()) {
    if (checkpoint->has_agent_id()) agent_id_ = checkpoint->agent_id();
    checkpointed_resources_ = checkpoint->checkpointed_resources();
    frameworks_ = internal::LoadFrameworks(*checkpoint, retry_policy_, Clock::now());
  }

  for (const char* counter :
       {"slave/tasks_finished", "slave/tasks_failed", "slave/tasks_killed", "slave/tasks_lost",
        "slave/valid_status_updates", "slave/invalid_status_updates",
        "slave/valid_framework_messages", "slave/container_launch_errors"}) {
    metrics_.GetCounter(counter);
  }

  internal::MasterLink::Options link_options;
  link_options.detector =
      options_.master_detector != nullptr
          ? options_.master_detector
          : std::make_shared<common::StandaloneMasterDetector>(
                common::MasterAddress{options_.master_host, options_.master_port});
  link_options.backoff_factor = options_.registration_backoff_factor;
  link_options.backoff_max = options_.max_registration_backoff;
  internal::MasterLink::Callbacks callbacks;
  callbacks.subscribe_call = [this] { return BuildSubscribeCall(); };
  callbacks.on_event = [this](const steward::agent::Event& event) { return OnMasterEvent(event); };
  link_ = std::make_unique<internal::MasterLink>(std::move(link_options), std::move(callbacks));

  common::HttpServer::Options server_options;
  server_options.address = options_.ip;
  server_options.port = options_.port;
  server_options.threads = options_.http_threads;
  server_options.idle_timeout = std::chrono::milliseconds(0);  // Executor streams are idle.
  server_ = std::make_unique<common::HttpServer>(server_options);
  server_->Route("POST", "/api/v1/executor",
                 [this](const common::HttpRequest& request, common::Responder responder) {
                   ServeExecutorApi(request, std::move(responder));
                 });
  server_->Route("GET", "/state", [this](const common::HttpRequest&, common::Responder r) {
    ServeState(std::move(r));
  });
  server_->Route("GET", "/state.json", [this](const common::HttpRequest&, common::Responder r) {
    ServeState(std::move(r));
  });
  server_->Route("GET", "/metrics/snapshot",
                 [this](const common::HttpRequest&, common::Responder r) {
                   ServeMetrics(std::move(r), /*prometheus=*/false);
                 });
  server_->Route("GET", "/metrics", [this](const common::HttpRequest&, common::Responder r) {
    ServeMetrics(std::move(r), /*prometheus=*/true);
  });
  server_->Route("GET", "/health", [](const common::HttpRequest&, common::Responder r) {
    r.Reply(200, "", "text/plain");
  });
  server_->Route("GET", "/files/read",
                 [this](const common::HttpRequest& request, common::Responder r) {
                   r.Reply(internal::ServeFilesRead(options_.work_dir, request));
                 });
}

AgentImpl::~AgentImpl() { Stop(); }

absl::Status AgentImpl::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return absl::FailedPreconditionError("the agent was already started");
    started_ = true;
    RecoverLocked();
  }
  if (absl::Status status = server_->Start(); !status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.ip, ":", options_.port, ": ", status.message()));
  }
  STEWARD_LOG(INFO) << "Agent listening on " << options_.ip << ":" << server_->port()
                    << ", work_dir " << options_.work_dir
                    << "; isolation: " << containerizer_->IsolationSummary();
  loop_ = std::thread([this] { RunLoop(); });
  link_->Start();
  return absl::OkStatus();
}

uint16_t AgentImpl::port() const { return server_->port(); }

absl::Status AgentImpl::Wait() {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  return exit_status_;
}

void AgentImpl::Fail(absl::Status reason) {
  STEWARD_LOG(ERROR) << reason.message() << "; the agent stops, leaving its tasks running";
  if (!done_) exit_status_ = std::move(reason);
  done_ = true;
  done_cv_.notify_all();
}

void AgentImpl::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    done_ = true;
  }
  loop_cv_.notify_all();
  done_cv_.notify_all();
  link_->Stop();
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard lock(mu_);
    for (auto& [framework_id, framework] : frameworks_) {
      for (auto& [executor_id, executor] : framework.executors) {
        if (executor.stream.has_value()) {
          executor.stream->responder.Close();
          executor.stream.reset();
        }
      }
    }
    if (started_) SaveCheckpointLocked();
  }
  server_->Stop();
}

void AgentImpl::WakeLoop() {
  wake_ = true;
  loop_cv_.notify_all();
}

void AgentImpl::SaveCheckpointLocked() {
  Checkpoint checkpoint;
  if (agent_id_.has_value()) *checkpoint.mutable_agent_id() = *agent_id_;
  *checkpoint.mutable_checkpointed_resources() = checkpointed_resources_;
  internal::SaveFrameworks(frameworks_, &checkpoint);
  if (absl::Status status = store_.Save(checkpoint); !status.ok()) {
    STEWARD_LOG(ERROR) << "Cannot checkpoint the agent's state: " << status;
  }
}

mesos::v1::AgentInfo AgentImpl::AgentInfoLocked() const {
  mesos::v1::AgentInfo info;
  info.set_hostname(options_.hostname.empty() ? options_.ip : options_.hostname);
  info.set_port(port() != 0 ? port() : options_.port);
  *info.mutable_resources() = options_.resources;
  *info.mutable_attributes() = options_.attributes;
  if (agent_id_.has_value()) *info.mutable_id() = *agent_id_;
  return info;
}

void AgentImpl::RecoverLocked() {
  absl::StatusOr<std::vector<std::string>> adopted = containerizer_->Recover();
  std::set<std::string> alive;
  if (!adopted.ok()) {
    STEWARD_LOG(ERROR) << "Containerizer recovery failed: " << adopted.status()
                       << "; checkpointed containers are treated as gone";
  } else {
    alive.insert(adopted->begin(), adopted->end());
  }
  std::set<std::string> known;
  size_t tasks = 0;
  for (auto& [framework_id, framework] : frameworks_) {
    tasks += framework.tasks.size();
    for (auto& [executor_id, executor] : framework.executors) {
      if (executor.terminated || executor.container_id.empty()) continue;
      known.insert(executor.container_id);
      if (alive.count(executor.container_id) > 0) continue;
      STEWARD_LOG(WARNING) << "Container " << executor.container_id << " of executor "
                           << executor_id << " (framework " << framework_id
                           << ") vanished while the agent was down";
      ContainerExit exit;
      exit.container_id = executor.container_id;
      exit.message =
          absl::StrCat("container ", executor.container_id, " vanished while the agent was down");
      ExecutorEndedLocked(framework, executor, exit, /*vanished=*/true);
    }
  }
  // The live containers: their pids, and custom executors get their time to subscribe again
  // (a killed one whose exit the previous agent did not see is killed again).
  const Clock::time_point deadline = Clock::now() + options_.executor_reregistration_timeout;
  size_t awaited = 0;
  for (auto& [framework_id, framework] : frameworks_) {
    for (auto& [executor_id, executor] : framework.executors) {
      if (executor.terminated || alive.count(executor.container_id) == 0) continue;
      ReadPidLocked(executor);
      if (executor.command) continue;
      if (executor.pending_termination.has_value()) {
        (void)containerizer_->Kill(executor.container_id, std::chrono::milliseconds(0));
        continue;
      }
      executor.reregister_deadline = deadline;
      ++awaited;
    }
  }
  if (awaited > 0) {
    STEWARD_LOG(INFO) << "Waiting up to "
                      << common::FormatDuration(options_.executor_reregistration_timeout) << " for "
                      << awaited << " recovered executor(s) to subscribe again";
  }
  for (const std::string& container_id : alive) {
    if (known.count(container_id) > 0) continue;
    STEWARD_LOG(WARNING) << "Killing unknown container " << container_id
                         << " left by a previous agent";
    if (absl::Status status = containerizer_->Kill(container_id, std::chrono::milliseconds(0));
        !status.ok() && !absl::IsNotFound(status)) {
      STEWARD_LOG(WARNING) << "Cannot kill container " << container_id << ": " << status;
    }
  }
  // Forget what the vanished containers finished off and nobody waits for any more.
  std::vector<std::pair<std::string, std::string>> tasks_seen;
  std::vector<std::pair<std::string, std::string>> executors_seen;
  for (const auto& [framework_id, framework] : frameworks_) {
    for (const auto& [task_id, task] : framework.tasks) {
      tasks_seen.emplace_back(framework_id, task_id);
    }
    for (const auto& [executor_id, executor] : framework.executors) {
      executors_seen.emplace_back(framework_id, executor_id);
    }
  }
  for (const auto& [framework_id, task_id] : tasks_seen) MaybeForgetLocked(framework_id, task_id);
  for (const auto& [framework_id, executor_id] : executors_seen) {
    MaybeForgetExecutorLocked(framework_id, executor_id);
    MaybeForgetFrameworkLocked(framework_id);
  }
  if (agent_id_.has_value()) {
    STEWARD_LOG(INFO) << "Recovered agent " << agent_id_->value() << " with " << frameworks_.size()
                      << " framework(s), " << tasks << " task(s), " << alive.size()
                      << " live container(s)";
  }
  SaveCheckpointLocked();
}

AgentImpl::Clock::time_point AgentImpl::NextWakeLocked(Clock::time_point now) const {
  Clock::time_point wake = now + options_.reap_interval;
  for (const auto& [framework_id, framework] : frameworks_) {
    for (const auto& [executor_id, executor] : framework.executors) {
      if (executor.reregister_deadline.has_value()) {
        wake = std::min(wake, std::max(*executor.reregister_deadline, now));
      }
    }
  }
  if (link_->subscribed()) {
    for (const auto& [framework_id, framework] : frameworks_) {
      for (const auto& [task_id, task] : framework.tasks) {
        if (std::optional<Clock::time_point> due = task.updates.next_due(); due.has_value()) {
          wake = std::min(wake, std::max(*due, now));
        }
      }
    }
  }
  return wake;
}

void AgentImpl::RunLoop() {
  for (;;) {
    std::vector<ContainerExit> exits = containerizer_->Reap();
    std::vector<steward::agent::Call> updates;
    std::deque<OutgoingCall> calls;
    {
      std::lock_guard lock(mu_);
      // Exits first, even when stopping: the containerizer reports each exit only once.
      for (const ContainerExit& exit : exits) HandleContainerExitLocked(exit);
      if (stopping_) return;
      const Clock::time_point now = Clock::now();
      for (auto& [framework_id, framework] : frameworks_) {
        for (auto& [executor_id, executor] : framework.executors) {
          if (executor.terminated || !executor.shutdown_deadline.has_value() ||
              now < *executor.shutdown_deadline) {
            continue;
          }
          STEWARD_LOG(INFO) << "Executor " << executor_id << " of framework " << framework_id
                            << " did not exit within its shutdown grace period; killing it";
          executor.shutdown_deadline.reset();
          (void)containerizer_->Kill(executor.container_id, std::chrono::milliseconds(0));
        }
      }
      bool timed_out = false;
      for (auto& [framework_id, framework] : frameworks_) {
        for (auto& [executor_id, executor] : framework.executors) {
          if (!executor.reregister_deadline.has_value() || now < *executor.reregister_deadline) {
            continue;
          }
          executor.reregister_deadline.reset();
          if (executor.terminated || executor.stream.has_value()) continue;
          ReregistrationTimeoutLocked(framework, executor);
          timed_out = true;
        }
      }
      if (timed_out) SaveCheckpointLocked();
      if (now >= next_executor_heartbeat_) {
        SendExecutorHeartbeatsLocked();
        next_executor_heartbeat_ = now + options_.executor_heartbeat_interval;
      }
      if (link_->subscribed()) {
        for (auto& [framework_id, framework] : frameworks_) {
          for (auto& [task_id, task] : framework.tasks) {
            std::optional<mesos::v1::TaskStatus> due = task.updates.TakeDue(now);
            if (!due.has_value()) continue;
            steward::agent::Call call;
            call.set_type(steward::agent::Call::STATUS_UPDATE);
            auto* update = call.mutable_status_update();
            *update->mutable_framework_id() = framework.info.id();
            *update->mutable_status() = std::move(*due);
            update->set_latest_state(task.state);
            updates.push_back(std::move(call));
          }
        }
        calls.swap(outbox_);
      }
    }
    SendToMaster(std::move(updates), std::move(calls));
    link_->Tick(Clock::now());

    std::unique_lock lock(mu_);
    const Clock::time_point wake = NextWakeLocked(Clock::now());
    loop_cv_.wait_until(lock, wake, [this] { return stopping_ || wake_; });
    wake_ = false;
  }
}

void AgentImpl::SendToMaster(std::vector<steward::agent::Call> updates,
                             std::deque<OutgoingCall> calls) {
  // Everything due now in as few calls as the master takes (what became due while the last
  // send was in flight is due together now).
  std::vector<steward::agent::Call::StatusUpdate> due;
  due.reserve(updates.size());
  for (steward::agent::Call& call : updates)
    due.push_back(std::move(*call.mutable_status_update()));
  if (absl::Status status = link_->SendStatusUpdates(std::move(due)); !status.ok()) {
    STEWARD_LOG(WARNING) << status << " (will retry)";
  }
  while (!calls.empty()) {
    OutgoingCall& next = calls.front();
    const steward::agent::Call::Type type = next.call.type();
    absl::Status status = link_->Send(next.call);
    if (!status.ok()) {
      if (next.reliable) {
        STEWARD_LOG(WARNING) << steward::agent::Call::Type_Name(type)
                             << " call not delivered (will retry): " << status;
        std::lock_guard lock(mu_);
        while (!calls.empty()) {
          outbox_.push_front(std::move(calls.back()));
          calls.pop_back();
        }
        return;
      }
      STEWARD_LOG(WARNING) << steward::agent::Call::Type_Name(type) << " call dropped: " << status;
    }
    calls.pop_front();
  }
}

}  // namespace steward::agent
