// Trace reading benchmarks: the same trace read to its end through OpenTrace, once from its
// published CSV files and once from the native file (traces/native.h) that ConvertToNative
// wrote from them. The native format exists to replay faster than parsing the CSV; the issue
// asks for at least 5x. Compare the Csv and Native rows of the same loop and trace from the
// same run (bench/README.md has a script that prints the ratio).
//
// Traces (read from STEWARD_SHARED_TRACES, environment variable, else the folder compiled in,
// ../shared/traces beside the repository):
//   trace:0  alibaba2017: batch_task.csv + server_event.csv, 80,553 task rows that expand to
//            10.99M task instances (one TaskRecord each) on 1,313 machines;
//   trace:1  openb: openb_pod_list_default.csv + openb_node_list_all_node.csv, 8,152 pods on
//            1,523 nodes;
//   trace:2  swf-kth: swf/KTH-SP2-1996-2.1-cln.swf.gz (gzip-compressed, so the "Csv" row
//            includes inflating it), each job expanded to one task per processor.
//
// Two consumer loops, each run over the CSV and the native file alike:
//   BM_ParseTrace_*      Next() until the end: one TaskRecord filled per task;
//   BM_ParseTraceRuns_*  NextRun() until the end: one TaskRun per run of tasks identical but
//                        for their indexed trace_id (an Alibaba row's instances, an SWF job's
//                        processors, a native G record), as the simulator's WorkloadFeed reads.
//                        The loop adds each run's count; it does not expand the runs.
// Timed (manual time): OpenTrace (which reads the machines) and the loop until the end. The
// conversion to the native file happens once per trace, before the first native iteration,
// untimed, into the system's temporary folder; the files are removed at the end of the run.
//
// Counters: tasks (per read), tasks_per_second, file_mb (total size of the files read),
// mb_per_second.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "traces/native.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using Clock = std::chrono::steady_clock;

std::string SharedTraces() {
  const char* env = std::getenv("STEWARD_SHARED_TRACES");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(STEWARD_SHARED_TRACES);
}

struct TraceFiles {
  std::string name;
  std::string format;
  std::vector<std::string> paths;
};

TraceFiles Trace(int64_t index) {
  const std::string dir = SharedTraces();
  if (index == 0) {
    return {"alibaba2017",
            "alibaba2017",
            {dir + "/alibaba2017/batch_task.csv", dir + "/alibaba2017/server_event.csv"}};
  }
  if (index == 2) return {"swf-kth", "swf", {dir + "/swf/KTH-SP2-1996-2.1-cln.swf.gz"}};
  return {"openb",
          "openb",
          {dir + "/openb/openb_pod_list_default.csv", dir + "/openb/openb_node_list_all_node.csv"}};
}

double FilesMb(const std::vector<std::string>& paths) {
  double bytes = 0;
  for (const std::string& path : paths) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(path, error);
    if (!error) bytes += static_cast<double>(size);
  }
  return bytes / (1024.0 * 1024.0);
}

// Native files converted in this process; main() removes them after the run.
class NativeFiles {
 public:
  void RemoveAll() {
    for (const auto& [name, path] : paths_) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
    paths_.clear();
  }

  // The native file of `trace`, converting it on first use.
  absl::StatusOr<std::string> Get(const TraceFiles& trace) {
    const auto it = paths_.find(trace.name);
    if (it != paths_.end()) return it->second;
    const std::string path =
        (std::filesystem::temp_directory_path() /
         absl::StrCat("steward-trace-bench-", getpid(), "-", trace.name, ".native"))
            .string();
    absl::StatusOr<std::unique_ptr<TraceReader>> reader =
        OpenTrace(trace.format, trace.paths, ReadOptions{});
    if (!reader.ok()) return reader.status();
    if (absl::Status status = ConvertToNative(**reader, path); !status.ok()) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
      return status;
    }
    paths_[trace.name] = path;
    return path;
  }

 private:
  std::map<std::string, std::string> paths_;
};

NativeFiles& Natives() {
  static NativeFiles* natives = new NativeFiles;
  return *natives;
}

// How a benchmark consumes the trace.
enum class Loop { kTasks, kRuns };

// Reads the trace to its end with `loop`; the number of tasks read, or the error.
absl::StatusOr<int64_t> ReadAll(TraceReader& reader, Loop loop, TaskRecord* record, TaskRun* run) {
  int64_t read = 0;
  if (loop == Loop::kTasks) {
    while (true) {
      absl::StatusOr<bool> more = reader.Next(record);
      if (!more.ok()) return more.status();
      if (!*more) return read;
      ++read;
    }
  }
  while (true) {
    absl::StatusOr<bool> more = reader.NextRun(run);
    if (!more.ok()) return more.status();
    if (!*more) return read;
    read += run->count;
  }
}

// Reads the whole trace once per iteration.
void ReadFully(benchmark::State& state, const std::string& format,
               const std::vector<std::string>& paths, Loop loop) {
  double wall = 0;
  int64_t tasks = 0;
  TaskRecord record;
  TaskRun run;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<std::unique_ptr<TraceReader>> reader = OpenTrace(format, paths, ReadOptions{});
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      return;
    }
    absl::StatusOr<int64_t> read = ReadAll(**reader, loop, &record, &run);
    if (!read.ok()) {
      state.SkipWithError(read.status().ToString().c_str());
      return;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    benchmark::DoNotOptimize(record);
    benchmark::DoNotOptimize(run);
    state.SetIterationTime(seconds);
    wall += seconds;
    tasks += *read;
  }
  const double runs = static_cast<double>(state.iterations());
  const double mb = FilesMb(paths);
  state.counters["tasks"] = static_cast<double>(tasks) / runs;
  state.counters["tasks_per_second"] = static_cast<double>(tasks) / wall;
  state.counters["file_mb"] = mb;
  state.counters["mb_per_second"] = mb * runs / wall;
}

void Csv(benchmark::State& state, Loop loop) {
  const TraceFiles trace = Trace(state.range(0));
  state.SetLabel(trace.name);
  ReadFully(state, trace.format, trace.paths, loop);
}

void Native(benchmark::State& state, Loop loop) {
  const TraceFiles trace = Trace(state.range(0));
  state.SetLabel(trace.name);
  absl::StatusOr<std::string> native = Natives().Get(trace);
  if (!native.ok()) {
    state.SkipWithError(native.status().ToString().c_str());
    return;
  }
  ReadFully(state, "native", {*native}, loop);
}

void BM_ParseTrace_Csv(benchmark::State& state) { Csv(state, Loop::kTasks); }
void BM_ParseTrace_Native(benchmark::State& state) { Native(state, Loop::kTasks); }
void BM_ParseTraceRuns_Csv(benchmark::State& state) { Csv(state, Loop::kRuns); }
void BM_ParseTraceRuns_Native(benchmark::State& state) { Native(state, Loop::kRuns); }

// Fixed iteration counts: a few reads of the 10.99M-task trace (seconds each), more of openb.
// Each trace's CSV row comes right before its native row, per loop.
void Register(const char* name, void (*function)(benchmark::State&), int trace, int iterations) {
  benchmark::RegisterBenchmark(name, function)
      ->ArgName("trace")
      ->Arg(trace)
      ->Iterations(iterations)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

bool RegisterAll() {
  for (const auto& [trace, iterations] : {std::pair{0, 3}, std::pair{1, 20}, std::pair{2, 10}}) {
    Register("BM_ParseTrace_Csv", BM_ParseTrace_Csv, trace, iterations);
    Register("BM_ParseTrace_Native", BM_ParseTrace_Native, trace, iterations);
    Register("BM_ParseTraceRuns_Csv", BM_ParseTraceRuns_Csv, trace, iterations);
    Register("BM_ParseTraceRuns_Native", BM_ParseTraceRuns_Native, trace, iterations);
  }
  return true;
}

[[maybe_unused]] const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace steward::traces

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  steward::traces::Natives().RemoveAll();
  return 0;
}
