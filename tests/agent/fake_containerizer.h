// An in-memory Containerizer for the agent's logic tests: records launches and kills, and
// lets the test end containers with any wait status. State lives in a shared object so the
// test keeps observing it after the agent took ownership of the containerizer.
//
// Thread-safe.
#ifndef STEWARD_TESTS_AGENT_FAKE_CONTAINERIZER_H_
#define STEWARD_TESTS_AGENT_FAKE_CONTAINERIZER_H_

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/containerizer.h"

namespace steward::agent::testing {

struct FakeContainers {
  mutable std::mutex mu;
  std::vector<ContainerSpec> launched;  // In launch order.
  std::set<std::string> running;
  std::deque<ContainerExit> exits;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> kills;
  std::vector<std::string> recover;  // What Recover() returns.
  // What Pid() returns: 1000 + n for the n-th launch (from 1), 2000 + n for recovered ones.
  std::map<std::string, int> pids;
  absl::Status launch_error;         // Launch() fails with it when not OK.
  bool kills_end_containers = true;  // Kill() ends the container (SIGTERM) at once.

  // Ends `container_id` with `wait_status` (as waitpid reports it).
  void End(const std::string& container_id, int wait_status, bool oom = false,
           std::string message = "") {
    std::lock_guard lock(mu);
    ContainerExit exit;
    exit.container_id = container_id;
    exit.wait_status = wait_status;
    exit.oom_killed = oom;
    exit.message = message.empty() ? "exited with status " + std::to_string(wait_status >> 8)
                                   : std::move(message);
    exits.push_back(std::move(exit));
  }
  std::vector<ContainerSpec> Launched() const {
    std::lock_guard lock(mu);
    return launched;
  }
  bool IsRunning(const std::string& id) const {
    std::lock_guard lock(mu);
    return running.count(id) > 0;
  }
  std::vector<std::pair<std::string, std::chrono::milliseconds>> Kills() const {
    std::lock_guard lock(mu);
    return kills;
  }
};

class FakeContainerizer : public Containerizer {
 public:
  explicit FakeContainerizer(std::shared_ptr<FakeContainers> state) : state_(std::move(state)) {}

  std::string IsolationSummary() const override { return "fake: nothing is run"; }

  absl::Status Launch(const ContainerSpec& spec) override {
    std::lock_guard lock(state_->mu);
    if (!state_->launch_error.ok()) return state_->launch_error;
    if (state_->running.count(spec.container_id) > 0) {
      return absl::AlreadyExistsError(spec.container_id);
    }
    state_->launched.push_back(spec);
    state_->running.insert(spec.container_id);
    state_->pids[spec.container_id] = 1000 + static_cast<int>(state_->launched.size());
    return absl::OkStatus();
  }

  absl::Status Kill(std::string_view container_id, std::chrono::milliseconds grace) override {
    std::lock_guard lock(state_->mu);
    const std::string id(container_id);
    if (state_->running.count(id) == 0) return absl::NotFoundError(id);
    state_->kills.emplace_back(id, grace);
    if (state_->kills_end_containers) {
      ContainerExit exit;
      exit.container_id = id;
      exit.wait_status = SIGTERM;  // WIFSIGNALED, WTERMSIG == SIGTERM.
      exit.killed = true;
      exit.message = "killed by signal 15";
      state_->exits.push_back(std::move(exit));
    }
    return absl::OkStatus();
  }

  std::vector<ContainerExit> Reap() override {
    std::lock_guard lock(state_->mu);
    std::vector<ContainerExit> out;
    std::deque<ContainerExit> keep;
    for (ContainerExit& exit : state_->exits) {
      if (state_->running.erase(exit.container_id) > 0) {
        out.push_back(std::move(exit));
      } else {
        keep.push_back(std::move(exit));  // Not launched yet (test raced ahead): keep.
      }
    }
    state_->exits = std::move(keep);
    return out;
  }

  std::vector<std::string> Running() const override {
    std::lock_guard lock(state_->mu);
    return {state_->running.begin(), state_->running.end()};
  }

  absl::StatusOr<int> Pid(std::string_view container_id) const override {
    std::lock_guard lock(state_->mu);
    const std::string id(container_id);
    auto pid = state_->pids.find(id);
    if (state_->running.count(id) == 0 || pid == state_->pids.end()) {
      return absl::NotFoundError(id);
    }
    return pid->second;
  }

  absl::StatusOr<std::vector<std::string>> Recover() override {
    std::lock_guard lock(state_->mu);
    for (const std::string& id : state_->recover) {
      state_->running.insert(id);
      const int pid = 2001 + static_cast<int>(state_->pids.size());
      state_->pids[id] = pid;
    }
    return state_->recover;
  }

 private:
  std::shared_ptr<FakeContainers> state_;
};

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_FAKE_CONTAINERIZER_H_
