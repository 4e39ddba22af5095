// Sorter contract tests: properties that every sorter must satisfy, run for every
// implementation (Engine, ReferenceAllocator) x sorter (DRF, RANDOM), plus the properties
// specific to each sorter (DRF: the lowest weighted dominant share goes first; RANDOM: the
// shared RandomSortKey decides, it varies with the seed and favours nobody).
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/allocator.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "allocator/sort_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {

namespace {

using test_util::Q;
using test_util::R;

using ::testing::IsEmpty;
using ::testing::SizeIs;

// ---------------------------------------------------------------------------------------------
// Helpers working on the Allocator interface.

AgentId AddAgent(Allocator& a, const std::string& name, std::string_view resources) {
  absl::StatusOr<AgentId> id = a.AddAgent({name, R(resources), {}});
  EXPECT_EQ(id.status(), absl::OkStatus()) << name;
  return id.ok() ? *id : AgentId();
}

FrameworkId AddFramework(Allocator& a, const std::string& name, std::vector<std::string> roles,
                         bool gpu = false) {
  absl::StatusOr<FrameworkId> id = a.AddFramework({name, std::move(roles), gpu, {}});
  EXPECT_EQ(id.status(), absl::OkStatus()) << name;
  return id.ok() ? *id : FrameworkId();
}

RoleId FindRole(const Allocator& a, std::string_view path) {
  absl::StatusOr<RoleId> role = a.FindRole(path);
  EXPECT_EQ(role.status(), absl::OkStatus()) << path;
  return role.ok() ? *role : RoleId();
}

std::vector<Offer> AllocateOk(Allocator& a, double now) {
  absl::StatusOr<std::vector<Offer>> offers = a.Allocate(now);
  EXPECT_EQ(offers.status(), absl::OkStatus());
  return offers.ok() ? *offers : std::vector<Offer>();
}

std::string Describe(const Allocator& a, const Offer& offer) {
  return absl::StrCat(*a.FrameworkName(offer.framework), "@", *a.AgentName(offer.agent), "/",
                      a.RoleName(offer.role), "=", offer.resources.ToString());
}

std::string Describe(const Allocator& a, const std::vector<Offer>& offers) {
  std::string out;
  for (const Offer& offer : offers) absl::StrAppend(&out, Describe(a, offer), "\n");
  return out;
}

std::string Describe(const Allocator& a, const std::vector<PlacementDecision>& decisions) {
  std::string out;
  for (const PlacementDecision& decision : decisions) {
    absl::StrAppend(&out, std::string(ReasonName(decision.reason)));
    if (decision.placed()) {
      absl::StrAppend(&out, "@", *a.AgentName(decision.agent), "=", decision.resources.ToString());
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::map<AgentId, Resources> FreeByAgent(const Allocator& a) {
  std::map<AgentId, Resources> out;
  for (AgentId agent : a.Agents()) out[agent] = *a.Free(agent);
  return out;
}

// Scalar sums per name, over all reservations.
std::map<std::string, int64_t> ScalarSums(const Resources& resources) {
  std::map<std::string, int64_t> out;
  for (const Resource& entry : resources.entries()) {
    if (entry.kind == ResourceKind::kScalar) out[entry.name] += entry.scalar;
  }
  return out;
}

// allocated + free == total on every agent.
::testing::AssertionResult Conserved(const Allocator& a) {
  for (AgentId agent : a.Agents()) {
    Resources sum = *a.Free(agent);
    absl::Status added = sum.Add(*a.Allocated(agent));
    if (!added.ok()) return ::testing::AssertionFailure() << added;
    if (sum != *a.Total(agent)) {
      return ::testing::AssertionFailure()
             << "agent " << *a.AgentName(agent) << ": free " << a.Free(agent)->ToString()
             << " + allocated " << a.Allocated(agent)->ToString() << " != total "
             << a.Total(agent)->ToString();
    }
  }
  return ::testing::AssertionSuccess();
}

// The sorter-independent rules for the offers of one cycle, given what was free before it:
// offers are non-empty, one per (framework, agent, role), hold only what the role may use,
// are disjoint (together they fit in what was free on their agent) and were taken from the
// free pool exactly; afterwards allocated + free == total.
::testing::AssertionResult CycleIsSound(const Allocator& a,
                                        const std::map<AgentId, Resources>& before,
                                        const std::vector<Offer>& offers) {
  std::set<std::tuple<FrameworkId, AgentId, RoleId>> seen;
  std::map<AgentId, Resources> offered;
  for (const Offer& offer : offers) {
    std::string what = Describe(a, offer);
    if (offer.resources.empty()) return ::testing::AssertionFailure() << "empty offer " << what;
    if (!seen.insert({offer.framework, offer.agent, offer.role}).second) {
      return ::testing::AssertionFailure() << "second offer for " << what;
    }
    if (offer.resources.AllocatableTo(a.RoleName(offer.role)) != offer.resources) {
      return ::testing::AssertionFailure() << "offer holds another role's reservation: " << what;
    }
    if (!before.contains(offer.agent)) {
      return ::testing::AssertionFailure() << "offer on an unknown agent: " << what;
    }
    absl::Status added = offered[offer.agent].Add(offer.resources);
    if (!added.ok()) return ::testing::AssertionFailure() << added;
  }
  for (const auto& [agent, free] : before) {
    Resources left = free;
    if (auto it = offered.find(agent); it != offered.end()) {
      if (!free.Contains(it->second)) {
        return ::testing::AssertionFailure()
               << "offers on " << *a.AgentName(agent) << " (" << it->second.ToString()
               << ") overlap or exceed what was free (" << free.ToString() << ")";
      }
      absl::Status subtracted = left.Subtract(it->second);
      if (!subtracted.ok()) return ::testing::AssertionFailure() << subtracted;
    }
    if (*a.Free(agent) != left) {
      return ::testing::AssertionFailure()
             << "free on " << *a.AgentName(agent) << " is " << a.Free(agent)->ToString()
             << ", expected " << left.ToString();
    }
  }
  return Conserved(a);
}

// ---------------------------------------------------------------------------------------------
// A seed-determined scenario: a heterogeneous cluster with reservations, GPUs, ranges, sets,
// weights, a guarantee and a limit; every cycle some random events, one Allocate, and a random
// response to every offer (keep, keep part, decline with a filter, recover), with a Place
// call now and then. Checks the sorter-independent invariants after every call and returns a
// text log of every offer and placement.

struct Tracked {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;
};

struct ScriptStats {
  int offers = 0;
  int placed = 0;
  int declined = 0;
  int suppressed_cycles = 0;  // cycles that ran with some role suppressed
  int inactive_cycles = 0;    // cycles that ran with some framework or agent inactive
};

std::string RunScript(Allocator& a, uint64_t script_seed, int cycles, ScriptStats* stats) {
  std::mt19937_64 rng(script_seed);
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::pair<std::string, std::string>> agents = {
      {"a0", "cpus:4;mem:8192;ports:[31000-31009]"},
      {"a1", "cpus:8;mem:4096;disk:100"},
      {"a2", "cpus(a):2;cpus:2;mem:4096"},
      {"a3", "cpus:2;mem:2048;gpus:1"},
      {"a4", "cpus:16;mem:32768"},
      {"a5", "cpus:1;mem:16384;cpus(b):1"},
      {"a6", "cpus:4;mem:4096;disks:{ssd1,ssd2}"},
      {"a7", "cpus:6;mem:6144"},
  };
  std::vector<AgentId> agent_ids;
  std::map<AgentId, bool> has_gpus;
  for (const auto& [name, resources] : agents) {
    agent_ids.push_back(AddAgent(a, name, resources));
    has_gpus[agent_ids.back()] = R(resources).Has("gpus");
  }
  EXPECT_EQ(a.SetWeight("a", 2.0), absl::OkStatus());
  EXPECT_EQ(a.SetQuota("b", {Q("cpus:4"), {}}), absl::OkStatus());
  EXPECT_EQ(a.SetQuota("c", {{}, Q("cpus:6;mem:16384")}), absl::OkStatus());
  struct Fw {
    FrameworkId id;
    std::vector<RoleId> roles;
    bool gpu;
  };
  const std::vector<std::tuple<std::string, std::vector<std::string>, bool>> specs = {
      {"f0", {"a"}, false},      {"f1", {"a/x"}, false},     {"f2", {"b"}, false},
      {"f3", {"c"}, false},      {"f4", {"a/x", "c"}, true}, {"f5", {"*"}, false},
      {"f6", {"b", "a"}, false},
  };
  std::vector<Fw> fws;
  for (const auto& [name, roles, gpu] : specs) {
    Fw fw{AddFramework(a, name, roles, gpu), {}, gpu};
    for (const std::string& role : roles) fw.roles.push_back(FindRole(a, role));
    fws.push_back(fw);
  }
  RoleId limited = FindRole(a, "c");

  std::set<std::pair<FrameworkId, RoleId>> suppressed;
  std::set<FrameworkId> inactive_frameworks;
  std::set<AgentId> inactive_agents;
  std::vector<Tracked> held;
  std::string log;
  auto recover_some = [&]() {
    if (held.empty()) return;
    size_t i = pick(held.size());
    EXPECT_EQ(a.Recover(held[i].framework, held[i].agent, held[i].role, held[i].resources),
              absl::OkStatus());
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (int cycle = 0; cycle < cycles; ++cycle) {
    double now = cycle;
    for (size_t events = pick(4); events > 0; --events) {
      switch (pick(5)) {
        case 0: {
          const Fw& fw = fws[pick(fws.size())];
          if (inactive_frameworks.erase(fw.id) > 0) {
            EXPECT_EQ(a.ActivateFramework(fw.id), absl::OkStatus());
          } else {
            inactive_frameworks.insert(fw.id);
            EXPECT_EQ(a.DeactivateFramework(fw.id), absl::OkStatus());
          }
          break;
        }
        case 1: {
          const Fw& fw = fws[pick(fws.size())];
          RoleId role = fw.roles[pick(fw.roles.size())];
          if (suppressed.erase({fw.id, role}) > 0) {
            EXPECT_EQ(a.Revive(fw.id, role), absl::OkStatus());
          } else {
            suppressed.insert({fw.id, role});
            EXPECT_EQ(a.Suppress(fw.id, role), absl::OkStatus());
          }
          break;
        }
        case 2: {
          AgentId agent = agent_ids[pick(agent_ids.size())];
          if (inactive_agents.erase(agent) > 0) {
            EXPECT_EQ(a.ActivateAgent(agent), absl::OkStatus());
          } else {
            inactive_agents.insert(agent);
            EXPECT_EQ(a.DeactivateAgent(agent), absl::OkStatus());
          }
          break;
        }
        default:
          recover_some();
          break;
      }
    }
    if (!suppressed.empty()) ++stats->suppressed_cycles;
    if (!inactive_frameworks.empty() || !inactive_agents.empty()) ++stats->inactive_cycles;

    std::map<AgentId, Resources> before = FreeByAgent(a);
    std::vector<Offer> offers = AllocateOk(a, now);
    EXPECT_TRUE(CycleIsSound(a, before, offers)) << "cycle " << cycle;
    stats->offers += static_cast<int>(offers.size());
    for (const Offer& offer : offers) {
      std::string what = Describe(a, offer);
      EXPECT_FALSE(inactive_frameworks.contains(offer.framework)) << "inactive framework " << what;
      EXPECT_FALSE(suppressed.contains({offer.framework, offer.role})) << "suppressed " << what;
      EXPECT_FALSE(inactive_agents.contains(offer.agent)) << "inactive agent " << what;
      if (has_gpus[offer.agent]) {
        EXPECT_TRUE(fws[offer.framework.value()].gpu)
            << "GPU agent to a non-GPU framework " << what;
      }
    }
    ResourceQuantities consumed = *a.Consumption(limited);
    EXPECT_LE(consumed.Get("cpus"), 6000) << "cycle " << cycle;
    EXPECT_LE(consumed.Get("mem"), 16384000) << "cycle " << cycle;
    absl::StrAppend(&log, "cycle ", cycle, "\n", Describe(a, offers));

    for (const Offer& offer : offers) {
      switch (pick(4)) {
        case 0:  // a task runs on all of it
          held.push_back({offer.framework, offer.agent, offer.role, offer.resources});
          break;
        case 1: {  // a task runs on the unreserved scalars; the rest goes back
          Resources kept = offer.resources.Unreserved().Scalars();
          Resources rest = offer.resources;
          EXPECT_EQ(rest.Subtract(kept), absl::OkStatus());
          EXPECT_EQ(a.Recover(offer.framework, offer.agent, offer.role, rest), absl::OkStatus());
          if (!kept.empty()) held.push_back({offer.framework, offer.agent, offer.role, kept});
          break;
        }
        case 2: {
          double refuse = static_cast<double>(pick(3)) * 1.5;
          EXPECT_EQ(
              a.Decline(offer.framework, offer.agent, offer.role, offer.resources, refuse, now),
              absl::OkStatus());
          ++stats->declined;
          break;
        }
        default:
          EXPECT_EQ(a.Recover(offer.framework, offer.agent, offer.role, offer.resources),
                    absl::OkStatus());
          break;
      }
    }
    EXPECT_TRUE(Conserved(a)) << "cycle " << cycle;

    if (cycle % 4 == 3) {
      static const std::vector<std::string> kDemands = {"cpus:1;mem:1024", "cpus:0.5;mem:256",
                                                        "cpus:2;mem:4096", "mem:2048"};
      std::vector<TaskRequest> requests;
      for (size_t n = 1 + pick(5); n > 0; --n) {
        const Fw& fw = fws[pick(fws.size())];
        requests.push_back({fw.id, fw.roles[pick(fw.roles.size())], R(kDemands[pick(4)])});
      }
      std::map<AgentId, Resources> free_before = FreeByAgent(a);
      absl::StatusOr<std::vector<PlacementDecision>> decisions =
          a.Place(requests, PlacementPolicy::kBestFit);
      EXPECT_EQ(decisions.status(), absl::OkStatus());
      if (!decisions.ok()) continue;
      std::vector<Offer> as_offers;
      for (size_t i = 0; i < requests.size(); ++i) {
        const PlacementDecision& decision = (*decisions)[i];
        if (!decision.placed()) continue;
        ++stats->placed;
        EXPECT_FALSE(inactive_agents.contains(decision.agent));
        held.push_back(
            {requests[i].framework, decision.agent, requests[i].role, decision.resources});
      }
      EXPECT_TRUE(Conserved(a)) << "place at cycle " << cycle;
      absl::StrAppend(&log, "place ", cycle, "\n", Describe(a, *decisions));
    }
  }
  return log;
}

// ---------------------------------------------------------------------------------------------
// Typed fixtures.

template <typename A, SorterKind kKind>
struct Config {
  using Impl = A;
  static constexpr SorterKind kSorter = kKind;
};

class ConfigNames {
 public:
  template <typename C>
  static std::string GetName(int) {
    return std::string(std::is_same_v<typename C::Impl, Engine> ? "Engine" : "Reference") +
           (C::kSorter == SorterKind::kDrf ? "Drf" : "Random");
  }
};

template <typename C>
class SorterTest : public ::testing::Test {
 protected:
  using Impl = typename C::Impl;
  static constexpr SorterKind kSorter = C::kSorter;

  static std::unique_ptr<Impl> Make(uint64_t seed) {
    AllocatorOptions options;
    options.sorter = kSorter;
    options.seed = seed;
    return std::make_unique<Impl>(options);
  }

  static void CheckCachesIfReference(const Impl& a) {
    if constexpr (std::is_same_v<Impl, ReferenceAllocator>) {
      EXPECT_EQ(a.CheckCaches(), absl::OkStatus());
    }
  }
};

template <typename C>
class SorterContractTest : public SorterTest<C> {};
template <typename C>
class DrfSorterTest : public SorterTest<C> {};
template <typename C>
class RandomSorterTest : public SorterTest<C> {};

using AllConfigs =
    ::testing::Types<Config<Engine, SorterKind::kDrf>, Config<Engine, SorterKind::kRandom>,
                     Config<ReferenceAllocator, SorterKind::kDrf>,
                     Config<ReferenceAllocator, SorterKind::kRandom>>;
using DrfConfigs = ::testing::Types<Config<Engine, SorterKind::kDrf>,
                                    Config<ReferenceAllocator, SorterKind::kDrf>>;
using RandomConfigs = ::testing::Types<Config<Engine, SorterKind::kRandom>,
                                       Config<ReferenceAllocator, SorterKind::kRandom>>;
TYPED_TEST_SUITE(SorterContractTest, AllConfigs, ConfigNames);
TYPED_TEST_SUITE(DrfSorterTest, DrfConfigs, ConfigNames);
TYPED_TEST_SUITE(RandomSorterTest, RandomConfigs, ConfigNames);

// ---------------------------------------------------------------------------------------------
// Properties of every sorter.

TYPED_TEST(SorterContractTest, SameEventsAndSeedGiveIdenticalOffers) {
  for (uint64_t seed : {1u, 7u, 12345u}) {
    auto first = this->Make(seed);
    auto second = this->Make(seed);
    ScriptStats stats_first, stats_second;
    std::string log_first = RunScript(*first, seed, 30, &stats_first);
    std::string log_second = RunScript(*second, seed, 30, &stats_second);
    EXPECT_GT(stats_first.offers, 20) << "seed " << seed;
    EXPECT_GT(stats_first.placed, 0) << "seed " << seed;
    EXPECT_EQ(log_first, log_second) << "seed " << seed;
    this->CheckCachesIfReference(*first);
  }
}

TYPED_TEST(SorterContractTest, CycleOffersAreDisjointFitAndConserveResources) {
  ScriptStats stats;
  for (uint64_t seed = 100; seed < 110; ++seed) {
    auto a = this->Make(seed);
    RunScript(*a, seed, 40, &stats);  // checks after every cycle and placement
    this->CheckCachesIfReference(*a);
  }
  // The scenarios did exercise what they check.
  EXPECT_GT(stats.offers, 200);
  EXPECT_GT(stats.declined, 50);
  EXPECT_GT(stats.placed, 10);
  EXPECT_GT(stats.suppressed_cycles, 50);
  EXPECT_GT(stats.inactive_cycles, 50);
}

TYPED_TEST(SorterContractTest, IdenticalAgentsAreEachOfferedWholeToOneFramework) {
  // Whatever the order, nothing is left on the table: with every framework eligible
  // everywhere, each agent goes whole to the first framework of its walk.
  for (uint64_t seed : {0u, 3u, 99u}) {
    auto a = this->Make(seed);
    for (int i = 0; i < 5; ++i) {
      AddFramework(*a, "f" + std::to_string(i), {i < 3 ? "r" : "s"});
    }
    std::set<AgentId> agents;
    for (int i = 0; i < 6; ++i)
      agents.insert(AddAgent(*a, "a" + std::to_string(i), "cpus:2;mem:2048"));
    std::map<AgentId, Resources> before = FreeByAgent(*a);
    std::vector<Offer> offers = AllocateOk(*a, 0);
    EXPECT_TRUE(CycleIsSound(*a, before, offers));
    ASSERT_THAT(offers, SizeIs(6)) << Describe(*a, offers);
    std::set<AgentId> offered;
    for (const Offer& offer : offers) {
      offered.insert(offer.agent);
      EXPECT_EQ(offer.resources.ToString(), "cpus:2;mem:2048") << Describe(*a, offer);
    }
    EXPECT_EQ(offered, agents);
  }
}

TYPED_TEST(SorterContractTest, SuppressedOrInactiveFrameworksAreNeverOffered) {
  for (uint64_t seed : {0u, 5u, 77u, 2024u}) {
    auto a = this->Make(seed);
    for (int i = 0; i < 8; ++i) AddAgent(*a, "a" + std::to_string(i), "cpus:2;mem:2048");
    FrameworkId suppressed = AddFramework(*a, "suppressed", {"r"});
    FrameworkId inactive = AddFramework(*a, "inactive", {"r"});
    FrameworkId half = AddFramework(*a, "half", {"r", "s"});  // suppresses only "s"
    FrameworkId normal = AddFramework(*a, "normal", {"s"});
    RoleId r = FindRole(*a, "r");
    RoleId s = FindRole(*a, "s");
    ASSERT_EQ(a->Suppress(suppressed, r), absl::OkStatus());
    ASSERT_EQ(a->DeactivateFramework(inactive), absl::OkStatus());
    ASSERT_EQ(a->Suppress(half, s), absl::OkStatus());
    std::map<std::pair<FrameworkId, RoleId>, int> count;
    for (int cycle = 0; cycle < 6; ++cycle) {
      std::vector<Offer> offers = AllocateOk(*a, cycle);
      EXPECT_THAT(offers, SizeIs(8)) << "every agent still goes to someone";
      for (const Offer& offer : offers) {
        ++count[{offer.framework, offer.role}];
        EXPECT_EQ(a->Recover(offer.framework, offer.agent, offer.role, offer.resources),
                  absl::OkStatus());
      }
    }
    EXPECT_EQ((count[{suppressed, r}]), 0);
    EXPECT_EQ((count[{inactive, r}]), 0);
    EXPECT_EQ((count[{half, s}]), 0);
    EXPECT_GT((count[{half, r}] + count[{normal, s}]), 0);
    // Once revived and reactivated they are offered again (the exclusions above are not an
    // accident of the order).
    ASSERT_EQ(a->Revive(suppressed, r), absl::OkStatus());
    ASSERT_EQ(a->ActivateFramework(inactive), absl::OkStatus());
    ASSERT_EQ(a->Suppress(half, r), absl::OkStatus());
    ASSERT_EQ(a->Suppress(normal, s), absl::OkStatus());
    std::vector<Offer> offers = AllocateOk(*a, 10);
    EXPECT_THAT(offers, SizeIs(8));
    for (const Offer& offer : offers) {
      EXPECT_TRUE(offer.framework == suppressed || offer.framework == inactive)
          << Describe(*a, offer);
    }
    // Suppressing everything leaves every agent unoffered.
    ASSERT_EQ(a->Suppress(suppressed, r), absl::OkStatus());
    ASSERT_EQ(a->DeactivateFramework(inactive), absl::OkStatus());
    EXPECT_THAT(AllocateOk(*a, 11), IsEmpty());
  }
}

// Checks one Place call against the sorter-independent rules and returns its decisions.
template <typename A>
std::vector<PlacementDecision> PlaceAndCheck(A& a, const std::vector<TaskRequest>& requests,
                                             PlacementPolicy policy,
                                             const std::set<FrameworkId>& inactive) {
  std::map<AgentId, Resources> before = FreeByAgent(a);
  absl::StatusOr<std::vector<PlacementDecision>> decisions = a.Place(requests, policy);
  EXPECT_EQ(decisions.status(), absl::OkStatus());
  if (!decisions.ok()) return {};
  EXPECT_THAT(*decisions, SizeIs(requests.size()));
  if (decisions->size() != requests.size()) return {};
  std::map<AgentId, Resources> placed;
  std::map<FrameworkId, bool> failed;  // an earlier request of the framework failed
  for (size_t i = 0; i < requests.size(); ++i) {
    const TaskRequest& request = requests[i];
    const PlacementDecision& decision = (*decisions)[i];
    std::string what =
        absl::StrCat("request ", i, " of ", *a.FrameworkName(request.framework), " (",
                     request.demand.ToString(), "): ", std::string(ReasonName(decision.reason)));
    if (inactive.contains(request.framework)) {
      EXPECT_EQ(decision.reason, Reason::kFrameworkInactive) << what;
      continue;
    }
    if (failed[request.framework]) {
      EXPECT_EQ(decision.reason, Reason::kQueuedBehind) << "FIFO broken: " << what;
      continue;
    }
    EXPECT_NE(decision.reason, Reason::kQueuedBehind) << "queued behind nothing: " << what;
    EXPECT_NE(decision.reason, Reason::kFrameworkInactive) << what;
    if (!decision.placed()) {
      failed[request.framework] = true;
      continue;
    }
    // What was allocated is exactly the demand (summed over reservations), taken from pools
    // the role may use, on a live agent.
    EXPECT_EQ(ScalarSums(decision.resources), ScalarSums(request.demand)) << what;
    EXPECT_EQ(decision.resources.AllocatableTo(a.RoleName(request.role)), decision.resources)
        << what;
    EXPECT_TRUE(before.contains(decision.agent)) << what;
    EXPECT_EQ(placed[decision.agent].Add(decision.resources), absl::OkStatus());
  }
  for (const auto& [agent, free] : before) {
    Resources left = free;
    if (auto it = placed.find(agent); it != placed.end()) {
      EXPECT_TRUE(free.Contains(it->second))
          << "placements on " << *a.AgentName(agent) << " (" << it->second.ToString()
          << ") do not fit in what was free (" << free.ToString() << ")";
      EXPECT_EQ(left.Subtract(it->second), absl::OkStatus());
    }
    EXPECT_EQ(*a.Free(agent), left) << *a.AgentName(agent);
  }
  EXPECT_TRUE(Conserved(a));
  return *decisions;
}

TYPED_TEST(SorterContractTest, PlaceIsDeterministicAndFillsProgressively) {
  static const std::vector<std::string> kDemands = {
      "cpus:1;mem:1024", "cpus:2;mem:512", "cpus:0.5;mem:4096", "cpus:4;mem:4096", "mem:8192",
      "cpus:1;disk:10",  "cpus:3",         "cpus:0.25;mem:64"};
  int placed = 0, failed = 0, queued = 0;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
    std::vector<TaskRequest> requests;
    std::vector<std::vector<PlacementDecision>> runs;
    for (int twin = 0; twin < 2; ++twin) {
      auto a = this->Make(seed);
      AddAgent(*a, "a0", "cpus:4;mem:8192;disk:50");
      AddAgent(*a, "a1", "cpus:8;mem:4096");
      AddAgent(*a, "a2", "cpus(a):2;cpus:2;mem:16384");
      AgentId off = AddAgent(*a, "a3", "cpus:16;mem:32768;disk:100");
      AddAgent(*a, "a4", "cpus:2;mem:2048;disk:20");
      ASSERT_EQ(a->DeactivateAgent(off), absl::OkStatus());
      ASSERT_EQ(a->SetWeight("a", 2), absl::OkStatus());
      ASSERT_EQ(a->SetQuota("b", {Q("cpus:2"), {}}), absl::OkStatus());
      ASSERT_EQ(a->SetQuota("c", {{}, Q("cpus:4")}), absl::OkStatus());
      std::vector<FrameworkId> fws = {
          AddFramework(*a, "f0", {"a"}), AddFramework(*a, "f1", {"b"}),
          AddFramework(*a, "f2", {"c"}), AddFramework(*a, "f3", {"a", "b"}),
          AddFramework(*a, "f4", {"a"}), AddFramework(*a, "f5", {"c"})};
      ASSERT_EQ(a->DeactivateFramework(fws[4]), absl::OkStatus());
      if (twin == 0) {
        for (int i = 0; i < 30; ++i) {
          size_t f = pick(fws.size());
          std::string role = f == 0 || f == 4 ? "a"
                             : f == 1         ? "b"
                             : f == 3         ? (pick(2) ? "a" : "b")
                                              : "c";
          requests.push_back({fws[f], FindRole(*a, role), R(kDemands[pick(kDemands.size())])});
        }
      }
      std::vector<PlacementDecision> decisions =
          PlaceAndCheck(*a, requests, PlacementPolicy::kFirstFit, {fws[4]});
      EXPECT_LE(a->Consumption(FindRole(*a, "c"))->Get("cpus"), 4000);
      // A second round on what is left follows the same rules.
      std::vector<PlacementDecision> more =
          PlaceAndCheck(*a, requests, PlacementPolicy::kWorstFit, {fws[4]});
      EXPECT_LE(a->Consumption(FindRole(*a, "c"))->Get("cpus"), 4000);
      decisions.insert(decisions.end(), more.begin(), more.end());
      if (twin == 0) {
        for (const PlacementDecision& d : decisions) {
          placed += d.placed();
          failed += !d.placed() && d.reason != Reason::kQueuedBehind &&
                    d.reason != Reason::kFrameworkInactive;
          queued += d.reason == Reason::kQueuedBehind;
        }
      }
      this->CheckCachesIfReference(*a);
      runs.push_back(std::move(decisions));
    }
    ASSERT_THAT(runs, SizeIs(2));
    ASSERT_THAT(runs[1], SizeIs(runs[0].size()));
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_EQ(runs[0][i].reason, runs[1][i].reason) << "seed " << seed << " decision " << i;
      EXPECT_EQ(runs[0][i].agent, runs[1][i].agent) << "seed " << seed << " decision " << i;
      EXPECT_EQ(runs[0][i].resources, runs[1][i].resources) << "seed " << seed << " decision " << i;
    }
  }
  EXPECT_GT(placed, 50);
  EXPECT_GT(failed, 5);
  EXPECT_GT(queued, 5);
}

TYPED_TEST(SorterContractTest, PlacementIgnoresSuppressionAndDeclineFilters) {
  auto a = this->Make(11);
  AgentId agent = AddAgent(*a, "a0", "cpus:4;mem:4096");
  FrameworkId f = AddFramework(*a, "f", {"r"});
  RoleId r = FindRole(*a, "r");
  std::vector<Offer> offers = AllocateOk(*a, 0);
  ASSERT_THAT(offers, SizeIs(1));
  ASSERT_EQ(a->Decline(f, agent, r, offers[0].resources, 1e9, 0), absl::OkStatus());
  ASSERT_EQ(a->Suppress(f, r), absl::OkStatus());
  EXPECT_THAT(AllocateOk(*a, 1), IsEmpty());
  std::vector<TaskRequest> requests = {{f, r, R("cpus:1;mem:1024")}};
  std::vector<PlacementDecision> decisions =
      PlaceAndCheck(*a, requests, PlacementPolicy::kFirstFit, {});
  ASSERT_THAT(decisions, SizeIs(1));
  EXPECT_EQ(decisions[0].reason, Reason::kNone);
  EXPECT_EQ(decisions[0].agent, agent);
  EXPECT_EQ(a->AllocatedTo(f, agent, r)->ToString(), "cpus:1;mem:1024");
}

// ---------------------------------------------------------------------------------------------
// DRF.

TYPED_TEST(DrfSorterTest, EveryIdleFrameworkIsOfferedWithinOneCycle) {
  // Flat fair sharing (one role for all, or one role each with equal weights) and at least as
  // many identical agents as active, unsuppressed, unfiltered frameworks: everybody with
  // nothing allocated gets an agent in the first cycle.
  for (bool one_role_each : {false, true}) {
    for (int frameworks : {1, 4, 7}) {
      for (int extra_agents : {0, 3}) {
        auto a = this->Make(0);
        std::vector<FrameworkId> ids;
        for (int i = 0; i < frameworks; ++i) {
          ids.push_back(AddFramework(*a, "f" + std::to_string(i),
                                     {one_role_each ? "r" + std::to_string(i) : "r"}));
        }
        // Ineligible frameworks do not count, and do not take agents.
        FrameworkId off = AddFramework(*a, "off", {"r"});
        ASSERT_EQ(a->DeactivateFramework(off), absl::OkStatus());
        for (int i = 0; i < frameworks + extra_agents; ++i) {
          AddAgent(*a, "a" + std::to_string(i), "cpus:4;mem:4096");
        }
        std::map<FrameworkId, int> count;
        for (const Offer& offer : AllocateOk(*a, 0)) ++count[offer.framework];
        for (FrameworkId id : ids) {
          EXPECT_GE(count[id], 1) << *a->FrameworkName(id) << " of " << frameworks
                                  << (one_role_each ? " (one role each)" : " (one role)")
                                  << " with " << extra_agents << " extra agents";
        }
        EXPECT_EQ(count[off], 0);
      }
    }
  }
}

// A dominant share computed from the outside of an allocator, from Total(): max over names of
// amount / cluster total, divided by the weight.
class OutsideShare {
 public:
  explicit OutsideShare(const Allocator& a) {
    for (AgentId agent : a.Agents()) {
      for (const auto& [name, amount] : ScalarSums(*a.Total(agent))) totals_[name] += amount;
    }
  }
  double operator()(const std::map<std::string, int64_t>& amounts, double weight) const {
    double out = 0;
    for (const auto& [name, amount] : amounts) {
      auto total = totals_.find(name);
      if (total != totals_.end() && total->second > 0 && amount > 0) {
        out = std::max(out, static_cast<double>(amount) / static_cast<double>(total->second));
      }
    }
    return out / weight;
  }

 private:
  std::map<std::string, int64_t> totals_;
};

TYPED_TEST(DrfSorterTest, FirstAgentGoesToTheLowestWeightedDominantShare) {
  static const std::vector<std::string> kDemands = {"cpus:1;mem:512", "cpus:0.5;mem:2048",
                                                    "cpus:2;mem:1024", "cpus:1;mem:1024"};
  static const std::vector<double> kWeights = {0.5, 1, 2, 4};
  int role_ties = 0, framework_ties = 0;
  for (uint64_t trial = 0; trial < 40; ++trial) {
    std::mt19937_64 rng(trial);
    auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
    auto a = this->Make(trial);
    size_t role_count = 3 + pick(4);
    std::vector<std::string> roles;
    std::vector<double> weights;
    for (size_t i = 0; i < role_count; ++i) {
      roles.push_back("r" + std::to_string(i));
      weights.push_back(kWeights[pick(kWeights.size())]);
      ASSERT_EQ(a->SetWeight(roles.back(), weights.back()), absl::OkStatus());
    }
    std::vector<std::pair<FrameworkId, size_t>> fws;  // framework, role index
    for (size_t i = 0; i < role_count; ++i) {
      for (size_t n = 1 + pick(2); n > 0; --n) {
        fws.push_back({AddFramework(*a, absl::StrCat("f", fws.size()), {roles[i]}), i});
      }
    }
    AgentId prize = AddAgent(*a, "prize", "cpus:4;mem:4096");
    for (int i = 0; i < 6; ++i) AddAgent(*a, "a" + std::to_string(i), "cpus:8;mem:8192");
    // Allocate elsewhere while the prize agent is out, so that it is visited first, whole.
    ASSERT_EQ(a->DeactivateAgent(prize), absl::OkStatus());
    std::vector<TaskRequest> requests;
    for (const auto& [id, role] : fws) {
      for (size_t n = pick(4); n > 0; --n) {
        requests.push_back({id, FindRole(*a, roles[role]), R(kDemands[pick(kDemands.size())])});
      }
    }
    std::shuffle(requests.begin(), requests.end(), rng);
    ASSERT_EQ(a->Place(requests, PlacementPolicy::kFirstFit).status(), absl::OkStatus());
    ASSERT_EQ(a->ActivateAgent(prize), absl::OkStatus());

    // Shares recomputed from the outside: max over names of allocated / cluster total.
    OutsideShare share(*a);
    std::vector<std::map<std::string, int64_t>> role_alloc(role_count);
    std::vector<double> fw_share;
    for (const auto& [id, role] : fws) {
      std::map<std::string, int64_t> mine;
      for (AgentId agent : a->Agents()) {
        for (const auto& [name, amount] :
             ScalarSums(*a->AllocatedTo(id, agent, FindRole(*a, roles[role])))) {
          mine[name] += amount;
          role_alloc[role][name] += amount;
        }
      }
      fw_share.push_back(share(mine, 1.0));
      EXPECT_DOUBLE_EQ(*a->FrameworkShare(id, FindRole(*a, roles[role])), fw_share.back());
    }
    // Lowest (share, role id); roles were created in index order, so ids ascend with it.
    size_t best_role = 0;
    std::vector<double> role_share;
    for (size_t i = 0; i < role_count; ++i) {
      role_share.push_back(share(role_alloc[i], weights[i]));
      EXPECT_DOUBLE_EQ(*a->RoleShare(FindRole(*a, roles[i])), role_share[i]);
      if (role_share[i] < role_share[best_role]) best_role = i;
    }
    role_ties += std::count(role_share.begin(), role_share.end(), role_share[best_role]) > 1;
    size_t best_fw = fws.size();
    int tied = 0;
    for (size_t k = 0; k < fws.size(); ++k) {
      if (fws[k].second != best_role) continue;
      if (best_fw == fws.size() || fw_share[k] < fw_share[best_fw]) {
        best_fw = k;
        tied = 1;
      } else if (fw_share[k] == fw_share[best_fw]) {
        ++tied;
      }
    }
    framework_ties += tied > 1;
    ASSERT_LT(best_fw, fws.size());

    std::vector<Offer> offers = AllocateOk(*a, 0);
    ASSERT_THAT(offers, ::testing::Not(IsEmpty())) << "trial " << trial;
    EXPECT_EQ(offers[0].agent, prize) << "trial " << trial;
    EXPECT_EQ(a->RoleName(offers[0].role), roles[best_role])
        << "trial " << trial << ": " << Describe(*a, offers[0]);
    EXPECT_EQ(offers[0].framework, fws[best_fw].first)
        << "trial " << trial << ": " << Describe(*a, offers[0]);
    EXPECT_EQ(offers[0].resources.ToString(), "cpus:4;mem:4096") << "trial " << trial;
  }
  // Both tie-breaks (between roles and between frameworks of a role) were exercised.
  EXPECT_GT(role_ties, 0);
  EXPECT_GT(framework_ties, 0);
}

// The first client of the hierarchical order at `position`, recomputed from the outside: from
// the root, the member with the smallest key among the children whose subtree has frameworks
// and the node's own frameworks (the virtual child, keyed with the node's id); inside the
// virtual child, the framework with the smallest key. DRF keys are (weighted dominant share,
// id); RANDOM keys are (RandomSortKey(seed, cycle, position, client), id).
struct Hierarchy {
  std::vector<std::string> paths;  // every role node
  std::map<std::string, double> weight;
  std::vector<std::pair<FrameworkId, std::string>> frameworks;  // one role each
};

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool IsWithin(const std::string& path, const std::string& node) {
  return path == node || path.starts_with(node + "/");
}

std::pair<FrameworkId, std::string> FirstClient(const Allocator& a, const Hierarchy& h,
                                                SorterKind sorter, uint64_t seed, uint64_t cycle,
                                                uint64_t position) {
  OutsideShare share(a);
  auto allocated = [&](FrameworkId framework, const std::string& role) {
    std::map<std::string, int64_t> out;
    for (AgentId agent : a.Agents()) {
      for (const auto& [name, amount] :
           ScalarSums(*a.AllocatedTo(framework, agent, FindRole(a, role)))) {
        out[name] += amount;
      }
    }
    return out;
  };
  auto weight = [&](const std::string& path) {
    auto it = h.weight.find(path);
    return it == h.weight.end() ? 1.0 : it->second;
  };
  // (share, random key, id, is framework-self, path or framework index)
  struct Member {
    double share;
    uint64_t key;
    uint32_t id;
    bool self;
    std::string path;
  };
  auto before = [&](const Member& x, const Member& y) {
    if (sorter == SorterKind::kDrf && x.share != y.share) return x.share < y.share;
    if (sorter == SorterKind::kRandom && x.key != y.key) return x.key < y.key;
    return x.id < y.id;
  };
  std::string node;  // "" is the root
  while (true) {
    std::vector<Member> members;
    for (const std::string& child : h.paths) {
      if (ParentOf(child) != node) continue;
      bool has = std::any_of(h.frameworks.begin(), h.frameworks.end(),
                             [&](const auto& f) { return IsWithin(f.second, child); });
      if (!has) continue;
      std::map<std::string, int64_t> consumption;
      for (const auto& [framework, role] : h.frameworks) {
        if (!IsWithin(role, child)) continue;
        for (const auto& [name, amount] : allocated(framework, role)) consumption[name] += amount;
      }
      uint32_t id = FindRole(a, child).value();
      members.push_back({share(consumption, weight(child)),
                         RandomSortKey(seed, cycle, position, RoleClient(id)), id, false, child});
    }
    if (!node.empty()) {
      std::map<std::string, int64_t> own;
      bool has = false;
      for (const auto& [framework, role] : h.frameworks) {
        if (role != node) continue;
        has = true;
        for (const auto& [name, amount] : allocated(framework, role)) own[name] += amount;
      }
      uint32_t id = FindRole(a, node).value();
      if (has) {
        members.push_back({share(own, weight(node)),
                           RandomSortKey(seed, cycle, position, SelfClient(id)), id, true, node});
      }
    }
    if (members.empty()) return {};
    Member best = *std::min_element(members.begin(), members.end(), before);
    if (!best.self) {
      node = best.path;
      continue;
    }
    std::vector<Member> frameworks;
    for (const auto& [framework, role] : h.frameworks) {
      if (role != node) continue;
      frameworks.push_back(
          {share(allocated(framework, role), 1.0),
           RandomSortKey(seed, cycle, position, FrameworkClient(framework.value())),
           framework.value(), false, role});
    }
    Member first = *std::min_element(frameworks.begin(), frameworks.end(), before);
    return {FrameworkId(first.id), node};
  }
}

TYPED_TEST(SorterContractTest, FirstAgentGoesToTheFirstClientOfTheHierarchicalOrder) {
  // DRF: lowest weighted dominant share at every level (ties: lower id); RANDOM: smallest
  // RandomSortKey at every level. Nested roles, frameworks at inner nodes (virtual children),
  // weights set before and after the allocations.
  static const std::vector<std::string> kPool = {"a", "a/b", "a/c", "d", "d/e", "d/e/f", "g"};
  static const std::vector<std::string> kDemands = {"cpus:1;mem:512", "cpus:0.5;mem:2048",
                                                    "cpus:2;mem:1024", "cpus:1;mem:1024"};
  static const std::vector<double> kWeights = {0.5, 1, 2, 3};
  std::set<std::string> winning_roles;
  for (uint64_t trial = 0; trial < 60; ++trial) {
    std::mt19937_64 rng(trial * 7919 + 1);
    auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
    auto a = this->Make(trial);
    Hierarchy h;
    // Nodes come into being in a random order, so ids do not follow the names.
    std::vector<std::string> order = kPool;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::string& path : order) {
      if (pick(2) == 0) continue;
      h.weight[path] = kWeights[pick(kWeights.size())];
      ASSERT_EQ(a->SetWeight(path, h.weight[path]), absl::OkStatus());
    }
    for (size_t n = 4 + pick(5); n > 0; --n) {
      std::string role = kPool[pick(kPool.size())];
      h.frameworks.push_back(
          {AddFramework(*a, absl::StrCat("f", h.frameworks.size()), {role}), role});
    }
    for (const std::string& path : kPool) {
      if (a->FindRole(path).ok()) h.paths.push_back(path);
    }
    AgentId prize = AddAgent(*a, "prize", "cpus:4;mem:4096");
    for (int i = 0; i < 6; ++i) AddAgent(*a, "a" + std::to_string(i), "cpus:8;mem:8192");
    ASSERT_EQ(a->DeactivateAgent(prize), absl::OkStatus());
    std::vector<TaskRequest> requests;
    for (size_t n = 1 + pick(10); n > 0; --n) {
      const auto& [framework, role] = h.frameworks[pick(h.frameworks.size())];
      requests.push_back({framework, FindRole(*a, role), R(kDemands[pick(kDemands.size())])});
    }
    ASSERT_EQ(a->Place(requests, PlacementPolicy::kFirstFit).status(), absl::OkStatus());
    // Re-weight some nodes after the allocations.
    for (const std::string& path : h.paths) {
      if (pick(3) != 0) continue;
      h.weight[path] = kWeights[pick(kWeights.size())];
      ASSERT_EQ(a->SetWeight(path, h.weight[path]), absl::OkStatus());
    }
    ASSERT_EQ(a->ActivateAgent(prize), absl::OkStatus());
    // Cycle 2: the Place call was cycle 1. The prize agent is position 0.
    auto [framework, role] = FirstClient(*a, h, this->kSorter, trial, 2, prize.value());
    ASSERT_TRUE(framework.valid());
    std::vector<Offer> offers = AllocateOk(*a, 0);
    ASSERT_THAT(offers, ::testing::Not(IsEmpty())) << "trial " << trial;
    EXPECT_EQ(offers[0].agent, prize) << "trial " << trial;
    EXPECT_EQ(Describe(*a, offers[0]),
              absl::StrCat(*a->FrameworkName(framework), "@prize/", role, "=cpus:4;mem:4096"))
        << "trial " << trial;
    winning_roles.insert(role);
  }
  // Virtual children and nested roles did win.
  EXPECT_GE(winning_roles.size(), 4u);
}

TYPED_TEST(DrfSorterTest, TheSeedDoesNotMatter) {
  auto first = this->Make(1);
  auto second = this->Make(987654321);
  ScriptStats stats;
  EXPECT_EQ(RunScript(*first, 5, 25, &stats), RunScript(*second, 5, 25, &stats));
  EXPECT_GT(stats.offers, 0);
}

// ---------------------------------------------------------------------------------------------
// RANDOM.

// The framework that RANDOM puts first at `position` in `cycle` among `frameworks`, when they
// all subscribe to one role (one_role_each false) or each to its own role.
FrameworkId PredictedWinner(const Allocator& a, uint64_t seed, uint64_t cycle, uint64_t position,
                            const std::vector<FrameworkId>& frameworks, bool one_role_each) {
  FrameworkId best;
  uint64_t best_key = 0;
  for (size_t i = 0; i < frameworks.size(); ++i) {
    uint64_t client = one_role_each ? RoleClient(FindRole(a, "r" + std::to_string(i)).value())
                                    : FrameworkClient(frameworks[i].value());
    uint64_t key = RandomSortKey(seed, cycle, position, client);
    if (!best.valid() || key < best_key) {
      best = frameworks[i];
      best_key = key;
    }
  }
  return best;
}

TYPED_TEST(RandomSorterTest, EveryAgentGoesToTheSortKeyWinnerWhateverWasAllocated) {
  // RANDOM ignores allocations: each agent goes to the framework with the smallest
  // RandomSortKey(seed, cycle, agent id, client), even if it already won agents this cycle.
  int repeat_winners = 0;
  for (bool one_role_each : {false, true}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      auto a = this->Make(seed);
      std::vector<FrameworkId> fws;
      for (int i = 0; i < 6; ++i) {
        fws.push_back(AddFramework(*a, "f" + std::to_string(i),
                                   {one_role_each ? "r" + std::to_string(i) : "r"}));
      }
      for (int i = 0; i < 8; ++i) AddAgent(*a, "a" + std::to_string(i), "cpus:1;mem:1024");
      for (uint64_t cycle = 1; cycle <= 2; ++cycle) {
        std::vector<Offer> offers = AllocateOk(*a, static_cast<double>(cycle));
        ASSERT_THAT(offers, SizeIs(8));
        std::set<FrameworkId> winners;
        for (const Offer& offer : offers) {
          EXPECT_EQ(offer.framework,
                    PredictedWinner(*a, seed, cycle, offer.agent.value(), fws, one_role_each))
              << "seed " << seed << " cycle " << cycle << ": " << Describe(*a, offer);
          winners.insert(offer.framework);
          EXPECT_EQ(a->Recover(offer.framework, offer.agent, offer.role, offer.resources),
                    absl::OkStatus());
        }
        repeat_winners += winners.size() < offers.size();
      }
    }
  }
  EXPECT_GT(repeat_winners, 0);
}

TYPED_TEST(RandomSorterTest, DifferentSeedsPickDifferentWinners) {
  std::set<FrameworkId> winners;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto a = this->Make(seed);
    for (int i = 0; i < 10; ++i) AddFramework(*a, "f" + std::to_string(i), {"r"});
    AgentId first = AddAgent(*a, "a0", "cpus:1;mem:1024");
    for (int i = 1; i < 10; ++i) AddAgent(*a, "a" + std::to_string(i), "cpus:1;mem:1024");
    std::vector<Offer> offers = AllocateOk(*a, 0);
    ASSERT_THAT(offers, ::testing::Not(IsEmpty()));
    ASSERT_EQ(offers[0].agent, first);
    winners.insert(offers[0].framework);
  }
  EXPECT_GE(winners.size(), 2u);
}

TYPED_TEST(RandomSorterTest, NoFrameworkIsFavoured) {
  std::map<FrameworkId, int> wins;
  std::vector<FrameworkId> fws;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto a = this->Make(seed);
    fws.clear();
    for (int i = 0; i < 4; ++i) fws.push_back(AddFramework(*a, "f" + std::to_string(i), {"r"}));
    AgentId agent = AddAgent(*a, "a0", "cpus:1;mem:1024");
    std::vector<Offer> offers = AllocateOk(*a, 0);
    ASSERT_THAT(offers, SizeIs(1));
    ASSERT_EQ(offers[0].agent, agent);
    ++wins[offers[0].framework];
  }
  for (FrameworkId id : fws) {
    EXPECT_GE(wins[id], 20) << "framework " << id.value() << " won agent 0 " << wins[id]
                            << " times in 200 seeds";
  }
}

}  // namespace
}  // namespace steward::allocator
