// steward-master-bench: master throughput under a load generator (bench/internal/master_load.h).
//
// One steward-master runs in this process (Master::Create with a FileRegistrar in a fresh
// temporary directory, 127.0.0.1, an ephemeral port, a short allocation interval). N simulated
// agents and M simulated frameworks drive it over loopback, on a few client threads. Once
// every agent and framework has subscribed, the load runs for a warm-up, then for a fixed
// measurement window.
//
// Timing is explicit: one iteration, manual time = the measurement window (wall clock). The
// rates are computed over that window only:
//   launches_per_second   LAUNCH events received by agents
//   offers_per_second     offers received by frameworks
//   finished_per_second   TASK_FINISHED updates whose acknowledgement reached the agent
//   updates_per_second    status updates agents sent
//   update_calls_per_second   the STATUS_UPDATE calls that carried them (several per call when
//                         updates queue up behind an agent's call in flight)
//   acks_per_second       frameworks' ACKNOWLEDGE calls
// plus, from the master's /metrics/snapshot after the window, alloc_p50_ms and alloc_p99_ms
// (allocator/mesos/allocation_run_ms/p50 and /p99, over the timer's last 1,000 cycles),
// allocation_runs in the window, probe_p50_ms / probe_p99_ms / probe_max_ms (the latency of an
// operator GET_HEALTH call sent every 10 ms during the window by a probe thread: a handler that
// takes the master's lock and does nearly nothing under it, so its latency is the HTTP round
// trip plus the wait for the lock, e.g. behind an allocation cycle),
// master_cpu_cores and loadgen_cpu_cores (CPU time used in the
// window by the master's threads and by the load generator's, per second of window),
// master_cpu_us_per_launch (the master's CPU time per launch: the figure that does not depend
// on how many cores the machine lent us), setup_seconds (subscribing everyone), errors (calls not
// answered 202, failed streams, undecodable events) and loadavg_1m (the machine's load at the
// end, since the master and the load generator share its cores with whatever else runs).
//
// Arguments: agents, frameworks, json (frameworks speak JSON instead of protobuf). Options
// before the Google Benchmark flags (defaults in brackets):
//   --window_seconds=S [5]  --warmup_seconds=S [5]  --task_duration_ms=MS [0]
//   --allocation_interval_ms=MS [20]  --agent_resources=R [cpus:1;mem:320]
//   --task_resources=R [cpus:0.1;mem:32]  --client_threads=N [2]  --master_http_threads=N [4]
//   --setup_timeout_seconds=S [300]  --announce_window (print when the window begins and ends,
//   to attach a profiler to the measured part only)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/cpu_time.h"
#include "bench/internal/master_load.h"
#include "benchmark/benchmark.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/logging.h"
#include "daemon/master.h"
#include "daemon/registrar.h"
#include "google/protobuf/struct.pb.h"

namespace steward::bench {
namespace {

struct BenchFlags {
  double window_seconds = 5;
  double warmup_seconds = 5;
  int64_t task_duration_ms = 0;
  int64_t allocation_interval_ms = 20;
  std::string agent_resources = "cpus:1;mem:320";
  std::string task_resources = "cpus:0.1;mem:32";
  int64_t client_threads = 2;
  int64_t master_http_threads = 4;
  double setup_timeout_seconds = 300;
  bool announce_window = false;  // print when the window begins and ends (for profilers)
};

BenchFlags& Flags() {
  static BenchFlags flags;
  return flags;
}

// Takes this benchmark's own --name=value options out of argv. Returns false (after printing
// why) for a malformed or out-of-range value.
bool ParseFlags(int* argc, char** argv) {
  BenchFlags& f = Flags();
  int kept = 1;
  bool ok = true;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    auto number = [&](auto* out, double min) {
      double parsed = 0;
      if (eq == std::string::npos || !absl::SimpleAtod(value, &parsed) || parsed < min) {
        std::cerr << "steward-master-bench: " << name << " needs a number >= " << min << ", got '"
                  << value << "'\n";
        ok = false;
        return;
      }
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(parsed);
    };
    if (name == "--window_seconds") {
      number(&f.window_seconds, 0.1);
    } else if (name == "--warmup_seconds") {
      number(&f.warmup_seconds, 0);
    } else if (name == "--task_duration_ms") {
      number(&f.task_duration_ms, 0);
    } else if (name == "--allocation_interval_ms") {
      number(&f.allocation_interval_ms, 1);
    } else if (name == "--client_threads") {
      number(&f.client_threads, 1);
    } else if (name == "--master_http_threads") {
      number(&f.master_http_threads, 1);
    } else if (name == "--setup_timeout_seconds") {
      number(&f.setup_timeout_seconds, 1);
    } else if (name == "--announce_window") {
      f.announce_window = true;
    } else if (name == "--agent_resources" && eq != std::string::npos) {
      f.agent_resources = value;
    } else if (name == "--task_resources" && eq != std::string::npos) {
      f.task_resources = value;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return ok;
}

// A fresh directory for the master's registry, removed at the end.
class TempWorkDir {
 public:
  TempWorkDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            absl::StrCat("steward-master-bench-", getpid(), "-", counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempWorkDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The master's /metrics/snapshot as name -> value.
absl::StatusOr<std::map<std::string, double>> MetricsSnapshot(uint16_t port) {
  common::HttpClient client("127.0.0.1", port);
  absl::StatusOr<common::HttpResponse> response = client.Get("/metrics/snapshot");
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::UnavailableError(absl::StrCat("/metrics/snapshot: HTTP ", response->status));
  }
  google::protobuf::Struct parsed;
  if (absl::Status s = common::JsonToMessage(response->body, &parsed); !s.ok()) return s;
  std::map<std::string, double> out;
  for (const auto& [name, value] : parsed.fields()) {
    if (value.has_number_value()) out[name] = value.number_value();
  }
  return out;
}

// Sends an operator GET_HEALTH every 10 ms until stopped and records each answer's latency.
class LatencyProbe {
 public:
  explicit LatencyProbe(uint16_t port)
      : thread_([this, port] {
          const double cpu_begin = ThreadCpuSeconds();
          while (!stop_.load()) {
            common::HttpClient client("127.0.0.1", port);
            const auto begin = std::chrono::steady_clock::now();
            absl::StatusOr<common::HttpResponse> response =
                client.Post("/api/v1", R"({"type":"GET_HEALTH"})");
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                    .count();
            if (response.ok() && response->status == 200) {
              latencies_ms_.push_back(ms);
            } else {
              ++errors_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          cpu_seconds_ = ThreadCpuSeconds() - cpu_begin;
        }) {}
  // Stops the probe; the figures below are valid afterwards.
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
  }
  ~LatencyProbe() { Stop(); }
  double Quantile(double q) const {
    if (latencies_ms_.empty()) return 0;
    const size_t at = std::min(latencies_ms_.size() - 1,
                               static_cast<size_t>(q * static_cast<double>(latencies_ms_.size())));
    return latencies_ms_[at];
  }
  size_t count() const { return latencies_ms_.size(); }
  int errors() const { return errors_; }
  double cpu_seconds() const { return cpu_seconds_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<double> latencies_ms_;  // probe thread until Stop, then the caller
  int errors_ = 0;
  double cpu_seconds_ = 0;
  std::thread thread_;  // last: starts after the members above exist
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void SleepSeconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Args: agents, frameworks, json.
void BM_Master_Throughput(benchmark::State& state) {
  const BenchFlags& flags = Flags();
  for (auto _ : state) {
    TempWorkDir dir;
    absl::StatusOr<std::unique_ptr<daemon::FileRegistrar>> registrar =
        daemon::FileRegistrar::Create(dir.path());
    if (!registrar.ok()) {
      state.SkipWithError(std::string(registrar.status().message()).c_str());
      break;
    }
    daemon::MasterOptions master_options;
    master_options.ip = "127.0.0.1";
    master_options.port = 0;
    master_options.work_dir = dir.path();
    master_options.allocation_interval = std::chrono::milliseconds(flags.allocation_interval_ms);
    master_options.http_threads = static_cast<int>(flags.master_http_threads);
    absl::StatusOr<std::unique_ptr<daemon::Master>> master =
        daemon::Master::Create(master_options, *std::move(registrar));
    if (!master.ok()) {
      state.SkipWithError(std::string(master.status().message()).c_str());
      break;
    }
    if (absl::Status s = (*master)->Start(); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }

    LoadOptions load;
    load.master_port = (*master)->port();
    load.agents = static_cast<int>(state.range(0));
    load.frameworks = static_cast<int>(state.range(1));
    load.json = state.range(2) != 0;
    load.agent_resources = flags.agent_resources;
    load.task_resources = flags.task_resources;
    load.task_duration = std::chrono::milliseconds(flags.task_duration_ms);
    load.threads = static_cast<int>(flags.client_threads);
    absl::StatusOr<std::unique_ptr<LoadGenerator>> generator = LoadGenerator::Create(load);
    if (!generator.ok()) {
      state.SkipWithError(std::string(generator.status().message()).c_str());
      break;
    }
    const auto setup_begin = std::chrono::steady_clock::now();
    if (absl::Status s = (*generator)
                             ->Start(std::chrono::milliseconds(
                                 static_cast<int64_t>(flags.setup_timeout_seconds * 1000)));
        !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      (*generator)->MarkStopping();
      (*master)->Stop();
      break;
    }
    const double setup_seconds = Seconds(std::chrono::steady_clock::now() - setup_begin);
    SleepSeconds(flags.warmup_seconds);

    absl::StatusOr<std::map<std::string, double>> metrics_before =
        MetricsSnapshot((*master)->port());
    const LoadCounters before = (*generator)->counters();
    const double process_cpu_before = ProcessCpuSeconds();
    const double load_cpu_before = (*generator)->CpuSeconds();
    const auto begin = std::chrono::steady_clock::now();
    if (flags.announce_window) std::cerr << "steward-master-bench: window begins" << std::endl;
    LatencyProbe probe((*master)->port());
    SleepSeconds(flags.window_seconds);
    const LoadCounters after = (*generator)->counters();
    const double elapsed = Seconds(std::chrono::steady_clock::now() - begin);
    probe.Stop();
    const double load_cpu = (*generator)->CpuSeconds() - load_cpu_before;
    // The probe's own CPU time is not the master's.
    const double master_cpu =
        ProcessCpuSeconds() - process_cpu_before - load_cpu - probe.cpu_seconds();
    if (flags.announce_window) std::cerr << "steward-master-bench: window ends" << std::endl;
    absl::StatusOr<std::map<std::string, double>> metrics = MetricsSnapshot((*master)->port());
    state.SetIterationTime(elapsed);

    (*generator)->MarkStopping();
    (*master)->Stop();  // first, so that the clients' disconnects are not processed one by one
    (*generator)->Stop();

    if (!metrics.ok() || !metrics_before.ok()) {
      state.SkipWithError(
          absl::StrCat("metrics: ", (metrics.ok() ? metrics_before : metrics).status().message())
              .c_str());
      break;
    }
    auto rate = [elapsed](int64_t from, int64_t to) {
      return static_cast<double>(to - from) / elapsed;
    };
    state.counters["launches_per_second"] = rate(before.launches, after.launches);
    state.counters["offers_per_second"] = rate(before.offers, after.offers);
    state.counters["finished_per_second"] = rate(before.finished, after.finished);
    state.counters["updates_per_second"] = rate(before.status_updates, after.status_updates);
    state.counters["update_calls_per_second"] =
        rate(before.status_update_calls, after.status_update_calls);
    state.counters["acks_per_second"] = rate(before.acknowledgements, after.acknowledgements);
    state.counters["alloc_p50_ms"] = (*metrics)["allocator/mesos/allocation_run_ms/p50"];
    state.counters["alloc_p99_ms"] = (*metrics)["allocator/mesos/allocation_run_ms/p99"];
    state.counters["allocation_runs"] = (*metrics)["allocator/mesos/allocation_runs"] -
                                        (*metrics_before)["allocator/mesos/allocation_runs"];
    state.counters["probe_p50_ms"] = probe.Quantile(0.5);
    state.counters["probe_p99_ms"] = probe.Quantile(0.99);
    state.counters["probe_max_ms"] = probe.Quantile(1.0);
    state.counters["probes"] = static_cast<double>(probe.count());
    state.counters["setup_seconds"] = setup_seconds;
    state.counters["master_cpu_cores"] = master_cpu / elapsed;
    state.counters["loadgen_cpu_cores"] = load_cpu / elapsed;
    const double launched = static_cast<double>(after.launches - before.launches);
    state.counters["master_cpu_us_per_launch"] = launched > 0 ? master_cpu * 1e6 / launched : 0;
    state.counters["errors"] = static_cast<double>(after.errors + probe.errors());
    double load_average[1] = {0};
    if (getloadavg(load_average, 1) == 1) state.counters["loadavg_1m"] = load_average[0];
    for (const std::string& message : (*generator)->errors()) {
      std::cerr << "steward-master-bench: error: " << message << "\n";
    }
  }
}

BENCHMARK(BM_Master_Throughput)
    ->ArgNames({"agents", "frameworks", "json"})
    ->Args({100, 10, 0})    // quick
    ->Args({100, 10, 1})    // quick, frameworks on JSON
    ->Args({1000, 100, 0})  // the target: 1,000 agents and 100 frameworks
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);

// Each simulated client holds two connections, and the master the other end of each.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace
}  // namespace steward::bench

int main(int argc, char** argv) {
  if (!steward::bench::ParseFlags(&argc, argv)) return 2;
  steward::bench::RaiseOpenFileLimit();
  steward::common::SetMinLogSeverity(steward::common::LogSeverity::WARNING);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
