// steward-sim sweep: scenarios x parameter grid x seeds, run in parallel on oneTBB.
#ifndef STEWARD_SIM_SWEEP_H_
#define STEWARD_SIM_SWEEP_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::sim {

struct SweepRun {
  std::string name;      // folder name under the output folder
  std::string scenario;  // path
  std::vector<std::pair<std::string, std::string>> parameters;  // field -> value
  bool has_seed = false;
  uint64_t seed = 0;
};

// Reads a sweep file and expands it into runs. Errors are "file:line:col: message", for the
// sweep file and for each scenario it names (every run's parameters are applied and checked
// before anything runs).
absl::StatusOr<std::vector<SweepRun>> PlanSweep(const std::string& sweep_path);

struct SweepOptions {
  std::string out_dir;
  int jobs = 0;  // 0 = one per hardware thread
  // Called after each run finishes (from the worker thread; calls are serialised).
  std::function<void(const SweepRun&, const absl::Status&)> on_done;
};

// Runs every run (each into out_dir/<run name>/) and writes out_dir/sweep.csv, one row per
// run in plan order. A failed run is reported in sweep.csv (status column) and in the
// returned status, and the others still run.
absl::Status RunSweep(const std::vector<SweepRun>& runs, const SweepOptions& options);

}  // namespace steward::sim

#endif  // STEWARD_SIM_SWEEP_H_
