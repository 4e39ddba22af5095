#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/internal/strings.h"
#include "sim/workload_feed.h"

namespace steward::sim {
namespace {

using allocator::AgentId;
using allocator::FrameworkId;
using allocator::Offer;
using allocator::PlacementDecision;
using allocator::Reason;
using allocator::Resource;
using allocator::ResourceKind;
using allocator::Resources;
using allocator::RoleId;
using allocator::TaskRequest;
using allocator::internal::Av;

// Event kinds. At one instant events run in this order (then by insertion): tasks finish,
// machines leave, machines arrive, work arrives, frameworks answer offers, the
// scheduler runs (a placement round or an allocation cycle), and the timeline is sampled.
enum class Kind : uint8_t {
  kTaskFinish,
  kAgentRemove,
  kAgentAdd,
  kGroupSubmit,
  kTraceArrival,
  kOfferResponse,
  kSchedule,
  kSample,
};

struct Event {
  double time;
  Kind kind;
  uint64_t seq;
  uint32_t a;
  uint32_t b;
  friend bool operator>(const Event& x, const Event& y) {
    if (x.time != y.time) return x.time > y.time;
    if (x.kind != y.kind) return x.kind > y.kind;
    return x.seq > y.seq;
  }
};

// Events that change the cluster or the work. Scheduling and sampling only react to them.
bool IsWork(Kind kind) { return kind != Kind::kSchedule && kind != Kind::kSample; }

// Direct placement considers at most this many queued tasks per framework per round, and
// runs another round at once while some framework placed all of them.
constexpr size_t kPlaceBatch = 64;

// Progress is reported every this many events.
constexpr int64_t kProgressEvery = 1 << 16;

// A task as the results report it (TaskRow), plus what only the running simulation needs.
struct SimTask : TaskRow {
  uint32_t slot = 0;         // index in the agent's running list
  uint32_t incarnation = 0;  // bumps when a run is lost, so that its finish event is ignored
  bool ever_started = false;
  Resources held;  // what the running task holds (with reservations)
};

struct SimFramework {
  std::string name;
  std::string role;
  FrameworkId id;
  RoleId role_id;
  OfferBehaviour behaviour;
  double weight = 1;
  std::deque<uint32_t> pending;
  std::vector<int64_t> allocated;  // milli by column, held by running tasks
  int64_t submitted = 0;
  int64_t started = 0;
  int64_t finished = 0;
  int64_t running = 0;
  int64_t failed = 0;
  double wait_sum = 0;
  bool suppressed = false;
  // DIRECT: the head task failed with `blocked_reason` and nothing has happened since that
  // could let it through.
  bool blocked = false;
  Reason blocked_reason = Reason::kNone;
};

struct SimAgent {
  AgentConfig config;
  AgentId id;
  bool live = false;
  std::vector<int64_t> total;  // milli by column
  std::vector<int64_t> used;   // milli by column, held by running tasks
  std::vector<uint32_t> running;
};

struct PendingOffer {
  Offer offer;
  uint32_t framework = 0;
  uint32_t agent = 0;  // sim agent index
  bool live = false;   // false once answered or rescinded
};

// The simulation answers offers of frameworks without think time inside the allocation cycle
// (allocator::OfferScreen): see AllocationCycle.
class Simulation final : private allocator::OfferScreen {
 public:
  Simulation(const SimConfig& config, const RunHooks& hooks)
      : config_(config),
        hooks_(hooks),
        engine_(allocator::AllocatorOptions{.sorter = config.sorter, .seed = config.seed}) {}

  absl::StatusOr<Results> Run();

 private:
  // ---- set-up ----
  absl::Status SetUp();
  void AddColumn(const std::string& name);
  void CollectColumns(const Resources& resources);
  std::vector<int64_t> Milli(const Resources& resources) const;
  // Demands are interned by their milli-units per column: tasks of one shape share a
  // Resources value.
  absl::StatusOr<uint32_t> InternDemand(const std::vector<int64_t>& milli);
  absl::StatusOr<uint32_t> AddFramework(const std::string& name, const std::string& role,
                                        const OfferBehaviour& behaviour, bool gpu_capable);
  absl::StatusOr<uint32_t> TraceFramework(uint32_t source, const std::string& key);

  // ---- events ----
  void Push(double time, Kind kind, uint32_t a = 0, uint32_t b = 0);
  absl::Status Handle(const Event& event);
  absl::Status AgentAdd(uint32_t agent);
  absl::Status AgentRemove(uint32_t agent);
  absl::Status TaskFinish(uint32_t task, uint32_t incarnation);
  absl::Status GroupSubmit(uint32_t framework, uint32_t group);
  absl::Status TraceArrival(uint32_t source);
  absl::Status Submit(uint32_t framework, uint32_t demand, double duration);
  absl::Status OfferResponse(uint32_t slot);
  absl::Status Schedule();
  absl::Status PlaceRound(bool* again);
  absl::Status AllocationCycle();
  void Sample();
  // Largest fraction of the cluster's current total that `allocated` holds.
  double DominantShare(const std::vector<int64_t>& allocated) const;

  // ---- helpers ----
  void StartTask(uint32_t task, uint32_t agent, Resources held);
  void DetachFromAgent(uint32_t task);
  void Release(uint32_t agent);
  void RequestSchedule();
  absl::Status Answer(PendingOffer& pending);
  // ---- answers inside the cycle (OfferScreen) ----
  Verdict Screen(const Shown& offer) override;
  void DeclinedUnshown(int64_t count, double refuse_seconds) override;
  // Launches the tasks Screen chose for a kept offer and declines the rest.
  absl::Status ApplyPlan(PendingOffer& pending, size_t plan);
  // Takes `demand` out of `left` (reserved pools first) into *held; false if it does not fit.
  static absl::StatusOr<bool> Take(Resources& left, const Resources& demand, Resources* held);
  // Declines what is left of an answered offer (not empty) with the framework's filter.
  absl::Status DeclineLeft(SimFramework& framework, const PendingOffer& pending,
                           const Resources& left);
  void QueueFilterExpiry(double expiry);
  // Maps the simulation's columns to the engine's scalar indexes (engine_column_).
  void RefreshEngineColumns();
  bool Fits(const std::vector<int64_t>& demand, const std::vector<int64_t>& room) const;
  void Advance(double time);
  bool CanFitSomewhere(uint32_t demand) const;
  absl::Status CheckInvariants() const;
  void ReportProgress(bool done);
  absl::Status Finish();

  const SimConfig& config_;
  const RunHooks& hooks_;
  allocator::Engine engine_;
  Results results_;

  std::vector<std::string> columns_;
  absl::flat_hash_map<std::string, size_t> column_index_;
  std::vector<Resources> demand_resources_;
  absl::flat_hash_map<std::vector<int64_t>, uint32_t> demand_index_;
  std::vector<int64_t> scratch_milli_;

  std::vector<SimAgent> agents_;
  // Allocator ids (dense, from 0) to sim indexes; kNoIndex where none is (or is no longer).
  static constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();
  static void MapId(std::vector<uint32_t>& map, uint64_t id, uint32_t index);
  static uint32_t FindId(const std::vector<uint32_t>& map, uint64_t id) {
    return id < map.size() ? map[id] : kNoIndex;
  }
  std::vector<uint32_t> agent_by_id_;
  std::vector<int64_t> largest_machine_;  // per column, over all machines
  std::vector<SimFramework> frameworks_;
  std::vector<uint32_t> framework_by_id_;
  std::vector<absl::flat_hash_map<std::string, uint32_t>> trace_frameworks_;  // per source
  std::vector<SimTask> tasks_;
  std::vector<std::unique_ptr<WorkloadFeed>> feeds_;
  std::vector<PendingOffer> offers_;  // OFFER mode: offers awaiting an answer
  std::vector<uint32_t> free_offer_slots_;
  // Answers given inside the cycle, one per kept offer in the order the cycle returns them:
  // the tasks to launch (plan_tasks_[begin, end)), or none for an offer left to a framework
  // with think time (answered == false).
  struct Plan {
    bool answered = false;
    uint32_t begin = 0;
    uint32_t end = 0;
  };
  std::vector<Plan> plans_;
  std::vector<uint32_t> plan_tasks_;
  std::vector<int64_t> screen_left_;   // Screen's scratch: what is left of the offer
  std::vector<size_t> engine_column_;  // by column: the engine's scalar index, or kNoColumn
  size_t engine_scalars_seen_ = 0;
  static constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();

  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  uint64_t seq_ = 0;
  int64_t work_events_ = 0;  // queued events of IsWork kinds
  double now_ = 0;
  double last_advance_ = 0;

  std::vector<int64_t> cluster_total_;
  std::vector<int64_t> cluster_used_;
  std::vector<uint32_t> blocked_;  // DIRECT: blocked frameworks

  bool schedule_queued_ = false;
  int64_t last_tick_ = -1;  // OFFER: grid index of the last cycle queued
  bool changed_ = true;     // OFFER: something an allocation cycle depends on has changed
  std::priority_queue<double, std::vector<double>, std::greater<double>> filter_expiries_;
  // The last expiry pushed, and whether a copy of it is surely still queued: declines at one
  // instant with one refuse_seconds push it once, not once per offer.
  double last_filter_expiry_ = 0;
  bool last_filter_expiry_queued_ = false;
  double last_launch_ = 0;  // OFFER: when a task last started
  double max_refuse_ = 0;
  int64_t known_tasks_ = 0;  // -1 when a source cannot tell
  int64_t submitted_ = 0;
  int64_t finished_ = 0;
  int64_t running_ = 0;
  int64_t pending_ = 0;
};

// ---------------------------------------------------------------------------------------
// Set-up

void Simulation::MapId(std::vector<uint32_t>& map, uint64_t id, uint32_t index) {
  if (id >= map.size()) map.resize(id + 1, kNoIndex);
  map[id] = index;
}

void Simulation::AddColumn(const std::string& name) {
  if (column_index_.contains(name)) return;
  column_index_[name] = columns_.size();
  columns_.push_back(name);
}

void Simulation::CollectColumns(const Resources& resources) {
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar) AddColumn(entry.name);
  }
}

std::vector<int64_t> Simulation::Milli(const Resources& resources) const {
  std::vector<int64_t> out(columns_.size(), 0);
  for (const Resource& entry : resources.entries()) {
    if (entry.kind != ResourceKind::kScalar) continue;
    const auto it = column_index_.find(entry.name);
    if (it != column_index_.end()) out[it->second] += entry.scalar;
  }
  return out;
}

absl::StatusOr<uint32_t> Simulation::InternDemand(const std::vector<int64_t>& milli) {
  const auto it = demand_index_.find(milli);
  if (it != demand_index_.end()) return it->second;
  std::vector<Resource> entries;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (milli[c] == 0) continue;
    Resource entry;
    entry.name = columns_[c];
    entry.kind = ResourceKind::kScalar;
    entry.scalar = milli[c];
    entries.push_back(std::move(entry));
  }
  absl::StatusOr<Resources> demand = Resources::FromEntries(std::move(entries));
  if (!demand.ok()) return demand.status();
  const uint32_t index = static_cast<uint32_t>(demand_resources_.size());
  demand_resources_.push_back(*std::move(demand));
  results_.demands.push_back(milli);
  demand_index_.emplace(milli, index);
  return index;
}

absl::StatusOr<uint32_t> Simulation::AddFramework(const std::string& name, const std::string& role,
                                                  const OfferBehaviour& behaviour,
                                                  bool gpu_capable) {
  allocator::FrameworkInfo info;
  info.name = name;
  info.roles = {role};
  info.gpu_capable = gpu_capable;
  absl::StatusOr<FrameworkId> id = engine_.AddFramework(info);
  if (!id.ok()) return id.status();
  absl::StatusOr<RoleId> role_id = engine_.FindRole(role);
  if (!role_id.ok()) return role_id.status();
  SimFramework framework;
  framework.name = name;
  framework.role = role;
  framework.id = *id;
  framework.role_id = *role_id;
  framework.behaviour = behaviour;
  framework.allocated.assign(columns_.size(), 0);
  for (const RoleConfig& spec : config_.roles) {
    if (spec.name == role && spec.weight.has_value()) framework.weight = *spec.weight;
  }
  if (std::isfinite(behaviour.refuse_seconds)) {
    max_refuse_ = std::max(max_refuse_, behaviour.refuse_seconds);
  }
  // A framework starts with nothing to do, so it suppresses offers until work arrives.
  if (config_.mode == Mode::kOffer) {
    if (absl::Status s = engine_.Suppress(*id, *role_id); !s.ok()) return s;
    framework.suppressed = true;
  }
  const uint32_t index = static_cast<uint32_t>(frameworks_.size());
  MapId(framework_by_id_, id->value(), index);
  frameworks_.push_back(std::move(framework));
  return index;
}

absl::StatusOr<uint32_t> Simulation::TraceFramework(uint32_t source, const std::string& key) {
  auto& by_key = trace_frameworks_[source];
  const auto it = by_key.find(key);
  if (it != by_key.end()) return it->second;
  const TraceConfig& trace = config_.traces[source];
  std::string name = key.empty() ? std::string("(none)") : key;
  if (config_.traces.size() > 1) name = absl::StrCat("trace", source, "/", name);
  for (const SimFramework& framework : frameworks_) {
    if (framework.name == name) {
      name = absl::StrCat(name, "@trace", source);
      break;
    }
  }
  // Trace frameworks are GPU capable: their tasks may demand GPUs.
  absl::StatusOr<uint32_t> index =
      AddFramework(name, trace.role, trace.behaviour, /*gpu_capable=*/true);
  if (!index.ok()) return index.status();
  by_key.emplace(key, *index);
  return *index;
}

absl::Status Simulation::SetUp() {
  results_.scenario = config_.name;
  results_.seed = config_.seed;
  results_.mode = std::string(ModeName(config_.mode));
  results_.sorter = std::string(SorterName(config_.sorter));
  results_.placement = std::string(PlacementName(config_.placement));

  // Workload sources first: they may bring machines.
  std::vector<AgentConfig> machines = config_.agents;
  for (size_t i = 0; i < config_.traces.size(); ++i) {
    absl::StatusOr<std::unique_ptr<WorkloadFeed>> feed =
        OpenWorkloadFeed(config_.traces[i], config_.seed);
    if (!feed.ok()) return feed.status();
    if (config_.traces[i].cluster_from_trace || config_.traces[i].format == "synthetic") {
      absl::StatusOr<std::vector<AgentConfig>> more = (*feed)->Machines();
      if (!more.ok()) return more.status();
      for (AgentConfig& agent : *more) machines.push_back(std::move(agent));
    }
    feeds_.push_back(*std::move(feed));
  }
  trace_frameworks_.resize(feeds_.size());
  known_tasks_ = feeds_.empty() ? 0 : -1;

  // Resource columns: cpus, mem, disk, gpus, then other names in order of appearance.
  for (const char* name : {"cpus", "mem", "disk", "gpus"}) AddColumn(name);
  for (const AgentConfig& agent : machines) CollectColumns(agent.total);
  for (const FrameworkConfig& framework : config_.frameworks) {
    for (const TaskGroupConfig& group : framework.groups) CollectColumns(group.demand);
  }
  results_.resources = columns_;
  cluster_total_.assign(columns_.size(), 0);
  cluster_used_.assign(columns_.size(), 0);
  largest_machine_.assign(columns_.size(), 0);
  results_.allocated_integral.assign(columns_.size(), 0);
  results_.total_integral.assign(columns_.size(), 0);

  // Roles: weights and quotas before any framework subscribes.
  for (const RoleConfig& role : config_.roles) {
    if (role.weight.has_value()) {
      if (absl::Status s = engine_.SetWeight(role.name, *role.weight); !s.ok()) return s;
    }
    if (role.quota.has_value()) {
      if (absl::Status s = engine_.SetQuota(role.name, *role.quota); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("quota of role '", role.name, "': ", s.message()));
      }
    }
  }

  for (AgentConfig& config : machines) {
    SimAgent agent;
    agent.total = Milli(config.total);
    agent.used.assign(columns_.size(), 0);
    for (size_t c = 0; c < columns_.size(); ++c) {
      largest_machine_[c] = std::max(largest_machine_[c], agent.total[c]);
    }
    const uint32_t index = static_cast<uint32_t>(agents_.size());
    Push(config.added, Kind::kAgentAdd, index);
    if (config.removed != kNever) Push(config.removed, Kind::kAgentRemove, index);
    AgentRow row;
    row.name = config.name;
    row.added = config.added;
    row.total = agent.total;
    results_.agents.push_back(std::move(row));
    agent.config = std::move(config);
    agents_.push_back(std::move(agent));
  }

  for (const FrameworkConfig& framework : config_.frameworks) {
    absl::StatusOr<uint32_t> index =
        AddFramework(framework.name, framework.role, framework.behaviour, framework.gpu_capable);
    if (!index.ok()) return index.status();
    for (size_t g = 0; g < framework.groups.size(); ++g) {
      Push(framework.groups[g].submit, Kind::kGroupSubmit, *index, static_cast<uint32_t>(g));
      if (known_tasks_ >= 0) known_tasks_ += framework.groups[g].count;
    }
  }
  for (size_t i = 0; i < feeds_.size(); ++i) {
    absl::StatusOr<double> first = feeds_[i]->Peek();
    if (!first.ok()) return first.status();
    if (*first != kNever) Push(*first, Kind::kTraceArrival, static_cast<uint32_t>(i));
  }
  Push(0, Kind::kSample);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Events

void Simulation::Push(double time, Kind kind, uint32_t a, uint32_t b) {
  if (IsWork(kind)) ++work_events_;
  queue_.push(Event{time, kind, seq_++, a, b});
}

// Accumulates the time integrals of allocated and total resources up to `time`.
void Simulation::Advance(double time) {
  if (time <= last_advance_) return;
  const double dt = time - last_advance_;
  for (size_t c = 0; c < columns_.size(); ++c) {
    results_.allocated_integral[c] += static_cast<double>(cluster_used_[c]) * dt;
    results_.total_integral[c] += static_cast<double>(cluster_total_[c]) * dt;
  }
  last_advance_ = time;
}

absl::Status Simulation::Handle(const Event& event) {
  switch (event.kind) {
    case Kind::kAgentAdd:
      return AgentAdd(event.a);
    case Kind::kTaskFinish:
      return TaskFinish(event.a, event.b);
    case Kind::kAgentRemove:
      return AgentRemove(event.a);
    case Kind::kGroupSubmit:
      return GroupSubmit(event.a, event.b);
    case Kind::kTraceArrival:
      return TraceArrival(event.a);
    case Kind::kOfferResponse:
      return OfferResponse(event.a);
    case Kind::kSchedule:
      return Schedule();
    case Kind::kSample:
      Sample();
      return absl::OkStatus();
  }
  return absl::InternalError("unknown event kind");
}

absl::Status Simulation::AgentAdd(uint32_t index) {
  SimAgent& agent = agents_[index];
  allocator::AgentInfo info;
  info.name = agent.config.name;
  info.total = agent.config.total;
  info.attributes = agent.config.attributes;
  absl::StatusOr<AgentId> id = engine_.AddAgent(info);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("agent ", agent.config.name, ": ", id.status().message()));
  }
  agent.id = *id;
  agent.live = true;
  MapId(agent_by_id_, id->value(), index);
  for (size_t c = 0; c < columns_.size(); ++c) cluster_total_[c] += agent.total[c];
  Release(index);
  return absl::OkStatus();
}

absl::Status Simulation::AgentRemove(uint32_t index) {
  SimAgent& agent = agents_[index];
  if (!agent.live) return absl::OkStatus();
  // Its tasks are lost and queued again, at the front of their frameworks' queues in their
  // original order.
  std::vector<uint32_t> lost = agent.running;
  std::sort(lost.begin(), lost.end());
  for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
    const uint32_t task_id = *it;
    SimTask& task = tasks_[task_id];
    DetachFromAgent(task_id);
    task.state = TaskState::kPending;
    task.held = Resources();
    ++task.incarnation;
    ++task.losses;
    ++results_.tasks_lost;
    --running_;
    ++pending_;
    SimFramework& framework = frameworks_[task.framework];
    --framework.running;
    framework.pending.push_front(task_id);
    if (framework.suppressed) {
      if (absl::Status s = engine_.Revive(framework.id, framework.role_id); !s.ok()) return s;
      framework.suppressed = false;
    }
  }
  // Offers of the agent are rescinded; the engine drops what was allocated there.
  for (PendingOffer& pending : offers_) {
    if (pending.live && pending.agent == index) {
      pending.live = false;
      ++results_.offers_rescinded;
    }
  }
  if (absl::Status s = engine_.RemoveAgent(agent.id); !s.ok()) return s;
  agent.live = false;
  MapId(agent_by_id_, agent.id.value(), kNoIndex);
  for (size_t c = 0; c < columns_.size(); ++c) cluster_total_[c] -= agent.total[c];
  results_.agents[index].removed = now_;
  // Quota headroom changed for everybody.
  for (uint32_t f : blocked_) frameworks_[f].blocked = false;
  blocked_.clear();
  changed_ = true;
  RequestSchedule();
  return absl::OkStatus();
}

void Simulation::DetachFromAgent(uint32_t task_id) {
  SimTask& task = tasks_[task_id];
  SimAgent& agent = agents_[task.agent];
  const std::vector<int64_t>& demand = results_.demands[task.demand];
  for (size_t c = 0; c < columns_.size(); ++c) {
    agent.used[c] -= demand[c];
    cluster_used_[c] -= demand[c];
    frameworks_[task.framework].allocated[c] -= demand[c];
  }
  const uint32_t last = agent.running.back();
  agent.running[task.slot] = last;
  tasks_[last].slot = task.slot;
  agent.running.pop_back();
}

absl::Status Simulation::TaskFinish(uint32_t task_id, uint32_t incarnation) {
  SimTask& task = tasks_[task_id];
  if (task.incarnation != incarnation || task.state != TaskState::kRunning) {
    return absl::OkStatus();  // that run was lost with its machine
  }
  SimFramework& framework = frameworks_[task.framework];
  const uint32_t agent = task.agent;
  if (absl::Status s =
          engine_.Recover(framework.id, agents_[agent].id, framework.role_id, task.held);
      !s.ok()) {
    return absl::InternalError(absl::StrCat("recovering task ", task_id, ": ", s.message()));
  }
  DetachFromAgent(task_id);
  task.held = Resources();
  task.state = TaskState::kFinished;
  task.end = now_;
  --framework.running;
  ++framework.finished;
  --running_;
  ++finished_;
  Release(agent);
  return absl::OkStatus();
}

// Resources became free on `agent`: unblock the frameworks that may now get through, and
// schedule.
void Simulation::Release(uint32_t agent) {
  changed_ = true;
  if (!blocked_.empty()) {
    const SimAgent& host = agents_[agent];
    std::vector<int64_t> room(columns_.size());
    for (size_t c = 0; c < columns_.size(); ++c) room[c] = host.total[c] - host.used[c];
    size_t kept = 0;
    for (uint32_t f : blocked_) {
      SimFramework& framework = frameworks_[f];
      // A head that failed for lack of room can pass only where room appeared; one held back
      // by quota may pass once consumption fell anywhere.
      const bool insufficient = framework.blocked_reason == Reason::kInsufficientResources ||
                                framework.blocked_reason == Reason::kMissingGpuCapability;
      const bool may_pass = framework.pending.empty() || !insufficient ||
                            Fits(results_.demands[tasks_[framework.pending.front()].demand], room);
      if (may_pass) {
        framework.blocked = false;
      } else {
        blocked_[kept++] = f;
      }
    }
    blocked_.resize(kept);
  }
  RequestSchedule();
}

bool Simulation::Fits(const std::vector<int64_t>& demand, const std::vector<int64_t>& room) const {
  for (size_t c = 0; c < demand.size(); ++c) {
    if (demand[c] > room[c]) return false;
  }
  return true;
}

bool Simulation::CanFitSomewhere(uint32_t demand) const {
  return Fits(results_.demands[demand], largest_machine_);
}

absl::Status Simulation::GroupSubmit(uint32_t framework, uint32_t group) {
  const TaskGroupConfig& spec = config_.frameworks[framework].groups[group];
  absl::StatusOr<uint32_t> demand = InternDemand(Milli(spec.demand));
  if (!demand.ok()) return demand.status();
  for (int64_t k = 0; k < spec.count; ++k) {
    if (absl::Status s = Submit(framework, *demand, spec.duration); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Simulation::TraceArrival(uint32_t source) {
  WorkloadFeed& feed = *feeds_[source];
  // Every task due by now, then wait for the next.
  while (true) {
    absl::StatusOr<double> next = feed.Peek();
    if (!next.ok()) return next.status();
    if (*next == kNever) break;
    if (*next > now_) {
      Push(*next, Kind::kTraceArrival, source);
      break;
    }
    FeedTask task = feed.Pop();
    if (task.submit < now_) ++results_.trace_tasks_late;
    absl::StatusOr<uint32_t> framework = TraceFramework(source, task.key);
    if (!framework.ok()) return framework.status();
    // The model's four resources are the first four columns (SetUp).
    scratch_milli_.assign(columns_.size(), 0);
    std::copy(task.demand.begin(), task.demand.end(), scratch_milli_.begin());
    absl::StatusOr<uint32_t> demand = InternDemand(scratch_milli_);
    if (!demand.ok()) return demand.status();
    if (absl::Status s = Submit(*framework, *demand, task.duration); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Simulation::Submit(uint32_t framework_index, uint32_t demand, double duration) {
  SimFramework& framework = frameworks_[framework_index];
  SimTask task;
  task.framework = framework_index;
  task.demand = demand;
  task.submit = now_;  // a late trace task (see WorkloadFeed) enters the system now
  task.duration = duration;
  const uint32_t id = static_cast<uint32_t>(tasks_.size());
  ++framework.submitted;
  ++submitted_;
  // A task larger than every machine the run will ever have cannot run, and one that demands
  // nothing cannot be placed or launched: either fails at once rather than blocking its
  // framework's queue forever.
  if (!CanFitSomewhere(task.demand) || demand_resources_[task.demand].empty()) {
    task.state = TaskState::kFailed;
    task.end = now_;
    ++framework.failed;
    tasks_.push_back(std::move(task));
    return absl::OkStatus();
  }
  tasks_.push_back(std::move(task));
  ++pending_;
  const bool was_idle = framework.pending.empty();
  framework.pending.push_back(id);
  if (config_.mode == Mode::kOffer) {
    if (framework.suppressed) {
      if (absl::Status s = engine_.Revive(framework.id, framework.role_id); !s.ok()) return s;
      framework.suppressed = false;
      changed_ = true;
    }
  } else if (was_idle) {
    framework.blocked = false;
  }
  RequestSchedule();
  return absl::OkStatus();
}

void Simulation::StartTask(uint32_t task_id, uint32_t agent_index, Resources held) {
  SimTask& task = tasks_[task_id];
  SimAgent& agent = agents_[agent_index];
  SimFramework& framework = frameworks_[task.framework];
  const std::vector<int64_t>& demand = results_.demands[task.demand];
  for (size_t c = 0; c < columns_.size(); ++c) {
    agent.used[c] += demand[c];
    cluster_used_[c] += demand[c];
    framework.allocated[c] += demand[c];
  }
  task.agent = agent_index;
  task.slot = static_cast<uint32_t>(agent.running.size());
  agent.running.push_back(task_id);
  task.state = TaskState::kRunning;
  task.start = now_;
  task.held = std::move(held);
  if (!task.ever_started) {
    task.ever_started = true;
    ++framework.started;
    framework.wait_sum += now_ - task.submit;
  }
  ++framework.running;
  ++running_;
  --pending_;
  last_launch_ = now_;
  if (task.duration > 0) Push(now_ + task.duration, Kind::kTaskFinish, task_id, task.incarnation);
}

// ---------------------------------------------------------------------------------------
// Scheduling

// DIRECT: one placement round after the events of this instant. OFFER: the next allocation
// cycle on the interval grid.
void Simulation::RequestSchedule() {
  if (schedule_queued_) return;
  schedule_queued_ = true;
  if (config_.mode == Mode::kDirect) {
    Push(now_, Kind::kSchedule);
  } else {
    // Cycles run on the grid of multiples of the interval, at most one per grid point.
    const double interval = config_.allocation_interval;
    int64_t tick = static_cast<int64_t>(std::ceil(now_ / interval));
    if (tick <= last_tick_) tick = last_tick_ + 1;
    last_tick_ = tick;
    Push(static_cast<double>(tick) * interval, Kind::kSchedule);
  }
}

absl::Status Simulation::Schedule() {
  schedule_queued_ = false;
  if (config_.mode == Mode::kDirect) {
    bool again = true;
    while (again) {
      if (absl::Status s = PlaceRound(&again); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return AllocationCycle();
}

absl::Status Simulation::PlaceRound(bool* again) {
  *again = false;
  std::vector<TaskRequest> requests;
  std::vector<uint32_t> request_tasks;
  std::vector<uint32_t> participants;
  for (uint32_t f = 0; f < frameworks_.size(); ++f) {
    SimFramework& framework = frameworks_[f];
    if (framework.blocked || framework.pending.empty()) continue;
    participants.push_back(f);
    const size_t take = std::min(framework.pending.size(), kPlaceBatch);
    for (size_t k = 0; k < take; ++k) {
      const uint32_t task_id = framework.pending[k];
      requests.push_back(
          TaskRequest{framework.id, framework.role_id, demand_resources_[tasks_[task_id].demand]});
      request_tasks.push_back(task_id);
    }
  }
  if (requests.empty()) return absl::OkStatus();
  ++results_.placement_rounds;
  absl::StatusOr<std::vector<PlacementDecision>> decisions =
      engine_.Place(requests, config_.placement);
  if (!decisions.ok()) {
    return absl::InternalError(absl::StrCat("placement: ", decisions.status().message()));
  }
  // Decisions come in request order; each framework's requests are contiguous.
  size_t i = 0;
  for (uint32_t f : participants) {
    SimFramework& framework = frameworks_[f];
    const size_t take = std::min(framework.pending.size(), kPlaceBatch);
    size_t placed = 0;
    for (size_t k = 0; k < take; ++k, ++i) {
      PlacementDecision& decision = (*decisions)[i];
      if (!decision.placed()) {
        if (k == placed && !framework.blocked) {
          framework.blocked = true;
          framework.blocked_reason = decision.reason;
          blocked_.push_back(f);
        }
        continue;
      }
      const uint32_t agent = FindId(agent_by_id_, decision.agent.value());
      if (agent == kNoIndex) return absl::InternalError("placed on an unknown agent");
      StartTask(request_tasks[i], agent, std::move(decision.resources));
      ++placed;
    }
    framework.pending.erase(framework.pending.begin(),
                            framework.pending.begin() + static_cast<std::ptrdiff_t>(placed));
    if (placed == take && !framework.pending.empty()) *again = true;
  }
  return absl::OkStatus();
}

absl::Status Simulation::AllocationCycle() {
  bool expired = false;
  while (!filter_expiries_.empty() && filter_expiries_.top() <= now_) {
    if (filter_expiries_.top() == last_filter_expiry_) last_filter_expiry_queued_ = false;
    filter_expiries_.pop();
    expired = true;
  }
  bool wanting = false;
  for (const SimFramework& framework : frameworks_) wanting = wanting || !framework.pending.empty();
  if (!wanting) return absl::OkStatus();
  if (changed_ || expired) {
    changed_ = false;
    // Offers of frameworks without think time are answered inside the cycle (Screen); the
    // kept ones come back with their plans, in order. When the engine shows nothing (quota
    // somewhere), every offer is answered here.
    plans_.clear();
    plan_tasks_.clear();
    absl::StatusOr<std::vector<Offer>> offers = engine_.AllocateScreened(now_, this);
    if (!offers.ok()) return absl::InternalError(offers.status().message());
    const bool screened = !plans_.empty();
    if (screened && plans_.size() != offers->size()) {
      return absl::InternalError(absl::StrCat("allocation cycle at ", now_, ": ", offers->size(),
                                              " offers kept but ", plans_.size(), " answered"));
    }
    for (size_t i = 0; i < offers->size(); ++i) {
      Offer& offer = (*offers)[i];
      PendingOffer pending;
      pending.framework = FindId(framework_by_id_, offer.framework.value());
      pending.agent = FindId(agent_by_id_, offer.agent.value());
      if (pending.framework == kNoIndex || pending.agent == kNoIndex) {
        return absl::InternalError("offer to an unknown framework or on an unknown agent");
      }
      pending.offer = std::move(offer);
      pending.live = true;
      if (screened && plans_[i].answered) {
        if (absl::Status s = ApplyPlan(pending, i); !s.ok()) return s;
        continue;
      }
      ++results_.offers;
      const double decision = frameworks_[pending.framework].behaviour.decision_seconds;
      if (decision == 0) {
        if (absl::Status s = Answer(pending); !s.ok()) return s;
        continue;
      }
      uint32_t slot;
      if (!free_offer_slots_.empty()) {
        slot = free_offer_slots_.back();
        free_offer_slots_.pop_back();
        offers_[slot] = std::move(pending);
      } else {
        slot = static_cast<uint32_t>(offers_.size());
        offers_.push_back(std::move(pending));
      }
      Push(now_ + decision, Kind::kOfferResponse, slot);
    }
  }
  // Keep cycling while some framework waits, unless the run has gone quiet: no work left to
  // arrive or finish, no offer out, and no task started for longer than any filter lasts.
  const double quiet = max_refuse_ + 2 * config_.allocation_interval;
  if (work_events_ > 0 || now_ - last_launch_ <= quiet) RequestSchedule();
  return absl::OkStatus();
}

absl::Status Simulation::OfferResponse(uint32_t slot) {
  PendingOffer& pending = offers_[slot];
  absl::Status status = absl::OkStatus();
  if (pending.live) status = Answer(pending);
  pending.live = false;
  free_offer_slots_.push_back(slot);
  return status;
}

// True if `offer` holds every scalar of `demand` (unreserved scalars), summed over its
// reservations: exactly when Answer's taking below succeeds.
bool Covers(const Resources& offer, const Resources& demand) {
  for (const Resource& want : demand.entries()) {
    int64_t total = 0;
    for (const Resource& have : offer.entries()) {
      if (have.kind == ResourceKind::kScalar && have.name == want.name) total += have.scalar;
    }
    if (total < want.scalar) return false;
  }
  return true;
}

absl::StatusOr<bool> Simulation::Take(Resources& left, const Resources& demand, Resources* held) {
  // Most offers cannot take the head (or there is none): decide that from the totals, before
  // copying any entry.
  if (!Covers(left, demand)) return false;
  // Take each demanded scalar from the offer's pools, reserved pools first.
  std::vector<Resource> taken;
  for (const Resource& want : demand.entries()) {
    int64_t need = want.scalar;
    for (int pass = 0; pass < 2 && need > 0; ++pass) {
      for (const Resource& have : left.entries()) {
        if (have.name != want.name || have.kind != ResourceKind::kScalar) continue;
        if ((pass == 0) == have.reservation.empty()) continue;  // reserved first
        const int64_t take = std::min(need, have.scalar);
        if (take <= 0) continue;
        Resource piece = have;
        piece.scalar = take;
        taken.push_back(std::move(piece));
        need -= take;
        if (need == 0) break;
      }
    }
    if (need > 0) return false;
  }
  absl::StatusOr<Resources> bag = Resources::FromEntries(std::move(taken));
  if (!bag.ok()) return absl::InternalError(bag.status().message());
  if (absl::Status s = left.Subtract(*bag); !s.ok()) return absl::InternalError(s.message());
  *held = *std::move(bag);
  return true;
}

void Simulation::QueueFilterExpiry(double expiry) {
  if (std::isfinite(expiry) && !(last_filter_expiry_queued_ && expiry == last_filter_expiry_)) {
    filter_expiries_.push(expiry);
    last_filter_expiry_ = expiry;
    last_filter_expiry_queued_ = true;
  }
}

absl::Status Simulation::DeclineLeft(SimFramework& framework, const PendingOffer& pending,
                                     const Resources& left) {
  if (absl::Status s = engine_.Decline(framework.id, pending.offer.agent, pending.offer.role, left,
                                       framework.behaviour.refuse_seconds, now_);
      !s.ok()) {
    return absl::InternalError(absl::StrCat("decline: ", s.message()));
  }
  changed_ = true;
  QueueFilterExpiry(now_ + framework.behaviour.refuse_seconds);
  return absl::OkStatus();
}

// The framework model's answer: launch queued tasks in FIFO order while the head fits in what
// is left of the offer (at most tasks_per_offer), decline the rest with its filter, and
// suppress when nothing is left to run.
absl::Status Simulation::Answer(PendingOffer& pending) {
  pending.live = false;
  SimFramework& framework = frameworks_[pending.framework];
  Resources left = std::move(pending.offer.resources);
  int launched = 0;
  const int cap = framework.behaviour.tasks_per_offer;
  while (!framework.pending.empty() && (cap == 0 || launched < cap)) {
    const uint32_t task_id = framework.pending.front();
    Resources held;
    absl::StatusOr<bool> taken = Take(left, demand_resources_[tasks_[task_id].demand], &held);
    if (!taken.ok()) return taken.status();
    if (!*taken) break;
    framework.pending.pop_front();
    StartTask(task_id, pending.agent, std::move(held));
    ++launched;
  }
  if (launched == 0) ++results_.offers_declined;
  if (!left.empty()) {
    if (absl::Status s = DeclineLeft(framework, pending, left); !s.ok()) return s;
  }
  if (framework.pending.empty() && !framework.suppressed) {
    if (absl::Status s = engine_.Suppress(framework.id, framework.role_id); !s.ok()) return s;
    framework.suppressed = true;
  }
  return absl::OkStatus();
}

void Simulation::RefreshEngineColumns() {
  if (engine_scalars_seen_ == engine_.ScalarCount() && engine_column_.size() == columns_.size()) {
    return;
  }
  engine_scalars_seen_ = engine_.ScalarCount();
  engine_column_.assign(columns_.size(), kNoColumn);
  for (size_t i = 0; i < engine_scalars_seen_; ++i) {
    const auto it = column_index_.find(engine_.ScalarName(i));
    if (it != column_index_.end()) engine_column_[it->second] = i;
  }
}

// Answer(), given inside the cycle on the offer's scalar totals, which decide it exactly:
// Answer launches the head while the totals cover it, and taking a covered demand always
// succeeds. The tasks are chosen (and leave the queue) here, in the order Answer would see
// the offers; they start when the kept offer comes back (ApplyPlan). A whole decline is left
// to the engine, which also suppresses a framework whose queue is empty once the cycle ends
// (its Suppress in Answer).
allocator::OfferScreen::Verdict Simulation::Screen(const Shown& offer) {
  Verdict verdict;
  Plan plan;
  plan.begin = plan.end = static_cast<uint32_t>(plan_tasks_.size());
  const uint32_t index = FindId(framework_by_id_, offer.framework.value());
  if (index == kNoIndex || frameworks_[index].behaviour.decision_seconds != 0) {
    plans_.push_back(plan);  // answered after its think time (an unknown one: by the check)
    return verdict;
  }
  SimFramework& framework = frameworks_[index];
  plan.answered = true;
  ++results_.offers;
  RefreshEngineColumns();
  screen_left_.assign(offer.scalars.begin(), offer.scalars.end());
  int launched = 0;
  const int cap = framework.behaviour.tasks_per_offer;
  while (!framework.pending.empty() && (cap == 0 || launched < cap)) {
    const uint32_t task_id = framework.pending.front();
    const std::vector<int64_t>& demand = results_.demands[tasks_[task_id].demand];
    bool covered = true;
    for (size_t c = 0; c < demand.size() && covered; ++c) {
      if (demand[c] == 0) continue;
      const size_t i = engine_column_[c];
      covered = i != kNoColumn && i < screen_left_.size() && screen_left_[i] >= demand[c];
    }
    if (!covered) break;
    for (size_t c = 0; c < demand.size(); ++c) {
      if (demand[c] != 0) screen_left_[engine_column_[c]] -= demand[c];
    }
    plan_tasks_.push_back(task_id);
    framework.pending.pop_front();
    ++launched;
  }
  plan.end = static_cast<uint32_t>(plan_tasks_.size());
  verdict.refuse_seconds = framework.behaviour.refuse_seconds;
  if (launched == 0) ++results_.offers_declined;
  if (framework.pending.empty() && !framework.suppressed) {
    framework.suppressed = true;
    verdict.drained = true;
  }
  if (launched == 0 && offer.declinable) {
    verdict.decline = true;
    changed_ = true;
    QueueFilterExpiry(now_ + verdict.refuse_seconds);
    return verdict;
  }
  plans_.push_back(plan);
  return verdict;
}

void Simulation::DeclinedUnshown(int64_t count, double refuse_seconds) {
  results_.offers += count;
  results_.offers_declined += count;
  changed_ = true;
  QueueFilterExpiry(now_ + refuse_seconds);
}

absl::Status Simulation::ApplyPlan(PendingOffer& pending, size_t plan) {
  pending.live = false;
  SimFramework& framework = frameworks_[pending.framework];
  Resources left = std::move(pending.offer.resources);
  for (uint32_t k = plans_[plan].begin; k < plans_[plan].end; ++k) {
    const uint32_t task_id = plan_tasks_[k];
    Resources held;
    absl::StatusOr<bool> taken = Take(left, demand_resources_[tasks_[task_id].demand], &held);
    if (!taken.ok()) return taken.status();
    if (!*taken) {
      return absl::InternalError(
          absl::StrCat("task ", task_id, " was chosen for an offer it does not fit"));
    }
    StartTask(task_id, pending.agent, std::move(held));
  }
  if (!left.empty()) return DeclineLeft(framework, pending, left);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Timeline

double Simulation::DominantShare(const std::vector<int64_t>& allocated) const {
  double best = 0;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (cluster_total_[c] > 0) {
      best = std::max(best,
                      static_cast<double>(allocated[c]) / static_cast<double>(cluster_total_[c]));
    }
  }
  return best;
}

void Simulation::Sample() {
  double sum = 0;
  double sum_squares = 0;
  int active = 0;
  for (uint32_t f = 0; f < frameworks_.size(); ++f) {
    const SimFramework& framework = frameworks_[f];
    if (framework.running == 0 && framework.pending.empty()) continue;
    TimelineRow row;
    row.time = now_;
    row.framework = f;
    row.dominant_share = DominantShare(framework.allocated);
    row.allocated = framework.allocated;
    const double weighted = row.dominant_share / framework.weight;
    sum += weighted;
    sum_squares += weighted * weighted;
    ++active;
    results_.timeline.push_back(std::move(row));
  }
  if (active > 0 && sum_squares > 0) {
    results_.jain_sum += sum * sum / (active * sum_squares);
    ++results_.jain_samples;
  }
  TimelineRow cluster;
  cluster.time = now_;
  cluster.dominant_share = DominantShare(cluster_used_);
  cluster.allocated = cluster_used_;
  cluster.total = cluster_total_;
  results_.timeline.push_back(std::move(cluster));
  // Keep sampling while anything can still change.
  if (work_events_ > 0 || schedule_queued_) Push(now_ + config_.sample_interval, Kind::kSample);
}

// ---------------------------------------------------------------------------------------
// Run

absl::Status Simulation::CheckInvariants() const {
  for (size_t a = 0; a < agents_.size(); ++a) {
    const SimAgent& agent = agents_[a];
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (agent.used[c] > agent.total[c] || agent.used[c] < 0) {
        return absl::InternalError(absl::StrCat("agent ", agent.config.name, " over-committed on ",
                                                columns_[c], " at ", now_));
      }
    }
    if (!agent.live && !agent.running.empty()) {
      return absl::InternalError(absl::StrCat("removed agent ", agent.config.name, " runs tasks"));
    }
  }
  int64_t running = 0;
  int64_t pending = 0;
  for (const SimTask& task : tasks_) {
    running += task.state == TaskState::kRunning;
    pending += task.state == TaskState::kPending;
  }
  int64_t queued = 0;
  for (const SimFramework& framework : frameworks_)
    queued += static_cast<int64_t>(framework.pending.size());
  if (running != running_ || pending != pending_ || queued != pending_) {
    return absl::InternalError(absl::StrCat("task accounting broke at ", now_, ": running ",
                                            running, "/", running_, ", pending ", pending, "/",
                                            pending_, ", queued ", queued));
  }
  return absl::OkStatus();
}

void Simulation::ReportProgress(bool done) {
  if (!hooks_.progress) return;
  Progress progress;
  progress.sim_time = now_;
  progress.end_estimate = config_.duration;
  progress.events = results_.events;
  progress.tasks_submitted = submitted_;
  progress.tasks_finished = finished_;
  progress.tasks_known = known_tasks_ > 0 ? known_tasks_ : 0;
  progress.done = done;
  hooks_.progress(progress);
}

absl::Status Simulation::Finish() {
  Advance(now_);
  results_.end_time = now_;
  // The last sample shows the end state.
  if (results_.timeline.empty() || results_.timeline.back().time != now_) {
    work_events_ = 0;
    schedule_queued_ = false;
    Sample();
  }
  results_.tasks.reserve(tasks_.size());
  for (const SimTask& task : tasks_) results_.tasks.push_back(static_cast<const TaskRow&>(task));
  for (const SimFramework& framework : frameworks_) {
    FrameworkRow row;
    row.name = framework.name;
    row.role = framework.role;
    row.weight = framework.weight;
    row.submitted = framework.submitted;
    row.started = framework.started;
    row.finished = framework.finished;
    row.running_at_end = framework.running;
    row.pending_at_end = static_cast<int64_t>(framework.pending.size());
    row.failed = framework.failed;
    row.allocated_at_end = framework.allocated;
    row.dominant_share_at_end = DominantShare(framework.allocated);
    row.wait_sum = framework.wait_sum;
    results_.frameworks.push_back(std::move(row));
  }
  for (const std::unique_ptr<WorkloadFeed>& feed : feeds_) {
    results_.trace_reports.push_back(feed->Report());
    for (const auto& [reason, count] : feed->stats().skipped)
      results_.trace_skipped[reason] += count;
  }
  return CheckInvariants();
}

absl::StatusOr<Results> Simulation::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  if (absl::Status s = SetUp(); !s.ok()) return s;
  const double stop = config_.duration > 0 ? config_.duration : kNever;
  while (!queue_.empty()) {
    const Event event = queue_.top();
    if (event.time > stop) break;
    // Only samples left: nothing can change any more, the run is over.
    if (config_.duration == 0 && work_events_ == 0 && !schedule_queued_) break;
    queue_.pop();
    if (IsWork(event.kind)) --work_events_;
    Advance(event.time);
    now_ = event.time;
    if (absl::Status s = Handle(event); !s.ok()) return s;
    ++results_.events;
    if (hooks_.check_invariants_every_event) {
      if (absl::Status s = CheckInvariants(); !s.ok()) return s;
    }
    if (results_.events % kProgressEvery == 0) ReportProgress(false);
  }
  if (config_.duration > 0) now_ = config_.duration;
  if (absl::Status s = Finish(); !s.ok()) return s;
  results_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  ReportProgress(true);
  return std::move(results_);
}

}  // namespace

absl::StatusOr<Results> Simulate(const SimConfig& config, const RunHooks& hooks) {
  Simulation simulation(config, hooks);
  return simulation.Run();
}

}  // namespace steward::sim
