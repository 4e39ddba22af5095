// Work that arrives from trace files or the synthetic generator, as the simulator sees it:
// the machines of the source and a stream of tasks in submit order.
#ifndef STEWARD_SIM_WORKLOAD_FEED_H_
#define STEWARD_SIM_WORKLOAD_FEED_H_

#include <array>
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "allocator/resources.h"
#include "sim/config.h"
#include "traces/workload.h"

namespace steward::sim {

struct FeedTask {
  double submit = 0;  // trace time plus the source's offset
  double duration = 0;
  std::array<int64_t, 4> demand{};  // milli-units of cpus, mem, disk, gpus
  std::string key;                  // the framework_by key
};

class WorkloadFeed {
 public:
  // Trace readers give tasks in file order, which is close to submit order but not exactly
  // (Google 2011 tasks come when they end, Alibaba rows are not sorted). The feed keeps up to
  // this many tasks in a min-heap by submit time and releases the earliest, so that disorder
  // within that window is repaired; a task that still comes after the clock passed its time is
  // submitted at once and counted as late.
  // The feed reads the trace a run of identical tasks at a time (TraceReader::NextRun) and
  // keeps a run as one heap entry with a count; the window still counts tasks (a run is cut
  // at the window's edge), so the tasks released and their order are those of a task-by-task
  // read.
  static constexpr size_t kReorderWindow = 1 << 16;

  explicit WorkloadFeed(std::unique_ptr<traces::TraceReader> reader, const TraceConfig& config);

  // The source's machines as agents (names, totals in Mesos resources, add/remove times).
  absl::StatusOr<std::vector<AgentConfig>> Machines() const;

  // Submit time of the next task, or kNever when the source is exhausted.
  absl::StatusOr<double> Peek();
  // Removes and returns the task Peek() announced.
  FeedTask Pop();

  // Reader statistics, for the summary.
  const traces::ReadStats& stats() const { return reader_->stats(); }
  std::string Report() const;

 private:
  // `count` tasks equal to `task`, of file order `order` to order + count - 1.
  struct Entry {
    double submit;
    uint64_t order;  // file order, to keep equal submit times stable
    uint64_t count;
    FeedTask task;
    friend bool operator>(const Entry& a, const Entry& b) {
      return a.submit != b.submit ? a.submit > b.submit : a.order > b.order;
    }
  };
  absl::Status Fill();

  std::unique_ptr<traces::TraceReader> reader_;
  const TraceConfig& config_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  uint64_t order_ = 0;
  size_t queued_ = 0;  // tasks in heap_ (entries times their counts)
  bool exhausted_ = false;
  traces::TaskRun run_;
  // What the window has not taken yet of the run last read.
  FeedTask pending_;
  uint64_t pending_left_ = 0;
};

// Formats a scenario may name in TraceSource.format.
const std::vector<std::string>& SupportedFormats();

// The source's reader: traces::OpenTrace for a trace format, the generator for "synthetic"
// (seeded with the scenario's seed unless the source gives its own). Errors are prefixed with
// the source's place in the scenario file.
absl::StatusOr<std::unique_ptr<traces::TraceReader>> OpenSourceReader(const TraceConfig& config,
                                                                      uint64_t seed);

// OpenSourceReader wrapped in a WorkloadFeed.
absl::StatusOr<std::unique_ptr<WorkloadFeed>> OpenWorkloadFeed(const TraceConfig& config,
                                                               uint64_t seed);

// The Mesos resources of a model vector (cpus, mem, disk, gpus), rounded to milli-units.
absl::StatusOr<allocator::Resources> ToResources(const traces::ResourceVector& vector);

// The same in milli-units, in the order cpus, mem, disk, gpus.
absl::StatusOr<std::array<int64_t, 4>> ToMilli(const traces::ResourceVector& vector);

}  // namespace steward::sim

#endif  // STEWARD_SIM_WORKLOAD_FEED_H_
