// Placement policy contract, for every implementation x policy: a placed request lands on an
// active agent where the demand fits in what was free for the role, and that agent is the
// policy's optimum among all qualifying agents, recomputed here from Free()/Total() before the
// call with the formulas of allocator.h (PLACE). Random heterogeneous clusters without
// reservations or quota, one request per Place call so that the state before is exactly known.
#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/allocator.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {

namespace {

using test_util::R;

using ::testing::SizeIs;

std::string_view PolicyName(PlacementPolicy policy) {
  switch (policy) {
    case PlacementPolicy::kFirstFit:
      return "FirstFit";
    case PlacementPolicy::kBestFit:
      return "BestFit";
    case PlacementPolicy::kWorstFit:
      return "WorstFit";
    case PlacementPolicy::kDotProduct:
      return "DotProduct";
  }
  return "Unknown";
}

template <typename A, PlacementPolicy kP>
struct Config {
  using Impl = A;
  static constexpr PlacementPolicy kPolicy = kP;
};

class ConfigNames {
 public:
  template <typename C>
  static std::string GetName(int) {
    return std::string(std::is_same_v<typename C::Impl, Engine> ? "Engine" : "Reference") +
           std::string(PolicyName(C::kPolicy));
  }
};

// What the contract says a single-request Place must do, computed from the state before it.
struct Expectation {
  Reason reason = Reason::kInsufficientResources;
  AgentId agent;       // when placed
  int qualifying = 0;  // agents that qualified
  int tied = 0;        // qualifying agents with the optimal score
  std::string scores;  // for failure messages
  std::map<AgentId, double> score_of;
};

// The policy score of one agent: sum over the demand's names in ascending name order of
// (free_r - d_r) / cap_r (best and worst fit) or (d_r / cap_r) * (free_r / cap_r) (dot product).
double Score(PlacementPolicy policy, const Resources& demand, const Resources& free,
             const Resources& total) {
  double score = 0.0;
  for (const Resource& entry : demand.entries()) {  // sorted by name
    double cap = static_cast<double>(total.ScalarMilli(entry.name));
    int64_t usable = free.ScalarMilli(entry.name);
    if (policy == PlacementPolicy::kDotProduct) {
      score += (static_cast<double>(entry.scalar) / cap) * (static_cast<double>(usable) / cap);
    } else {
      score += static_cast<double>(usable - entry.scalar) / cap;
    }
  }
  return score;
}

Expectation Expect(const Allocator& a, const Resources& demand, bool gpu_capable,
                   const std::set<AgentId>& inactive, PlacementPolicy policy) {
  Expectation out;
  bool gpu_agent_fits = false;
  double best = 0;
  std::vector<AgentId> agents = a.Agents();
  std::sort(agents.begin(), agents.end());
  for (AgentId agent : agents) {
    if (inactive.contains(agent)) continue;
    Resources free = *a.Free(agent);
    Resources total = *a.Total(agent);
    bool fits =
        std::all_of(demand.entries().begin(), demand.entries().end(),
                    [&](const Resource& e) { return free.ScalarMilli(e.name) >= e.scalar; });
    if (!fits) continue;
    if (total.Has("gpus") && !gpu_capable) {
      gpu_agent_fits = true;
      continue;
    }
    ++out.qualifying;
    double score = policy == PlacementPolicy::kFirstFit ? 0.0 : Score(policy, demand, free, total);
    out.score_of[agent] = score;
    absl::StrAppend(&out.scores, " ", *a.AgentName(agent), "=", score);
    bool better =
        !out.agent.valid() || (policy == PlacementPolicy::kBestFit ? score < best : score > best);
    if (better) {
      out.agent = agent;
      best = score;
      out.tied = 1;
    } else if (score == best) {
      ++out.tied;
    }
  }
  if (out.agent.valid()) {
    out.reason = Reason::kNone;
  } else {
    out.reason = gpu_agent_fits ? Reason::kMissingGpuCapability : Reason::kInsufficientResources;
  }
  return out;
}

template <typename C>
class PlacementPolicyTest : public ::testing::Test {
 protected:
  using Impl = typename C::Impl;
  static constexpr PlacementPolicy kPolicy = C::kPolicy;
};

using Configs = ::testing::Types<
    Config<Engine, PlacementPolicy::kFirstFit>, Config<Engine, PlacementPolicy::kBestFit>,
    Config<Engine, PlacementPolicy::kWorstFit>, Config<Engine, PlacementPolicy::kDotProduct>,
    Config<ReferenceAllocator, PlacementPolicy::kFirstFit>,
    Config<ReferenceAllocator, PlacementPolicy::kBestFit>,
    Config<ReferenceAllocator, PlacementPolicy::kWorstFit>,
    Config<ReferenceAllocator, PlacementPolicy::kDotProduct>>;
TYPED_TEST_SUITE(PlacementPolicyTest, Configs, ConfigNames);

struct Held {
  FrameworkId framework;
  AgentId agent;
  RoleId role;
  Resources resources;
};

TYPED_TEST(PlacementPolicyTest, ChosenAgentIsOptimalOnRandomClusters) {
  static const std::vector<std::string> kCpus = {"0.5", "1", "2", "3", "4", "8", "16", "32"};
  static const std::vector<std::string> kMem = {"512",  "1024",  "2048",  "4096",
                                                "8192", "16384", "65536", "131072"};
  static const std::vector<std::string> kDemandCpus = {"0.1", "0.333", "0.5", "1",
                                                       "1.5", "2",     "4",   "24"};
  static const std::vector<std::string> kDemandMem = {"128", "1000", "4096", "16384", "100000"};
  int placed = 0, missing_gpu = 0, insufficient = 0, real_choices = 0, ties = 0, not_first = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
    typename TestFixture::Impl a;
    size_t agent_count = 5 + pick(8);
    std::vector<AgentId> agents;
    for (size_t i = 0; i < agent_count; ++i) {
      std::string text =
          absl::StrCat("cpus:", kCpus[pick(kCpus.size())], ";mem:", kMem[pick(kMem.size())]);
      if (pick(2) == 0) absl::StrAppend(&text, ";disk:", 10 * (1 + pick(100)));
      if (pick(3) == 0) absl::StrAppend(&text, ";gpus:", 1 + pick(4));
      absl::StatusOr<AgentId> id = a.AddAgent({absl::StrCat("a", i), R(text), {}});
      ASSERT_EQ(id.status(), absl::OkStatus()) << text;
      agents.push_back(*id);
    }
    absl::StatusOr<FrameworkId> gpu = a.AddFramework({"gpu", {"g"}, true, {}});
    absl::StatusOr<FrameworkId> plain = a.AddFramework({"plain", {"team/p"}, false, {}});
    ASSERT_EQ(gpu.status(), absl::OkStatus());
    ASSERT_EQ(plain.status(), absl::OkStatus());
    RoleId gpu_role = *a.FindRole("g");
    RoleId plain_role = *a.FindRole("team/p");
    std::set<AgentId> inactive;
    std::vector<Held> held;
    for (int step = 0; step < 40; ++step) {
      if (pick(10) == 0) {
        AgentId agent = agents[pick(agents.size())];
        if (inactive.erase(agent) > 0) {
          ASSERT_EQ(a.ActivateAgent(agent), absl::OkStatus());
        } else {
          inactive.insert(agent);
          ASSERT_EQ(a.DeactivateAgent(agent), absl::OkStatus());
        }
      }
      if (!held.empty() && pick(3) == 0) {
        size_t i = pick(held.size());
        ASSERT_EQ(a.Recover(held[i].framework, held[i].agent, held[i].role, held[i].resources),
                  absl::OkStatus());
        held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
      }
      bool capable = pick(2) == 0;
      std::string text = absl::StrCat("cpus:", kDemandCpus[pick(kDemandCpus.size())]);
      if (pick(4) != 0) absl::StrAppend(&text, ";mem:", kDemandMem[pick(kDemandMem.size())]);
      if (pick(4) == 0) absl::StrAppend(&text, ";disk:", 5 * (1 + pick(60)));
      if (pick(5) == 0) absl::StrAppend(&text, ";gpus:", 1 + pick(2));
      TaskRequest request{capable ? *gpu : *plain, capable ? gpu_role : plain_role, R(text)};

      std::map<AgentId, Resources> free_before;
      for (AgentId agent : agents) free_before[agent] = *a.Free(agent);
      Expectation expected = Expect(a, request.demand, capable, inactive, TestFixture::kPolicy);
      Expectation first_fit =
          Expect(a, request.demand, capable, inactive, PlacementPolicy::kFirstFit);
      std::vector<TaskRequest> one = {request};
      absl::StatusOr<std::vector<PlacementDecision>> decisions = a.Place(one, TestFixture::kPolicy);
      ASSERT_EQ(decisions.status(), absl::OkStatus());
      ASSERT_THAT(*decisions, SizeIs(1));
      const PlacementDecision& decision = (*decisions)[0];
      std::string context =
          absl::StrCat("seed ", seed, " step ", step, " ", capable ? "gpu" : "plain", " demand ",
                       text, "; scores:", expected.scores);
      ASSERT_EQ(decision.reason, expected.reason)
          << context << "; got " << ReasonName(decision.reason);
      if (!decision.placed()) {
        for (AgentId agent : agents) EXPECT_EQ(*a.Free(agent), free_before[agent]) << context;
        ++(decision.reason == Reason::kMissingGpuCapability ? missing_gpu : insufficient);
        continue;
      }
      ++placed;
      real_choices += expected.qualifying > 1;
      ties += expected.tied > 1;
      not_first += expected.agent != first_fit.agent;
      // The agent is active, the demand fitted in what was free there, and no qualifying
      // agent scores better (ties: lowest id).
      EXPECT_FALSE(inactive.contains(decision.agent)) << context;
      ASSERT_TRUE(free_before.contains(decision.agent)) << context;
      EXPECT_TRUE(free_before[decision.agent].Contains(request.demand)) << context;
      EXPECT_EQ(decision.agent, expected.agent)
          << context << "; chose " << *a.AgentName(decision.agent) << " (score "
          << expected.score_of[decision.agent] << "), optimum " << *a.AgentName(expected.agent);
      EXPECT_EQ(decision.resources, request.demand) << context;
      Resources left = free_before[decision.agent];
      ASSERT_EQ(left.Subtract(request.demand), absl::OkStatus());
      EXPECT_EQ(*a.Free(decision.agent), left) << context;
      EXPECT_EQ(*a.AllocatedTo(request.framework, decision.agent, request.role), [&] {
        Resources sum = request.demand;
        for (const Held& h : held) {
          if (h.framework == request.framework && h.agent == decision.agent) {
            EXPECT_EQ(sum.Add(h.resources), absl::OkStatus());
          }
        }
        return sum;
      }()) << context;
      held.push_back({request.framework, decision.agent, request.role, decision.resources});
    }
  }
  // The random clusters exercised every outcome.
  EXPECT_GT(placed, 500);
  EXPECT_GT(real_choices, 300);
  EXPECT_GT(missing_gpu, 50);
  EXPECT_GT(insufficient, 50);
  EXPECT_GT(ties, 10);
  if (TestFixture::kPolicy != PlacementPolicy::kFirstFit) {
    EXPECT_GT(not_first, 100);
  }
}

TYPED_TEST(PlacementPolicyTest, FailureReasonsOnAGpuCluster) {
  typename TestFixture::Impl a;
  AgentId gpu_big = *a.AddAgent({"gpu-big", R("cpus:16;mem:65536;gpus:2"), {}});
  AgentId plain_small = *a.AddAgent({"plain-small", R("cpus:2;mem:2048"), {}});
  AgentId plain_off = *a.AddAgent({"plain-off", R("cpus:32;mem:131072"), {}});
  ASSERT_EQ(a.DeactivateAgent(plain_off), absl::OkStatus());
  FrameworkId plain = *a.AddFramework({"plain", {"p"}, false, {}});
  FrameworkId capable = *a.AddFramework({"capable", {"g"}, true, {}});
  RoleId p = *a.FindRole("p");
  RoleId g = *a.FindRole("g");
  auto place = [&](FrameworkId framework, RoleId role, std::string_view demand) {
    std::vector<TaskRequest> one = {{framework, role, R(demand)}};
    absl::StatusOr<std::vector<PlacementDecision>> decisions = a.Place(one, TestFixture::kPolicy);
    EXPECT_EQ(decisions.status(), absl::OkStatus());
    return decisions.ok() && decisions->size() == 1 ? (*decisions)[0] : PlacementDecision{};
  };
  // Fits only on the GPU agent: the framework is not GPU capable.
  EXPECT_EQ(place(plain, p, "cpus:4;mem:4096").reason, Reason::kMissingGpuCapability);
  EXPECT_EQ(place(plain, p, "gpus:1").reason, Reason::kMissingGpuCapability);
  // Fits nowhere active (only on the inactive agent, which does not count).
  EXPECT_EQ(place(plain, p, "cpus:20;mem:1024").reason, Reason::kInsufficientResources);
  EXPECT_EQ(place(plain, p, "cpus:64").reason, Reason::kInsufficientResources);
  EXPECT_EQ(place(capable, g, "cpus:20").reason, Reason::kInsufficientResources);
  EXPECT_EQ(place(capable, g, "gpus:3").reason, Reason::kInsufficientResources);
  EXPECT_EQ(place(plain, p, "disk:1").reason, Reason::kInsufficientResources);
  for (AgentId agent : {gpu_big, plain_small, plain_off}) {
    EXPECT_TRUE(a.Allocated(agent)->empty()) << *a.AgentName(agent);
  }
  // The GPU agent is excluded for `plain` even where the policy would prefer it.
  PlacementDecision small = place(plain, p, "cpus:1;mem:1024");
  EXPECT_EQ(small.reason, Reason::kNone);
  EXPECT_EQ(small.agent, plain_small);
  PlacementDecision big = place(capable, g, "cpus:4;mem:4096");
  EXPECT_EQ(big.reason, Reason::kNone);
  EXPECT_EQ(big.agent, gpu_big);
  // Reactivated, the big plain agent qualifies again.
  ASSERT_EQ(a.ActivateAgent(plain_off), absl::OkStatus());
  PlacementDecision off = place(plain, p, "cpus:20;mem:1024");
  EXPECT_EQ(off.reason, Reason::kNone);
  EXPECT_EQ(off.agent, plain_off);
}

}  // namespace
}  // namespace steward::allocator
