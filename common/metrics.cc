#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace steward::common {
namespace {

struct Percentile {
  const char* suffix;
  const char* quantile;
  double fraction;
};
constexpr Percentile kPercentiles[] = {{"p50", "0.5", 0.5},      {"p90", "0.9", 0.9},
                                       {"p95", "0.95", 0.95},    {"p99", "0.99", 0.99},
                                       {"p999", "0.999", 0.999}, {"p9999", "0.9999", 0.9999}};

// Linear interpolation between the closest ranks of the sorted samples.
double PercentileOf(const std::vector<double>& sorted, double fraction) {
  if (sorted.size() == 1) return sorted[0];
  const double rank = fraction * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<size_t>(std::floor(rank));
  const size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - static_cast<double>(low));
}

std::string PrometheusName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "null";
  if (std::isinf(value)) return value > 0 ? "1e308" : "-1e308";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

void Timer::Record(double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0 || value < min_) min_ = value;
  if (count_ == 0 || value > max_) max_ = value;
  last_ = value;
  sum_ += value;
  ++count_;
  recent_.push_back(value);
  if (recent_.size() > window_) recent_.pop_front();
}

void Timer::Snapshot(const std::string& name, std::map<std::string, double>* out) const {
  std::vector<double> sorted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    (*out)[name + "/count"] = static_cast<double>(count_);
    if (count_ == 0) return;
    (*out)[name] = last_;
    (*out)[name + "/min"] = min_;
    (*out)[name + "/max"] = max_;
    sorted.assign(recent_.begin(), recent_.end());
  }
  std::sort(sorted.begin(), sorted.end());
  for (const Percentile& p : kPercentiles) {
    (*out)[absl::StrCat(name, "/", p.suffix)] = PercentileOf(sorted, p.fraction);
  }
}

double Timer::sum() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sum_;
}

MetricsRegistry::Entry* MetricsRegistry::FindOrAdd(const std::string& name, Kind kind,
                                                   const std::string& help) {
  auto [it, inserted] = entries_.try_emplace(name);
  Entry& entry = it->second;
  if (inserted) {
    entry.kind = kind;
    entry.help = help;
  } else if (entry.kind != kind) {
    std::fprintf(stderr, "MetricsRegistry: metric '%s' registered with two kinds\n", name.c_str());
    std::abort();
  }
  return &entry;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* entry = FindOrAdd(name, Kind::kCounter, help);
  if (!entry->counter) entry->counter = std::make_unique<Counter>();
  return entry->counter.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* entry = FindOrAdd(name, Kind::kGauge, help);
  if (!entry->gauge) entry->gauge = std::make_unique<Gauge>();
  return entry->gauge.get();
}

Timer* MetricsRegistry::GetTimer(const std::string& name, const std::string& help, size_t window) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* entry = FindOrAdd(name, Kind::kTimer, help);
  if (!entry->timer) entry->timer = std::make_unique<Timer>(std::max<size_t>(window, 1));
  return entry->timer.get();
}

void MetricsRegistry::SetGaugeFunction(const std::string& name, std::function<double()> read,
                                       const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  FindOrAdd(name, Kind::kGaugeFunction, help)->function = std::move(read);
}

bool MetricsRegistry::Remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.erase(name) > 0;
}

std::map<std::string, double> MetricsRegistry::Snapshot() const {
  std::map<std::string, double> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, entry] : entries_) {
    switch (entry.kind) {
      case Kind::kCounter:
        out[name] = static_cast<double>(entry.counter->value());
        break;
      case Kind::kGauge:
        out[name] = entry.gauge->value();
        break;
      case Kind::kGaugeFunction:
        out[name] = entry.function();
        break;
      case Kind::kTimer:
        entry.timer->Snapshot(name, &out);
        break;
    }
  }
  return out;
}

std::string MetricsRegistry::SnapshotJson() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : Snapshot()) {
    absl::StrAppend(&out, first ? "" : ",", "\"", name, "\":", FormatMetricValue(value));
    first = false;
  }
  out += "}";
  return out;
}

std::string MetricsRegistry::Prometheus() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, entry] : entries_) {
    const std::string prom = PrometheusName(name);
    const std::string help = EscapeHelp(entry.help.empty() ? name : entry.help);
    absl::StrAppend(&out, "# HELP ", prom, " ", help, "\n");
    switch (entry.kind) {
      case Kind::kCounter:
        absl::StrAppend(&out, "# TYPE ", prom, " counter\n", prom, " ", entry.counter->value(),
                        "\n");
        break;
      case Kind::kGauge:
        absl::StrAppend(&out, "# TYPE ", prom, " gauge\n", prom, " ",
                        FormatMetricValue(entry.gauge->value()), "\n");
        break;
      case Kind::kGaugeFunction:
        absl::StrAppend(&out, "# TYPE ", prom, " gauge\n", prom, " ",
                        FormatMetricValue(entry.function()), "\n");
        break;
      case Kind::kTimer: {
        std::map<std::string, double> values;
        entry.timer->Snapshot(name, &values);
        absl::StrAppend(&out, "# TYPE ", prom, " summary\n");
        for (const Percentile& p : kPercentiles) {
          auto it = values.find(absl::StrCat(name, "/", p.suffix));
          if (it == values.end()) continue;
          absl::StrAppend(&out, prom, "{quantile=\"", p.quantile, "\"} ",
                          FormatMetricValue(it->second), "\n");
        }
        absl::StrAppend(&out, prom, "_sum ", FormatMetricValue(entry.timer->sum()), "\n");
        absl::StrAppend(&out, prom, "_count ", FormatMetricValue(values[name + "/count"]), "\n");
        break;
      }
    }
  }
  return out;
}

}  // namespace steward::common
