// Where the leading master is.
//
// The agent asks its detector for the leader before every subscription attempt, and sends its
// calls to the master it subscribed to. Standalone, that is one fixed address (`--master=HOST:
// PORT`); with several masters under leader election the detector follows the election, and
// the agent moves to the new leader when its stream to the old one ends.
//
// Thread safety: Leader() may be called from any thread.
#ifndef STEWARD_COMMON_MASTER_DETECTOR_H_
#define STEWARD_COMMON_MASTER_DETECTOR_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace steward::common {

struct MasterAddress {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const { return absl::StrCat(host, ":", port); }
  friend bool operator==(const MasterAddress&, const MasterAddress&) = default;
};

class MasterDetector {
 public:
  virtual ~MasterDetector() = default;
  // The current leader; Unavailable while no leader is known.
  virtual absl::StatusOr<MasterAddress> Leader() const = 0;
};

// A single master at a fixed address: standalone mode.
class StandaloneMasterDetector final : public MasterDetector {
 public:
  explicit StandaloneMasterDetector(MasterAddress address) : address_(std::move(address)) {}
  absl::StatusOr<MasterAddress> Leader() const override { return address_; }

 private:
  const MasterAddress address_;
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_MASTER_DETECTOR_H_
