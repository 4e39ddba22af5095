// What a simulation run produces, and writing it out as the files of the simulator contract
// (../shared/DESIGN.md): summary.json, tasks.csv, agents.csv, timeline.csv.
#ifndef STEWARD_SIM_RESULTS_H_
#define STEWARD_SIM_RESULTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace steward::sim {

enum class TaskState : uint8_t { kPending, kRunning, kFinished, kFailed };
std::string_view TaskStateName(TaskState state);

inline constexpr uint32_t kNoIndex = UINT32_MAX;

struct TaskRow {
  uint32_t framework = kNoIndex;
  uint32_t demand = kNoIndex;  // index into Results::demands
  uint32_t agent = kNoIndex;   // last agent it ran on
  TaskState state = TaskState::kPending;
  uint32_t losses = 0;  // times it was lost with its machine and queued again
  double submit = 0;
  double duration = 0;  // 0 = until the end
  double start = -1;    // start of its last run; -1 never started
  double end = -1;      // -1 not ended
};

struct AgentRow {
  std::string name;
  double added = 0;
  double removed = -1;         // -1: still present at the end
  std::vector<int64_t> total;  // milli-units, by resource column
};

struct FrameworkRow {
  std::string name;
  std::string role;
  double weight = 1;  // of its role
  int64_t submitted = 0;
  int64_t started = 0;  // tasks started at least once
  int64_t finished = 0;
  int64_t running_at_end = 0;
  int64_t pending_at_end = 0;
  int64_t failed = 0;
  double dominant_share_at_end = 0;
  std::vector<int64_t> allocated_at_end;  // milli-units, by resource column
  double wait_sum = 0;                    // over started tasks
};

// One timeline sample row: a framework (index) or the whole cluster (framework == kNoIndex).
struct TimelineRow {
  double time = 0;
  uint32_t framework = kNoIndex;
  double dominant_share = 0;       // framework: weighted by nothing; cluster: max utilisation
  std::vector<int64_t> allocated;  // milli-units, by resource column
  std::vector<int64_t> total;      // cluster total at that time (milli-units)
};

struct Progress {
  double sim_time = 0;
  double end_estimate = 0;  // 0 when unknown
  int64_t events = 0;
  int64_t tasks_submitted = 0;
  int64_t tasks_finished = 0;
  int64_t tasks_known = 0;  // tasks the run will submit, when known in advance (else 0)
  bool done = false;
};

struct Results {
  // Run description.
  std::string scenario;
  uint64_t seed = 0;
  std::string mode;
  std::string sorter;
  std::string placement;
  double end_time = 0;
  double wall_seconds = 0;
  int64_t events = 0;

  std::vector<std::string> resources;         // resource columns (cpus, mem, ...)
  std::vector<std::vector<int64_t>> demands;  // by demand index, milli by column
  std::vector<TaskRow> tasks;                 // by task id
  std::vector<AgentRow> agents;               // by agent index
  std::vector<FrameworkRow> frameworks;       // by framework index
  std::vector<TimelineRow> timeline;

  // Time integrals of allocated and total resources per column (milli-unit seconds), for
  // the mean utilisation.
  std::vector<double> allocated_integral;
  std::vector<double> total_integral;
  double jain_sum = 0;  // sum over samples of the Jain index of weighted dominant shares
  int64_t jain_samples = 0;

  int64_t offers = 0;           // OFFER mode: offers made
  int64_t offers_declined = 0;  // offers answered with nothing launched
  int64_t offers_rescinded = 0;
  int64_t placement_rounds = 0;  // DIRECT mode: Place() calls
  int64_t tasks_lost = 0;        // task runs lost with their machine
  int64_t trace_tasks_late = 0;  // trace tasks submitted after their time (trace disorder)
  // Per trace source: reader statistics, "format: N lines, M tasks, K skipped (reason: n, ...)".
  std::vector<std::string> trace_reports;
  std::map<std::string, int64_t> trace_skipped;  // reason -> count, over all sources
};

// Wait / JCT / bounded slowdown statistics of the finished (or started) tasks.
struct Percentiles {
  int64_t count = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

struct Summary {
  int64_t submitted = 0;
  int64_t started = 0;
  int64_t finished = 0;
  int64_t running_at_end = 0;
  int64_t pending_at_end = 0;
  int64_t failed = 0;
  std::vector<double> mean_utilisation;  // by resource column; -1 where the cluster has none
  Percentiles wait;                      // started tasks: start - submit
  Percentiles jct;                       // finished tasks: end - submit
  Percentiles slowdown;                  // finished: max(1, (end - submit) / max(run, 10 s))
  double mean_jain = 0;
};

inline constexpr double kSlowdownTau = 10;  // seconds, bounded slowdown threshold

Summary Summarize(const Results& results);

// Writes summary.json, tasks.csv, agents.csv and timeline.csv into `dir` (created if missing).
absl::Status WriteOutputs(const Results& results, const std::string& dir);

// The summary table printed on stdout.
std::string SummaryTable(const Results& results, const Summary& summary);

// Shortest decimal text that reads back as the same double (deterministic across runs).
std::string FormatDouble(double value);

}  // namespace steward::sim

#endif  // STEWARD_SIM_RESULTS_H_
