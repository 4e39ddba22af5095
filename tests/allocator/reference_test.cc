// Scenario tests of the reference allocator on its own: expected offers and placements are
// worked out by hand from the contract in allocator/allocator.h.
#include "allocator/reference.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/sort_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::allocator {

namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Resources R(std::string_view text) {
  absl::StatusOr<Resources> parsed = Resources::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  return parsed.ok() ? *parsed : Resources();
}

ResourceQuantities Q(std::string_view text) {
  absl::StatusOr<ResourceQuantities> parsed = ResourceQuantities::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  return parsed.ok() ? *parsed : ResourceQuantities();
}

AgentId AddAgent(ReferenceAllocator& allocator, const std::string& name, std::string_view total) {
  absl::StatusOr<AgentId> id = allocator.AddAgent({name, R(total), {}});
  EXPECT_TRUE(id.ok()) << id.status();
  return id.value_or(AgentId());
}

FrameworkId AddFramework(ReferenceAllocator& allocator, const std::string& name,
                         std::vector<std::string> roles, bool gpu_capable = false,
                         std::vector<Resources> min_allocatable = {}) {
  FrameworkInfo info;
  info.name = name;
  info.roles = std::move(roles);
  info.gpu_capable = gpu_capable;
  info.min_allocatable = std::move(min_allocatable);
  absl::StatusOr<FrameworkId> id = allocator.AddFramework(info);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.value_or(FrameworkId());
}

RoleId Role(const ReferenceAllocator& allocator, std::string_view path) {
  absl::StatusOr<RoleId> id = allocator.FindRole(path);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.value_or(RoleId());
}

// "framework@agent(role):resources | ...".
std::string Text(const ReferenceAllocator& allocator, const std::vector<Offer>& offers) {
  std::string out;
  for (const Offer& offer : offers) {
    if (!out.empty()) out += " | ";
    out += allocator.FrameworkName(offer.framework).value_or("?") + "@" +
           allocator.AgentName(offer.agent).value_or("?") + "(" + allocator.RoleName(offer.role) +
           "):" + offer.resources.ToString();
  }
  return out;
}

std::string AllocateText(ReferenceAllocator& allocator, double now = 0) {
  absl::StatusOr<std::vector<Offer>> offers = allocator.Allocate(now);
  EXPECT_TRUE(offers.ok()) << offers.status();
  return offers.ok() ? Text(allocator, *offers) : "<error>";
}

// "agent:resources" when placed, else the reason's name.
std::string Text(const ReferenceAllocator& allocator, const PlacementDecision& decision) {
  if (!decision.placed()) return std::string(ReasonName(decision.reason));
  return allocator.AgentName(decision.agent).value_or("?") + ":" + decision.resources.ToString();
}

std::vector<std::string> PlaceText(ReferenceAllocator& allocator,
                                   const std::vector<TaskRequest>& requests,
                                   PlacementPolicy policy = PlacementPolicy::kFirstFit) {
  absl::StatusOr<std::vector<PlacementDecision>> decisions = allocator.Place(requests, policy);
  EXPECT_TRUE(decisions.ok()) << decisions.status();
  std::vector<std::string> out;
  for (const PlacementDecision& decision : decisions.value_or(std::vector<PlacementDecision>{})) {
    out.push_back(Text(allocator, decision));
  }
  return out;
}

// Everything observable, to check that failed calls change nothing.
std::string Snapshot(const ReferenceAllocator& allocator) {
  std::string out;
  for (AgentId agent : allocator.Agents()) {
    out += *allocator.AgentName(agent) + " total=" + allocator.Total(agent)->ToString() +
           " free=" + allocator.Free(agent)->ToString() +
           " allocated=" + allocator.Allocated(agent)->ToString() + "\n";
  }
  for (FrameworkId framework : allocator.Frameworks()) {
    out += *allocator.FrameworkName(framework) + "\n";
  }
  for (uint32_t r = 0; !allocator.RoleName(RoleId(r)).empty(); ++r) {
    const Quota quota = *allocator.GetQuota(RoleId(r));
    out += allocator.RoleName(RoleId(r)) + " C=" + allocator.Consumption(RoleId(r))->ToString() +
           " G=" + quota.guarantee.ToString() + " L=" + quota.limit.ToString() +
           " share=" + std::to_string(*allocator.RoleShare(RoleId(r))) + "\n";
  }
  return out;
}

class ReferenceAllocatorTest : public ::testing::Test {
 protected:
  void TearDown() override {
    const absl::Status status = allocator_.CheckCaches();
    EXPECT_TRUE(status.ok()) << status;
  }

  ReferenceAllocator allocator_;
};

// ---------------------------------------------------------------------------------------------
// Allocate.

TEST_F(ReferenceAllocatorTest, OffersWholeAgentsToTheLowestShareFirst) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus:4;mem:4096;ports:[31000-32000]");
  AddAgent(allocator_, "a1", "cpus:2;mem:1024");
  const FrameworkId f0 = AddFramework(allocator_, "f0", {"web"});
  AddFramework(allocator_, "f1", {"batch"});

  EXPECT_EQ(AllocateText(allocator_),
            "f0@a0(web):cpus:4;mem:4096;ports:[31000-32000] | f1@a1(batch):cpus:2;mem:1024");
  EXPECT_EQ(AllocateText(allocator_), "");

  // web: max(2/6, 2048/5120) = 0.4 > batch: max(2/6, 1024/5120) = 1/3.
  ASSERT_TRUE(allocator_.Recover(f0, a0, Role(allocator_, "web"), R("cpus:2;mem:2048")).ok());
  EXPECT_EQ(AllocateText(allocator_), "f1@a0(batch):cpus:2;mem:2048");
  EXPECT_EQ(allocator_.Allocated(a0)->ToString(), "cpus:4;mem:4096;ports:[31000-32000]");
  EXPECT_EQ(allocator_.Free(a0)->ToString(), "");
}

TEST_F(ReferenceAllocatorTest, WeightTwoGetsTwiceTheDominantShare) {
  ASSERT_TRUE(allocator_.SetWeight("heavy", 2).ok());
  const FrameworkId heavy = AddFramework(allocator_, "heavy", {"heavy"});
  const FrameworkId light = AddFramework(allocator_, "light", {"light"});
  for (int i = 0; i < 30; ++i) AddAgent(allocator_, "n" + std::to_string(i), "cpus:1;mem:1024");

  absl::StatusOr<std::vector<Offer>> offers = allocator_.Allocate(0);
  ASSERT_TRUE(offers.ok());
  int heavy_agents = 0;
  int light_agents = 0;
  for (const Offer& offer : *offers) {
    EXPECT_EQ(offer.resources.ToString(), "cpus:1;mem:1024");
    (offer.framework == heavy ? heavy_agents : light_agents) += 1;
  }
  EXPECT_EQ(heavy_agents, 20);
  EXPECT_EQ(light_agents, 10);
  EXPECT_THAT(*allocator_.RoleShare(Role(allocator_, "heavy")), DoubleEq(20.0 / 30 / 2));
  EXPECT_THAT(*allocator_.RoleShare(Role(allocator_, "light")), DoubleEq(10.0 / 30));
  EXPECT_THAT(*allocator_.FrameworkShare(heavy, Role(allocator_, "heavy")), DoubleEq(20.0 / 30));
  EXPECT_THAT(*allocator_.FrameworkShare(light, Role(allocator_, "light")), DoubleEq(10.0 / 30));
}

TEST_F(ReferenceAllocatorTest, VirtualSelfChildAlternatesWithChildRole) {
  AddFramework(allocator_, "A", {"a"});
  AddFramework(allocator_, "B", {"a/b"});
  for (int i = 0; i < 4; ++i) AddAgent(allocator_, "n" + std::to_string(i), "cpus:1;mem:128");
  // Self child of "a" (key id 0) and "a/b" (id 1) tie at 0: self first; then they alternate.
  EXPECT_EQ(AllocateText(allocator_),
            "A@n0(a):cpus:1;mem:128 | B@n1(a/b):cpus:1;mem:128 | A@n2(a):cpus:1;mem:128 | "
            "B@n3(a/b):cpus:1;mem:128");
  EXPECT_THAT(*allocator_.RoleShare(Role(allocator_, "a")), DoubleEq(1.0));
}

TEST_F(ReferenceAllocatorTest, QuotaGuaranteeIsMetInStageOneBeforeFairShare) {
  AddFramework(allocator_, "fb", {"b"});
  ASSERT_TRUE(allocator_.SetQuota("a", {Q("cpus:4"), {}}).ok());
  AddFramework(allocator_, "fa", {"a"});
  for (int i = 0; i < 3; ++i) AddAgent(allocator_, "a" + std::to_string(i), "cpus:2;mem:2048");
  // Without the guarantee "b" (lower id) would win a0 and a2.
  EXPECT_EQ(AllocateText(allocator_),
            "fa@a0(a):cpus:2;mem:2048 | fa@a1(a):cpus:2;mem:2048 | fb@a2(b):cpus:2;mem:2048");
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "a"))->ToString(), "cpus:4;mem:4096");
}

TEST_F(ReferenceAllocatorTest, StageTwoMergesIntoTheStageOneOffer) {
  ASSERT_TRUE(allocator_.SetQuota("g", {Q("cpus:1"), {}}).ok());
  AddFramework(allocator_, "fg", {"g"});
  AddAgent(allocator_, "a0", "cpus:4;mem:1024");
  AddAgent(allocator_, "a1", "cpus:2;mem:1024");
  // Stage 1 at a0: cpus up to the unmet guarantee (1), mem from the surplus (all); nothing at
  // a1 (the guarantee is met). Stage 2 adds a0's cpus:3 to the first offer.
  EXPECT_EQ(AllocateText(allocator_), "fg@a0(g):cpus:4;mem:1024 | fg@a1(g):cpus:2;mem:1024");

  // Offers keep the order of their first allocation: stage 2 at a0 goes to "h" first
  // (share 0 against g's 0.5), then a1 to g (0.5 against h's 0.5, ties by id).
  ReferenceAllocator other;
  ASSERT_TRUE(other.SetQuota("g", {Q("cpus:1"), {}}).ok());
  AddFramework(other, "fg", {"g"});
  AddFramework(other, "fh", {"h"});
  AddAgent(other, "a0", "cpus:4;mem:1024");
  AddAgent(other, "a1", "cpus:2;mem:1024");
  EXPECT_EQ(AllocateText(other),
            "fg@a0(g):cpus:1;mem:1024 | fh@a0(h):cpus:3 | fg@a1(g):cpus:2;mem:1024");
  EXPECT_TRUE(other.CheckCaches().ok());
}

TEST_F(ReferenceAllocatorTest, HeadroomIsHeldForUnmetGuarantees) {
  ASSERT_TRUE(allocator_.SetQuota("q", {Q("cpus:4"), {}}).ok());
  const FrameworkId fb = AddFramework(allocator_, "fb", {"b"});
  for (int i = 0; i < 3; ++i) AddAgent(allocator_, "a" + std::to_string(i), "cpus:2;mem:1024");
  // Available cpus 6, required 4: only 2 cpus may go to "b"; memory is not held.
  EXPECT_EQ(AllocateText(allocator_),
            "fb@a0(b):cpus:2;mem:1024 | fb@a1(b):mem:1024 | fb@a2(b):mem:1024");
  EXPECT_THAT(PlaceText(allocator_, {{fb, Role(allocator_, "b"), R("cpus:1")}}),
              ElementsAre("held_for_headroom"));

  // The guaranteed role takes its headroom in stage 1.
  AddFramework(allocator_, "fq", {"q"});
  EXPECT_EQ(AllocateText(allocator_), "fq@a1(q):cpus:2 | fq@a2(q):cpus:2");
}

TEST_F(ReferenceAllocatorTest, LimitIsNeverExceeded) {
  ASSERT_TRUE(allocator_.SetQuota("l", {{}, Q("cpus:3")}).ok());
  const FrameworkId fl = AddFramework(allocator_, "fl", {"l"});
  AddAgent(allocator_, "a0", "cpus:2;mem:1024");
  AddAgent(allocator_, "a1", "cpus:2;mem:1024");
  EXPECT_EQ(AllocateText(allocator_), "fl@a0(l):cpus:2;mem:1024 | fl@a1(l):cpus:1;mem:1024");
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "l"))->ToString(), "cpus:3;mem:2048");
  EXPECT_EQ(AllocateText(allocator_), "");
  EXPECT_THAT(PlaceText(allocator_, {{fl, Role(allocator_, "l"), R("cpus:1")}}),
              ElementsAre("quota_limit"));
}

TEST_F(ReferenceAllocatorTest, ParentLimitChopsChildOffers) {
  ASSERT_TRUE(allocator_.SetQuota("p", {{}, Q("cpus:1;mem:0")}).ok());
  AddFramework(allocator_, "fc", {"p/c"});
  AddAgent(allocator_, "a0", "cpus:4;mem:512;disk:100");
  EXPECT_EQ(AllocateText(allocator_), "fc@a0(p/c):cpus:1;disk:100");
}

TEST_F(ReferenceAllocatorTest, ReservationIsOfferedOnlyToItsRoleAndSubroles) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus(eng):2;mem(eng):512;cpus:1;mem:512");
  AddFramework(allocator_, "fops", {"ops"});
  AddFramework(allocator_, "fweb", {"eng/web"});
  EXPECT_EQ(Role(allocator_, "eng").value(), 0u);
  // eng's share counts its reservation (2/3), so ops goes first and gets no reserved resources.
  EXPECT_EQ(AllocateText(allocator_),
            "fops@a0(ops):cpus:1;mem:512 | fweb@a0(eng/web):cpus(eng):2;mem(eng):512");
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "eng"))->ToString(), "cpus:2;mem:512");
  EXPECT_EQ(allocator_.Free(a0)->ToString(), "");
}

TEST_F(ReferenceAllocatorTest, DeclineFilterExpires) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus:2;mem:1024");
  const FrameworkId f = AddFramework(allocator_, "f", {"r"});
  const RoleId r = Role(allocator_, "r");
  EXPECT_EQ(AllocateText(allocator_, 0), "f@a0(r):cpus:2;mem:1024");
  ASSERT_TRUE(allocator_.Decline(f, a0, r, R("cpus:2;mem:1024"), 10, 0).ok());
  EXPECT_EQ(AllocateText(allocator_, 5), "");
  EXPECT_EQ(AllocateText(allocator_, 9.999), "");
  EXPECT_EQ(AllocateText(allocator_, 10), "f@a0(r):cpus:2;mem:1024");

  // refuse_seconds 0: already expired at `now`.
  ASSERT_TRUE(allocator_.Decline(f, a0, r, R("cpus:2;mem:1024"), 0, 10).ok());
  EXPECT_EQ(AllocateText(allocator_, 10), "f@a0(r):cpus:2;mem:1024");

  // The filter applies only while the refused resources contain the candidate.
  ASSERT_TRUE(allocator_.Decline(f, a0, r, R("cpus:1;mem:512"), 100, 20).ok());
  EXPECT_EQ(AllocateText(allocator_, 21), "");
  ASSERT_TRUE(allocator_.Recover(f, a0, r, R("cpus:1;mem:512")).ok());
  EXPECT_EQ(AllocateText(allocator_, 22), "f@a0(r):cpus:2;mem:1024");

  // A later decline replaces the filter.
  ASSERT_TRUE(allocator_.Decline(f, a0, r, R("cpus:2;mem:1024"), kInf, 30).ok());
  EXPECT_EQ(AllocateText(allocator_, 1e9), "");
  ASSERT_TRUE(allocator_.Allocate(1e9).ok());
  EXPECT_EQ(allocator_.Free(a0)->ToString(), "cpus:2;mem:1024");
}

TEST_F(ReferenceAllocatorTest, SuppressAndRevive) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus:2;mem:1024");
  const FrameworkId f = AddFramework(allocator_, "f", {"r", "s"});
  const RoleId r = Role(allocator_, "r");
  const RoleId s = Role(allocator_, "s");
  ASSERT_TRUE(allocator_.Suppress(f, r).ok());
  ASSERT_TRUE(allocator_.Suppress(f, s).ok());
  EXPECT_EQ(AllocateText(allocator_), "");
  ASSERT_TRUE(allocator_.Revive(f, s).ok());
  EXPECT_EQ(AllocateText(allocator_), "f@a0(s):cpus:2;mem:1024");
  ASSERT_TRUE(allocator_.Decline(f, a0, s, R("cpus:2;mem:1024"), kInf, 0).ok());
  EXPECT_EQ(AllocateText(allocator_, 1), "");
  // Revive (of any role) drops every filter of the framework; "r" stays suppressed.
  ASSERT_TRUE(allocator_.Revive(f, s).ok());
  EXPECT_EQ(AllocateText(allocator_, 2), "f@a0(s):cpus:2;mem:1024");
  EXPECT_EQ(allocator_.Suppress(f, RoleId(99)).code(), absl::StatusCode::kNotFound);
}

TEST_F(ReferenceAllocatorTest, GpuAgentsGoOnlyToGpuCapableFrameworks) {
  AddAgent(allocator_, "g0", "gpus:1;cpus:4;mem:1024");
  AddAgent(allocator_, "n1", "cpus:1;mem:256");
  const FrameworkId plain = AddFramework(allocator_, "plain", {"a"});
  const FrameworkId gpu = AddFramework(allocator_, "gpu", {"b"}, /*gpu_capable=*/true);
  EXPECT_THAT(PlaceText(allocator_, {{plain, Role(allocator_, "a"), R("cpus:2")},
                                     {gpu, Role(allocator_, "b"), R("cpus:2")}}),
              ElementsAre("missing_gpu_capability", "g0:cpus:2"));
  EXPECT_EQ(AllocateText(allocator_),
            "gpu@g0(b):cpus:2;gpus:1;mem:1024 | plain@n1(a):cpus:1;mem:256");
}

TEST_F(ReferenceAllocatorTest, MinimumAllocatable) {
  AddAgent(allocator_, "a0", "cpus:1;mem:1024");
  AddFramework(allocator_, "big", {"a"}, false, {R("cpus:2"), R("mem:2048")});
  AddFramework(allocator_, "small", {"b"});
  EXPECT_EQ(AllocateText(allocator_), "small@a0(b):cpus:1;mem:1024");

  // Amounts are summed over reservations.
  ReferenceAllocator other;
  AddAgent(other, "r0", "cpus(a):1;cpus:1");
  AddFramework(other, "big", {"a"}, false, {R("cpus:2")});
  EXPECT_EQ(AllocateText(other), "big@r0(a):cpus:1;cpus(a):1");

  // The default: cpus:0.01 or mem:32.
  ReferenceAllocator tiny;
  AddAgent(tiny, "t0", "cpus:0.009;mem:31");
  AddFramework(tiny, "f", {"a"});
  EXPECT_EQ(AllocateText(tiny), "");
  AllocatorOptions any;
  any.default_min_allocatable = {};
  ReferenceAllocator lenient(any);
  AddAgent(lenient, "t0", "cpus:0.009;mem:31");
  AddFramework(lenient, "f", {"a"});
  EXPECT_EQ(AllocateText(lenient), "f@t0(a):cpus:0.009;mem:31");
}

TEST_F(ReferenceAllocatorTest, DeactivatedAgentsAreSkippedButCountInTheTotal) {
  AddAgent(allocator_, "a0", "cpus:1;mem:100");
  const AgentId a1 = AddAgent(allocator_, "a1", "cpus:3;mem:100");
  const FrameworkId f = AddFramework(allocator_, "f", {"r"});
  ASSERT_TRUE(allocator_.DeactivateAgent(a1).ok());
  EXPECT_EQ(AllocateText(allocator_), "f@a0(r):cpus:1;mem:100");
  EXPECT_THAT(*allocator_.RoleShare(Role(allocator_, "r")), DoubleEq(0.5));  // mem 100/200
  EXPECT_THAT(PlaceText(allocator_, {{f, Role(allocator_, "r"), R("cpus:1")}}),
              ElementsAre("insufficient_resources"));
  ASSERT_TRUE(allocator_.ActivateAgent(a1).ok());
  EXPECT_EQ(AllocateText(allocator_), "f@a1(r):cpus:3;mem:100");
}

TEST_F(ReferenceAllocatorTest, InactiveFrameworkGetsNothing) {
  AddAgent(allocator_, "a0", "cpus:1;mem:100");
  const FrameworkId f = AddFramework(allocator_, "f", {"r"});
  ASSERT_TRUE(allocator_.DeactivateFramework(f).ok());
  EXPECT_EQ(AllocateText(allocator_), "");
  EXPECT_THAT(PlaceText(allocator_, {{f, Role(allocator_, "r"), R("cpus:1")},
                                     {f, Role(allocator_, "r"), R("cpus:1")}}),
              ElementsAre("framework_inactive", "framework_inactive"));
  ASSERT_TRUE(allocator_.ActivateFramework(f).ok());
  EXPECT_EQ(AllocateText(allocator_), "f@a0(r):cpus:1;mem:100");
}

TEST_F(ReferenceAllocatorTest, RandomSorterUsesTheSharedSortKey) {
  AllocatorOptions options;
  options.sorter = SorterKind::kRandom;
  options.seed = 42;
  ReferenceAllocator random(options);
  for (int i = 0; i < 3; ++i)
    AddFramework(random, "f" + std::to_string(i), {"r" + std::to_string(i)});
  AddAgent(random, "a0", "cpus:1;mem:128");
  uint32_t first = 0;
  for (uint32_t role = 1; role < 3; ++role) {
    if (RandomSortKey(42, 1, 0, RoleClient(role)) < RandomSortKey(42, 1, 0, RoleClient(first))) {
      first = role;
    }
  }
  EXPECT_EQ(AllocateText(random),
            "f" + std::to_string(first) + "@a0(r" + std::to_string(first) + "):cpus:1;mem:128");

  // Deterministic for a seed.
  ReferenceAllocator twin_a(options);
  ReferenceAllocator twin_b(options);
  for (ReferenceAllocator* twin : {&twin_a, &twin_b}) {
    for (int i = 0; i < 5; ++i)
      AddFramework(*twin, "f" + std::to_string(i), {"r" + std::to_string(i % 3)});
    for (int i = 0; i < 20; ++i) AddAgent(*twin, "a" + std::to_string(i), "cpus:1;mem:128");
  }
  EXPECT_EQ(AllocateText(twin_a), AllocateText(twin_b));
  EXPECT_TRUE(random.CheckCaches().ok());
}

// ---------------------------------------------------------------------------------------------
// Place.

TEST_F(ReferenceAllocatorTest, DrfPaperExampleByProgressiveFilling) {
  AddAgent(allocator_, "s", "cpus:9;mem:18432");
  const FrameworkId a = AddFramework(allocator_, "A", {"a"});
  const FrameworkId b = AddFramework(allocator_, "B", {"b"});
  const RoleId ra = Role(allocator_, "a");
  const RoleId rb = Role(allocator_, "b");
  std::vector<TaskRequest> requests;
  for (int i = 0; i < 10; ++i) requests.push_back({a, ra, R("cpus:1;mem:4096")});
  for (int i = 0; i < 10; ++i) requests.push_back({b, rb, R("cpus:3;mem:1024")});

  absl::StatusOr<std::vector<PlacementDecision>> decisions =
      allocator_.Place(requests, PlacementPolicy::kFirstFit);
  ASSERT_TRUE(decisions.ok()) << decisions.status();
  int placed_a = 0;
  int placed_b = 0;
  for (size_t i = 0; i < decisions->size(); ++i) {
    if ((*decisions)[i].placed()) (i < 10 ? placed_a : placed_b) += 1;
  }
  EXPECT_EQ(placed_a, 3);
  EXPECT_EQ(placed_b, 2);
  // A's fourth and B's third request fail on resources; the rest queue behind them.
  EXPECT_EQ((*decisions)[3].reason, Reason::kInsufficientResources);
  EXPECT_EQ((*decisions)[4].reason, Reason::kQueuedBehind);
  EXPECT_EQ((*decisions)[12].reason, Reason::kInsufficientResources);
  EXPECT_EQ((*decisions)[19].reason, Reason::kQueuedBehind);
  EXPECT_THAT(*allocator_.FrameworkShare(a, ra), DoubleEq(2.0 / 3));
  EXPECT_THAT(*allocator_.FrameworkShare(b, rb), DoubleEq(2.0 / 3));
  EXPECT_THAT(*allocator_.RoleShare(ra), DoubleEq(2.0 / 3));
  EXPECT_THAT(*allocator_.RoleShare(rb), DoubleEq(2.0 / 3));
}

TEST(ReferenceAllocatorPlaceTest, PlacementPolicies) {
  // Free/capacity terms for cpus:1;mem:1024: best/worst fit a0 1.5, a1 1, a2 1.75; dot
  // product a0 0.5, a1 1, a2 0.25.
  const auto place = [](PlacementPolicy policy) {
    ReferenceAllocator allocator;
    AddAgent(allocator, "a0", "cpus:4;mem:4096");
    AddAgent(allocator, "a1", "cpus:2;mem:2048");
    AddAgent(allocator, "a2", "cpus:8;mem:8192");
    const FrameworkId f = AddFramework(allocator, "f", {"r"});
    return PlaceText(allocator, {{f, Role(allocator, "r"), R("cpus:1;mem:1024")}}, policy);
  };
  EXPECT_THAT(place(PlacementPolicy::kFirstFit), ElementsAre("a0:cpus:1;mem:1024"));
  EXPECT_THAT(place(PlacementPolicy::kBestFit), ElementsAre("a1:cpus:1;mem:1024"));
  EXPECT_THAT(place(PlacementPolicy::kWorstFit), ElementsAre("a2:cpus:1;mem:1024"));
  EXPECT_THAT(place(PlacementPolicy::kDotProduct), ElementsAre("a1:cpus:1;mem:1024"));

  // Ties break by the lowest id; worst fit then moves to the emptier agent.
  ReferenceAllocator allocator;
  AddAgent(allocator, "b0", "cpus:2;mem:2048");
  AddAgent(allocator, "b1", "cpus:2;mem:2048");
  const FrameworkId f = AddFramework(allocator, "f", {"r"});
  const TaskRequest task{f, Role(allocator, "r"), R("cpus:1")};
  EXPECT_THAT(PlaceText(allocator, {task, task}, PlacementPolicy::kWorstFit),
              ElementsAre("b0:cpus:1", "b1:cpus:1"));
  EXPECT_THAT(PlaceText(allocator, {task}, PlacementPolicy::kBestFit), ElementsAre("b0:cpus:1"));
  EXPECT_TRUE(allocator.CheckCaches().ok());
}

TEST_F(ReferenceAllocatorTest, PlacementTakesNearestReservationFirst) {
  const AgentId a0 =
      AddAgent(allocator_, "a0", "cpus(eng):1;cpus(eng/web):1;cpus(ops):5;cpus:4;mem:64");
  const FrameworkId f = AddFramework(allocator_, "f", {"eng/web"});
  const RoleId web = Role(allocator_, "eng/web");
  EXPECT_THAT(PlaceText(allocator_, {{f, web, R("cpus:1.5")}, {f, web, R("cpus:2")}}),
              ElementsAre("a0:cpus(eng):0.5;cpus(eng/web):1", "a0:cpus:1.5;cpus(eng):0.5"));
  EXPECT_EQ(allocator_.AllocatedTo(f, a0, web)->ToString(), "cpus:1.5;cpus(eng):1;cpus(eng/web):1");
  EXPECT_THAT(PlaceText(allocator_, {{f, web, R("cpus:3")}}),
              ElementsAre("insufficient_resources"));
}

TEST_F(ReferenceAllocatorTest, PlacementFavoursUnmetGuaranteesThenFollowsFifo) {
  AddAgent(allocator_, "a0", "cpus:1;mem:1024");
  AddAgent(allocator_, "a1", "cpus:1;mem:1024");
  const FrameworkId fb = AddFramework(allocator_, "fb", {"b"});
  ASSERT_TRUE(allocator_.SetQuota("q", {Q("cpus:1"), {}}).ok());
  const FrameworkId fq = AddFramework(allocator_, "fq", {"q"});
  const RoleId b = Role(allocator_, "b");
  const RoleId q = Role(allocator_, "q");
  // "b" comes first in the order (share 0, lower id), but "q" has an unmet guarantee for
  // cpus. Then b: its first task fits on a1, the second fails and the third queues behind.
  EXPECT_THAT(
      PlaceText(
          allocator_,
          {{fb, b, R("cpus:1")}, {fb, b, R("cpus:1")}, {fb, b, R("mem:1")}, {fq, q, R("cpus:1")}}),
      ElementsAre("a1:cpus:1", "insufficient_resources", "queued_behind", "a0:cpus:1"));
}

TEST_F(ReferenceAllocatorTest, PlacementRespectsLimitAndHeadroomTogether) {
  AddAgent(allocator_, "a0", "cpus:4;mem:1024");
  ASSERT_TRUE(allocator_.SetQuota("g", {Q("cpus:2"), Q("cpus:3")}).ok());
  const FrameworkId fg = AddFramework(allocator_, "fg", {"g"});
  const RoleId g = Role(allocator_, "g");
  // 3 cpus: 2 toward the guarantee, 1 from the surplus (4 - 2); a fourth is over the limit.
  EXPECT_THAT(PlaceText(allocator_, {{fg, g, R("cpus:3")}, {fg, g, R("cpus:1")}}),
              ElementsAre("a0:cpus:3", "quota_limit"));
}

// ---------------------------------------------------------------------------------------------
// Reservations, removal.

TEST_F(ReferenceAllocatorTest, ReserveAndUnreserve) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus(ops):1;cpus:4;mem:1024");
  ASSERT_TRUE(allocator_.Reserve(a0, "eng", R("cpus:2")).ok());
  EXPECT_EQ(allocator_.Total(a0)->ToString(), "cpus:2;cpus(eng):2;cpus(ops):1;mem:1024");
  EXPECT_EQ(allocator_.Free(a0)->ToString(), "cpus:2;cpus(eng):2;cpus(ops):1;mem:1024");
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "eng"))->ToString(), "cpus:2");
  ASSERT_TRUE(allocator_.Unreserve(a0, R("cpus(eng):1")).ok());
  EXPECT_EQ(allocator_.Total(a0)->ToString(), "cpus:3;cpus(eng):1;cpus(ops):1;mem:1024");
  // Static reservations cannot be unreserved; allocated ones are not free.
  EXPECT_EQ(allocator_.Unreserve(a0, R("cpus(ops):1")).code(),
            absl::StatusCode::kFailedPrecondition);
  const FrameworkId f = AddFramework(allocator_, "f", {"eng"});
  EXPECT_EQ(AllocateText(allocator_), "f@a0(eng):cpus:3;cpus(eng):1;mem:1024");
  EXPECT_EQ(allocator_.Unreserve(a0, R("cpus(eng):1")).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(allocator_.Recover(f, a0, Role(allocator_, "eng"), R("cpus(eng):1")).ok());
  EXPECT_TRUE(allocator_.Unreserve(a0, R("cpus(eng):1")).ok());
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "eng"))->ToString(), "cpus:3;mem:1024");
}

TEST_F(ReferenceAllocatorTest, RemovalReturnsResourcesAndDropsFilters) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus(r):1;cpus:1;mem:100");
  const AgentId a1 = AddAgent(allocator_, "a1", "cpus:2;mem:100");
  const FrameworkId f = AddFramework(allocator_, "f", {"r"});
  const RoleId r = Role(allocator_, "r");
  EXPECT_EQ(AllocateText(allocator_), "f@a0(r):cpus:1;cpus(r):1;mem:100 | f@a1(r):cpus:2;mem:100");
  ASSERT_TRUE(allocator_.RemoveAgent(a0).ok());
  EXPECT_EQ(allocator_.Consumption(r)->ToString(), "cpus:2;mem:100");
  EXPECT_EQ(allocator_.Total(a0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(allocator_.RemoveAgent(a0).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(allocator_.Decline(f, a1, r, R("cpus:1"), kInf, 0).ok());

  ASSERT_TRUE(allocator_.RemoveFramework(f).ok());
  EXPECT_EQ(allocator_.Free(a1)->ToString(), "cpus:2;mem:100");
  EXPECT_EQ(allocator_.Consumption(r)->ToString(), "");
  // Names are free again; ids are not reused.
  const AgentId again = AddAgent(allocator_, "a0", "cpus:1;mem:100");
  EXPECT_EQ(again.value(), 2u);
  const FrameworkId f2 = AddFramework(allocator_, "f", {"r"});
  EXPECT_EQ(f2.value(), 1u);
  EXPECT_THAT(allocator_.Agents(), ElementsAre(a1, again));
  EXPECT_THAT(allocator_.Frameworks(), ElementsAre(f2));
  EXPECT_EQ(AllocateText(allocator_), "f@a1(r):cpus:2;mem:100 | f@a0(r):cpus:1;mem:100");
}

// ---------------------------------------------------------------------------------------------
// Errors: the right code and no change at all.

TEST_F(ReferenceAllocatorTest, ErrorsLeaveTheStateUnchanged) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus(ops):1;cpus:4;mem:1024");
  const FrameworkId f = AddFramework(allocator_, "f", {"eng/web"});
  const RoleId web = Role(allocator_, "eng/web");
  const RoleId ops = Role(allocator_, "ops");
  ASSERT_TRUE(allocator_.SetQuota("lim", {Q("cpus:1"), Q("cpus:2")}).ok());
  // 1 cpu is held for the guarantee of "lim".
  EXPECT_EQ(AllocateText(allocator_), "f@a0(eng/web):cpus:3;mem:1024");
  const std::string before = Snapshot(allocator_);
  const auto code = [](const absl::Status& status) { return status.code(); };
  using absl::StatusCode;

  EXPECT_EQ(code(allocator_.AddAgent({"", R("cpus:1"), {}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddAgent({"a0", R("cpus:1"), {}}).status()),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {}, false, {}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {"x", "x"}, false, {}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {"new", "a//b"}, false, {}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {"new"}, false, {R("cpus(new):1")}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {"new"}, false, {R("ports:[1-2]")}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"g", {"new"}, false, {Resources()}}).status()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.AddFramework({"f", {"new"}, false, {}}).status()),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(code(allocator_.SetWeight("new", 0)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetWeight("new", -1)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetWeight("new", kNaN)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetWeight("new", kInf)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetWeight("/new", 1)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetQuota("*", {Q("cpus:1"), {}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetQuota("new", {Q("cpus:2"), Q("cpus:1")})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetQuota("lim/new", {Q("cpus:3"), {}})), StatusCode::kInvalidArgument);
  // eg(lim) = max(G(lim), sum of the children's eg) must stay within L(lim) = 2.
  EXPECT_EQ(before, Snapshot(allocator_));
  ASSERT_TRUE(allocator_.SetQuota("lim/x", {Q("cpus:2"), {}}).ok());
  EXPECT_EQ(code(allocator_.SetQuota("lim/y", {Q("cpus:1"), {}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.SetQuota("lim", {Q("cpus:1"), Q("cpus:1")})),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(allocator_.SetQuota("lim/x", {}).ok());
  const std::string with_lim_x = Snapshot(allocator_);
  EXPECT_NE(before, with_lim_x);  // lim/x now exists (with an empty quota)

  EXPECT_EQ(code(allocator_.Reserve(a0, "*", R("cpus:1"))), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Reserve(a0, "new", R("cpus(ops):1"))), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Reserve(AgentId(9), "new", R("cpus:1"))), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.Reserve(a0, "new", R("cpus:2"))), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(allocator_.Unreserve(a0, R("cpus(ops):1"))), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(allocator_.Recover(f, a0, web, R("cpus:5"))), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(allocator_.Recover(f, a0, ops, R("cpus:1"))), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Recover(FrameworkId(7), a0, web, R("cpus:1"))), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.Recover(f, AgentId(7), web, R("cpus:1"))), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.Recover(f, a0, RoleId(70), R("cpus:1"))), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.Decline(f, a0, web, R("cpus:1"), -1, 0)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Decline(f, a0, web, R("cpus:1"), kNaN, 0)),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Decline(f, a0, web, R("cpus:1"), 1, kInf)),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Decline(f, a0, web, R("cpus:9"), 1, 0)),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(allocator_.Allocate(kNaN).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Suppress(f, ops)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(allocator_.Revive(FrameworkId(5), web)), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.RemoveFramework(FrameworkId(5))), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.DeactivateAgent(AgentId())), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.FindRole("new").status()), StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_.FrameworkShare(f, ops).status()), StatusCode::kInvalidArgument);

  EXPECT_EQ(with_lim_x, Snapshot(allocator_));

  // Place validates every request before placing anything.
  ASSERT_TRUE(allocator_.Recover(f, a0, web, R("cpus:3;mem:1024")).ok());
  const std::string recovered = Snapshot(allocator_);
  const TaskRequest good{f, web, R("cpus:1")};
  for (const TaskRequest& bad :
       {TaskRequest{f, web, Resources()}, TaskRequest{f, web, R("ports:[1-2]")},
        TaskRequest{f, web, R("cpus(eng):1")}, TaskRequest{f, ops, R("cpus:1")}}) {
    EXPECT_EQ(code(allocator_.Place(std::vector<TaskRequest>{good, bad}, PlacementPolicy::kFirstFit)
                       .status()),
              StatusCode::kInvalidArgument)
        << bad.demand.ToString();
  }
  EXPECT_EQ(code(allocator_
                     .Place(std::vector<TaskRequest>{good, {FrameworkId(3), web, R("cpus:1")}},
                            PlacementPolicy::kFirstFit)
                     .status()),
            StatusCode::kNotFound);
  EXPECT_EQ(code(allocator_
                     .Place(std::vector<TaskRequest>{good, {f, RoleId(40), R("cpus:1")}},
                            PlacementPolicy::kFirstFit)
                     .status()),
            StatusCode::kNotFound);
  EXPECT_EQ(recovered, Snapshot(allocator_));
  EXPECT_EQ(code(allocator_.FindRole("new").status()), StatusCode::kNotFound);
}

TEST_F(ReferenceAllocatorTest, ReserveOverALimitFailsWithoutCreatingTheRole) {
  const AgentId a0 = AddAgent(allocator_, "a0", "cpus:4;mem:1024");
  ASSERT_TRUE(allocator_.SetQuota("lim", {{}, Q("cpus:1")}).ok());
  const std::string before = Snapshot(allocator_);
  EXPECT_EQ(allocator_.Reserve(a0, "lim/x", R("cpus:2")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(allocator_.FindRole("lim/x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(before, Snapshot(allocator_));
  EXPECT_TRUE(allocator_.Reserve(a0, "lim/x", R("cpus:1;mem:10")).ok());
  EXPECT_EQ(allocator_.Consumption(Role(allocator_, "lim"))->ToString(), "cpus:1;mem:10");
}

// ---------------------------------------------------------------------------------------------
// Random operation sequences: the caches always agree with the primary state, offers respect
// reservations, and limits hold for unreserved resources.

TEST(ReferenceAllocatorRandomTest, CachesStayConsistent) {
  int offered = 0;
  int placed = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    const std::vector<std::string> roles = {"a", "a/b", "a/c", "d", "*"};
    ReferenceAllocator allocator;
    std::vector<Offer> live;  // allocations handed out, to recover later
    std::map<FrameworkId, std::string> role_of;
    double now = 0;
    for (int step = 0; step < 300; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      const std::vector<AgentId> agents = allocator.Agents();
      const std::vector<FrameworkId> frameworks = allocator.Frameworks();
      switch (pick(10)) {
        case 0:
          (void)allocator.AddAgent(
              {"n" + std::to_string(step),
               R(pick(3) == 0 ? "cpus(a):1;cpus:3;mem:512;gpus:1" : "cpus:2;mem:1024;ports:[1-10]"),
               {}});
          break;
        case 1:
          if (!agents.empty() && pick(3) == 0) {
            ASSERT_TRUE(allocator.RemoveAgent(agents[pick(static_cast<int>(agents.size()))]).ok());
          } else if (!agents.empty()) {
            const AgentId agent = agents[pick(static_cast<int>(agents.size()))];
            ASSERT_TRUE(
                (pick(2) == 0 ? allocator.DeactivateAgent(agent) : allocator.ActivateAgent(agent))
                    .ok());
          }
          break;
        case 2: {
          const std::string role = roles[pick(5)];
          absl::StatusOr<FrameworkId> id =
              allocator.AddFramework({"f" + std::to_string(step), {role}, pick(2) == 0, {}});
          ASSERT_TRUE(id.ok());
          role_of[*id] = role;
          break;
        }
        case 3:
          if (!frameworks.empty() && pick(4) == 0) {
            ASSERT_TRUE(
                allocator.RemoveFramework(frameworks[pick(static_cast<int>(frameworks.size()))])
                    .ok());
          }
          break;
        case 4:
          (void)allocator.SetQuota(
              roles[pick(4)],
              {Q("cpus:" + std::to_string(pick(4))),
               pick(2) == 0 ? Q("cpus:" + std::to_string(2 + pick(6))) : ResourceQuantities()});
          break;
        case 5:
          if (!agents.empty()) {
            (void)allocator.Reserve(agents[pick(static_cast<int>(agents.size()))], roles[pick(4)],
                                    R("cpus:0.5"));
          }
          break;
        case 6:
        case 7: {
          now += 1;
          absl::StatusOr<std::vector<Offer>> offers = allocator.Allocate(now);
          ASSERT_TRUE(offers.ok());
          for (const Offer& offer : *offers) {
            const std::string role = allocator.RoleName(offer.role);
            for (const Resource& entry : offer.resources.entries()) {
              EXPECT_TRUE(entry.unreserved() || IsSelfOrAncestor(entry.reservation, role))
                  << offer.resources.ToString() << " offered to " << role;
            }
            live.push_back(offer);
            ++offered;
          }
          break;
        }
        case 8:
          if (!live.empty()) {
            const size_t i = static_cast<size_t>(pick(static_cast<int>(live.size())));
            const Offer offer = live[i];
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
            const absl::Status status =
                pick(2) == 0
                    ? allocator.Recover(offer.framework, offer.agent, offer.role, offer.resources)
                    : allocator.Decline(offer.framework, offer.agent, offer.role, offer.resources,
                                        pick(3), now);
            // The agent or framework may be gone, or the allocation already recovered.
            EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kNotFound ||
                        status.code() == absl::StatusCode::kFailedPrecondition)
                << status;
          }
          break;
        default:
          if (!frameworks.empty()) {
            std::vector<TaskRequest> requests;
            for (int i = 0; i < 4; ++i) {
              const FrameworkId framework = frameworks[pick(static_cast<int>(frameworks.size()))];
              requests.push_back(
                  {framework, *allocator.FindRole(role_of[framework]), R("cpus:0.5;mem:64")});
            }
            absl::StatusOr<std::vector<PlacementDecision>> decisions =
                allocator.Place(requests, static_cast<PlacementPolicy>(pick(4)));
            ASSERT_TRUE(decisions.ok()) << decisions.status();
            for (const PlacementDecision& decision : *decisions) placed += decision.placed();
          }
          break;
      }
      const absl::Status status = allocator.CheckCaches();
      ASSERT_TRUE(status.ok()) << status;
    }
  }
  // The sequences do exercise offers and placements.
  EXPECT_GT(offered, 200);
  EXPECT_GT(placed, 100);
}

}  // namespace
}  // namespace steward::allocator
