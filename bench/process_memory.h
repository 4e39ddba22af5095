// Peak resident memory of the benchmark process, from /proc/self/status (Linux).
//
// VmHWM is process-wide and only grows, so a benchmark that ran after a bigger one would see
// the bigger one's peak. ResetPeakRss() therefore returns freed heap to the kernel
// (malloc_trim) and resets the high-water mark to the current RSS by writing "5" to
// /proc/self/clear_refs (Linux 4.0+). A benchmark calls it before its timed work and reads
// PeakRssMb() after: the figure is the process's peak during that benchmark, including the
// process's baseline (code, libraries, what the allocator keeps), which BaselineRssMb() gives.
// Where the reset is not allowed, ResetPeakRss() returns false; run one benchmark per process
// (--benchmark_filter) to get a per-benchmark figure then.
#ifndef STEWARD_BENCH_PROCESS_MEMORY_H_
#define STEWARD_BENCH_PROCESS_MEMORY_H_

#include <malloc.h>

#include <fstream>
#include <string>

namespace steward::bench {

// A "Vm...:  1234 kB" field of /proc/self/status in MB (1 MB = 1024 kB); -1 if unreadable.
inline double ProcStatusMb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
    }
  }
  return -1;
}

inline double PeakRssMb() { return ProcStatusMb("VmHWM"); }
inline double BaselineRssMb() { return ProcStatusMb("VmRSS"); }

inline bool ResetPeakRss() {
  malloc_trim(0);
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

}  // namespace steward::bench

#endif  // STEWARD_BENCH_PROCESS_MEMORY_H_
