#include "agent/internal/launch_spec.h"

#include <cmath>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace steward::agent::internal {
namespace {

bool HasNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

absl::string_view View(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace

absl::Status ValidateContainerId(std::string_view id) {
  constexpr size_t kMaxLength = 128;
  auto allowed = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  bool valid = !id.empty() && id.size() <= kMaxLength && id != "." && id != "..";
  for (char c : id) valid = valid && allowed(c);
  if (!valid) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid container id '", View(id.substr(0, kMaxLength + 1)),
                     "': must be 1 to 128 characters from [A-Za-z0-9_.-], and not '.' or '..'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSpec(const ContainerSpec& spec) {
  if (absl::Status status = ValidateContainerId(spec.container_id); !status.ok()) return status;
  if (spec.sandbox.empty() || spec.sandbox[0] != '/' || HasNul(spec.sandbox)) {
    return absl::InvalidArgumentError(absl::StrCat("container ", spec.container_id, ": sandbox '",
                                                   spec.sandbox, "' is not an absolute path"));
  }
  if (spec.command.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("container ", spec.container_id, ": empty command"));
  }
  if (HasNul(spec.command)) {
    return absl::InvalidArgumentError(
        absl::StrCat("container ", spec.container_id, ": NUL byte in the command"));
  }
  for (const std::string& argument : spec.arguments) {
    if (HasNul(argument)) {
      return absl::InvalidArgumentError(
          absl::StrCat("container ", spec.container_id, ": NUL byte in an argument"));
    }
  }
  for (const auto& [name, value] : spec.environment) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) || HasNul(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("container ", spec.container_id, ": invalid environment variable name '",
                       name, "' (must be non-empty, without '=' or NUL; values without NUL)"));
    }
  }
  if (!std::isfinite(spec.cpus) || spec.cpus < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "container ", spec.container_id, ": cpus must be finite and >= 0, not ", spec.cpus));
  }
  return absl::OkStatus();
}

checkpoint::Container MakeContainerRecord(const ContainerSpec& spec) {
  checkpoint::Container record;
  record.set_container_id(spec.container_id);
  record.set_sandbox(spec.sandbox);
  if (spec.shell) {
    record.set_executable("/bin/sh");
    record.add_argv("sh");
    record.add_argv("-c");
    record.add_argv(spec.command);
  } else {
    record.set_executable(spec.command);
    if (spec.arguments.empty()) {
      record.add_argv(spec.command);
    } else {
      for (const std::string& argument : spec.arguments) record.add_argv(argument);
    }
  }
  std::map<std::string, std::string> environment = {
      {"PATH", kDefaultPath}, {"HOME", spec.sandbox}, {"MESOS_SANDBOX", spec.sandbox}};
  for (const auto& [name, value] : spec.environment) environment[name] = value;
  for (const auto& [name, value] : environment) {
    auto* variable = record.add_environment();
    variable->set_name(name);
    variable->set_value(value);
  }
  record.set_cpus(spec.cpus);
  record.set_mem_bytes(spec.mem_bytes);
  return record;
}

}  // namespace steward::agent::internal
