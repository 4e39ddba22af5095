// Property tests: thousands of random event sequences run against the engine and the
// reference engine side by side. After every step both must agree (same status codes, same
// offers, same placements) and the invariants must hold:
//   - on every agent, allocated + free == total, and nothing is negative;
//   - an allocation never takes a role past a quota limit it was within;
//   - offers of one cycle are disjoint: together they fit in what was free before the cycle.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gtest/gtest.h"

namespace steward::allocator {
namespace {

const std::vector<std::string> kRolePool = {"*", "a", "a/b", "a/c", "d", "d/e/f"};

// What the random sequences exercised, so that a generator change that stops producing
// offers or placements fails loudly instead of testing nothing.
struct Stats {
  int64_t offers = 0;
  int64_t placed = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
};
Stats global_stats;

class World {
 public:
  World(uint64_t seed, SorterKind sorter)
      : rng_(seed),
        engine_({.sorter = sorter, .seed = seed}),
        reference_({.sorter = sorter, .seed = seed}) {}

  // Runs one random step; returns a description for failure messages.
  std::string Step() {
    int kind = Pick(100);
    if (agents_.size() < 2 || kind < 8) return AddAgent();
    if (frameworks_.size() < 2 || kind < 14) return AddFramework();
    if (kind < 40) return AllocateCycle();
    if (kind < 52) return RecoverSome(/*decline=*/false);
    if (kind < 62) return RecoverSome(/*decline=*/true);
    if (kind < 68) return PlaceSome();
    if (kind < 73) return SetQuota();
    if (kind < 76) return SetWeight();
    if (kind < 80) return ReserveOrUnreserve();
    if (kind < 85) return SuppressOrRevive();
    if (kind < 90) return ToggleActive();
    if (kind < 93) return RemoveAgent();
    if (kind < 95) return RemoveFramework();
    return AdvanceTime();
  }

  void CheckInvariants(const std::string& context) {
    for (AgentId agent : engine_.Agents()) {
      Resources total = *engine_.Total(agent);
      Resources sum = *engine_.Free(agent);
      ASSERT_TRUE(sum.Add(*engine_.Allocated(agent)).ok()) << context;
      ASSERT_EQ(sum, total) << context << ": allocated + free != total on agent "
                            << *engine_.AgentName(agent);
      ASSERT_EQ(*reference_.Total(agent), total) << context;
      ASSERT_EQ(*reference_.Free(agent), *engine_.Free(agent)) << context;
    }
    for (const std::string& path : kRolePool) {
      for (std::string prefix = path;; prefix = prefix.substr(0, prefix.rfind('/'))) {
        auto e = engine_.FindRole(prefix);
        auto r = reference_.FindRole(prefix);
        ASSERT_EQ(e.ok(), r.ok()) << context << " role " << prefix;
        if (e.ok()) {
          ASSERT_EQ(engine_.Consumption(*e)->ToString(), reference_.Consumption(*r)->ToString())
              << context << " consumption of " << prefix;
          ASSERT_DOUBLE_EQ(*engine_.RoleShare(*e), *reference_.RoleShare(*r)) << context;
        }
        if (prefix.find('/') == std::string::npos) break;
      }
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Coin() { return Pick(2) == 0; }

  // Applies the same call to both implementations and checks they agree on the status.
  template <typename Call>
  absl::Status Both(const Call& call, const std::string& what) {
    std::string before = Snapshot(engine_);
    std::string reference_before = Snapshot(reference_);
    absl::Status e = call(static_cast<Allocator&>(engine_));
    absl::Status r = call(static_cast<Allocator&>(reference_));
    ++(e.ok() ? stats_.accepted : stats_.rejected);
    if (!e.ok()) {
      EXPECT_EQ(Snapshot(engine_), before) << what << " was rejected but changed the engine";
    }
    if (!r.ok()) {
      EXPECT_EQ(Snapshot(reference_), reference_before)
          << what << " was rejected but changed the reference";
    }
    EXPECT_EQ(e.code(), r.code()) << what << ": engine says '" << e << "', reference '" << r << "'";
    return e;
  }

  // Everything observable through the interface: agents' pools, role nodes, their quota,
  // consumption and shares.
  std::string Snapshot(Allocator& allocator) {
    std::string out;
    for (AgentId agent : allocator.Agents()) {
      absl::StrAppend(&out, *allocator.AgentName(agent),
                      " total=", allocator.Total(agent)->ToString(),
                      " free=", allocator.Free(agent)->ToString(),
                      " allocated=", allocator.Allocated(agent)->ToString(), "\n");
    }
    for (const std::string& path : kRolePool) {
      for (std::string prefix = path;; prefix = prefix.substr(0, prefix.rfind('/'))) {
        if (auto role = allocator.FindRole(prefix); role.ok()) {
          Quota quota = *allocator.GetQuota(*role);
          absl::StrAppend(&out, prefix, " c=", allocator.Consumption(*role)->ToString(),
                          " g=", quota.guarantee.ToString(), " l=", quota.limit.ToString(),
                          " share=", *allocator.RoleShare(*role), "\n");
        } else {
          absl::StrAppend(&out, prefix, " absent\n");
        }
        if (prefix.find('/') == std::string::npos) break;
      }
    }
    for (FrameworkId framework : allocator.Frameworks()) {
      absl::StrAppend(&out, *allocator.FrameworkName(framework), "\n");
    }
    return out;
  }

  std::string AddAgent() {
    std::string name = absl::StrCat("agent", next_agent_++);
    std::string text =
        absl::StrCat("cpus:", 1 + Pick(8), ";mem:", 256 * (1 + Pick(16)), ";disk:", 1024 * Pick(3),
                     ";ports:[31000-", 31000 + Pick(50), "]");
    if (Pick(5) == 0) text += ";gpus:" + std::to_string(1 + Pick(2));
    if (Pick(4) == 0) text += ";cpus(a):" + std::to_string(1 + Pick(2));
    if (Pick(6) == 0) text += ";mem(d/e):512";
    AgentInfo info{name, *Resources::Parse(text), {{"rack", "r" + std::to_string(Pick(3))}}};
    auto e = engine_.AddAgent(info);
    auto r = reference_.AddAgent(info);
    EXPECT_EQ(e.ok(), r.ok());
    if (e.ok()) agents_.push_back(*e);
    return "add agent " + name + " " + text;
  }

 public:
  // Adds a framework in a random role of kRolePool, or in `role` when one is given.
  std::string AddFramework(const std::string* role = nullptr) {
    std::string name = absl::StrCat("fw", next_framework_++);
    std::vector<std::string> roles = {role != nullptr ? *role : kRolePool[Pick(kRolePool.size())]};
    if (Coin()) {
      std::string second = kRolePool[Pick(kRolePool.size())];
      if (second != roles[0]) roles.push_back(second);
    }
    std::vector<Resources> min;
    if (Pick(4) == 0) min.push_back(*Resources::Parse("cpus:" + std::to_string(1 + Pick(3))));
    FrameworkInfo info{name, roles, Pick(3) == 0, min};
    auto e = engine_.AddFramework(info);
    auto r = reference_.AddFramework(info);
    EXPECT_EQ(e.ok(), r.ok());
    if (e.ok()) {
      EXPECT_EQ(*e, *r);
      frameworks_.push_back(*e);
    }
    return "add framework " + name + " roles " + roles[0];
  }

 private:
  std::string AllocateCycle() {
    std::map<uint32_t, Resources> free_before;
    for (AgentId agent : engine_.Agents()) free_before[agent.value()] = *engine_.Free(agent);
    std::map<std::string, ResourceQuantities> before;
    for (const std::string& path : kRolePool) {
      if (auto role = engine_.FindRole(path); role.ok()) {
        before[path] = *engine_.Consumption(*role);
      }
    }
    auto e = engine_.Allocate(now_);
    auto r = reference_.Allocate(now_);
    EXPECT_TRUE(e.ok() && r.ok());
    if (!e.ok() || !r.ok()) return "allocate failed";
    EXPECT_EQ(Describe(engine_, *e), Describe(reference_, *r)) << "offers differ at t=" << now_;
    stats_.offers += e->size();
    std::map<uint32_t, Resources> offered;
    for (const Offer& offer : *e) {
      EXPECT_TRUE(offered[offer.agent.value()].Add(offer.resources).ok());
      allocations_.push_back({offer.framework, offer.agent, offer.role});
    }
    for (const auto& [agent, resources] : offered) {
      EXPECT_TRUE(free_before[agent].Contains(resources)) << "offers overlap on agent " << agent;
    }
    for (const std::string& path : kRolePool) {
      auto role = engine_.FindRole(path);
      if (!role.ok()) continue;
      Quota quota = *engine_.GetQuota(*role);
      ResourceQuantities now = *engine_.Consumption(*role);
      for (const auto& [name, limit] : quota.limit.entries()) {
        if (before[path].Get(name) <= limit) {
          EXPECT_LE(now.Get(name), limit) << "role " << path << " passed its " << name << " limit";
        }
      }
    }
    return absl::StrCat("allocate at ", now_, ": ", e->size(), " offers");
  }

  std::string Describe(Allocator& allocator, const std::vector<Offer>& offers) {
    std::string out;
    for (const Offer& offer : offers) {
      absl::StrAppend(&out, *allocator.FrameworkName(offer.framework), "@",
                      *allocator.AgentName(offer.agent), "/", allocator.RoleName(offer.role), "=",
                      offer.resources.ToString(), "\n");
    }
    return out;
  }

  struct Held {
    FrameworkId framework;
    AgentId agent;
    RoleId role;
  };

  std::string RecoverSome(bool decline) {
    if (allocations_.empty()) return AllocateCycle();
    size_t index = Pick(allocations_.size());
    Held held = allocations_[index];
    auto current = engine_.AllocatedTo(held.framework, held.agent, held.role);
    if (!current.ok() || current->empty()) {
      allocations_.erase(allocations_.begin() + index);
      return "stale allocation";
    }
    Resources part;
    int mode = Pick(4);
    if (mode == 0) {
      part = *current;  // everything
    } else if (mode == 1) {
      part = current->Scalars();  // keep ports (a task uses them)
    } else if (mode == 2) {
      // Half of each scalar, rounded to a milli-unit.
      std::vector<Resource> halves;
      for (const Resource& entry : current->entries()) {
        if (entry.kind != ResourceKind::kScalar) continue;
        Resource half = entry;
        half.scalar = entry.scalar / 2;
        halves.push_back(half);
      }
      part = *Resources::FromEntries(halves);
    } else {
      part = *current;
      (void)part.Add(*Resources::Parse("cpus:1000"));  // more than allocated: rejected
    }
    double refuse = std::vector<double>{0, 1, 5, 1e9, INFINITY}[Pick(5)];
    absl::Status status = Both(
        [&](Allocator& a) {
          return decline ? a.Decline(held.framework, held.agent, held.role, part, refuse, now_)
                         : a.Recover(held.framework, held.agent, held.role, part);
        },
        "recover");
    if (mode == 3) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    }
    return absl::StrCat(decline ? "decline " : "recover ", part.ToString(), " refuse ", refuse);
  }

  std::string PlaceSome() {
    std::vector<TaskRequest> requests;
    int n = 1 + Pick(8);
    for (int i = 0; i < n; ++i) {
      FrameworkId fw = frameworks_[Pick(frameworks_.size())];
      auto roles = RolesOf(fw);
      if (roles.empty()) continue;
      std::string demand = absl::StrCat("cpus:", 0.5 * (1 + Pick(6)), ";mem:", 128 * (1 + Pick(8)));
      if (Pick(6) == 0) demand += ";gpus:1";
      requests.push_back({fw, roles[Pick(roles.size())], *Resources::Parse(demand)});
    }
    if (Pick(10) == 0 && !requests.empty()) {
      requests.back().demand = *Resources::Parse("ports:[1-2]");  // malformed: rejected whole
    }
    PlacementPolicy policy = static_cast<PlacementPolicy>(Pick(4));
    std::string before = Snapshot(engine_);
    auto e = engine_.Place(requests, policy);
    auto r = reference_.Place(requests, policy);
    EXPECT_EQ(e.status().code(), r.status().code()) << e.status() << " vs " << r.status();
    if (!e.ok()) {
      EXPECT_EQ(Snapshot(engine_), before) << "rejected Place changed the engine";
    }
    if (!e.ok() || !r.ok()) return "place rejected";
    EXPECT_EQ(e->size(), r->size());
    for (size_t i = 0; i < std::min(e->size(), r->size()); ++i) {
      EXPECT_EQ((*e)[i].reason, (*r)[i].reason) << "request " << i;
      if ((*e)[i].placed() && (*r)[i].placed()) {
        EXPECT_EQ((*e)[i].agent, (*r)[i].agent) << "request " << i;
        EXPECT_EQ((*e)[i].resources, (*r)[i].resources) << "request " << i;
        ++stats_.placed;
        allocations_.push_back({requests[i].framework, (*e)[i].agent, requests[i].role});
      }
    }
    return absl::StrCat("place ", requests.size(), " requests");
  }

  std::vector<RoleId> RolesOf(FrameworkId fw) {
    std::vector<RoleId> out;
    for (const std::string& path : kRolePool) {
      auto role = engine_.FindRole(path);
      if (role.ok() && engine_.FrameworkShare(fw, *role).ok()) out.push_back(*role);
    }
    return out;
  }

  std::string SetQuota() {
    std::string role = kRolePool[Pick(kRolePool.size())];
    Quota quota;
    if (Coin()) quota.guarantee = *ResourceQuantities::Parse("cpus:" + std::to_string(Pick(10)));
    if (Coin()) quota.limit = *ResourceQuantities::Parse("cpus:" + std::to_string(Pick(16)));
    if (Pick(3) == 0) quota.limit.Set("mem", 1000 * 256 * Pick(20));
    (void)Both([&](Allocator& a) { return a.SetQuota(role, quota); }, "set quota");
    return "quota " + role + " g=" + quota.guarantee.ToString() + " l=" + quota.limit.ToString();
  }

  std::string SetWeight() {
    std::string role = kRolePool[Pick(kRolePool.size())];
    double weight = std::vector<double>{0.5, 1, 2, 3, -1}[Pick(5)];
    (void)Both([&](Allocator& a) { return a.SetWeight(role, weight); }, "set weight");
    return absl::StrCat("weight ", role, " ", weight);
  }

  std::string ReserveOrUnreserve() {
    if (agents_.empty()) return "no agents";
    AgentId agent = agents_[Pick(agents_.size())];
    std::string role = kRolePool[1 + Pick(kRolePool.size() - 1)];
    if (Coin()) {
      Resources what = *Resources::Parse("cpus:" + std::to_string(1 + Pick(2)));
      (void)Both([&](Allocator& a) { return a.Reserve(agent, role, what); }, "reserve");
      return "reserve " + role;
    }
    Resources what = *Resources::Parse("cpus(" + role + "):1");
    (void)Both([&](Allocator& a) { return a.Unreserve(agent, what); }, "unreserve");
    return "unreserve " + role;
  }

  std::string SuppressOrRevive() {
    FrameworkId fw = frameworks_[Pick(frameworks_.size())];
    auto roles = RolesOf(fw);
    RoleId role = roles.empty() ? RoleId(0) : roles[Pick(roles.size())];
    bool suppress = Coin();
    (void)Both([&](Allocator& a) { return suppress ? a.Suppress(fw, role) : a.Revive(fw, role); },
               "suppress/revive");
    return suppress ? "suppress" : "revive";
  }

  std::string ToggleActive() {
    if (Coin()) {
      AgentId agent = agents_[Pick(agents_.size())];
      bool on = Coin();
      (void)Both(
          [&](Allocator& a) { return on ? a.ActivateAgent(agent) : a.DeactivateAgent(agent); },
          "agent activation");
      return on ? "activate agent" : "deactivate agent";
    }
    FrameworkId fw = frameworks_[Pick(frameworks_.size())];
    bool on = Coin();
    (void)Both(
        [&](Allocator& a) { return on ? a.ActivateFramework(fw) : a.DeactivateFramework(fw); },
        "framework activation");
    return on ? "activate framework" : "deactivate framework";
  }

  std::string RemoveAgent() {
    size_t index = Pick(agents_.size());
    AgentId agent = agents_[index];
    (void)Both([&](Allocator& a) { return a.RemoveAgent(agent); }, "remove agent");
    agents_.erase(agents_.begin() + index);
    return "remove agent";
  }

  std::string RemoveFramework() {
    size_t index = Pick(frameworks_.size());
    FrameworkId fw = frameworks_[index];
    (void)Both([&](Allocator& a) { return a.RemoveFramework(fw); }, "remove framework");
    frameworks_.erase(frameworks_.begin() + index);
    return "remove framework";
  }

 public:
  // Removes random frameworks until `count` are left, running a cycle after every tenth.
  void RemoveFrameworksDownTo(size_t count) {
    for (int removed = 1; frameworks_.size() > count; ++removed) {
      RemoveFramework();
      if (removed % 10 == 0) AllocateCycle();
    }
  }

  size_t framework_count() const { return frameworks_.size(); }

 private:
  std::string AdvanceTime() {
    now_ += std::vector<double>{0.5, 1, 5, 100}[Pick(4)];
    return absl::StrCat("time ", now_);
  }

  std::mt19937_64 rng_;
  Stats& stats_ = global_stats;
  Engine engine_;
  ReferenceAllocator reference_;
  std::vector<AgentId> agents_;
  std::vector<FrameworkId> frameworks_;
  std::vector<Held> allocations_;
  double now_ = 0;
  int next_agent_ = 0;
  int next_framework_ = 0;
};

class DifferentialTest : public ::testing::TestWithParam<SorterKind> {};

TEST_P(DifferentialTest, RandomEventSequencesAgreeAndKeepInvariants) {
  constexpr int kSequences = 1000;
  constexpr int kSteps = 80;
  for (int seed = 1; seed <= kSequences; ++seed) {
    World world(seed, GetParam());
    for (int step = 0; step < kSteps; ++step) {
      std::string what = world.Step();
      std::string context = absl::StrCat("seed ", seed, " step ", step, " (", what, ")");
      SCOPED_TRACE(context);
      world.CheckInvariants(context);
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(global_stats.offers, 10 * kSequences);
  EXPECT_GT(global_stats.placed, 2 * kSequences);
  EXPECT_GT(global_stats.accepted, 5 * kSequences);
  EXPECT_GT(global_stats.rejected, kSequences / 2);
  std::printf(
      "offers %lld, placed %lld, accepted calls %lld, rejected calls %lld\n",
      static_cast<long long>(global_stats.offers), static_cast<long long>(global_stats.placed),
      static_cast<long long>(global_stats.accepted), static_cast<long long>(global_stats.rejected));
  global_stats = Stats();
}

// The engine keeps each role's frameworks in a sorted vector while they are few and in a
// B-tree above OrderedKeys::kFlatLimit (128): a role crowded past that limit and thinned out
// again must order its frameworks exactly as the reference does in both representations.
TEST_P(DifferentialTest, CrowdedRoleAgreesAcrossOrderRepresentations) {
  constexpr int kSequences = 15;
  constexpr int kCrowd = 200;
  const std::string crowded = "a";
  int64_t offers_before = global_stats.offers;
  for (int seed = 1; seed <= kSequences; ++seed) {
    World world(seed, GetParam());
    std::string context = absl::StrCat("seed ", seed);
    SCOPED_TRACE(context);
    for (int i = 0; i < kCrowd; ++i) world.AddFramework(&crowded);
    ASSERT_GE(world.framework_count(), static_cast<size_t>(kCrowd));
    for (int step = 0; step < 120; ++step) {
      std::string what = world.Step();
      world.CheckInvariants(absl::StrCat(context, " crowded step ", step, " (", what, ")"));
      if (::testing::Test::HasFailure()) return;
    }
    world.RemoveFrameworksDownTo(30);
    for (int step = 0; step < 60; ++step) {
      std::string what = world.Step();
      world.CheckInvariants(absl::StrCat(context, " thinned step ", step, " (", what, ")"));
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(global_stats.offers - offers_before, 20 * kSequences);
  global_stats = Stats();
}

INSTANTIATE_TEST_SUITE_P(Sorters, DifferentialTest,
                         ::testing::Values(SorterKind::kDrf, SorterKind::kRandom),
                         [](const auto& param_info) {
                           return param_info.param == SorterKind::kDrf ? "Drf" : "Random";
                         });

}  // namespace
}  // namespace steward::allocator
