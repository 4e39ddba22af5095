// steward run: one command task through the scheduler API, like mesos-execute.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"
#include "daemon/cli/internal/task_runner.h"

namespace steward::cli {

const char kRunUsage[] =
    "Usage: steward run --name=NAME --resources=RESOURCES [--role=ROLE] [--env=K=V ...]\n"
    "                   [--timeout=DURATION] -- CMD [ARG...]\n"
    "\n"
    "Runs one command task on the cluster, like mesos-execute: subscribes to the master as a\n"
    "framework named NAME (scheduler API, JSON), waits for an offer that holds RESOURCES,\n"
    "launches the task on it, prints every change of the task's state, acknowledges its\n"
    "status updates, and tears the framework down when the task ends.\n"
    "\n"
    "  CMD         one word: a shell command line, run with /bin/sh -c ('echo $HOME; ls');\n"
    "              several words: a program and its arguments, run without a shell.\n"
    "  --name      the task's and the framework's name (required); the task id is NAME-<8 hex\n"
    "              digits>, printed at launch for 'steward tail'.\n"
    "  --resources what the task needs, in Mesos notation: 'cpus:0.1;mem:32' (mem in MB;\n"
    "              reserved resources as 'cpus(ROLE):1') (required).\n"
    "  --role      the framework's role (default: *).\n"
    "  --env       an environment variable for the task, K=V; repeat for more.\n"
    "  --timeout   give up after this long (Mesos duration: 30secs, 5mins); the task is\n"
    "              killed. Default: no limit.\n"
    "\n"
    "Exit status: 0 when the task finished (TASK_FINISHED), 1 when it ended in any other\n"
    "state (TASK_FAILED, TASK_KILLED, TASK_LOST, TASK_ERROR, ...) or on an error, 2 for usage\n"
    "errors, 3 on timeout, 130 when interrupted (SIGINT, SIGTERM; the task is killed).\n";

namespace {

std::atomic<bool> interrupted{false};

void OnSignal(int) { interrupted.store(true); }

std::string CurrentUser() {
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    return found->pw_name;
  }
  return absl::StrCat(geteuid());
}

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

std::string RandomSuffix() {
  std::random_device device;
  return absl::StrCat(absl::Hex(static_cast<uint32_t>(device()), absl::kZeroPad8));
}

}  // namespace

absl::StatusOr<int> RunCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  std::string name;
  std::string resources;
  std::string role = "*";
  std::vector<std::string> env;
  std::chrono::nanoseconds timeout{0};
  CommandFlags flags(&global);
  flags.Add("name", &name);
  flags.Add("resources", &resources);
  flags.Add("role", &role);
  flags.AddRepeated("env", &env);
  flags.Add("timeout", &timeout);
  absl::StatusOr<CommandFlags::Parsed> parsed = flags.Parse(args, io.env);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kRunUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  if (!parsed->positional.empty()) {
    return UsageError(absl::StrCat("unexpected argument '", parsed->positional.front(),
                                   "': the command goes after '--' (steward run ... -- CMD)"));
  }
  if (name.empty()) return UsageError("missing --name");
  if (resources.empty()) return UsageError("missing --resources");
  if (parsed->command.empty() || parsed->command.front().empty()) {
    return UsageError("missing the command: steward run ... -- CMD [ARG...]");
  }
  RunSpec spec;
  spec.name = name;
  spec.task_id = absl::StrCat(name, "-", RandomSuffix());
  for (char c : spec.task_id) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return UsageError("--name: must not contain '/' or control characters");
    }
  }
  absl::StatusOr<allocator::Resources> needed = allocator::Resources::Parse(resources);
  if (!needed.ok()) return UsageError(absl::StrCat("--resources: ", needed.status().message()));
  if (needed->empty()) return UsageError("--resources: the task needs some resources");
  spec.resources = *needed;
  if (absl::Status s = allocator::ValidateRolePath(role); !s.ok()) {
    return UsageError(absl::StrCat("--role: '", role, "': ", s.message()));
  }
  spec.role = role;
  spec.timeout = timeout;
  spec.user = CurrentUser();
  spec.hostname = Hostname();
  mesos::v1::CommandInfo& command = spec.command;
  if (parsed->command.size() == 1) {
    command.set_shell(true);
    command.set_value(parsed->command.front());
  } else {
    command.set_shell(false);
    command.set_value(parsed->command.front());
    for (const std::string& arg : parsed->command) command.add_arguments(arg);
  }
  for (const std::string& entry : env) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      return UsageError(absl::StrCat("--env: '", entry, "' is not NAME=VALUE"));
    }
    mesos::v1::Environment::Variable* variable = command.mutable_environment()->add_variables();
    variable->set_name(entry.substr(0, equals));
    variable->set_value(entry.substr(equals + 1));
  }

  // Ctrl-C and SIGTERM end the run cleanly: the framework is torn down (killing the task).
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return RunTask(global, spec, io.out, interrupted);
}

}  // namespace steward::cli
