// The commands of the `steward` CLI and the table that dispatches them (main.cc).
//
// Every command gets the arguments after its name (global flags included) and returns the
// process exit code, or an error status: a UsageError (exit 2) or a failure (exit 1), printed
// by the dispatcher as one line "steward: <message>" on stderr. `--help` on any command prints
// its usage on stdout and exits 0.
#ifndef STEWARD_DAEMON_CLI_COMMANDS_H_
#define STEWARD_DAEMON_CLI_COMMANDS_H_

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace steward::cli {

// Where a command writes, and the environment it reads (STEWARD_MASTER).
struct Io {
  std::ostream& out;
  std::ostream& err;
  std::map<std::string, std::string> env;
};

using CommandFunction = std::function<absl::StatusOr<int>(const std::vector<std::string>&, Io&)>;

struct Command {
  std::string name;
  std::string synopsis;  // one line, for `steward --help`
  std::string usage;     // the whole `steward NAME --help` text
  CommandFunction run;
};

// Every command, in the order `steward --help` lists them.
const std::vector<Command>& Commands();

// `steward --help`.
std::string GlobalUsage();

// The global flags' help, appended to every command's usage.
extern const char kGlobalFlagsHelp[];

// Runs the CLI on argv[1..] and returns the exit code; errors are printed to io.err.
int RunCli(const std::vector<std::string>& args, Io& io);

// The commands (view_commands.cc, quota_command.cc, run_command.cc, tail_command.cc,
// teardown_command.cc).
absl::StatusOr<int> StateCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> AgentsCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> FrameworksCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> TasksCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> RolesCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> QuotaCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> RunCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> TailCommand(const std::vector<std::string>& args, Io& io);
absl::StatusOr<int> TeardownCommand(const std::vector<std::string>& args, Io& io);

extern const char kStateUsage[];
extern const char kAgentsUsage[];
extern const char kFrameworksUsage[];
extern const char kTasksUsage[];
extern const char kRolesUsage[];
extern const char kQuotaUsage[];
extern const char kRunUsage[];
extern const char kTailUsage[];
extern const char kTeardownUsage[];

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_COMMANDS_H_
