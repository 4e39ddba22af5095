// A synthetic Google-like workload, generated on the fly as a TraceReader.
//
// What it imitates (the published characterisation of Google's 2011 cluster trace: Reiss,
// Tumanov, Ganger, Katz and Kozuch, "Heterogeneity and dynamicity of clouds at scale: Google
// trace analysis", SoCC 2012), in shape rather than in fitted numbers:
//  - run times are heavy-tailed: most tasks are short and a few run for hours to days. A
//    task's run time is drawn from a lognormal body, or with probability tail_fraction from
//    a Pareto tail that starts at tail_min_seconds;
//  - requests are heterogeneous and CPU and memory are not proportional: each task belongs to
//    one of four classes (small, balanced, cpu-heavy, memory-heavy) drawn by weight, and its
//    demand is drawn within the class as a fraction of the machine shape;
//  - arrivals follow the time of day: a non-homogeneous Poisson process whose rate is a 24 h
//    sinusoid, sampled by thinning (Lewis and Shedler, 1979);
//  - a few users submit most of the work: each task's framework (user) is drawn from a Zipf
//    law over `frameworks` names.
//
// Determinism: the stream is a function of the options alone, bit for bit on every platform.
// The generator uses its own PRNG (xoshiro256**, seeded through splitmix64) and its own
// transforms (uniform, exponential, normal, lognormal, Pareto, Zipf) and elementary functions
// (log, exp, sin) built from IEEE-exact operations, never std:: distributions or libm, whose
// results differ between standard libraries.
#ifndef STEWARD_TRACES_SYNTHETIC_H_
#define STEWARD_TRACES_SYNTHETIC_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "traces/workload.h"

namespace steward::traces {

struct SyntheticOptions {
  int64_t machines = 100;   // identical machines "m-00".."m-99", all present at time 0
  int64_t tasks = 10000;    // tasks produced (0 = none)
  int64_t frameworks = 10;  // user names "user-0".."user-9"; user-0 is the most popular
  uint64_t seed = 1;
  // Arrivals: the rate is set so that `span_seconds` holds `tasks` arrivals on average. The
  // stream stops after `tasks` tasks, so the last arrival lands near span_seconds, give or
  // take the Poisson noise (about span_seconds / sqrt(tasks)).
  double span_seconds = 86400;
  ResourceVector machine_shape = {32, 128 * 1024, 0, 0};  // cores, MB, MB, devices

  // Class mix: relative weights (non-negative, not all zero).
  double small_weight = 0.4;          // up to 3% of the machine in cpu and memory
  double balanced_weight = 0.3;       // 3%-25% of the machine, memory close to cpu
  double cpu_heavy_weight = 0.15;     // 10%-50% of the cpus, 1%-8% of the memory
  double memory_heavy_weight = 0.15;  // 10%-50% of the memory, 1%-8% of the cpus
  // Fraction of tasks asking for one whole GPU (needs machine_shape.gpus >= 1).
  double gpu_fraction = 0;

  // Diurnal arrivals: rate(t) = mean * (1 + amplitude * sin(2 pi (t - peak) / 24 h)), with
  // t = 0 at midnight. amplitude in [0, 1]; 0 gives a homogeneous Poisson process.
  double diurnal_amplitude = 0.5;
  double diurnal_peak_hour = 14;  // [0, 24)

  // Run times (seconds): lognormal body with this median and shape (sigma of the log), and a
  // Pareto tail; every run time is clamped into [1, max_duration_seconds].
  double median_duration_seconds = 300;
  double duration_sigma = 1.0;
  double tail_fraction = 0.05;     // [0, 1]
  double tail_min_seconds = 3600;  // Pareto scale
  double tail_alpha = 1.5;         // Pareto shape; <= 1 has no finite mean
  double max_duration_seconds = 30 * 86400.0;

  // Skew of framework popularity: P(framework k) ~ 1 / (k + 1)^zipf_exponent; 0 = uniform.
  double zipf_exponent = 1.0;
};

// A reader whose machines() are the `machines` identical machines at time 0 and whose Next()
// generates the tasks in submit order, in constant memory (plus a table of `frameworks`
// probabilities). Each task: user = its framework, app = its class ("small", "balanced",
// "cpu-heavy", "memory-heavy"), trace_id = its index; demand never exceeds machine_shape.
// InvalidArgument naming the field for nonsensical options (negative counts, no machines,
// a non-positive span or machine cpus/memory, weights all zero, fractions outside [0, 1],
// non-positive duration parameters, gpu_fraction > 0 without GPUs, ...).
absl::StatusOr<std::unique_ptr<TraceReader>> MakeSyntheticWorkload(const SyntheticOptions& options);

}  // namespace steward::traces

#endif  // STEWARD_TRACES_SYNTHETIC_H_
