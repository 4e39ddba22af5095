// The synthetic workload generator: determinism, counts, bounds, statistical shape (with
// generous bounds) and option checking; and the portable PRNG and functions beneath it.
#include "traces/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/traces/reader_test_util.h"
#include "traces/internal/portable_random.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using ::testing::HasSubstr;
using testing::ReadAll;

std::unique_ptr<TraceReader> Make(const SyntheticOptions& options) {
  return testing::ExpectOpened(MakeSyntheticWorkload(options));
}

std::vector<TaskRecord> Generate(const SyntheticOptions& options) {
  std::unique_ptr<TraceReader> reader = Make(options);
  if (reader == nullptr) return {};
  return ReadAll(*reader);
}

bool SameTask(const TaskRecord& a, const TaskRecord& b) {
  return a.submit_time == b.submit_time && a.duration == b.duration && a.demand == b.demand &&
         a.user == b.user && a.app == b.app && a.trace_id == b.trace_id;
}

// FNV-1a over the bits of every field, to pin the stream.
uint64_t Fingerprint(const std::vector<TaskRecord>& tasks) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&](const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  };
  for (const TaskRecord& task : tasks) {
    for (double value : {task.submit_time, task.duration, task.demand.cpus, task.demand.mem,
                         task.demand.disk, task.demand.gpus}) {
      uint64_t bits = 0;
      std::memcpy(&bits, &value, sizeof(bits));
      mix(&bits, sizeof(bits));
    }
    mix(task.user.data(), task.user.size());
    mix(task.app.data(), task.app.size());
  }
  return hash;
}

TEST(PortableRandom, MatchesTheReferenceXoshiro256StarStar) {
  // From an independent implementation of splitmix64 seeding + xoshiro256**.
  internal::PortableRandom one(1);
  EXPECT_EQ(one.Next(), 0xb3f2af6d0fc710c5ULL);
  EXPECT_EQ(one.Next(), 0x853b559647364ceaULL);
  EXPECT_EQ(one.Next(), 0x92f89756082a4514ULL);
  internal::PortableRandom zero(0);
  EXPECT_EQ(zero.Next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(zero.Next(), 0xbf6e1f784956452aULL);
}

TEST(PortableRandom, FunctionsAgreeWithLibm) {
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    EXPECT_NEAR(internal::PortableLog(x), std::log(x),
                2e-15 * std::max(1.0, std::fabs(std::log(x))))
        << x;
  }
  EXPECT_EQ(internal::PortableLog(1), 0);
  for (double x = -740; x < 709; x += 0.731) {
    EXPECT_NEAR(internal::PortableExp(x), std::exp(x), 4e-16 * std::exp(x) + 1e-320) << x;
  }
  EXPECT_EQ(internal::PortableExp(0), 1);
  EXPECT_EQ(internal::PortableExp(-1000), 0);
  for (double turns = -3; turns < 3; turns += 0.001237) {
    // The reference reduces first too: 2 pi * 2.97 would carry its own rounding error.
    const double reference = std::sin(2 * std::numbers::pi * std::fmod(turns, 1.0));
    EXPECT_NEAR(internal::PortableSinTurns(turns), reference, 1e-15) << turns;
  }
  EXPECT_EQ(internal::PortableSinTurns(0.25), 1);
  EXPECT_EQ(internal::PortableSinTurns(0.5), 0);
}

TEST(PortableRandom, DistributionsHaveTheirMoments) {
  internal::PortableRandom random(7);
  const int n = 200000;
  double sum_u = 0, sum_e = 0, sum_n = 0, sum_n2 = 0, pareto_below_2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = random.Uniform();
    ASSERT_TRUE(u >= 0 && u < 1);
    sum_u += u;
    sum_e += random.Exponential(2);
    const double z = random.Normal();
    sum_n += z;
    sum_n2 += z * z;
    if (random.Pareto(1, 1.5) < 2) ++pareto_below_2;
  }
  EXPECT_NEAR(sum_u / n, 0.5, 0.01);
  EXPECT_NEAR(sum_e / n, 0.5, 0.01);
  EXPECT_NEAR(sum_n / n, 0, 0.01);
  EXPECT_NEAR(sum_n2 / n, 1, 0.02);
  EXPECT_NEAR(pareto_below_2 / n, 1 - std::pow(2, -1.5), 0.01);  // CDF 1 - (x_min/x)^alpha
}

TEST(Synthetic, SameSeedSameStreamOtherSeedOtherStream) {
  SyntheticOptions options;
  options.tasks = 20000;
  const std::vector<TaskRecord> a = Generate(options);
  const std::vector<TaskRecord> b = Generate(options);
  ASSERT_EQ(a.size(), 20000u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(SameTask(a[i], b[i])) << i;

  options.seed = 2;
  const std::vector<TaskRecord> c = Generate(options);
  ASSERT_EQ(c.size(), a.size());
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i].duration != c[i].duration;
  EXPECT_GT(differ, 19000);
}

TEST(Synthetic, StreamIsPinned) {
  // The stream is a function of the options alone on every platform; this value changes only
  // when the generator does (then update it and say so in the commit).
  SyntheticOptions options;
  options.tasks = 5000;
  options.machine_shape.disk = 1024 * 1024;
  options.machine_shape.gpus = 8;
  options.gpu_fraction = 0.1;
  const std::vector<TaskRecord> tasks = Generate(options);
  ASSERT_EQ(tasks.size(), 5000u);
  EXPECT_EQ(Fingerprint(tasks), 0xf79eb04363735f67ULL);
}

TEST(Synthetic, CountsNamesAndBounds) {
  SyntheticOptions options;
  options.machines = 12;
  options.tasks = 30000;
  options.frameworks = 5;
  options.machine_shape = {16, 64 * 1024, 500 * 1024, 0};
  std::unique_ptr<TraceReader> reader = Make(options);
  ASSERT_NE(reader, nullptr);
  const std::vector<MachineEvent>& machines = reader->machines();
  ASSERT_EQ(machines.size(), 12u);
  EXPECT_EQ(machines[0].name, "m-00");
  EXPECT_EQ(machines[11].name, "m-11");
  for (const MachineEvent& machine : machines) {
    EXPECT_EQ(machine.time, 0);
    EXPECT_EQ(machine.type, MachineEvent::Type::kAdd);
    EXPECT_EQ(machine.capacity, options.machine_shape);
  }
  TaskRecord task;
  std::map<std::string, int> classes;
  std::map<std::string, int> users;
  double previous = 0;
  int64_t count = 0;
  while (*reader->Next(&task)) {
    EXPECT_EQ(task.trace_id, std::to_string(count));
    ++count;
    ASSERT_GE(task.submit_time, previous);
    previous = task.submit_time;
    ASSERT_GT(task.demand.cpus, 0);
    ASSERT_LE(task.demand.cpus, 16);
    ASSERT_GE(task.demand.mem, 1);
    ASSERT_LE(task.demand.mem, 64 * 1024);
    ASSERT_GE(task.demand.disk, 1);
    ASSERT_LE(task.demand.disk, 500 * 1024);
    ASSERT_EQ(task.demand.gpus, 0);
    ASSERT_GE(task.duration, 1);
    ASSERT_LE(task.duration, options.max_duration_seconds);
    ++classes[task.app];
    ++users[task.user];
  }
  EXPECT_FALSE(*reader->Next(&task));  // stays at the end
  EXPECT_EQ(count, 30000);
  EXPECT_EQ(reader->stats().tasks, 30000);
  EXPECT_EQ(reader->stats().machine_events, 12);
  // Class mix 0.4 / 0.3 / 0.15 / 0.15.
  EXPECT_NEAR(classes["small"] / 30000.0, 0.4, 0.02);
  EXPECT_NEAR(classes["balanced"] / 30000.0, 0.3, 0.02);
  EXPECT_NEAR(classes["cpu-heavy"] / 30000.0, 0.15, 0.02);
  EXPECT_NEAR(classes["memory-heavy"] / 30000.0, 0.15, 0.02);
  // Zipf with exponent 1 over 5 users: P(k) = (1/(k+1)) / H_5, H_5 = 137/60.
  ASSERT_EQ(users.size(), 5u);
  EXPECT_NEAR(users["user-0"] / 30000.0, 60.0 / 137, 0.02);
  EXPECT_NEAR(users["user-4"] / 30000.0, 12.0 / 137, 0.02);
  EXPECT_GT(users["user-0"], users["user-1"]);
}

TEST(Synthetic, ClassShapesDiffer) {
  SyntheticOptions options;
  options.tasks = 20000;
  std::map<std::string, std::pair<double, double>> share;  // class -> (cpu, mem) fraction sums
  std::map<std::string, int> count;
  for (const TaskRecord& task : Generate(options)) {
    share[task.app].first += task.demand.cpus / options.machine_shape.cpus;
    share[task.app].second += task.demand.mem / options.machine_shape.mem;
    ++count[task.app];
  }
  auto mean = [&](const std::string& app) {
    return std::make_pair(share[app].first / count[app], share[app].second / count[app]);
  };
  EXPECT_GT(mean("cpu-heavy").first, 3 * mean("cpu-heavy").second);
  EXPECT_GT(mean("memory-heavy").second, 3 * mean("memory-heavy").first);
  EXPECT_LT(mean("small").first, 0.03);
  EXPECT_NEAR(mean("balanced").first / mean("balanced").second, 1, 0.2);
}

TEST(Synthetic, DurationsAreHeavyTailed) {
  SyntheticOptions options;
  options.tasks = 100000;
  std::vector<double> durations;
  for (const TaskRecord& task : Generate(options)) durations.push_back(task.duration);
  std::sort(durations.begin(), durations.end());
  const double median = durations[durations.size() / 2];
  const double p99 = durations[durations.size() * 99 / 100];
  double mean = 0;
  for (double d : durations) mean += d;
  mean /= static_cast<double>(durations.size());
  // Body median 300 s; the 5% Pareto tail from 1 h drags the mean far above the median.
  EXPECT_NEAR(median, 330, 60);
  EXPECT_GT(mean, 2.5 * median);
  EXPECT_GT(p99, 20 * median);
  EXPECT_GT(durations.back(), 86400);
}

TEST(Synthetic, ArrivalsFollowTheDiurnalCurve) {
  SyntheticOptions options;
  options.tasks = 240000;
  options.span_seconds = 10 * 86400;
  options.diurnal_amplitude = 0.6;
  options.diurnal_peak_hour = 14;
  std::vector<int> by_hour(24);
  double last = 0;
  for (const TaskRecord& task : Generate(options)) {
    ++by_hour[static_cast<int>(std::fmod(task.submit_time, 86400) / 3600)];
    last = task.submit_time;
  }
  EXPECT_NEAR(last, options.span_seconds, 0.02 * options.span_seconds);
  for (int hour = 0; hour < 24; ++hour) {
    // Mean rate over the hour of 1 + a cos(2 pi (t - 14 h) / 24 h).
    const double w = 2 * std::numbers::pi / 24;
    const double integral =
        1 + 0.6 * (std::sin(w * (hour + 1 - 14)) - std::sin(w * (hour - 14))) / w;
    const double expected = 240000.0 / 24 * integral;
    EXPECT_NEAR(by_hour[hour], expected, 0.06 * expected) << "hour " << hour;
  }
  EXPECT_GT(by_hour[14], 3 * by_hour[2]);  // (1 + 0.6) / (1 - 0.6) = 4 at the extremes

  options.diurnal_amplitude = 0;
  std::fill(by_hour.begin(), by_hour.end(), 0);
  for (const TaskRecord& task : Generate(options)) {
    ++by_hour[static_cast<int>(std::fmod(task.submit_time, 86400) / 3600)];
  }
  for (int hour = 0; hour < 24; ++hour) EXPECT_NEAR(by_hour[hour], 10000, 600) << hour;
}

TEST(Synthetic, GpuTasksAndZeroTasks) {
  SyntheticOptions options;
  options.tasks = 10000;
  options.machine_shape.gpus = 4;
  options.gpu_fraction = 0.25;
  int gpu = 0;
  for (const TaskRecord& task : Generate(options)) gpu += task.demand.gpus == 1;
  EXPECT_NEAR(gpu, 2500, 200);
  options.tasks = 0;
  EXPECT_TRUE(Generate(options).empty());
}

TEST(Synthetic, NonsensicalOptionsAreRejected) {
  const std::vector<std::pair<std::string, std::function<void(SyntheticOptions&)>>> cases = {
      {"machines", [](SyntheticOptions& o) { o.machines = 0; }},
      {"tasks", [](SyntheticOptions& o) { o.tasks = -1; }},
      {"frameworks", [](SyntheticOptions& o) { o.frameworks = 0; }},
      {"span_seconds", [](SyntheticOptions& o) { o.span_seconds = 0; }},
      {"span_seconds", [](SyntheticOptions& o) { o.span_seconds = NAN; }},
      {"machine_shape", [](SyntheticOptions& o) { o.machine_shape.cpus = 0; }},
      {"machine_shape", [](SyntheticOptions& o) { o.machine_shape.mem = -1; }},
      {"machine_shape", [](SyntheticOptions& o) { o.machine_shape.disk = INFINITY; }},
      {"class weights", [](SyntheticOptions& o) { o.cpu_heavy_weight = -0.1; }},
      {"class weights",
       [](SyntheticOptions& o) {
         o.small_weight = o.balanced_weight = o.cpu_heavy_weight = o.memory_heavy_weight = 0;
       }},
      {"gpu_fraction", [](SyntheticOptions& o) { o.gpu_fraction = 0.5; }},  // no GPUs
      {"gpu_fraction", [](SyntheticOptions& o) { o.gpu_fraction = 2; }},
      {"diurnal_amplitude", [](SyntheticOptions& o) { o.diurnal_amplitude = 1.5; }},
      {"diurnal_peak_hour", [](SyntheticOptions& o) { o.diurnal_peak_hour = 24; }},
      {"median_duration_seconds", [](SyntheticOptions& o) { o.median_duration_seconds = 0; }},
      {"duration_sigma", [](SyntheticOptions& o) { o.duration_sigma = -1; }},
      {"tail_fraction", [](SyntheticOptions& o) { o.tail_fraction = -0.1; }},
      {"tail_min_seconds", [](SyntheticOptions& o) { o.tail_min_seconds = 0; }},
      {"tail_alpha", [](SyntheticOptions& o) { o.tail_alpha = 0; }},
      {"max_duration_seconds", [](SyntheticOptions& o) { o.max_duration_seconds = 0.5; }},
      {"zipf_exponent", [](SyntheticOptions& o) { o.zipf_exponent = -1; }},
  };
  for (const auto& [field, mutate] : cases) {
    SyntheticOptions options;
    mutate(options);
    absl::StatusOr<std::unique_ptr<TraceReader>> reader = MakeSyntheticWorkload(options);
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(reader.status().message(), HasSubstr(field));
  }
  EXPECT_TRUE(MakeSyntheticWorkload(SyntheticOptions{}).ok());
}

}  // namespace
}  // namespace steward::traces
