// CPU-time clocks for benchmarks on a shared machine: time other processes hold the core is not
// counted, so a figure is the code's own cost (bench/README.md).
#ifndef STEWARD_BENCH_CPU_TIME_H_
#define STEWARD_BENCH_CPU_TIME_H_

#include <time.h>

namespace steward::bench {

inline double ClockSeconds(clockid_t clock) {
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return 0;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// CPU time of the calling thread so far.
inline double ThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }

// CPU time of every thread of the process so far.
inline double ProcessCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace steward::bench

#endif  // STEWARD_BENCH_CPU_TIME_H_
