#include "common/flags.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace steward::common {
namespace {

using Status = absl::Status;

struct Unit {
  std::string_view suffix;
  double nanos;
};
// Longest suffixes first so that "ms" is not read as "s" ("secs" has no bare "s" anyway).
constexpr Unit kUnits[] = {{"weeks", 604800e9}, {"days", 86400e9}, {"hrs", 3600e9}, {"mins", 60e9},
                           {"secs", 1e9},       {"ms", 1e6},       {"us", 1e3},     {"ns", 1}};

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::StatusOr<double> ParseNumber(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty value");
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("'", A(text), "' is not a number"));
  }
  return value;
}

template <typename Int>
absl::StatusOr<Int> ParseInt(std::string_view text, std::string_view what) {
  Int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(absl::StrCat("'", A(text), "' is not ", A(what)));
  }
  return value;
}

bool ValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  for (const Unit& unit : kUnits) {
    if (text.size() > unit.suffix.size() && text.ends_with(unit.suffix)) {
      std::string_view number = text.substr(0, text.size() - unit.suffix.size());
      absl::StatusOr<double> value = ParseNumber(number);
      if (!value.ok() || *value < 0) break;
      const double nanos = std::round(*value * unit.nanos);
      if (nanos > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) {
        return absl::InvalidArgumentError(absl::StrCat("'", A(text), "' is too long a duration"));
      }
      return std::chrono::nanoseconds(static_cast<int64_t>(nanos));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", A(text),
      "' is not a duration (a non-negative number and a unit: ns, us, ms, secs, mins, hrs, "
      "days or weeks, such as 5secs)"));
}

std::string FormatDuration(std::chrono::nanoseconds duration) {
  const int64_t ns = duration.count();
  for (const Unit& unit : kUnits) {
    const auto per = static_cast<int64_t>(unit.nanos);
    if (ns != 0 && ns % per == 0) return absl::StrCat(ns / per, A(unit.suffix));
  }
  return ns == 0 ? "0secs" : absl::StrCat(ns, "ns");
}

FlagSet::FlagSet(std::string program, std::string synopsis)
    : program_(std::move(program)), synopsis_(std::move(synopsis)) {}

void FlagSet::AddFlag(Flag flag) {
  if (!ValidName(flag.name) || Find(flag.name) != nullptr) {
    std::fprintf(stderr, "FlagSet: invalid or repeated flag name '%s'\n", flag.name.c_str());
    std::abort();
  }
  flags_.push_back(std::move(flag));
}

const FlagSet::Flag* FlagSet::Find(std::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

void FlagSet::Add(std::string name, std::string* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "string", *target, r == kRequired,
           [target](std::string_view value) {
             *target = std::string(value);
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, bool* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "bool", *target ? "true" : "false", r == kRequired,
           [target](std::string_view value) {
             if (value == "true" || value == "1") {
               *target = true;
             } else if (value == "false" || value == "0") {
               *target = false;
             } else {
               return absl::InvalidArgumentError(
                   absl::StrCat("'", A(value), "' is not a boolean (true, false, 1 or 0)"));
             }
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, int64_t* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "int", absl::StrCat(*target), r == kRequired,
           [target](std::string_view value) -> Status {
             absl::StatusOr<int64_t> v = ParseInt<int64_t>(value, "an integer");
             if (!v.ok()) return v.status();
             *target = *v;
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, int* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "int", absl::StrCat(*target), r == kRequired,
           [target](std::string_view value) -> Status {
             absl::StatusOr<int> v = ParseInt<int>(value, "an integer");
             if (!v.ok()) return v.status();
             *target = *v;
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, uint16_t* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "port", absl::StrCat(*target), r == kRequired,
           [target](std::string_view value) -> Status {
             absl::StatusOr<uint16_t> v = ParseInt<uint16_t>(value, "a port number (0-65535)");
             if (!v.ok()) return v.status();
             *target = *v;
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, double* target, std::string help, Requirement r) {
  AddFlag({std::move(name), std::move(help), "number", absl::StrCat(*target), r == kRequired,
           [target](std::string_view value) -> Status {
             absl::StatusOr<double> v = ParseNumber(value);
             if (!v.ok()) return v.status();
             *target = *v;
             return absl::OkStatus();
           }});
}

void FlagSet::Add(std::string name, std::chrono::nanoseconds* target, std::string help,
                  Requirement r) {
  AddFlag({std::move(name), std::move(help), "duration", FormatDuration(*target), r == kRequired,
           [target](std::string_view value) -> Status {
             absl::StatusOr<std::chrono::nanoseconds> v = ParseDuration(value);
             if (!v.ok()) return v.status();
             *target = *v;
             return absl::OkStatus();
           }});
}

absl::StatusOr<FlagSet::Result> FlagSet::Parse(int argc, const char* const* argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("STEWARD_")) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return Parse(argc, argv, env);
}

absl::StatusOr<FlagSet::Result> FlagSet::Parse(int argc, const char* const* argv,
                                               const std::map<std::string, std::string>& env) {
  Result result;
  std::set<std::string> given;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (only_positional || !arg.starts_with("--") || arg == "--") {
      if (arg == "--" && !only_positional) {
        only_positional = true;
      } else if (arg == "-h" && !only_positional) {
        result.help = true;
      } else {
        result.positional.emplace_back(arg);
      }
      continue;
    }
    std::string_view body = arg.substr(2);
    const size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    if (name == "help") {
      result.help = true;
      continue;
    }
    const Flag* flag = Find(name);
    std::string value;
    if (flag == nullptr && eq == std::string_view::npos && name.starts_with("no-")) {
      flag = Find(name.substr(3));
      if (flag != nullptr && flag->kind == "bool") {
        name = name.substr(3);
        value = "false";
      } else {
        flag = nullptr;
      }
    } else if (flag != nullptr && eq == std::string_view::npos) {
      if (flag->kind != "bool") {
        return absl::InvalidArgumentError(
            absl::StrCat("--", A(name), ": needs a value (--", A(name), "=VALUE)"));
      }
      value = "true";
    } else {
      value = std::string(body.substr(eq + 1));
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", A(name)));
    }
    if (given.contains(flag->name)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag->name, " given twice"));
    }
    if (Status status = flag->set(value); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag->name, ": ", status.message()));
    }
    given.insert(flag->name);
  }
  for (const Flag& flag : flags_) {
    if (given.contains(flag.name)) continue;
    const std::string variable = absl::StrCat("STEWARD_", absl::AsciiStrToUpper(flag.name));
    auto it = env.find(variable);
    if (it == env.end()) continue;
    if (Status status = flag.set(it->second); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(variable, " (environment): ", status.message()));
    }
    given.insert(flag.name);
  }
  if (!result.help) {
    for (const Flag& flag : flags_) {
      if (flag.required && !given.contains(flag.name)) {
        return absl::InvalidArgumentError(absl::StrCat("missing required flag --", flag.name));
      }
    }
  }
  result.set.assign(given.begin(), given.end());
  return result;
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("Usage: ", program_, " [flags]\n\n", synopsis_, "\n\nFlags:\n");
  for (const Flag& flag : flags_) {
    std::string head = absl::StrCat("  --", flag.name);
    if (flag.kind == "bool") {
      absl::StrAppend(&head, "[=true|false]");
    } else {
      absl::StrAppend(&head, "=", absl::AsciiStrToUpper(flag.kind));
    }
    absl::StrAppend(&out, head, "\n      ", flag.help);
    if (flag.required) {
      absl::StrAppend(&out, " (required)");
    } else if (!flag.default_value.empty()) {
      absl::StrAppend(&out, " (default: ", flag.default_value, ")");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out,
                  "\nEvery flag can also be set with the environment variable STEWARD_<NAME> "
                  "(upper case);\nthe command line wins.\n");
  return out;
}

}  // namespace steward::common
