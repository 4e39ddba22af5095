// End-to-end test harness: real steward-master and steward-agent processes on 127.0.0.1, and
// the `steward` CLI run as a user would.
//
// A Process is a child started with fork and exec, its stdout and stderr going to files in a
// directory of the test's own; it is stopped by its PID (SIGTERM, then SIGKILL after a grace
// period), and killed in the destructor if still running. Every Process also asks the kernel
// for SIGKILL when the test dies (prctl PR_SET_PDEATHSIG), so a crashed, killed or timed-out
// test leaves no daemon or CLI running. (The signal comes when the *thread* that started the
// process ends: start processes from the test's main thread, or from a thread that outlives
// them.) Task supervisors that agents leave running are not children of the test; Cluster
// stops them by PID.
//
// A Cluster owns a temporary directory and the daemons started in it: StartMaster() reads the
// port the master prints ("steward-master listening on IP:PORT", with --port=0), StartAgent()
// gives the agent a free port, and both wait until GET /health answers 200. A daemon can be
// stopped by a signal and started again on the same port and work_dir with the same flags
// (restart and recovery tests). Destroying the Cluster stops every daemon and removes the
// directory. RunCommand() runs a program to completion and captures its output.
//
// Every wait here gives up after a bounded time (at most kMaxWait) with a message saying
// what it waited for; tests bound their own loops the same way (Deadline).
//
// Binaries come from compile definitions set by tests/e2e/CMakeLists.txt
// (STEWARD_MASTER_BINARY, STEWARD_AGENT_BINARY, STEWARD_CLI_BINARY).
// Not thread-safe: one test thread drives a Cluster.
#ifndef STEWARD_TESTS_E2E_CLUSTER_H_
#define STEWARD_TESTS_E2E_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::e2e {

using std::chrono::milliseconds;

// The longest any single wait of an end-to-end test may take.
inline constexpr milliseconds kMaxWait{120000};

// When a wait gives up: `budget` (at most kMaxWait) from construction.
class Deadline {
 public:
  explicit Deadline(milliseconds budget);
  bool Expired() const { return std::chrono::steady_clock::now() >= end_; }
  // What is left (zero once expired), for calls that take a timeout.
  milliseconds Remaining() const;
  milliseconds budget() const { return budget_; }

 private:
  milliseconds budget_;
  std::chrono::steady_clock::time_point end_;
};

// A port that was free on 127.0.0.1 a moment ago (bound to port 0 and released).
absl::StatusOr<uint16_t> FreePort();

// Polls GET http://host:port/health until it answers 200, or DeadlineExceeded.
absl::Status WaitForHealth(const std::string& host, uint16_t port, milliseconds timeout);

// Reads a whole file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// The PIDs of task supervisors (agent/containerizer.h) of agents whose work_dir is under
// `dir`: agents leave them, and their tasks, running when they stop.
std::vector<pid_t> TaskSupervisors(const std::string& dir);
// SIGTERM to each (a supervisor kills its task, then exits), SIGKILL after 5 s.
void StopTaskSupervisors(const std::string& dir);

class Process {
 public:
  // Starts `binary` with `args` (argv[0] is the binary) and `env` added to this process's
  // environment, in `dir`, with stdout and stderr to dir/<name>.stdout and dir/<name>.stderr.
  static absl::StatusOr<std::unique_ptr<Process>> Spawn(
      const std::string& name, const std::string& binary, const std::vector<std::string>& args,
      const std::string& dir, const std::map<std::string, std::string>& env = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Kills the process (SIGKILL) if it is still running, and reaps it.
  ~Process();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  std::string Stdout() const { return ReadFile(stdout_path_); }
  std::string Stderr() const { return ReadFile(stderr_path_); }

  // Waits until stdout has a line starting with `prefix` and returns the rest of that line.
  // FailedPrecondition if the process exits first, DeadlineExceeded after `timeout`.
  absl::StatusOr<std::string> WaitForLine(const std::string& prefix, milliseconds timeout);

  // True while the process runs (reaps it once it exited).
  bool Running();
  // Waits for the process to exit by itself; its exit code (128 + signal when killed), or
  // DeadlineExceeded (the process keeps running).
  absl::StatusOr<int> Wait(milliseconds timeout);
  // SIGTERM, then SIGKILL if it has not exited after `grace`. Returns the exit code.
  int Stop(milliseconds grace = milliseconds(5000));

 private:
  Process(std::string name, pid_t pid, std::string stdout_path, std::string stderr_path);

  std::string name_;
  pid_t pid_;
  std::string stdout_path_;
  std::string stderr_path_;
  std::optional<int> exit_code_;
};

// What a finished command printed, and how it ended.
struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed; -1 if it could not be started
  std::string out;
  std::string err;
  bool timed_out = false;  // killed after the timeout
};

// Runs `binary args...` in `dir` to completion (killed after `timeout`).
CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& dir, milliseconds timeout,
                         const std::map<std::string, std::string>& env = {});

class Cluster {
 public:
  // Creates a fresh temporary directory for the daemons' work dirs and logs.
  static absl::StatusOr<std::unique_ptr<Cluster>> Create();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  // Stops every daemon (agents first), then the task supervisors the agents left running,
  // removes the agents' cgroups and the directory.
  ~Cluster();

  const std::string& dir() const { return dir_; }

  // Starts steward-master with --ip=127.0.0.1 --port=0 --work_dir=<dir>/master and `flags`
  // (e.g. "--allocation_interval=50ms"); waits for its port and /health. One master at a time.
  absl::StatusOr<Process*> StartMaster(const std::vector<std::string>& flags = {});
  // "127.0.0.1:PORT" of the master.
  std::string master() const;
  uint16_t master_port() const { return master_port_; }
  // The running master process (nullptr before StartMaster() and after StopMaster()).
  Process* master_process() const { return master_.get(); }
  // Sends `signal` to the master and waits until it has exited (SIGKILL after 5 s if it has
  // not); returns its exit code (128 + signal when killed). FailedPrecondition when no master
  // runs.
  absl::StatusOr<int> StopMaster(int signal);
  // Starts the master again (after StopMaster()) on the same port and work_dir with the flags
  // it was first started with; its logs go to master-r<N>.stdout/.stderr. FailedPrecondition
  // if it was never started or is still running.
  absl::StatusOr<Process*> RestartMaster();

  // Starts steward-agent #n with --master, --ip=127.0.0.1, a free --port,
  // --work_dir=<dir>/agent<n> and --cgroups_root=cgroups_root() (unless `flags` name one),
  // plus `flags` (e.g. "--resources=cpus:2;mem:1024"); waits for /health. FailedPrecondition
  // before StartMaster() or when this build has no agent binary.
  absl::StatusOr<Process*> StartAgent(const std::vector<std::string>& flags = {});
  // How many agents were started (stopped ones included).
  size_t agent_count() const { return agents_.size(); }
  // The port of the agent started n-th (0-based).
  uint16_t agent_port(size_t n) const { return agent_ports_.at(n); }
  // Agent #n's process (nullptr after StopAgent(n)) and its --work_dir.
  Process* agent(size_t n) const { return agents_.at(n).get(); }
  std::string agent_work_dir(size_t n) const;
  // The parent cgroup name all agents of this cluster share, "<basename of dir()>". Agents
  // may share one (as those of `make cluster` share "steward"), and this cluster's agents do,
  // so the tests cover that. It is still the cluster's own rather than the default, because
  // (1) the destructor must remove it: agents leave their tasks, and so the tasks' cgroups,
  // behind when they stop, so the last agent to stop cannot remove a parent that the task
  // supervisors empty only afterwards; cleaning up is safe only in a cgroup no one else uses
  // (tests run in parallel, a developer may run a cluster of their own); and (2) tests check
  // that tasks run in this cluster's cgroups, which a shared default name cannot show.
  std::string cgroups_root() const;
  // Like StopMaster() and RestartMaster(), for agent #n (OutOfRange for an unknown n). A
  // restarted agent keeps its port, work_dir and flags, so it recovers from its checkpoint.
  absl::StatusOr<int> StopAgent(size_t n, int signal);
  absl::StatusOr<Process*> RestartAgent(size_t n);

  // Runs the `steward` CLI with `--master=<this master>` prepended to `args`.
  CommandResult Steward(const std::vector<std::string>& args,
                        milliseconds timeout = milliseconds(30000)) const;

  // Whether this build has a steward-agent binary (tests that need one skip otherwise).
  static bool HasAgentBinary();
  // The path of the `steward` CLI binary.
  static std::string CliBinary();

 private:
  explicit Cluster(std::string dir) : dir_(std::move(dir)) {}

  // rmdir of the parent cgroups (and the empty container cgroups in them) that this cluster's
  // agents logged at start-up. Best effort; only parents named cgroups_root().
  void RemoveAgentCgroups() const;

  // Start a daemon process named `name` (its log file names) and wait until it serves: the
  // master's port is read from its stdout into `*port`; the agent's is given in `args`.
  absl::StatusOr<std::unique_ptr<Process>> SpawnMaster(const std::string& name,
                                                       const std::vector<std::string>& args,
                                                       uint16_t* port) const;
  absl::StatusOr<std::unique_ptr<Process>> SpawnAgent(const std::string& name,
                                                      const std::vector<std::string>& args,
                                                      uint16_t port) const;

  std::string dir_;
  std::unique_ptr<Process> master_;
  std::vector<std::string> master_args_;  // as first started, --port=0 included
  uint16_t master_port_ = 0;
  int master_starts_ = 0;
  std::vector<std::unique_ptr<Process>> agents_;  // null while stopped
  std::vector<std::vector<std::string>> agent_args_;
  std::vector<int> agent_starts_;
  std::vector<uint16_t> agent_ports_;
};

}  // namespace steward::e2e

#endif  // STEWARD_TESTS_E2E_CLUSTER_H_
