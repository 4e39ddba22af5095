// The engine's fast path for offers handed back untouched: Recover and Decline of the offered
// bag itself (a Resources that shares its entries with what Allocate returned) must behave
// exactly like Recover and Decline of an equal copy, which takes the general path, and must
// still refuse what the framework no longer holds.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::DescribeOffers;
using test_util::DescribeState;
using test_util::R;

// An equal bag that shares nothing with `bag`.
Resources CopyOf(const Resources& bag) {
  absl::StatusOr<Resources> copy = Resources::Parse(bag.ToString());
  EXPECT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(*copy == bag);
  EXPECT_TRUE(bag.empty() || !copy->SharesEntriesWith(bag));
  return *copy;
}

AgentId AddAgent(Engine& engine, const std::string& name, std::string_view resources) {
  absl::StatusOr<AgentId> id = engine.AddAgent({name, R(resources), {}});
  EXPECT_TRUE(id.ok()) << id.status();
  return *id;
}

FrameworkId AddFramework(Engine& engine, const std::string& name, const std::string& role) {
  absl::StatusOr<FrameworkId> id = engine.AddFramework({name, {role}, false, {}});
  EXPECT_TRUE(id.ok()) << id.status();
  return *id;
}

std::vector<Offer> Allocate(Engine& engine, double now) {
  absl::StatusOr<std::vector<Offer>> offers = engine.Allocate(now);
  EXPECT_TRUE(offers.ok()) << offers.status();
  return offers.ok() ? *offers : std::vector<Offer>();
}

TEST(EngineDeclineTest, OfferedBagNoLongerHeldIsRefused) {
  Engine engine;
  AgentId agent = AddAgent(engine, "a", "cpus:4;mem:1024;ports:[31000-31009]");
  FrameworkId f = AddFramework(engine, "f", "r");
  std::vector<Offer> offers = Allocate(engine, 0);
  ASSERT_EQ(offers.size(), 1u);
  const Offer offer = offers[0];
  // Part of the offer comes back on its own (a general-path Recover) ...
  ASSERT_TRUE(engine.Recover(f, agent, offer.role, R("cpus:1")).ok());
  // ... so the offered bag itself is no longer held: Decline and Recover refuse it and
  // change nothing.
  const std::string before = DescribeState(engine, {"r"});
  EXPECT_EQ(engine.Decline(f, agent, offer.role, offer.resources, 5, 0).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Recover(f, agent, offer.role, offer.resources).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DescribeState(engine, {"r"}), before);
  EXPECT_EQ(engine.Allocated(agent)->ToString(), "cpus:3;mem:1024;ports:[31000-31009]");
  ASSERT_TRUE(engine.Recover(f, agent, offer.role, R("cpus:3;mem:1024;ports:[31000-31009]")).ok());
  EXPECT_TRUE(engine.Allocated(agent)->empty());
}

TEST(EngineDeclineTest, OfferedBagRecoveredTwiceIsRefusedTheSecondTime) {
  Engine engine;
  AgentId agent = AddAgent(engine, "a", "cpus:4;mem:1024");
  FrameworkId f = AddFramework(engine, "f", "r");
  std::vector<Offer> offers = Allocate(engine, 0);
  ASSERT_EQ(offers.size(), 1u);
  ASSERT_TRUE(engine.Recover(f, agent, offers[0].role, offers[0].resources).ok());
  EXPECT_EQ(engine.Recover(f, agent, offers[0].role, offers[0].resources).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Decline(f, agent, offers[0].role, offers[0].resources, 5, 0).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Free(agent)->ToString(), "cpus:4;mem:1024");
}

TEST(EngineDeclineTest, OfferedBagFromAnotherAgentIsRecoveredByValue) {
  // Identical agents are offered one shared bag; handing one agent's bag back on the other is
  // handing back equal resources, which that agent's holder does hold.
  Engine engine;
  AgentId a = AddAgent(engine, "a", "cpus:4;mem:1024;ports:[31000-31009]");
  AgentId b = AddAgent(engine, "b", "cpus:4;mem:1024;ports:[31000-31009]");
  FrameworkId f = AddFramework(engine, "f", "r");
  std::vector<Offer> offers = Allocate(engine, 0);
  ASSERT_EQ(offers.size(), 2u);
  const Offer& on_a = offers[0].agent == a ? offers[0] : offers[1];
  ASSERT_TRUE(engine.Decline(f, b, on_a.role, on_a.resources, 5, 0).ok());
  ASSERT_TRUE(engine.Decline(f, a, on_a.role, on_a.resources, 5, 0).ok());
  EXPECT_EQ(engine.Free(a)->ToString(), "cpus:4;mem:1024;ports:[31000-31009]");
  EXPECT_EQ(engine.Free(b)->ToString(), "cpus:4;mem:1024;ports:[31000-31009]");
  EXPECT_TRUE(Allocate(engine, 1).empty());  // both filtered
  EXPECT_EQ(Allocate(engine, 5).size(), 2u);
}

TEST(EngineDeclineTest, OneDeclinedBagFiltersEveryFrameworkThatDeclinedIt) {
  // Filters made from one bag share its split; each still expires on its own.
  Engine engine;
  AgentId agent = AddAgent(engine, "a", "cpus:4;mem:1024");
  FrameworkId f = AddFramework(engine, "f", "r");
  FrameworkId g = AddFramework(engine, "g", "s");
  std::vector<Offer> offers = Allocate(engine, 0);
  ASSERT_EQ(offers.size(), 1u);
  ASSERT_TRUE(engine
                  .Decline(offers[0].framework, agent, offers[0].role, offers[0].resources,
                           offers[0].framework == f ? 10 : 20, 0)
                  .ok());
  offers = Allocate(engine, 1);
  ASSERT_EQ(offers.size(), 1u);
  ASSERT_TRUE(engine
                  .Decline(offers[0].framework, agent, offers[0].role, offers[0].resources,
                           offers[0].framework == f ? 10 : 20, 1)
                  .ok());
  EXPECT_TRUE(Allocate(engine, 9).empty());
  offers = Allocate(engine, 11);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, f);
  ASSERT_TRUE(engine.Recover(f, agent, offers[0].role, offers[0].resources).ok());
  offers = Allocate(engine, 12);  // f again: g's filter holds until 21
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].framework, f);
  EXPECT_NE(offers[0].framework, g);
}

// Two engines run the same random events; one is handed back the offered bags themselves,
// the other equal copies. Every offer and every state must be the same.
void RunSharedAgainstCopies(SorterKind sorter, uint64_t seed) {
  Engine shared(AllocatorOptions{.sorter = sorter, .seed = seed});
  Engine copies(AllocatorOptions{.sorter = sorter, .seed = seed});
  std::mt19937_64 random(seed);
  auto pick = [&](uint64_t n) { return random() % n; };
  const std::vector<std::string> roles = {"r1", "r2", "r1/x"};
  std::vector<AgentId> agents;
  std::vector<FrameworkId> frameworks;
  for (Engine* engine : {&shared, &copies}) {
    agents.clear();
    frameworks.clear();
    for (int i = 0; i < 6; ++i) {
      std::string resources = i % 3 == 0   ? "cpus:8;mem:4096;ports:[31000-31099]"
                              : i % 3 == 1 ? "cpus:8;mem:4096;cpus(r1):2;ports:[1-10]"
                                           : "cpus:4;mem:8192";
      agents.push_back(AddAgent(*engine, absl::StrCat("agent", i), resources));
    }
    for (int i = 0; i < 5; ++i) {
      frameworks.push_back(AddFramework(*engine, absl::StrCat("fw", i), roles[i % roles.size()]));
    }
  }
  double now = 0;
  int offered = 0;
  for (int cycle = 0; cycle < 300; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    now += pick(4) == 0 ? 0 : 1;
    std::vector<Offer> from_shared = Allocate(shared, now);
    std::vector<Offer> from_copies = Allocate(copies, now);
    ASSERT_EQ(DescribeOffers(shared, from_shared), DescribeOffers(copies, from_copies));
    offered += static_cast<int>(from_shared.size());
    for (size_t i = 0; i < from_shared.size(); ++i) {
      const Offer& offer = from_shared[i];
      const Resources copy = CopyOf(offer.resources);
      const uint64_t action = pick(10);
      absl::Status a;
      absl::Status b;
      if (action < 5) {
        const double refuse = std::vector<double>{0, 1, 3, 1e9}[pick(4)];
        a = shared.Decline(offer.framework, offer.agent, offer.role, offer.resources, refuse, now);
        b = copies.Decline(offer.framework, offer.agent, offer.role, copy, refuse, now);
      } else if (action < 7) {
        a = shared.Recover(offer.framework, offer.agent, offer.role, offer.resources);
        b = copies.Recover(offer.framework, offer.agent, offer.role, copy);
      } else if (action < 8) {
        // A task takes the scalars and gives the ports back.
        a = shared.Recover(offer.framework, offer.agent, offer.role, offer.resources.NonScalars());
        b = copies.Recover(offer.framework, offer.agent, offer.role, copy.NonScalars());
      }  // else the framework keeps the offer (a task runs on all of it)
      ASSERT_EQ(a.code(), b.code()) << a << " / " << b;
      ASSERT_TRUE(a.ok()) << a;
    }
    // Tasks end: now and then everything held on an agent comes back, through copies.
    for (AgentId agent : agents) {
      if (pick(4) != 0) continue;
      for (FrameworkId framework : frameworks) {
        const RoleId role = *shared.FindRole(roles[framework.value() % roles.size()]);
        const Resources held = *shared.AllocatedTo(framework, agent, role);
        ASSERT_EQ(held, *copies.AllocatedTo(framework, agent, role));
        if (held.empty()) continue;
        ASSERT_TRUE(shared.Recover(framework, agent, role, CopyOf(held)).ok());
        ASSERT_TRUE(copies.Recover(framework, agent, role, CopyOf(held)).ok());
      }
    }
    // And a framework with work again revives (dropping its filters).
    if (pick(2) == 0) {
      const FrameworkId framework = frameworks[pick(frameworks.size())];
      const RoleId role = *shared.FindRole(roles[framework.value() % roles.size()]);
      ASSERT_TRUE(shared.Revive(framework, role).ok());
      ASSERT_TRUE(copies.Revive(framework, role).ok());
    }
    ASSERT_EQ(DescribeState(shared, roles), DescribeState(copies, roles));
  }
  EXPECT_GT(offered, 600);  // two offers a cycle at least: the bags went round
}

TEST(EngineDeclineRandomTest, OfferedBagsBehaveLikeEqualCopiesUnderDrf) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    RunSharedAgainstCopies(SorterKind::kDrf, seed);
  }
}

TEST(EngineDeclineRandomTest, OfferedBagsBehaveLikeEqualCopiesUnderRandom) {
  for (uint64_t seed : {4u, 5u}) {
    SCOPED_TRACE(seed);
    RunSharedAgainstCopies(SorterKind::kRandom, seed);
  }
}

}  // namespace
}  // namespace steward::allocator
