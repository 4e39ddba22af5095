// steward-demo: runs the allocator engine on the example of the DRF paper (Ghodsi et al.,
// NSDI'11) and explains the result. One agent with 9 CPUs and 18 GB; framework A runs tasks
// of <1 CPU, 4 GB>, framework B tasks of <3 CPUs, 1 GB>. Progressive filling in DRF order
// ends with A running 3 tasks and B 2, both at a dominant share of 2/3.
#include <cstdio>
#include <string>
#include <vector>

#include "allocator/engine.h"

namespace {

using steward::allocator::AgentInfo;
using steward::allocator::Engine;
using steward::allocator::FrameworkId;
using steward::allocator::FrameworkInfo;
using steward::allocator::PlacementDecision;
using steward::allocator::PlacementPolicy;
using steward::allocator::ReasonName;
using steward::allocator::Resources;
using steward::allocator::RoleId;
using steward::allocator::TaskRequest;

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "steward-demo: %s\n", std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(value);
}

}  // namespace

int main() {
  Engine engine;
  AgentInfo agent{"agent-1", OrDie(Resources::Parse("cpus:9;mem:18432")), {}};
  auto agent_id = OrDie(engine.AddAgent(agent));
  FrameworkId a = OrDie(engine.AddFramework(FrameworkInfo{"A", {"a"}, false, {}}));
  FrameworkId b = OrDie(engine.AddFramework(FrameworkInfo{"B", {"b"}, false, {}}));
  RoleId role_a = OrDie(engine.FindRole("a"));
  RoleId role_b = OrDie(engine.FindRole("b"));
  Resources task_a = OrDie(Resources::Parse("cpus:1;mem:4096"));
  Resources task_b = OrDie(Resources::Parse("cpus:3;mem:1024"));

  std::printf("Steward allocator demo: the DRF paper's example\n");
  std::printf("  agent-1  %s\n", OrDie(engine.Total(agent_id)).ToString().c_str());
  std::printf("  A wants tasks of %s (memory-heavy), B of %s (CPU-heavy); 5 queued each\n\n",
              task_a.ToString().c_str(), task_b.ToString().c_str());

  std::vector<TaskRequest> requests;
  for (int i = 0; i < 5; ++i) {
    requests.push_back({a, role_a, task_a});
    requests.push_back({b, role_b, task_b});
  }
  std::vector<PlacementDecision> decisions =
      OrDie(engine.Place(requests, PlacementPolicy::kFirstFit));

  int placed_a = 0;
  int placed_b = 0;
  for (size_t i = 0; i < decisions.size(); ++i) {
    const char* who = requests[i].framework == a ? "A" : "B";
    if (decisions[i].placed()) {
      (requests[i].framework == a ? placed_a : placed_b)++;
      std::printf("  task %zu of %s  placed   %s\n", i / 2 + 1, who,
                  decisions[i].resources.ToString().c_str());
    } else {
      std::printf("  task %zu of %s  waiting  (%s)\n", i / 2 + 1, who,
                  std::string(ReasonName(decisions[i].reason)).c_str());
    }
  }
  double share_a = OrDie(engine.RoleShare(role_a));
  double share_b = OrDie(engine.RoleShare(role_b));
  std::printf("\nResult: A runs %d tasks, B runs %d.\n", placed_a, placed_b);
  std::printf("  A holds %s: dominant resource mem, share %.4f\n",
              OrDie(engine.AllocatedTo(a, agent_id, role_a)).ToString().c_str(), share_a);
  std::printf("  B holds %s: dominant resource cpus, share %.4f\n",
              OrDie(engine.AllocatedTo(b, agent_id, role_b)).ToString().c_str(), share_b);
  std::printf("  free: %s\n", OrDie(engine.Free(agent_id)).ToString().c_str());
  std::printf(
      "\nWhy: DRF always serves the framework with the lowest dominant share. Each A task adds\n"
      "4/18 = 2/9 of the memory, each B task 3/9 = 1/3 of the CPUs, so the filling goes\n"
      "A, B, A, B, A (ties go to the older role) and both end at 2/3. Then all 9 CPUs are in\n"
      "use: neither A's next task nor B's fits, and the 4 GB of memory left stay free.\n"
      "What an offer cycle would give each framework now:\n");
  for (FrameworkId framework : {a, b}) {
    for (const auto& explanation : OrDie(engine.Explain(framework, 0))) {
      std::printf("  explain: %s\n", explanation.summary.c_str());
    }
  }
  bool ok = placed_a == 3 && placed_b == 2;
  return ok ? 0 : 1;
}
