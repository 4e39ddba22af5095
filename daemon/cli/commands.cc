#include "daemon/cli/commands.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"

namespace steward::cli {

const char kGlobalFlagsHelp[] =
    "\n"
    "Global flags (before or after the command):\n"
    "  --master=HOST:PORT       the master (default: 127.0.0.1:5050, or the environment\n"
    "                           variable STEWARD_MASTER; the flag wins)\n"
    "  --json                   print the operator API's answer as JSON instead of a table\n"
    "  --request_timeout=DURATION\n"
    "                           bound on every HTTP exchange (default: 15secs)\n"
    "A flag's value may also follow it as the next argument (--name hello).\n";

const std::vector<Command>& Commands() {
  static const auto* const kCommands = new std::vector<Command>{
      {"state", "the master's agents, frameworks and tasks", kStateUsage, StateCommand},
      {"agents", "list agents", kAgentsUsage, AgentsCommand},
      {"frameworks", "list frameworks", kFrameworksUsage, FrameworksCommand},
      {"tasks", "list tasks", kTasksUsage, TasksCommand},
      {"roles", "list roles with weights, allocations and quota", kRolesUsage, RolesCommand},
      {"quota", "set, get or remove a role's quota", kQuotaUsage, QuotaCommand},
      {"run", "run one command task and wait for it to end", kRunUsage, RunCommand},
      {"tail", "print a task's stdout or stderr", kTailUsage, TailCommand},
      {"teardown", "remove a framework and kill its tasks", kTeardownUsage, TeardownCommand},
  };
  return *kCommands;
}

std::string GlobalUsage() {
  std::string out =
      "Usage: steward [--master=HOST:PORT] [--json] COMMAND [ARGS...]\n"
      "\n"
      "The Steward command-line client: reads the master's state through its operator API,\n"
      "manages quota, runs tasks and reads their output.\n"
      "\n"
      "Commands:\n";
  size_t width = 0;
  for (const Command& command : Commands()) width = std::max(width, command.name.size());
  for (const Command& command : Commands()) {
    absl::StrAppend(&out, "  ", command.name, std::string(width - command.name.size() + 3, ' '),
                    command.synopsis, "\n");
  }
  absl::StrAppend(&out, kGlobalFlagsHelp,
                  "\n'steward COMMAND --help' (or 'steward help COMMAND') describes a command.\n"
                  "Exit status: 0 on success, 1 on failure (master unreachable, request refused,\n"
                  "unknown task...), 2 for usage errors; 'steward run' adds 3 for a timeout.\n");
  return out;
}

int RunCli(const std::vector<std::string>& args, Io& io) {
  const CommandSplit split = SplitCommand(args);
  auto usage_error = [&io](const std::string& message) {
    io.err << "steward: " << message << "\nTry 'steward --help'.\n";
    return kExitUsage;
  };
  if (split.command.empty()) {
    const bool help = std::any_of(split.rest.begin(), split.rest.end(),
                                  [](const std::string& a) { return a == "--help" || a == "-h"; });
    if (help) {
      io.out << GlobalUsage();
      return kExitOk;
    }
    return usage_error("no command given");
  }
  std::string name = split.command;
  std::vector<std::string> rest = split.rest;
  if (name == "help") {
    // `steward help [COMMAND]`: the first argument that is not a flag names the command.
    auto topic = std::find_if(rest.begin(), rest.end(),
                              [](const std::string& arg) { return !arg.starts_with("-"); });
    if (topic == rest.end()) {
      io.out << GlobalUsage();
      return kExitOk;
    }
    name = *topic;
    rest = {"--help"};
  }
  const auto& commands = Commands();
  auto command = std::find_if(commands.begin(), commands.end(),
                              [&name](const Command& c) { return c.name == name; });
  if (command == commands.end()) return usage_error(absl::StrCat("unknown command '", name, "'"));
  absl::StatusOr<int> result = command->run(rest, io);
  if (result.ok()) return *result;
  if (IsUsageError(result.status())) {
    io.err << "steward " << name << ": " << result.status().message() << "\nTry 'steward " << name
           << " --help'.\n";
    return kExitUsage;
  }
  io.err << "steward: " << result.status().message() << "\n";
  return ExitCodeFor(result.status());
}

}  // namespace steward::cli
