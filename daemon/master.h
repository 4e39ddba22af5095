// steward-master: the cluster's single point of decision. It admits agents, subscribes
// frameworks through the Mesos v1 scheduler HTTP API, turns allocator decisions into resource
// offers, launches accepted tasks on agents, and relays status updates reliably.
//
// Architecture: one HttpServer serves every API on the master's port. All master state lives
// in this object behind one mutex (`mu_`); HTTP handlers, the agents' and frameworks' stream
// callbacks and the allocation loop take it briefly (event streams are written through
// non-blocking Responder::Write). The allocator is a ConcurrentAllocator
// (allocator/concurrent.h) around an Engine: the master changes it only by submitting events
// to its lock-free queue, under mu_, so the queue's order is the order of the master's state
// changes. Calls that need the allocator's answer (a new agent's or framework's allocator id,
// an operator change's outcome) wait for it while holding mu_; see docs/concurrency.md ("The
// master") for why that cannot deadlock. The allocation loop thread runs the cycle (drain
// events, allocate, publish a snapshot) every `allocation_interval` without mu_, then takes
// mu_ to turn the cycle's offers into Mesos offers (stale ones go back to the allocator),
// send heartbeats, and enforce the agent ping timeout and frameworks' failover timeouts. It
// never blocks on mu_: while mu_ is taken it keeps applying queued events. State and metrics
// endpoints read allocator figures from the published snapshot, never from the engine.
// Durable state goes through a Registrar (standalone: a file in work_dir),
// written by a registry writer thread without the lock: changes made while one write is in
// flight share the next write (group commit), and what must be durable before it is
// confirmed (an agent's or a framework's SUBSCRIBED, an operator call's answer) waits for it.
// Tasks are not persisted: agents report them when they reregister.
//
// APIs (DESIGN.md, "Daemon contracts"; docs/operations.md):
//   POST /api/v1/scheduler      Mesos v1 scheduler API, JSON or protobuf
//   POST /api/v1                operator API subset
//   POST /api/v1/agent          Steward's agent protocol (proto/steward/agent.proto)
//   GET  /master/state, /master/state-summary, /metrics/snapshot, /metrics, /health,
//        /version, /master/redirect, /  (status page)
//
// Thread safety: Start() and Stop() from one owner thread; everything else is internal.
#ifndef STEWARD_DAEMON_MASTER_H_
#define STEWARD_DAEMON_MASTER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/registrar.h"

namespace steward::daemon {

struct MasterOptions {
  std::string ip = "127.0.0.1";
  uint16_t port = 5050;  // 0: any free port (tests), read back with Master::port()
  std::string hostname;  // advertised; default: ip
  std::string work_dir;
  std::chrono::nanoseconds allocation_interval = std::chrono::seconds(1);
  // Heartbeat events to frameworks and agents.
  std::chrono::nanoseconds heartbeat_interval = std::chrono::seconds(5);
  // An agent that sends nothing (heartbeat or call) for ping_timeout * max_ping_timeouts is
  // marked unreachable: its tasks are reported lost and its resources leave the cluster.
  std::chrono::nanoseconds agent_ping_timeout = std::chrono::seconds(15);
  int max_agent_ping_timeouts = 5;
  // Terminal tasks kept per framework for the state endpoints.
  int max_completed_tasks_per_framework = 1000;
  int http_threads = 4;
  // The allocator's parallel cycle (docs/allocator.md, "Parallel cycles"): stage two over this
  // many agent shards in lockstep rounds of allocation_round_agents agents; 1 (the default) is
  // the sequential cycle. Both must be at least 1.
  int allocation_shards = 1;
  int allocation_round_agents = 64;
  size_t max_body_bytes = 16 * 1024 * 1024;
  int max_json_depth = 64;
  // Tests only: called on the allocation loop thread, without the master's lock, with
  // kBeforeCycle just before a cycle and kAfterCycle (and the number of offers it made) after
  // it, before the master takes its lock to turn the offers into Mesos offers. A hook that
  // blocks holds up allocation only.
  enum class CycleStage { kBeforeCycle, kAfterCycle };
  std::function<void(CycleStage stage, size_t offers)> cycle_hook;
};

class Master {
 public:
  // Recovers the registry from `registrar` (DataLoss/Unavailable on failure), restores
  // quota, weights and the known agents and frameworks (which then wait to reconnect).
  static absl::StatusOr<std::unique_ptr<Master>> Create(MasterOptions options,
                                                        std::unique_ptr<Registrar> registrar);
  ~Master();
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;

  // Binds the port and starts serving and allocating. Unavailable if the port is taken.
  absl::Status Start();
  // Closes every stream and stops the threads. Idempotent.
  void Stop();

  uint16_t port() const;
  const std::string& id() const;

  class Impl;

 private:
  explicit Master(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace steward::daemon

#endif  // STEWARD_DAEMON_MASTER_H_
