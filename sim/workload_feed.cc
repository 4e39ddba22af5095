#include "sim/workload_feed.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace steward::sim {

namespace {
constexpr const char* kModelNames[4] = {"cpus", "mem", "disk", "gpus"};
}  // namespace

absl::StatusOr<std::array<int64_t, 4>> ToMilli(const traces::ResourceVector& vector) {
  const double units[4] = {vector.cpus, vector.mem, vector.disk, vector.gpus};
  std::array<int64_t, 4> milli{};
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<int64_t> amount = allocator::UnitsToMilli(units[i]);
    if (!amount.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kModelNames[i], ": ", amount.status().message()));
    }
    milli[i] = *amount;
  }
  return milli;
}

absl::StatusOr<allocator::Resources> ToResources(const traces::ResourceVector& vector) {
  absl::StatusOr<std::array<int64_t, 4>> milli = ToMilli(vector);
  if (!milli.ok()) return milli.status();
  std::vector<allocator::Resource> entries;
  for (int i = 0; i < 4; ++i) {
    if ((*milli)[i] == 0) continue;
    allocator::Resource entry;
    entry.name = kModelNames[i];
    entry.kind = allocator::ResourceKind::kScalar;
    entry.scalar = (*milli)[i];
    entries.push_back(std::move(entry));
  }
  return allocator::Resources::FromEntries(std::move(entries));
}

WorkloadFeed::WorkloadFeed(std::unique_ptr<traces::TraceReader> reader, const TraceConfig& config)
    : reader_(std::move(reader)), config_(config) {}

absl::StatusOr<std::vector<AgentConfig>> WorkloadFeed::Machines() const {
  // Machine events in time order become agent lifetimes: an add opens one, a remove of the
  // same name closes it (a machine that comes back is a new agent row with the same name).
  std::vector<AgentConfig> agents;
  std::map<std::string, size_t> open;
  for (const traces::MachineEvent& event : reader_->machines()) {
    const double time = std::max(0.0, event.time + config_.time_offset);
    const auto it = open.find(event.name);
    if (event.type == traces::MachineEvent::Type::kAdd) {
      if (it != open.end()) agents[it->second].removed = time;  // re-added: a new lifetime
      absl::StatusOr<allocator::Resources> total = ToResources(event.capacity);
      if (!total.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(config_.where, ": machine ", event.name, ": ", total.status().message()));
      }
      if (total->empty()) continue;  // a machine with nothing to offer is not an agent
      AgentConfig agent;
      agent.name = event.name;
      agent.total = *std::move(total);
      agent.attributes = event.attributes;
      agent.added = time;
      open[event.name] = agents.size();
      agents.push_back(std::move(agent));
    } else if (it != open.end()) {
      agents[it->second].removed = time;
      open.erase(it);
    }
  }
  return agents;
}

absl::Status WorkloadFeed::Fill() {
  while (queued_ < kReorderWindow) {
    if (pending_left_ == 0) {
      if (exhausted_) break;
      absl::StatusOr<bool> more = reader_->NextRun(&run_);
      if (!more.ok()) return more.status();
      if (!*more) {
        exhausted_ = true;
        break;
      }
      const traces::TaskRecord& record = run_.first;
      pending_.submit = std::max(0.0, record.submit_time + config_.time_offset);
      pending_.duration = record.duration;
      absl::StatusOr<std::array<int64_t, 4>> demand = ToMilli(record.demand);
      if (!demand.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(config_.where, ": task ", record.trace_id,
                                                       ": ", demand.status().message()));
      }
      pending_.demand = *demand;
      pending_.key = record.Key(config_.framework_by);
      pending_left_ = static_cast<uint64_t>(run_.count);
    }
    // Up to the window's edge; the rest waits for the next Fill.
    const uint64_t take = std::min<uint64_t>(pending_left_, kReorderWindow - queued_);
    pending_left_ -= take;
    heap_.push(
        Entry{pending_.submit, order_, take, pending_left_ == 0 ? std::move(pending_) : pending_});
    order_ += take;
    queued_ += take;
  }
  return absl::OkStatus();
}

absl::StatusOr<double> WorkloadFeed::Peek() {
  // Refill only when the window runs low, so the heap holds a full window of lookahead.
  if (queued_ < kReorderWindow / 2 && !exhausted_) {
    if (absl::Status s = Fill(); !s.ok()) return s;
  }
  if (heap_.empty()) return kNever;
  return heap_.top().submit;
}

FeedTask WorkloadFeed::Pop() {
  // The top entry's next task. Taking one task from a run leaves it the smallest entry: no
  // other entry has an order inside the run's range.
  Entry& top = const_cast<Entry&>(heap_.top());
  --queued_;
  if (top.count > 1) {
    --top.count;
    ++top.order;
    return top.task;
  }
  FeedTask task = std::move(top.task);
  heap_.pop();
  return task;
}

std::string WorkloadFeed::Report() const {
  const traces::ReadStats& stats = reader_->stats();
  std::string text =
      absl::StrCat(config_.format, ": ", stats.lines, " lines, ", stats.tasks, " tasks, ",
                   stats.machine_events, " machine events, ", stats.TotalSkipped(), " skipped");
  if (!stats.skipped.empty()) {
    std::vector<std::string> parts;
    for (const auto& [reason, count] : stats.skipped)
      parts.push_back(absl::StrCat(reason, ": ", count));
    absl::StrAppend(&text, " (", absl::StrJoin(parts, ", "), ")");
  }
  return text;
}

const std::vector<std::string>& SupportedFormats() {
  static const std::vector<std::string> formats = [] {
    std::vector<std::string> out;
    for (std::string_view format : traces::TraceFormats()) out.emplace_back(format);
    out.emplace_back("synthetic");
    return out;
  }();
  return formats;
}

absl::StatusOr<std::unique_ptr<traces::TraceReader>> OpenSourceReader(const TraceConfig& config,
                                                                      uint64_t seed) {
  absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader;
  if (config.format == "synthetic") {
    traces::SyntheticOptions options = config.synthetic;
    if (!config.synthetic_seed_set) options.seed = seed;
    reader = traces::MakeSyntheticWorkload(options);
  } else {
    reader = traces::OpenTrace(config.format, config.paths, config.read);
  }
  if (!reader.ok()) {
    return absl::Status(reader.status().code(),
                        absl::StrCat(config.where, ": ", reader.status().message()));
  }
  return reader;
}

absl::StatusOr<std::unique_ptr<WorkloadFeed>> OpenWorkloadFeed(const TraceConfig& config,
                                                               uint64_t seed) {
  absl::StatusOr<std::unique_ptr<traces::TraceReader>> reader = OpenSourceReader(config, seed);
  if (!reader.ok()) return reader.status();
  return std::make_unique<WorkloadFeed>(*std::move(reader), config);
}

}  // namespace steward::sim
