// Master::Impl: the master's state and logic, split by API over several files:
//   master.cc           construction, recovery, the registry writer, the ticker (allocation,
//                       heartbeats, timeouts), offers and rescinds, shared helpers
//   master_scheduler.cc POST /api/v1/scheduler
//   master_agent.cc     POST /api/v1/agent (Steward's agent protocol)
//   master_operator.cc  POST /api/v1 (operator API), GET endpoints, metrics, status page
// Every member below `mu_` is guarded by it, except where a comment says otherwise.
//
// The allocator is a ConcurrentAllocator (allocator/concurrent.h) around an Engine. Master code
// changes it only by submitting events, always while holding mu_, so the queue's order is the
// order of the master's own state changes. The engine is private to whoever holds the "loop
// role": the allocation loop thread while `loop_running_` is true (it drains, allocates and
// publishes without mu_), otherwise the holder of mu_ (Recover before Start, and the registry
// writer and stray handlers after Stop), who then applies events itself. Readers (state and
// metrics endpoints) read the published AllocatorSnapshot and the master-side role mirrors,
// never the engine. docs/concurrency.md, "The master", explains why waiting for an event's
// outcome while holding mu_ cannot deadlock.
#ifndef STEWARD_DAEMON_INTERNAL_MASTER_IMPL_H_
#define STEWARD_DAEMON_INTERNAL_MASTER_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "allocator/concurrent.h"
#include "allocator/engine.h"
#include "common/http_server.h"
#include "common/json_writer.h"
#include "common/mesos_resources.h"
#include "common/metrics.h"
#include "daemon/master.h"
#include "daemon/registrar.h"
#include "proto/mesos/v1/master/master.pb.h"
#include "proto/mesos/v1/mesos.pb.h"
#include "proto/mesos/v1/scheduler/scheduler.pb.h"
#include "proto/steward/agent.pb.h"
#include "proto/steward/registry.pb.h"

namespace steward::daemon {

namespace v1 = ::mesos::v1;

// How a client's messages are encoded on the wire.
enum class Encoding { kJson, kProtobuf };

// An open RecordIO event stream to a framework or an agent.
struct EventStream {
  std::optional<common::Responder> responder;
  std::string id;  // Mesos-Stream-Id
  Encoding encoding = Encoding::kProtobuf;
};

struct TaskEntry {
  v1::Task task;              // state, statuses (latest last), resources, agent and framework
  allocator::Resources used;  // what the task holds in the allocator (empty once recovered)
  std::string role;
  // True once resources were given back (terminal state seen).
  bool released = false;
  // A KILL the agent has not been sent yet (it was disconnected); sent when it reconnects.
  bool kill_pending = false;
  // The custom executor the task runs under, if any (for GET_EXECUTORS).
  std::optional<v1::ExecutorInfo> executor;
  std::optional<v1::KillPolicy> kill_policy;
};

// An outstanding offer. Its Mesos form (v1::Offer) is built into the OFFERS event, and again
// by OfferProto for the state endpoints, rather than kept: a copy per offer was a measurable
// share of the master's work per launch.
struct OfferEntry {
  std::string id;
  std::string framework_id;
  std::string agent_id;
  allocator::RoleId role;
  allocator::Resources resources;
};

struct FrameworkEntry {
  v1::FrameworkInfo info;  // id set
  allocator::FrameworkId alloc;
  std::vector<std::string> roles;
  EventStream stream;
  // Connected frameworks are the active ones (offered resources); Mesos's `active` is this.
  bool connected = false;
  // Recovered from the registry or from an agent's report; not yet resubscribed.
  bool recovered = false;
  double registered_time = 0;
  double reregistered_time = 0;
  double unregistered_time = 0;
  // Monotonic time at which an unconnected framework is removed (failover timeout).
  std::optional<double> failover_deadline;
  std::set<std::string> offers;            // outstanding offer ids
  std::map<std::string, TaskEntry> tasks;  // by task id: not yet acknowledged terminal
  std::deque<v1::Task> completed_tasks;    // newest last, bounded
  std::set<std::string> suppressed_roles;
};

struct AgentEntry {
  v1::AgentInfo info;  // id set
  // The agent's IP address (offers' `url.address.ip`); set when it (re)subscribes.
  std::string ip;
  allocator::AgentId alloc;
  allocator::Resources total;
  std::string version;
  EventStream stream;
  bool connected = false;
  double registered_time = 0;
  double reregistered_time = 0;
  double last_seen = 0;  // monotonic seconds
  // (framework id, task id) of tasks on this agent.
  std::set<std::pair<std::string, std::string>> tasks;
  std::set<std::string> offers;
  // Dynamic reservations (operator RESERVE_RESOURCES) on this agent.
  allocator::Resources dynamic_reservations;
  // Known from the registry but not reregistered since this master started.
  bool recovered = false;
};

// An agent SUBSCRIBE that passed validation and waits for the registry write that admits it.
// The registry write lists the agent (ADMITTED, with `info`); only once that write is durable
// does the master change its own state (agents_, the allocator's activation, unreachable
// record) and answer SUBSCRIBED. On a failed write nothing but `alloc` has to be undone.
struct AgentAdmission {
  v1::AgentInfo info;  // id set
  allocator::Resources total;
  agent::Call::Subscribe subscribe;
  std::string peer;
  bool reregister = false;
  double registered_time = 0;
  // Added to the allocator (inactive) for this admission when the agent had no allocator id;
  // removed again if the admission fails.
  allocator::AgentId alloc;
  std::optional<common::Responder> responder;  // set before it is queued
};

// A framework SUBSCRIBE waiting for the registry write that records it (see AgentAdmission).
struct FrameworkAdmission {
  v1::FrameworkInfo info;  // id set
  v1::scheduler::Call::Subscribe subscribe;
  Encoding encoding = Encoding::kProtobuf;
  bool resubscribe = false;
  double registered_time = 0;
  std::optional<common::Responder> responder;  // set before it is queued
};

class Master::Impl {
 public:
  Impl(MasterOptions options, std::unique_ptr<Registrar> registrar);
  ~Impl();

  absl::Status Recover();
  absl::Status Start();
  void Stop();

  uint16_t port() const { return server_ ? server_->port() : 0; }
  const std::string& id() const { return master_id_; }

 private:
  // ---- master.cc ----
  void RegisterRoutes();
  // The allocation loop thread (see the class comment): sleeps without mu_, drains events,
  // runs cycles without mu_, then takes mu_ (LockFromLoop) to turn offers into Mesos offers,
  // send heartbeats and check timeouts.
  void LoopMain();
  // mu_ for the loop thread: try_lock, and while that fails keep applying queued events (the
  // holder of mu_ may be waiting for one of them) and wait briefly for a kick.
  std::unique_lock<std::mutex> LockFromLoop();
  // Heartbeats and liveness checks, under mu_ (from the loop thread).
  void TickLocked(double now);
  // Turns a cycle's allocator offers into offer events; hands stale ones back (Recover).
  void MakeOffersLocked(std::vector<allocator::Offer> offers);
  // Loop role: publishes a snapshot and announces how many events it covers.
  void PublishFromLoop();
  void NotePublished();
  // Wakes the loop thread now (an event to apply, an early tick).
  void KickLoop();

  // ---- Allocator events (all under mu_) ----
  // Fire and forget: the outcome is only counted (allocator/steward/events_rejected).
  void SubmitLocked(allocator::AllocatorEvent event);
  // Submits and waits for the outcome (the loop applies it; without a running loop the caller
  // applies it). Role paths the event names (and their ancestors) enter the role mirror.
  allocator::EventOutcome ApplyLocked(allocator::AllocatorEvent event);
  // Waits until a snapshot that includes the event of `outcome` is published (read-your-writes
  // for operator calls whose effects the state endpoints show).
  void WaitPublishedLocked(const allocator::EventOutcome& outcome);
  // The role mirror (filled by ApplyLocked): NotFound if no applied event named the role yet.
  absl::StatusOr<allocator::RoleId> FindRoleLocked(const std::string& path) const;
  std::string RoleNameLocked(allocator::RoleId role) const;
  // Seconds on the monotonic clock since the master started (the allocator's clock).
  double Now() const;
  // Seconds since the epoch.
  static double WallNow();
  static v1::TimeInfo TimeInfoOf(double wall_seconds);
  std::string NewUuidBytes();
  static std::string UuidText(const std::string& bytes);
  v1::MasterInfo MasterInfoProto() const;
  // Writes the registry built from the current state (and the admissions waiting for it),
  // synchronously, under mu_: only before the registry writer runs (Start) and after it
  // stopped. Errors are logged and returned.
  absl::Status PersistLocked();
  // Asks for a registry write that contains the current state, and calls `done` under mu_
  // with its outcome once it is durable or failed (null: nobody waits; a failure is logged
  // and the next successful write carries the change). Work that must run without mu_ (a
  // Responder::OnDisconnect registration, which may run its callback inline) goes to
  // after_unlock_.
  //
  // Group commit: while the registry writer thread stores one version (without mu_), the
  // requests made meanwhile queue up; its next write builds the registry once, containing
  // all of them, and answers them all. On a failed write the callbacks run newest first, so
  // that undoing a change sees the state the change left.
  void PersistThenLocked(std::function<void(const absl::Status&)> done);
  void RegistrarLoop();
  // Runs (and clears) after_unlock_ with `lock` released; leaves it released.
  void UnlockAndRunDeferred(std::unique_lock<std::mutex>& lock);
  registry::Registry BuildRegistryLocked() const;

  // Offers.
  void RescindOfferLocked(const std::string& offer_id, bool send_event);
  void RescindAgentOffersLocked(AgentEntry& agent);
  void RemoveFrameworkOffersLocked(FrameworkEntry& framework, bool send_events);
  // Takes the offer out of every index; returns it.
  OfferEntry TakeOfferLocked(const std::string& offer_id);
  // The offer as a framework sees it, from the entry and the agent it is on.
  void OfferProto(const OfferEntry& entry, const AgentEntry& agent, v1::Offer* out) const;
  // Offer resources on the wire: allocation role set, reservations typed STATIC or DYNAMIC.
  common::ResourceList OfferResourcesProto(const AgentEntry& agent,
                                           const allocator::Resources& resources,
                                           const std::string& role) const;

  // Tasks and status updates.
  void SendFrameworkEvent(FrameworkEntry& framework, const v1::scheduler::Event& event);
  void SendAgentEvent(AgentEntry& agent, const agent::Event& event);
  void SendStatusToFramework(FrameworkEntry& framework, const v1::TaskStatus& status);
  v1::TaskStatus MakeStatus(const std::string& task_id, const std::string& agent_id,
                            v1::TaskState state, v1::TaskStatus::Reason reason,
                            const std::string& message);
  // Applies a state change to a task known to the master; returns resources to the allocator
  // when the state is terminal.
  // `state` is the task's new state (an agent's latest state may be ahead of `status`).
  void UpdateTaskLocked(FrameworkEntry& framework, TaskEntry& task, const v1::TaskStatus& status,
                        v1::TaskState state);
  // Moves a terminal, acknowledged (or abandoned) task to completed_tasks.
  void CompleteTaskLocked(FrameworkEntry& framework, const std::string& task_id);
  void ReleaseTaskResourcesLocked(FrameworkEntry& framework, TaskEntry& task);

  // Frameworks.
  void DisconnectFrameworkLocked(FrameworkEntry& framework, const std::string& stream_id);
  // `persisted` (if set) is called with the outcome of the registry write that records it.
  void RemoveFrameworkLocked(const std::string& framework_id, const std::string& why,
                             std::function<void(const absl::Status&)> persisted = nullptr);
  FrameworkEntry* AddFrameworkLocked(const std::string& id, std::unique_ptr<FrameworkEntry> entry);
  // Takes the framework out of frameworks_ and the index; returns it.
  std::unique_ptr<FrameworkEntry> EraseFrameworkLocked(const std::string& id);
  AgentEntry* AddAgentLocked(const std::string& id, std::unique_ptr<AgentEntry> entry);
  void EraseAgentLocked(const std::string& id);
  FrameworkEntry* FindFramework(const std::string& id);
  AgentEntry* FindAgent(const std::string& id);
  const FrameworkEntry* FindFramework(const std::string& id) const;
  const AgentEntry* FindAgent(const std::string& id) const;
  absl::StatusOr<FrameworkEntry*> EnsureRecoveredFrameworkLocked(const v1::FrameworkInfo& info);

  // Agents.
  void DisconnectAgentLocked(AgentEntry& agent, const std::string& stream_id);
  void MarkAgentUnreachableLocked(AgentEntry& agent);

  // ---- master_scheduler.cc ----
  void HandleScheduler(const common::HttpRequest& request, common::Responder responder);
  void Subscribe(const v1::scheduler::Call& call, Encoding encoding, common::Responder responder);
  void FinishSubscribeLocked(const std::string& framework_id, const absl::Status& status);
  absl::Status HandleAccept(FrameworkEntry& framework, const v1::scheduler::Call::Accept& accept);
  absl::Status HandleDecline(FrameworkEntry& framework,
                             const v1::scheduler::Call::Decline& decline);
  absl::Status HandleReviveSuppress(FrameworkEntry& framework,
                                    const google::protobuf::RepeatedPtrField<std::string>& roles,
                                    bool revive);
  absl::Status HandleKill(FrameworkEntry& framework, const v1::scheduler::Call::Kill& kill);
  absl::Status HandleAcknowledge(FrameworkEntry& framework,
                                 const v1::scheduler::Call::Acknowledge& ack);
  void HandleReconcile(FrameworkEntry& framework, const v1::scheduler::Call::Reconcile& rec);
  // Status for a task the framework asks about but the master does not know.
  v1::TaskState UnknownTaskState(const FrameworkEntry& framework) const;

  // ---- master_agent.cc ----
  void HandleAgent(const common::HttpRequest& request, common::Responder responder);
  // `peer` is the "IP:PORT" the call came from.
  void AgentSubscribe(const agent::Call& call, const std::string& peer,
                      common::Responder responder);
  // Adds the agent to the allocator, inactive. The allocator's refusal (a bad attribute, a
  // cluster total past its maximum) is returned.
  absl::StatusOr<allocator::AgentId> AddAgentToAllocatorLocked(const v1::AgentInfo& info,
                                                               const allocator::Resources& total);
  // Completes (status OK) or refuses the admission of `agent_id` after its registry write.
  void FinishAgentSubscribeLocked(const std::string& agent_id, const absl::Status& status);
  // A STATUS_UPDATE call: one update (`status_update`) or several (`status_updates`), all
  // checked before any is applied. InvalidArgument (nothing applied) for a malformed call.
  absl::Status AgentStatusUpdates(AgentEntry& agent, const agent::Call& call);
  // Records a well-formed update on its task and forwards it to its framework.
  void ApplyStatusUpdateLocked(AgentEntry& agent, const agent::Call::StatusUpdate& update);
  // Reconciles what a reregistering agent reports with what the master knows.
  // `from_unreachable`: the agent was marked unreachable; tasks of frameworks that are not
  // partition-aware were reported lost and are killed rather than adopted.
  void ReconcileAgentTasksLocked(AgentEntry& agent, const agent::Call::Subscribe& subscribe,
                                 bool from_unreachable);

  // ---- master_operator.cc ----
  void HandleOperator(const common::HttpRequest& request, common::Responder responder);
  v1::master::Response::GetAgents GetAgentsLocked() const;
  v1::master::Response::GetFrameworks GetFrameworksLocked() const;
  v1::master::Response::GetTasks GetTasksLocked() const;
  v1::master::Response::GetExecutors GetExecutorsLocked() const;
  v1::master::Response::GetRoles GetRolesLocked() const;
  v1::master::Response::GetQuota GetQuotaLocked() const;
  absl::Status UpdateQuotaLocked(const v1::master::Call::UpdateQuota& update);
  // Validates every weight first (role path, positive and finite), then applies them.
  absl::Status UpdateWeightsLocked(const v1::master::Call::UpdateWeights& update);
  absl::Status ReserveLocked(const v1::master::Call::ReserveResources& reserve, bool reserve_op);
  std::string StateJsonLocked(bool summary) const;
  // The "allocator" object of /master/state, from the latest snapshot.
  void WriteAllocatorSnapshot(common::JsonWriter& w) const;
  std::string StatusPageLocked() const;
  void RegisterMetrics();
  // Sets the gauges derived from the state (task counts, resources, shares) before a snapshot.
  void RefreshGaugesLocked();
  // What tasks hold, and what offers hold, on an agent or of a framework.
  allocator::Resources AgentUsedLocked(const AgentEntry& agent) const;
  allocator::Resources AgentOfferedLocked(const AgentEntry& agent) const;
  allocator::Resources FrameworkUsedLocked(const FrameworkEntry& framework) const;
  allocator::Resources FrameworkOfferedLocked(const FrameworkEntry& framework) const;
  // Every role node anyone named: frameworks' roles, quotas, weights.
  std::set<std::string> KnownRolesLocked() const;

  MasterOptions options_;
  std::unique_ptr<Registrar> registrar_;
  std::unique_ptr<common::HttpServer> server_;
  common::MetricsRegistry metrics_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  const double start_wall_ = WallNow();
  std::string master_id_;

  // The allocator. Its producer side (Submit) is used under mu_; its loop side belongs to the
  // loop role (class comment); Acquire() from any thread.
  std::unique_ptr<allocator::ConcurrentAllocator> allocator_;
  // Loop-thread wake-ups: `loop_kicked_` under loop_mu_ (a leaf lock: taken under mu_ or
  // alone, never the other way round).
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_kicked_ = false;
  std::atomic<bool> loop_stop_{false};
  // Loop thread only.
  double next_allocation_ = 0;
  // Published by the loop role, read by anyone: events covered by the latest snapshot
  // (AllocatorSnapshot::events_seen), events applied so far (ok or not), the duration of the
  // last cycle in ms and the retired snapshots still held by readers.
  std::atomic<uint64_t> published_seen_{0};
  std::atomic<uint64_t> events_done_{0};
  std::atomic<double> last_cycle_ms_{0};
  std::atomic<uint64_t> snapshots_pending_{0};
  // Incremented under mu_ by every submit; read by metrics.
  std::atomic<uint64_t> events_submitted_{0};

  std::mutex mu_;
  bool stopping_ = false;
  // True from Start until the loop thread ends: the loop thread holds the loop role.
  bool loop_running_ = false;
  std::thread ticker_;
  double next_heartbeat_ = 0;
  // Agents' ping windows and frameworks' failover deadlines are checked at most this often,
  // not at every tick: a scan of every agent and framework under the lock 50 times a second
  // (at a 20 ms allocation interval) cost more than the checks are worth.
  double next_liveness_check_ = 0;

  std::mt19937_64 random_;
  // Role mirror: every role node an applied event named, with its allocator id (role ids are
  // never reused). Filled by ApplyLocked from the loop thread's answer.
  absl::flat_hash_map<std::string, allocator::RoleId> role_ids_;
  absl::flat_hash_map<uint32_t, std::string> role_names_;
  // Quotas as set in the allocator, by role (for undoing a multi-role UPDATE_QUOTA).
  std::map<std::string, allocator::Quota> allocator_quotas_;
  // Frameworks and agents by id. The ordered maps own them (the state endpoints list them in
  // id order); every lookup goes through the hash indexes instead, because ids share the
  // master id as a 36-character prefix, which a tree compares again at every level. Change
  // them together, through AddFrameworkLocked/EraseFrameworkLocked and the agent pair.
  std::map<std::string, std::unique_ptr<FrameworkEntry>> frameworks_;
  std::map<std::string, std::unique_ptr<AgentEntry>> agents_;
  absl::flat_hash_map<std::string, FrameworkEntry*> framework_index_;
  absl::flat_hash_map<std::string, AgentEntry*> agent_index_;
  absl::flat_hash_map<std::string, OfferEntry> offers_;
  // Allocator ids back to Mesos ids.
  absl::flat_hash_map<uint32_t, std::string> framework_by_alloc_;
  absl::flat_hash_map<uint32_t, std::string> agent_by_alloc_;
  // Frameworks torn down or timed out: never allowed back, kept for the state endpoints.
  std::deque<std::unique_ptr<FrameworkEntry>> completed_frameworks_;
  std::set<std::string> removed_framework_ids_;
  // Agents marked gone or unreachable (registry state), by id.
  std::map<std::string, registry::Agent> unreachable_agents_;
  // Subscriptions waiting for their registry write, by agent / framework id (one at a time
  // per id; a second SUBSCRIBE meanwhile is answered 503).
  std::map<std::string, AgentAdmission> pending_agents_;
  std::map<std::string, FrameworkAdmission> pending_frameworks_;
  std::vector<std::function<void()>> after_unlock_;
  // The registry writer (PersistThenLocked). Tickets number the write requests; a write that
  // starts after ticket t was handed out contains every change made before t.
  struct PersistWaiter {
    uint64_t ticket = 0;
    std::function<void(const absl::Status&)> done;
  };
  std::deque<PersistWaiter> persist_waiters_;
  uint64_t persist_requested_ = 0;  // tickets handed out
  uint64_t persist_started_ = 0;    // the last ticket a started write contains
  bool registrar_running_ = false;
  std::condition_variable registrar_wake_;
  std::thread registrar_thread_;
  std::vector<v1::quota::QuotaConfig> quotas_;
  std::map<std::string, double> weights_;
  // Roles whose share gauge is in metrics_ (removed when the role is no longer known).
  std::set<std::string> share_gauge_roles_;
  uint64_t registry_version_ = 0;
  uint64_t next_framework_ = 0;
  uint64_t next_agent_ = 0;
  uint64_t next_offer_ = 0;

  // Metric handles (owned by metrics_).
  common::Counter* tasks_finished_ = nullptr;
  common::Counter* tasks_failed_ = nullptr;
  common::Counter* tasks_killed_ = nullptr;
  common::Counter* tasks_lost_ = nullptr;
  common::Counter* tasks_error_ = nullptr;
  common::Counter* tasks_dropped_ = nullptr;
  common::Counter* tasks_launched_ = nullptr;
  common::Counter* offers_sent_ = nullptr;
  common::Counter* offers_declined_ = nullptr;
  common::Counter* offers_rescinded_ = nullptr;
  common::Counter* valid_status_updates_ = nullptr;
  common::Counter* invalid_status_updates_ = nullptr;
  common::Counter* valid_framework_calls_ = nullptr;
  common::Counter* invalid_framework_calls_ = nullptr;
  common::Counter* allocation_runs_ = nullptr;
  // Offers of a cycle that were stale when the master turned them into Mesos offers, handed
  // back with Recover: applied, or NotFound because the framework or agent had already left
  // the allocator (harmless).
  common::Counter* stale_offers_recovered_ = nullptr;
  common::Counter* stale_offers_gone_ = nullptr;
  common::Timer* allocation_run_ms_ = nullptr;
  common::Counter* agent_registrations_ = nullptr;
  common::Counter* agent_reregistrations_ = nullptr;
  common::Counter* agent_removals_ = nullptr;
  common::Counter* registrar_writes_ = nullptr;
  common::Counter* registrar_write_failures_ = nullptr;
  common::Counter* registrar_requests_ = nullptr;
  common::Timer* registrar_store_ms_ = nullptr;
};

// Helpers shared by the API files.
// Content negotiation for a request: the body's encoding from Content-Type, and the answer's
// from Accept (falling back to the body's). Error statuses carry the HTTP status to send:
// 415 for an unsupported Content-Type, 406 for an unsupported Accept.
struct Negotiated {
  Encoding body = Encoding::kJson;
  Encoding answer = Encoding::kJson;
};
absl::StatusOr<Negotiated> Negotiate(const common::HttpRequest& request, int* http_status);
std::string ContentTypeOf(Encoding encoding);
// Parses a request body into `message` (JSON with the depth limit, or binary protobuf), and
// checks required fields. InvalidArgument with the reason.
absl::Status ParseBody(const std::string& body, Encoding encoding, int max_json_depth,
                       google::protobuf::Message* message);
std::string Serialize(const google::protobuf::Message& message, Encoding encoding);
// `message` serialised and framed as one RecordIO record (an event on a stream).
std::string RecordIoEvent(const google::protobuf::Message& message, Encoding encoding);

}  // namespace steward::daemon

#endif  // STEWARD_DAEMON_INTERNAL_MASTER_IMPL_H_
