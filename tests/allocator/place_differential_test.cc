// Direct placement on clusters that span many of the engine's 64-agent blocks: the engine's
// Place (SIMD fit masks and scores over the plain agents, block bounds, reserved pools one by
// one) against the reference engine's plain scan, decision by decision, over random clusters:
// homogeneous ones (every score ties, so the lowest-id rule decides), ones of three shapes
// interleaved by id (ties across the engine's groups of alike agents), and heterogeneous ones
// with GPUs, static and dynamic reservations, inactive and removed agents, quota guarantees
// and limits, and large batches of requests under every policy.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::Q;
using test_util::R;

const std::vector<std::string> kRoles = {"*", "a", "a/b", "a/c", "d", "d/e/f"};

struct Totals {
  int64_t placed = 0;
  int64_t failed = 0;
  int64_t placed_beyond_first_block = 0;
  int64_t placed_on_reserved = 0;
};

class PlaceWorld {
 public:
  PlaceWorld(uint64_t seed, SorterKind sorter)
      : rng_(seed),
        engine_({.sorter = sorter, .seed = seed}),
        reference_({.sorter = sorter, .seed = seed}) {}

  // Homogeneous: every agent alike. Interleaved: three shapes in turn (agent i mod 3), so
  // that agents of one shape are not adjacent by id and exact fits (score 0) tie across
  // shapes. Otherwise random shapes, reservations, GPUs, quota, inactive and removed agents.
  enum class Kind { kHomogeneous, kInterleaved, kRandom };
  void Build(int num_agents, Kind kind) {
    const bool homogeneous = kind != Kind::kRandom;
    const char* interleaved[] = {"cpus:4;mem:2048", "cpus:8;mem:4096;disk:1024", "cpus:2;mem:1024"};
    for (int i = 0; i < num_agents; ++i) {
      std::string text = "cpus:8;mem:4096;disk:1024";
      if (kind == Kind::kInterleaved) text = interleaved[i % 3];
      if (!homogeneous) {
        text = absl::StrCat("cpus:", 1 + Pick(16), ";mem:", 512 * (1 + Pick(16)),
                            ";disk:", 1024 * Pick(3), ";ports:[31000-", 31000 + Pick(50), "]");
        if (Pick(6) == 0) text += ";gpus:" + std::to_string(1 + Pick(2));
        if (Pick(8) == 0) text += ";cpus(a):" + std::to_string(1 + Pick(3));
        if (Pick(10) == 0) text += ";mem(d/e):1024";
      }
      AgentInfo info{absl::StrCat("agent", i), R(text), {}};
      auto e = engine_.AddAgent(info);
      auto r = reference_.AddAgent(info);
      ASSERT_TRUE(e.ok() && r.ok()) << text;
      ASSERT_EQ(*e, *r);
      agents_.push_back(*e);
    }
    for (int j = 0; j < 10; ++j) {
      std::vector<std::string> roles = {kRoles[Pick(kRoles.size())]};
      FrameworkInfo info{absl::StrCat("fw", j), roles, Pick(3) == 0, {}};
      auto e = engine_.AddFramework(info);
      auto r = reference_.AddFramework(info);
      ASSERT_TRUE(e.ok() && r.ok());
      frameworks_.push_back(*e);
      framework_roles_.push_back(*engine_.FindRole(roles[0]));
    }
    if (homogeneous) return;
    for (int k = 0; k < num_agents / 10; ++k) {
      AgentId agent = agents_[Pick(agents_.size())];
      std::string role = kRoles[1 + Pick(kRoles.size() - 1)];
      Resources what = R("cpus:" + std::to_string(1 + Pick(2)));
      ASSERT_EQ(engine_.Reserve(agent, role, what).code(),
                reference_.Reserve(agent, role, what).code());
    }
    for (int k = 0; k < num_agents / 20; ++k) {
      AgentId agent = agents_[Pick(agents_.size())];
      ASSERT_EQ(engine_.DeactivateAgent(agent).code(), reference_.DeactivateAgent(agent).code());
    }
    for (int k = 0; k < num_agents / 40; ++k) {
      AgentId agent = agents_[Pick(agents_.size())];
      ASSERT_EQ(engine_.RemoveAgent(agent).code(), reference_.RemoveAgent(agent).code());
    }
    for (int k = 0; k < 3; ++k) {
      Quota quota;
      if (Pick(2) == 0) quota.guarantee = Q("cpus:" + std::to_string(Pick(40)));
      if (Pick(2) == 0) quota.limit = Q("cpus:" + std::to_string(20 + Pick(200)));
      if (Pick(3) == 0) quota.limit.Set("mem", 1000 * 512 * (20 + Pick(200)));
      std::string role = kRoles[1 + Pick(kRoles.size() - 1)];
      ASSERT_EQ(engine_.SetQuota(role, quota).code(), reference_.SetQuota(role, quota).code());
    }
    if (Pick(2) == 0) {
      ASSERT_TRUE(engine_.DeactivateFramework(frameworks_[0]).ok());
      ASSERT_TRUE(reference_.DeactivateFramework(frameworks_[0]).ok());
    }
  }

  // One Place call of `count` random requests under a random policy, compared decision by
  // decision, then the agents' free pools. With `shapes` > 0 the demands are drawn from that
  // many random shapes (the engine remembers repeated demands for the scored policies), as
  // copies of one parsed bag per shape (which share their entries, as a caller's copies do;
  // the engine reuses the sums of a demand it has seen shared), and `policy` (if set) replaces
  // the random policy.
  void PlaceRound(int count, Totals* totals, int shapes = 0, int policy_index = -1) {
    auto random_demand = [&] {
      std::string demand = absl::StrCat("cpus:", 0.5 * (1 + Pick(6)), ";mem:", 128 * (1 + Pick(8)));
      if (Pick(4) == 0) demand += ";disk:" + std::to_string(100 * (1 + Pick(10)));
      if (Pick(12) == 0) demand += ";gpus:1";
      return demand;
    };
    std::vector<Resources> pool;
    for (int k = 0; k < shapes; ++k) pool.push_back(R(random_demand()));
    std::vector<TaskRequest> requests;
    for (int i = 0; i < count; ++i) {
      size_t j = Pick(frameworks_.size());
      Resources demand = pool.empty() ? R(random_demand()) : pool[Pick(pool.size())];
      requests.push_back({frameworks_[j], framework_roles_[j], demand});
    }
    const auto policy = static_cast<PlacementPolicy>(policy_index >= 0 ? policy_index : Pick(4));
    auto e = engine_.Place(requests, policy);
    auto r = reference_.Place(requests, policy);
    ASSERT_TRUE(e.ok() && r.ok()) << e.status() << " / " << r.status();
    ASSERT_EQ(e->size(), r->size());
    for (size_t i = 0; i < e->size(); ++i) {
      const PlacementDecision& got = (*e)[i];
      const PlacementDecision& want = (*r)[i];
      ASSERT_EQ(got.reason, want.reason) << "request " << i << " policy " << int(policy);
      if (!want.placed()) {
        ++totals->failed;
        continue;
      }
      ASSERT_EQ(got.agent, want.agent) << "request " << i << " policy " << int(policy);
      ASSERT_EQ(got.resources, want.resources) << "request " << i;
      ++totals->placed;
      if (got.agent.value() >= 64) ++totals->placed_beyond_first_block;
      for (const Resource& entry : got.resources.entries()) {
        if (!entry.unreserved()) {
          ++totals->placed_on_reserved;
          break;
        }
      }
    }
    for (AgentId agent : engine_.Agents()) {
      ASSERT_EQ(*engine_.Free(agent), *reference_.Free(agent));
    }
  }

 private:
  int Pick(size_t n) {
    return std::uniform_int_distribution<int>(0, static_cast<int>(n) - 1)(rng_);
  }

  std::mt19937_64 rng_;
  Engine engine_;
  ReferenceAllocator reference_;
  std::vector<AgentId> agents_;
  std::vector<FrameworkId> frameworks_;
  std::vector<RoleId> framework_roles_;
};

class PlaceDifferentialTest : public ::testing::TestWithParam<SorterKind> {};

TEST_P(PlaceDifferentialTest, LargeClustersAgreeWithTheReference) {
  Totals totals;
  const int sizes[] = {1, 7, 63, 64, 65, 130, 333, 700};
  for (uint64_t seed = 0; seed < 36; ++seed) {
    const int agents = sizes[seed % std::size(sizes)];
    const auto kind = static_cast<PlaceWorld::Kind>(seed % 3);
    SCOPED_TRACE(absl::StrCat("seed ", seed, " agents ", agents, " kind ", seed % 3));
    PlaceWorld world(seed, GetParam());
    world.Build(agents, kind);
    if (HasFatalFailure()) return;
    // Rounds until the cluster is mostly full: later rounds fail more and more requests.
    for (int round = 0; round < 6; ++round) {
      world.PlaceRound(std::max(4, agents * 3), &totals);
      if (HasFatalFailure()) return;
    }
  }
  // The generator must exercise what the fast path does differently.
  EXPECT_GT(totals.placed, 10'000);
  EXPECT_GT(totals.failed, 100);
  EXPECT_GT(totals.placed_beyond_first_block, 1'000);
  EXPECT_GT(totals.placed_on_reserved, 10);
}

// Calls whose requests repeat a few demands, under each scored policy: the engine answers
// repeated demands from its per-demand trees (rescoring only the agents changed since), and
// with more shapes than it remembers it forgets and rebuilds them.
TEST_P(PlaceDifferentialTest, RepeatedDemandsAgreeWithTheReference) {
  Totals totals;
  const int sizes[] = {1, 63, 65, 130, 333, 700};
  const int shape_counts[] = {1, 3, 5, 24};
  for (uint64_t seed = 100; seed < 124; ++seed) {
    const int agents = sizes[seed % std::size(sizes)];
    const auto kind = static_cast<PlaceWorld::Kind>(seed % 3);
    const int shapes = shape_counts[(seed / 3) % std::size(shape_counts)];
    SCOPED_TRACE(
        absl::StrCat("seed ", seed, " agents ", agents, " kind ", seed % 3, " shapes ", shapes));
    PlaceWorld world(seed, GetParam());
    world.Build(agents, kind);
    if (HasFatalFailure()) return;
    for (int round = 0; round < 6; ++round) {
      world.PlaceRound(std::max(40, agents * 3), &totals, shapes, 1 + round % 3);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(totals.placed, 10'000);
  EXPECT_GT(totals.failed, 100);
  EXPECT_GT(totals.placed_beyond_first_block, 1'000);
  EXPECT_GT(totals.placed_on_reserved, 10);
}

INSTANTIATE_TEST_SUITE_P(Sorters, PlaceDifferentialTest,
                         ::testing::Values(SorterKind::kDrf, SorterKind::kRandom));

}  // namespace
}  // namespace steward::allocator
