// Random clusters and the checks of a cycle's offers, shared by the parallel-cycle suites
// (engine_parallel_test.cc, engine_parallel_stress_test.cc).
#ifndef STEWARD_TESTS_ALLOCATOR_PARALLEL_CLUSTER_H_
#define STEWARD_TESTS_ALLOCATOR_PARALLEL_CLUSTER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator::parallel_cluster {

using test_util::R;

// What a script did that the checks need to know.
struct Built {
  std::vector<AgentId> agents;
  std::vector<std::string> agent_totals;
  std::vector<FrameworkId> frameworks;
  std::vector<std::vector<std::string>> framework_roles;
  std::vector<bool> gpu_capable;
  std::vector<std::vector<Resources>> min_allocatable;
  std::vector<std::string> roles;
  std::vector<double> weights;  // by roles' index
  std::map<std::string, ResourceQuantities> limits;
  std::map<std::pair<uint32_t, uint32_t>, Resources> filters;  // (framework, agent) -> refused
  std::set<std::pair<uint32_t, std::string>> suppressed;
  std::set<uint32_t> inactive_frameworks;
  std::set<uint32_t> inactive_agents;
};

struct ScriptOptions {
  uint64_t seed = 0;
  int agents = 100;
  int frameworks = 20;
  // Filters, limits, guarantees, reservations, suppression, gpus, min_allocatable, inactive
  // agents and frameworks. Off: every framework can take every agent whole.
  bool features = true;
  // Every agent the same total (the deviation bound's setting; see docs/allocator.md).
  bool identical_agents = false;
  bool weights = true;  // random role weights, else all 1
  bool in_use = true;   // some tasks running before the cycle
};

// Builds a random cluster on `allocator`; the same options build the same cluster on any
// allocator (every draw is made whatever the allocator answers).
inline void BuildCluster(Allocator& allocator, const ScriptOptions& options, Built* built) {
  std::mt19937_64 rng(options.seed);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  // Roles: a few top-level roles with children and grandchildren, random weights.
  const int tops = 2 + pick(3);
  for (int t = 0; t < tops; ++t) {
    const std::string top = absl::StrCat("t", t);
    built->roles.push_back(top);
    const int children = pick(4);
    for (int c = 0; c < children; ++c) {
      const std::string child = absl::StrCat(top, "/c", c);
      built->roles.push_back(child);
      if (pick(3) == 0) built->roles.push_back(absl::StrCat(child, "/g"));
    }
  }
  static constexpr double kWeights[] = {1.0, 0.5, 2.0, 3.0};
  for (const std::string& role : built->roles) {
    const double weight = options.weights ? kWeights[pick(4)] : (pick(4), 1.0);
    ASSERT_TRUE(allocator.SetWeight(role, weight).ok());
    built->weights.push_back(weight);
  }
  auto random_role = [&] { return built->roles[pick(static_cast<int>(built->roles.size()))]; };
  // Agents.
  for (int i = 0; i < options.agents; ++i) {
    std::string text = absl::StrCat("cpus:", 2 + pick(15), ";mem:", 1024 * (1 + pick(16)),
                                    ";ports:[31000-", 31000 + pick(20), "]");
    if (options.identical_agents) text = "cpus:8;mem:8192;ports:[31000-31009]";
    if (options.features && pick(8) == 0) text += ";gpus:1";
    if (options.features && pick(5) == 0) absl::StrAppend(&text, ";cpus(", random_role(), "):2");
    if (options.features && pick(7) == 0) absl::StrAppend(&text, ";mem(", random_role(), "):512");
    absl::StatusOr<AgentId> id = allocator.AddAgent({absl::StrCat("agent", i), R(text), {}});
    ASSERT_TRUE(id.ok()) << id.status() << " " << text;
    built->agents.push_back(*id);
    built->agent_totals.push_back(text);
  }
  // Frameworks.
  for (int j = 0; j < options.frameworks; ++j) {
    std::vector<std::string> roles = {random_role()};
    if (pick(3) == 0) {
      std::string second = random_role();
      if (second != roles[0]) roles.push_back(second);
    }
    const bool gpu = options.features && pick(3) == 0;
    std::vector<Resources> min;
    if (options.features && pick(4) == 0) min.push_back(R(absl::StrCat("cpus:", 1 + pick(6))));
    absl::StatusOr<FrameworkId> id =
        allocator.AddFramework({absl::StrCat("fw", j), roles, gpu, min});
    ASSERT_TRUE(id.ok()) << id.status();
    built->frameworks.push_back(*id);
    built->framework_roles.push_back(roles);
    built->gpu_capable.push_back(gpu);
    built->min_allocatable.push_back(min.empty() ? AllocatorOptions::DefaultMinAllocatable() : min);
  }
  // Existing allocations (tasks running), in both modes.
  for (int k = 0; k < (options.in_use ? options.agents / 4 : 0); ++k) {
    const int f = pick(options.frameworks);
    const std::string& role = built->framework_roles[f][0];
    const AgentId agent = built->agents[pick(options.agents)];
    Resources part = R(absl::StrCat("cpus:1;mem:", 256 * (1 + pick(2))));
    absl::StatusOr<RoleId> id = allocator.FindRole(role);
    ASSERT_TRUE(id.ok());
    (void)allocator.AddInUse(built->frameworks[f], agent, *id, part);  // may not fit: fine
  }
  if (!options.features) return;
  // Quota: limits near a share of the cluster, small guarantees.
  for (const std::string& role : built->roles) {
    const int draw = pick(6);
    if (draw > 1) continue;
    Quota quota;
    if (draw == 0) {
      quota.limit = test_util::Q(absl::StrCat("cpus:", 4 + pick(options.agents * 2)));
    } else {
      quota.guarantee = test_util::Q(absl::StrCat("cpus:", 1 + pick(8)));
    }
    // Refused when it contradicts a quota on the path (a guarantee above a limit): then the
    // role keeps its quota, on every allocator alike.
    if (allocator.SetQuota(role, quota).ok() && draw == 0) built->limits[role] = quota.limit;
  }
  // Decline filters: a part of an agent, or everything free there (a covering filter).
  for (int k = 0; k < options.agents / 3; ++k) {
    const int f = pick(options.frameworks);
    const std::string& role = built->framework_roles[f][0];
    const uint32_t a = static_cast<uint32_t>(pick(options.agents));
    const AgentId agent = built->agents[a];
    RoleId id = *allocator.FindRole(role);
    Resources part = pick(2) == 0 ? R("cpus:1;mem:512") : allocator.Free(agent)->Scalars();
    part = part.AllocatableTo(role);
    if (part.empty() || !allocator.AddInUse(built->frameworks[f], agent, id, part).ok()) continue;
    ASSERT_TRUE(allocator.Decline(built->frameworks[f], agent, id, part, 1000, 0).ok());
    built->filters[{built->frameworks[f].value(), agent.value()}] = part;
  }
  for (int k = 0; k < options.frameworks / 5; ++k) {
    const int f = pick(options.frameworks);
    const std::string& role = built->framework_roles[f][0];
    ASSERT_TRUE(allocator.Suppress(built->frameworks[f], *allocator.FindRole(role)).ok());
    built->suppressed.insert({built->frameworks[f].value(), role});
  }
  if (pick(3) == 0) {
    const int f = pick(options.frameworks);
    ASSERT_TRUE(allocator.DeactivateFramework(built->frameworks[f]).ok());
    built->inactive_frameworks.insert(built->frameworks[f].value());
  }
  if (pick(3) == 0) {
    const int a = pick(options.agents);
    ASSERT_TRUE(allocator.DeactivateAgent(built->agents[a]).ok());
    built->inactive_agents.insert(built->agents[a].value());
  }
}

inline std::vector<Offer> Allocate(Engine& engine, double now) {
  absl::StatusOr<std::vector<Offer>> offers = engine.Allocate(now);
  EXPECT_TRUE(offers.ok()) << offers.status();
  return offers.ok() ? *std::move(offers) : std::vector<Offer>();
}

inline size_t IndexOf(const std::vector<FrameworkId>& frameworks, FrameworkId id) {
  return static_cast<size_t>(std::find(frameworks.begin(), frameworks.end(), id) -
                             frameworks.begin());
}

// Every invariant of one cycle's offers; `free_before` by agent id.
inline void CheckOffers(const Engine& engine, const Built& built,
                        const std::map<uint32_t, Resources>& free_before,
                        const std::map<std::string, ResourceQuantities>& consumption_before,
                        const std::vector<Offer>& offers, const std::string& context) {
  std::map<uint32_t, Resources> offered;
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> made;  // (framework, role, agent)
  for (const Offer& offer : offers) {
    const std::string role = engine.RoleName(offer.role);
    const uint32_t f = offer.framework.value();
    const uint32_t a = offer.agent.value();
    const size_t j = IndexOf(built.frameworks, offer.framework);
    ASSERT_LT(j, built.frameworks.size()) << context;
    EXPECT_FALSE(offer.resources.empty()) << context;
    EXPECT_TRUE(made.insert({f, offer.role.value(), a}).second)
        << context << ": two offers to one (framework, role) on agent " << a;
    EXPECT_FALSE(built.inactive_frameworks.count(f)) << context << ": inactive framework";
    EXPECT_FALSE(built.inactive_agents.count(a)) << context << ": inactive agent";
    EXPECT_FALSE(built.suppressed.count({f, role})) << context << ": suppressed " << role;
    if (engine.Total(offer.agent)->Has("gpus")) {
      EXPECT_TRUE(built.gpu_capable[j]) << context << ": gpus to a framework without them";
    }
    if (auto filter = built.filters.find({f, a}); filter != built.filters.end()) {
      EXPECT_FALSE(filter->second.Contains(offer.resources))
          << context << ": offer within a filter: " << offer.resources.ToString();
    }
    bool meets = false;
    for (const Resources& alternative : built.min_allocatable[j]) {
      bool all = true;
      for (const Resource& entry : alternative.entries()) {
        all &= offer.resources.ScalarMilli(entry.name) >= entry.scalar;
      }
      meets |= all;
    }
    EXPECT_TRUE(meets) << context << ": below min_allocatable: " << offer.resources.ToString();
    EXPECT_TRUE(offer.resources.AllocatableTo(role) == offer.resources)
        << context << ": reserved for another role: " << offer.resources.ToString();
    ASSERT_TRUE(offered[a].Add(offer.resources).ok()) << context;
  }
  for (const auto& [agent, resources] : offered) {
    EXPECT_TRUE(free_before.at(agent).Contains(resources))
        << context << ": offers overlap or exceed the free resources on agent " << agent << ": "
        << resources.ToString() << " of " << free_before.at(agent).ToString();
  }
  for (const auto& [role, limit] : built.limits) {
    const ResourceQuantities after = *engine.Consumption(*engine.FindRole(role));
    const ResourceQuantities& before = consumption_before.at(role);
    for (const auto& [name, milli] : limit.entries()) {
      if (before.Get(name) <= milli) {
        EXPECT_LE(after.Get(name), milli) << context << ": limit of " << role << " exceeded";
      }
    }
  }
}

inline std::map<uint32_t, Resources> FreeByAgent(const Allocator& allocator, const Built& built) {
  std::map<uint32_t, Resources> free;
  for (AgentId agent : built.agents) free[agent.value()] = *allocator.Free(agent);
  return free;
}

inline std::map<std::string, ResourceQuantities> ConsumptionByRole(const Allocator& allocator,
                                                                   const Built& built) {
  std::map<std::string, ResourceQuantities> out;
  for (const std::string& role : built.roles) {
    out[role] = *allocator.Consumption(*allocator.FindRole(role));
  }
  return out;
}

// The engine's accounting equals the reference's after it is handed the same offers.
inline void CheckAccounting(const Engine& engine, ReferenceAllocator& reference, const Built& built,
                            const std::vector<Offer>& offers, const std::string& context) {
  for (const Offer& offer : offers) {
    ASSERT_TRUE(reference
                    .AddInUse(offer.framework, offer.agent,
                              *reference.FindRole(engine.RoleName(offer.role)), offer.resources)
                    .ok())
        << context;
  }
  for (AgentId agent : built.agents) {
    ASSERT_EQ(engine.Free(agent)->ToString(), reference.Free(agent)->ToString())
        << context << ": free on agent " << agent.value();
  }
  for (const std::string& role : built.roles) {
    const RoleId id = *engine.FindRole(role);
    ASSERT_EQ(engine.Consumption(id)->ToString(), reference.Consumption(id)->ToString())
        << context << ": consumption of " << role;
    ASSERT_DOUBLE_EQ(*engine.RoleShare(id), *reference.RoleShare(id)) << context << " " << role;
  }
  for (size_t j = 0; j < built.frameworks.size(); ++j) {
    for (const std::string& role : built.framework_roles[j]) {
      const RoleId id = *engine.FindRole(role);
      ASSERT_DOUBLE_EQ(*engine.FrameworkShare(built.frameworks[j], id),
                       *reference.FrameworkShare(built.frameworks[j], id))
          << context;
    }
  }
}

// d: the largest dominant share of one agent's total.
inline double LargestAgentShare(const Engine& engine, const Built& built) {
  std::map<std::string, int64_t> cluster;
  std::vector<Resources> totals;
  for (AgentId agent : built.agents) {
    totals.push_back(*engine.Total(agent));
    for (const Resource& entry : totals.back().entries()) {
      if (entry.kind == ResourceKind::kScalar) cluster[entry.name] += entry.scalar;
    }
  }
  double largest = 0;
  for (const Resources& total : totals) {
    for (const Resource& entry : total.entries()) {
      if (entry.kind != ResourceKind::kScalar) continue;
      largest = std::max(
          largest, static_cast<double>(entry.scalar) / static_cast<double>(cluster[entry.name]));
    }
  }
  return largest;
}

// The largest |share parallel - sequential| over (framework, role).
inline double LargestDeviation(const Engine& sequential, const Engine& parallel,
                               const Built& built) {
  double largest = 0;
  for (size_t j = 0; j < built.frameworks.size(); ++j) {
    for (const std::string& role : built.framework_roles[j]) {
      const RoleId id = *sequential.FindRole(role);
      const double a = *sequential.FrameworkShare(built.frameworks[j], id);
      const double b = *parallel.FrameworkShare(built.frameworks[j], id);
      largest = std::max(largest, std::abs(a - b));
    }
  }
  return largest;
}

}  // namespace steward::allocator::parallel_cluster

#endif  // STEWARD_TESTS_ALLOCATOR_PARALLEL_CLUSTER_H_
