// Pure pieces of the containerizer: /proc parsing, limit conversions, spec checking and
// the records built from specs, exit descriptions, checkpoint files.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "agent/internal/cgroups.h"
#include "agent/internal/file_io.h"
#include "agent/internal/launch_spec.h"
#include "agent/internal/process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/steward/containerizer.pb.h"

namespace steward::agent::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// This host's layout: v1 controllers in separate hierarchies plus an empty unified one.
constexpr char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:7 - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/x,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 8:1 / /data\\040dir rw - ext4 /dev/sda1 rw\n";

TEST(CgroupMountsTest, ParsesV1AndV2Mounts) {
  absl::StatusOr<std::vector<CgroupMount>> mounts = ParseCgroupMounts(kHybridMountinfo);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  ASSERT_EQ(mounts->size(), 5u);
  EXPECT_EQ((*mounts)[0].version, 1);
  EXPECT_EQ((*mounts)[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ((*mounts)[0].root, "/");
  EXPECT_THAT((*mounts)[0].controllers, ElementsAre("cpu"));
  EXPECT_THAT((*mounts)[2].controllers, ElementsAre("pids"));
  EXPECT_THAT((*mounts)[3].controllers, ElementsAre("name=systemd"));
  EXPECT_EQ((*mounts)[4].version, 2);
  EXPECT_EQ((*mounts)[4].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_THAT((*mounts)[4].controllers, IsEmpty());
}

TEST(CgroupMountsTest, CoMountedControllersAndEscapedPaths) {
  absl::StatusOr<std::vector<CgroupMount>> mounts = ParseCgroupMounts(
      "25 20 0:22 /agent /sys/fs/cgroup/cpu\\040acct rw - cgroup cgroup rw,cpu,cpuacct\n");
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].mount_point, "/sys/fs/cgroup/cpu acct");
  EXPECT_EQ((*mounts)[0].root, "/agent");
  EXPECT_THAT((*mounts)[0].controllers, ElementsAre("cpu", "cpuacct"));
}

TEST(CgroupMountsTest, MalformedLinesAreInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseCgroupMounts("31 23 0:28 / /x rw\n").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseCgroupMounts("31 23 0:28 / /x rw - cgroup\n").status()));
}

TEST(ProcCgroupTest, ParsesMembershipsAndFindsTheOwnDirectory) {
  absl::StatusOr<std::vector<CgroupMembership>> memberships =
      ParseProcCgroup("8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/agent.service\n");
  ASSERT_TRUE(memberships.ok()) << memberships.status();
  ASSERT_EQ(memberships->size(), 4u);
  EXPECT_EQ((*memberships)[1].hierarchy_id, 4);
  EXPECT_THAT((*memberships)[1].controllers, ElementsAre("memory"));
  EXPECT_EQ((*memberships)[1].path, "/process_api/abc");
  EXPECT_THAT((*memberships)[3].controllers, IsEmpty());

  absl::StatusOr<std::vector<CgroupMount>> mounts = ParseCgroupMounts(kHybridMountinfo);
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ(OwnCgroupDirectory((*mounts)[0], *memberships), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(OwnCgroupDirectory((*mounts)[1], *memberships),
            "/sys/fs/cgroup/memory/process_api/abc");
  EXPECT_EQ(OwnCgroupDirectory((*mounts)[4], *memberships), "/sys/fs/cgroup/unified/agent.service");
  EXPECT_EQ(OwnCgroupDirectory((*mounts)[3], *memberships), std::nullopt);  // not listed
}

TEST(ProcCgroupTest, PathsOutsideABoundMountRootAreNotVisible) {
  CgroupMount mount{1, "/sys/fs/cgroup/memory", "/kubepods", {"memory"}};
  EXPECT_EQ(OwnCgroupDirectory(mount, {{4, {"memory"}, "/kubepods/pod1"}}),
            "/sys/fs/cgroup/memory/pod1");
  EXPECT_EQ(OwnCgroupDirectory(mount, {{4, {"memory"}, "/kubepods"}}), "/sys/fs/cgroup/memory");
  EXPECT_EQ(OwnCgroupDirectory(mount, {{4, {"memory"}, "/kubepods2/x"}}), std::nullopt);
}

TEST(ProcCgroupTest, MalformedLinesAreInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseProcCgroup("4:memory\n").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseProcCgroup("x:memory:/\n").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseProcCgroup("4:memory:relative\n").status()));
}

TEST(LimitsTest, CpuConversions) {
  EXPECT_EQ(CpuShares(1), 1024);
  EXPECT_EQ(CpuShares(0.5), 512);
  EXPECT_EQ(CpuShares(0.0001), 2);
  EXPECT_EQ(CpuShares(2.0004), 2048);  // rounded, not truncated
  EXPECT_EQ(CfsQuotaMicros(1.5), 150000);
  EXPECT_EQ(CfsQuotaMicros(0.001), 1000);
  EXPECT_EQ(CpuWeight(1), 39);  // systemd/Kubernetes: 1 + (1024 - 2) * 9999 / 262142
  EXPECT_EQ(CpuWeight(0.0001), 1);
  EXPECT_EQ(CpuWeight(256), 10000);
  EXPECT_EQ(CpuWeight(100000), 10000);
  EXPECT_EQ(ContainerCgroupName("tasks"), "container-tasks");
}

TEST(ProcStatTest, ParsesFieldsAfterAnAwkwardCommandName) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(
      "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2 3\n");
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 17);
  EXPECT_EQ(stat->pgrp, 4242);
  EXPECT_EQ(stat->start_time, 987654u);
  EXPECT_TRUE(absl::IsInvalidArgument(ParseProcStat("4242 (x) S 1 2").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseProcStat("no command").status()));
}

TEST(ProcStatTest, ReadsThisProcessAndItsDescendants) {
  absl::StatusOr<ProcStat> self = ReadProcStat(::getpid());
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_GT(self->start_time, 0u);

  const pid_t parent = ::getpid();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Killed with the test should the test die before it kills the child.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  EXPECT_THAT(FindDescendants(::getpid()), ::testing::Contains(child));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(absl::IsNotFound(ReadProcStat(child).status()));
  EXPECT_THAT(FindDescendants(::getpid()), ::testing::Not(::testing::Contains(child)));
}

TEST(DescribeTest, WaitStatusesAndSizes) {
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(DescribeWaitStatus(SIGSEGV | 0x80), "killed by signal 11 (SIGSEGV), core dumped");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(DescribeBytes(64 << 20), "64 MiB");
  EXPECT_EQ(DescribeBytes(1000), "1000 bytes");
}

TEST(LaunchSpecTest, IdRules) {
  EXPECT_TRUE(ValidateContainerId("web-1.task_2").ok());
  EXPECT_TRUE(ValidateContainerId(std::string(128, 'a')).ok());
  EXPECT_TRUE(ValidateContainerId("..x").ok());
  for (const std::string& id :
       {std::string(), std::string("."), std::string(".."), std::string(129, 'a'),
        std::string("a/b"), std::string("a b"), std::string("é")}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ValidateContainerId(id))) << id;
  }
}

TEST(LaunchSpecTest, SpecRules) {
  ContainerSpec spec;
  spec.container_id = "ok";
  spec.sandbox = "/tmp/sandbox";
  spec.command = "true";
  EXPECT_TRUE(ValidateSpec(spec).ok());
  ContainerSpec bad = spec;
  bad.command = std::string("a\0b", 3);
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSpec(bad)));
  bad = spec;
  bad.environment = {{"", "x"}};
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSpec(bad)));
  bad = spec;
  bad.cpus = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSpec(bad)));
  bad = spec;
  bad.arguments = {"x", std::string("\0", 1)};
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateSpec(bad)));
}

TEST(LaunchSpecTest, RecordsShellAndArgvCommandsAndMergedEnvironment) {
  ContainerSpec spec;
  spec.container_id = "c";
  spec.sandbox = "/s";
  spec.command = "echo hi";
  spec.environment = {{"HOME", "/h"}, {"X", "1"}, {"X", "2"}};
  checkpoint::Container shell = MakeContainerRecord(spec);
  EXPECT_EQ(shell.executable(), "/bin/sh");
  EXPECT_THAT(shell.argv(), ElementsAre("sh", "-c", "echo hi"));
  std::map<std::string, std::string> environment;
  for (const auto& variable : shell.environment()) environment[variable.name()] = variable.value();
  EXPECT_EQ(environment,
            (std::map<std::string, std::string>{
                {"HOME", "/h"}, {"MESOS_SANDBOX", "/s"}, {"PATH", kDefaultPath}, {"X", "2"}}));

  spec.shell = false;
  spec.command = "ls";
  EXPECT_THAT(MakeContainerRecord(spec).argv(), ElementsAre("ls"));
  spec.arguments = {"list", "-l"};
  checkpoint::Container argv = MakeContainerRecord(spec);
  EXPECT_EQ(argv.executable(), "ls");
  EXPECT_THAT(argv.argv(), ElementsAre("list", "-l"));
}

TEST(FileIoTest, CheckpointsRoundTripAndReportMissingOrDamagedFiles) {
  const std::string dir = ::testing::TempDir() + "/steward-file-io-test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(MakeDirectories(dir + "/a/b", 0700).ok());
  checkpoint::Exit exit;
  exit.set_wait_status(3 << 8);
  exit.set_message("exited with status 3");
  ASSERT_TRUE(WriteMessage(dir + "/a/b/exit.pb", exit).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/a/b/exit.pb.tmp"));
  checkpoint::Exit read;
  ASSERT_TRUE(ReadMessage(dir + "/a/b/exit.pb", &read).ok());
  EXPECT_EQ(read.wait_status(), 3 << 8);
  EXPECT_EQ(read.message(), "exited with status 3");
  EXPECT_TRUE(absl::IsNotFound(ReadMessage(dir + "/missing.pb", &read)));
  ASSERT_TRUE(WriteFileAtomically(dir + "/bad.pb", "\xff\xff\xff").ok());
  EXPECT_TRUE(absl::IsDataLoss(ReadMessage(dir + "/bad.pb", &read)));
  EXPECT_TRUE(absl::IsFailedPrecondition(MakeDirectories(dir + "/bad.pb/x", 0700)));
  ASSERT_TRUE(RemoveTree(dir).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(RemoveTree(dir).ok());
  EXPECT_THAT(std::string(WriteExistingFile(dir + "/nope", "1").message()), HasSubstr(dir));
}

}  // namespace
}  // namespace steward::agent::internal
