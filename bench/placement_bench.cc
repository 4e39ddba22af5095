// Direct placement (Allocator::Place, the simulator's DIRECT mode): task placements per
// second, the engine next to the reference engine in the same run.
//
// Cluster: `agents` agents in three sizes (agent i: i mod 3 selects cpus:16;mem:65536,
// cpus:32;mem:131072 or cpus:64;mem:262144, each with disk:1048576), `frameworks` frameworks
// over 10 equally weighted roles, DRF. Requests: `tasks` tasks, dealt to the frameworks in
// turn, of three shapes in turn (cpus:1;mem:2048, cpus:2;mem:4096;disk:10240 and
// cpus:0.5;mem:512), about a quarter of the cluster's cpus in all: every task is placed.
// They are submitted in Place calls of `batch` requests each (a batch of 1 is the
// one-call-per-task pattern).
//
// One iteration builds a fresh cluster (untimed) and places every task; the manual time is the
// calling thread's CPU time over the Place calls alone (as in allocator_bench.cc), so
// items_per_second is placements per second. Policies: 0 first-fit, 1 best-fit, 2 worst-fit,
// 3 dot-product.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "allocator/allocator.h"
#include "allocator/engine.h"
#include "allocator/reference.h"
#include "allocator/resources.h"
#include "bench/cpu_time.h"
#include "benchmark/benchmark.h"

namespace steward::allocator {
namespace {

constexpr int kRoles = 10;

using bench::ThreadCpuSeconds;

struct Cluster {
  std::unique_ptr<Allocator> allocator;
  std::vector<TaskRequest> requests;
};

template <typename A>
absl::StatusOr<Cluster> BuildCluster(int num_agents, int num_frameworks, int num_tasks) {
  const char* agent_shapes[] = {"cpus:16;mem:65536;disk:1048576", "cpus:32;mem:131072;disk:1048576",
                                "cpus:64;mem:262144;disk:1048576"};
  const char* task_shapes[] = {"cpus:1;mem:2048", "cpus:2;mem:4096;disk:10240", "cpus:0.5;mem:512"};
  std::vector<Resources> agent_totals, task_demands;
  for (const char* text : agent_shapes) {
    absl::StatusOr<Resources> parsed = Resources::Parse(text);
    if (!parsed.ok()) return parsed.status();
    agent_totals.push_back(*std::move(parsed));
  }
  for (const char* text : task_shapes) {
    absl::StatusOr<Resources> parsed = Resources::Parse(text);
    if (!parsed.ok()) return parsed.status();
    task_demands.push_back(*std::move(parsed));
  }
  Cluster cluster;
  cluster.allocator = std::make_unique<A>(AllocatorOptions{});
  Allocator& allocator = *cluster.allocator;
  std::vector<FrameworkId> frameworks;
  std::vector<RoleId> roles;
  for (int j = 0; j < num_frameworks; ++j) {
    FrameworkInfo info;
    info.name = absl::StrCat("framework-", j);
    info.roles.push_back(absl::StrCat("role", j % kRoles));
    absl::StatusOr<FrameworkId> id = allocator.AddFramework(info);
    if (!id.ok()) return id.status();
    absl::StatusOr<RoleId> role = allocator.FindRole(info.roles.front());
    if (!role.ok()) return role.status();
    frameworks.push_back(*id);
    roles.push_back(*role);
  }
  for (int i = 0; i < num_agents; ++i) {
    AgentInfo info;
    info.name = absl::StrCat("agent-", i);
    info.total = agent_totals[static_cast<size_t>(i) % agent_totals.size()];
    if (absl::StatusOr<AgentId> id = allocator.AddAgent(info); !id.ok()) return id.status();
  }
  cluster.requests.reserve(static_cast<size_t>(num_tasks));
  for (int t = 0; t < num_tasks; ++t) {
    const size_t j = static_cast<size_t>(t) % frameworks.size();
    cluster.requests.push_back(
        TaskRequest{frameworks[j], roles[j], task_demands[static_cast<size_t>(t) % 3]});
  }
  return cluster;
}

// Args: agents, frameworks, tasks, batch, policy.
template <typename A>
void BM_Place(benchmark::State& state) {
  const auto num_agents = static_cast<int>(state.range(0));
  const auto num_frameworks = static_cast<int>(state.range(1));
  const auto num_tasks = static_cast<int>(state.range(2));
  const auto batch = static_cast<size_t>(state.range(3));
  const auto policy = static_cast<PlacementPolicy>(state.range(4));
  int64_t placed = 0;
  for (auto _ : state) {
    absl::StatusOr<Cluster> cluster = BuildCluster<A>(num_agents, num_frameworks, num_tasks);
    if (!cluster.ok()) {
      state.SkipWithError(cluster.status().ToString().c_str());
      break;
    }
    const std::span<const TaskRequest> requests = cluster->requests;
    double seconds = 0;
    for (size_t begin = 0; begin < requests.size(); begin += batch) {
      const std::span<const TaskRequest> part =
          requests.subspan(begin, std::min(batch, requests.size() - begin));
      const double start = ThreadCpuSeconds();
      absl::StatusOr<std::vector<PlacementDecision>> decisions =
          cluster->allocator->Place(part, policy);
      seconds += ThreadCpuSeconds() - start;
      if (!decisions.ok()) {
        state.SkipWithError(decisions.status().ToString().c_str());
        return;
      }
      for (const PlacementDecision& decision : *decisions) {
        if (decision.reason != Reason::kNone) {
          state.SkipWithError("a task was not placed: the cluster is sized to place them all");
          return;
        }
      }
      placed += static_cast<int64_t>(part.size());
    }
    state.SetIterationTime(seconds);
  }
  state.SetItemsProcessed(placed);
  state.counters["agents"] = num_agents;
  state.counters["frameworks"] = num_frameworks;
  state.counters["tasks"] = num_tasks;
}

void Register(const std::string& engine, benchmark::internal::Function* function,
              const std::vector<std::vector<int64_t>>& args, int iterations) {
  for (const std::vector<int64_t>& row : args) {
    benchmark::RegisterBenchmark(("BM_Place_" + engine).c_str(), function)
        ->ArgNames({"agents", "frameworks", "tasks", "batch", "policy"})
        ->Args(row)
        ->Iterations(iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

bool RegisterAll() {
  // The engine: every policy at 10k agents with all tasks in one call, in calls of 1,000 and
  // one call per task; 50k agents for the scaling.
  std::vector<std::vector<int64_t>> engine;
  for (int64_t policy : {0, 1, 2, 3}) engine.push_back({10'000, 100, 100'000, 100'000, policy});
  for (int64_t policy : {0, 1, 2, 3}) engine.push_back({10'000, 100, 100'000, 1'000, policy});
  for (int64_t policy : {0, 1, 2, 3}) engine.push_back({10'000, 100, 10'000, 1, policy});
  for (int64_t policy : {0, 1, 2, 3}) engine.push_back({50'000, 100, 100'000, 100'000, policy});
  Register("Engine", BM_Place<Engine>, engine, 3);
  // The reference scans every agent for every task: fewer tasks, the same cluster.
  std::vector<std::vector<int64_t>> reference;
  for (int64_t policy : {0, 1, 2, 3}) reference.push_back({10'000, 100, 2'000, 2'000, policy});
  Register("Reference", BM_Place<ReferenceAllocator>, reference, 1);
  return true;
}

[[maybe_unused]] const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace steward::allocator

BENCHMARK_MAIN();
