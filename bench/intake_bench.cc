// Concurrent intake benchmarks (allocator/concurrent.h): the lock-free event queue and the
// hazard-pointer snapshots, each against a lock-based baseline measured in the same run.
//
// BM_IntakeQueue_{LockFree,MutexDeque}/producers:P
//   P producer threads each submit kPerProducer allocator events (events::Suppress values)
//   while one consumer thread drains them in batches of up to 1024, as the loop does. Timed:
//   wall time from the start signal until the last producer has submitted its last event
//   (the producers' view; the consumer keeps draining concurrently and finishes untimed). One
//   queue serves all iterations, after an untimed warm-up round, as one queue serves the
//   driver's whole life.
//   LockFree is internal::MpscQueue (Vyukov's MPSC node queue); MutexDeque is a
//   std::deque<AllocatorEvent> behind a std::mutex, the consumer swapping out up to a batch
//   per lock. Counters: items_per_second (submits per second of wall time, all producers
//   together) and ns_per_submit (a producer's CPU time per submit, which preemption by other
//   processes does not inflate).
//
// BM_Driver_Submit/producers:P
//   The whole ConcurrentAllocator: P producers submit Suppress/Revive events for their own
//   framework while the loop thread runs RunCycle back to back on a 200-agent cluster.
//   Timed as above; loop_cycles_per_second says how fast the loop cycled meanwhile.
//
// BM_SnapshotAcquire_{Hazard,AtomicSharedPtr,MutexSharedPtr}/readers:R
//   R reader threads (the benchmark thread is measured, the others acquire back to back)
//   acquire the current snapshot, read a field and release it, while a loop thread runs
//   cycles on a 1,000 agent x 50 framework cluster
//   (every offer recovered, so every cycle offers and publishes). Hazard is
//   ConcurrentAllocator::Acquire; the baselines publish a shared_ptr copy of each snapshot
//   into a std::atomic<std::shared_ptr> (GCC 12: a lock bit in the pointer) or a
//   mutex-protected shared_ptr, and the reader copies the shared_ptr out. Counters: p50/p99/max
//   acquire latency in ns (each acquire timed with steady_clock, whose own cost is included)
//   and loop_cycles_per_second: how fast the loop ran meanwhile.
//
// Iteration times are wall time (real time): these are multi-threaded figures. On a loaded
// machine run with --benchmark_repetitions and compare medians.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "allocator/concurrent.h"
#include "allocator/engine.h"
#include "allocator/intake.h"
#include "allocator/internal/mpsc_queue.h"
#include "allocator/resources.h"
#include "bench/cpu_time.h"
#include "benchmark/benchmark.h"

namespace steward::allocator {
namespace {

constexpr int kPerProducer = 200000;
constexpr size_t kBatch = 1024;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of the calling thread: what a submit costs its producer, whether or not the
// machine's other work preempted it meanwhile.
using bench::ThreadCpuSeconds;

// The lock-free queue as the driver uses it.
class LockFreeIntake {
 public:
  void Push(AllocatorEvent event) { queue_.Push(std::move(event)); }
  size_t PopBatch(std::vector<AllocatorEvent>* batch) {
    batch->clear();
    AllocatorEvent event;
    while (batch->size() < kBatch && queue_.TryPop(&event)) batch->push_back(std::move(event));
    return batch->size();
  }

 private:
  internal::MpscQueue<AllocatorEvent> queue_;
};

// The obvious lock-based alternative: a deque behind a mutex.
class MutexDequeIntake {
 public:
  void Push(AllocatorEvent event) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(event));
  }
  size_t PopBatch(std::vector<AllocatorEvent>* batch) {
    batch->clear();
    std::lock_guard<std::mutex> lock(mutex_);
    while (batch->size() < kBatch && !queue_.empty()) {
      batch->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return batch->size();
  }

 private:
  std::mutex mutex_;
  std::deque<AllocatorEvent> queue_;
};

// Starts `producers` threads together, each running produce(p); returns the wall time until
// the last one finished and adds each producer's own CPU time to *producer_seconds.
template <typename Produce>
double RunProducers(int producers, Produce produce, double* producer_seconds) {
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
  std::vector<double> spent(producers, 0);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) {
      }
      const double start = ThreadCpuSeconds();
      produce(p);
      spent[p] = ThreadCpuSeconds() - start;
      done.fetch_add(1, std::memory_order_release);
    });
  }
  const auto start = Clock::now();
  go.store(true, std::memory_order_release);
  while (done.load(std::memory_order_acquire) < producers) std::this_thread::yield();
  const double seconds = Seconds(Clock::now() - start);
  for (std::thread& t : threads) t.join();
  for (double s : spent) *producer_seconds += s;
  return seconds;
}

// One round: `producers` threads each push kPerProducer events while a consumer drains.
// Returns the wall time until the last producer finished; adds each producer's own time to
// *producer_seconds.
template <typename Intake>
double IntakeRound(Intake& intake, int producers, double* producer_seconds, bool* lost) {
  std::atomic<int64_t> consumed{0};
  const int64_t total = int64_t{producers} * kPerProducer;
  std::thread consumer([&] {
    std::vector<AllocatorEvent> batch;
    batch.reserve(kBatch);
    int64_t got = 0;
    while (got < total) {
      const size_t n = intake.PopBatch(&batch);
      if (n == 0) std::this_thread::yield();
      got += static_cast<int64_t>(n);
    }
    consumed.store(got);
  });
  const double seconds = RunProducers(
      producers,
      [&](int p) {
        for (int i = 0; i < kPerProducer; ++i) {
          intake.Push(events::Suppress{FrameworkId(static_cast<uint32_t>(p)),
                                       RoleId(static_cast<uint32_t>(i & 7))});
        }
      },
      producer_seconds);
  consumer.join();
  if (consumed.load() != total) *lost = true;
  return seconds;
}

template <typename Intake>
void BM_IntakeQueue(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  // One long-lived queue, as in the driver; an untimed first round warms it up (the lock-free
  // queue's node pool grows to the backlog, the deque's allocator caches its blocks).
  Intake intake;
  double producer_seconds = 0;
  bool lost = false;
  IntakeRound(intake, producers, &producer_seconds, &lost);
  producer_seconds = 0;
  for (auto _ : state) {
    state.SetIterationTime(IntakeRound(intake, producers, &producer_seconds, &lost));
  }
  if (lost) state.SkipWithError("consumer lost events");
  const double submits = static_cast<double>(state.iterations()) * producers * kPerProducer;
  state.SetItemsProcessed(static_cast<int64_t>(submits));
  state.counters["ns_per_submit"] = producer_seconds * 1e9 / submits;
}

void BM_IntakeQueue_LockFree(benchmark::State& state) { BM_IntakeQueue<LockFreeIntake>(state); }
void BM_IntakeQueue_MutexDeque(benchmark::State& state) { BM_IntakeQueue<MutexDequeIntake>(state); }

// A driver with `agents` agents and `frameworks` frameworks (one role each, "r<i>"), set up
// through events on the calling thread.
std::unique_ptr<ConcurrentAllocator> MakeCluster(int agents, int frameworks,
                                                 std::vector<FrameworkId>* framework_ids,
                                                 std::vector<RoleId>* role_ids) {
  auto driver = std::make_unique<ConcurrentAllocator>(std::make_unique<Engine>());
  const Resources total = *Resources::Parse("cpus:32;mem:65536;disk:100000");
  for (int i = 0; i < agents; ++i) {
    driver->Submit(events::AddAgent{AgentInfo{"agent" + std::to_string(i), total, {}}});
  }
  for (int i = 0; i < frameworks; ++i) {
    FrameworkInfo info;
    info.name = "fw" + std::to_string(i);
    info.roles = {"r" + std::to_string(i % 10)};
    driver->Submit(events::AddFramework{info}, [framework_ids](const EventOutcome& outcome) {
      framework_ids->push_back(outcome.framework());
    });
  }
  driver->Drain(size_t(agents + frameworks));
  for (int i = 0; i < frameworks; ++i) {
    role_ids->push_back(*driver->allocator().FindRole("r" + std::to_string(i % 10)));
  }
  return driver;
}

// Runs cycles on `driver` until `stop`, recovering every offer so that the next cycle offers
// again; `after_cycle` runs after each cycle (publication to a baseline). Returns cycles run.
template <typename AfterCycle>
int64_t RunLoop(ConcurrentAllocator& driver, const std::atomic<bool>& stop,
                AfterCycle after_cycle) {
  int64_t cycles = 0;
  double now = 0;
  while (!stop.load(std::memory_order_acquire)) {
    absl::StatusOr<std::vector<Offer>> offers = driver.RunCycle(now);
    now += 1;
    ++cycles;
    if (!offers.ok()) continue;
    for (const Offer& offer : *offers) {
      driver.Submit(events::Recover{offer.framework, offer.agent, offer.role, offer.resources});
    }
    after_cycle();
  }
  return cycles;
}

// One round of BM_Driver_Submit: each producer toggles its framework's suppression
// kPerProducer times. Returns the wall time until the last producer finished.
double DriverRound(ConcurrentAllocator& driver, const std::vector<FrameworkId>& frameworks,
                   const std::vector<RoleId>& roles, double* producer_seconds) {
  const int producers = static_cast<int>(frameworks.size());
  return RunProducers(
      producers,
      [&](int p) {
        for (int i = 0; i < kPerProducer; ++i) {
          if (i & 1) {
            driver.Submit(events::Revive{frameworks[p], roles[p]});
          } else {
            driver.Submit(events::Suppress{frameworks[p], roles[p]});
          }
        }
      },
      producer_seconds);
}

void BM_Driver_Submit(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  std::vector<FrameworkId> frameworks;
  std::vector<RoleId> roles;
  auto driver = MakeCluster(200, producers, &frameworks, &roles);
  std::atomic<bool> stop{false};
  int64_t cycles = 0;
  const auto loop_start = Clock::now();
  std::thread loop([&] { cycles = RunLoop(*driver, stop, [] {}); });
  double producer_seconds = 0;
  DriverRound(*driver, frameworks, roles, &producer_seconds);  // warm-up, untimed
  producer_seconds = 0;
  for (auto _ : state) {
    state.SetIterationTime(DriverRound(*driver, frameworks, roles, &producer_seconds));
  }
  stop.store(true, std::memory_order_release);
  loop.join();
  const double loop_seconds = Seconds(Clock::now() - loop_start);
  const double submits = static_cast<double>(state.iterations()) * producers * kPerProducer;
  state.SetItemsProcessed(static_cast<int64_t>(submits));
  state.counters["ns_per_submit"] = producer_seconds * 1e9 / submits;
  state.counters["loop_cycles_per_second"] = static_cast<double>(cycles) / loop_seconds;
}

// ---- Snapshot acquisition ----

enum class ReaderKind { kHazard, kAtomicSharedPtr, kMutexSharedPtr };

template <ReaderKind kKind>
void BM_SnapshotAcquire(benchmark::State& state) {
  std::vector<FrameworkId> frameworks;
  std::vector<RoleId> roles;
  auto driver = MakeCluster(1000, 50, &frameworks, &roles);
  std::atomic<std::shared_ptr<const AllocatorSnapshot>> atomic_copy;
  std::mutex mutex;
  std::shared_ptr<const AllocatorSnapshot> locked_copy;
  auto publish_copy = [&] {
    if constexpr (kKind == ReaderKind::kAtomicSharedPtr) {
      atomic_copy.store(std::make_shared<const AllocatorSnapshot>(*driver->Acquire()));
    } else if constexpr (kKind == ReaderKind::kMutexSharedPtr) {
      auto copy = std::make_shared<const AllocatorSnapshot>(*driver->Acquire());
      std::lock_guard<std::mutex> lock(mutex);
      locked_copy = std::move(copy);
    }
  };
  publish_copy();
  std::atomic<bool> stop{false};
  int64_t cycles = 0;
  const auto loop_start = Clock::now();
  std::thread loop([&] { cycles = RunLoop(*driver, stop, publish_copy); });

  auto acquire_once = [&]() -> uint64_t {
    if constexpr (kKind == ReaderKind::kHazard) {
      auto snapshot = driver->Acquire();
      return snapshot->cycle;
    } else if constexpr (kKind == ReaderKind::kAtomicSharedPtr) {
      std::shared_ptr<const AllocatorSnapshot> snapshot = atomic_copy.load();
      return snapshot->cycle;
    } else {
      std::shared_ptr<const AllocatorSnapshot> snapshot;
      {
        std::lock_guard<std::mutex> lock(mutex);
        snapshot = locked_copy;
      }
      return snapshot->cycle;
    }
  };
  // Readers beyond the measured one acquire back to back until the end.
  std::atomic<bool> stop_readers{false};
  std::vector<std::thread> other_readers;
  std::atomic<uint64_t> other_sink{0};
  for (int r = 1; r < state.range(0); ++r) {
    other_readers.emplace_back([&] {
      uint64_t local = 0;
      while (!stop_readers.load(std::memory_order_acquire)) local += acquire_once();
      other_sink.fetch_add(local);
    });
  }

  std::vector<int64_t> latencies;
  latencies.reserve(1 << 20);
  uint64_t sink = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    sink += acquire_once();
    const auto end = Clock::now();
    if (latencies.size() < latencies.capacity()) {
      latencies.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    }
  }
  stop_readers.store(true, std::memory_order_release);
  for (std::thread& t : other_readers) t.join();
  stop.store(true, std::memory_order_release);
  loop.join();
  const double loop_seconds = Seconds(Clock::now() - loop_start);
  benchmark::DoNotOptimize(sink);
  benchmark::DoNotOptimize(other_sink.load());
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    state.counters["p50_ns"] = static_cast<double>(latencies[latencies.size() / 2]);
    state.counters["p99_ns"] = static_cast<double>(latencies[latencies.size() * 99 / 100]);
    state.counters["max_ns"] = static_cast<double>(latencies.back());
  }
  state.counters["loop_cycles_per_second"] = static_cast<double>(cycles) / loop_seconds;
}

void BM_SnapshotAcquire_Hazard(benchmark::State& state) {
  BM_SnapshotAcquire<ReaderKind::kHazard>(state);
}
void BM_SnapshotAcquire_AtomicSharedPtr(benchmark::State& state) {
  BM_SnapshotAcquire<ReaderKind::kAtomicSharedPtr>(state);
}
void BM_SnapshotAcquire_MutexSharedPtr(benchmark::State& state) {
  BM_SnapshotAcquire<ReaderKind::kMutexSharedPtr>(state);
}

BENCHMARK(BM_IntakeQueue_LockFree)
    ->ArgName("producers")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IntakeQueue_MutexDeque)
    ->ArgName("producers")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Driver_Submit)
    ->ArgName("producers")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotAcquire_Hazard)
    ->ArgName("readers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2000000)
    ->UseRealTime();
BENCHMARK(BM_SnapshotAcquire_AtomicSharedPtr)
    ->ArgName("readers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2000000)
    ->UseRealTime();
BENCHMARK(BM_SnapshotAcquire_MutexSharedPtr)
    ->ArgName("readers")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(2000000)
    ->UseRealTime();

}  // namespace
}  // namespace steward::allocator

BENCHMARK_MAIN();
