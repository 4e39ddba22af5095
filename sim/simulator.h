// The discrete-event cluster simulator: a virtual clock, an event queue, and the allocator
// engine (steward::allocator) making every decision. docs/simulator.md describes the model.
//
// DIRECT mode: after the events of each instant, queued tasks are placed by the engine's
//   Place() (progressive filling in DRF order with the scenario's placement policy).
// OFFER mode: Mesos two-level scheduling. Every allocation interval the engine's Allocate()
//   makes offers; each framework model answers after its decision time by launching queued
//   tasks (FIFO, while the head task fits, up to tasks_per_offer) and declining the rest with
//   a refuse_seconds filter. A framework with nothing queued suppresses its role and revives
//   it when new work arrives.
//
// Machines can come and go (from traces); tasks on a removed machine are lost and queued
// again at the front of their framework's queue. Deterministic: the same configuration and
// seed give the same events in the same order.
#ifndef STEWARD_SIM_SIMULATOR_H_
#define STEWARD_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sim/config.h"
#include "sim/results.h"

namespace steward::sim {

struct RunHooks {
  // Called now and then (about every 2^16 events) and at the end, for progress display.
  std::function<void(const Progress&)> progress;
  // Tests: check the invariants (no agent over-committed, every task in exactly one state)
  // after every event; an InvalidArgument-free run proves they held throughout.
  bool check_invariants_every_event = false;
};

// Runs the simulation described by `config` to its end and returns the results. Errors: a
// trace that fails to open or read (strict mode), or an internal invariant violation
// (Internal).
absl::StatusOr<Results> Simulate(const SimConfig& config, const RunHooks& hooks = {});

}  // namespace steward::sim

#endif  // STEWARD_SIM_SIMULATOR_H_
