#include "sim/inspect.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "allocator/internal/strings.h"
#include "sim/workload_feed.h"

namespace steward::sim {
namespace {

using allocator::internal::Av;

std::string Vector(const traces::ResourceVector& v) {
  return absl::StrFormat("cpus %.6g, mem %.6g MB, disk %.6g MB, gpus %.6g", v.cpus, v.mem, v.disk,
                         v.gpus);
}

void AddTo(traces::ResourceVector& sum, const traces::ResourceVector& v, double times = 1) {
  sum.cpus += v.cpus * times;
  sum.mem += v.mem * times;
  sum.disk += v.disk * times;
  sum.gpus += v.gpus * times;
}

}  // namespace

bool IsNativeTrace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[14] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == sizeof(magic) && std::memcmp(magic, "STEWARD-TRACE", 14) == 0;
}

namespace {

absl::StatusOr<std::string> Describe(traces::TraceReader& reader, std::string out) {
  // Machines.
  std::set<std::string> names;
  traces::ResourceVector capacity_at_start;
  int64_t adds = 0;
  int64_t removes = 0;
  for (const traces::MachineEvent& event : reader.machines()) {
    names.insert(event.name);
    if (event.type == traces::MachineEvent::Type::kAdd) {
      ++adds;
      if (event.time <= 0) AddTo(capacity_at_start, event.capacity);
    } else {
      ++removes;
    }
  }
  absl::StrAppendFormat(&out, "machines: %d distinct, %d add and %d remove events\n", names.size(),
                        adds, removes);
  if (adds > 0) absl::StrAppend(&out, "capacity at time 0: ", Vector(capacity_at_start), "\n");

  // Tasks.
  traces::TaskRecord task;
  int64_t count = 0;
  int64_t unbounded = 0;
  double first = std::numeric_limits<double>::infinity();
  double last = -std::numeric_limits<double>::infinity();
  double duration_sum = 0;
  double duration_max = 0;
  traces::ResourceVector demand;
  traces::ResourceVector work;  // demand x duration
  absl::flat_hash_set<std::string> users, jobs, apps, queues;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&task);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++count;
    first = std::min(first, task.submit_time);
    last = std::max(last, task.submit_time);
    if (task.duration == 0) {
      ++unbounded;
    } else {
      duration_sum += task.duration;
      duration_max = std::max(duration_max, task.duration);
      AddTo(work, task.demand, task.duration);
    }
    AddTo(demand, task.demand);
    if (!task.user.empty()) users.insert(task.user);
    if (!task.job.empty()) jobs.insert(task.job);
    if (!task.app.empty()) apps.insert(task.app);
    if (!task.queue.empty()) queues.insert(task.queue);
  }
  absl::StrAppendFormat(&out, "tasks: %d", count);
  if (count > 0) {
    absl::StrAppendFormat(&out, ", submitted from %.6g s to %.6g s (span %.6g s)", first, last,
                          last - first);
  }
  out += "\n";
  if (count > unbounded) {
    absl::StrAppendFormat(&out, "durations: mean %.6g s, max %.6g s; %d tasks run until the end\n",
                          duration_sum / static_cast<double>(count - unbounded), duration_max,
                          unbounded);
  }
  absl::StrAppend(&out, "total demand: ", Vector(demand), "\n");
  absl::StrAppendFormat(&out,
                        "work (demand x duration): cpu %.6g core-hours, gpu %.6g device-hours\n",
                        work.cpus / 3600, work.gpus / 3600);
  absl::StrAppendFormat(&out, "distinct users %d, jobs %d, apps %d, queues %d\n", users.size(),
                        jobs.size(), apps.size(), queues.size());
  const traces::ReadStats& stats = reader.stats();
  absl::StrAppendFormat(&out, "lines read %d, skipped %d\n", stats.lines, stats.TotalSkipped());
  for (const auto& [reason, n] : stats.skipped)
    absl::StrAppendFormat(&out, "  skipped %s: %d\n", reason, n);
  for (const std::string& example : stats.examples) absl::StrAppend(&out, "  e.g. ", example, "\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> InspectTrace(const std::string& format,
                                         const std::vector<std::string>& paths,
                                         const traces::ReadOptions& options) {
  absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader =
      traces::OpenTrace(format, paths, options);
  if (!reader.ok()) return reader.status();
  return Describe(**reader, absl::StrCat("format ", format, ": ", absl::StrJoin(paths, " "), "\n"));
}

absl::StatusOr<std::string> InspectScenario(const SimConfig& config) {
  std::string out = absl::StrCat("scenario ", config.name, ": mode ", Av(ModeName(config.mode)),
                                 ", sorter ", Av(SorterName(config.sorter)));
  if (config.mode == Mode::kDirect)
    absl::StrAppend(&out, ", placement ", Av(PlacementName(config.placement)));
  absl::StrAppendFormat(&out, ", duration %s\n",
                        config.duration > 0 ? absl::StrCat(config.duration, " s")
                                            : std::string("until all work is done"));
  allocator::Resources total;
  for (const AgentConfig& agent : config.agents) {
    if (absl::Status s = total.Add(agent.total); !s.ok()) return s;
  }
  absl::StrAppendFormat(&out, "agents: %d, total %s\n", config.agents.size(),
                        config.agents.empty() ? std::string("-") : total.ToString());
  for (const RoleConfig& role : config.roles) {
    absl::StrAppendFormat(&out, "role %s: weight %g", role.name, role.weight.value_or(1.0));
    if (role.quota.has_value()) {
      absl::StrAppend(&out, ", guarantee ", role.quota->guarantee.ToString(), ", limit ",
                      role.quota->limit.ToString());
    }
    out += "\n";
  }
  for (const FrameworkConfig& framework : config.frameworks) {
    int64_t tasks = 0;
    for (const TaskGroupConfig& group : framework.groups) tasks += group.count;
    absl::StrAppendFormat(&out, "framework %s (role %s): %d task groups, %d tasks\n",
                          framework.name, framework.role, framework.groups.size(), tasks);
  }
  for (const TraceConfig& trace : config.traces) {
    absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader =
        OpenSourceReader(trace, config.seed);
    if (!reader.ok()) return reader.status();
    absl::StatusOr<std::string> text = Describe(
        **reader, absl::StrCat("trace source at ", trace.where, ": format ", trace.format, "\n"));
    if (!text.ok()) return text.status();
    absl::StrAppend(&out, *text);
  }
  return out;
}

}  // namespace steward::sim
