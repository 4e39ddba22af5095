#include "tests/agent/containerizer_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace steward::agent::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kWaitLimit{30};

}  // namespace

std::string IsolationName(const ::testing::TestParamInfo<Isolation>& param_info) {
  switch (param_info.param) {
    case Isolation::kAuto:
      return "Auto";
    case Isolation::kCgroupsV2:
      return "CgroupsV2";
    case Isolation::kCgroupsV1:
      return "CgroupsV1";
    case Isolation::kNone:
      return "None";
  }
  return "Unknown";
}

bool ContainerizerFixture::Start(Isolation isolation) {
  if (root_.empty()) {
    char pattern[] = "/tmp/steward-containerizer-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return false;
    }
    root_ = made;
  }
  isolation_ = isolation;
  options_.runtime_dir = RuntimeDir();
  options_.isolation = isolation;
  options_.cgroup_name = absl::StrCat("steward-test-", ::getpid());
  absl::StatusOr<std::unique_ptr<Containerizer>> created = Containerizer::Create(options_);
  if (!created.ok()) {
    const bool cgroups = isolation == Isolation::kCgroupsV1 || isolation == Isolation::kCgroupsV2;
    if (!(cgroups && absl::IsFailedPrecondition(created.status()))) {
      ADD_FAILURE() << created.status();
    }
    skip_reason_ = std::string(created.status().message());
    return false;
  }
  containerizer_ = *std::move(created);
  return true;
}

std::vector<std::string> ContainerizerFixture::Restart() {
  containerizer_.reset();
  absl::StatusOr<std::unique_ptr<Containerizer>> created = Containerizer::Create(options_);
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return {};
  containerizer_ = *std::move(created);
  absl::StatusOr<std::vector<std::string>> recovered = containerizer_->Recover();
  EXPECT_TRUE(recovered.ok()) << recovered.status();
  return recovered.ok() ? *recovered : std::vector<std::string>();
}

void ContainerizerFixture::TearDown() {
  if (containerizer_ != nullptr) {
    for (const std::string& id : containerizer_->Running()) {
      (void)containerizer_->Kill(id, std::chrono::milliseconds(0));
    }
    const auto deadline = Clock::now() + kWaitLimit;
    while (!containerizer_->Running().empty() && Clock::now() < deadline) {
      containerizer_->Reap();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(containerizer_->Running().empty()) << "containers left running";
    const std::string summary = containerizer_->IsolationSummary();
    containerizer_.reset();
    // The parent cgroups go with the last container ("cgroups vN (...) in A, B").
    if (size_t in = summary.find(") in ");
        absl::StartsWith(summary, "cgroups") && in != std::string::npos) {
      for (absl::string_view parent : absl::StrSplit(summary.substr(in + 5), ", ")) {
        EXPECT_FALSE(std::filesystem::exists(std::string(parent))) << parent << " left behind";
      }
    }
  }
  if (!root_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(root_, error);
  }
}

ContainerSpec ContainerizerFixture::ShellSpec(const std::string& id,
                                              const std::string& command) const {
  ContainerSpec spec;
  spec.container_id = id;
  spec.sandbox = Sandbox(id);
  spec.shell = true;
  spec.command = command;
  return spec;
}

std::optional<ContainerExit> ContainerizerFixture::WaitForExit(const std::string& id) {
  const auto deadline = Clock::now() + kWaitLimit;
  while (true) {
    if (auto it = reaped_.find(id); it != reaped_.end()) {
      ContainerExit exit = it->second;
      reaped_.erase(it);
      return exit;
    }
    if (Clock::now() >= deadline) break;
    for (ContainerExit& exit : containerizer_->Reap()) {
      EXPECT_EQ(reaped_.count(exit.container_id), 0u) << exit.container_id << " reaped twice";
      reaped_[exit.container_id] = exit;
    }
    if (reaped_.count(id) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "container " << id << " did not end within " << kWaitLimit.count() << " s";
  return std::nullopt;
}

bool ContainerizerFixture::WaitForFile(const std::string& path) {
  const auto deadline = Clock::now() + kWaitLimit;
  while (!std::filesystem::exists(path)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string ContainerizerFixture::ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ContainerizerFixture::ProcessDead(int pid) {
  if (ProcessGone(pid)) return true;
  const std::string stat = ReadText(absl::StrCat("/proc/", pid, "/stat"));
  const size_t close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

bool ContainerizerFixture::ProcessGone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace steward::agent::testing
