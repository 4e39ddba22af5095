#include "daemon/master.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/mesos_resources.h"
#include "common/recordio.h"
#include "daemon/internal/master_impl.h"

namespace steward::daemon {

using common::HttpRequest;
using common::Responder;

namespace {

// The engine's options as the master's options set them.
allocator::AllocatorOptions EngineOptions(const MasterOptions& options) {
  allocator::AllocatorOptions engine;
  engine.allocation_shards = options.allocation_shards;
  engine.allocation_round_agents = options.allocation_round_agents;
  return engine;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Master (public shell)

Master::Master(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Master::~Master() { Stop(); }

absl::StatusOr<std::unique_ptr<Master>> Master::Create(MasterOptions options,
                                                       std::unique_ptr<Registrar> registrar) {
  if (registrar == nullptr) return absl::InvalidArgumentError("no registrar");
  if (options.allocation_interval.count() <= 0 || options.heartbeat_interval.count() <= 0 ||
      options.agent_ping_timeout.count() <= 0 || options.max_agent_ping_timeouts < 1) {
    return absl::InvalidArgumentError(
        "allocation_interval, heartbeat_interval and agent_ping_timeout must be positive and "
        "max_agent_ping_timeouts at least 1");
  }
  if (absl::Status valid = EngineOptions(options).Validate(); !valid.ok()) return valid;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(registrar));
  if (absl::Status status = impl->Recover(); !status.ok()) return status;
  return std::unique_ptr<Master>(new Master(std::move(impl)));
}

absl::Status Master::Start() { return impl_->Start(); }
void Master::Stop() { impl_->Stop(); }
uint16_t Master::port() const { return impl_->port(); }
const std::string& Master::id() const { return impl_->id(); }

// ---------------------------------------------------------------------------------------
// Shared helpers

namespace {

std::optional<Encoding> EncodingOf(std::string_view media_type) {
  // Parameters ("; charset=utf-8") do not matter.
  media_type = media_type.substr(0, media_type.find(';'));
  while (!media_type.empty() && media_type.back() == ' ') media_type.remove_suffix(1);
  if (media_type == "application/json") return Encoding::kJson;
  if (media_type == "application/x-protobuf") return Encoding::kProtobuf;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Negotiated> Negotiate(const HttpRequest& request, int* http_status) {
  Negotiated result;
  std::optional<std::string_view> content_type = request.Header("Content-Type");
  if (!content_type) {
    *http_status = 415;
    return absl::InvalidArgumentError(
        "Expecting 'Content-Type' of application/json or application/x-protobuf");
  }
  std::optional<Encoding> body = EncodingOf(*content_type);
  if (!body) {
    *http_status = 415;
    return absl::InvalidArgumentError(
        absl::StrCat("Unsupported 'Content-Type' '", std::string(*content_type),
                     "'; expecting application/json or application/x-protobuf"));
  }
  result.body = *body;
  result.answer = *body;
  if (std::optional<std::string_view> accept = request.Header("Accept"); accept) {
    // A list of media types: the first one we speak wins; */* means "as the body".
    bool found = false;
    std::string_view rest = *accept;
    while (!rest.empty() && !found) {
      const size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      std::string_view type = item.substr(0, item.find(';'));
      while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
      if (type == "*/*" || type == "application/*") {
        found = true;
      } else if (std::optional<Encoding> e = EncodingOf(type); e) {
        result.answer = *e;
        found = true;
      }
    }
    if (!found) {
      *http_status = 406;
      return absl::InvalidArgumentError(
          absl::StrCat("Unsupported 'Accept' '", std::string(*accept),
                       "'; expecting application/json or application/x-protobuf"));
    }
  }
  return result;
}

std::string ContentTypeOf(Encoding encoding) {
  return encoding == Encoding::kJson ? "application/json" : "application/x-protobuf";
}

absl::Status ParseBody(const std::string& body, Encoding encoding, int max_json_depth,
                       google::protobuf::Message* message) {
  if (encoding == Encoding::kJson) {
    if (absl::Status status = common::JsonToMessage(body, message, max_json_depth); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Failed to parse body into ", message->GetDescriptor()->name(), ": ", status.message()));
    }
  } else if (!message->ParsePartialFromString(body)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Failed to parse body into ", message->GetDescriptor()->name(), ": invalid protobuf"));
  }
  if (!message->IsInitialized()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid ", message->GetDescriptor()->name(),
                     ": missing required fields: ", message->InitializationErrorString()));
  }
  return absl::OkStatus();
}

std::string Serialize(const google::protobuf::Message& message, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) return message.SerializePartialAsString();
  absl::StatusOr<std::string> json = common::MessageToJson(message);
  return json.ok() ? *json : std::string("{}");
}

std::string RecordIoEvent(const google::protobuf::Message& message, Encoding encoding) {
  if (encoding != Encoding::kProtobuf) return common::EncodeRecordIo(Serialize(message, encoding));
  // Serialised behind its length in one buffer: no second copy of the event.
  const size_t size = message.ByteSizeLong();
  std::string out = std::to_string(size);
  out.push_back('\n');
  const size_t prefix = out.size();
  out.resize(prefix + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + prefix));
  return out;
}

// ---------------------------------------------------------------------------------------
// Impl: construction and recovery

Master::Impl::Impl(MasterOptions options, std::unique_ptr<Registrar> registrar)
    : options_(std::move(options)),
      registrar_(std::move(registrar)),
      random_(std::random_device{}()) {
  if (options_.hostname.empty()) options_.hostname = options_.ip;
  allocator_ = std::make_unique<allocator::ConcurrentAllocator>(
      std::make_unique<allocator::Engine>(EngineOptions(options_)));
  master_id_ = UuidText(NewUuidBytes());
  RegisterMetrics();
}

Master::Impl::~Impl() { Stop(); }

double Master::Impl::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Master::Impl::WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

v1::TimeInfo Master::Impl::TimeInfoOf(double wall_seconds) {
  v1::TimeInfo time;
  time.set_nanoseconds(static_cast<int64_t>(wall_seconds * 1e9));
  return time;
}

std::string Master::Impl::NewUuidBytes() {
  std::string bytes(16, '\0');
  for (size_t i = 0; i < 16; i += 8) {
    const uint64_t r = random_();
    for (size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<char>((r >> (8 * j)) & 0xff);
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // variant 1
  return bytes;
}

std::string Master::Impl::UuidText(const std::string& bytes) {
  std::string out;
  char hex[3];
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(bytes[i]));
    out += hex;
  }
  return out;
}

v1::MasterInfo Master::Impl::MasterInfoProto() const {
  v1::MasterInfo info;
  info.set_id(master_id_);
  in_addr address{};
  info.set_ip(inet_pton(AF_INET, options_.ip.c_str(), &address) == 1 ? address.s_addr : 0);
  info.set_port(port());
  info.set_hostname(options_.hostname);
  info.set_version(STEWARD_VERSION);
  info.set_pid(absl::StrCat("master@", options_.ip, ":", port()));
  info.mutable_address()->set_hostname(options_.hostname);
  info.mutable_address()->set_ip(options_.ip);
  info.mutable_address()->set_port(port());
  return info;
}

absl::Status Master::Impl::Recover() {
  absl::StatusOr<registry::Registry> recovered = registrar_->Recover();
  if (!recovered.ok()) return recovered.status();
  const registry::Registry& reg = *recovered;
  registry_version_ = reg.version();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::WeightInfo& weight : reg.weights()) {
    const allocator::EventOutcome set =
        ApplyLocked(allocator::events::SetWeight{weight.role(), weight.weight()});
    if (!set.status.ok()) {
      return absl::DataLossError(
          absl::StrCat("registry weight of '", weight.role(), "': ", set.status.message()));
    }
    weights_[weight.role()] = weight.weight();
  }
  for (const v1::quota::QuotaConfig& config : reg.quotas()) {
    v1::master::Call::UpdateQuota update;
    // Accepted once already; the agents that make room for it have not reregistered yet.
    update.set_force(true);
    *update.add_quota_configs() = config;
    if (absl::Status s = UpdateQuotaLocked(update); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("registry quota of '", config.role(), "': ", s.message()));
    }
  }
  const double now = Now();
  for (const registry::Agent& agent : reg.agents()) {
    if (agent.state() != registry::Agent::ADMITTED) {
      unreachable_agents_[agent.info().id().value()] = agent;
      continue;
    }
    auto entry = std::make_unique<AgentEntry>();
    entry->info = agent.info();
    entry->recovered = true;
    entry->last_seen = now;
    entry->registered_time = agent.registered_time().nanoseconds() / 1e9;
    absl::StatusOr<allocator::Resources> reserved = common::FromProto(agent.reservations());
    if (reserved.ok()) entry->dynamic_reservations = *reserved;
    AddAgentLocked(agent.info().id().value(), std::move(entry));
  }
  for (const registry::Framework& framework : reg.frameworks()) {
    absl::StatusOr<FrameworkEntry*> entry = EnsureRecoveredFrameworkLocked(framework.info());
    if (!entry.ok()) {
      return absl::DataLossError(absl::StrCat("registry framework ", framework.info().id().value(),
                                              ": ", entry.status().message()));
    }
    (*entry)->registered_time = framework.registered_time().nanoseconds() / 1e9;
  }
  STEWARD_LOG(INFO) << "Recovered registry version " << registry_version_ << ": " << agents_.size()
                    << " agents, " << frameworks_.size() << " frameworks, " << quotas_.size()
                    << " quotas, " << weights_.size() << " weights";
  return absl::OkStatus();
}

absl::StatusOr<FrameworkEntry*> Master::Impl::EnsureRecoveredFrameworkLocked(
    const v1::FrameworkInfo& info) {
  const std::string& id = info.id().value();
  if (FrameworkEntry* existing = FindFramework(id); existing != nullptr) return existing;
  allocator::FrameworkInfo alloc_info;
  alloc_info.name = id;
  for (const std::string& role : info.roles()) alloc_info.roles.push_back(role);
  if (alloc_info.roles.empty()) alloc_info.roles.push_back(info.role());
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == v1::FrameworkInfo::Capability::GPU_RESOURCES) {
      alloc_info.gpu_capable = true;
    }
  }
  const allocator::EventOutcome added = ApplyLocked(allocator::events::AddFramework{alloc_info});
  if (!added.status.ok()) return added.status;
  const allocator::FrameworkId alloc = added.framework();
  SubmitLocked(allocator::events::DeactivateFramework{alloc});
  auto entry = std::make_unique<FrameworkEntry>();
  entry->info = info;
  entry->alloc = alloc;
  entry->roles = alloc_info.roles;
  entry->recovered = true;
  // A recovered framework gets at least ten minutes to resubscribe after a master restart.
  entry->failover_deadline = Now() + std::max(info.failover_timeout(), 600.0);
  FrameworkEntry* raw = AddFrameworkLocked(id, std::move(entry));
  framework_by_alloc_[alloc.value()] = id;
  return raw;
}

registry::Registry Master::Impl::BuildRegistryLocked() const {
  registry::Registry reg;
  reg.set_version(registry_version_ + 1);
  *reg.mutable_master_info() = MasterInfoProto();
  // Agents and frameworks whose SUBSCRIBE waits for this write are listed as admitted, with
  // the info they subscribed with.
  for (const auto& [id, agent] : agents_) {
    registry::Agent* out = reg.add_agents();
    auto pending = pending_agents_.find(id);
    *out->mutable_info() = pending != pending_agents_.end() ? pending->second.info : agent->info;
    out->set_state(registry::Agent::ADMITTED);
    *out->mutable_registered_time() = TimeInfoOf(agent->registered_time);
    *out->mutable_reservations() =
        common::ToProto(agent->dynamic_reservations, v1::Resource::ReservationInfo::DYNAMIC);
  }
  for (const auto& [id, admission] : pending_agents_) {
    if (agents_.contains(id)) continue;
    registry::Agent* out = reg.add_agents();
    *out->mutable_info() = admission.info;
    out->set_state(registry::Agent::ADMITTED);
    *out->mutable_registered_time() = TimeInfoOf(admission.registered_time);
  }
  for (const auto& [id, agent] : unreachable_agents_) {
    if (!pending_agents_.contains(id)) *reg.add_agents() = agent;
  }
  for (const auto& [id, framework] : frameworks_) {
    registry::Framework* out = reg.add_frameworks();
    auto pending = pending_frameworks_.find(id);
    const bool subscribing = pending != pending_frameworks_.end();
    *out->mutable_info() = subscribing ? pending->second.info : framework->info;
    *out->mutable_registered_time() = TimeInfoOf(framework->registered_time);
    if (framework->reregistered_time > 0) {
      *out->mutable_reregistered_time() = TimeInfoOf(framework->reregistered_time);
    }
    if (!subscribing && !framework->connected && framework->unregistered_time > 0) {
      *out->mutable_unregistered_time() = TimeInfoOf(framework->unregistered_time);
    }
  }
  for (const auto& [id, admission] : pending_frameworks_) {
    if (frameworks_.contains(id)) continue;
    registry::Framework* out = reg.add_frameworks();
    *out->mutable_info() = admission.info;
    *out->mutable_registered_time() = TimeInfoOf(admission.registered_time);
  }
  for (const v1::quota::QuotaConfig& config : quotas_) *reg.add_quotas() = config;
  for (const auto& [role, weight] : weights_) {
    v1::WeightInfo* out = reg.add_weights();
    out->set_role(role);
    out->set_weight(weight);
  }
  return reg;
}

absl::Status Master::Impl::PersistLocked() {
  registry::Registry reg = BuildRegistryLocked();
  absl::Status status = registrar_->Store(reg);
  if (!status.ok()) {
    STEWARD_LOG(ERROR) << "Failed to store registry version " << reg.version() << ": "
                       << status.message();
    return status;
  }
  registry_version_ = reg.version();
  return absl::OkStatus();
}

void Master::Impl::PersistThenLocked(std::function<void(const absl::Status&)> done) {
  registrar_requests_->Increment();
  if (!registrar_running_) {
    const absl::Status status = PersistLocked();
    registrar_writes_->Increment();
    if (!status.ok()) registrar_write_failures_->Increment();
    if (done) done(status);
    return;
  }
  const uint64_t ticket = ++persist_requested_;
  if (done) persist_waiters_.push_back({ticket, std::move(done)});
  registrar_wake_.notify_one();
}

void Master::Impl::RegistrarLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    registrar_wake_.wait(lock,
                         [this] { return stopping_ || persist_requested_ > persist_started_; });
    // When stopping, what was asked for is still written (then the loop ends).
    if (persist_requested_ == persist_started_) break;
    const uint64_t covered = persist_requested_;
    persist_started_ = covered;
    registry::Registry reg = BuildRegistryLocked();
    lock.unlock();
    const auto begin = std::chrono::steady_clock::now();
    const absl::Status status = registrar_->Store(reg);
    registrar_store_ms_->Record(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
            .count());
    lock.lock();
    registrar_writes_->Increment();
    if (status.ok()) {
      registry_version_ = reg.version();
    } else {
      registrar_write_failures_->Increment();
      STEWARD_LOG(ERROR) << "Failed to store registry version " << reg.version() << ": "
                         << status.message();
    }
    std::vector<std::function<void(const absl::Status&)>> answered;
    while (!persist_waiters_.empty() && persist_waiters_.front().ticket <= covered) {
      answered.push_back(std::move(persist_waiters_.front().done));
      persist_waiters_.pop_front();
    }
    if (status.ok()) {
      for (auto& done : answered) done(status);
    } else {
      for (auto it = answered.rbegin(); it != answered.rend(); ++it) (*it)(status);
    }
    UnlockAndRunDeferred(lock);
    KickLoop();
    lock.lock();
  }
  registrar_running_ = false;
}

void Master::Impl::UnlockAndRunDeferred(std::unique_lock<std::mutex>& lock) {
  std::vector<std::function<void()>> deferred;
  deferred.swap(after_unlock_);
  lock.unlock();
  for (std::function<void()>& work : deferred) work();
}

// ---------------------------------------------------------------------------------------
// Start / Stop / ticker

absl::Status Master::Impl::Start() {
  common::HttpServer::Options http;
  http.address = options_.ip;
  http.port = options_.port;
  http.threads = options_.http_threads;
  http.max_body_bytes = options_.max_body_bytes;
  server_ = std::make_unique<common::HttpServer>(http);
  RegisterRoutes();
  if (absl::Status status = server_->Start(); !status.ok()) return status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_heartbeat_ = Now() + std::chrono::duration<double>(options_.heartbeat_interval).count();
    // The registry records this master as its writer; recovered agents and frameworks keep
    // their state until they reconnect or time out.
    if (absl::Status status = PersistLocked(); !status.ok()) {
      server_->Stop();
      return status;
    }
    registrar_writes_->Increment();
    registrar_running_ = true;
    // What Recover applied becomes visible to readers; from here on the loop thread holds the
    // loop role (the thread's creation orders our use of the engine before its).
    allocator_->Drain(std::numeric_limits<size_t>::max());
    PublishFromLoop();
    next_allocation_ = Now();
    loop_running_ = true;
  }
  registrar_thread_ = std::thread([this] { RegistrarLoop(); });
  ticker_ = std::thread([this] { LoopMain(); });
  STEWARD_LOG(INFO) << "Master " << master_id_ << " listening on " << options_.ip << ":" << port()
                    << " (work_dir " << options_.work_dir << ")";
  return absl::OkStatus();
}

void Master::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  loop_stop_.store(true);
  KickLoop();
  registrar_wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  // The writer finishes what was asked for (answering the waiting subscriptions) and ends.
  if (registrar_thread_.joinable()) registrar_thread_.join();
  if (server_) server_->Stop();
}

namespace {

// Role paths an event names, with their ancestors ("a/b" names "a" and "a/b"): the role nodes
// it may create.
std::vector<std::string> RolePathsNamed(const allocator::AllocatorEvent& event) {
  std::vector<std::string> named;
  if (const auto* framework = std::get_if<allocator::events::AddFramework>(&event)) {
    named = framework->info.roles;
  } else if (const auto* agent = std::get_if<allocator::events::AddAgent>(&event)) {
    for (const allocator::Resource& r : agent->info.total.entries()) {
      if (!r.reservation.empty()) named.push_back(r.reservation);
    }
  } else if (const auto* weight = std::get_if<allocator::events::SetWeight>(&event)) {
    named.push_back(weight->role);
  } else if (const auto* quota = std::get_if<allocator::events::SetQuota>(&event)) {
    named.push_back(quota->role);
  } else if (const auto* reserve = std::get_if<allocator::events::Reserve>(&event)) {
    named.push_back(reserve->role);
  }
  std::vector<std::string> out;
  for (const std::string& path : named) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      out.push_back(path.substr(0, slash));
    }
    out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// An outcome the loop fills in, with the ids of the role paths the event named.
struct AppliedState {
  std::atomic<uint32_t> ready{0};
  allocator::EventOutcome outcome;
  std::vector<std::pair<std::string, allocator::RoleId>> roles;
};

}  // namespace

void Master::Impl::SubmitLocked(allocator::AllocatorEvent event) {
  events_submitted_.fetch_add(1);
  allocator_->Submit(std::move(event));
  // Without a running loop the holder of mu_ holds the loop role and applies it now.
  if (!loop_running_) allocator_->Drain(std::numeric_limits<size_t>::max());
}

allocator::EventOutcome Master::Impl::ApplyLocked(allocator::AllocatorEvent event) {
  auto state = std::make_shared<AppliedState>();
  std::vector<std::string> paths = RolePathsNamed(event);
  events_submitted_.fetch_add(1);
  // The callback runs in the loop role (right after the event is applied), so it may read the
  // engine; it touches nothing of the master's but `state`.
  allocator_->Submit(std::move(event), [this, state, paths = std::move(paths)](
                                           const allocator::EventOutcome& outcome) {
    // A status of its own (a copy of the message, not a shared reference), which the waiter
    // moves out: only the waiter ever releases it. Sharing absl::Status's reference-counted
    // representation across threads is correct, but its count lives in Debian's libabsl,
    // which is not built with ThreadSanitizer, so TSan reports the final release as a race.
    state->outcome.status = outcome.status.ok()
                                ? absl::OkStatus()
                                : absl::Status(outcome.status.code(), outcome.status.message());
    state->outcome.id = outcome.id;
    state->outcome.sequence = outcome.sequence;
    if (outcome.status.ok()) {
      for (const std::string& path : paths) {
        absl::StatusOr<allocator::RoleId> id = allocator_->allocator().FindRole(path);
        if (id.ok()) state->roles.emplace_back(path, *id);
      }
    }
    // release: the outcome and roles written above are visible to the waiter's acquire.
    state->ready.store(1, std::memory_order_release);
    state->ready.notify_all();
  });
  if (loop_running_) {
    // Safe while holding mu_: the loop thread never blocks on mu_ (LockFromLoop keeps
    // applying events while mu_ is taken), so it applies this event and wakes us.
    KickLoop();
    while (state->ready.load(std::memory_order_acquire) == 0) state->ready.wait(0);
  } else {
    allocator_->Drain(std::numeric_limits<size_t>::max());
  }
  for (const auto& [path, id] : state->roles) {
    role_ids_[path] = id;
    role_names_[id.value()] = path;
  }
  return std::move(state->outcome);
}

void Master::Impl::WaitPublishedLocked(const allocator::EventOutcome& outcome) {
  if (!loop_running_) {
    PublishFromLoop();  // we hold the loop role
    return;
  }
  KickLoop();
  // The loop publishes after every drain (LockFromLoop, or when kicked) and every cycle.
  for (uint64_t seen = published_seen_.load(); seen <= outcome.sequence;
       seen = published_seen_.load()) {
    published_seen_.wait(seen);
  }
}

absl::StatusOr<allocator::RoleId> Master::Impl::FindRoleLocked(const std::string& path) const {
  auto it = role_ids_.find(path);
  if (it == role_ids_.end()) return absl::NotFoundError(absl::StrCat("Unknown role '", path, "'"));
  return it->second;
}

std::string Master::Impl::RoleNameLocked(allocator::RoleId role) const {
  auto it = role_names_.find(role.value());
  return it == role_names_.end() ? std::string() : it->second;
}

void Master::Impl::KickLoop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_kicked_ = true;
  }
  loop_cv_.notify_one();
}

void Master::Impl::NotePublished() {
  allocator::ConcurrentAllocator::SnapshotRef snapshot = allocator_->Acquire();
  const allocator::IntakeCounters& counters = allocator_->counters();
  events_done_.store(counters.events_applied + counters.events_rejected);
  snapshots_pending_.store(allocator_->snapshots_pending());
  published_seen_.store(snapshot->events_seen);
  published_seen_.notify_all();
}

void Master::Impl::PublishFromLoop() {
  allocator_->Publish();
  NotePublished();
}

std::unique_lock<std::mutex> Master::Impl::LockFromLoop() {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  while (!lock.owns_lock()) {
    // The holder of mu_ may be waiting for an event it submitted: apply what is queued (and
    // publish it, in case it waits for the snapshot) instead of blocking on mu_.
    if (allocator_->Drain(std::numeric_limits<size_t>::max()) > 0) {
      PublishFromLoop();
    } else {
      std::unique_lock<std::mutex> wait(loop_mu_);
      loop_cv_.wait_for(wait, std::chrono::microseconds(200), [this] { return loop_kicked_; });
      loop_kicked_ = false;
    }
    lock.try_lock();
  }
  return lock;
}

void Master::Impl::LoopMain() {
  const double interval = std::chrono::duration<double>(options_.allocation_interval).count();
  double next_tick = 0;
  while (true) {
    {
      // Sleep until the next allocation or tick, or until kicked; never with mu_.
      std::unique_lock<std::mutex> wait(loop_mu_);
      const double until = std::min(next_allocation_, next_tick);
      const double seconds = std::clamp(until - Now(), 0.0, 0.1);
      loop_cv_.wait_for(wait, std::chrono::duration<double>(seconds),
                        [this] { return loop_kicked_ || loop_stop_.load(); });
      loop_kicked_ = false;
    }
    if (loop_stop_.load()) break;
    const double now = Now();
    const bool allocate = now >= next_allocation_;
    if (!allocate && allocator_->Drain(std::numeric_limits<size_t>::max()) > 0) {
      PublishFromLoop();  // answers waiting producers before the next cycle
    }
    std::optional<absl::StatusOr<std::vector<allocator::Offer>>> offers;
    if (allocate) {
      if (options_.cycle_hook) options_.cycle_hook(MasterOptions::CycleStage::kBeforeCycle, 0);
      const auto begin = std::chrono::steady_clock::now();
      offers = allocator_->RunCycle(now);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
              .count();
      allocation_run_ms_->Record(ms);
      last_cycle_ms_.store(ms);
      allocation_runs_->Increment();
      NotePublished();
      next_allocation_ = std::max(next_allocation_ + interval, now);
      if (options_.cycle_hook) {
        options_.cycle_hook(MasterOptions::CycleStage::kAfterCycle,
                            offers->ok() ? (*offers)->size() : 0);
      }
    }
    if (!allocate && now < next_tick) continue;
    std::unique_lock<std::mutex> lock = LockFromLoop();
    if (offers) {
      if (offers->ok()) {
        MakeOffersLocked(**std::move(offers));
      } else {
        STEWARD_LOG(ERROR) << "Allocation failed: " << offers->status().message();
      }
    }
    TickLocked(now);
    next_tick = std::min(next_heartbeat_, next_liveness_check_);
    // Not UnlockAndRunDeferred: deferred work may take mu_ (blocking), which the loop must
    // never do. Nothing the loop runs defers work (only subscription answers do, and their
    // threads run it before they release mu_), so after_unlock_ is empty here.
    lock.unlock();
  }
  // Hand the loop role to the holders of mu_: what is queued now is applied here, what is
  // submitted later by whoever submits it (under mu_, see SubmitLocked).
  std::unique_lock<std::mutex> lock = LockFromLoop();
  loop_running_ = false;
  allocator_->Drain(std::numeric_limits<size_t>::max());
  PublishFromLoop();
}

void Master::Impl::TickLocked(double now) {
  if (now >= next_heartbeat_) {
    v1::scheduler::Event heartbeat;
    heartbeat.set_type(v1::scheduler::Event::HEARTBEAT);
    for (auto& [id, framework] : frameworks_) {
      if (framework->connected) SendFrameworkEvent(*framework, heartbeat);
    }
    agent::Event agent_heartbeat;
    agent_heartbeat.set_type(agent::Event::HEARTBEAT);
    for (auto& [id, agent] : agents_) {
      if (agent->connected) SendAgentEvent(*agent, agent_heartbeat);
    }
    next_heartbeat_ = now + std::chrono::duration<double>(options_.heartbeat_interval).count();
  }
  const double ping_timeout = std::chrono::duration<double>(options_.agent_ping_timeout).count();
  const double ping_window = ping_timeout * options_.max_agent_ping_timeouts;
  if (now < next_liveness_check_) return;
  next_liveness_check_ = now + std::min(0.1, ping_timeout / 4);
  std::vector<std::string> lost;
  for (auto& [id, agent] : agents_) {
    if (now - agent->last_seen > ping_window) lost.push_back(id);
  }
  for (const std::string& id : lost) MarkAgentUnreachableLocked(*agents_.at(id));
  std::vector<std::string> expired;
  for (auto& [id, framework] : frameworks_) {
    if (!framework->connected && framework->failover_deadline &&
        *framework->failover_deadline <= now) {
      expired.push_back(id);
    }
  }
  for (const std::string& id : expired) {
    RemoveFrameworkLocked(id, "failover timeout elapsed");
  }
}

// ---------------------------------------------------------------------------------------
// Allocation and offers

void Master::Impl::MakeOffersLocked(std::vector<allocator::Offer> offers) {
  std::map<std::string, v1::scheduler::Event> events;
  for (allocator::Offer& offer : offers) {
    // The cycle ran without mu_: what changed in the master since its events were drained
    // makes an offer stale (framework or agent removed or disconnected, role suppressed or no
    // longer subscribed). Those go back to the allocator.
    auto framework_it = framework_by_alloc_.find(offer.framework.value());
    auto agent_it = agent_by_alloc_.find(offer.agent.value());
    FrameworkEntry* framework =
        framework_it == framework_by_alloc_.end() ? nullptr : FindFramework(framework_it->second);
    AgentEntry* agent = agent_it == agent_by_alloc_.end() ? nullptr : FindAgent(agent_it->second);
    const std::string role = RoleNameLocked(offer.role);
    if (framework == nullptr || agent == nullptr || !framework->connected || !agent->connected ||
        framework->alloc != offer.framework || agent->alloc != offer.agent ||
        std::find(framework->roles.begin(), framework->roles.end(), role) ==
            framework->roles.end() ||
        framework->suppressed_roles.contains(role)) {
      events_submitted_.fetch_add(1);
      allocator_->Submit(
          allocator::events::Recover{offer.framework, offer.agent, offer.role,
                                     std::move(offer.resources)},
          [this](const allocator::EventOutcome& outcome) {
            if (outcome.status.ok()) {
              stale_offers_recovered_->Increment();
            } else if (absl::IsNotFound(outcome.status)) {
              stale_offers_gone_->Increment();  // the framework or agent left the allocator
            } else {
              STEWARD_LOG(ERROR) << "Recovering a stale offer: " << outcome.status.message();
            }
          });
      KickLoop();
      continue;
    }
    const std::string& framework_id = framework_it->second;
    const std::string& agent_id = agent_it->second;
    OfferEntry entry;
    entry.id = absl::StrCat(master_id_, "-O", next_offer_++);
    entry.framework_id = framework_id;
    entry.agent_id = agent_id;
    entry.role = offer.role;
    entry.resources = std::move(offer.resources);
    v1::scheduler::Event& event = events[framework_id];
    event.set_type(v1::scheduler::Event::OFFERS);
    OfferProto(entry, *agent, event.mutable_offers()->add_offers());
    const std::string offer_id = entry.id;
    framework->offers.insert(offer_id);
    agent->offers.insert(offer_id);
    offers_.emplace(offer_id, std::move(entry));
    offers_sent_->Increment();
  }
  for (auto& [framework_id, event] : events) {
    SendFrameworkEvent(*FindFramework(framework_id), event);
  }
}

void Master::Impl::OfferProto(const OfferEntry& entry, const AgentEntry& agent,
                              v1::Offer* out) const {
  const std::string role = RoleNameLocked(entry.role);
  out->mutable_id()->set_value(entry.id);
  out->mutable_framework_id()->set_value(entry.framework_id);
  out->mutable_agent_id()->set_value(entry.agent_id);
  out->set_hostname(agent.info.hostname());
  // Where the agent serves, as Mesos says it (clients such as the npm mesos-framework
  // package read `url.address.ip`).
  v1::URL* url = out->mutable_url();
  url->set_scheme("http");
  url->mutable_address()->set_hostname(agent.info.hostname());
  url->mutable_address()->set_ip(agent.ip);
  url->mutable_address()->set_port(agent.info.port());
  *out->mutable_resources() = OfferResourcesProto(agent, entry.resources, role);
  *out->mutable_attributes() = agent.info.attributes();
  out->mutable_allocation_info()->set_role(role);
}

common::ResourceList Master::Impl::OfferResourcesProto(const AgentEntry& agent,
                                                       const allocator::Resources& resources,
                                                       const std::string& role) const {
  common::ResourceList out =
      common::ToProto(resources, v1::Resource::ReservationInfo::STATIC, role);
  // Entries of the agent's dynamic reservations are marked DYNAMIC.
  for (v1::Resource& r : out) {
    if (r.reservations_size() == 0) continue;
    const std::string& reserved_for = r.reservations(0).role();
    for (const allocator::Resource& d : agent.dynamic_reservations.entries()) {
      if (d.name == r.name() && d.reservation == reserved_for) {
        r.mutable_reservations(0)->set_type(v1::Resource::ReservationInfo::DYNAMIC);
      }
    }
  }
  return out;
}

OfferEntry Master::Impl::TakeOfferLocked(const std::string& offer_id) {
  auto it = offers_.find(offer_id);
  OfferEntry entry = std::move(it->second);
  offers_.erase(it);
  if (FrameworkEntry* framework = FindFramework(entry.framework_id); framework != nullptr) {
    framework->offers.erase(offer_id);
  }
  if (AgentEntry* agent = FindAgent(entry.agent_id); agent != nullptr) {
    agent->offers.erase(offer_id);
  }
  return entry;
}

void Master::Impl::RescindOfferLocked(const std::string& offer_id, bool send_event) {
  if (!offers_.contains(offer_id)) return;
  OfferEntry entry = TakeOfferLocked(offer_id);
  FrameworkEntry* framework = FindFramework(entry.framework_id);
  if (framework != nullptr) {
    SubmitLocked(allocator::events::Recover{framework->alloc, FindAgent(entry.agent_id)->alloc,
                                            entry.role, entry.resources});
    if (send_event && framework->connected) {
      v1::scheduler::Event event;
      event.set_type(v1::scheduler::Event::RESCIND);
      event.mutable_rescind()->mutable_offer_id()->set_value(entry.id);
      SendFrameworkEvent(*framework, event);
    }
  }
  offers_rescinded_->Increment();
}

void Master::Impl::RescindAgentOffersLocked(AgentEntry& agent) {
  std::vector<std::string> ids(agent.offers.begin(), agent.offers.end());
  for (const std::string& id : ids) RescindOfferLocked(id, /*send_event=*/true);
}

void Master::Impl::RemoveFrameworkOffersLocked(FrameworkEntry& framework, bool send_events) {
  std::vector<std::string> ids(framework.offers.begin(), framework.offers.end());
  for (const std::string& id : ids) RescindOfferLocked(id, send_events);
}

// ---------------------------------------------------------------------------------------
// Events

void Master::Impl::SendFrameworkEvent(FrameworkEntry& framework,
                                      const v1::scheduler::Event& event) {
  if (!framework.connected || !framework.stream.responder) return;
  framework.stream.responder->Write(RecordIoEvent(event, framework.stream.encoding));
}

void Master::Impl::SendAgentEvent(AgentEntry& agent, const agent::Event& event) {
  if (!agent.connected || !agent.stream.responder) return;
  agent.stream.responder->Write(RecordIoEvent(event, Encoding::kProtobuf));
}

v1::TaskStatus Master::Impl::MakeStatus(const std::string& task_id, const std::string& agent_id,
                                        v1::TaskState state, v1::TaskStatus::Reason reason,
                                        const std::string& message) {
  v1::TaskStatus status;
  status.mutable_task_id()->set_value(task_id);
  status.set_state(state);
  status.set_source(v1::TaskStatus::SOURCE_MASTER);
  status.set_reason(reason);
  if (!message.empty()) status.set_message(message);
  if (!agent_id.empty()) status.mutable_agent_id()->set_value(agent_id);
  status.set_timestamp(WallNow());
  return status;
}

void Master::Impl::SendStatusToFramework(FrameworkEntry& framework, const v1::TaskStatus& status) {
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::UPDATE);
  *event.mutable_update()->mutable_status() = status;
  SendFrameworkEvent(framework, event);
}

void Master::Impl::ReleaseTaskResourcesLocked(FrameworkEntry& framework, TaskEntry& task) {
  if (task.released) return;
  task.released = true;
  AgentEntry* agent = FindAgent(task.task.agent_id().value());
  if (agent == nullptr || task.used.empty()) return;
  absl::StatusOr<allocator::RoleId> role = FindRoleLocked(task.role);
  if (!role.ok()) return;
  events_submitted_.fetch_add(1);
  allocator_->Submit(
      allocator::events::Recover{framework.alloc, agent->alloc, *role, task.used},
      [task_id = task.task.task_id().value()](const allocator::EventOutcome& outcome) {
        if (!outcome.status.ok()) {
          STEWARD_LOG(WARNING) << "Recovering resources of task " << task_id << ": "
                               << outcome.status.message();
        }
      });
  if (!loop_running_) allocator_->Drain(std::numeric_limits<size_t>::max());
}

void Master::Impl::UpdateTaskLocked(FrameworkEntry& framework, TaskEntry& task,
                                    const v1::TaskStatus& status, v1::TaskState state) {
  const v1::TaskState previous = task.task.state();
  task.task.set_state(state);
  *task.task.add_statuses() = status;
  // Keep the task's status history short: the first and the latest few.
  while (task.task.statuses_size() > 8) task.task.mutable_statuses()->DeleteSubrange(1, 1);
  if (common::IsTerminalState(state) && !common::IsTerminalState(previous)) {
    ReleaseTaskResourcesLocked(framework, task);
    switch (state) {
      case v1::TASK_FINISHED:
        tasks_finished_->Increment();
        break;
      case v1::TASK_FAILED:
        tasks_failed_->Increment();
        break;
      case v1::TASK_KILLED:
        tasks_killed_->Increment();
        break;
      case v1::TASK_LOST:
        tasks_lost_->Increment();
        break;
      case v1::TASK_ERROR:
        tasks_error_->Increment();
        break;
      case v1::TASK_DROPPED:
        tasks_dropped_->Increment();
        break;
      default:
        break;
    }
  }
}

void Master::Impl::CompleteTaskLocked(FrameworkEntry& framework, const std::string& task_id) {
  auto it = framework.tasks.find(task_id);
  if (it == framework.tasks.end()) return;
  ReleaseTaskResourcesLocked(framework, it->second);
  if (AgentEntry* agent = FindAgent(it->second.task.agent_id().value()); agent != nullptr) {
    agent->tasks.erase({framework.info.id().value(), task_id});
  }
  framework.completed_tasks.push_back(std::move(it->second.task));
  framework.tasks.erase(it);
  while (static_cast<int>(framework.completed_tasks.size()) >
         options_.max_completed_tasks_per_framework) {
    framework.completed_tasks.pop_front();
  }
}

// ---------------------------------------------------------------------------------------
// Frameworks and agents

FrameworkEntry* Master::Impl::AddFrameworkLocked(const std::string& id,
                                                 std::unique_ptr<FrameworkEntry> entry) {
  FrameworkEntry* raw = entry.get();
  frameworks_[id] = std::move(entry);
  framework_index_[id] = raw;
  return raw;
}

std::unique_ptr<FrameworkEntry> Master::Impl::EraseFrameworkLocked(const std::string& id) {
  auto it = frameworks_.find(id);
  if (it == frameworks_.end()) return nullptr;
  std::unique_ptr<FrameworkEntry> entry = std::move(it->second);
  framework_index_.erase(id);  // before the map: `id` may be the map's own key
  frameworks_.erase(it);
  return entry;
}

AgentEntry* Master::Impl::AddAgentLocked(const std::string& id, std::unique_ptr<AgentEntry> entry) {
  AgentEntry* raw = entry.get();
  agents_[id] = std::move(entry);
  agent_index_[id] = raw;
  return raw;
}

void Master::Impl::EraseAgentLocked(const std::string& id) {
  agent_index_.erase(id);
  agents_.erase(id);
}

FrameworkEntry* Master::Impl::FindFramework(const std::string& id) {
  auto it = framework_index_.find(id);
  return it == framework_index_.end() ? nullptr : it->second;
}

AgentEntry* Master::Impl::FindAgent(const std::string& id) {
  auto it = agent_index_.find(id);
  return it == agent_index_.end() ? nullptr : it->second;
}

const FrameworkEntry* Master::Impl::FindFramework(const std::string& id) const {
  auto it = framework_index_.find(id);
  return it == framework_index_.end() ? nullptr : it->second;
}

const AgentEntry* Master::Impl::FindAgent(const std::string& id) const {
  auto it = agent_index_.find(id);
  return it == agent_index_.end() ? nullptr : it->second;
}

void Master::Impl::DisconnectFrameworkLocked(FrameworkEntry& framework,
                                             const std::string& stream_id) {
  if (!framework.connected || framework.stream.id != stream_id) return;
  framework.connected = false;
  framework.stream.responder.reset();
  framework.unregistered_time = WallNow();
  framework.failover_deadline = Now() + framework.info.failover_timeout();
  SubmitLocked(allocator::events::DeactivateFramework{framework.alloc});
  RemoveFrameworkOffersLocked(framework, /*send_events=*/false);
  STEWARD_LOG(INFO) << "Framework " << framework.info.id().value() << " (" << framework.info.name()
                    << ") disconnected; failover timeout " << framework.info.failover_timeout()
                    << " s";
  PersistThenLocked(nullptr);
  KickLoop();
}

void Master::Impl::RemoveFrameworkLocked(const std::string& framework_id, const std::string& why,
                                         std::function<void(const absl::Status&)> persisted) {
  auto it = frameworks_.find(framework_id);
  if (it == frameworks_.end()) return;
  FrameworkEntry& framework = *it->second;
  RemoveFrameworkOffersLocked(framework, /*send_events=*/false);
  agent::Event shutdown;
  shutdown.set_type(agent::Event::SHUTDOWN_FRAMEWORK);
  *shutdown.mutable_shutdown_framework()->mutable_framework_id() = framework.info.id();
  std::set<std::string> agents_with_tasks;
  std::vector<std::string> task_ids;
  for (auto& [task_id, task] : framework.tasks) {
    agents_with_tasks.insert(task.task.agent_id().value());
    task_ids.push_back(task_id);
  }
  for (const std::string& agent_id : agents_with_tasks) {
    if (AgentEntry* agent = FindAgent(agent_id); agent != nullptr) SendAgentEvent(*agent, shutdown);
  }
  for (const std::string& task_id : task_ids) {
    TaskEntry& task = framework.tasks.at(task_id);
    if (!common::IsTerminalState(task.task.state())) {
      UpdateTaskLocked(framework, task,
                       MakeStatus(task_id, task.task.agent_id().value(), v1::TASK_KILLED,
                                  v1::TaskStatus::REASON_FRAMEWORK_REMOVED, why),
                       v1::TASK_KILLED);
    }
    CompleteTaskLocked(framework, task_id);
  }
  SubmitLocked(allocator::events::RemoveFramework{framework.alloc});
  framework_by_alloc_.erase(framework.alloc.value());
  if (framework.connected && framework.stream.responder) {
    v1::scheduler::Event error;
    error.set_type(v1::scheduler::Event::ERROR);
    error.mutable_error()->set_message(absl::StrCat("Framework removed: ", why));
    SendFrameworkEvent(framework, error);
    framework.stream.responder->Close();
  }
  framework.connected = false;
  framework.stream.responder.reset();
  framework.unregistered_time = WallNow();
  STEWARD_LOG(INFO) << "Removed framework " << framework_id << " (" << framework.info.name()
                    << "): " << why;
  removed_framework_ids_.insert(framework_id);
  completed_frameworks_.push_back(EraseFrameworkLocked(framework_id));
  while (completed_frameworks_.size() > 50) completed_frameworks_.pop_front();
  PersistThenLocked(std::move(persisted));
}

void Master::Impl::DisconnectAgentLocked(AgentEntry& agent, const std::string& stream_id) {
  if (!agent.connected || agent.stream.id != stream_id) return;
  agent.connected = false;
  agent.stream.responder.reset();
  SubmitLocked(allocator::events::DeactivateAgent{agent.alloc});
  RescindAgentOffersLocked(agent);
  STEWARD_LOG(INFO) << "Agent " << agent.info.id().value() << " (" << agent.info.hostname()
                    << ") disconnected; its offers were rescinded";
}

void Master::Impl::MarkAgentUnreachableLocked(AgentEntry& agent) {
  const std::string agent_id = agent.info.id().value();
  STEWARD_LOG(WARNING) << "Agent " << agent_id << " (" << agent.info.hostname()
                       << ") is unreachable: nothing heard for "
                       << std::chrono::duration<double>(options_.agent_ping_timeout).count() *
                              options_.max_agent_ping_timeouts
                       << " s";
  RescindAgentOffersLocked(agent);
  const auto tasks = agent.tasks;
  for (const auto& [framework_id, task_id] : tasks) {
    FrameworkEntry* framework = FindFramework(framework_id);
    if (framework == nullptr || !framework->tasks.contains(task_id)) continue;
    TaskEntry& task = framework->tasks.at(task_id);
    if (!common::IsTerminalState(task.task.state())) {
      v1::TaskStatus status =
          MakeStatus(task_id, agent_id, v1::TASK_LOST, v1::TaskStatus::REASON_AGENT_REMOVED,
                     "Agent is unreachable");
      UpdateTaskLocked(*framework, task, status, v1::TASK_LOST);
      SendStatusToFramework(*framework, status);
    }
    CompleteTaskLocked(*framework, task_id);
  }
  if (agent.alloc.valid()) {
    SubmitLocked(allocator::events::RemoveAgent{agent.alloc});
    agent_by_alloc_.erase(agent.alloc.value());
  }
  if (agent.connected && agent.stream.responder) agent.stream.responder->Close();
  registry::Agent record;
  *record.mutable_info() = agent.info;
  record.set_state(registry::Agent::UNREACHABLE);
  *record.mutable_registered_time() = TimeInfoOf(agent.registered_time);
  *record.mutable_state_time() = TimeInfoOf(WallNow());
  unreachable_agents_[agent_id] = record;
  EraseAgentLocked(agent_id);
  agent_removals_->Increment();
  PersistThenLocked(nullptr);
}

}  // namespace steward::daemon
