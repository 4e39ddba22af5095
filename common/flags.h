// Command-line flags for the daemons and tools, in Mesos's style.
//
// A program declares each flag once, bound to a variable holding its default:
//
//   std::string work_dir;                    // required below
//   uint16_t port = 5050;
//   std::chrono::nanoseconds interval = std::chrono::seconds(1);
//   FlagSet flags("steward-master", "Runs the Steward master.");
//   flags.Add("work_dir", &work_dir, "Where the registry is stored.", FlagSet::kRequired);
//   flags.Add("port", &port, "Port to listen on.");
//   flags.Add("allocation_interval", &interval, "Time between allocation cycles.");
//   absl::StatusOr<FlagSet::Result> parsed = flags.Parse(argc, argv);
//
// Syntax: `--name=value`; a boolean also as `--name` (true) or `--no-name` (false). Arguments
// after a bare `--`, and arguments not starting with `--`, are positional (returned in order).
// Every flag can also come from the environment variable STEWARD_<NAME> (upper case); the
// command line wins over the environment. Values are checked strictly: an integer flag
// rejects "12abc", a port rejects 70000, a duration needs a unit. Durations use Mesos's
// notation: a non-negative decimal number and one of ns, us, ms, secs, mins, hrs, days, weeks
// ("5secs", "0.5secs", "100ms").
//
// Errors (InvalidArgument) name the flag and the source, e.g.
//   "--port: '70000' is not a port number (0-65535)"
//   "STEWARD_PORT (environment): 'x' is not a port number (0-65535)"
//   "unknown flag --prot"   "missing required flag --work_dir"
// `--help` (or `-h`) sets Result::help and skips the required-flag check; print Usage() then.
// Not thread-safe; Parse once, at start-up.
#ifndef STEWARD_COMMON_FLAGS_H_
#define STEWARD_COMMON_FLAGS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steward::common {

// Parses a Mesos duration ("5secs", "1.5mins", "100ms"). InvalidArgument with the reason.
absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);
// The shortest exact Mesos notation for `duration`: 5 s -> "5secs", 1.5 s -> "1500ms".
std::string FormatDuration(std::chrono::nanoseconds duration);

class FlagSet {
 public:
  enum Requirement { kOptional, kRequired };

  struct Result {
    bool help = false;                    // --help or -h was given
    std::vector<std::string> positional;  // non-flag arguments, in order
    std::vector<std::string> set;         // names of flags given (command line or environment)
  };

  // `program` names the binary in Usage(); `synopsis` is its first paragraph.
  FlagSet(std::string program, std::string synopsis);

  // Binds a flag to `*target`, whose current value is the default shown by Usage(). Names are
  // [a-z0-9_]+ and unique (a repeated or malformed name aborts: a programming error).
  void Add(std::string name, std::string* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, bool* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, int64_t* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, int* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, uint16_t* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, double* target, std::string help, Requirement r = kOptional);
  void Add(std::string name, std::chrono::nanoseconds* target, std::string help,
           Requirement r = kOptional);

  // Parses argv[1..] and then the environment (`environ`, or `env` when given: tests).
  // On error no target is guaranteed unchanged; callers exit (status 2) with the message.
  absl::StatusOr<Result> Parse(int argc, const char* const* argv);
  absl::StatusOr<Result> Parse(int argc, const char* const* argv,
                               const std::map<std::string, std::string>& env);

  // "Usage: PROGRAM [flags]\n\nSYNOPSIS\n\n  --name=VALUE  help (default: ...)\n..."
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string kind;           // "string", "bool", "int", "port", "number", "duration"
    std::string default_value;  // printed by Usage()
    bool required = false;
    // Parses and stores `value`; returns the reason on failure (without the flag's name).
    std::function<absl::Status(std::string_view value)> set;
  };

  void AddFlag(Flag flag);
  const Flag* Find(std::string_view name) const;

  std::string program_;
  std::string synopsis_;
  std::vector<Flag> flags_;  // in declaration order
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_FLAGS_H_
