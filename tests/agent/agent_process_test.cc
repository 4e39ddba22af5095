// The steward-agent binary end to end: started as a process on 127.0.0.1 with a free port,
// driven by a fake master, running real tasks through the real containerizer (isolation
// none, so the tests need no cgroup privileges), and stopped by PID.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/mesos_resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/fake_master.h"

namespace steward::agent {
namespace {

using steward::agent::Call;
using steward::agent::Event;
using testing::FakeMaster;
using ::testing::HasSubstr;
using testing::LaunchCommand;
using testing::TestFramework;
using namespace std::chrono_literals;

constexpr char kAgentId[] = "agent-1";

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Forks and execs steward-agent with `args`, its stderr (and with `with_stdout` its stdout)
// going to `log_path` (opened with `open_flags` | O_WRONLY | O_CREAT). The agent dies with the
// test: the child asks for SIGKILL when the thread that forked it ends (PR_SET_PDEATHSIG), and
// exits at once if the test is already gone. -1 if fork fails.
pid_t SpawnAgent(const std::vector<std::string>& args, const std::string& log_path,
                 bool with_stdout, int open_flags) {
  // Everything the child needs is made before fork(): the test process has threads.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(STEWARD_AGENT_BINARY));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | open_flags, 0644);
    if (fd < 0) ::_exit(127);
    if (with_stdout) ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(STEWARD_AGENT_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its wait status, or nullopt (still running).
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

// Runs steward-agent with `args` to completion (SIGKILLed after 30 s); returns its exit status
// (-1 if killed) and output (stdout and stderr).
std::pair<int, std::string> RunToExit(const std::vector<std::string>& args,
                                      const std::string& stderr_path) {
  const pid_t pid = SpawnAgent(args, stderr_path, /*with_stdout=*/true, O_TRUNC);
  if (pid < 0) return {-1, "fork failed"};
  std::optional<int> status = WaitForExit(pid, 30s);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = WaitForExit(pid, 10s);
    ADD_FAILURE() << "steward-agent did not exit within 30 s; killed";
  }
  return {status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1, ReadAll(stderr_path)};
}

class AgentProcessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Tasks outlive the agent by design: end them through the agent before stopping it.
    if (pid_ > 0 && master_.subscriptions() > 0) {
      Event shutdown;
      shutdown.set_type(Event::SHUTDOWN_FRAMEWORK);
      shutdown.mutable_shutdown_framework()->mutable_framework_id()->set_value("F1");
      master_.Push(shutdown);
      master_.WaitFor(
          [&](const FakeMaster&) {
            std::optional<common::HttpResponse> state = testing::HttpGet(port_, "/state");
            return state.has_value() && state->body.find("\"frameworks\":[]") != std::string::npos;
          },
          10s);
    }
    StopAgent(SIGTERM);
  }

  // Starts the agent with the test flags and `extra_flags`, on a free port the first time and
  // on the same port again after a stop (executors reach a restarted agent where they were).
  void StartAgent(const std::vector<std::string>& extra_flags = {}) {
    if (port_ == 0) port_ = FreePort();
    log_path_ = dir_.path() + "/agent.log";
    std::vector<std::string> args = {
        "--master=127.0.0.1:" + std::to_string(master_.port()),
        "--ip=127.0.0.1",
        "--port=" + std::to_string(port_),
        "--work_dir=" + dir_.path() + "/work",
        "--resources=cpus:2;mem:1024;disk:1024;ports:[31000-32000]",
        "--attributes=rack:r1",
        "--isolation=none",
        "--status_update_retry_interval=200ms",
        "--registration_backoff_factor=50ms",
    };
    args.insert(args.end(), extra_flags.begin(), extra_flags.end());
    const int before = master_.subscriptions();
    pid_ = SpawnAgent(args, log_path_, /*with_stdout=*/false, O_APPEND);
    ASSERT_GT(pid_, 0);
    ASSERT_TRUE(master_.WaitFor([&](const FakeMaster& m) { return m.subscriptions() > before; }))
        << ReadAll(log_path_);
  }

  // Sends `signal` and reaps the agent; returns its exit status (-1 if killed by a signal).
  // An agent still running 10 s later is SIGKILLed, and that is a test failure.
  int StopAgent(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    std::optional<int> status = WaitForExit(pid_, 10s);
    if (!status) {
      ADD_FAILURE() << "the agent (pid " << pid_ << ") did not exit within 10 s of signal "
                    << signal << "; killing it";
      ::kill(pid_, SIGKILL);
      status = WaitForExit(pid_, 10s);
    }
    pid_ = -1;
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  // The run directory of `executor_id` (the only run).
  std::string Sandbox(const std::string& executor_id) {
    const std::string runs =
        dir_.path() + "/work/slaves/agent-1/frameworks/F1/executors/" + executor_id + "/runs";
    DIR* dir = ::opendir(runs.c_str());
    if (dir == nullptr) return "";
    std::string found;
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') found = runs + "/" + entry->d_name;
    }
    ::closedir(dir);
    return found;
  }

  testing::TempDir dir_;
  FakeMaster master_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

TEST_F(AgentProcessTest, BadFlagsExitWithStatus2AndAMessage) {
  const std::string err = dir_.path() + "/err";
  auto [status, output] = RunToExit({"--work_dir=" + dir_.path()}, err);
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output, HasSubstr("--master"));
  std::tie(status, output) =
      RunToExit({"--master=127.0.0.1:1", "--work_dir=" + dir_.path(), "--isolation=posix"}, err);
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output, HasSubstr("--isolation"));
  std::tie(status, output) =
      RunToExit({"--master=127.0.0.1:1", "--work_dir=" + dir_.path(), "--resources=cpus:-1"}, err);
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output, HasSubstr("--resources"));
  std::tie(status, output) = RunToExit({"--help"}, err);
  EXPECT_EQ(status, 0);
  EXPECT_THAT(output, HasSubstr("--executor_shutdown_grace_period"));
}

TEST_F(AgentProcessTest, CommandTaskOutputIsReadableThroughTheFilesApi) {
  StartAgent();
  EXPECT_THAT(ReadAll(log_path_), HasSubstr("isolation: "));
  Event launch =
      LaunchCommand(TestFramework("F1"), "T1", kAgentId, "echo hello; echo $FOO; echo oops >&2");
  auto* variable = launch.mutable_launch()
                       ->mutable_task()
                       ->mutable_command()
                       ->mutable_environment()
                       ->add_variables();
  variable->set_name("FOO");
  variable->set_value("bar baz");
  ASSERT_TRUE(master_.Push(launch));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED).has_value())
      << ReadAll(log_path_);

  const std::string sandbox = Sandbox("T1");
  ASSERT_FALSE(sandbox.empty());
  std::optional<common::HttpResponse> read =
      testing::HttpGet(port_, "/files/read?path=" + sandbox + "/stdout&offset=0");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(read->body, R"({"data":"hello\nbar baz\n","offset":0})");
  read = testing::HttpGet(port_, "/files/read?path=" + sandbox + "/stderr&offset=-1");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->body, R"({"data":"","offset":5})");
  read = testing::HttpGet(port_, "/files/read?path=" + sandbox + "/../../../../../../meta/" +
                                     "agent.checkpoint&offset=0");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, 400);

  std::optional<common::HttpResponse> health = testing::HttpGet(port_, "/health");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(testing::Metric(port_, "slave/registered"), 1.0);
  EXPECT_EQ(testing::Metric(port_, "slave/tasks_finished"), 1.0);
  std::optional<common::HttpResponse> state = testing::HttpGet(port_, "/state");
  ASSERT_TRUE(state.has_value());
  EXPECT_THAT(state->body, HasSubstr(R"("attributes":{"rack":"r1"})"));
}

TEST_F(AgentProcessTest, ArgvCommandFailsWithItsExitStatus) {
  StartAgent();
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "/bin/sh");
  auto* command = launch.mutable_launch()->mutable_task()->mutable_command();
  command->set_shell(false);
  for (const char* arg : {"sh", "-c", "echo \"$0|$1\"; exit 3", "first arg", "second"}) {
    command->add_arguments(arg);
  }
  ASSERT_TRUE(master_.Push(launch));
  const auto failed = master_.WaitForUpdate("T1", mesos::v1::TASK_FAILED);
  ASSERT_TRUE(failed.has_value()) << ReadAll(log_path_);
  EXPECT_THAT(failed->message(), HasSubstr("3"));
  std::optional<common::HttpResponse> read =
      testing::HttpGet(port_, "/files/read?path=" + Sandbox("T1") + "/stdout");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->body, R"({"data":"first arg|second\n","offset":0})");
}

TEST_F(AgentProcessTest, KillEndsARunningTaskAndSigtermLeavesTheAgentCleanly) {
  StartAgent();
  ASSERT_TRUE(master_.Push(LaunchCommand(TestFramework("F1"), "T1", kAgentId, "sleep 30")));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  ASSERT_TRUE(master_.Push(testing::KillEvent("F1", "T1")));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_KILLED, 15s).has_value())
      << ReadAll(log_path_);
  EXPECT_EQ(StopAgent(SIGTERM), 0);
}

TEST_F(AgentProcessTest, MasterRefusalExitsWithStatus1) {
  StartAgent();
  Event error;
  error.set_type(Event::ERROR);
  error.mutable_error()->set_message("Agent agent-1 has been marked gone");
  ASSERT_TRUE(master_.Push(error));
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  pid_t done = 0;
  while (done == 0 && std::chrono::steady_clock::now() < deadline) {
    done = ::waitpid(pid_, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(done, pid_) << ReadAll(log_path_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(ReadAll(log_path_), HasSubstr("marked gone"));
}

TEST_F(AgentProcessTest, RestartedAgentReportsTheRunningTaskAndItsCompletion) {
  StartAgent();
  const std::string go = dir_.path() + "/go";
  ASSERT_TRUE(master_.Push(
      LaunchCommand(TestFramework("F1"), "T1", kAgentId,
                    // Bounded (about 30 s) so that a failed test leaves no task behind for long.
                    "i=0; while [ ! -e '" + go +
                        "' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; " + "echo done")));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value());
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    return testing::Metric(port_, "slave/valid_status_updates") >= 2;
  }));
  StopAgent(SIGKILL);

  StartAgent();
  const Call subscribe = master_.calls_of(Call::SUBSCRIBE).back();
  EXPECT_EQ(subscribe.agent_id().value(), kAgentId);
  ASSERT_EQ(subscribe.subscribe().tasks_size(), 1) << ReadAll(log_path_);
  EXPECT_EQ(subscribe.subscribe().tasks(0).task_id().value(), "T1");
  EXPECT_EQ(subscribe.subscribe().tasks(0).state(), mesos::v1::TASK_RUNNING);

  std::ofstream(go) << "go";
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED).has_value())
      << ReadAll(log_path_);
}

TEST_F(AgentProcessTest, CustomExecutorSubscribesRunsTasksAndRelaysMessages) {
  StartAgent();
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "");
  mesos::v1::TaskInfo* task = launch.mutable_launch()->mutable_task();
  task->clear_command();
  task->set_data("finish");
  mesos::v1::ExecutorInfo* executor = task->mutable_executor();
  executor->mutable_executor_id()->set_value("E1");
  executor->mutable_command()->set_value(STEWARD_TEST_EXECUTOR);
  ASSERT_TRUE(master_.Push(launch));
  const auto running = master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING);
  ASSERT_TRUE(running.has_value()) << ReadAll(log_path_);
  EXPECT_EQ(running->source(), mesos::v1::TaskStatus::SOURCE_EXECUTOR);
  EXPECT_EQ(running->executor_id().value(), "E1");
  EXPECT_EQ(running->uuid().size(), 16u);
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED).has_value());

  // A second task goes to the running executor; it is killed through the executor.
  Event second = launch;
  second.mutable_launch()->mutable_task()->mutable_task_id()->set_value("T2");
  second.mutable_launch()->mutable_task()->set_data("");
  ASSERT_TRUE(master_.Push(second));
  ASSERT_TRUE(master_.WaitForUpdate("T2", mesos::v1::TASK_RUNNING).has_value());
  ASSERT_TRUE(master_.Push(testing::KillEvent("F1", "T2")));
  ASSERT_TRUE(master_.WaitForUpdate("T2", mesos::v1::TASK_KILLED).has_value());

  Event message;
  message.set_type(Event::FRAMEWORK_MESSAGE);
  message.mutable_framework_message()->mutable_framework_id()->set_value("F1");
  message.mutable_framework_message()->mutable_executor_id()->set_value("E1");
  message.mutable_framework_message()->set_data("ping");
  ASSERT_TRUE(master_.Push(message));
  ASSERT_TRUE(master_.WaitFor([](const FakeMaster& m) {
    for (const Call& call : m.calls_of(Call::EXECUTOR_MESSAGE)) {
      if (call.executor_message().data() == "echo:ping") return true;
    }
    return false;
  })) << ReadAll(Sandbox("E1") + "/stdout");

  Event shutdown;
  shutdown.set_type(Event::SHUTDOWN_EXECUTOR);
  shutdown.mutable_shutdown_executor()->mutable_framework_id()->set_value("F1");
  shutdown.mutable_shutdown_executor()->mutable_executor_id()->set_value("E1");
  ASSERT_TRUE(master_.Push(shutdown));
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_EXITED).empty(); }));
  EXPECT_EQ(master_.calls_of(Call::EXECUTOR_EXITED).at(0).executor_exited().status(), 0);
  const std::string output = ReadAll(Sandbox("E1") + "/stdout");
  EXPECT_THAT(output, HasSubstr("subscribed to agent agent-1"));
  EXPECT_THAT(output, HasSubstr("launch T1"));
  EXPECT_THAT(output, HasSubstr("acknowledged T1"));  // Framework acks reach the executor.
  EXPECT_THAT(output, HasSubstr("UPDATE answered 202"));
  EXPECT_THAT(output, HasSubstr("shutdown"));
}

// T1 on executor E1 (the test executor, run without a shell so that the container's process
// is the executor itself), with `environment` for the executor.
Event LaunchOnTestExecutor(const std::vector<std::pair<std::string, std::string>>& environment) {
  Event launch = LaunchCommand(TestFramework("F1"), "T1", kAgentId, "");
  mesos::v1::TaskInfo* task = launch.mutable_launch()->mutable_task();
  task->clear_command();
  mesos::v1::ExecutorInfo* executor = task->mutable_executor();
  executor->mutable_executor_id()->set_value("E1");
  mesos::v1::CommandInfo* command = executor->mutable_command();
  command->set_shell(false);
  command->set_value(STEWARD_TEST_EXECUTOR);
  command->add_arguments(STEWARD_TEST_EXECUTOR);
  for (const auto& [name, value] : environment) {
    auto* variable = command->mutable_environment()->add_variables();
    variable->set_name(name);
    variable->set_value(value);
  }
  return launch;
}

// The pid the test executor printed ("pid N") in `sandbox`/stdout; 0 while it has not.
pid_t ExecutorPid(const std::string& sandbox) {
  std::istringstream lines(ReadAll(sandbox + "/stdout"));
  std::string line;
  while (std::getline(lines, line)) {
    pid_t pid = 0;
    if (line.starts_with("pid ") && absl::SimpleAtoi(line.substr(4), &pid)) return pid;
  }
  return 0;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

bool Alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

TEST_F(AgentProcessTest, CustomExecutorSubscribingAgainInTimeKeepsItsTasks) {
  // Long enough for sanitizer builds; the executor retries every 100 ms.
  const std::vector<std::string> flags = {"--executor_reregistration_timeout=5secs"};
  StartAgent(flags);
  ASSERT_TRUE(master_.Push(LaunchOnTestExecutor({})));
  const auto running = master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING);
  ASSERT_TRUE(running.has_value()) << ReadAll(log_path_);
  const std::string sandbox = Sandbox("E1");
  const pid_t pid = ExecutorPid(sandbox);
  ASSERT_TRUE(Alive(pid)) << ReadAll(sandbox + "/stdout");
  // The update carries the container's status: its id, the executor's pid, the agent's IP.
  ASSERT_TRUE(running->has_container_status());
  EXPECT_EQ(running->container_status().container_id().value(),
            sandbox.substr(sandbox.rfind('/') + 1));
  EXPECT_EQ(running->container_status().executor_pid(), static_cast<uint32_t>(pid));
  ASSERT_EQ(running->container_status().network_infos_size(), 1);
  ASSERT_EQ(running->container_status().network_infos(0).ip_addresses_size(), 1);
  EXPECT_EQ(running->container_status().network_infos(0).ip_addresses(0).ip_address(), "127.0.0.1");

  StopAgent(SIGKILL);
  StartAgent(flags);
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    return Count(ReadAll(sandbox + "/stdout"), "subscribed to agent agent-1") == 2;
  })) << ReadAll(sandbox + "/stdout")
      << ReadAll(log_path_);
  // Past the timeout, the executor and its task are still there.
  std::this_thread::sleep_until(restarted + 5500ms);
  EXPECT_TRUE(Alive(pid));
  for (const mesos::v1::TaskStatus& status : master_.updates_for("T1")) {
    EXPECT_FALSE(common::IsTerminalState(status.state())) << status.DebugString();
  }
  EXPECT_THAT(ReadAll(log_path_), HasSubstr("subscribed again after the agent's recovery"));

  // The task goes on and its completion is reported, from the same executor process.
  Event message;
  message.set_type(Event::FRAMEWORK_MESSAGE);
  message.mutable_framework_message()->mutable_framework_id()->set_value("F1");
  message.mutable_framework_message()->mutable_executor_id()->set_value("E1");
  message.mutable_framework_message()->set_data("finish T1");
  ASSERT_TRUE(master_.Push(message));
  const auto finished = master_.WaitForUpdate("T1", mesos::v1::TASK_FINISHED);
  ASSERT_TRUE(finished.has_value()) << ReadAll(sandbox + "/stdout") << ReadAll(log_path_);
  EXPECT_EQ(finished->source(), mesos::v1::TaskStatus::SOURCE_EXECUTOR);
  ASSERT_TRUE(finished->has_container_status());
  EXPECT_EQ(finished->container_status().executor_pid(), static_cast<uint32_t>(pid));
}

TEST_F(AgentProcessTest, SilentCustomExecutorIsKilledAfterTheReregistrationTimeout) {
  const std::vector<std::string> flags = {"--executor_reregistration_timeout=500ms"};
  StartAgent(flags);
  ASSERT_TRUE(master_.Push(LaunchOnTestExecutor({{"TEST_EXECUTOR_ON_DISCONNECT", "silent"}})));
  ASSERT_TRUE(master_.WaitForUpdate("T1", mesos::v1::TASK_RUNNING).has_value())
      << ReadAll(log_path_);
  const std::string sandbox = Sandbox("E1");
  const pid_t pid = ExecutorPid(sandbox);
  ASSERT_TRUE(Alive(pid)) << ReadAll(sandbox + "/stdout");

  StopAgent(SIGKILL);
  // The executor noticed, and stays alive without subscribing again.
  ASSERT_TRUE(master_.WaitFor([&](const FakeMaster&) {
    return ReadAll(sandbox + "/stdout").find("silent") != std::string::npos;
  })) << ReadAll(sandbox + "/stdout");
  StartAgent(flags);
  const auto lost = master_.WaitForUpdate("T1", mesos::v1::TASK_LOST, 15s);
  ASSERT_TRUE(lost.has_value()) << ReadAll(log_path_);
  EXPECT_EQ(lost->reason(), mesos::v1::TaskStatus::REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
  EXPECT_EQ(lost->source(), mesos::v1::TaskStatus::SOURCE_AGENT);
  EXPECT_EQ(lost->message(), "Executor did not reregister within 500ms");
  // The executor process is gone (its exit was reaped before the update was made).
  EXPECT_FALSE(Alive(pid));
  ASSERT_TRUE(master_.WaitFor(
      [](const FakeMaster& m) { return !m.calls_of(Call::EXECUTOR_EXITED).empty(); }));
  EXPECT_EQ(master_.calls_of(Call::EXECUTOR_EXITED).at(0).executor_exited().executor_id().value(),
            "E1");
  EXPECT_THAT(ReadAll(log_path_), HasSubstr("did not subscribe again within 500ms"));
}

}  // namespace
}  // namespace steward::agent
