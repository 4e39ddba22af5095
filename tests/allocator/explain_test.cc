// Engine::Explain: for each reason it reports, a small cluster where that reason applies to a
// known number of agents; the counts must be exact and the summary must name the framework,
// the role and every reason it counts.
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/allocator.h"
#include "allocator/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {

namespace {

using test_util::Q;
using test_util::R;

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

constexpr Reason kAllReasons[] = {Reason::kNone,
                                  Reason::kFrameworkInactive,
                                  Reason::kRoleSuppressed,
                                  Reason::kAgentInactive,
                                  Reason::kMissingGpuCapability,
                                  Reason::kFiltered,
                                  Reason::kQuotaLimit,
                                  Reason::kHeldForHeadroom,
                                  Reason::kBelowMinAllocatable,
                                  Reason::kInsufficientResources,
                                  Reason::kQueuedBehind};

class ExplainTest : public ::testing::Test {
 protected:
  AgentId Agent(const std::string& name, std::string_view resources) {
    absl::StatusOr<AgentId> id = engine_.AddAgent({name, R(resources), {}});
    EXPECT_EQ(id.status(), absl::OkStatus()) << name;
    return id.ok() ? *id : AgentId();
  }
  FrameworkId Framework(const std::string& name, std::vector<std::string> roles, bool gpu = false,
                        std::vector<Resources> min = {}) {
    absl::StatusOr<FrameworkId> id =
        engine_.AddFramework({name, std::move(roles), gpu, std::move(min)});
    EXPECT_EQ(id.status(), absl::OkStatus()) << name;
    return id.ok() ? *id : FrameworkId();
  }
  RoleId Role(std::string_view path) {
    absl::StatusOr<RoleId> role = engine_.FindRole(path);
    EXPECT_EQ(role.status(), absl::OkStatus()) << path;
    return role.ok() ? *role : RoleId();
  }
  std::vector<RoleExplanation> Explain(FrameworkId framework, double now = 0) {
    absl::StatusOr<std::vector<RoleExplanation>> out = engine_.Explain(framework, now);
    EXPECT_EQ(out.status(), absl::OkStatus());
    return out.ok() ? *out : std::vector<RoleExplanation>();
  }
  void Place(FrameworkId framework, std::string_view role, std::string_view demand) {
    std::vector<TaskRequest> one = {{framework, Role(role), R(demand)}};
    absl::StatusOr<std::vector<PlacementDecision>> decisions =
        engine_.Place(one, PlacementPolicy::kFirstFit);
    ASSERT_EQ(decisions.status(), absl::OkStatus());
    ASSERT_THAT(*decisions, SizeIs(1));
    ASSERT_EQ((*decisions)[0].reason, Reason::kNone) << demand;
  }

  // Exact counts (each reason once, non-zero), and a summary naming the framework, the role
  // and every counted reason but kNone, and no reason it does not count.
  static void Check(const RoleExplanation& explanation, const std::string& framework,
                    const std::string& role, const std::map<Reason, int>& expected) {
    SCOPED_TRACE(explanation.summary);
    std::vector<::testing::Matcher<std::pair<Reason, int>>> counts;
    for (const auto& [reason, count] : expected) counts.push_back(Pair(reason, count));
    EXPECT_THAT(explanation.agents_by_reason, UnorderedElementsAreArray(counts));
    for (const auto& [reason, count] : explanation.agents_by_reason) {
      EXPECT_GT(count, 0) << ReasonName(reason);
    }
    EXPECT_THAT(explanation.summary, HasSubstr(framework));
    EXPECT_THAT(explanation.summary, HasSubstr(role));
    for (Reason reason : kAllReasons) {
      if (reason == Reason::kNone) continue;
      std::string name(ReasonName(reason));
      if (expected.contains(reason)) {
        EXPECT_THAT(explanation.summary, HasSubstr(name));
      } else {
        EXPECT_THAT(explanation.summary, Not(HasSubstr(name)));
      }
    }
  }

  Engine engine_;
};

TEST_F(ExplainTest, NoneWhenEveryAgentIsOfferable) {
  for (int i = 0; i < 3; ++i) Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  FrameworkId f = Framework("alpha", {"web"});
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].role, Role("web"));
  Check(out[0], "alpha", "web", {{Reason::kNone, 3}});
}

TEST_F(ExplainTest, NoAgentsNoCounts) {
  FrameworkId f = Framework("alpha", {"web"});
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_THAT(out[0].agents_by_reason, IsEmpty());
  EXPECT_THAT(out[0].summary, HasSubstr("alpha"));
}

TEST_F(ExplainTest, FrameworkInactive) {
  for (int i = 0; i < 3; ++i) Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  FrameworkId f = Framework("alpha", {"web"});
  ASSERT_EQ(engine_.DeactivateFramework(f), absl::OkStatus());
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(1));
  Check(out[0], "alpha", "web", {{Reason::kFrameworkInactive, 3}});
  ASSERT_EQ(engine_.ActivateFramework(f), absl::OkStatus());
  Check(Explain(f).at(0), "alpha", "web", {{Reason::kNone, 3}});
}

TEST_F(ExplainTest, RoleSuppressedOnlyForThatRole) {
  for (int i = 0; i < 3; ++i) Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  FrameworkId f = Framework("alpha", {"web", "batch"});
  ASSERT_EQ(engine_.Suppress(f, Role("web")), absl::OkStatus());
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].role, Role("web"));
  Check(out[0], "alpha", "web", {{Reason::kRoleSuppressed, 3}});
  EXPECT_EQ(out[1].role, Role("batch"));
  Check(out[1], "alpha", "batch", {{Reason::kNone, 3}});
  ASSERT_EQ(engine_.Revive(f, Role("web")), absl::OkStatus());
  Check(Explain(f).at(0), "alpha", "web", {{Reason::kNone, 3}});
}

TEST_F(ExplainTest, AgentInactiveAndRemovedAgentsAreNotCounted) {
  std::vector<AgentId> agents;
  for (int i = 0; i < 5; ++i)
    agents.push_back(Agent("agent" + std::to_string(i), "cpus:2;mem:2048"));
  FrameworkId f = Framework("alpha", {"web"});
  ASSERT_EQ(engine_.DeactivateAgent(agents[1]), absl::OkStatus());
  ASSERT_EQ(engine_.DeactivateAgent(agents[3]), absl::OkStatus());
  ASSERT_EQ(engine_.RemoveAgent(agents[4]), absl::OkStatus());
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(1));
  Check(out[0], "alpha", "web", {{Reason::kNone, 2}, {Reason::kAgentInactive, 2}});
}

TEST_F(ExplainTest, MissingGpuCapability) {
  Agent("gpu0", "cpus:8;mem:8192;gpus:1");
  Agent("plain", "cpus:2;mem:2048");
  Agent("gpu1", "cpus:8;mem:8192;gpus:2");
  FrameworkId plain = Framework("alpha", {"web"});
  FrameworkId capable = Framework("bravo", {"web"}, /*gpu=*/true);
  Check(Explain(plain).at(0), "alpha", "web",
        {{Reason::kNone, 1}, {Reason::kMissingGpuCapability, 2}});
  Check(Explain(capable).at(0), "bravo", "web", {{Reason::kNone, 3}});
}

TEST_F(ExplainTest, FilteredWhileTheFilterIsLive) {
  std::vector<AgentId> agents;
  for (int i = 0; i < 3; ++i)
    agents.push_back(Agent("agent" + std::to_string(i), "cpus:2;mem:2048"));
  FrameworkId f = Framework("alpha", {"web"});
  RoleId web = Role("web");
  absl::StatusOr<std::vector<Offer>> offers = engine_.Allocate(0);
  ASSERT_EQ(offers.status(), absl::OkStatus());
  ASSERT_THAT(*offers, SizeIs(3));
  for (const Offer& offer : *offers) {
    if (offer.agent == agents[1]) {
      ASSERT_EQ(engine_.Recover(f, offer.agent, web, offer.resources), absl::OkStatus());
    } else {
      ASSERT_EQ(engine_.Decline(f, offer.agent, web, offer.resources, 10, 0), absl::OkStatus());
    }
  }
  Check(Explain(f, 0).at(0), "alpha", "web", {{Reason::kNone, 1}, {Reason::kFiltered, 2}});
  Check(Explain(f, 9.999).at(0), "alpha", "web", {{Reason::kNone, 1}, {Reason::kFiltered, 2}});
  // Expired at now >= expiry, even though no Allocate has dropped the filters yet.
  Check(Explain(f, 10).at(0), "alpha", "web", {{Reason::kNone, 3}});
  Check(Explain(f, 11).at(0), "alpha", "web", {{Reason::kNone, 3}});
  // Explain changes nothing: the filters are still live before their expiry.
  Check(Explain(f, 5).at(0), "alpha", "web", {{Reason::kNone, 1}, {Reason::kFiltered, 2}});
  // And the allocator agrees at those times.
  absl::StatusOr<std::vector<Offer>> at_five = engine_.Allocate(5);
  ASSERT_EQ(at_five.status(), absl::OkStatus());
  ASSERT_THAT(*at_five, SizeIs(1));
  EXPECT_EQ((*at_five)[0].agent, agents[1]);
}

TEST_F(ExplainTest, FilterCoversOnlyWhatWasRefused) {
  AgentId agent = Agent("agent0", "cpus:4;mem:1024");
  FrameworkId f = Framework("alpha", {"web"});
  RoleId web = Role("web");
  ASSERT_EQ(engine_.Allocate(0).status(), absl::OkStatus());
  // A task keeps the CPUs; only the memory is declined.
  ASSERT_EQ(engine_.Decline(f, agent, web, R("mem:1024"), 100, 0), absl::OkStatus());
  Check(Explain(f, 1).at(0), "alpha", "web", {{Reason::kFiltered, 1}});
  // More is free than was refused: the filter no longer covers the candidate.
  ASSERT_EQ(engine_.Recover(f, agent, web, R("cpus:4")), absl::OkStatus());
  Check(Explain(f, 1).at(0), "alpha", "web", {{Reason::kNone, 1}});
}

TEST_F(ExplainTest, QuotaLimit) {
  for (int i = 0; i < 3; ++i) Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  ASSERT_EQ(engine_.SetQuota("capped", {{}, Q("cpus:2;mem:2048")}), absl::OkStatus());
  FrameworkId f = Framework("alpha", {"capped"});
  Check(Explain(f).at(0), "alpha", "capped", {{Reason::kNone, 3}});
  Place(f, "capped", "cpus:2;mem:2048");  // the whole limit, on agent0
  Check(Explain(f).at(0), "alpha", "capped",
        {{Reason::kInsufficientResources, 1}, {Reason::kQuotaLimit, 2}});
}

TEST_F(ExplainTest, HeldForHeadroom) {
  Agent("agent0", "cpus:1");
  Agent("agent1", "cpus:1");
  Agent("agent2", "cpus:1;mem:1024");
  // Every CPU is needed for the unmet guarantee; memory is not guaranteed.
  ASSERT_EQ(engine_.SetQuota("owed", {Q("cpus:3"), {}}), absl::OkStatus());
  FrameworkId f = Framework("alpha", {"web"});
  Check(Explain(f).at(0), "alpha", "web", {{Reason::kHeldForHeadroom, 2}, {Reason::kNone, 1}});
  // With the guarantee lowered to one CPU, two are surplus: every agent has something.
  ASSERT_EQ(engine_.SetQuota("owed", {Q("cpus:1"), {}}), absl::OkStatus());
  Check(Explain(f).at(0), "alpha", "web", {{Reason::kNone, 3}});
}

// The headroom held for a guarantee is not held against the role that is owed it: Explain
// applies stage one's rules to it, as Allocate does.
TEST_F(ExplainTest, GuaranteedRoleIsNotToldItsOwnHeadroomIsHeld) {
  Agent("agent0", "cpus:1");
  ASSERT_EQ(engine_.SetQuota("owed", {Q("cpus:2"), {}}), absl::OkStatus());
  FrameworkId f = Framework("owner", {"owed"});
  Check(Explain(f).at(0), "owner", "owed", {{Reason::kNone, 1}});
  absl::StatusOr<std::vector<Offer>> offers = engine_.Allocate(0);
  ASSERT_EQ(offers.status(), absl::OkStatus());
  ASSERT_THAT(*offers, SizeIs(1));
  EXPECT_EQ((*offers)[0].resources.ToString(), "cpus:1");
}

TEST_F(ExplainTest, BelowMinAllocatable) {
  Agent("small0", "cpus:1;mem:1024");
  Agent("large", "cpus:4;mem:1024");
  Agent("small1", "cpus:1;mem:1024");
  Agent("crumbs", "cpus:0.005;mem:16");
  FrameworkId picky = Framework("alpha", {"web"}, false, {R("cpus:2")});
  FrameworkId usual = Framework("bravo", {"web"});  // default: cpus:0.01 or mem:32
  Check(Explain(picky).at(0), "alpha", "web",
        {{Reason::kNone, 1}, {Reason::kBelowMinAllocatable, 3}});
  Check(Explain(usual).at(0), "bravo", "web",
        {{Reason::kNone, 3}, {Reason::kBelowMinAllocatable, 1}});
}

TEST_F(ExplainTest, InsufficientResources) {
  for (int i = 0; i < 3; ++i) Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  FrameworkId other = Framework("bravo", {"batch"});
  FrameworkId f = Framework("alpha", {"web"});
  Place(other, "batch", "cpus:2;mem:2048");
  Place(other, "batch", "cpus:2;mem:2048");
  Check(Explain(f).at(0), "alpha", "web",
        {{Reason::kNone, 1}, {Reason::kInsufficientResources, 2}});
}

TEST_F(ExplainTest, OneExplanationPerRoleInSubscriptionOrder) {
  // Role ids deliberately not in subscription order.
  ASSERT_EQ(engine_.SetWeight("mid", 1), absl::OkStatus());
  ASSERT_EQ(engine_.SetWeight("alpha/beta", 1), absl::OkStatus());
  ASSERT_EQ(engine_.SetQuota("mid", {{}, Q("cpus:0;mem:0")}), absl::OkStatus());
  Agent("agent0", "cpus:1;mem:512");
  Agent("agent1", "cpus:1;mem:512");
  FrameworkId f = Framework("multi", {"zeta", "alpha/beta", "mid"});
  ASSERT_EQ(engine_.Suppress(f, Role("alpha/beta")), absl::OkStatus());
  std::vector<RoleExplanation> out = Explain(f);
  ASSERT_THAT(out, SizeIs(3));
  EXPECT_EQ(out[0].role, Role("zeta"));
  EXPECT_EQ(out[1].role, Role("alpha/beta"));
  EXPECT_EQ(out[2].role, Role("mid"));
  Check(out[0], "multi", "zeta", {{Reason::kNone, 2}});
  Check(out[1], "multi", "alpha/beta", {{Reason::kRoleSuppressed, 2}});
  Check(out[2], "multi", "mid", {{Reason::kQuotaLimit, 2}});
}

TEST_F(ExplainTest, UnknownFrameworkIsNotFound) {
  Agent("agent0", "cpus:1;mem:512");
  FrameworkId f = Framework("alpha", {"web"});
  EXPECT_EQ(engine_.Explain(FrameworkId(99), 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_.Explain(FrameworkId(), 0).status().code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(engine_.RemoveFramework(f), absl::OkStatus());
  EXPECT_EQ(engine_.Explain(f, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ExplainTest, NoneCountsWhatAllocateOffersALoneFramework) {
  // Without quota and with a single active framework (so no competition and no state that one
  // offer changes for the next agent), the agents Explain counts as kNone are exactly those
  // that Allocate then offers, and every live agent is counted once.
  int offered = 0, filtered = 0, other_reasons = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
    Engine engine;
    std::vector<AgentId> agents;
    for (size_t i = 0, n = 6 + pick(5); i < n; ++i) {
      std::string text = absl::StrCat("cpus:", pick(5), ";mem:", 16 * pick(5));
      if (pick(3) == 0) absl::StrAppend(&text, ";cpus(web):1");
      if (pick(3) == 0) absl::StrAppend(&text, ";mem(other):256");
      if (pick(4) == 0) absl::StrAppend(&text, ";gpus:1");
      if (pick(3) == 0) absl::StrAppend(&text, ";ports:[1000-1010]");
      absl::StatusOr<AgentId> id = engine.AddAgent({absl::StrCat("agent", i), R(text), {}});
      ASSERT_EQ(id.status(), absl::OkStatus()) << text;
      agents.push_back(*id);
    }
    bool gpu = pick(2) == 0;
    std::vector<Resources> min;
    if (pick(2) == 0) min.push_back(R("cpus:2"));
    absl::StatusOr<FrameworkId> lone = engine.AddFramework({"lone", {"web"}, gpu, min});
    absl::StatusOr<FrameworkId> other = engine.AddFramework({"busy", {"other"}, true, {}});
    ASSERT_EQ(lone.status(), absl::OkStatus());
    ASSERT_EQ(other.status(), absl::OkStatus());
    RoleId web = *engine.FindRole("web");
    std::vector<TaskRequest> tasks;
    for (size_t n = pick(6); n > 0; --n) {
      tasks.push_back({*other, *engine.FindRole("other"), R(pick(2) ? "cpus:1" : "mem:32")});
    }
    ASSERT_EQ(engine.Place(tasks, PlacementPolicy::kWorstFit).status(), absl::OkStatus());
    ASSERT_EQ(engine.DeactivateFramework(*other), absl::OkStatus());
    for (int round = 0; round < 4; ++round) {
      double now = 10.0 * round;
      AgentId toggled = agents[pick(agents.size())];
      ASSERT_EQ(pick(3) == 0 ? engine.DeactivateAgent(toggled) : engine.ActivateAgent(toggled),
                absl::OkStatus());
      absl::StatusOr<std::vector<RoleExplanation>> explained = engine.Explain(*lone, now);
      ASSERT_EQ(explained.status(), absl::OkStatus());
      ASSERT_THAT(*explained, SizeIs(1));
      std::map<Reason, int> counts;
      int total = 0;
      for (const auto& [reason, count] : (*explained)[0].agents_by_reason) {
        counts[reason] += count;
        total += count;
      }
      absl::StatusOr<std::vector<Offer>> offers = engine.Allocate(now);
      ASSERT_EQ(offers.status(), absl::OkStatus());
      std::string context =
          absl::StrCat("seed ", seed, " round ", round, ": ", (*explained)[0].summary);
      EXPECT_EQ(total, static_cast<int>(agents.size())) << context;
      EXPECT_EQ(counts[Reason::kNone], static_cast<int>(offers->size())) << context;
      offered += static_cast<int>(offers->size());
      filtered += counts[Reason::kFiltered];
      other_reasons += total - counts[Reason::kNone] - counts[Reason::kFiltered];
      // Decline some offers (whole or in part, filters of various lengths), recover the rest.
      for (const Offer& offer : *offers) {
        switch (pick(3)) {
          case 0:
            ASSERT_EQ(engine.Decline(*lone, offer.agent, web, offer.resources,
                                     5.0 * static_cast<double>(pick(4)), now),
                      absl::OkStatus());
            break;
          case 1: {
            Resources keep = offer.resources.Unreserved().Scalars();
            Resources rest = offer.resources;
            ASSERT_EQ(rest.Subtract(keep), absl::OkStatus());
            ASSERT_EQ(engine.Decline(*lone, offer.agent, web, rest, 15, now), absl::OkStatus());
            ASSERT_EQ(engine.Recover(*lone, offer.agent, web, keep), absl::OkStatus());
            break;
          }
          default:
            ASSERT_EQ(engine.Recover(*lone, offer.agent, web, offer.resources), absl::OkStatus());
            break;
        }
      }
    }
  }
  EXPECT_GT(offered, 100);
  EXPECT_GT(filtered, 20);
  EXPECT_GT(other_reasons, 50);
}

}  // namespace
}  // namespace steward::allocator
