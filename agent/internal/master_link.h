// The agent's connection to the master (proto/steward/agent.proto over HTTP).
//
// A reader thread POSTs SUBSCRIBE to /api/v1/agent and reads the RecordIO stream of Events
// from the response. When the stream ends, fails, or stays silent for three heartbeat
// intervals (checked by Tick()), it subscribes again after a random delay in [0, b]; b starts
// at the backoff factor, doubles after every failed attempt up to the maximum, and starts over
// once a stream delivers SUBSCRIBED. The first attempt is immediate.
//
// Every other call is a separate POST carrying the current Mesos-Stream-Id, made by Send()
// or SendStatusUpdates() from the owner's thread. A 4xx answer (a stale stream id among the
// reasons) drops the stream so the reader subscribes again. SendStatusUpdates() puts the
// updates it is given into as few STATUS_UPDATE calls as the master accepts: the owner hands
// it everything that became due while its previous call was in flight, so under load one call
// carries many updates, and when idle a call carries one, as before.
//
// Thread safety: Start(), Stop(), Send(), SendStatusUpdates() and Tick() from one owner
// thread; subscribed() and Reconnect() from any thread. Callbacks run on the reader thread, one at
// a time and in stream order; they must not call Stop().
#ifndef STEWARD_AGENT_INTERNAL_MASTER_LINK_H_
#define STEWARD_AGENT_INTERNAL_MASTER_LINK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/http_client.h"
#include "common/master_detector.h"
#include "proto/steward/agent.pb.h"

namespace steward::agent::internal {

class MasterLink {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // Asked for the leading master before every subscription attempt.
    std::shared_ptr<const common::MasterDetector> detector;
    std::chrono::milliseconds backoff_factor{1000};
    std::chrono::milliseconds backoff_max{30'000};
    std::chrono::milliseconds request_timeout{10'000};  // Per call; and connecting a stream.
    // Used when SUBSCRIBED carries no positive interval (Mesos's default).
    std::chrono::milliseconds default_heartbeat_interval{15'000};
  };

  struct Callbacks {
    // The SUBSCRIBE call for the next attempt (called before each attempt).
    std::function<steward::agent::Call()> subscribe_call;
    // Every well-formed event of a stream, SUBSCRIBED first. Returning false stops the link
    // for good (no further subscriptions): after Event.ERROR, for example.
    std::function<bool(const steward::agent::Event&)> on_event;
    // Optional: a stream that had delivered SUBSCRIBED ended; `reason` says why.
    std::function<void(const absl::Status& reason)> on_disconnected;
  };

  MasterLink(Options options, Callbacks callbacks);
  MasterLink(const MasterLink&) = delete;
  MasterLink& operator=(const MasterLink&) = delete;
  ~MasterLink();  // Stop().

  // Starts the reader thread.
  void Start();
  // Cancels the stream and joins the reader. Idempotent.
  void Stop();

  // Sends `call` on the current subscription: sets Call.agent_id and the Mesos-Stream-Id
  // header. Unavailable when not subscribed, the master is unreachable or answers 5xx;
  // FailedPrecondition with the master's reason for a 4xx (the stream is dropped then).
  absl::Status Send(steward::agent::Call call);

  // Limits of one STATUS_UPDATE call with several updates; a longer list takes more calls.
  static constexpr int kMaxUpdatesPerCall = 1000;
  static constexpr size_t kMaxUpdateBytesPerCall = size_t{1} << 20;  // Always one update.

  // Sends `updates` (in order, at most one per task) on the current subscription: in
  // Call.status_updates, as few calls as the limits above allow, when the master's SUBSCRIBED
  // accepted batches; otherwise one call per update in Call.status_update (as a call of one
  // update always is). Stops at the first call that fails and returns its error (code as
  // Send(); the message says how many updates were not delivered); the caller resends the
  // updates of that call and the ones after it when they are due again.
  absl::Status SendStatusUpdates(std::vector<steward::agent::Call::StatusUpdate> updates);

  // Sends a HEARTBEAT call when one is due and drops a stream silent for three heartbeat
  // intervals. Call it often (every ~100 ms).
  void Tick(Clock::time_point now);

  // Drops the current stream (if any); the reader subscribes again.
  void Reconnect(const std::string& reason);

  bool subscribed() const;
  // Whether the current subscription's master accepts several updates per call.
  bool accepts_status_update_batches() const;
  // The heartbeat interval of the current subscription.
  std::chrono::milliseconds heartbeat_interval() const;

 private:
  void Run();
  // One SUBSCRIBE attempt; returns whether it got SUBSCRIBED.
  bool Subscribe();
  // Handles one record of the stream; false ends it.
  bool OnRecord(const std::string& record, bool* got_subscribed);
  // Waits `delay` unless stopping; false when stopping.
  bool Sleep(std::chrono::milliseconds delay);

  const Options options_;
  const Callbacks callbacks_;
  // Calls go to the master of the current subscription; the client is rebuilt when that
  // master changes.
  std::unique_ptr<common::HttpClient> sender_;  // Owner thread only.
  common::MasterAddress sender_master_;         // Owner thread only: sender_'s master.

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::shared_ptr<common::HttpClient> stream_client_;  // The stream being read, if any.
  common::MasterAddress master_;  // The master of the last subscription attempt.
  bool subscribed_ = false;
  std::string stream_id_;
  std::optional<mesos::v1::AgentID> agent_id_;
  std::chrono::milliseconds heartbeat_interval_{15'000};
  bool accepts_status_update_batches_ = false;
  Clock::time_point last_event_{};
  Clock::time_point next_heartbeat_{};
  std::thread reader_;
};

}  // namespace steward::agent::internal

#endif  // STEWARD_AGENT_INTERNAL_MASTER_LINK_H_
