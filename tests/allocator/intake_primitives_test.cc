// The two lock-free building blocks of the allocator's concurrent intake: the MPSC event queue
// and the hazard-pointer snapshot cell. Multi-threaded cases run under TSan (label
// concurrent).
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "allocator/internal/hazard_cell.h"
#include "allocator/internal/mpsc_queue.h"
#include "gtest/gtest.h"

namespace steward::allocator::internal {
namespace {

// Counts live instances, to check that nothing leaks and nothing is freed twice.
struct Counted {
  static std::atomic<int64_t> live;
  static std::atomic<int64_t> made;
  static std::atomic<int64_t> destroyed;

  explicit Counted(int64_t v = 0) : value(v), twice(2 * v) { Born(); }
  Counted(const Counted& other) : value(other.value), twice(other.twice) { Born(); }
  Counted(Counted&& other) noexcept : value(other.value), twice(other.twice) { Born(); }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  ~Counted() {
    live.fetch_sub(1, std::memory_order_relaxed);
    destroyed.fetch_add(1, std::memory_order_relaxed);
  }
  static void Born() {
    live.fetch_add(1, std::memory_order_relaxed);
    made.fetch_add(1, std::memory_order_relaxed);
  }
  static void Reset() {
    live = 0;
    made = 0;
    destroyed = 0;
  }

  int64_t value;
  int64_t twice;  // always 2 * value: a torn or freed read shows up as a mismatch
};
std::atomic<int64_t> Counted::live{0};
std::atomic<int64_t> Counted::made{0};
std::atomic<int64_t> Counted::destroyed{0};

TEST(MpscQueueTest, EmptyQueuePopsNothing) {
  MpscQueue<int> queue;
  int out = -1;
  EXPECT_FALSE(queue.TryPop(&out));
  EXPECT_EQ(out, -1);
}

TEST(MpscQueueTest, SingleProducerIsFifo) {
  MpscQueue<int> queue;
  for (int i = 0; i < 100; ++i) queue.Push(i);
  for (int i = 0; i < 100; ++i) {
    int out = -1;
    ASSERT_TRUE(queue.TryPop(&out));
    EXPECT_EQ(out, i);
  }
  int out = -1;
  EXPECT_FALSE(queue.TryPop(&out));
}

TEST(MpscQueueTest, InterleavedPushAndPopKeepOrderAcrossTheSentinel) {
  // Draining to empty re-inserts the sentinel; order must survive every such round.
  MpscQueue<int> queue;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k <= round % 4; ++k) queue.Push(next_in++);
    int out = -1;
    while (queue.TryPop(&out)) EXPECT_EQ(out, next_out++);
  }
  EXPECT_EQ(next_out, next_in);
}

TEST(MpscQueueTest, PoolGrowthAndHeapOverflowKeepOrderAndFreeEverything) {
  // max_chunks 0: every node from the heap; 1: one chunk, then the heap; 8: chunks only.
  constexpr int kCount = 3 * MpscQueue<Counted>::kChunkNodes + 5;
  for (uint32_t pool : {0u, 1u, 8u}) {
    Counted::Reset();
    {
      MpscQueue<Counted> queue(pool);
      for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < kCount; ++i) queue.Push(Counted(i));
        for (int i = 0; i < kCount; ++i) {
          Counted out;
          ASSERT_TRUE(queue.TryPop(&out)) << "pool " << pool;
          ASSERT_EQ(out.value, i) << "pool " << pool;
        }
      }
      for (int i = 0; i < 7; ++i) queue.Push(Counted(i));  // left in the queue
    }
    EXPECT_EQ(Counted::live.load(), 0) << "pool " << pool;
  }
}

TEST(MpscQueueTest, DestructorFreesUnpoppedValues) {
  Counted::Reset();
  {
    MpscQueue<Counted> queue;
    for (int i = 0; i < 10; ++i) queue.Push(Counted(i));
    Counted out;
    ASSERT_TRUE(queue.TryPop(&out));
    EXPECT_EQ(out.value, 0);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

class MpscQueueProducersTest : public ::testing::TestWithParam<uint32_t> {};

// Pool limits (chunks): ample; one chunk, so that producers also take the heap path.
INSTANTIATE_TEST_SUITE_P(PoolSizes, MpscQueueProducersTest, ::testing::Values(4096u, 1u));

TEST_P(MpscQueueProducersTest, ManyProducersDeliverEachValueOnceInProducerOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  MpscQueue<uint64_t> queue(GetParam());  // value = producer << 32 | index
  std::vector<std::thread> producers;
  std::atomic<bool> go{false};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (uint64_t i = 0; i < kPerProducer; ++i)
        queue.Push(uint64_t{static_cast<uint32_t>(p)} << 32 | i);
    });
  }
  go.store(true, std::memory_order_release);
  std::vector<uint64_t> next(kProducers, 0);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    uint64_t value = 0;
    if (!queue.TryPop(&value)) {
      std::this_thread::yield();
      continue;
    }
    const uint64_t producer = value >> 32;
    const uint64_t index = value & 0xffffffffu;
    ASSERT_LT(producer, uint64_t{kProducers});
    ASSERT_EQ(index, next[producer]) << "producer " << producer;
    ++next[producer];
    ++received;
  }
  for (std::thread& t : producers) t.join();
  uint64_t extra = 0;
  EXPECT_FALSE(queue.TryPop(&extra)) << "delivered more than was pushed";
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], uint64_t{kPerProducer});
}

TEST(HazardCellTest, EmptyCellGivesNull) {
  HazardCell<Counted> cell;
  auto guard = cell.Acquire();
  EXPECT_FALSE(guard);
}

TEST(HazardCellTest, HeldValueSurvivesReplacementAndIsFreedAfterRelease) {
  Counted::Reset();
  {
    HazardCell<Counted> cell(std::make_unique<const Counted>(1));
    auto held = cell.Acquire();
    ASSERT_TRUE(held);
    EXPECT_EQ(held->value, 1);

    EXPECT_EQ(cell.Publish(std::make_unique<const Counted>(2)), 0u);  // 1 is held
    EXPECT_EQ(cell.pending(), 1u);
    EXPECT_EQ(held->value, 1);  // still readable
    EXPECT_EQ(cell.Acquire()->value, 2);

    EXPECT_EQ(cell.Publish(std::make_unique<const Counted>(3)), 1u);  // 2 was not held
    EXPECT_EQ(cell.pending(), 1u);
    EXPECT_EQ(Counted::live.load(), 2);  // 1 (held) and 3 (current)

    held.reset();
    EXPECT_EQ(cell.Reclaim(), 1u);
    EXPECT_EQ(cell.pending(), 0u);
    EXPECT_EQ(Counted::live.load(), 1);
  }
  EXPECT_EQ(Counted::live.load(), 0);
  EXPECT_EQ(Counted::made.load(), Counted::destroyed.load());
}

TEST(HazardCellTest, MovedGuardKeepsItsHold) {
  Counted::Reset();
  {
    HazardCell<Counted> cell(std::make_unique<const Counted>(7));
    auto first = cell.Acquire();
    auto second = std::move(first);
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    cell.Publish(std::make_unique<const Counted>(8));
    EXPECT_EQ(cell.pending(), 1u);
    EXPECT_EQ(second->value, 7);
    second = cell.Acquire();  // releases 7
    EXPECT_EQ(second->value, 8);
    EXPECT_EQ(cell.Reclaim(), 1u);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(HazardCellTest, ConcurrentReadersNeverSeeFreedValuesAndEverythingIsReclaimed) {
  Counted::Reset();
  constexpr int kReaders = 3;
  constexpr int kReadsPerReader = 5000;
  constexpr int kPublications = 3000;
  int64_t freed = 0;
  {
    HazardCell<Counted> cell(std::make_unique<const Counted>(0));
    std::atomic<int> ready{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
      readers.emplace_back([&] {
        ready.fetch_add(1);
        int64_t last = 0;
        for (int i = 0; i < kReadsPerReader; ++i) {
          auto guard = cell.Acquire();
          ASSERT_TRUE(guard);
          ASSERT_EQ(guard->twice, 2 * guard->value);
          ASSERT_GE(guard->value, last);  // publications are monotonic
          last = guard->value;
        }
      });
    }
    // Publish while the readers read (they have all started; how much overlaps is up to the
    // scheduler, what is checked holds for any interleaving).
    while (ready.load() < kReaders) std::this_thread::yield();
    for (int i = 1; i <= kPublications; ++i) {
      freed += static_cast<int64_t>(cell.Publish(std::make_unique<const Counted>(i)));
      EXPECT_LE(cell.pending(), size_t{kReaders});  // at most one pinned per reader
    }
    for (std::thread& t : readers) t.join();
    freed += static_cast<int64_t>(cell.Reclaim());
    EXPECT_EQ(cell.pending(), 0u);
    EXPECT_EQ(freed, kPublications);     // every retired value, none twice
    EXPECT_EQ(Counted::live.load(), 1);  // the current one
  }
  EXPECT_EQ(Counted::live.load(), 0);
  EXPECT_EQ(Counted::made.load(), Counted::destroyed.load());
}

}  // namespace
}  // namespace steward::allocator::internal
