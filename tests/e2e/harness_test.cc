// The end-to-end harness itself (tests/e2e/cluster.h): processes it starts die with the test
// that started them, a program that cannot be started is an error naming it, and waits are
// bounded.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"

namespace steward::e2e {
namespace {

using ::testing::HasSubstr;

// True once `pid` has exited: gone, or a zombie its new parent has not collected yet.
bool Exited(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

// A "test" process (a forked child of this one) starts a master through the harness and is
// then SIGKILLed, so that nothing of the harness runs to stop the master: the master must die
// with it all the same.
TEST(HarnessTest, AMasterDiesWithTheTestThatStartedIt) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t test = ::fork();
  ASSERT_GE(test, 0);
  if (test == 0) {
    ::close(report[0]);
    std::string line = "-1 \n";
    absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Create();
    if (cluster.ok()) {
      absl::StatusOr<Process*> master = (*cluster)->StartMaster();
      line = absl::StrCat(master.ok() ? (*master)->pid() : -1, " ", (*cluster)->dir(), "\n");
    }
    (void)!::write(report[1], line.data(), line.size());
    while (true) ::pause();  // until killed
  }
  ::close(report[1]);
  std::string line;
  char buffer[512];
  for (ssize_t n; (n = ::read(report[0], buffer, sizeof(buffer))) > 0;) {
    line.append(buffer, static_cast<size_t>(n));
    if (line.ends_with('\n')) break;
  }
  ::close(report[0]);
  const std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 1));
  pid_t master = -1;
  const bool started = fields.size() == 2 && absl::SimpleAtoi(fields[0], &master) && master > 0;
  const std::string dir = fields.size() == 2 ? fields[1].substr(0, fields[1].size() - 1) : "";

  ::kill(test, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(test, &status, 0), test);
  ASSERT_TRUE(started) << "the test process could not start a master: '" << line << "'";
  const Deadline deadline(std::chrono::seconds(10));
  while (!Exited(master) && !deadline.Expired()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool died = Exited(master);
  if (!died) ::kill(master, SIGKILL);
  EXPECT_TRUE(died) << "steward-master (pid " << master << ") outlived the test that started it by "
                    << deadline.budget().count() << " ms";
  if (!dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

TEST(HarnessTest, AProgramThatCannotStartIsAnErrorNamingIt) {
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Create();  // for its directory
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Spawn("missing", "/nonexistent/steward-nothing", {}, (*cluster)->dir());
  ASSERT_FALSE(process.ok());
  EXPECT_THAT(std::string(process.status().message()),
              HasSubstr("cannot start /nonexistent/steward-nothing: No such file or directory"));
}

TEST(HarnessTest, WaitsAreBounded) {
  EXPECT_EQ(Deadline(std::chrono::hours(1)).budget(), kMaxWait);
  EXPECT_EQ(Deadline(milliseconds(1500)).budget(), milliseconds(1500));
  const Deadline passed(milliseconds(0));
  EXPECT_TRUE(passed.Expired());
  EXPECT_EQ(passed.Remaining(), milliseconds(0));

  // A wait for a process that runs on gives up after its timeout, saying so.
  absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Create();  // for its directory
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::unique_ptr<Process>> sleeper =
      Process::Spawn("sleeper", "/bin/sleep", {"60"}, (*cluster)->dir());
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<int> code = (*sleeper)->Wait(milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsDeadlineExceeded(code.status())) << code.status();
  EXPECT_THAT(std::string(code.status().message()), HasSubstr("still runs after 200 ms"));
  EXPECT_EQ((*sleeper)->Stop(milliseconds(1000)), 128 + SIGTERM);
}

}  // namespace
}  // namespace steward::e2e
