// A fixture that owns a Containerizer over a fresh temporary runtime directory, with helpers
// to build specs and wait for exits. Every test's containers are killed and reaped, and its
// directories and cgroups removed, in TearDown.
#ifndef STEWARD_TESTS_AGENT_CONTAINERIZER_FIXTURE_H_
#define STEWARD_TESTS_AGENT_CONTAINERIZER_FIXTURE_H_

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/containerizer.h"
#include "gtest/gtest.h"

namespace steward::agent::testing {

using Isolation = Containerizer::Isolation;

// Test name suffix for a parameterised suite over isolations.
std::string IsolationName(const ::testing::TestParamInfo<Isolation>& param_info);

class ContainerizerFixture : public ::testing::Test {
 protected:
  void TearDown() override;

  // Creates the containerizer with `isolation`. Returns false when that failed: a test
  // failure, except for cgroup isolation this host cannot provide (FailedPrecondition), which
  // the test should skip with `skip_reason_`.
  bool Start(Isolation isolation);
  // Destroys the containerizer, leaving its containers running (an agent restart), and
  // creates a new one on the same runtime_dir. Returns what Recover() returned.
  std::vector<std::string> Restart();

  ContainerSpec ShellSpec(const std::string& id, const std::string& command) const;
  std::string Sandbox(const std::string& id) const { return root_ + "/sandboxes/" + id; }
  std::string RuntimeDir() const { return root_ + "/runtime"; }

  // Reaps until `id` has ended (up to 30 s); exits of other containers are kept for later.
  std::optional<ContainerExit> WaitForExit(const std::string& id);
  // Waits until `path` exists (up to 30 s).
  static bool WaitForFile(const std::string& path);
  static std::string ReadText(const std::string& path);
  // True when `pid` is gone (not even a zombie).
  static bool ProcessGone(int pid);
  // True when `pid` is gone or a zombie (dead, not yet collected by its new parent).
  static bool ProcessDead(int pid);

  Isolation isolation_ = Isolation::kNone;
  std::string skip_reason_;
  std::string root_;
  Containerizer::Options options_;
  std::unique_ptr<Containerizer> containerizer_;
  std::map<std::string, ContainerExit> reaped_;
};

}  // namespace steward::agent::testing

#endif  // STEWARD_TESTS_AGENT_CONTAINERIZER_FIXTURE_H_
