// Metrics for the daemons: counters, gauges and timers under Mesos's metric names
// ("master/tasks_running", "allocator/mesos/allocation_run_ms"), rendered as the flat JSON of
// Mesos's /metrics/snapshot and as Prometheus text.
//
// A timer keeps its count, and its last, minimum and maximum values over all time, plus a
// window of the most recent samples from which percentiles are computed, as Mesos's timers
// do. A timer named T appears in the snapshot as T (last value), T/count, T/min, T/max, T/p50,
// T/p90, T/p95, T/p99, T/p999 and T/p9999 (absent until the first sample).
//
// Thread-safe: metrics may be added and updated from any thread. Counter and gauge updates are
// lock-free; timers take a short lock per sample.
#ifndef STEWARD_COMMON_METRICS_H_
#define STEWARD_COMMON_METRICS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace steward::common {

class Counter {
 public:
  void Increment(int64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Timer {
 public:
  explicit Timer(size_t window) : window_(window) {}
  // Records one sample, in the unit the timer's name states (milliseconds for "_ms").
  void Record(double value);
  // Adds this timer's entries (see the file comment) to `out` under `name`.
  void Snapshot(const std::string& name, std::map<std::string, double>* out) const;
  // Sum of every sample ever recorded (Prometheus summaries report it).
  double sum() const;

 private:
  mutable std::mutex mu_;
  size_t window_;
  std::deque<double> recent_;
  int64_t count_ = 0;
  double last_ = 0;
  double min_ = 0;
  double max_ = 0;
  double sum_ = 0;
};

class MetricsRegistry {
 public:
  static constexpr size_t kDefaultTimerWindow = 1000;

  // Each returns the metric registered under `name`, creating it on first use; pointers stay
  // valid for the registry's lifetime (unless the metric is Remove()d). One name holds one kind of
  // metric: asking for a name already used by another kind aborts (a programming error).
  Counter* GetCounter(const std::string& name, const std::string& help = "");
  Gauge* GetGauge(const std::string& name, const std::string& help = "");
  Timer* GetTimer(const std::string& name, const std::string& help = "",
                  size_t window = kDefaultTimerWindow);
  // A gauge whose value is read from `read` at snapshot time (called without the registry's
  // lock held by other threads' updates, but under the registry lock: it must not call back
  // into the registry). Replaces an earlier function of the same name.
  void SetGaugeFunction(const std::string& name, std::function<double()> read,
                        const std::string& help = "");

  // Removes the metric named `name` (a timer with all the entries it renders); false if there
  // is none. Pointers to it become invalid, so this is for metrics that are looked up by name
  // at each update (the master's per-role gauges, removed when the role goes away).
  bool Remove(const std::string& name);

  // Every metric's current value(s) by name.
  std::map<std::string, double> Snapshot() const;
  // {"name":value,...}, keys sorted; integers print without a fraction.
  std::string SnapshotJson() const;
  // Prometheus text exposition format 0.0.4: names with every character outside
  // [a-zA-Z0-9_] replaced by '_' ("master/tasks_running" -> "master_tasks_running"), a HELP
  // and TYPE line per metric; timers as summaries with quantile labels.
  std::string Prometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kGaugeFunction, kTimer };
  struct Entry {
    Kind kind;
    std::string help;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> function;
    std::unique_ptr<Timer> timer;
  };
  Entry* FindOrAdd(const std::string& name, Kind kind, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// Formats a metric value as Mesos does in JSON: integers without a fraction, others with up
// to 17 significant digits.
std::string FormatMetricValue(double value);

}  // namespace steward::common

#endif  // STEWARD_COMMON_METRICS_H_
