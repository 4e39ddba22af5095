#include "traces/synthetic.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "traces/internal/portable_random.h"

namespace steward::traces {
namespace {

using internal::PortableExp;
using internal::PortableLog;
using internal::PortableRandom;
using internal::PortableSinTurns;

constexpr double kDay = 86400;
constexpr int64_t kMaxCount = 10'000'000;  // machines and frameworks: tables stay small

enum TaskClass { kSmall, kBalanced, kCpuHeavy, kMemoryHeavy, kClasses };
constexpr std::array<std::string_view, kClasses> kClassNames = {"small", "balanced", "cpu-heavy",
                                                                "memory-heavy"};

// A fraction of the machine drawn log-uniformly in [low, high].
struct Range {
  double low;
  double high;
};
enum RangeId { kSmallRange, kBalancedRange, kHeavyRange, kLightRange, kDiskRange, kRanges };
constexpr std::array<Range, kRanges> kRangeBounds = {
    {{0.002, 0.03}, {0.03, 0.25}, {0.10, 0.50}, {0.01, 0.08}, {0.001, 0.05}}};

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "synthetic workload: ", allocator::internal::Av(field), " ", allocator::internal::Av(why)));
}

bool Finite(double value) { return std::isfinite(value); }

absl::Status Validate(const SyntheticOptions& o) {
  if (o.machines < 1 || o.machines > kMaxCount) return Invalid("machines", "must be in [1, 1e7]");
  if (o.tasks < 0) return Invalid("tasks", "must not be negative");
  if (o.frameworks < 1 || o.frameworks > kMaxCount) {
    return Invalid("frameworks", "must be in [1, 1e7]");
  }
  if (!Finite(o.span_seconds) || o.span_seconds <= 0) {
    return Invalid("span_seconds", "must be positive");
  }
  const ResourceVector& shape = o.machine_shape;
  if (!Finite(shape.cpus) || !Finite(shape.mem) || !Finite(shape.disk) || !Finite(shape.gpus) ||
      shape.cpus <= 0 || shape.mem <= 0 || shape.disk < 0 || shape.gpus < 0) {
    return Invalid("machine_shape", "needs cpus > 0, mem > 0, disk >= 0 and gpus >= 0");
  }
  const std::array<double, kClasses> weights = {o.small_weight, o.balanced_weight,
                                                o.cpu_heavy_weight, o.memory_heavy_weight};
  double total = 0;
  for (double weight : weights) {
    if (!Finite(weight) || weight < 0) return Invalid("class weights", "must not be negative");
    total += weight;
  }
  if (total <= 0) return Invalid("class weights", "must not all be zero");
  if (!(o.gpu_fraction >= 0 && o.gpu_fraction <= 1)) {
    return Invalid("gpu_fraction", "must be in [0, 1]");
  }
  if (o.gpu_fraction > 0 && shape.gpus < 1) {
    return Invalid("gpu_fraction", "needs machine_shape.gpus >= 1");
  }
  if (!(o.diurnal_amplitude >= 0 && o.diurnal_amplitude <= 1)) {
    return Invalid("diurnal_amplitude", "must be in [0, 1]");
  }
  if (!(o.diurnal_peak_hour >= 0 && o.diurnal_peak_hour < 24)) {
    return Invalid("diurnal_peak_hour", "must be in [0, 24)");
  }
  if (!Finite(o.median_duration_seconds) || o.median_duration_seconds <= 0) {
    return Invalid("median_duration_seconds", "must be positive");
  }
  if (!Finite(o.duration_sigma) || o.duration_sigma < 0) {
    return Invalid("duration_sigma", "must not be negative");
  }
  if (!(o.tail_fraction >= 0 && o.tail_fraction <= 1)) {
    return Invalid("tail_fraction", "must be in [0, 1]");
  }
  if (!Finite(o.tail_min_seconds) || o.tail_min_seconds <= 0) {
    return Invalid("tail_min_seconds", "must be positive");
  }
  if (!Finite(o.tail_alpha) || o.tail_alpha <= 0) return Invalid("tail_alpha", "must be positive");
  if (!Finite(o.max_duration_seconds) || o.max_duration_seconds < 1) {
    return Invalid("max_duration_seconds", "must be at least 1");
  }
  if (!Finite(o.zipf_exponent) || o.zipf_exponent < 0) {
    return Invalid("zipf_exponent", "must not be negative");
  }
  return absl::OkStatus();
}

void AppendNumber(int64_t value, std::string* out) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, result.ptr);
}

double RoundMillis(double value) { return std::floor(value * 1000 + 0.5) / 1000; }

class SyntheticReader : public TraceReader {
 public:
  explicit SyntheticReader(const SyntheticOptions& options);
  // Fails when the arrival rate cannot be set (a span the sinusoid leaves empty).
  absl::Status Init();

  const std::vector<MachineEvent>& machines() const override { return machines_; }
  const ReadStats& stats() const override { return stats_; }
  absl::StatusOr<bool> Next(TaskRecord* task) override;

 private:
  // The time-of-day factor 1 + a sin(2 pi (t - peak) / day + pi / 2), in [1 - a, 1 + a].
  double RateFactor(double time) const;
  double NextArrival();
  double Fraction(RangeId range);
  ResourceVector Demand(TaskClass task_class);
  double Duration();
  int64_t Framework();

  SyntheticOptions options_;
  PortableRandom random_;
  std::vector<MachineEvent> machines_;
  ReadStats stats_;
  std::array<double, kClasses> class_cdf_{};
  std::vector<double> framework_cdf_;
  std::array<double, kRanges> log_ratio_{};  // log(high / low) of each range
  double phase_turns_ = 0;  // turns added to t / day so that the sine peaks at the peak hour
  double peak_rate_ = 0;    // thinning envelope: mean rate * (1 + amplitude)
  double time_ = 0;
};

SyntheticReader::SyntheticReader(const SyntheticOptions& options)
    : options_(options), random_(options.seed) {
  const int width =
      static_cast<int>(std::to_string(std::max<int64_t>(options.machines - 1, 0)).size());
  machines_.reserve(static_cast<size_t>(options.machines));
  for (int64_t i = 0; i < options.machines; ++i) {
    std::string digits = std::to_string(i);
    std::string name = "m-" + std::string(static_cast<size_t>(width) - digits.size(), '0') + digits;
    machines_.push_back({0, MachineEvent::Type::kAdd, std::move(name), options.machine_shape, {}});
  }
  stats_.machine_events = options.machines;

  const std::array<double, kClasses> weights = {options.small_weight, options.balanced_weight,
                                                options.cpu_heavy_weight,
                                                options.memory_heavy_weight};
  double total = 0;
  for (double weight : weights) total += weight;
  double sum = 0;
  for (int c = 0; c < kClasses; ++c) {
    sum += weights[c];
    class_cdf_[c] = sum / total;
  }
  class_cdf_[kClasses - 1] = 1;

  for (int r = 0; r < kRanges; ++r) {
    log_ratio_[r] = PortableLog(kRangeBounds[r].high / kRangeBounds[r].low);
  }

  framework_cdf_.resize(static_cast<size_t>(options.frameworks));
  sum = 0;
  for (int64_t k = 0; k < options.frameworks; ++k) {
    sum += PortableExp(-options.zipf_exponent * PortableLog(static_cast<double>(k + 1)));
    framework_cdf_[static_cast<size_t>(k)] = sum;
  }
  for (double& value : framework_cdf_) value /= sum;
  framework_cdf_.back() = 1;
}

absl::Status SyntheticReader::Init() {
  // rate(t) = r (1 + a sin(2 pi (t / day + phase))), peaking at the peak hour when
  // phase = 1/4 - peak / 24. r is set so that the integral over [0, span] is `tasks`:
  // integral = r (span + a day / (2 pi) (cos(2 pi phase) - cos(2 pi (span / day + phase)))).
  const double a = options_.diurnal_amplitude;
  phase_turns_ = 0.25 - options_.diurnal_peak_hour / 24;
  const double span = options_.span_seconds;
  const double cos_start = PortableSinTurns(phase_turns_ + 0.25);
  const double cos_end = PortableSinTurns(span / kDay + phase_turns_ + 0.25);
  const double exposure = span + a * kDay / (2 * std::numbers::pi) * (cos_start - cos_end);
  if (options_.tasks > 0 && !(exposure > 0)) {
    return Invalid("span_seconds", "falls where the diurnal rate is zero (lower the amplitude)");
  }
  const double mean_rate = options_.tasks > 0 ? static_cast<double>(options_.tasks) / exposure : 0;
  peak_rate_ = mean_rate * (1 + a);
  return absl::OkStatus();
}

double SyntheticReader::RateFactor(double time) const {
  return 1 + options_.diurnal_amplitude * PortableSinTurns(time / kDay + phase_turns_);
}

double SyntheticReader::NextArrival() {
  // Thinning: candidates at the peak rate, each kept with probability rate(t) / peak rate.
  const double envelope = 1 + options_.diurnal_amplitude;
  while (true) {
    time_ += random_.Exponential(peak_rate_);
    if (random_.Uniform() * envelope < RateFactor(time_)) return time_;
  }
}

double SyntheticReader::Fraction(RangeId range) {
  return kRangeBounds[range].low * PortableExp(random_.Uniform() * log_ratio_[range]);
}

ResourceVector SyntheticReader::Demand(TaskClass task_class) {
  double cpu = 0, mem = 0;
  switch (task_class) {
    case kSmall:
      cpu = Fraction(kSmallRange);
      mem = Fraction(kSmallRange);
      break;
    case kBalanced:
      cpu = Fraction(kBalancedRange);
      mem = cpu * (0.75 + 0.58 * random_.Uniform());
      break;
    case kCpuHeavy:
      cpu = Fraction(kHeavyRange);
      mem = Fraction(kLightRange);
      break;
    case kMemoryHeavy:
      mem = Fraction(kHeavyRange);
      cpu = Fraction(kLightRange);
      break;
    case kClasses:
      break;
  }
  const ResourceVector& shape = options_.machine_shape;
  ResourceVector demand;
  // Whole milli-cores and whole MB, at least one of each, never above the machine.
  demand.cpus = std::min(std::max(std::floor(cpu * shape.cpus * 1000) / 1000, 0.001), shape.cpus);
  demand.mem = std::min(std::max(std::floor(mem * shape.mem), 1.0), shape.mem);
  if (shape.disk > 0) {
    demand.disk =
        std::min(std::max(std::floor(Fraction(kDiskRange) * shape.disk), 1.0), shape.disk);
  }
  if (options_.gpu_fraction > 0 && random_.Uniform() < options_.gpu_fraction) demand.gpus = 1;
  return demand;
}

double SyntheticReader::Duration() {
  double duration =
      random_.Uniform() < options_.tail_fraction
          ? random_.Pareto(options_.tail_min_seconds, options_.tail_alpha)
          : random_.LogNormal(options_.median_duration_seconds, options_.duration_sigma);
  duration = std::min(std::max(duration, 1.0), options_.max_duration_seconds);
  return std::max(RoundMillis(duration), 1.0);
}

int64_t SyntheticReader::Framework() {
  const double u = random_.Uniform();
  const auto it = std::upper_bound(framework_cdf_.begin(), framework_cdf_.end(), u);
  return std::min<int64_t>(it - framework_cdf_.begin(), options_.frameworks - 1);
}

absl::StatusOr<bool> SyntheticReader::Next(TaskRecord* task) {
  if (stats_.tasks >= options_.tasks) return false;
  const double arrival = NextArrival();
  const double u = random_.Uniform();
  int task_class = 0;
  while (task_class < kClasses - 1 && u >= class_cdf_[task_class]) ++task_class;
  task->submit_time = RoundMillis(arrival);
  task->demand = Demand(static_cast<TaskClass>(task_class));
  task->duration = Duration();
  task->user.assign("user-");
  AppendNumber(Framework(), &task->user);
  task->job.clear();
  task->app.assign(kClassNames[task_class]);
  task->qos.clear();
  task->queue.clear();
  task->group.clear();
  task->priority = 0;
  task->trace_id.clear();
  AppendNumber(stats_.tasks, &task->trace_id);
  ++stats_.tasks;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TraceReader>> MakeSyntheticWorkload(
    const SyntheticOptions& options) {
  absl::Status valid = Validate(options);
  if (!valid.ok()) return valid;
  auto reader = std::make_unique<SyntheticReader>(options);
  absl::Status ready = reader->Init();
  if (!ready.ok()) return ready;
  return reader;
}

}  // namespace steward::traces
