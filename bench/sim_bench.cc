// Simulator benchmarks: whole steward-sim runs (sim/simulator.h), timed from the call to
// Simulate() to its return. One iteration is one complete simulation; building the
// configuration and freeing the results are outside the timed region (manual time).
//
// BM_Sim_Openb/offer:{0,1}
//   The shared openb trace (Alibaba GPU cluster, ATC'23): openb_pod_list_default.csv (8,152
//   pods) on openb_node_list_all_node.csv (1,523 nodes), cluster_from_trace, one framework per
//   qos class, in DIRECT mode (offer:0) and OFFER mode (offer:1), DRF, first fit, Mesos's
//   default 1 s allocation interval and 5 s decline filter. Target: under 1 s.
//
// BM_Sim_Synthetic/machines:M/tasks:N/offer:{0,1}
//   The built-in synthetic Google-like workload (traces/synthetic.h): M identical machines of
//   cpus:32;mem:131072 (a Google 2011 cell's normalised big machine at 32 cores and 128 GB),
//   N tasks arriving over one day (span 86,400 s, diurnal), run times capped at one day
//   (max_duration_seconds 86,400: the last task ends at most one day after the last arrival,
//   so the simulated span is one to two days), the generator's other defaults (10 Zipf users,
//   lognormal body with 300 s median and a 5% Pareto tail from 1 h, four demand classes),
//   seed 1, one framework per user.
//   - machines:12500/tasks:1000000 is the Google-scale day (a 2011 cell: about 12.5k machines
//     and on the order of a million tasks a day). Targets: under 60 s in DIRECT mode, under
//     120 s in OFFER mode, under 2 GB peak memory.
//   - machines:1250/tasks:100000 is the same day at a tenth of the scale (same load per
//     machine), to measure quickly and extrapolate.
//
// Anchors (other simulators, other machines, other models; context, not a like-for-like
// comparison): Google's Omega simulator took about 5 minutes for 24 hours of a cell in its
// lightweight mode (Schwarzkopf et al., EuroSys 2013); CloudSim Plus took 6.4 minutes for 50k
// hosts and 100k cloudlets.
//
// Counters (per run): events (simulator events handled), events_per_second (events / wall),
// simulated_seconds (the simulated end time), tasks (tasks submitted), offers (OFFER mode:
// offers made), placement_rounds (DIRECT mode), peak_rss_mb and baseline_rss_mb
// (bench/process_memory.h: the process's peak resident memory during the benchmark, and what
// it held before the benchmark started), peak_rss_reset (1 when the high-water mark could be
// reset before the benchmark; 0 means peak_rss_mb is the process's peak so far, so run that
// benchmark alone with --benchmark_filter).
//
// The trace files are read from STEWARD_SHARED_TRACES (environment variable), else from the
// folder compiled in (../shared/traces beside the repository).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/process_memory.h"
#include "benchmark/benchmark.h"
#include "sim/config.h"
#include "sim/results.h"
#include "sim/simulator.h"
#include "traces/synthetic.h"
#include "traces/workload.h"

namespace steward::sim {
namespace {

using Clock = std::chrono::steady_clock;

std::string SharedTraces() {
  const char* env = std::getenv("STEWARD_SHARED_TRACES");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(STEWARD_SHARED_TRACES);
}

Mode ModeArg(int64_t offer) { return offer != 0 ? Mode::kOffer : Mode::kDirect; }

SimConfig OpenbConfig(Mode mode) {
  const std::string dir = SharedTraces() + "/openb/";
  TraceConfig trace;
  trace.format = "openb";
  trace.paths = {dir + "openb_pod_list_default.csv", dir + "openb_node_list_all_node.csv"};
  trace.framework_by = traces::GroupKey::kQos;
  trace.cluster_from_trace = true;
  trace.where = "steward-sim-bench openb";
  SimConfig config;
  config.name = "bench-openb";
  config.traces.push_back(std::move(trace));
  config.mode = mode;
  config.seed = 1;
  return config;
}

SimConfig SyntheticDayConfig(int64_t machines, int64_t tasks, Mode mode) {
  TraceConfig trace;
  trace.format = "synthetic";
  trace.framework_by = traces::GroupKey::kUser;
  trace.synthetic.machines = machines;
  trace.synthetic.tasks = tasks;
  trace.synthetic.span_seconds = 86'400;
  trace.synthetic.machine_shape = {.cpus = 32, .mem = 131'072, .disk = 0, .gpus = 0};
  trace.synthetic.max_duration_seconds = 86'400;
  trace.synthetic.seed = 1;
  trace.synthetic_seed_set = true;
  trace.where = "steward-sim-bench synthetic";
  SimConfig config;
  config.name = absl::StrCat("bench-synthetic-", machines, "x", tasks);
  config.traces.push_back(std::move(trace));
  config.mode = mode;
  config.seed = 1;
  return config;
}

// Runs `config` once per iteration and reports the counters described at the top.
void RunSimulation(benchmark::State& state, const SimConfig& config) {
  const bool reset = bench::ResetPeakRss();
  const double baseline_mb = bench::BaselineRssMb();
  double wall = 0;
  int64_t events = 0;
  double simulated = 0;
  int64_t tasks = 0;
  int64_t offers = 0;
  int64_t rounds = 0;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<Results> results = Simulate(config);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!results.ok()) {
      state.SkipWithError(results.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(seconds);
    wall += seconds;
    events += results->events;
    simulated += results->end_time;
    tasks += static_cast<int64_t>(results->tasks.size());
    offers += results->offers;
    rounds += results->placement_rounds;
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["events"] = static_cast<double>(events) / runs;
  state.counters["events_per_second"] = static_cast<double>(events) / wall;
  state.counters["simulated_seconds"] = simulated / runs;
  state.counters["tasks"] = static_cast<double>(tasks) / runs;
  if (config.mode == Mode::kOffer) {
    state.counters["offers"] = static_cast<double>(offers) / runs;
  } else {
    state.counters["placement_rounds"] = static_cast<double>(rounds) / runs;
  }
  state.counters["peak_rss_mb"] = bench::PeakRssMb();
  state.counters["baseline_rss_mb"] = baseline_mb;
  state.counters["peak_rss_reset"] = reset ? 1 : 0;
}

void BM_Sim_Openb(benchmark::State& state) {
  RunSimulation(state, OpenbConfig(ModeArg(state.range(0))));
}

void BM_Sim_Synthetic(benchmark::State& state) {
  RunSimulation(state, SyntheticDayConfig(state.range(0), state.range(1), ModeArg(state.range(2))));
}

// Iteration counts are fixed: one simulation per iteration, a single one where a run takes
// seconds or more, so that a full run of the suite has a known length.
BENCHMARK(BM_Sim_Openb)
    ->ArgName("offer")
    ->Arg(0)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sim_Openb)
    ->ArgName("offer")
    ->Arg(1)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sim_Synthetic)
    ->ArgNames({"machines", "tasks", "offer"})
    ->Args({1'250, 100'000, 0})
    ->Args({1'250, 100'000, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sim_Synthetic)
    ->ArgNames({"machines", "tasks", "offer"})
    ->Args({12'500, 1'000'000, 0})
    ->Args({12'500, 1'000'000, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace steward::sim

BENCHMARK_MAIN();
