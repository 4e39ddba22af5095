// Contract tests for every Allocator implementation: the same scenarios run against the
// engine and the reference engine (typed test suite).
#include <map>
#include <string>
#include <vector>

#include "allocator/allocator.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::Q;
using test_util::R;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename A>
class AllocatorContractTest : public ::testing::Test {
 protected:
  explicit AllocatorContractTest(AllocatorOptions options = {}) : allocator_(options) {}

  AgentId Agent(const std::string& name, std::string_view resources) {
    absl::StatusOr<AgentId> id = allocator_.AddAgent({name, R(resources), {}});
    EXPECT_TRUE(id.ok()) << id.status();
    return *id;
  }
  FrameworkId Framework(const std::string& name, std::vector<std::string> roles, bool gpu = false,
                        std::vector<Resources> min = {}) {
    absl::StatusOr<FrameworkId> id =
        allocator_.AddFramework({name, std::move(roles), gpu, std::move(min)});
    EXPECT_TRUE(id.ok()) << id.status();
    return *id;
  }
  RoleId Role(std::string_view path) { return *allocator_.FindRole(path); }
  std::vector<Offer> Allocate(double now = 0) {
    absl::StatusOr<std::vector<Offer>> offers = allocator_.Allocate(now);
    EXPECT_TRUE(offers.ok()) << offers.status();
    return offers.ok() ? *offers : std::vector<Offer>();
  }
  // "framework@agent/role=resources" for readable assertions.
  std::vector<std::string> Describe(const std::vector<Offer>& offers) {
    std::vector<std::string> out;
    for (const Offer& offer : offers) {
      out.push_back(*allocator_.FrameworkName(offer.framework) + "@" +
                    *allocator_.AgentName(offer.agent) + "/" + allocator_.RoleName(offer.role) +
                    "=" + offer.resources.ToString());
    }
    return out;
  }
  // Number of offers per framework name.
  std::map<std::string, int> Count(const std::vector<Offer>& offers) {
    std::map<std::string, int> out;
    for (const Offer& offer : offers) ++out[*allocator_.FrameworkName(offer.framework)];
    return out;
  }
  int64_t Cpus(RoleId role) { return allocator_.Consumption(role)->Get("cpus"); }

  A allocator_;
};

using Implementations = ::testing::Types<Engine, ReferenceAllocator>;
TYPED_TEST_SUITE(AllocatorContractTest, Implementations);

TYPED_TEST(AllocatorContractTest, DrfPaperExampleByPlacement) {
  AgentId agent = this->Agent("agent", "cpus:9;mem:18432");
  FrameworkId a = this->Framework("A", {"a"});
  FrameworkId b = this->Framework("B", {"b"});
  std::vector<TaskRequest> requests;
  for (int i = 0; i < 10; ++i) {
    requests.push_back({a, this->Role("a"), R("cpus:1;mem:4096")});
    requests.push_back({b, this->Role("b"), R("cpus:3;mem:1024")});
  }
  auto decisions = this->allocator_.Place(requests, PlacementPolicy::kFirstFit);
  ASSERT_TRUE(decisions.ok()) << decisions.status();
  int placed_a = 0, placed_b = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if ((*decisions)[i].placed()) (i % 2 == 0 ? placed_a : placed_b)++;
  }
  EXPECT_EQ(placed_a, 3);
  EXPECT_EQ(placed_b, 2);
  EXPECT_DOUBLE_EQ(*this->allocator_.RoleShare(this->Role("a")), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*this->allocator_.RoleShare(this->Role("b")), 2.0 / 3.0);
  EXPECT_EQ(this->allocator_.AllocatedTo(a, agent, this->Role("a"))->ToString(),
            "cpus:3;mem:12288");
  EXPECT_EQ((*decisions)[4].reason, Reason::kNone);
  EXPECT_EQ((*decisions)[6].reason, Reason::kInsufficientResources);
  EXPECT_EQ((*decisions)[8].reason, Reason::kQueuedBehind);
}

TYPED_TEST(AllocatorContractTest, DrfPaperExampleByOffersOneTaskPerOffer) {
  AgentId agent = this->Agent("agent", "cpus:9;mem:18432");
  FrameworkId a = this->Framework("A", {"a"});
  FrameworkId b = this->Framework("B", {"b"});
  std::map<FrameworkId, Resources> task = {{a, R("cpus:1;mem:4096")}, {b, R("cpus:3;mem:1024")}};
  std::map<FrameworkId, int> running;
  for (int cycle = 0; cycle < 20; ++cycle) {
    bool launched = false;
    for (const Offer& offer : this->Allocate(cycle)) {
      Resources unused = offer.resources;
      if (offer.resources.Contains(task[offer.framework])) {
        ASSERT_TRUE(unused.Subtract(task[offer.framework]).ok());
        ++running[offer.framework];
        launched = true;
      }
      ASSERT_TRUE(this->allocator_.Recover(offer.framework, agent, offer.role, unused).ok());
    }
    if (!launched) break;
  }
  EXPECT_EQ(running[a], 3);
  EXPECT_EQ(running[b], 2);
  EXPECT_DOUBLE_EQ(*this->allocator_.FrameworkShare(a, this->Role("a")), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*this->allocator_.FrameworkShare(b, this->Role("b")), 2.0 / 3.0);
}

TYPED_TEST(AllocatorContractTest, WeightsScaleTheFairShare) {
  for (int i = 0; i < 30; ++i) this->Agent("agent" + std::to_string(i), "cpus:1;mem:1024");
  ASSERT_TRUE(this->allocator_.SetWeight("heavy", 2.0).ok());
  this->Framework("light", {"light"});
  this->Framework("heavy", {"heavy"});
  auto counts = this->Count(this->Allocate());
  EXPECT_EQ(counts["heavy"], 20);
  EXPECT_EQ(counts["light"], 10);
}

TYPED_TEST(AllocatorContractTest, HierarchyDividesAtEveryLevel) {
  for (int i = 0; i < 40; ++i) this->Agent("agent" + std::to_string(i), "cpus:1;mem:1024");
  this->Framework("web", {"eng/web"});
  this->Framework("batch", {"eng/batch"});
  this->Framework("ml", {"eng/ml"});
  this->Framework("ops", {"ops"});
  auto counts = this->Count(this->Allocate());
  // The eng subtree and ops split evenly; eng's half splits three ways.
  EXPECT_EQ(counts["ops"], 20);
  EXPECT_EQ(counts["web"] + counts["batch"] + counts["ml"], 20);
  EXPECT_GE(counts["web"], 6);
  EXPECT_GE(counts["batch"], 6);
  EXPECT_GE(counts["ml"], 6);
}

// Pins the hierarchical semantics documented in allocator.h: a parent's share is the dominant
// share of its aggregate allocation (Mesos's "naive" hierarchical DRF). A parent whose two
// leaves hold complementary resources is judged by the aggregate, not by its leaves' sum.
TYPED_TEST(AllocatorContractTest, ParentShareIsDominantShareOfAggregate) {
  for (int i = 0; i < 4; ++i) this->Agent("cpu" + std::to_string(i), "cpus:10;mem:1");
  for (int i = 0; i < 4; ++i) this->Agent("mem" + std::to_string(i), "cpus:1;mem:10");
  // Totals: cpus 44, mem 44.
  FrameworkId x = this->Framework("x", {"p/x"});
  FrameworkId y = this->Framework("y", {"p/y"});
  FrameworkId q = this->Framework("q", {"q"});
  std::vector<TaskRequest> setup = {{x, this->Role("p/x"), R("cpus:10;mem:1")},
                                    {y, this->Role("p/y"), R("cpus:1;mem:10")},
                                    {q, this->Role("q"), R("cpus:10;mem:1")},
                                    {q, this->Role("q"), R("cpus:10;mem:1")}};
  ASSERT_TRUE(this->allocator_.Place(setup, PlacementPolicy::kFirstFit).ok());
  // p holds <11, 11> of <44, 44>: aggregate dominant share 0.25, although each leaf holds a
  // quarter of a different resource (0.5 summed). q holds <20, 2>: 20/44 = 0.4545.
  EXPECT_DOUBLE_EQ(*this->allocator_.RoleShare(this->Role("p")), 11.0 / 44.0);
  EXPECT_DOUBLE_EQ(*this->allocator_.RoleShare(this->Role("q")), 20.0 / 44.0);
  // So p's subtree is served first: the next free agent goes to p, not to q.
  std::vector<Offer> offers = this->Allocate();
  ASSERT_FALSE(offers.empty());
  EXPECT_EQ(this->allocator_.RoleName(offers.front().role).substr(0, 2), "p/");
}

TYPED_TEST(AllocatorContractTest, QuotaGuaranteeIsMetBeforeFairShare) {
  for (int i = 0; i < 10; ++i) this->Agent("agent" + std::to_string(i), "cpus:1;mem:1024");
  ASSERT_TRUE(this->allocator_.SetQuota("q", {Q("cpus:6"), {}}).ok());
  this->Framework("r", {"r"});
  this->Framework("q", {"q"});
  auto counts = this->Count(this->Allocate());
  EXPECT_EQ(counts["q"], 6);
  EXPECT_EQ(counts["r"], 4);
}

TYPED_TEST(AllocatorContractTest, StageOneChopsToTheUnmetGuarantee) {
  this->Agent("a0", "cpus:4;mem:4096");
  this->Agent("a1", "cpus:4;mem:4096");
  ASSERT_TRUE(this->allocator_.SetQuota("q", {Q("cpus:6"), {}}).ok());
  this->Framework("q", {"q"});
  // Stage one: a0 whole (4 <= 6), then a1 chopped to the 2 CPUs still unmet (memory has no
  // guarantee, so it comes along). Stage two then adds a1's other 2 CPUs, merged into the same
  // offer.
  std::vector<std::string> offers = this->Describe(this->Allocate());
  EXPECT_THAT(offers, ElementsAre("q@a0/q=cpus:4;mem:4096", "q@a1/q=cpus:4;mem:4096"));
  EXPECT_EQ(this->Cpus(this->Role("q")), 8000);
}

TYPED_TEST(AllocatorContractTest, LimitIsNeverExceeded) {
  for (int i = 0; i < 5; ++i) this->Agent("agent" + std::to_string(i), "cpus:2;mem:1024");
  ASSERT_TRUE(this->allocator_.SetQuota("l", {{}, Q("cpus:3")}).ok());
  this->Framework("l", {"l"});
  std::vector<std::string> offers = this->Describe(this->Allocate());
  EXPECT_THAT(offers,
              ElementsAre("l@agent0/l=cpus:2;mem:1024", "l@agent1/l=cpus:1;mem:1024",
                          "l@agent2/l=mem:1024", "l@agent3/l=mem:1024", "l@agent4/l=mem:1024"));
  EXPECT_EQ(this->Cpus(this->Role("l")), 3000);
  EXPECT_THAT(this->Allocate(1), IsEmpty());
}

TYPED_TEST(AllocatorContractTest, HeadroomIsHeldForUnmetGuarantees) {
  for (int i = 0; i < 10; ++i) this->Agent("agent" + std::to_string(i), "cpus:1;mem:1024");
  ASSERT_TRUE(this->allocator_.SetQuota("q", {Q("cpus:4"), {}}).ok());
  FrameworkId q = this->Framework("q", {"q"});
  ASSERT_TRUE(this->allocator_.DeactivateFramework(q).ok());
  this->Framework("r", {"r"});
  std::vector<Offer> offers = this->Allocate();
  int64_t cpus = 0;
  for (const Offer& offer : offers) cpus += offer.resources.ScalarMilli("cpus");
  EXPECT_EQ(cpus, 6000);  // 4 CPUs held back for q's guarantee
  // Memory has no guarantee: r gets all of it.
  int64_t mem = 0;
  for (const Offer& offer : offers) mem += offer.resources.ScalarMilli("mem");
  EXPECT_EQ(mem, 10 * 1024 * 1000);
  ASSERT_TRUE(this->allocator_.ActivateFramework(q).ok());
  auto counts = this->Count(this->Allocate(1));
  EXPECT_EQ(counts["q"], 4);
}

TYPED_TEST(AllocatorContractTest, ReservationsGoOnlyToTheirRoleAndSubRoles) {
  this->Agent("agent", "cpus(eng):2;cpus:1;mem:1024");
  FrameworkId other = this->Framework("other", {"other"});
  std::vector<std::string> offers = this->Describe(this->Allocate());
  EXPECT_THAT(offers, ElementsAre("other@agent/other=cpus:1;mem:1024"));
  ASSERT_TRUE(this->allocator_.RemoveFramework(other).ok());
  this->Framework("web", {"eng/web"});
  offers = this->Describe(this->Allocate(1));
  EXPECT_THAT(offers, ElementsAre("web@agent/eng/web=cpus:1;cpus(eng):2;mem:1024"));
}

TYPED_TEST(AllocatorContractTest, DynamicReservationAndUnreservation) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  EXPECT_EQ(this->allocator_.Reserve(agent, "eng", R("cpus:5")).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(this->allocator_.Reserve(agent, "eng", R("cpus:3")).ok());
  EXPECT_EQ(this->allocator_.Total(agent)->ToString(), "cpus:1;cpus(eng):3;mem:1024");
  EXPECT_EQ(this->Cpus(this->Role("eng")), 3000);  // unallocated reservations count
  this->Framework("other", {"other"});
  EXPECT_THAT(this->Describe(this->Allocate()), ElementsAre("other@agent/other=cpus:1;mem:1024"));
  ASSERT_TRUE(this->allocator_.Unreserve(agent, R("cpus(eng):3")).ok());
  EXPECT_THAT(this->Describe(this->Allocate(1)), ElementsAre("other@agent/other=cpus:3"));
}

TYPED_TEST(AllocatorContractTest, StaticReservationsCannotBeUnreserved) {
  AgentId agent = this->Agent("agent", "cpus(eng):2;cpus:1");
  EXPECT_EQ(this->allocator_.Unreserve(agent, R("cpus(eng):1")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->allocator_.Total(agent)->ToString(), "cpus:1;cpus(eng):2");
}

TYPED_TEST(AllocatorContractTest, DeclineFilterHoldsUntilItExpires) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  FrameworkId f = this->Framework("f", {"r"});
  std::vector<Offer> offers = this->Allocate(0);
  ASSERT_EQ(offers.size(), 1u);
  ASSERT_TRUE(
      this->allocator_.Decline(f, agent, offers[0].role, offers[0].resources, 5.0, 0.0).ok());
  EXPECT_THAT(this->Allocate(1), IsEmpty());
  EXPECT_THAT(this->Allocate(4.999), IsEmpty());
  EXPECT_EQ(this->Allocate(5).size(), 1u);
}

TYPED_TEST(AllocatorContractTest, FilterDoesNotCoverMoreThanWasRefused) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  FrameworkId f = this->Framework("f", {"r"});
  std::vector<Offer> offers = this->Allocate(0);
  ASSERT_EQ(offers.size(), 1u);
  // Decline only the memory; keep the CPUs (a task runs on them).
  ASSERT_TRUE(this->allocator_.Decline(f, agent, offers[0].role, R("mem:1024"), 100, 0).ok());
  EXPECT_THAT(this->Allocate(1), IsEmpty());  // mem:1024 alone is what was refused
  ASSERT_TRUE(this->allocator_.Recover(f, agent, offers[0].role, R("cpus:4")).ok());
  // Now more is free than was refused: the filter no longer applies.
  EXPECT_THAT(this->Describe(this->Allocate(2)), ElementsAre("f@agent/r=cpus:4;mem:1024"));
}

TYPED_TEST(AllocatorContractTest, SuppressAndRevive) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  FrameworkId f = this->Framework("f", {"r"});
  RoleId role = this->Role("r");
  ASSERT_TRUE(this->allocator_.Suppress(f, role).ok());
  EXPECT_THAT(this->Allocate(0), IsEmpty());
  ASSERT_TRUE(this->allocator_.Revive(f, role).ok());
  std::vector<Offer> offers = this->Allocate(1);
  ASSERT_EQ(offers.size(), 1u);
  // Revive also drops decline filters.
  ASSERT_TRUE(this->allocator_.Decline(f, agent, role, offers[0].resources, 1e9, 1).ok());
  EXPECT_THAT(this->Allocate(2), IsEmpty());
  ASSERT_TRUE(this->allocator_.Revive(f, role).ok());
  EXPECT_EQ(this->Allocate(3).size(), 1u);
}

TYPED_TEST(AllocatorContractTest, GpuAgentsGoOnlyToGpuCapableFrameworks) {
  this->Agent("gpu", "cpus:4;mem:1024;gpus:1");
  this->Agent("plain", "cpus:4;mem:1024");
  this->Framework("cpu-only", {"r"});
  this->Framework("gpu-ok", {"r"}, /*gpu=*/true);
  std::vector<std::string> offers = this->Describe(this->Allocate());
  EXPECT_THAT(offers, ElementsAre("gpu-ok@gpu/r=cpus:4;gpus:1;mem:1024",
                                  "cpu-only@plain/r=cpus:4;mem:1024"));
}

TYPED_TEST(AllocatorContractTest, MinAllocatableResources) {
  this->Agent("small", "cpus:1;mem:64");
  this->Agent("large", "cpus:2;mem:64");
  this->Framework("picky", {"r"}, false, {R("cpus:2")});
  EXPECT_THAT(this->Describe(this->Allocate()), ElementsAre("picky@large/r=cpus:2;mem:64"));
}

TYPED_TEST(AllocatorContractTest, DefaultMinAllocatableSkipsCrumbs) {
  this->Agent("crumbs", "cpus:0.005;mem:16");
  this->Framework("f", {"r"});
  EXPECT_THAT(this->Allocate(), IsEmpty());
}

TYPED_TEST(AllocatorContractTest, RemovingAnAgentDropsItsAllocations) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  FrameworkId f = this->Framework("f", {"r"});
  ASSERT_EQ(this->Allocate().size(), 1u);
  EXPECT_EQ(this->Cpus(this->Role("r")), 4000);
  ASSERT_TRUE(this->allocator_.RemoveAgent(agent).ok());
  EXPECT_EQ(this->Cpus(this->Role("r")), 0);
  EXPECT_EQ(this->allocator_.Recover(f, agent, this->Role("r"), R("cpus:1")).code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(AllocatorContractTest, AddInUseAccountsForRunningTasks) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024;cpus(r):2;ports:[1-10]");
  FrameworkId f = this->Framework("f", {"r"});
  RoleId r = this->Role("r");
  const std::string free_before = this->allocator_.Free(agent)->ToString();
  // Reserved for another role, more than free, or unknown ids: refused, nothing changes.
  EXPECT_EQ(this->allocator_.AddInUse(f, agent, r, R("cpus(other):1")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->allocator_.AddInUse(f, agent, r, R("cpus:5")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->allocator_.AddInUse(f, AgentId(99), r, R("cpus:1")).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->allocator_.Free(agent)->ToString(), free_before);
  ASSERT_TRUE(
      this->allocator_.AddInUse(f, agent, r, R("cpus:1;cpus(r):2;mem:512;ports:[3-4]")).ok());
  EXPECT_EQ(this->allocator_.Free(agent)->ToString(), "cpus:3;mem:512;ports:[1-2,5-10]");
  EXPECT_EQ(this->allocator_.AllocatedTo(f, agent, r)->ToString(),
            "cpus:1;cpus(r):2;mem:512;ports:[3-4]");
  EXPECT_EQ(this->Cpus(r), 3000);
  // The rest is offered; recovering the task's resources makes them offerable again.
  EXPECT_THAT(this->Describe(this->Allocate()),
              ElementsAre("f@agent/r=cpus:3;mem:512;ports:[1-2,5-10]"));
  ASSERT_TRUE(
      this->allocator_.Recover(f, agent, r, R("cpus:1;cpus(r):2;mem:512;ports:[3-4]")).ok());
  // The offer of the rest (3) is still allocated, and the recovered reservation (2) counts
  // again as an unallocated reservation of r.
  EXPECT_EQ(this->Cpus(r), 5000);
}

TYPED_TEST(AllocatorContractTest, PlacementPolicies) {
  this->Agent("memory", "cpus:2;mem:16384");
  this->Agent("small", "cpus:2;mem:2048");
  this->Agent("big", "cpus:8;mem:8192");
  FrameworkId f = this->Framework("f", {"r"});
  RoleId r = this->Role("r");
  auto place = [&](PlacementPolicy policy, std::string_view demand) {
    std::vector<TaskRequest> one = {{f, r, R(demand)}};
    auto decisions = this->allocator_.Place(one, policy);
    EXPECT_TRUE(decisions.ok());
    std::string agent = *this->allocator_.AgentName((*decisions)[0].agent);
    EXPECT_TRUE(
        this->allocator_.Recover(f, (*decisions)[0].agent, r, (*decisions)[0].resources).ok());
    return agent;
  };
  // Leftover sum(free - d)/cap for cpus:1;mem:1024: memory 1.4375, small 1.0, big 1.75.
  EXPECT_EQ(place(PlacementPolicy::kFirstFit, "cpus:1;mem:1024"), "memory");
  EXPECT_EQ(place(PlacementPolicy::kBestFit, "cpus:1;mem:1024"), "small");
  EXPECT_EQ(place(PlacementPolicy::kWorstFit, "cpus:1;mem:1024"), "big");
  // Alignment sum(d/cap * free/cap) for cpus:0.5;mem:4096 (small cannot hold it): memory
  // 0.25 + 0.25 = 0.5, big 0.0625 + 0.5 = 0.5625.
  EXPECT_EQ(place(PlacementPolicy::kDotProduct, "cpus:0.5;mem:4096"), "big");
  EXPECT_EQ(place(PlacementPolicy::kFirstFit, "cpus:0.5;mem:4096"), "memory");
}

TYPED_TEST(AllocatorContractTest, PlacementRespectsLimitsAndHeadroom) {
  for (int i = 0; i < 4; ++i) this->Agent("agent" + std::to_string(i), "cpus:2;mem:2048");
  ASSERT_TRUE(this->allocator_.SetQuota("lim", {{}, Q("cpus:2")}).ok());
  ASSERT_TRUE(this->allocator_.SetQuota("gua", {Q("cpus:4"), {}}).ok());
  FrameworkId lim = this->Framework("lim", {"lim"});
  FrameworkId other = this->Framework("other", {"other"});
  this->Framework("gua", {"gua"});  // no requests: its guarantee stays unmet
  std::vector<TaskRequest> requests = {{lim, this->Role("lim"), R("cpus:2")},
                                       {lim, this->Role("lim"), R("cpus:1")},
                                       {other, this->Role("other"), R("cpus:2")},
                                       {other, this->Role("other"), R("cpus:1")}};
  auto decisions = this->allocator_.Place(requests, PlacementPolicy::kFirstFit);
  ASSERT_TRUE(decisions.ok());
  EXPECT_TRUE((*decisions)[0].placed());
  EXPECT_EQ((*decisions)[1].reason, Reason::kQuotaLimit);
  EXPECT_TRUE((*decisions)[2].placed());
  // 8 CPUs: 2 lim + 2 other; the remaining 4 are held for gua's guarantee.
  EXPECT_EQ((*decisions)[3].reason, Reason::kHeldForHeadroom);
}

TYPED_TEST(AllocatorContractTest, BadInputIsRejectedWithoutStateChange) {
  AgentId agent = this->Agent("agent", "cpus:4;mem:1024");
  FrameworkId f = this->Framework("f", {"r"});
  std::vector<Offer> offers = this->Allocate();
  ASSERT_EQ(offers.size(), 1u);
  RoleId r = this->Role("r");
  auto snapshot = [&] {
    return this->allocator_.Free(agent)->ToString() + "|" +
           this->allocator_.Allocated(agent)->ToString() + "|" +
           this->allocator_.Consumption(r)->ToString();
  };
  std::string before = snapshot();
  auto& a = this->allocator_;
  EXPECT_EQ(a.AddAgent({"agent", R("cpus:1"), {}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(a.AddAgent({"", R("cpus:1"), {}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.AddAgent({"x", R("cpus:1"), {{"", "r1"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // One more agent near the largest amount would take the cluster's total past it.
  ASSERT_TRUE(a.AddAgent({"huge", R("mem:999999990000"), {}}).ok());
  EXPECT_EQ(a.AddAgent({"huger", R("mem:10000"), {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.AgentName(AgentId(2)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.AddFramework({"g", {}, false, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.AddFramework({"g", {"a//b"}, false, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.AddFramework({"g", {"x", "x"}, false, {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.AddFramework({"g", {"x"}, false, {R("ports:[1-2]")}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.FindRole("x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.SetWeight("r", 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.SetWeight("r", std::nan("")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.SetWeight("/r", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.SetQuota("*", {Q("cpus:1"), {}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.SetQuota("r", {Q("cpus:2"), Q("cpus:1")}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(a.SetQuota("top", {{}, Q("cpus:2")}).ok());
  EXPECT_EQ(a.SetQuota("top/child", {Q("cpus:3"), {}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.FindRole("top/child").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.Recover(f, agent, r, R("cpus:5")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Recover(f, agent, r, R("gpus:1")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Recover(FrameworkId(99), agent, r, R("cpus:1")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.Recover(f, AgentId(99), r, R("cpus:1")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.Recover(f, agent, RoleId(99), R("cpus:1")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a.Recover(f, agent, this->Role("top"), R("cpus:1")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Decline(f, agent, r, R("cpus:1"), -1, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Decline(f, agent, r, R("cpus:1"), std::nan(""), 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Decline(f, agent, r, R("cpus:1"), 1, std::nan("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Allocate(std::nan("")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Reserve(agent, "*", R("cpus:1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Reserve(agent, "eng", R("cpus(x):1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Reserve(agent, "eng", R("cpus:1")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(a.Unreserve(agent, R("cpus:1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.Suppress(f, this->Role("top")).code(), absl::StatusCode::kInvalidArgument);
  std::vector<TaskRequest> bad = {{f, r, R("cpus:1")}, {f, r, R("ports:[1-2]")}};
  EXPECT_EQ(a.Place(bad, PlacementPolicy::kFirstFit).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<TaskRequest> empty = {{f, r, Resources()}};
  EXPECT_EQ(a.Place(empty, PlacementPolicy::kFirstFit).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(a.FindRole("eng").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace steward::allocator
