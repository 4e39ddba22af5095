#include "daemon/cli/internal/arguments.h"

#include <charconv>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/cli/errors.h"

extern char** environ;

namespace steward::cli {
namespace {

// Global flags that take a value, for SplitCommand.
bool IsGlobalValueFlag(std::string_view arg) {
  return arg == "--master" || arg == "--request_timeout";
}

}  // namespace

absl::Status ParseHostPort(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  uint32_t number = 0;
  bool numeric = false;
  if (colon != std::string::npos) {
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, number);
    numeric = begin != end && ec == std::errc() && ptr == end;
  }
  if (colon == std::string::npos || colon == 0 || !numeric || number == 0 || number > 65535) {
    return UsageError(absl::StrCat("'", text, "' is not HOST:PORT (e.g. 127.0.0.1:5050)"));
  }
  *host = text.substr(0, colon);
  // Allow "[::1]:5050".
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = static_cast<uint16_t>(number);
  return absl::OkStatus();
}

CommandSplit SplitCommand(const std::vector<std::string>& args) {
  CommandSplit split;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.starts_with("-")) {
      split.rest.push_back(arg);
      if (IsGlobalValueFlag(arg) && i + 1 < args.size()) split.rest.push_back(args[++i]);
      continue;
    }
    split.command = arg;
    ++i;
    break;
  }
  for (; i < args.size(); ++i) split.rest.push_back(args[i]);
  return split;
}

CommandFlags::CommandFlags(GlobalOptions* global)
    : global_(global), flags_("steward", "The Steward command-line client.") {
  Add("master", &global_->master);
  Add("json", &global_->json);
  Add("request_timeout", &global_->request_timeout);
}

void CommandFlags::Add(const std::string& name, std::string* target) {
  flags_.Add(name, target, "");
  value_flags_.insert(name);
}

void CommandFlags::Add(const std::string& name, bool* target) { flags_.Add(name, target, ""); }

void CommandFlags::Add(const std::string& name, std::chrono::nanoseconds* target) {
  flags_.Add(name, target, "");
  value_flags_.insert(name);
}

void CommandFlags::AddRepeated(const std::string& name, std::vector<std::string>* target) {
  repeated_[name] = target;
}

absl::StatusOr<CommandFlags::Parsed> CommandFlags::Parse(
    const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  Parsed parsed;
  // argv for FlagSet: a program name, then the flags and positionals before `--`, with
  // "--flag VALUE" joined and repeated flags taken out.
  std::vector<std::string> normalized = {"steward"};
  bool master_on_command_line = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.has_command = true;
      parsed.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (!arg.starts_with("--")) {
      normalized.push_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? equals : equals - 2);
    if (name == "master") master_on_command_line = true;
    const bool takes_value = value_flags_.contains(name) || repeated_.contains(name);
    std::string joined = arg;
    if (equals == std::string::npos && takes_value) {
      if (i + 1 >= args.size() || args[i + 1] == "--") {
        return UsageError(absl::StrCat("--", name, ": needs a value (--", name, "=VALUE)"));
      }
      joined = absl::StrCat(arg, "=", args[++i]);
    }
    if (auto it = repeated_.find(name); it != repeated_.end()) {
      it->second->push_back(joined.substr(joined.find('=') + 1));
      continue;
    }
    normalized.push_back(std::move(joined));
  }
  std::vector<const char*> argv;
  argv.reserve(normalized.size());
  for (const std::string& arg : normalized) argv.push_back(arg.c_str());
  std::map<std::string, std::string> master_env;
  if (auto it = env.find(kMasterEnvironment); it != env.end()) master_env.insert(*it);
  absl::StatusOr<common::FlagSet::Result> result =
      flags_.Parse(static_cast<int>(argv.size()), argv.data(), master_env);
  if (!result.ok()) return UsageError(result.status().message());
  parsed.help = result->help;
  parsed.positional = std::move(result->positional);
  if (parsed.help) return parsed;
  if (absl::Status s = ParseHostPort(global_->master, &global_->master_host, &global_->master_port);
      !s.ok()) {
    return UsageError(
        absl::StrCat(master_on_command_line || !master_env.contains(kMasterEnvironment)
                         ? "--master"
                         : absl::StrCat(kMasterEnvironment, " (environment)"),
                     ": ", s.message()));
  }
  if (global_->request_timeout <= std::chrono::nanoseconds(0)) {
    return UsageError("--request_timeout: must be positive");
  }
  return parsed;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

}  // namespace steward::cli
