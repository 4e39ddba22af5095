// Command-line parsing for the `steward` CLI on top of common::FlagSet.
//
//   steward [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS] [-- CMD...]
//
// Global flags (--master, --json, --request_timeout) may appear before or after the command.
// A flag's value is given as `--flag=VALUE` or as the next argument (`--flag VALUE`); a boolean
// is `--flag`, `--flag=true|false` or `--no-flag`. Repeatable flags (`--env`) collect every
// occurrence. Everything after a bare `--` is kept apart, verbatim (the command of `steward
// run`). Only the master address comes from the environment (STEWARD_MASTER); the command line
// wins. Every problem is a UsageError (errors.h) naming the flag. Not thread-safe.
#ifndef STEWARD_DAEMON_CLI_INTERNAL_ARGUMENTS_H_
#define STEWARD_DAEMON_CLI_INTERNAL_ARGUMENTS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/flags.h"

namespace steward::cli {

inline constexpr char kDefaultMaster[] = "127.0.0.1:5050";
inline constexpr char kMasterEnvironment[] = "STEWARD_MASTER";

struct GlobalOptions {
  std::string master = kDefaultMaster;  // as given
  std::string master_host = "127.0.0.1";
  uint16_t master_port = 5050;
  bool json = false;  // print the raw API answer as JSON instead of a table
  // Bound on every HTTP exchange (connect, send, read of one answer).
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(15);
};

// Splits "HOST:PORT" (HOST non-empty, PORT 1-65535). UsageError otherwise.
absl::Status ParseHostPort(const std::string& text, std::string* host, uint16_t* port);

// The command word and the other arguments: the first argument that is neither a flag nor the
// value of a global flag given as `--flag VALUE`. The command is empty when there is none
// (before a bare `--`).
struct CommandSplit {
  std::string command;
  std::vector<std::string> rest;  // every other argument, in order
};
CommandSplit SplitCommand(const std::vector<std::string>& args);

class CommandFlags {
 public:
  // Registers the global flags, bound to `*global`.
  explicit CommandFlags(GlobalOptions* global);

  void Add(const std::string& name, std::string* target);
  void Add(const std::string& name, bool* target);
  void Add(const std::string& name, std::chrono::nanoseconds* target);
  // A flag that may be given any number of times; values in order.
  void AddRepeated(const std::string& name, std::vector<std::string>* target);

  struct Parsed {
    bool help = false;                    // --help or -h
    std::vector<std::string> positional;  // before a bare `--`
    bool has_command = false;             // a bare `--` was given
    std::vector<std::string> command;     // after it
  };
  // Parses `args` (the command word already removed). `env` is the process environment (only
  // STEWARD_MASTER is read from it). Checks the master address.
  absl::StatusOr<Parsed> Parse(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env);

 private:
  GlobalOptions* global_;
  common::FlagSet flags_;
  std::set<std::string> value_flags_;  // flags that take a value (not booleans)
  std::map<std::string, std::vector<std::string>*> repeated_;
};

// The process environment as a map (for CommandFlags::Parse).
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace steward::cli

#endif  // STEWARD_DAEMON_CLI_INTERNAL_ARGUMENTS_H_
