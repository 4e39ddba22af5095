// Launch, Kill, Reap and Running from several threads at once.
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/containerizer.h"
#include "gtest/gtest.h"
#include "tests/agent/containerizer_fixture.h"

namespace steward::agent::testing {
namespace {

class ConcurrencyTest : public ContainerizerFixture {
 protected:
  void SetUp() override {
    if (!Start(Isolation::kAuto)) GTEST_SKIP() << skip_reason_;
  }
};

TEST_F(ConcurrencyTest, ThreadsLaunchKillAndReapTogether) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 4;
  std::atomic<int> launched{0};
  std::atomic<bool> done{false};
  std::mutex mu;
  std::map<std::string, ContainerExit> exits;
  std::map<std::string, int> times_reaped;

  std::thread reaper([&] {
    while (!done.load()) {
      std::vector<ContainerExit> batch = containerizer_->Reap();
      (void)containerizer_->Running();
      std::lock_guard<std::mutex> lock(mu);
      for (ContainerExit& exit : batch) {
        ++times_reaped[exit.container_id];
        exits[exit.container_id] = exit;
      }
    }
  });
  std::vector<std::thread> launchers;
  for (int t = 0; t < kThreads; ++t) {
    launchers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        // Odd containers would run for a minute; they are killed right after the launch.
        const bool kill = i % 2 == 1;
        absl::Status status =
            containerizer_->Launch(ShellSpec(id, kill ? "sleep 60" : absl::StrCat("exit ", i)));
        EXPECT_TRUE(status.ok()) << id << ": " << status;
        if (!status.ok()) continue;
        ++launched;
        if (kill) {
          status = containerizer_->Kill(id, std::chrono::milliseconds(50));
          EXPECT_TRUE(status.ok()) << id << ": " << status;
        }
      }
    });
  }
  for (std::thread& launcher : launchers) launcher.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (static_cast<int>(exits.size()) == launched.load()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done = true;
  reaper.join();

  ASSERT_EQ(launched.load(), kThreads * kPerThread);
  ASSERT_EQ(static_cast<int>(exits.size()), kThreads * kPerThread);
  for (const auto& [id, count] : times_reaped) EXPECT_EQ(count, 1) << id;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const ContainerExit& exit = exits[absl::StrCat("t", t, "-", i)];
      if (i % 2 == 1) {
        EXPECT_TRUE(exit.killed) << exit.container_id << ": " << exit.message;
        EXPECT_TRUE(WIFSIGNALED(exit.wait_status)) << exit.message;
      } else {
        EXPECT_FALSE(exit.killed);
        EXPECT_TRUE(WIFEXITED(exit.wait_status));
        EXPECT_EQ(WEXITSTATUS(exit.wait_status), i);
      }
    }
  }
  EXPECT_TRUE(containerizer_->Running().empty());
}

}  // namespace
}  // namespace steward::agent::testing
