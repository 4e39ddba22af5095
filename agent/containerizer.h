// The agent's containerizer: starts task processes, limits them with cgroups, kills them, and
// reports how they ended, across agent restarts.
//
// Design (see also agent/internal/supervisor.h):
//
// Every container has a supervisor process. Launch() forks the agent and execs the agent's
// own binary (/proc/self/exe) as "steward-container-supervisor"; the host binary's main()
// must therefore call MaybeRunSupervisor(argc, argv) before anything else (Create() fails with
// FailedPrecondition otherwise). Re-executing gives the supervisor a clean, single-threaded
// process image, so between the agent's fork and exec only async-signal-safe system calls run
// (setsid, dup2, close_range, execve), and the supervisor itself may use the whole library.
//
// The supervisor runs in its own session, is a child subreaper (orphaned descendants of the
// task are re-parented to it), forks the task into its own process group and into the
// container's cgroups, and waits for it. It outlives the agent: an agent restart neither
// kills nor loses tasks. When the task ends it kills whatever is left of the container,
// reads the cgroup's OOM counter, removes the container's cgroups and writes the exit record
// atomically (temp file + fsync + rename) to `runtime_dir`/<container_id>/, then exits.
// Kill() sends the supervisor a queued signal carrying the grace period; the supervisor sends
// SIGTERM and escalates to SIGKILL itself, so escalation happens even if the agent is busy or
// gone.
//
// Per-container state in `runtime_dir`/<container_id>/ (what Recover() reads):
//   container.pb   the launch spec and the container's cgroup directories
//   supervisor.pb  the supervisor's pid and start time (/proc/<pid>/stat field 22), written by
//                  Launch() before it returns; pids are reused, the pair is not
//   lock           flock()ed by the supervisor from before its exec until its exit: a held
//                  lock means a live supervisor, free means it has ended
//   task.pb        the task's pid and start time (to clean up if the supervisor was killed)
//   exit.pb        the exit record; its presence means the container has ended
//   supervisor.log the supervisor's own diagnostics
// Reap() renames the directory to `runtime_dir`/reaped~<container_id> (no id contains '~') and
// removes it before returning the exit, so each exit is reported once, even across a crash.
//
// Ending without an exit record: if a supervisor dies (say, SIGKILLed by an operator) or the
// agent dies in the middle of Launch(), the containerizer destroys what is left (the task's
// process group while the task itself still runs, and everything in the container's
// cgroups) and reports the container as ended with wait_status SIGKILL (as if killed by
// signal 9) and a message saying what happened. Without cgroups, descendants of such a task
// that left its process group cannot be found any more.
//
// Deployment note: stopping the agent must not kill its supervisors (under systemd use
// KillMode=process), or the tasks die with it.

#ifndef STEWARD_AGENT_CONTAINERIZER_H_
#define STEWARD_AGENT_CONTAINERIZER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::agent {

// What to run. The process runs in `sandbox` (created if missing, with parents) with its
// stdout and stderr appended to `sandbox`/stdout and `sandbox`/stderr.
struct ContainerSpec {
  std::string container_id;  // unique on this agent: [A-Za-z0-9_.-]{1,128}, not "." or ".."
  std::string sandbox;       // absolute directory
  bool shell = true;         // true: /bin/sh -c `command`; false: execvp(`command`, `arguments`)
  std::string command;
  // argv when shell is false (arguments[0] is argv[0]; empty: {command}).
  std::vector<std::string> arguments;
  // Set on top of a minimal environment (PATH, HOME=sandbox, MESOS_SANDBOX=sandbox); a name
  // given here replaces the default. Names are non-empty without '='; no NUL anywhere.
  std::vector<std::pair<std::string, std::string>> environment;
  double cpus = 0;         // cpu limit (cgroup shares and CFS quota); 0: none
  uint64_t mem_bytes = 0;  // memory limit (bytes); 0: none
};

struct ContainerExit {
  std::string container_id;
  int wait_status = 0;      // of the task process, as waitpid(2) reports it
  bool oom_killed = false;  // ended by its memory limit
  bool killed = false;      // ended after Kill()
  std::string message;      // one line for humans: "exited with status 3", "killed by signal 9",
                            // "memory limit of 64 MiB exceeded"
};

// If argv is a supervisor invocation made by Launch(), runs the container supervisor and
// never returns (the process exits when the container has ended). Otherwise returns at once
// and records that this binary can host supervisors. Call it first thing in main(), before
// threads are started or flags are parsed.
void MaybeRunSupervisor(int argc, char** argv);

// Every method is safe to call from any thread at any time (Recover() aside, see there).
class Containerizer {
 public:
  enum class Isolation { kAuto, kCgroupsV2, kCgroupsV1, kNone };
  struct Options {
    std::string runtime_dir;  // absolute; per-container state survives agent restarts here
    Isolation isolation = Isolation::kAuto;
    // Parent cgroup of the containers' cgroups, created in each hierarchy under the agent's
    // own cgroup (so the agent's own limits also bound its tasks), or under the hierarchy's
    // root when the agent's cgroup cannot hold it. Same character rules as container ids.
    // Containerizers (agents) on one machine may share it: a launch creates it again when it
    // is missing, and a containerizer removes it when destroyed only if no other one uses it
    // and it holds no container (agent/internal/cgroup_isolator.h).
    std::string cgroup_name = "steward";
  };
  // InvalidArgument for bad options; FailedPrecondition when the requested isolation is not
  // usable, or when MaybeRunSupervisor() was not called by this binary.
  static absl::StatusOr<std::unique_ptr<Containerizer>> Create(const Options& options);
  // Does not stop containers: their supervisors keep running (an agent restart).
  virtual ~Containerizer() = default;

  // One line for the start-up log: e.g. "cgroups v1 (cpu, memory, pids)" or
  // "none: no usable cgroup controllers; tasks run without cpu and memory limits".
  virtual std::string IsolationSummary() const = 0;
  // Starts the container. InvalidArgument (bad id, relative sandbox, empty command; also an
  // environment name that is empty or has '=', a NUL byte, negative cpus), AlreadyExists (id
  // in use, or state of an earlier agent's container with that id not yet recovered and
  // reaped), Internal (fork/exec/cgroup failure, with errno text). exec failures of the task
  // itself are reported through Reap() as exit status 127 with a message. Returns once the
  // task has been forked into its cgroups and its exec attempted (the sandbox stdout and
  // stderr files exist by then). Limits are ignored without cgroup isolation.
  virtual absl::Status Launch(const ContainerSpec& spec) = 0;
  // SIGTERM to every process of the container (its process group and cgroup), then SIGKILL
  // after `grace` if anything is left. Returns at once; NotFound for an unknown or finished id,
  // InvalidArgument for a negative grace. A second Kill() can shorten the grace, not extend
  // it. Kill() during Launch() takes effect as soon as the task has started. The supervisor
  // also treats a SIGTERM sent to itself as a kill with a 3 s grace period.
  virtual absl::Status Kill(std::string_view container_id, std::chrono::milliseconds grace) = 0;
  // Containers that ended since the last call, each exactly once. Non-blocking (it may wait
  // briefly for leftovers of a container whose supervisor died). When a task ends, whatever
  // it left behind (background processes, also in other sessions) is SIGKILLed before its
  // exit is reported, and its cgroups are removed.
  virtual std::vector<ContainerExit> Reap() = 0;
  // Ids of containers launched (Launch() returned OK, or recovered) and not yet returned by
  // Reap(), in id order.
  virtual std::vector<std::string> Running() const = 0;
  // The pid of the process the container runs (the spec's command), read from its runtime
  // state. NotFound for an unknown id, a container still launching and one that has ended;
  // Internal when its state cannot be read.
  virtual absl::StatusOr<int> Pid(std::string_view container_id) const = 0;
  // After an agent restart with the same runtime_dir: adopts the containers the previous agent
  // process left (still running, or ended and not yet reaped) and returns their ids. Their
  // exits then come through Reap() as usual. Every container directory in runtime_dir is
  // reported, including launches the previous agent did not finish (see "Ending without an
  // exit record"). Call once, before Launch(): FailedPrecondition otherwise. Internal when
  // runtime_dir cannot be read. May wait up to 10 s for a supervisor whose agent died while
  // starting it.
  virtual absl::StatusOr<std::vector<std::string>> Recover() = 0;
};

}  // namespace steward::agent

#endif  // STEWARD_AGENT_CONTAINERIZER_H_
