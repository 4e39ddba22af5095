// steward-sim: the trace-driven cluster simulator's command line (../shared/DESIGN.md,
// "Simulator contract"; docs/simulator.md).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allocator/quantities.h"
#include "sim/config.h"
#include "sim/inspect.h"
#include "sim/results.h"
#include "sim/simulator.h"
#include "sim/sweep.h"
#include "sim/workload_feed.h"
#include "traces/native.h"
#include "traces/workload.h"

namespace steward::sim {
namespace {

constexpr char kUsage[] =
    R"(steward-sim: trace-driven cluster simulator on Steward's allocator engine

Usage:
  steward-sim run SCENARIO [--out DIR] [--seed N] [--progress|--quiet]
  steward-sim convert --format FORMAT INPUT... --out FILE [trace options]
  steward-sim inspect TRACE_OR_SCENARIO... [--format FORMAT] [trace options]
  steward-sim sweep SWEEP [--jobs N] [--out DIR] [--quiet]
  steward-sim formats
  steward-sim --help

Commands:
  run      Simulate SCENARIO (a steward.sim.Scenario in text format, .textproto/.pbtxt, or
           JSON, .json) and write summary.json, tasks.csv, agents.csv and timeline.csv into
           DIR (default: ./sim-out/<scenario name>). Prints a summary table on stdout.
  convert  Read an external trace (its files in any order) and write it as one native trace
           FILE, which replays several times faster than the original CSV.
  inspect  Describe a scenario, or a trace: machines, tasks, time span, total demand,
           distinct users and jobs, and skipped records. A native trace needs no --format.
  sweep    Run every scenario of SWEEP (a steward.sim.Sweep file) for every combination of
           its parameter values and every seed, N runs at a time (default: one per core),
           each into DIR/<run name>/ (default DIR: ./sweep-out/<sweep name>), and write
           DIR/sweep.csv with one row of results per run.
  formats  List the trace formats this build reads.

Options:
  --out DIR|FILE            run, sweep: output folder, created if missing; convert: the
                            native file
  --jobs N                  sweep: runs at a time
  --seed N                  run: replaces the scenario's options.seed
  --progress                run: show a progress bar on stderr even when it is not a terminal
  --quiet                   run: no progress bar; sweep: no line per finished run
  --format FORMAT           convert, inspect: the trace's format ('steward-sim formats')
  --strict                  the first malformed record is an error (default: skip and count)
  --limit N                 read at most N tasks
  --normalised-machine R    machine that normalised trace values scale to, e.g.
                            "cpus:64;mem:262144" (default: the format's, docs/traces.md)
  --swf-mem-per-proc-mb X   SWF memory per processor when the trace has none
  --help                    this text

Exit status: 0 success, 1 the run failed, 2 bad command line or bad input file (the message
names file:line:col). See docs/simulator.md for the scenario format and the outputs.
)";

int UsageError(const std::string& message) {
  std::cerr << "steward-sim: " << message << "\nRun 'steward-sim --help' for usage.\n";
  return 2;
}

// Exit code for a failed status: 2 for bad input (the message names the file), 1 otherwise.
int Fail(const absl::Status& status) {
  std::cerr << "steward-sim: " << status.message() << "\n";
  const absl::StatusCode code = status.code();
  return code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound ? 2 : 1;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
};

// Parses "--flag value", "--flag=value" and switches; anything else starting with '-' is an
// error, as is a value flag without a value.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags) {
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (switch_flags.contains(arg) && !has_value) {
      out.switches.insert(arg);
    } else if (value_flags.contains(arg)) {
      if (!has_value) {
        if (i + 1 >= args.size()) return absl::InvalidArgumentError(arg + " needs a value");
        value = args[++i];
      }
      out.values[arg] = value;
    } else {
      return absl::InvalidArgumentError("unknown option '" + arg + "'");
    }
  }
  return out;
}

const std::set<std::string> kTraceFlags = {"--format", "--limit", "--normalised-machine",
                                           "--swf-mem-per-proc-mb"};

// The trace options shared by convert and inspect.
absl::StatusOr<traces::ReadOptions> TraceOptions(const Args& args) {
  traces::ReadOptions options;
  options.strict = args.switches.contains("--strict");
  if (auto it = args.values.find("--limit"); it != args.values.end()) {
    if (!absl::SimpleAtoi(it->second, &options.limit) || options.limit < 0) {
      return absl::InvalidArgumentError("--limit needs a non-negative integer");
    }
  }
  if (auto it = args.values.find("--swf-mem-per-proc-mb"); it != args.values.end()) {
    if (!absl::SimpleAtod(it->second, &options.swf_mem_per_proc_mb) ||
        !std::isfinite(options.swf_mem_per_proc_mb) || options.swf_mem_per_proc_mb <= 0) {
      return absl::InvalidArgumentError("--swf-mem-per-proc-mb needs a number > 0");
    }
  }
  if (auto it = args.values.find("--normalised-machine"); it != args.values.end()) {
    absl::StatusOr<allocator::ResourceQuantities> machine =
        allocator::ResourceQuantities::Parse(it->second);
    if (!machine.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--normalised-machine: ", machine.status().message()));
    }
    for (const auto& [name, milli] : machine->entries()) {
      const double units = static_cast<double>(milli) / 1000;
      if (name == "cpus") {
        options.normalised_machine.cpus = units;
      } else if (name == "mem") {
        options.normalised_machine.mem = units;
      } else if (name == "disk") {
        options.normalised_machine.disk = units;
      } else if (name == "gpus") {
        options.normalised_machine.gpus = units;
      } else {
        return absl::InvalidArgumentError("--normalised-machine: unknown resource '" + name +
                                          "' (cpus, mem, disk, gpus)");
      }
    }
  }
  return options;
}

int Convert(const std::vector<std::string>& raw) {
  std::set<std::string> values = kTraceFlags;
  values.insert("--out");
  absl::StatusOr<Args> args = ParseArgs(raw, values, {"--strict"});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (!args->values.contains("--format")) return UsageError("convert needs --format");
  if (!args->values.contains("--out")) return UsageError("convert needs --out FILE");
  if (args->positional.empty()) return UsageError("convert needs the trace's files");
  absl::StatusOr<traces::ReadOptions> options = TraceOptions(*args);
  if (!options.ok()) return UsageError(std::string(options.status().message()));
  absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader =
      traces::OpenTrace(args->values["--format"], args->positional, *options);
  if (!reader.ok()) return Fail(reader.status());
  const std::string& out = args->values["--out"];
  if (absl::Status s = traces::ConvertToNative(**reader, out); !s.ok()) return Fail(s);
  const traces::ReadStats& stats = (*reader)->stats();
  std::cout << "wrote " << out << ": " << stats.tasks << " tasks, " << (*reader)->machines().size()
            << " machine events, from " << stats.lines << " lines; skipped " << stats.TotalSkipped()
            << "\n";
  for (const auto& [reason, count] : stats.skipped) {
    std::cout << "  skipped " << reason << ": " << count << "\n";
  }
  return 0;
}

int Sweep(const std::vector<std::string>& raw) {
  absl::StatusOr<Args> args = ParseArgs(raw, {"--jobs", "--out"}, {"--quiet"});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->positional.size() != 1) return UsageError("sweep needs one SWEEP file");
  SweepOptions options;
  if (auto it = args->values.find("--jobs"); it != args->values.end()) {
    if (!absl::SimpleAtoi(it->second, &options.jobs) || options.jobs < 1) {
      return UsageError("--jobs needs a positive integer");
    }
  }
  const std::string& path = args->positional[0];
  options.out_dir = args->values.contains("--out")
                        ? args->values["--out"]
                        : "sweep-out/" + std::filesystem::path(path).stem().string();
  absl::StatusOr<std::vector<SweepRun>> runs = PlanSweep(path);
  if (!runs.ok()) return Fail(runs.status());
  size_t done = 0;
  if (!args->switches.contains("--quiet")) {
    options.on_done = [&](const SweepRun& run, const absl::Status& status) {
      ++done;
      std::cerr << "[" << done << "/" << runs->size() << "] " << run.name << ": "
                << (status.ok() ? std::string("ok") : std::string(status.message())) << "\n";
    };
  }
  absl::Status status = RunSweep(*runs, options);
  std::cout << runs->size() << " runs; results in " << options.out_dir << "/sweep.csv\n";
  if (!status.ok()) return Fail(status);
  return 0;
}

bool IsScenarioFile(const std::string& path) {
  for (const char* suffix : {".textproto", ".pbtxt", ".txtpb", ".json"}) {
    if (absl::EndsWith(path, suffix)) return true;
  }
  return false;
}

int Inspect(const std::vector<std::string>& raw) {
  absl::StatusOr<Args> args = ParseArgs(raw, kTraceFlags, {"--strict"});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->positional.empty()) return UsageError("inspect needs a trace or a scenario");
  if (args->positional.size() == 1 && IsScenarioFile(args->positional[0]) &&
      !args->values.contains("--format")) {
    absl::StatusOr<SimConfig> config = LoadScenario(args->positional[0]);
    if (!config.ok()) return Fail(config.status());
    absl::StatusOr<std::string> text = InspectScenario(*config);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
    return 0;
  }
  std::string format;
  if (auto it = args->values.find("--format"); it != args->values.end()) {
    format = it->second;
  } else if (args->positional.size() == 1 && IsNativeTrace(args->positional[0])) {
    format = "native";
  } else {
    return UsageError("inspect needs --format for a trace that is not a native trace");
  }
  absl::StatusOr<traces::ReadOptions> options = TraceOptions(*args);
  if (!options.ok()) return UsageError(std::string(options.status().message()));
  absl::StatusOr<std::string> text = InspectTrace(format, args->positional, *options);
  if (!text.ok()) return Fail(text.status());
  std::cout << *text;
  return 0;
}

class ProgressBar {
 public:
  void Update(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!p.done && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    double fraction = -1;
    if (p.end_estimate > 0) {
      fraction = p.sim_time / p.end_estimate;
    } else if (p.tasks_known > 0) {
      fraction = static_cast<double>(p.tasks_finished) / static_cast<double>(p.tasks_known);
    }
    std::string line;
    if (fraction >= 0) {
      fraction = std::min(fraction, 1.0);
      const int width = 30;
      const int filled = static_cast<int>(fraction * width);
      line = absl::StrFormat("[%s%s] %5.1f%% ", std::string(filled, '#'),
                             std::string(width - filled, '.'), 100 * fraction);
    }
    absl::StrAppendFormat(&line, "t=%.0fs  %d events  %d/%d tasks finished", p.sim_time, p.events,
                          p.tasks_finished, p.tasks_submitted);
    if (fraction > 0 && !p.done) {
      absl::StrAppendFormat(&line, "  ETA %.0fs", elapsed * (1 - fraction) / fraction);
    }
    std::fprintf(stderr, "\r%-100s%s", line.c_str(), p.done ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

int Run(const std::vector<std::string>& raw) {
  absl::StatusOr<Args> args = ParseArgs(raw, {"--out", "--seed"}, {"--progress", "--quiet"});
  if (!args.ok()) return UsageError(std::string(args.status().message()));
  if (args->positional.size() > 1) {
    return UsageError("unexpected argument '" + args->positional[1] + "'");
  }
  std::optional<std::string> scenario;
  if (!args->positional.empty()) scenario = args->positional[0];
  std::optional<std::string> out;
  if (args->values.contains("--out")) out = args->values["--out"];
  std::optional<uint64_t> seed;
  if (args->values.contains("--seed")) {
    uint64_t parsed = 0;
    if (!absl::SimpleAtoi(args->values["--seed"], &parsed)) {
      return UsageError("--seed needs a non-negative integer");
    }
    seed = parsed;
  }
  bool progress = isatty(STDERR_FILENO) != 0;
  if (args->switches.contains("--progress")) progress = true;
  if (args->switches.contains("--quiet")) progress = false;
  if (!scenario) return UsageError("run needs a SCENARIO file");
  absl::StatusOr<SimConfig> config = LoadScenario(*scenario, seed);
  if (!config.ok()) return Fail(config.status());
  ProgressBar bar;
  RunHooks hooks;
  if (progress) hooks.progress = [&bar](const Progress& p) { bar.Update(p); };
  absl::StatusOr<Results> results = Simulate(*config, hooks);
  if (!results.ok()) return Fail(results.status());
  const std::string dir = out ? *out : absl::StrCat("sim-out/", config->name);
  if (absl::Status s = WriteOutputs(*results, dir); !s.ok()) {
    std::cerr << "steward-sim: " << s.message() << "\n";
    return 1;
  }
  std::cout << SummaryTable(*results, Summarize(*results));
  std::cout << "outputs in " << dir << "/ (summary.json, tasks.csv, agents.csv, timeline.csv)\n";
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return UsageError("no command given");
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "run") return Run(args);
  if (command == "convert") return Convert(args);
  if (command == "inspect") return Inspect(args);
  if (command == "sweep") return Sweep(args);
  if (command == "formats") {
    for (const std::string& format : SupportedFormats()) std::cout << format << "\n";
    return 0;
  }
  return UsageError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace steward::sim

int main(int argc, char** argv) { return steward::sim::Main(argc, argv); }
