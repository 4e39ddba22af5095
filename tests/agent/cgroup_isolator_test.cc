// CgroupIsolator's choice of hierarchies and parent cgroups, against fake cgroup trees in a
// temporary directory (plain directories with the control files the code looks for), so the
// v2 path is covered on hosts without a usable unified hierarchy.
#include "agent/internal/cgroup_isolator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace steward::agent::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeCgroupTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = absl::StrCat(::testing::TempDir(), "/steward-fake-cgroups-", ::getpid());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ + "/proc");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // /proc/self/mountinfo with the given "fs-type mount-point super-options" mounts.
  void Mounts(const std::vector<std::array<std::string, 3>>& mounts) {
    std::ofstream out(root_ + "/proc/mountinfo");
    int id = 30;
    for (const auto& [type, point, options] : mounts) {
      ++id;
      out << id << " 23 0:" << id << " / " << root_ << point << " rw - " << type << " " << type
          << " " << options << "\n";
    }
  }
  void OwnCgroups(const std::string& text) { std::ofstream(root_ + "/proc/cgroup") << text; }
  void File(const std::string& path, const std::string& contents) {
    std::filesystem::create_directories(std::filesystem::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << contents;
  }
  std::string Read(const std::string& path) {
    std::ifstream in(root_ + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> Create(int version) {
    return CgroupIsolator::Create(version, "steward", root_ + "/proc");
  }

  // cgroups v1 with cpu at the hierarchy's root and memory under the agent's own cgroup
  // /session, both with the `steward` parent already made.
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> CreateV1InASession() {
    Mounts({{"cgroup", "/cpu", "rw,cpu"}, {"cgroup", "/memory", "rw,memory"}});
    OwnCgroups("2:memory:/session\n1:cpu:/\n");
    File("/cpu/steward/cpu.shares", "1024\n");
    File("/memory/session/steward/memory.limit_in_bytes", "9223372036854771712\n");
    return Create(1);
  }

  std::string root_;
};

TEST_F(FakeCgroupTreeTest, V2EnablesTheControllersDownToTheParent) {
  Mounts({{"cgroup2", "/unified", "rw"}});
  OwnCgroups("0::/\n");
  File("/unified/cgroup.controllers", "cpu io memory pids\n");
  File("/unified/cgroup.subtree_control", "");
  File("/unified/steward/cgroup.subtree_control", "");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(2);
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  EXPECT_EQ((*isolator)->version(), 2);
  EXPECT_EQ((*isolator)->Summary(),
            absl::StrCat("cgroups v2 (cpu, memory, pids) in ", root_, "/unified/steward"));
  EXPECT_EQ(Read("/unified/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(Read("/unified/steward/cgroup.subtree_control"), "+cpu +memory +pids");

  // Without limits nothing is written: the container's cgroup is only created.
  absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
      (*isolator)->CreateContainer("web", 0, 0);
  ASSERT_TRUE(cgroups.ok()) << cgroups.status();
  ASSERT_EQ(cgroups->size(), 1u);
  EXPECT_EQ((*cgroups)[0].directory(), root_ + "/unified/steward/container-web");
  EXPECT_EQ((*cgroups)[0].version(), 2);
  EXPECT_THAT((*cgroups)[0].controllers(), ElementsAre("cpu", "memory", "pids"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/unified/steward/container-web"));
}

TEST_F(FakeCgroupTreeTest, AFailedLimitLeavesNoCgroupBehind) {
  Mounts({{"cgroup2", "/unified", "rw"}});
  OwnCgroups("0::/\n");
  File("/unified/cgroup.controllers", "cpu memory\n");
  File("/unified/cgroup.subtree_control", "");
  File("/unified/steward/cgroup.subtree_control", "");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(2);
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  // A plain directory has no memory.max to write.
  absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
      (*isolator)->CreateContainer("web", 1, 1 << 20);
  EXPECT_TRUE(absl::IsInternal(cgroups.status())) << cgroups.status();
  EXPECT_THAT(std::string(cgroups.status().message()), HasSubstr("memory.max"));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/unified/steward/container-web"));
}

TEST_F(FakeCgroupTreeTest, V2WithoutTheMemoryControllerIsFailedPrecondition) {
  Mounts({{"cgroup2", "/unified", "rw"}});
  OwnCgroups("0::/\n");
  File("/unified/cgroup.controllers", "cpu hugetlb\n");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(2);
  EXPECT_TRUE(absl::IsFailedPrecondition(isolator.status()));
  EXPECT_THAT(std::string(isolator.status().message()),
              HasSubstr("cgroup.controllers lacks memory (has: cpu, hugetlb)"));
}

TEST_F(FakeCgroupTreeTest, V2FallsBackToTheRootWhenTheOwnCgroupCannotDelegate) {
  Mounts({{"cgroup2", "/unified", "rw"}});
  OwnCgroups("0::/agent.service\n");
  File("/unified/cgroup.controllers", "cpu memory\n");
  File("/unified/cgroup.subtree_control", "");
  File("/unified/steward/cgroup.subtree_control", "");
  // The agent's own cgroup lists the controllers but has no subtree_control to write.
  File("/unified/agent.service/cgroup.controllers", "cpu memory\n");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(2);
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  EXPECT_EQ((*isolator)->Summary(),
            absl::StrCat("cgroups v2 (cpu, memory) in ", root_, "/unified/steward"));
}

TEST_F(FakeCgroupTreeTest, V1PrefersTheOwnCgroupAndFallsBackToTheRoot) {
  Mounts({{"cgroup", "/cpu", "rw,cpu,cpuacct"},
          {"cgroup", "/memory", "rw,memory"},
          {"cgroup", "/pids", "rw,pids"}});
  // The memory cgroup is nested and exists; the pids one is missing, so its parent goes to
  // the hierarchy's root.
  OwnCgroups("3:pids:/gone\n2:memory:/session\n1:cpu,cpuacct:/\n");
  File("/cpu/steward/cpu.shares", "1024\n");
  File("/memory/session/steward/memory.limit_in_bytes", "9223372036854771712\n");
  File("/pids/steward/cgroup.procs", "");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(1);
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  EXPECT_EQ((*isolator)->Summary(),
            absl::StrCat("cgroups v1 (cpu, memory, pids) in ", root_, "/cpu/steward, ", root_,
                         "/memory/session/steward, ", root_, "/pids/steward"));
  absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
      (*isolator)->CreateContainer("db", 0, 0);
  ASSERT_TRUE(cgroups.ok()) << cgroups.status();
  ASSERT_EQ(cgroups->size(), 3u);
  EXPECT_EQ((*cgroups)[1].directory(), root_ + "/memory/session/steward/container-db");
  EXPECT_THAT((*cgroups)[1].controllers(), ElementsAre("memory"));
}

// Every isolator holds a shared lock on its parents while it lives; one that goes away
// removes a parent only if it can take that lock exclusively, so never while another uses it.
TEST_F(FakeCgroupTreeTest, EveryIsolatorSharingAParentHoldsItsLock) {
  Mounts({{"cgroup", "/cpu", "rw,cpu"}, {"cgroup", "/memory", "rw,memory"}});
  OwnCgroups("2:memory:/\n1:cpu:/\n");
  File("/cpu/steward/cpu.shares", "1024\n");
  File("/memory/steward/memory.limit_in_bytes", "9223372036854771712\n");
  auto exclusive = [&](const std::string& path) {
    const int fd = ::open((root_ + path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path;
    const bool taken = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return taken;
  };
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> first = Create(1);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> second = Create(1);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(exclusive("/cpu/steward"));
  first->reset();
  EXPECT_FALSE(exclusive("/cpu/steward")) << "the second isolator lost its lock";
  EXPECT_FALSE(exclusive("/memory/steward"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/cpu/steward"));
  second->reset();
  EXPECT_TRUE(exclusive("/cpu/steward"));
  EXPECT_TRUE(exclusive("/memory/steward"));
}

TEST_F(FakeCgroupTreeTest, CreateContainerRecreatesARemovedParentPath) {
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = CreateV1InASession();
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  std::filesystem::remove_all(root_ + "/cpu/steward");
  std::filesystem::remove_all(root_ + "/memory/session/steward");
  absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
      (*isolator)->CreateContainer("db", 0, 0);
  ASSERT_TRUE(cgroups.ok()) << cgroups.status();
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/cpu/steward/container-db"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + "/memory/session/steward/container-db"));
}

TEST_F(FakeCgroupTreeTest, CreateContainerWithTheOwnCgroupGoneIsInternal) {
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = CreateV1InASession();
  ASSERT_TRUE(isolator.ok()) << isolator.status();
  std::filesystem::remove_all(root_ + "/memory/session");
  absl::StatusOr<std::vector<checkpoint::Cgroup>> cgroups =
      (*isolator)->CreateContainer("db", 0, 0);
  EXPECT_TRUE(absl::IsInternal(cgroups.status())) << cgroups.status();
  EXPECT_THAT(std::string(cgroups.status().message()),
              HasSubstr(absl::StrCat("the cgroup ", root_, "/memory/session does not exist")));
  // Nothing is left behind in the other hierarchy.
  EXPECT_FALSE(std::filesystem::exists(root_ + "/cpu/steward/container-db"));
}

TEST_F(FakeCgroupTreeTest, V1WithoutAMemoryHierarchyIsFailedPrecondition) {
  Mounts({{"cgroup", "/cpu", "rw,cpu"}});
  OwnCgroups("1:cpu:/\n");
  File("/cpu/steward/cpu.shares", "1024\n");
  absl::StatusOr<std::unique_ptr<CgroupIsolator>> isolator = Create(1);
  EXPECT_TRUE(absl::IsFailedPrecondition(isolator.status()));
  EXPECT_THAT(std::string(isolator.status().message()),
              HasSubstr("no cgroup v1 hierarchy with the memory controller"));
}

TEST_F(FakeCgroupTreeTest, UnreadableProcFilesAreFailedPrecondition) {
  EXPECT_TRUE(absl::IsFailedPrecondition(Create(1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(CgroupIsolator::Create(3, "steward").status()));
}

}  // namespace
}  // namespace steward::agent::internal
