// steward state | agents | frameworks | tasks | roles: operator API reads shown as tables.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"
#include "daemon/cli/internal/master_client.h"
#include "daemon/cli/internal/table.h"

namespace steward::cli {

const char kStateUsage[] =
    "Usage: steward state [--json]\n"
    "\n"
    "Shows the master's whole state (operator API GET_STATE): its agents, frameworks and\n"
    "tasks (active, unreachable and completed), as the tables of `steward agents`,\n"
    "`steward frameworks --all` and `steward tasks --all`. With --json, the GET_STATE answer.\n";

const char kAgentsUsage[] =
    "Usage: steward agents [--json]\n"
    "\n"
    "Lists the agents the master knows (operator API GET_AGENTS): id, HOST:PORT, state\n"
    "(active: connected; inactive: disconnected; recovering: known from the registry but not\n"
    "reregistered since the master started), total resources and the resources used by tasks.\n";

const char kFrameworksUsage[] =
    "Usage: steward frameworks [--all] [--json]\n"
    "\n"
    "Lists the subscribed frameworks (operator API GET_STATE): id, name, roles, whether the\n"
    "scheduler is connected, and its number of tasks that the master still tracks.\n"
    "  --all   also list completed frameworks (torn down or timed out).\n";

const char kTasksUsage[] =
    "Usage: steward tasks [--all] [--json]\n"
    "\n"
    "Lists tasks (operator API GET_TASKS): id, name, framework, agent and state.\n"
    "  --all   also list completed tasks (terminal and acknowledged).\n";

const char kRolesUsage[] =
    "Usage: steward roles [--json]\n"
    "\n"
    "Lists roles (operator API GET_ROLES and GET_QUOTA): name, weight, number of subscribed\n"
    "frameworks, resources allocated to its tasks, and its quota guarantee and limit.\n";

namespace {

using mesos::v1::Task;
using mesos::v1::master::Call;
using mesos::v1::master::Response;

// Parses a view command's flags; no positional arguments allowed. `all` may be null.
absl::StatusOr<CommandFlags::Parsed> ParseView(const std::vector<std::string>& args, Io& io,
                                               GlobalOptions* global, bool* all) {
  CommandFlags flags(global);
  if (all != nullptr) flags.Add("all", all);
  absl::StatusOr<CommandFlags::Parsed> parsed = flags.Parse(args, io.env);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) return parsed;
  if (!parsed->positional.empty() || parsed->has_command) {
    return UsageError(absl::StrCat("takes no arguments (got '",
                                   parsed->positional.empty() ? "--" : parsed->positional.front(),
                                   "')"));
  }
  return parsed;
}

absl::StatusOr<Response> Fetch(const GlobalOptions& global, Call::Type type) {
  MasterClient master(global);
  Call call;
  call.set_type(type);
  return master.Call(call);
}

Table AgentsTable(const Response::GetAgents& agents) {
  Table table({"ID", "HOST:PORT", "STATE", "RESOURCES", "USED"});
  for (const Response::GetAgents::Agent& agent : agents.agents()) {
    const mesos::v1::AgentInfo& info = agent.agent_info();
    table.AddRow({info.id().value(), absl::StrCat(info.hostname(), ":", info.port()),
                  agent.active() ? "active" : "inactive", FormatResources(agent.total_resources()),
                  FormatResources(agent.allocated_resources())});
  }
  for (const mesos::v1::AgentInfo& info : agents.recovered_agents()) {
    table.AddRow({info.id().value(), absl::StrCat(info.hostname(), ":", info.port()), "recovering",
                  FormatResources(info.resources()), ""});
  }
  return table;
}

Table FrameworksTable(const Response::GetFrameworks& frameworks, const Response::GetTasks& tasks,
                      bool all) {
  std::map<std::string, int> task_counts;
  for (const Task& task : tasks.tasks()) ++task_counts[task.framework_id().value()];
  for (const Task& task : tasks.unreachable_tasks()) ++task_counts[task.framework_id().value()];
  Table table({"ID", "NAME", "ROLES", "CONNECTED", "TASKS"});
  auto add = [&](const Response::GetFrameworks::Framework& framework, bool completed) {
    const mesos::v1::FrameworkInfo& info = framework.framework_info();
    std::vector<std::string> roles(info.roles().begin(), info.roles().end());
    if (roles.empty()) roles.push_back(info.role());
    table.AddRow({info.id().value(), info.name(), absl::StrJoin(roles, ","),
                  completed ? "no (completed)" : (framework.connected() ? "yes" : "no"),
                  absl::StrCat(task_counts[info.id().value()])});
  };
  for (const auto& framework : frameworks.frameworks()) add(framework, false);
  if (all) {
    for (const auto& framework : frameworks.completed_frameworks()) add(framework, true);
  }
  return table;
}

Table TasksTable(const Response::GetTasks& tasks, bool all) {
  Table table({"ID", "NAME", "FRAMEWORK", "AGENT", "STATE"});
  auto add = [&table](const Task& task) {
    table.AddRow({task.task_id().value(), task.name(), task.framework_id().value(),
                  task.agent_id().value(), mesos::v1::TaskState_Name(task.state())});
  };
  for (const Task& task : tasks.tasks()) add(task);
  for (const Task& task : tasks.unreachable_tasks()) add(task);
  if (all) {
    for (const Task& task : tasks.completed_tasks()) add(task);
  }
  return table;
}

}  // namespace

absl::StatusOr<int> AgentsCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  absl::StatusOr<CommandFlags::Parsed> parsed = ParseView(args, io, &global, nullptr);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kAgentsUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  absl::StatusOr<Response> response = Fetch(global, Call::GET_AGENTS);
  if (!response.ok()) return response.status();
  if (global.json) {
    io.out << PrettyJson(*response);
  } else {
    io.out << AgentsTable(response->get_agents()).Render();
  }
  return kExitOk;
}

absl::StatusOr<int> FrameworksCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  bool all = false;
  absl::StatusOr<CommandFlags::Parsed> parsed = ParseView(args, io, &global, &all);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kFrameworksUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  absl::StatusOr<Response> response = Fetch(global, Call::GET_STATE);
  if (!response.ok()) return response.status();
  if (global.json) {
    Response frameworks;
    frameworks.set_type(Response::GET_FRAMEWORKS);
    *frameworks.mutable_get_frameworks() = response->get_state().get_frameworks();
    if (!all) frameworks.mutable_get_frameworks()->clear_completed_frameworks();
    io.out << PrettyJson(frameworks);
  } else {
    io.out << FrameworksTable(response->get_state().get_frameworks(),
                              response->get_state().get_tasks(), all)
                  .Render();
  }
  return kExitOk;
}

absl::StatusOr<int> TasksCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  bool all = false;
  absl::StatusOr<CommandFlags::Parsed> parsed = ParseView(args, io, &global, &all);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kTasksUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  absl::StatusOr<Response> response = Fetch(global, Call::GET_TASKS);
  if (!response.ok()) return response.status();
  if (global.json) {
    if (!all) response->mutable_get_tasks()->clear_completed_tasks();
    io.out << PrettyJson(*response);
  } else {
    io.out << TasksTable(response->get_tasks(), all).Render();
  }
  return kExitOk;
}

absl::StatusOr<int> RolesCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  absl::StatusOr<CommandFlags::Parsed> parsed = ParseView(args, io, &global, nullptr);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kRolesUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  absl::StatusOr<Response> roles = Fetch(global, Call::GET_ROLES);
  if (!roles.ok()) return roles.status();
  if (global.json) {
    io.out << PrettyJson(*roles);
    return kExitOk;
  }
  absl::StatusOr<Response> quota = Fetch(global, Call::GET_QUOTA);
  if (!quota.ok()) return quota.status();
  std::map<std::string, const mesos::v1::quota::QuotaConfig*> quotas;
  for (const auto& config : quota->get_quota().status().configs()) quotas[config.role()] = &config;
  Table table({"NAME", "WEIGHT", "FRAMEWORKS", "ALLOCATED", "GUARANTEE", "LIMIT"});
  std::set<std::string> listed;
  for (const mesos::v1::Role& role : roles->get_roles().roles()) {
    auto it = quotas.find(role.name());
    table.AddRow({role.name(), absl::StrCat(role.weight()), absl::StrCat(role.frameworks_size()),
                  FormatResources(role.resources()),
                  it == quotas.end() ? "" : FormatQuantities(it->second->guarantees()),
                  it == quotas.end() ? "" : FormatQuantities(it->second->limits())});
    listed.insert(role.name());
  }
  for (const auto& [name, config] : quotas) {
    if (listed.contains(name)) continue;
    table.AddRow({name, "1", "0", "", FormatQuantities(config->guarantees()),
                  FormatQuantities(config->limits())});
  }
  io.out << table.Render();
  return kExitOk;
}

absl::StatusOr<int> StateCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  absl::StatusOr<CommandFlags::Parsed> parsed = ParseView(args, io, &global, nullptr);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kStateUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  absl::StatusOr<Response> response = Fetch(global, Call::GET_STATE);
  if (!response.ok()) return response.status();
  if (global.json) {
    io.out << PrettyJson(*response);
    return kExitOk;
  }
  const Response::GetState& state = response->get_state();
  const Table agents = AgentsTable(state.get_agents());
  const Table frameworks = FrameworksTable(state.get_frameworks(), state.get_tasks(), true);
  const Table tasks = TasksTable(state.get_tasks(), true);
  io.out << "Master " << global.master << "\n\nAgents (" << agents.rows() << ")\n"
         << agents.Render() << "\nFrameworks (" << frameworks.rows() << ")\n"
         << frameworks.Render() << "\nTasks (" << tasks.rows() << ")\n"
         << tasks.Render();
  return kExitOk;
}

}  // namespace steward::cli
