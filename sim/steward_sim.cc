// steward-sim: the trace-driven cluster simulator's command line (../shared/DESIGN.md,
// "Simulator contract"; docs/simulator.md).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/config.h"
#include "sim/results.h"
#include "sim/simulator.h"

namespace steward::sim {
namespace {

constexpr char kUsage[] = R"(steward-sim: trace-driven cluster simulator on Steward's allocator engine

Usage:
  steward-sim run SCENARIO [--out DIR] [--seed N] [--progress|--quiet]
  steward-sim --help

Commands:
  run      Simulate SCENARIO (a steward.sim.Scenario in text format, .textproto/.pbtxt, or
           JSON, .json) and write summary.json, tasks.csv, agents.csv and timeline.csv into
           DIR (default: ./sim-out/<scenario name>). Prints a summary table on stdout.

Options:
  --out DIR     output folder, created if missing
  --seed N      replaces the scenario's options.seed
  --progress    show a progress bar on stderr even when it is not a terminal
  --quiet       no progress bar
  --help        this text

Exit status: 0 success, 1 the run failed, 2 bad command line or bad input file (the message
names file:line:col). See docs/simulator.md for the scenario format and the outputs.
)";

int UsageError(const std::string& message) {
  std::cerr << "steward-sim: " << message << "\nRun 'steward-sim --help' for usage.\n";
  return 2;
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

int Run(const std::vector<std::string>& args) {
  std::optional<std::string> scenario;
  std::optional<std::string> out;
  std::optional<uint64_t> seed;
  bool progress = isatty(STDERR_FILENO) != 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      (void)flag;
      return args[++i];
    };
    if (arg == "--out") {
      out = value("--out");
      if (!out) return UsageError("--out needs a folder");
    } else if (arg == "--seed") {
      std::optional<std::string> text = value("--seed");
      uint64_t parsed = 0;
      if (!text || !absl::SimpleAtoi(*text, &parsed)) {
        return UsageError("--seed needs a non-negative integer");
      }
      seed = parsed;
    } else if (arg == "--progress") {
      progress = true;
    } else if (arg == "--quiet") {
      progress = false;
    } else if (!arg.empty() && arg[0] == '-') {
      return UsageError(absl::StrCat("unknown option '", arg, "'"));
    } else if (scenario) {
      return UsageError(absl::StrCat("unexpected argument '", arg, "'"));
    } else {
      scenario = arg;
    }
  }
  if (!scenario) return UsageError("run needs a SCENARIO file");
  absl::StatusOr<SimConfig> config = LoadScenario(*scenario, seed);
  if (!config.ok()) {
    std::cerr << "steward-sim: " << config.status().message() << "\n";
    return 2;
  }
  ProgressBar bar;
  RunHooks hooks;
  if (progress) hooks.progress = [&bar](const Progress& p) { bar.Update(p); };
  absl::StatusOr<Results> results = Simulate(*config, hooks);
  if (!results.ok()) {
    std::cerr << "steward-sim: " << results.status().message() << "\n";
    return results.status().code() == absl::StatusCode::kInvalidArgument ||
                   results.status().code() == absl::StatusCode::kNotFound
               ? 2
               : 1;
  }
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
  return UsageError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace steward::sim

int main(int argc, char** argv) { return steward::sim::Main(argc, argv); }
