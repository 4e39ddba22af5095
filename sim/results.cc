#include "sim/results.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allocator/internal/strings.h"
#include "allocator/resources.h"

namespace steward::sim {
namespace {

using allocator::FormatMilli;

// Nearest-rank percentiles of `values` (sorted in place).
Percentiles Compute(std::vector<double>& values) {
  Percentiles out;
  out.count = static_cast<int64_t>(values.size());
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  out.mean = sum / static_cast<double>(values.size());
  auto rank = [&](double p) {
    size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(k, 1, values.size()) - 1];
  };
  out.p50 = rank(0.50);
  out.p90 = rank(0.90);
  out.p99 = rank(0.99);
  out.max = values.back();
  return out;
}

// Minimal JSON writing: keys and strings escaped, numbers in shortest round-trip form.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return FormatDouble(value);
}

std::string PercentilesJson(const Percentiles& p) {
  return absl::StrCat("{\"count\": ", p.count, ", \"mean\": ", JsonNumber(p.mean),
                      ", \"p50\": ", JsonNumber(p.p50), ", \"p90\": ", JsonNumber(p.p90),
                      ", \"p99\": ", JsonNumber(p.p99), ", \"max\": ", JsonNumber(p.max), "}");
}

// CSV fields here never contain commas or quotes except names from traces and scenarios.
std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += "\"";
  return out;
}

absl::Status WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": cannot write"));
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(path.string(), ": write failed"));
  return absl::OkStatus();
}

std::string TimeOrEmpty(double time) { return time < 0 ? std::string() : FormatDouble(time); }

}  // namespace

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending:
      return "PENDING";
    case TaskState::kRunning:
      return "RUNNING";
    case TaskState::kFinished:
      return "FINISHED";
    case TaskState::kFailed:
      return "FAILED";
  }
  return "PENDING";
}

std::string FormatDouble(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

Summary Summarize(const Results& results) {
  Summary summary;
  std::vector<double> waits, jcts, slowdowns;
  for (const TaskRow& task : results.tasks) {
    ++summary.submitted;
    switch (task.state) {
      case TaskState::kPending:
        ++summary.pending_at_end;
        break;
      case TaskState::kRunning:
        ++summary.running_at_end;
        break;
      case TaskState::kFinished:
        ++summary.finished;
        break;
      case TaskState::kFailed:
        ++summary.failed;
        break;
    }
    if (task.start >= 0) {
      ++summary.started;
      waits.push_back(task.start - task.submit);
    }
    if (task.state == TaskState::kFinished) {
      const double response = task.end - task.submit;
      jcts.push_back(response);
      const double run = task.end - task.start;
      slowdowns.push_back(std::max(1.0, response / std::max(run, kSlowdownTau)));
    }
  }
  summary.wait = Compute(waits);
  summary.jct = Compute(jcts);
  summary.slowdown = Compute(slowdowns);
  for (size_t c = 0; c < results.resources.size(); ++c) {
    summary.mean_utilisation.push_back(
        results.total_integral[c] > 0 ? results.allocated_integral[c] / results.total_integral[c]
                                      : -1);
  }
  summary.mean_jain =
      results.jain_samples > 0 ? results.jain_sum / static_cast<double>(results.jain_samples) : 0;
  return summary;
}

absl::Status WriteOutputs(const Results& results, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(dir, ": cannot create: ", ec.message()));
  const std::filesystem::path out(dir);
  const Summary summary = Summarize(results);
  const size_t columns = results.resources.size();

  // summary.json
  std::string json = "{\n";
  absl::StrAppend(&json, "  \"scenario\": ", Quote(results.scenario), ",\n");
  absl::StrAppend(&json, "  \"seed\": ", results.seed, ",\n");
  absl::StrAppend(&json, "  \"mode\": ", Quote(results.mode), ",\n");
  absl::StrAppend(&json, "  \"sorter\": ", Quote(results.sorter), ",\n");
  absl::StrAppend(&json, "  \"placement\": ", Quote(results.placement), ",\n");
  absl::StrAppend(&json, "  \"end_time\": ", JsonNumber(results.end_time), ",\n");
  absl::StrAppend(&json, "  \"wall_seconds\": ", JsonNumber(results.wall_seconds), ",\n");
  absl::StrAppend(&json, "  \"events\": ", results.events, ",\n");
  absl::StrAppend(&json, "  \"tasks\": {\"submitted\": ", summary.submitted,
                  ", \"started\": ", summary.started, ", \"finished\": ", summary.finished,
                  ", \"running_at_end\": ", summary.running_at_end,
                  ", \"pending_at_end\": ", summary.pending_at_end,
                  ", \"failed\": ", summary.failed, ", \"lost\": ", results.tasks_lost, "},\n");
  json += "  \"mean_utilisation\": {";
  bool first = true;
  for (size_t c = 0; c < columns; ++c) {
    if (summary.mean_utilisation[c] < 0) continue;
    absl::StrAppend(&json, first ? "" : ", ", Quote(results.resources[c]), ": ",
                    JsonNumber(summary.mean_utilisation[c]));
    first = false;
  }
  json += "},\n";
  absl::StrAppend(&json, "  \"wait_seconds\": ", PercentilesJson(summary.wait), ",\n");
  absl::StrAppend(&json, "  \"jct_seconds\": ", PercentilesJson(summary.jct), ",\n");
  absl::StrAppend(&json, "  \"bounded_slowdown\": ", PercentilesJson(summary.slowdown), ",\n");
  absl::StrAppend(&json, "  \"bounded_slowdown_tau_seconds\": ", JsonNumber(kSlowdownTau), ",\n");
  absl::StrAppend(&json, "  \"mean_jain_index\": ", JsonNumber(summary.mean_jain), ",\n");
  absl::StrAppend(&json, "  \"offers\": {\"made\": ", results.offers,
                  ", \"declined\": ", results.offers_declined,
                  ", \"rescinded\": ", results.offers_rescinded, "},\n");
  absl::StrAppend(&json, "  \"placement_rounds\": ", results.placement_rounds, ",\n");
  absl::StrAppend(&json, "  \"trace_tasks_late\": ", results.trace_tasks_late, ",\n");
  json += "  \"trace_sources\": [";
  for (size_t i = 0; i < results.trace_reports.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ", ", Quote(results.trace_reports[i]));
  }
  json += "],\n  \"trace_skipped\": {";
  first = true;
  for (const auto& [reason, count] : results.trace_skipped) {
    absl::StrAppend(&json, first ? "" : ", ", Quote(reason), ": ", count);
    first = false;
  }
  json += "},\n  \"frameworks\": [";
  for (size_t f = 0; f < results.frameworks.size(); ++f) {
    const FrameworkRow& row = results.frameworks[f];
    absl::StrAppend(&json, f == 0 ? "\n" : ",\n", "    {\"name\": ", Quote(row.name),
                    ", \"role\": ", Quote(row.role), ", \"tasks_submitted\": ", row.submitted,
                    ", \"tasks_started\": ", row.started, ", \"tasks_finished\": ", row.finished,
                    ", \"running_at_end\": ", row.running_at_end,
                    ", \"pending_at_end\": ", row.pending_at_end, ", \"failed\": ", row.failed,
                    ", \"dominant_share_at_end\": ", JsonNumber(row.dominant_share_at_end),
                    ", \"allocated_at_end\": {");
    bool first_resource = true;
    for (size_t c = 0; c < columns; ++c) {
      if (row.allocated_at_end[c] == 0) continue;
      absl::StrAppend(&json, first_resource ? "" : ", ", Quote(results.resources[c]), ": ",
                      FormatMilli(row.allocated_at_end[c]));
      first_resource = false;
    }
    absl::StrAppend(
        &json, "}, \"mean_wait_seconds\": ",
        row.started > 0 ? JsonNumber(row.wait_sum / static_cast<double>(row.started)) : "null",
        "}");
  }
  json += results.frameworks.empty() ? "]\n}\n" : "\n  ]\n}\n";
  if (absl::Status s = WriteFile(out / "summary.json", json); !s.ok()) return s;

  // tasks.csv
  std::string csv = "task_id,framework,role,agent,submit_time,start_time,end_time,state";
  for (const std::string& name : results.resources) absl::StrAppend(&csv, ",", name);
  csv += "\n";
  for (size_t t = 0; t < results.tasks.size(); ++t) {
    const TaskRow& task = results.tasks[t];
    const FrameworkRow& framework = results.frameworks[task.framework];
    absl::StrAppend(&csv, t, ",", CsvField(framework.name), ",", CsvField(framework.role), ",",
                    task.agent == kNoIndex ? "" : CsvField(results.agents[task.agent].name), ",",
                    FormatDouble(task.submit), ",", TimeOrEmpty(task.start), ",",
                    TimeOrEmpty(task.end), ",", allocator::internal::Av(TaskStateName(task.state)));
    for (int64_t milli : results.demands[task.demand])
      absl::StrAppend(&csv, ",", FormatMilli(milli));
    csv += "\n";
  }
  if (absl::Status s = WriteFile(out / "tasks.csv", csv); !s.ok()) return s;

  // agents.csv
  csv = "agent,added_time,removed_time";
  for (const std::string& name : results.resources) absl::StrAppend(&csv, ",", name);
  csv += "\n";
  for (const AgentRow& agent : results.agents) {
    absl::StrAppend(&csv, CsvField(agent.name), ",", FormatDouble(agent.added), ",",
                    TimeOrEmpty(agent.removed));
    for (int64_t milli : agent.total) absl::StrAppend(&csv, ",", FormatMilli(milli));
    csv += "\n";
  }
  if (absl::Status s = WriteFile(out / "agents.csv", csv); !s.ok()) return s;

  // timeline.csv
  csv = "time,framework,role,dominant_share";
  for (const std::string& name : results.resources) absl::StrAppend(&csv, ",", name, "_allocated");
  for (const std::string& name : results.resources) absl::StrAppend(&csv, ",", name, "_total");
  csv += "\n";
  for (const TimelineRow& row : results.timeline) {
    const bool cluster = row.framework == kNoIndex;
    absl::StrAppend(&csv, FormatDouble(row.time), ",",
                    cluster ? "(cluster)" : CsvField(results.frameworks[row.framework].name), ",",
                    cluster ? "" : CsvField(results.frameworks[row.framework].role), ",",
                    FormatDouble(row.dominant_share));
    for (int64_t milli : row.allocated) absl::StrAppend(&csv, ",", FormatMilli(milli));
    for (size_t c = 0; c < columns; ++c) {
      csv += ",";
      if (cluster) csv += FormatMilli(row.total[c]);
    }
    csv += "\n";
  }
  return WriteFile(out / "timeline.csv", csv);
}

std::string SummaryTable(const Results& results, const Summary& summary) {
  std::string out;
  absl::StrAppendFormat(
      &out, "scenario %s  seed %d  mode %s  sorter %s%s\n", results.scenario, results.seed,
      results.mode, results.sorter,
      results.mode == "DIRECT" ? absl::StrCat("  placement ", results.placement) : std::string());
  absl::StrAppendFormat(&out, "simulated %.1f s in %.2f s wall, %d events\n", results.end_time,
                        results.wall_seconds, results.events);
  absl::StrAppendFormat(&out,
                        "tasks: %d submitted, %d started, %d finished, %d running and %d pending "
                        "at the end, %d failed, %d runs lost\n",
                        summary.submitted, summary.started, summary.finished,
                        summary.running_at_end, summary.pending_at_end, summary.failed,
                        results.tasks_lost);
  out += "mean utilisation:";
  for (size_t c = 0; c < results.resources.size(); ++c) {
    if (summary.mean_utilisation[c] < 0) continue;
    absl::StrAppendFormat(&out, " %s %.1f%%", results.resources[c],
                          100 * summary.mean_utilisation[c]);
  }
  out += "\n";
  absl::StrAppendFormat(&out, "%-22s %12s %12s %12s %12s\n", "", "mean", "p50", "p90", "p99");
  for (const auto& [name, p] :
       {std::pair{"wait (s)", summary.wait}, std::pair{"completion time (s)", summary.jct},
        std::pair{"bounded slowdown", summary.slowdown}}) {
    absl::StrAppendFormat(&out, "%-22s %12.2f %12.2f %12.2f %12.2f\n", name, p.mean, p.p50, p.p90,
                          p.p99);
  }
  absl::StrAppendFormat(&out, "mean Jain index of weighted dominant shares: %.3f\n",
                        summary.mean_jain);
  if (results.mode == "OFFER") {
    absl::StrAppendFormat(&out, "offers: %d made, %d declined, %d rescinded\n", results.offers,
                          results.offers_declined, results.offers_rescinded);
  }
  for (const std::string& report : results.trace_reports)
    absl::StrAppend(&out, "trace ", report, "\n");
  if (results.trace_tasks_late > 0) {
    absl::StrAppendFormat(&out, "trace tasks submitted late (out of order in the trace): %d\n",
                          results.trace_tasks_late);
  }
  // The frameworks, largest first, at most 10.
  std::vector<size_t> order(results.frameworks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return results.frameworks[a].submitted > results.frameworks[b].submitted;
  });
  absl::StrAppendFormat(&out, "%-24s %-12s %10s %10s %10s %10s %8s\n", "framework", "role",
                        "submitted", "finished", "pending", "mean wait", "share");
  for (size_t k = 0; k < order.size() && k < 10; ++k) {
    const FrameworkRow& row = results.frameworks[order[k]];
    absl::StrAppendFormat(&out, "%-24s %-12s %10d %10d %10d %10.2f %8.3f\n", row.name.substr(0, 24),
                          row.role.substr(0, 12), row.submitted, row.finished, row.pending_at_end,
                          row.started > 0 ? row.wait_sum / static_cast<double>(row.started) : 0.0,
                          row.dominant_share_at_end);
  }
  if (order.size() > 10)
    absl::StrAppendFormat(&out, "... and %d more frameworks\n", order.size() - 10);
  return out;
}

}  // namespace steward::sim
