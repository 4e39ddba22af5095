// steward tail: a task's stdout or stderr, read from its sandbox through its agent.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"
#include "daemon/cli/internal/json_value.h"
#include "daemon/cli/internal/master_client.h"
#include "daemon/cli/internal/sandbox.h"
#include "daemon/cli/internal/task_runner.h"

namespace steward::cli {

const char kTailUsage[] =
    "Usage: steward tail TASK [--stderr] [--follow] [--framework=ID]\n"
    "\n"
    "Prints the stdout (or, with --stderr, the stderr) of task TASK from its sandbox. The task\n"
    "is looked up at the master (GET_TASKS, active and completed tasks), its agent's address\n"
    "too (GET_AGENTS); the sandbox is the executor directory the agent lists in GET /state,\n"
    "and the file is read with the agent's GET /files/read.\n"
    "\n"
    "  --follow     keep printing what the task writes until it has ended and the file has\n"
    "               been read to its end (also waits for a task that has not started yet).\n"
    "  --stderr     print stderr instead of stdout.\n"
    "  --framework  the task's framework id, when several frameworks use the task id TASK.\n";

namespace {

using mesos::v1::Task;
using mesos::v1::master::Call;
using mesos::v1::master::Response;

constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr int64_t kChunkBytes = 1 << 20;

// The task named `task_id` (of `framework_id`, if not empty) as the master knows it.
absl::StatusOr<Task> FindTask(MasterClient& master, const std::string& task_id,
                              const std::string& framework_id) {
  Call call;
  call.set_type(Call::GET_TASKS);
  absl::StatusOr<Response> response = master.Call(call);
  if (!response.ok()) return response.status();
  std::vector<Task> matches;
  const Response::GetTasks& tasks = response->get_tasks();
  for (const auto* list : {&tasks.tasks(), &tasks.unreachable_tasks(), &tasks.completed_tasks()}) {
    for (const Task& task : *list) {
      if (task.task_id().value() != task_id) continue;
      if (!framework_id.empty() && task.framework_id().value() != framework_id) continue;
      matches.push_back(task);
    }
  }
  if (matches.empty()) {
    return absl::NotFoundError(
        absl::StrCat("unknown task '", task_id, "'",
                     framework_id.empty() ? "" : absl::StrCat(" of framework ", framework_id),
                     ": the master has no active or completed task with this id"));
  }
  std::vector<std::string> frameworks;
  for (const Task& task : matches) frameworks.push_back(task.framework_id().value());
  if (matches.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("task id '", task_id, "' is used in ", matches.size(), " places (frameworks ",
                     absl::StrJoin(frameworks, ", "), "); choose one with --framework=ID"));
  }
  return matches.front();
}

// Whether the task has ended; a task the master no longer lists counts as ended.
absl::StatusOr<bool> TaskEnded(MasterClient& master, const Task& task) {
  absl::StatusOr<Task> now = FindTask(master, task.task_id().value(), task.framework_id().value());
  if (absl::IsNotFound(now.status())) return true;
  if (!now.ok()) return now.status();
  return IsTerminalState(now->state());
}

struct AgentAddress {
  std::string host;
  uint16_t port = 0;
};

absl::StatusOr<AgentAddress> FindAgent(MasterClient& master, const Task& task) {
  Call call;
  call.set_type(Call::GET_AGENTS);
  absl::StatusOr<Response> response = master.Call(call);
  if (!response.ok()) return response.status();
  const std::string& agent_id = task.agent_id().value();
  std::vector<mesos::v1::AgentInfo> infos;
  for (const auto& agent : response->get_agents().agents()) infos.push_back(agent.agent_info());
  for (const auto& info : response->get_agents().recovered_agents()) infos.push_back(info);
  for (const mesos::v1::AgentInfo& info : infos) {
    if (info.id().value() != agent_id) continue;
    if (info.hostname().empty() || info.port() <= 0 || info.port() > 65535) {
      return absl::DataLossError(
          absl::StrCat("the master lists agent ", agent_id, " without a hostname and port"));
    }
    return AgentAddress{info.hostname(), static_cast<uint16_t>(info.port())};
  }
  return absl::NotFoundError(absl::StrCat("agent ", agent_id, " of task ", task.task_id().value(),
                                          " is not registered with the master (removed or "
                                          "unreachable), so its sandbox cannot be read"));
}

}  // namespace

absl::StatusOr<int> TailCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  bool follow = false;
  bool stderr_file = false;
  std::string framework_id;
  CommandFlags flags(&global);
  flags.Add("follow", &follow);
  flags.Add("stderr", &stderr_file);
  flags.Add("framework", &framework_id);
  absl::StatusOr<CommandFlags::Parsed> parsed = flags.Parse(args, io.env);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kTailUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  if (parsed->positional.size() != 1 || parsed->has_command) {
    return UsageError("needs exactly one TASK id");
  }
  const std::string& task_id = parsed->positional.front();

  MasterClient master(global);
  absl::StatusOr<Task> task = FindTask(master, task_id, framework_id);
  if (!task.ok()) return task.status();
  bool ended = IsTerminalState(task->state());
  absl::StatusOr<AgentAddress> address = FindAgent(master, *task);
  if (!address.ok()) return address.status();
  const std::string who = absl::StrCat("the agent at ", address->host, ":", address->port);
  common::HttpClient agent(address->host, address->port, ClientOptions(global));

  // The sandbox; a task that is not on the agent yet is waited for with --follow.
  std::string sandbox;
  while (true) {
    absl::StatusOr<std::string> state = HttpGet(agent, who, "/state");
    if (!state.ok()) return state.status();
    absl::StatusOr<JsonValue> json = JsonValue::Parse(*state);
    if (!json.ok()) {
      return absl::DataLossError(
          absl::StrCat(who, " answered GET /state with invalid JSON: ", json.status().message()));
    }
    absl::StatusOr<std::string> found =
        FindSandbox(*json, task->framework_id().value(), task->task_id().value());
    if (found.ok()) {
      sandbox = *found;
      break;
    }
    if (!absl::IsNotFound(found.status()) || !follow || ended) {
      if (absl::IsNotFound(found.status())) {
        return absl::NotFoundError(absl::StrCat(
            who, " does not list task ", task_id, " of framework ", task->framework_id().value(),
            ended ? " (the task has ended and the agent no longer lists its sandbox)"
                  : " yet (it is starting; use --follow to wait for it)"));
      }
      return found.status();
    }
    std::this_thread::sleep_for(kPollInterval);
    absl::StatusOr<bool> now_ended = TaskEnded(master, *task);
    if (!now_ended.ok()) return now_ended.status();
    ended = *now_ended;
  }

  const std::string path = absl::StrCat(sandbox, stderr_file ? "/stderr" : "/stdout");
  int64_t offset = 0;
  while (true) {
    // The task's end must be seen before a read comes back empty: only then is it all read.
    const bool ended_before_read = ended;
    absl::StatusOr<FileChunk> chunk = ReadFileChunk(agent, who, path, offset, kChunkBytes);
    const bool missing = absl::IsNotFound(chunk.status());
    if (!chunk.ok() && !missing) return chunk.status();
    if (chunk.ok() && !chunk->data.empty()) {
      io.out.write(chunk->data.data(), static_cast<std::streamsize>(chunk->data.size()));
      io.out.flush();
      offset += static_cast<int64_t>(chunk->data.size());
      continue;
    }
    if (!follow || ended_before_read) {
      if (missing) {
        return absl::NotFoundError(absl::StrCat("task ", task_id, " has no ",
                                                stderr_file ? "stderr" : "stdout",
                                                " file in its sandbox ", sandbox, " on ", who));
      }
      return kExitOk;
    }
    std::this_thread::sleep_for(kPollInterval);
    absl::StatusOr<bool> now_ended = TaskEnded(master, *task);
    if (!now_ended.ok()) return now_ended.status();
    ended = *now_ended;
  }
}

}  // namespace steward::cli
