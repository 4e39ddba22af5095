#include "bench/internal/master_load.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allocator/resources.h"
#include "common/json.h"
#include "common/mesos_resources.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"
#include "proto/steward/agent.pb.h"

namespace steward::bench {

namespace net = boost::asio;
namespace v1 = ::mesos::v1;

namespace {

constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";
constexpr size_t kMaxErrorMessages = 5;

}  // namespace

// State every simulated client shares: the io_context, the options and the counters.
struct LoadShared {
  explicit LoadShared(const LoadOptions& opts) : options(opts) {}

  void Error(const std::string& what) {
    if (stopping.load()) return;
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (messages.size() < kMaxErrorMessages) messages.push_back(what);
  }

  const LoadOptions options;
  net::io_context ioc;
  Endpoint master;
  common::ResourceList agent_resources;
  common::ResourceList task_resources;
  allocator::Resources task_amounts;  // scalars only

  std::atomic<bool> stopping{false};
  std::atomic<int64_t> launches{0};
  std::atomic<int64_t> offers{0};
  std::atomic<int64_t> finished{0};
  std::atomic<int64_t> status_updates{0};
  std::atomic<int64_t> status_update_calls{0};
  std::atomic<int64_t> acknowledgements{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> agents_subscribed{0};
  std::atomic<int64_t> frameworks_subscribed{0};
  std::atomic<int64_t> subscribes_failed{0};

  mutable std::mutex mu;
  std::vector<std::string> messages;  // guarded by mu
};

// ---------------------------------------------------------------------------------------
// SimAgent

class SimAgent {
 public:
  SimAgent(LoadShared* shared, int index)
      : shared_(shared),
        index_(index),
        strand_(net::make_strand(shared->ioc)),
        heartbeat_(strand_),
        random_(0x5eed0000u + static_cast<uint64_t>(index)) {}

  // From any thread.
  void Start() {
    net::post(strand_, [this] {
      agent::Call call;
      call.set_type(agent::Call::SUBSCRIBE);
      v1::AgentInfo* info = call.mutable_subscribe()->mutable_agent_info();
      info->set_hostname(absl::StrCat("agent-", index_));
      info->set_port(5051);
      *info->mutable_resources() = shared_->agent_resources;
      call.mutable_subscribe()->set_version("bench");
      calls_ = std::make_shared<CallConnection>(strand_, shared_->master);
      stream_ = std::make_shared<EventStreamConnection>(
          strand_, shared_->master,
          EventStreamConnection::Callbacks{
              [this](int status, const std::string& id) { OnHead(status, id); },
              [this](std::string_view record) { OnRecord(record); },
              [this](const std::string& why) { OnEnd(why); }});
      stream_->Start(
          BuildPost("/api/v1/agent", kProtobuf, kProtobuf, "", call.SerializeAsString()));
    });
  }

  // From any thread.
  void Stop() {
    net::post(strand_, [this] {
      stopped_ = true;
      heartbeat_.cancel();
      tasks_.clear();  // cancels task timers
      if (stream_) stream_->Close();
      if (calls_) calls_->Close();
    });
  }

 private:
  struct Task {
    v1::FrameworkID framework_id;
    v1::TaskID task_id;
    v1::TaskState state = v1::TASK_STAGING;  // of the update in flight
    std::string uuid;                        // of the update in flight
    std::unique_ptr<net::steady_timer> timer;
  };

  void OnHead(int status, const std::string& stream_id) {
    if (status != 200) return;  // OnEnd reports it
    stream_id_ = stream_id;
  }

  void OnEnd(const std::string& why) {
    if (!subscribed_) shared_->subscribes_failed.fetch_add(1);
    shared_->Error(absl::StrCat("agent ", index_, " stream: ", why));
  }

  void OnRecord(std::string_view record) {
    agent::Event event;
    if (!event.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      shared_->Error(absl::StrCat("agent ", index_, ": undecodable event"));
      return;
    }
    switch (event.type()) {
      case agent::Event::SUBSCRIBED:
        agent_id_ = event.subscribed().agent_id();
        heartbeat_interval_ = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::duration<double>(event.subscribed().heartbeat_interval_seconds()));
        heartbeat_interval_ = std::max(heartbeat_interval_, std::chrono::milliseconds(10));
        accepts_batches_ = event.subscribed().accepts_status_update_batches();
        if (!subscribed_) {
          subscribed_ = true;
          shared_->agents_subscribed.fetch_add(1);
        }
        ScheduleHeartbeat();
        break;
      case agent::Event::LAUNCH:
        shared_->launches.fetch_add(1, std::memory_order_relaxed);
        OnLaunch(event.launch());
        break;
      case agent::Event::ACKNOWLEDGE_STATUS_UPDATE:
        OnAcknowledge(event.acknowledge_status_update());
        break;
      case agent::Event::ERROR:
        shared_->Error(absl::StrCat("agent ", index_, ": ERROR event: ", event.error().message()));
        break;
      default:  // heartbeats; nothing else is expected in this benchmark
        break;
    }
  }

  static std::string Key(const v1::FrameworkID& framework, const v1::TaskID& task) {
    return absl::StrCat(framework.value(), "\n", task.value());
  }

  void OnLaunch(const agent::Event::Launch& launch) {
    const std::string key = Key(launch.framework_info().id(), launch.task().task_id());
    auto [it, inserted] = tasks_.try_emplace(key);
    if (!inserted) {
      shared_->Error(absl::StrCat("agent ", index_, ": task launched twice: ", key));
      return;
    }
    it->second.framework_id = launch.framework_info().id();
    it->second.task_id = launch.task().task_id();
    SendUpdate(it->second, v1::TASK_RUNNING);
  }

  void OnAcknowledge(const agent::Event::AcknowledgeStatusUpdate& ack) {
    const std::string key = Key(ack.framework_id(), ack.task_id());
    auto it = tasks_.find(key);
    if (it == tasks_.end() || it->second.uuid != ack.uuid()) return;  // a duplicate
    Task& task = it->second;
    if (task.state == v1::TASK_FINISHED) {
      shared_->finished.fetch_add(1, std::memory_order_relaxed);
      tasks_.erase(it);
      return;
    }
    task.uuid.clear();
    if (shared_->options.task_duration.count() == 0) {
      SendUpdate(task, v1::TASK_FINISHED);
      return;
    }
    task.timer = std::make_unique<net::steady_timer>(strand_, shared_->options.task_duration);
    task.timer->async_wait([this, key](boost::system::error_code ec) {
      if (ec || stopped_) return;  // cancelled: the agent stopped
      auto found = tasks_.find(key);
      if (found != tasks_.end()) SendUpdate(found->second, v1::TASK_FINISHED);
    });
  }

  void SendUpdate(Task& task, v1::TaskState state) {
    task.state = state;
    task.uuid.resize(16);
    for (size_t i = 0; i < 16; i += 8) {
      const uint64_t r = random_();
      for (size_t j = 0; j < 8; ++j) task.uuid[i + j] = static_cast<char>((r >> (8 * j)) & 0xff);
    }
    agent::Call::StatusUpdate* update = &queued_updates_.emplace_back();
    *update->mutable_framework_id() = task.framework_id;
    update->set_latest_state(state);
    v1::TaskStatus* status = update->mutable_status();
    *status->mutable_task_id() = task.task_id;
    status->set_state(state);
    status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
    *status->mutable_agent_id() = agent_id_;
    status->set_uuid(task.uuid);
    status->set_timestamp(
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    shared_->status_updates.fetch_add(1, std::memory_order_relaxed);
    if (!update_call_in_flight_) SendQueuedUpdates();
  }

  // As the real agent (agent/internal/master_link.h): one STATUS_UPDATE call at a time, which
  // carries every update queued while the previous one was in flight (one update: the single
  // form). To a master that does not accept batches, one call per update.
  void SendQueuedUpdates() {
    if (queued_updates_.empty()) return;
    if (!accepts_batches_) {
      for (agent::Call::StatusUpdate& update : queued_updates_) {
        agent::Call call;
        call.set_type(agent::Call::STATUS_UPDATE);
        *call.mutable_agent_id() = agent_id_;
        *call.mutable_status_update() = std::move(update);
        Post(call, "STATUS_UPDATE");
        shared_->status_update_calls.fetch_add(1, std::memory_order_relaxed);
      }
      queued_updates_.clear();
      return;
    }
    agent::Call call;
    call.set_type(agent::Call::STATUS_UPDATE);
    *call.mutable_agent_id() = agent_id_;
    if (queued_updates_.size() == 1) {
      *call.mutable_status_update() = std::move(queued_updates_.front());
    } else {
      call.mutable_status_updates()->Reserve(static_cast<int>(queued_updates_.size()));
      for (agent::Call::StatusUpdate& update : queued_updates_) {
        *call.add_status_updates() = std::move(update);
      }
    }
    queued_updates_.clear();
    update_call_in_flight_ = true;
    shared_->status_update_calls.fetch_add(1, std::memory_order_relaxed);
    Post(call, "STATUS_UPDATE", [this] {
      update_call_in_flight_ = false;
      if (!stopped_) SendQueuedUpdates();
    });
  }

  void ScheduleHeartbeat() {
    heartbeat_.expires_after(heartbeat_interval_);
    heartbeat_.async_wait([this](boost::system::error_code ec) {
      // A timer that expired just before Stop() cancelled it completes without an error.
      if (ec || stopped_) return;
      agent::Call call;
      call.set_type(agent::Call::HEARTBEAT);
      *call.mutable_agent_id() = agent_id_;
      Post(call, "HEARTBEAT");
      ScheduleHeartbeat();
    });
  }

  void Post(const agent::Call& call, const char* what, std::function<void()> then = nullptr) {
    calls_->Send(BuildPost("/api/v1/agent", kProtobuf, "", stream_id_, call.SerializeAsString()),
                 [this, what, then = std::move(then)](int status, std::string_view body) {
                   if (status != 202) {
                     shared_->Error(absl::StrCat("agent ", index_, " ", what, ": ", status, " ",
                                                 std::string(body)));
                   }
                   if (then) then();
                 });
  }

  LoadShared* const shared_;
  const int index_;
  Executor strand_;
  net::steady_timer heartbeat_;
  std::mt19937_64 random_;
  std::shared_ptr<EventStreamConnection> stream_;
  std::shared_ptr<CallConnection> calls_;
  bool subscribed_ = false;
  bool stopped_ = false;
  v1::AgentID agent_id_;
  std::string stream_id_;
  std::chrono::milliseconds heartbeat_interval_{5000};
  absl::flat_hash_map<std::string, Task> tasks_;
  bool accepts_batches_ = false;  // from SUBSCRIBED
  std::vector<agent::Call::StatusUpdate> queued_updates_;
  bool update_call_in_flight_ = false;
};

// ---------------------------------------------------------------------------------------
// SimFramework

class SimFramework {
 public:
  SimFramework(LoadShared* shared, int index)
      : shared_(shared), index_(index), strand_(net::make_strand(shared->ioc)) {
    task_template_.set_name("bench");
    task_template_.mutable_command()->set_value("true");
    *task_template_.mutable_resources() = shared->task_resources;
  }

  void Start() {
    net::post(strand_, [this] {
      v1::scheduler::Call call;
      call.set_type(v1::scheduler::Call::SUBSCRIBE);
      v1::FrameworkInfo* info = call.mutable_subscribe()->mutable_framework_info();
      info->set_user("bench");
      info->set_name(absl::StrCat("framework-", index_));
      info->add_roles("*");
      info->set_failover_timeout(0);
      info->add_capabilities()->set_type(v1::FrameworkInfo::Capability::MULTI_ROLE);
      calls_ = std::make_shared<CallConnection>(strand_, shared_->master);
      stream_ = std::make_shared<EventStreamConnection>(
          strand_, shared_->master,
          EventStreamConnection::Callbacks{
              [this](int status, const std::string& id) { OnHead(status, id); },
              [this](std::string_view record) { OnRecord(record); },
              [this](const std::string& why) { OnEnd(why); }});
      stream_->Start(
          BuildPost("/api/v1/scheduler", ContentType(), ContentType(), "", Encode(call)));
    });
  }

  void Stop() {
    net::post(strand_, [this] {
      if (stream_) stream_->Close();
      if (calls_) calls_->Close();
    });
  }

 private:
  std::string_view ContentType() const { return shared_->options.json ? kJson : kProtobuf; }

  std::string Encode(const v1::scheduler::Call& call) const {
    if (!shared_->options.json) return call.SerializeAsString();
    absl::StatusOr<std::string> json = common::MessageToJson(call);
    return json.ok() ? *std::move(json) : std::string();
  }

  void OnHead(int status, const std::string& stream_id) {
    if (status == 200) stream_id_ = stream_id;
  }

  void OnEnd(const std::string& why) {
    if (!subscribed_) shared_->subscribes_failed.fetch_add(1);
    shared_->Error(absl::StrCat("framework ", index_, " stream: ", why));
  }

  void OnRecord(std::string_view record) {
    v1::scheduler::Event event;
    const bool parsed = shared_->options.json
                            ? common::JsonToMessage(record, &event).ok()
                            : event.ParseFromArray(record.data(), static_cast<int>(record.size()));
    if (!parsed) {
      shared_->Error(absl::StrCat("framework ", index_, ": undecodable event"));
      return;
    }
    switch (event.type()) {
      case v1::scheduler::Event::SUBSCRIBED:
        framework_id_ = event.subscribed().framework_id();
        if (!subscribed_) {
          subscribed_ = true;
          shared_->frameworks_subscribed.fetch_add(1);
        }
        break;
      case v1::scheduler::Event::OFFERS:
        shared_->offers.fetch_add(event.offers().offers_size(), std::memory_order_relaxed);
        for (const v1::Offer& offer : event.offers().offers()) Accept(offer);
        break;
      case v1::scheduler::Event::UPDATE:
        if (!event.update().status().uuid().empty()) Acknowledge(event.update().status());
        break;
      case v1::scheduler::Event::ERROR:
        shared_->Error(
            absl::StrCat("framework ", index_, ": ERROR event: ", event.error().message()));
        break;
      default:  // heartbeats, rescinds
        break;
    }
  }

  // How many tasks of the task resources fit in `offer`.
  int64_t TasksThatFit(const v1::Offer& offer) const {
    absl::StatusOr<allocator::Resources> offered = common::FromProto(offer.resources());
    if (!offered.ok()) return 0;
    int64_t fit = -1;
    for (const allocator::Resource& need : shared_->task_amounts.entries()) {
      const int64_t each = shared_->task_amounts.ScalarMilli(need.name);
      const int64_t n = offered->ScalarMilli(need.name) / each;
      fit = fit < 0 ? n : std::min(fit, n);
    }
    return std::max<int64_t>(fit, 0);
  }

  void Accept(const v1::Offer& offer) {
    v1::scheduler::Call call;
    call.set_type(v1::scheduler::Call::ACCEPT);
    *call.mutable_framework_id() = framework_id_;
    v1::scheduler::Call::Accept* accept = call.mutable_accept();
    *accept->add_offer_ids() = offer.id();
    accept->mutable_filters()->set_refuse_seconds(0);
    const int64_t tasks = TasksThatFit(offer);
    if (tasks > 0) {
      v1::Offer::Operation* operation = accept->add_operations();
      operation->set_type(v1::Offer::Operation::LAUNCH);
      for (int64_t i = 0; i < tasks; ++i) {
        v1::TaskInfo* task = operation->mutable_launch()->add_task_infos();
        *task = task_template_;
        task->mutable_task_id()->set_value(absl::StrCat("t", next_task_++));
        *task->mutable_agent_id() = offer.agent_id();
        for (v1::Resource& r : *task->mutable_resources()) {
          *r.mutable_allocation_info() = offer.allocation_info();
        }
      }
    }
    Post(call, "ACCEPT");
  }

  void Acknowledge(const v1::TaskStatus& status) {
    v1::scheduler::Call call;
    call.set_type(v1::scheduler::Call::ACKNOWLEDGE);
    *call.mutable_framework_id() = framework_id_;
    v1::scheduler::Call::Acknowledge* ack = call.mutable_acknowledge();
    *ack->mutable_agent_id() = status.agent_id();
    *ack->mutable_task_id() = status.task_id();
    ack->set_uuid(status.uuid());
    Post(call, "ACKNOWLEDGE");
    shared_->acknowledgements.fetch_add(1, std::memory_order_relaxed);
  }

  void Post(const v1::scheduler::Call& call, const char* what) {
    calls_->Send(BuildPost("/api/v1/scheduler", ContentType(), "", stream_id_, Encode(call)),
                 [this, what](int status, std::string_view body) {
                   if (status != 202) {
                     shared_->Error(absl::StrCat("framework ", index_, " ", what, ": ", status, " ",
                                                 std::string(body)));
                   }
                 });
  }

  LoadShared* const shared_;
  const int index_;
  Executor strand_;
  std::shared_ptr<EventStreamConnection> stream_;
  std::shared_ptr<CallConnection> calls_;
  bool subscribed_ = false;
  v1::FrameworkID framework_id_;
  std::string stream_id_;
  v1::TaskInfo task_template_;
  int64_t next_task_ = 0;
};

// ---------------------------------------------------------------------------------------
// LoadGenerator

LoadGenerator::LoadGenerator(LoadOptions options)
    : options_(std::move(options)), shared_(std::make_unique<LoadShared>(options_)) {}

LoadGenerator::~LoadGenerator() { Stop(); }

absl::StatusOr<std::unique_ptr<LoadGenerator>> LoadGenerator::Create(LoadOptions options) {
  if (options.agents < 1 || options.frameworks < 1 || options.threads < 1 ||
      options.max_pending_subscribes < 1) {
    return absl::InvalidArgumentError(
        "agents, frameworks, threads and max_pending_subscribes must be at least 1");
  }
  if (options.master_port == 0) return absl::InvalidArgumentError("master_port is 0");
  if (options.task_duration.count() < 0) {
    return absl::InvalidArgumentError("task_duration must not be negative");
  }
  std::unique_ptr<LoadGenerator> generator(new LoadGenerator(options));
  LoadShared& shared = *generator->shared_;
  absl::StatusOr<common::ResourceList> agent = common::ParseResourceText(options.agent_resources);
  if (!agent.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("agent resources '", options.agent_resources,
                                                   "': ", agent.status().message()));
  }
  absl::StatusOr<common::ResourceList> task = common::ParseResourceText(options.task_resources);
  if (!task.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("task resources '", options.task_resources, "': ", task.status().message()));
  }
  absl::StatusOr<allocator::Resources> amounts = common::FromProto(*task);
  if (!amounts.ok() || amounts->empty() || !(amounts->Scalars() == *amounts)) {
    return absl::InvalidArgumentError(absl::StrCat("task resources '", options.task_resources,
                                                   "' must be non-empty and scalar only"));
  }
  for (const allocator::Resource& r : amounts->entries()) {
    if (amounts->ScalarMilli(r.name) <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("task resource '", r.name, "' must be positive"));
    }
  }
  shared.agent_resources = *std::move(agent);
  shared.task_resources = *std::move(task);
  shared.task_amounts = *std::move(amounts);
  shared.master = Endpoint(net::ip::make_address("127.0.0.1"), options.master_port);
  for (int i = 0; i < options.agents; ++i) {
    generator->agents_.push_back(std::make_unique<SimAgent>(&shared, i));
  }
  for (int i = 0; i < options.frameworks; ++i) {
    generator->frameworks_.push_back(std::make_unique<SimFramework>(&shared, i));
  }
  return generator;
}

absl::Status LoadGenerator::WaitFor(const std::atomic<int64_t>& subscribed, int64_t target,
                                    int64_t pending,
                                    std::chrono::steady_clock::time_point deadline) const {
  // Returns once fewer than `pending` of the first `target` subscriptions are outstanding.
  while (target - subscribed.load() >= pending) {
    if (shared_->subscribes_failed.load() > 0) {
      std::vector<std::string> messages = errors();
      return absl::UnavailableError(absl::StrCat(
          "a subscription failed: ", messages.empty() ? "(no message)" : messages.front()));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out with ", shared_->agents_subscribed.load(), " of ",
                       options_.agents, " agents and ", shared_->frameworks_subscribed.load(),
                       " of ", options_.frameworks, " frameworks subscribed"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status LoadGenerator::Start(std::chrono::milliseconds timeout) {
  if (!threads_.empty()) return absl::FailedPreconditionError("already started");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  work_.emplace(shared_->ioc.get_executor());
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { shared_->ioc.run(); });
  }
  const int64_t window = options_.max_pending_subscribes;
  for (int64_t i = 0; i < options_.agents; ++i) {
    if (absl::Status s = WaitFor(shared_->agents_subscribed, i, window, deadline); !s.ok()) {
      return s;
    }
    agents_[i]->Start();
  }
  if (absl::Status s = WaitFor(shared_->agents_subscribed, options_.agents, 1, deadline); !s.ok()) {
    return s;
  }
  for (int64_t i = 0; i < options_.frameworks; ++i) {
    if (absl::Status s = WaitFor(shared_->frameworks_subscribed, i, window, deadline); !s.ok()) {
      return s;
    }
    frameworks_[i]->Start();
  }
  return WaitFor(shared_->frameworks_subscribed, options_.frameworks, 1, deadline);
}

void LoadGenerator::MarkStopping() { shared_->stopping = true; }

void LoadGenerator::Stop() {
  if (stopped_) return;
  stopped_ = true;
  shared_->stopping = true;
  for (auto& agent : agents_) agent->Stop();
  for (auto& framework : frameworks_) framework->Stop();
  work_.reset();
  // Every socket and timer is closed or cancelled on its strand, so run() returns once the
  // aborted operations have completed; a bug leaving work behind must not hang the benchmark.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!threads_.empty() && !shared_->ioc.stopped() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  shared_->ioc.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

LoadCounters LoadGenerator::counters() const {
  LoadCounters c;
  c.launches = shared_->launches.load();
  c.offers = shared_->offers.load();
  c.finished = shared_->finished.load();
  c.status_updates = shared_->status_updates.load();
  c.status_update_calls = shared_->status_update_calls.load();
  c.acknowledgements = shared_->acknowledgements.load();
  c.errors = shared_->errors.load();
  c.agents_subscribed = shared_->agents_subscribed.load();
  c.frameworks_subscribed = shared_->frameworks_subscribed.load();
  return c;
}

double LoadGenerator::CpuSeconds() const {
  double total = 0;
  for (const std::thread& thread : threads_) {
    clockid_t clock;
    timespec used{};
    if (pthread_getcpuclockid(const_cast<std::thread&>(thread).native_handle(), &clock) == 0 &&
        clock_gettime(clock, &used) == 0) {
      total += static_cast<double>(used.tv_sec) + static_cast<double>(used.tv_nsec) * 1e-9;
    }
  }
  return total;
}

std::vector<std::string> LoadGenerator::errors() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->messages;
}

}  // namespace steward::bench
