// Several parallel cycles on four shards, offers declined, recovered or kept in between,
// every cycle's invariants and accounting checked (tests/allocator/parallel_cluster.h). Built
// and run under TSan too (label concurrent, Makefile TSAN_TESTS).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gtest/gtest.h"
#include "oneapi/tbb/info.h"
#include "tests/allocator/parallel_cluster.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using parallel_cluster::Allocate;
using parallel_cluster::BuildCluster;
using parallel_cluster::Built;
using parallel_cluster::CheckAccounting;
using parallel_cluster::CheckOffers;
using parallel_cluster::ConsumptionByRole;
using parallel_cluster::FreeByAgent;
using parallel_cluster::ScriptOptions;

// Several cycles on four shards, offers declined or recovered in between, every cycle's
// invariants and accounting checked. Run under TSan (label concurrent).
TEST(EngineParallelStressTest, CyclesOnFourShards) {
  ScriptOptions script{.seed = 42, .agents = 400, .frameworks = 40};
  Engine engine({.allocation_shards = 4, .allocation_round_agents = 4});
  ReferenceAllocator reference;
  Built built;
  BuildCluster(engine, script, &built);
  Built unused;
  BuildCluster(reference, script, &unused);
  if (HasFatalFailure()) return;
  std::mt19937_64 rng(7);
  int64_t offers_made = 0;
  for (int cycle = 1; cycle <= 12; ++cycle) {
    const std::string context = absl::StrCat("cycle ", cycle);
    const auto free_before = FreeByAgent(engine, built);
    const auto consumption_before = ConsumptionByRole(engine, built);
    std::vector<Offer> offers = Allocate(engine, cycle);
    offers_made += static_cast<int64_t>(offers.size());
    CheckOffers(engine, built, free_before, consumption_before, offers, context);
    CheckAccounting(engine, reference, built, offers, context);
    if (HasFatalFailure()) return;
    // Filters made here are not in `built`: they last half a second, gone by the next cycle.
    // A decline replaces the framework's filter on the agent, so the script's is gone then.
    for (const Offer& offer : offers) {
      const RoleId role = offer.role;
      switch (rng() % 3) {
        case 0:
          ASSERT_TRUE(engine.Recover(offer.framework, offer.agent, role, offer.resources).ok());
          ASSERT_TRUE(reference.Recover(offer.framework, offer.agent, role, offer.resources).ok());
          break;
        case 1:
          ASSERT_TRUE(
              engine.Decline(offer.framework, offer.agent, role, offer.resources, 0.5, cycle).ok());
          ASSERT_TRUE(reference.Recover(offer.framework, offer.agent, role, offer.resources).ok());
          built.filters.erase({offer.framework.value(), offer.agent.value()});
          break;
        default:
          break;  // kept: in use
      }
    }
  }
  EXPECT_GT(offers_made, 400);
}

// Two shards racing to the same quota limits: sixteen limited roles, each crossing its limit
// part-way through the cycle in both shards at about the same time (the shards walk agents
// alike), and an agent is worth more than what is left under a limit when it is crossed. A
// commit that did not re-check the limit against the other shard's commits would take a role
// past it. Many cycles (everything recovered in between), so that the shards overlap at some
// crossings.
TEST(EngineParallelStressTest, ContendedLimitsAreNeverExceeded) {
  constexpr int kAgents = 4000;
  constexpr int kLimited = 16;
  constexpr int64_t kLimitCpus = 8 * (kAgents / (4 * kLimited)) + 3;
  Engine engine({.allocation_shards = 2, .allocation_round_agents = kAgents});
  for (int i = 0; i < kAgents; ++i) {
    ASSERT_TRUE(
        engine.AddAgent({absl::StrCat("agent", i), test_util::R("cpus:8;mem:8192"), {}}).ok());
  }
  Quota quota;
  quota.limit = test_util::Q(absl::StrCat("cpus:", kLimitCpus));
  std::vector<RoleId> limited;
  for (int k = 0; k < kLimited; ++k) {
    const std::string role = absl::StrCat("limited", k);
    ASSERT_TRUE(engine.AddFramework({absl::StrCat("f", k), {role}, false, {}}).ok());
    ASSERT_TRUE(engine.SetQuota(role, quota).ok());
    limited.push_back(*engine.FindRole(role));
  }
  ASSERT_TRUE(engine.AddFramework({"unlimited", {"free"}, false, {}}).ok());
  int at_limit = 0;
  for (int cycle = 1; cycle <= 60; ++cycle) {
    std::vector<Offer> offers = Allocate(engine, cycle);
    for (RoleId role : limited) {
      const int64_t cpus = engine.Consumption(role)->Get("cpus");
      ASSERT_LE(cpus, kLimitCpus * 1000) << "cycle " << cycle << " role " << role.value();
      at_limit += cpus == kLimitCpus * 1000 ? 1 : 0;
    }
    for (const Offer& offer : offers) {
      ASSERT_TRUE(engine.Recover(offer.framework, offer.agent, offer.role, offer.resources).ok());
    }
  }
  EXPECT_EQ(at_limit, 60 * kLimited);  // every limit reached, to the milli-cpu, every cycle
}

// Two shards, one agent each, forced to commit against the same counter: the commit hook
// holds each shard after it built its candidate until the other has built one too, so both
// candidates were computed from the same counter value and only one of them fits. The other
// commit must fail, be undone and be rebuilt from what is left. Returns each offer's cpus in
// milli-cpus and how many times the hook ran.
struct RaceOutcome {
  std::multiset<int64_t> cpus;  // one per offer
  int hook_calls = 0;
  bool met = false;  // both shards reached the hook before either committed
};

RaceOutcome RaceTwoCommits(Engine& engine) {
  std::mutex mu;
  std::condition_variable arrived_cv;
  std::set<uint32_t> arrived;
  RaceOutcome outcome;
  engine.SetParallelCommitHookForTesting([&](AgentId agent) {
    std::unique_lock<std::mutex> lock(mu);
    ++outcome.hook_calls;
    if (!arrived.insert(agent.value()).second) return;  // a retry: no meeting
    arrived_cv.notify_all();
    // Bounded: should the other shard never come (no second thread), fail, not hang.
    outcome.met =
        arrived_cv.wait_for(lock, std::chrono::seconds(20), [&] { return arrived.size() == 2; });
  });
  for (const Offer& offer : Allocate(engine, 1)) {
    outcome.cpus.insert(offer.resources.ScalarMilli("cpus"));
  }
  engine.SetParallelCommitHookForTesting(nullptr);
  return outcome;
}

void AddTwoAgents(Engine& engine) {
  for (const char* name : {"a0", "a1"}) {
    ASSERT_TRUE(engine.AddAgent({name, test_util::R("cpus:4;mem:4096"), {}}).ok());
  }
}

TEST(EngineParallelStressTest, RacingCommitsAgainstOneLimitKeepIt) {
  if (tbb::info::default_concurrency() < 2) GTEST_SKIP() << "needs two hardware threads";
  Engine engine({.allocation_shards = 2, .allocation_round_agents = 1});
  AddTwoAgents(engine);
  ASSERT_TRUE(engine.AddFramework({"f", {"q"}, false, {}}).ok());
  ASSERT_TRUE(engine.SetQuota("q", {.guarantee = {}, .limit = test_util::Q("cpus:6")}).ok());
  RaceOutcome outcome = RaceTwoCommits(engine);
  ASSERT_TRUE(outcome.met) << "the second shard never reached its commit";
  // Both built 4 cpus against a headroom of 6: one commit took 4, the other was refused and
  // rebuilt to the 2 left (three hook calls: two first commits and one retry).
  EXPECT_EQ(outcome.hook_calls, 3);
  ASSERT_EQ(outcome.cpus.size(), 2u);
  EXPECT_EQ(outcome.cpus, (std::multiset<int64_t>{2000, 4000}));
  EXPECT_EQ(engine.Consumption(*engine.FindRole("q"))->Get("cpus"), 6000);
}

TEST(EngineParallelStressTest, RacingCommitsAgainstHeldHeadroomKeepIt) {
  if (tbb::info::default_concurrency() < 2) GTEST_SKIP() << "needs two hardware threads";
  Engine engine({.allocation_shards = 2, .allocation_round_agents = 1});
  AddTwoAgents(engine);
  ASSERT_TRUE(engine.AddFramework({"f", {"r"}, false, {}}).ok());
  // A guarantee for a role without frameworks: 2 cpus of the 8 stay unoffered as headroom.
  ASSERT_TRUE(engine.SetQuota("g", {.guarantee = test_util::Q("cpus:2"), .limit = {}}).ok());
  RaceOutcome outcome = RaceTwoCommits(engine);
  ASSERT_TRUE(outcome.met) << "the second shard never reached its commit";
  EXPECT_EQ(outcome.hook_calls, 3);
  EXPECT_EQ(outcome.cpus, (std::multiset<int64_t>{2000, 4000}));
}

}  // namespace
}  // namespace steward::allocator
