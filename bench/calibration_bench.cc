// Calibration kernel for the CI performance gate (scripts/perf-check, docs/perf-check.md).
//
// The gate divides every tracked benchmark figure by this kernel's time, measured on the same
// machine in the same run, so that the speed of the machine cancels out of the comparison with
// the committed baseline. The kernel therefore does the kind of work the allocator's cycles
// do, and nothing else:
//
//   - memory: a dependent pseudo-random walk over a 256 KiB array (one random cycle through
//     all of its 64Ki slots, built once, untimed, with Sattolo's algorithm from a fixed seed,
//     so the prefetcher cannot follow it). Every step is a load whose address depends on the
//     previous load and misses L1 but hits the core's L2, which is where most of the tracked
//     benchmarks' hot data lives: under heavy memory contention from other processes most of
//     them moved by under 5% in CPU time (the LargeAndSmallQuota 250/50 rows by up to 34%),
//     a 256 KiB walk by 7%, a 1 MiB walk by 49% and a 4 MiB walk (L3) by 270%
//     (docs/perf-check.md), so a larger array would mostly measure the neighbours.
//   - branches: at each step a data-dependent, unpredictable two-way branch (on a bit of a
//     hash of the slot) chooses between two arithmetic updates.
//   - integer arithmetic: a multiply-xorshift hash per step, as in hash-map probing.
//
// Everything is deterministic (fixed seed, fixed step count), so every run does exactly the
// same work. The timed region is the walk only, measured as CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID): time that other processes hold the core is not counted, which is
// what the allocator benchmarks measure too (bench/allocator_bench.cc).
#include <cstdint>
#include <utility>
#include <vector>

#include "bench/cpu_time.h"
#include "benchmark/benchmark.h"

namespace steward::bench {
namespace {

constexpr uint32_t kSlots = uint32_t{1} << 16;  // 64Ki x 4 bytes = 256 KiB
constexpr int64_t kSteps = int64_t{1} << 21;    // 32 laps of the cycle per iteration
constexpr uint64_t kSeed = 0x5DEECE66DULL;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// next[i] is the slot after i on one cycle through every slot (Sattolo's algorithm), so the
// walk visits all of them before it repeats and the hardware prefetcher cannot follow it.
std::vector<uint32_t> RandomCycle(uint32_t slots, uint64_t seed) {
  std::vector<uint32_t> order(slots);
  for (uint32_t i = 0; i < slots; ++i) order[i] = i;
  uint64_t state = seed;
  for (uint32_t i = slots - 1; i > 0; --i) {
    const auto j = static_cast<uint32_t>(SplitMix64(state) % i);  // j < i: one single cycle
    std::swap(order[i], order[j]);
  }
  std::vector<uint32_t> next(slots);
  for (uint32_t i = 0; i < slots; ++i) next[order[i]] = order[(i + 1) % slots];
  return next;
}

// The walk: `steps` dependent loads, each followed by a hash and an unpredictable branch.
uint64_t Walk(const std::vector<uint32_t>& next, int64_t steps) {
  uint32_t slot = 0;
  uint64_t acc = kSeed;
  for (int64_t k = 0; k < steps; ++k) {
    slot = next[slot];
    uint64_t h = (static_cast<uint64_t>(slot) + acc) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    if ((h >> 17) & 1) {
      acc += h ^ (acc << 7);
    } else {
      acc = (acc ^ h) * 0xFF51AFD7ED558CCDULL;
    }
  }
  return acc ^ slot;
}

void BM_Calibration(benchmark::State& state) {
  const std::vector<uint32_t> next = RandomCycle(kSlots, kSeed);
  uint64_t checksum = 0;
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    const uint64_t result = Walk(next, kSteps);
    state.SetIterationTime(ThreadCpuSeconds() - start);
    benchmark::DoNotOptimize(result);
    checksum = result;
  }
  // The same work in every iteration and every run: the walk's result is a constant, and a
  // reader can check that two runs (or two builds) did the same thing.
  state.counters["checksum_low32"] = static_cast<double>(checksum & 0xFFFFFFFFULL);
  state.counters["steps"] = static_cast<double>(kSteps);
  state.counters["array_kib"] = static_cast<double>(kSlots) * sizeof(uint32_t) / (1 << 10);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kSteps);
}

// A fixed iteration count: every repetition does the same work (8 x about 14 ms here).
BENCHMARK(BM_Calibration)->Iterations(8)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace steward::bench

BENCHMARK_MAIN();
