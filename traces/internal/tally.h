// Counting records that were kept with a changed value ("adjusted: ...") or that are well formed
// but carry nothing the workload model uses ("ignored: ..."). Both live in ReadStats::skipped
// beside the skips of malformed records (plain reasons), told apart by the key's prefix, so that
// nothing a reader does to a record goes uncounted (docs/traces.md, "The workload model").
#ifndef STEWARD_TRACES_INTERNAL_TALLY_H_
#define STEWARD_TRACES_INTERNAL_TALLY_H_

#include <cstdint>
#include <string>
#include <utility>

#include "traces/workload.h"

namespace steward::traces::internal {

// One counter under a fixed key. The key appears in ReadStats::skipped only once counted, and
// counting after the first time is a pointer increment (std::map nodes do not move).
class Tally {
 public:
  Tally(ReadStats* stats, std::string key) : stats_(stats), key_(std::move(key)) {}
  Tally(const Tally&) = delete;
  Tally& operator=(const Tally&) = delete;

  void Add(int64_t n = 1) {
    if (slot_ == nullptr) slot_ = &stats_->skipped[key_];
    *slot_ += n;
  }
  const std::string& key() const { return key_; }

 private:
  ReadStats* stats_;
  std::string key_;
  int64_t* slot_ = nullptr;
};

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_TALLY_H_
