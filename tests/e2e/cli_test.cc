// The `steward` CLI against a real steward-master (and real steward-agents when this build has
// them), run as a user runs it: output, messages and exit codes.
#include <algorithm>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cluster.h"

namespace steward::e2e {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kAgentResources[] = "--resources=cpus:2;mem:1024;disk:1024;ports:[31000-31100]";

// Readable failure messages for a command.
std::string Show(const CommandResult& result) {
  return "exit code " + std::to_string(result.exit_code) +
         (result.timed_out ? " (timed out)" : "") + "\nstdout:\n" + result.out + "\nstderr:\n" +
         result.err;
}

// The task id from `steward run`'s "Launched task ID on agent ..." line.
std::string LaunchedTaskId(const std::string& run_output) {
  constexpr absl::string_view kPrefix = "Launched task ";
  for (absl::string_view line : absl::StrSplit(run_output, '\n')) {
    if (!absl::ConsumePrefix(&line, kPrefix)) continue;
    return std::string(line.substr(0, line.find(' ')));
  }
  return "";
}

// Starts `count` agents in a CliTest, or skips the test when this build has no agent binary.
#define START_AGENTS_OR_SKIP(count)               \
  do {                                            \
    StartAgents(count);                           \
    if (IsSkipped() || HasFatalFailure()) return; \
  } while (false)

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Cluster>> cluster = Cluster::Create();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<Process*> master =
        cluster_->StartMaster({"--allocation_interval=50ms", "--heartbeat_interval=1secs"});
    ASSERT_TRUE(master.ok()) << master.status();
  }

  // Starts `count` agents, or skips the test when this build has no agent binary.
  void StartAgents(int count) {
    if (!Cluster::HasAgentBinary()) GTEST_SKIP() << "this build has no steward-agent binary";
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<Process*> agent =
          cluster_->StartAgent({kAgentResources, "--registration_backoff_factor=50ms"});
      ASSERT_TRUE(agent.ok()) << agent.status();
    }
    // Wait until the master lists them all as active.
    const Deadline deadline(milliseconds(20000));
    while (!deadline.Expired()) {
      const CommandResult agents =
          cluster_->Steward({"agents"}, std::max(milliseconds(1000), deadline.Remaining()));
      size_t active = 0;
      for (size_t at = agents.out.find(" active "); at != std::string::npos;
           at = agents.out.find(" active ", at + 1)) {
        ++active;
      }
      if (active == static_cast<size_t>(count)) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "the agents did not register within " << deadline.budget().count()
           << " ms: " << Show(cluster_->Steward({"agents"}, milliseconds(5000)));
  }

  std::unique_ptr<Cluster> cluster_;
};

TEST_F(CliTest, StateAndAgentsOfAMasterWithoutAgents) {
  const CommandResult state = cluster_->Steward({"state"});
  EXPECT_EQ(state.exit_code, 0) << Show(state);
  EXPECT_THAT(state.out, HasSubstr("Master " + cluster_->master()));
  EXPECT_THAT(state.out, HasSubstr("Agents (0)"));
  EXPECT_THAT(state.out, HasSubstr("Frameworks (0)"));
  EXPECT_THAT(state.out, HasSubstr("Tasks (0)"));

  const CommandResult agents = cluster_->Steward({"agents"});
  EXPECT_EQ(agents.exit_code, 0) << Show(agents);
  EXPECT_EQ(agents.out, "ID  HOST:PORT  STATE  RESOURCES  USED\n");

  const CommandResult json = cluster_->Steward({"state", "--json"});
  EXPECT_EQ(json.exit_code, 0) << Show(json);
  EXPECT_THAT(json.out, HasSubstr("\"type\": \"GET_STATE\""));
}

TEST_F(CliTest, AgentsListsEveryRegisteredAgent) {
  START_AGENTS_OR_SKIP(2);
  const CommandResult agents = cluster_->Steward({"agents"});
  ASSERT_EQ(agents.exit_code, 0) << Show(agents);
  EXPECT_THAT(agents.out, StartsWith("ID "));
  for (size_t n = 0; n < 2; ++n) {
    EXPECT_THAT(agents.out, HasSubstr("127.0.0.1:" + std::to_string(cluster_->agent_port(n))));
  }
  EXPECT_THAT(agents.out, HasSubstr("cpus:2;disk:1024;mem:1024;ports:[31000-31100]"));

  const CommandResult json = cluster_->Steward({"agents", "--json"});
  EXPECT_EQ(json.exit_code, 0) << Show(json);
  EXPECT_THAT(json.out, HasSubstr("\"agent_info\""));

  const CommandResult state = cluster_->Steward({"state"});
  EXPECT_THAT(state.out, HasSubstr("Agents (2)"));
}

TEST_F(CliTest, QuotaGetWithoutAnyQuota) {
  // The master once failed GET_QUOTA with a 500 when no role had a quota: the answer's
  // required `status` was left unset.
  const CommandResult get = cluster_->Steward({"quota", "get"});
  EXPECT_EQ(get.exit_code, 0) << Show(get);
  EXPECT_EQ(get.out, "ROLE  GUARANTEE  LIMIT\n");
  const CommandResult json = cluster_->Steward({"quota", "get", "--json"});
  EXPECT_EQ(json.exit_code, 0) << Show(json);
  EXPECT_THAT(json.out, HasSubstr("\"type\": \"GET_QUOTA\""));
  const CommandResult roles = cluster_->Steward({"roles"});
  EXPECT_EQ(roles.exit_code, 0) << Show(roles);
}

TEST_F(CliTest, QuotaSetGetRemoveRoundTrip) {
  // No agents: a guarantee beyond the cluster's (empty) total needs --force.
  const CommandResult refused = cluster_->Steward({"quota", "set", "eng", "cpus:4;mem:4096"});
  EXPECT_EQ(refused.exit_code, 1) << Show(refused);
  EXPECT_THAT(refused.err, AllOf(StartsWith("steward: the master refused UPDATE_QUOTA (409"),
                                 HasSubstr("exceeds the cluster's total")));

  const CommandResult set = cluster_->Steward(
      {"quota", "set", "eng", "cpus:4;mem:4096", "--limit=cpus:8;mem:8192", "--force"});
  ASSERT_EQ(set.exit_code, 0) << Show(set);
  EXPECT_EQ(set.out, "Quota of role 'eng': guarantee cpus:4;mem:4096, limit cpus:8;mem:8192\n");

  const CommandResult get = cluster_->Steward({"quota", "get"});
  ASSERT_EQ(get.exit_code, 0) << Show(get);
  EXPECT_EQ(get.out,
            "ROLE  GUARANTEE        LIMIT\n"
            "eng   cpus:4;mem:4096  cpus:8;mem:8192\n");

  const CommandResult roles = cluster_->Steward({"roles"});
  ASSERT_EQ(roles.exit_code, 0) << Show(roles);
  EXPECT_THAT(roles.out, HasSubstr("eng   1       0           -          cpus:4;mem:4096"));

  const CommandResult json = cluster_->Steward({"quota", "get", "--json"});
  EXPECT_THAT(json.out, AllOf(HasSubstr("\"role\": \"eng\""), HasSubstr("\"guarantees\"")));

  const CommandResult removed = cluster_->Steward({"quota", "remove", "eng"});
  ASSERT_EQ(removed.exit_code, 0) << Show(removed);
  EXPECT_EQ(removed.out, "Removed the quota of role 'eng'\n");
  EXPECT_EQ(cluster_->Steward({"quota", "get"}).out, "ROLE  GUARANTEE  LIMIT\n");

  const CommandResult again = cluster_->Steward({"quota", "remove", "eng"});
  EXPECT_EQ(again.exit_code, 1) << Show(again);
  EXPECT_EQ(again.err, "steward: role 'eng' has no quota\n");
}

TEST_F(CliTest, QuotaSurvivesAMasterRestart) {
  // The master once refused to recover a registry with a quota: it re-applied it without
  // `force` before any agent had reregistered, so every guarantee exceeded the (empty) cluster.
  const CommandResult set =
      cluster_->Steward({"quota", "set", "eng", "cpus:4", "--limit=cpus:8", "--force"});
  ASSERT_EQ(set.exit_code, 0) << Show(set);
  absl::StatusOr<int> stopped = cluster_->StopMaster(SIGTERM);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  absl::StatusOr<Process*> master = cluster_->RestartMaster();
  ASSERT_TRUE(master.ok()) << master.status();
  const CommandResult get = cluster_->Steward({"quota", "get"});
  EXPECT_EQ(get.exit_code, 0) << Show(get);
  EXPECT_EQ(get.out,
            "ROLE  GUARANTEE  LIMIT\n"
            "eng   cpus:4     cpus:8\n");
}

TEST_F(CliTest, QuotaWithinTheClusterNeedsNoForce) {
  START_AGENTS_OR_SKIP(2);
  const CommandResult set = cluster_->Steward({"quota", "set", "eng/web", "cpus:3;mem:1024"});
  ASSERT_EQ(set.exit_code, 0) << Show(set);
  EXPECT_THAT(cluster_->Steward({"quota", "get", "eng/web"}).out,
              HasSubstr("eng/web  cpus:3;mem:1024"));
  const CommandResult too_much = cluster_->Steward({"quota", "set", "eng/web", "cpus:5"});
  EXPECT_EQ(too_much.exit_code, 1) << Show(too_much);
  EXPECT_THAT(too_much.err, HasSubstr("exceeds the cluster's total (4)"));
}

TEST_F(CliTest, QuotaUsageErrors) {
  const CommandResult ports = cluster_->Steward({"quota", "set", "eng", "ports:[1-2]"});
  EXPECT_EQ(ports.exit_code, 2) << Show(ports);
  EXPECT_THAT(ports.err, HasSubstr("'ports' is not a scalar resource"));
  const CommandResult star = cluster_->Steward({"quota", "set", "*", "cpus:1"});
  EXPECT_EQ(star.exit_code, 2) << Show(star);
  const CommandResult missing = cluster_->Steward({"quota", "set", "eng"});
  EXPECT_EQ(missing.exit_code, 2) << Show(missing);
  EXPECT_THAT(missing.err, HasSubstr("needs ROLE and GUARANTEE"));
  const CommandResult sub = cluster_->Steward({"quota", "frob"});
  EXPECT_EQ(sub.exit_code, 2) << Show(sub);
  EXPECT_THAT(sub.err, HasSubstr("unknown quota subcommand 'frob'"));
  const CommandResult bad = cluster_->Steward({"quota", "set", "eng", "cpus:x"});
  EXPECT_EQ(bad.exit_code, 2) << Show(bad);
}

TEST_F(CliTest, RunEchoFinishesWithExitZero) {
  START_AGENTS_OR_SKIP(2);
  const CommandResult run =
      cluster_->Steward({"run", "--name", "hello", "--resources", "cpus:0.5;mem:64",
                         "--timeout=30secs", "--", "echo hello"});
  ASSERT_EQ(run.exit_code, 0) << Show(run);
  EXPECT_THAT(run.out, HasSubstr("is TASK_RUNNING"));
  EXPECT_THAT(run.out, HasSubstr("is TASK_FINISHED"));
  const std::string task = LaunchedTaskId(run.out);
  ASSERT_THAT(task, StartsWith("hello-")) << run.out;
  EXPECT_THAT(run.out, HasSubstr("Read its output with: steward tail " + task));

  const CommandResult tasks = cluster_->Steward({"tasks", "--all"});
  EXPECT_THAT(tasks.out, AllOf(HasSubstr(task), HasSubstr("TASK_FINISHED")));
  // The framework was torn down: no active frameworks are left.
  EXPECT_EQ(cluster_->Steward({"frameworks"}).out, "ID  NAME  ROLES  CONNECTED  TASKS\n");
}

TEST_F(CliTest, TailPrintsStdoutAndStderrOfARunningTask) {
  START_AGENTS_OR_SKIP(1);
  absl::StatusOr<std::unique_ptr<Process>> run = Process::Spawn(
      "run-hello", Cluster::CliBinary(),
      {"--master=" + cluster_->master(), "run", "--name=hello", "--resources=cpus:0.1;mem:32",
       "--timeout=30secs", "--", "echo hello; echo oops >&2; sleep 1"},
      cluster_->dir());
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<std::string> launched = (*run)->WaitForLine("Launched task ", milliseconds(20000));
  ASSERT_TRUE(launched.ok()) << launched.status();
  const std::string task = launched->substr(0, launched->find(' '));
  // Both files at once: the agent lists a task's sandbox only until its end is acknowledged.
  std::vector<std::unique_ptr<Process>> tails;
  for (const char* file : {"--no-stderr", "--stderr"}) {
    absl::StatusOr<std::unique_ptr<Process>> tail = Process::Spawn(
        std::string("tail") + file, Cluster::CliBinary(),
        {"--master=" + cluster_->master(), "tail", task, "--follow", file}, cluster_->dir());
    ASSERT_TRUE(tail.ok()) << tail.status();
    tails.push_back(*std::move(tail));
  }
  for (const auto& tail : tails) {
    absl::StatusOr<int> code = tail->Wait(milliseconds(20000));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << tail->Stderr();
  }
  EXPECT_EQ(tails[0]->Stdout(), "hello\n");
  EXPECT_EQ(tails[1]->Stdout(), "oops\n");
  absl::StatusOr<int> code = (*run)->Wait(milliseconds(20000));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << (*run)->Stdout();
}

TEST_F(CliTest, TailPrintsTheOutputOfAFinishedTask) {
  START_AGENTS_OR_SKIP(1);
  const CommandResult run = cluster_->Steward({"run", "--name=done", "--resources=cpus:0.1;mem:32",
                                               "--timeout=30secs", "--", "echo hello"});
  ASSERT_EQ(run.exit_code, 0) << Show(run);
  const std::string task = LaunchedTaskId(run.out);
  // `tail` finds a sandbox through the agent's GET /state, which (as a Mesos agent's does)
  // should list finished tasks under completed executors and frameworks. An agent that
  // forgets a task once its end is acknowledged makes a finished task's output unreachable.
  common::HttpClient agent("127.0.0.1", cluster_->agent_port(0));
  absl::StatusOr<common::HttpResponse> state = agent.Get("/state");
  ASSERT_TRUE(state.ok()) << state.status();
  if (state->body.find(task) == std::string::npos) {
    const CommandResult tail = cluster_->Steward({"tail", task});
    EXPECT_EQ(tail.exit_code, 1) << Show(tail);
    EXPECT_THAT(tail.err, HasSubstr("does not list task " + task));
    GTEST_SKIP() << "this steward-agent forgets finished tasks in GET /state (no "
                    "completed_executors), so the output of a finished task cannot be found";
  }
  const CommandResult tail = cluster_->Steward({"tail", task});
  EXPECT_EQ(tail.exit_code, 0) << Show(tail);
  EXPECT_EQ(tail.out, "hello\n");
}

TEST_F(CliTest, RunWithArgumentsAndEnvironment) {
  START_AGENTS_OR_SKIP(1);
  // Several words run without a shell: argv reaches the program as given, --env its
  // environment; the task finishes only if both arrived intact.
  const CommandResult run =
      cluster_->Steward({"run", "--name=argv", "--resources=cpus:0.1;mem:32",
                         "--env=GREETING=hi there", "--timeout=30secs", "--", "/bin/sh", "-c",
                         "test \"$GREETING|$0|$1\" = 'hi there|zero|a b'", "zero", "a b"});
  EXPECT_EQ(run.exit_code, 0) << Show(run);
  const CommandResult wrong = cluster_->Steward(
      {"run", "--name=argv", "--resources=cpus:0.1;mem:32", "--env=GREETING=hello",
       "--timeout=30secs", "--", "/bin/sh", "-c", "test \"$GREETING\" = 'hi there'"});
  EXPECT_EQ(wrong.exit_code, 1) << Show(wrong);
}

TEST_F(CliTest, RunOfAFailingCommandExitsOne) {
  START_AGENTS_OR_SKIP(1);
  const CommandResult run = cluster_->Steward(
      {"run", "--name=fail", "--resources=cpus:0.1;mem:32", "--timeout=30secs", "--", "exit 3"});
  EXPECT_EQ(run.exit_code, 1) << Show(run);
  EXPECT_THAT(run.out, HasSubstr("is TASK_FAILED"));
}

TEST_F(CliTest, TailFollowsARunningTaskToItsEnd) {
  START_AGENTS_OR_SKIP(1);
  absl::StatusOr<std::unique_ptr<Process>> run = Process::Spawn(
      "run-follow", Cluster::CliBinary(),
      {"--master=" + cluster_->master(), "run", "--name=slow", "--resources=cpus:0.1;mem:32",
       "--timeout=30secs", "--", "for i in 1 2 3; do echo line$i; sleep 0.3; done"},
      cluster_->dir());
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<std::string> launched = (*run)->WaitForLine("Launched task ", milliseconds(20000));
  ASSERT_TRUE(launched.ok()) << launched.status();
  const std::string task = launched->substr(0, launched->find(' '));
  const CommandResult tail = cluster_->Steward({"tail", task, "--follow"});
  EXPECT_EQ(tail.exit_code, 0) << Show(tail);
  EXPECT_EQ(tail.out, "line1\nline2\nline3\n");
  absl::StatusOr<int> code = (*run)->Wait(milliseconds(20000));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << (*run)->Stdout();
}

TEST_F(CliTest, TheClusterStopsTheTasksItsAgentsLeftRunning) {
  if (!Cluster::HasAgentBinary()) GTEST_SKIP() << "this build has no steward-agent binary";
  absl::StatusOr<Process*> agent = cluster_->StartAgent({kAgentResources});
  ASSERT_TRUE(agent.ok()) << agent.status();
  absl::StatusOr<std::unique_ptr<Process>> run =
      Process::Spawn("run-sleep", Cluster::CliBinary(),
                     {"--master=" + cluster_->master(), "run", "--name=sleep",
                      "--resources=cpus:0.1;mem:32", "--timeout=60secs", "--", "sleep 300"},
                     cluster_->dir());
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<std::string> running =
      (*run)->WaitForLine("Task sleep-", milliseconds(20000));  // TASK_STARTING or later
  ASSERT_TRUE(running.ok()) << running.status();
  // A stopped agent leaves its tasks running (so that a restarted agent finds them).
  (*agent)->Stop();
  const std::string dir = cluster_->dir();
  const std::vector<pid_t> supervisors = TaskSupervisors(dir);
  ASSERT_EQ(supervisors.size(), 1u);
  cluster_.reset();
  EXPECT_TRUE(TaskSupervisors(dir).empty());
}

TEST_F(CliTest, RunTimesOutWithoutAnOfferThatFits) {
  const CommandResult run = cluster_->Steward(
      {"run", "--name=big", "--resources=cpus:1000", "--timeout=500ms", "--", "true"});
  EXPECT_EQ(run.exit_code, 3) << Show(run);
  EXPECT_THAT(run.out, HasSubstr("Timed out after 500ms waiting for an offer with cpus:1000"));
  // The framework is gone.
  EXPECT_THAT(cluster_->Steward({"frameworks", "--all"}).out, HasSubstr("no (completed)"));
}

TEST_F(CliTest, TeardownEndsARunningFramework) {
  // Without agents the run waits for an offer until its framework is torn down.
  absl::StatusOr<std::unique_ptr<Process>> run =
      Process::Spawn("run-waiting", Cluster::CliBinary(),
                     {"--master=" + cluster_->master(), "run", "--name=waiting",
                      "--resources=cpus:1", "--timeout=60secs", "--", "true"},
                     cluster_->dir());
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<std::string> subscribed =
      (*run)->WaitForLine("Subscribed as framework ", milliseconds(20000));
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  const std::string framework = subscribed->substr(0, subscribed->find(' '));
  EXPECT_THAT(cluster_->Steward({"frameworks"}).out,
              HasSubstr(framework + "  waiting  *      yes        0"));

  const CommandResult teardown = cluster_->Steward({"teardown", framework});
  ASSERT_EQ(teardown.exit_code, 0) << Show(teardown);
  EXPECT_EQ(teardown.out, "Tore down framework " + framework + "\n");
  absl::StatusOr<int> code = (*run)->Wait(milliseconds(20000));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1);
  EXPECT_THAT((*run)->Stderr(), HasSubstr("the master sent an ERROR event: Framework removed"));

  const CommandResult again = cluster_->Steward({"teardown", framework});
  EXPECT_EQ(again.exit_code, 1) << Show(again);
  EXPECT_EQ(again.err,
            "steward: the master refused TEARDOWN (400 Bad Request): Unknown "
            "framework " +
                framework + "\n");
}

TEST_F(CliTest, RunUsageErrors) {
  const CommandResult no_name = cluster_->Steward({"run", "--resources=cpus:1", "--", "true"});
  EXPECT_EQ(no_name.exit_code, 2) << Show(no_name);
  EXPECT_THAT(no_name.err, HasSubstr("missing --name"));
  const CommandResult no_command = cluster_->Steward({"run", "--name=x", "--resources=cpus:1"});
  EXPECT_EQ(no_command.exit_code, 2) << Show(no_command);
  EXPECT_THAT(no_command.err, HasSubstr("missing the command"));
  const CommandResult bad_resources =
      cluster_->Steward({"run", "--name=x", "--resources=cpus:-1", "--", "true"});
  EXPECT_EQ(bad_resources.exit_code, 2) << Show(bad_resources);
  EXPECT_THAT(bad_resources.err, HasSubstr("--resources: "));
  const CommandResult bad_timeout =
      cluster_->Steward({"run", "--name=x", "--resources=cpus:1", "--timeout=5", "--", "true"});
  EXPECT_EQ(bad_timeout.exit_code, 2) << Show(bad_timeout);
  EXPECT_THAT(bad_timeout.err, HasSubstr("--timeout: '5' is not a duration"));
  const CommandResult bad_env =
      cluster_->Steward({"run", "--name=x", "--resources=cpus:1", "--env=NOVALUE", "--", "true"});
  EXPECT_EQ(bad_env.exit_code, 2) << Show(bad_env);
  EXPECT_THAT(bad_env.err, HasSubstr("--env: 'NOVALUE' is not NAME=VALUE"));
}

TEST_F(CliTest, TailOfAnUnknownTaskFails) {
  const CommandResult tail = cluster_->Steward({"tail", "no-such-task"});
  EXPECT_EQ(tail.exit_code, 1) << Show(tail);
  EXPECT_THAT(tail.err, HasSubstr("steward: unknown task 'no-such-task'"));
}

TEST_F(CliTest, UnreachableMasterIsOneLineAndExitOne) {
  absl::StatusOr<uint16_t> port = FreePort();
  ASSERT_TRUE(port.ok());
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  for (const char* command : {"state", "agents", "frameworks", "tasks", "roles"}) {
    const CommandResult result = RunCommand(Cluster::CliBinary(), {"--master=" + address, command},
                                            cluster_->dir(), milliseconds(20000));
    EXPECT_EQ(result.exit_code, 1) << command << ": " << Show(result);
    EXPECT_THAT(result.err,
                StartsWith("steward: cannot reach the master: cannot connect to " + address));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_EQ(result.out, "");
  }
  const CommandResult run =
      RunCommand(Cluster::CliBinary(),
                 {"--master=" + address, "run", "--name=x", "--resources=cpus:1", "--", "true"},
                 cluster_->dir(), milliseconds(20000));
  EXPECT_EQ(run.exit_code, 1) << Show(run);
  EXPECT_THAT(run.err, StartsWith("steward: cannot reach the master"));
}

TEST_F(CliTest, MasterFromTheEnvironment) {
  const CommandResult agents =
      RunCommand(Cluster::CliBinary(), {"agents"}, cluster_->dir(), milliseconds(20000),
                 {{"STEWARD_MASTER", cluster_->master()}});
  EXPECT_EQ(agents.exit_code, 0) << Show(agents);
  const CommandResult bad = RunCommand(Cluster::CliBinary(), {"agents"}, cluster_->dir(),
                                       milliseconds(20000), {{"STEWARD_MASTER", "nowhere"}});
  EXPECT_EQ(bad.exit_code, 2) << Show(bad);
  EXPECT_THAT(bad.err, HasSubstr("STEWARD_MASTER (environment): 'nowhere' is not HOST:PORT"));
  // The flag wins over the environment.
  const CommandResult flag =
      RunCommand(Cluster::CliBinary(), {"agents", "--master", cluster_->master()}, cluster_->dir(),
                 milliseconds(20000), {{"STEWARD_MASTER", "nowhere"}});
  EXPECT_EQ(flag.exit_code, 0) << Show(flag);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const CommandResult bad_master = RunCommand(Cluster::CliBinary(), {"--master=nonsense", "agents"},
                                              cluster_->dir(), milliseconds(20000));
  EXPECT_EQ(bad_master.exit_code, 2) << Show(bad_master);
  EXPECT_THAT(bad_master.err, HasSubstr("--master: 'nonsense' is not HOST:PORT"));
  const CommandResult bad_flag = cluster_->Steward({"agents", "--bogus"});
  EXPECT_EQ(bad_flag.exit_code, 2) << Show(bad_flag);
  EXPECT_THAT(bad_flag.err, HasSubstr("unknown flag --bogus"));
  const CommandResult unknown = cluster_->Steward({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << Show(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
  const CommandResult none = cluster_->Steward({});
  EXPECT_EQ(none.exit_code, 2) << Show(none);
  EXPECT_THAT(none.err, HasSubstr("no command given"));
  const CommandResult extra = cluster_->Steward({"agents", "extra"});
  EXPECT_EQ(extra.exit_code, 2) << Show(extra);
  const CommandResult tail = cluster_->Steward({"tail"});
  EXPECT_EQ(tail.exit_code, 2) << Show(tail);
  EXPECT_THAT(none.out, Not(HasSubstr("Usage")));
}

TEST_F(CliTest, HelpDescribesEveryCommand) {
  const CommandResult help = cluster_->Steward({"--help"});
  EXPECT_EQ(help.exit_code, 0) << Show(help);
  for (const char* command :
       {"state", "agents", "frameworks", "tasks", "roles", "quota", "run", "tail", "teardown"}) {
    EXPECT_THAT(help.out, HasSubstr(std::string("  ") + command + " ")) << command;
    const CommandResult own = cluster_->Steward({command, "--help"});
    EXPECT_EQ(own.exit_code, 0) << command;
    EXPECT_THAT(own.out, AllOf(StartsWith(std::string("Usage: steward ") + command),
                               HasSubstr("--master=HOST:PORT")))
        << command;
    EXPECT_EQ(cluster_->Steward({"help", command}).out, own.out) << command;
  }
  EXPECT_THAT(cluster_->Steward({"run", "--help"}).out, HasSubstr("3 on timeout"));
}

}  // namespace
}  // namespace steward::e2e
