#include "agent/internal/master_link.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/recordio.h"

namespace steward::agent::internal {
namespace {

using steward::agent::Call;
using steward::agent::Event;

constexpr char kPath[] = "/api/v1/agent";
constexpr size_t kMaxErrorBody = 4096;

common::HttpRequest ProtobufPost(const Call& call) {
  common::HttpRequest request;
  request.method = "POST";
  request.target = kPath;
  request.headers.emplace_back("Content-Type", "application/x-protobuf");
  request.headers.emplace_back("Accept", "application/x-protobuf");
  request.body = call.SerializePartialAsString();
  return request;
}

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

MasterLink::MasterLink(Options options, Callbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      heartbeat_interval_(options_.default_heartbeat_interval) {}

MasterLink::~MasterLink() { Stop(); }

void MasterLink::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  reader_ = std::thread([this] { Run(); });
}

void MasterLink::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (stream_client_) stream_client_->Cancel();
  }
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
}

bool MasterLink::subscribed() const {
  std::lock_guard lock(mu_);
  return subscribed_;
}

bool MasterLink::accepts_status_update_batches() const {
  std::lock_guard lock(mu_);
  return accepts_status_update_batches_;
}

std::chrono::milliseconds MasterLink::heartbeat_interval() const {
  std::lock_guard lock(mu_);
  return heartbeat_interval_;
}

void MasterLink::Reconnect(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (stream_client_) {
    STEWARD_LOG(WARNING) << "Dropping the master stream: " << reason;
    stream_client_->Cancel();
  }
}

bool MasterLink::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

void MasterLink::Run() {
  absl::BitGen random;
  std::chrono::milliseconds bound = options_.backoff_factor;
  bool first = true;
  for (;;) {
    if (!first) {
      const auto delay = std::chrono::milliseconds(
          absl::Uniform<int64_t>(absl::IntervalClosedClosed, random, 0, bound.count()));
      if (!Sleep(delay)) return;
    }
    first = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (Subscribe()) {
      bound = options_.backoff_factor;
    } else {
      bound = std::min(bound * 2, std::max(options_.backoff_max, options_.backoff_factor));
    }
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
}

bool MasterLink::Subscribe() {
  absl::StatusOr<common::MasterAddress> leader = options_.detector->Leader();
  if (!leader.ok()) {
    STEWARD_LOG(WARNING) << "No leading master to subscribe to: " << leader.status();
    return false;
  }
  const Call call = callbacks_.subscribe_call();
  common::HttpClient::Options client_options;
  client_options.timeout = options_.request_timeout;
  client_options.stream_idle_timeout = std::chrono::milliseconds(0);  // Tick() watches.
  auto client = std::make_shared<common::HttpClient>(leader->host, leader->port, client_options);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    stream_client_ = client;
    master_ = *leader;
  }

  bool got_subscribed = false;
  bool keep_going = true;
  int status_code = 0;
  std::string stream_id;
  std::string error_body;
  common::RecordIoDecoder decoder;
  std::vector<std::string> records;
  absl::Status end_reason = absl::OkStatus();

  absl::StatusOr<common::HttpResponse> head = client->Stream(
      ProtobufPost(call),
      [&](const common::HttpResponse& response) {
        status_code = response.status;
        stream_id = std::string(response.Header("Mesos-Stream-Id").value_or(""));
        if (status_code == 200 && stream_id.empty()) {
          STEWARD_LOG(WARNING) << "Master answered SUBSCRIBE without a Mesos-Stream-Id header";
          return false;
        }
        if (status_code == 200) {
          std::lock_guard lock(mu_);
          stream_id_ = stream_id;
        }
        return true;
      },
      [&](std::string_view data) {
        if (status_code != 200) {
          error_body.append(
              data.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, error_body.size())));
          return true;
        }
        records.clear();
        if (absl::Status status = decoder.Decode(data, &records); !status.ok()) {
          STEWARD_LOG(ERROR) << "Malformed RecordIO from the master, dropping the stream: "
                             << status;
          end_reason = absl::DataLossError(std::string(status.message()));
          return false;
        }
        for (const std::string& record : records) {
          if (!OnRecord(record, &got_subscribed)) {
            keep_going = false;
            return false;
          }
        }
        return true;
      });

  {
    std::lock_guard lock(mu_);
    stream_client_.reset();
    subscribed_ = false;
    accepts_status_update_batches_ = false;
    stream_id_.clear();
    if (!keep_going) stopping_ = true;
  }
  if (!head.ok()) {
    if (end_reason.ok()) end_reason = head.status();
  } else if (status_code != 200 && status_code != 0) {
    STEWARD_LOG(WARNING) << "Master refused SUBSCRIBE with " << status_code << ": "
                         << OneLine(error_body);
    end_reason = absl::UnavailableError(absl::StrCat("SUBSCRIBE answered ", status_code));
  } else if (end_reason.ok()) {
    end_reason = absl::UnavailableError("the master closed the event stream");
  }
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
  }
  // After Stop(), or an event that ended the link, there is nothing to report.
  if (!stopping && got_subscribed) {
    STEWARD_LOG(WARNING) << "Lost the master stream: " << end_reason;
    if (callbacks_.on_disconnected) callbacks_.on_disconnected(end_reason);
  } else if (!stopping && !absl::IsCancelled(end_reason)) {
    STEWARD_LOG(WARNING) << "Could not subscribe to the master at " << leader->ToString() << ": "
                         << end_reason;
  }
  return got_subscribed;
}

bool MasterLink::OnRecord(const std::string& record, bool* got_subscribed) {
  Event event;
  if (!event.ParseFromString(record)) {
    STEWARD_LOG(ERROR) << "Ignoring a malformed event from the master (" << record.size()
                       << " bytes that do not parse as steward.agent.Event"
                       << (event.IsInitialized() ? "" : ": " + event.InitializationErrorString())
                       << ")";
    return true;
  }
  const Clock::time_point now = Clock::now();
  if (!*got_subscribed) {
    if (event.type() == Event::ERROR) return callbacks_.on_event(event);  // Refused.
    if (event.type() != Event::SUBSCRIBED) {
      STEWARD_LOG(ERROR) << "The master's first event is " << Event::Type_Name(event.type())
                         << ", not SUBSCRIBED; dropping the stream";
      return false;
    }
    if (!event.subscribed().has_agent_id() || event.subscribed().agent_id().value().empty()) {
      STEWARD_LOG(ERROR) << "SUBSCRIBED without an agent id; dropping the stream";
      return false;
    }
    std::chrono::milliseconds interval = options_.default_heartbeat_interval;
    const double seconds = event.subscribed().heartbeat_interval_seconds();
    if (std::isfinite(seconds) && seconds > 0) {
      interval = std::max(std::chrono::milliseconds(1),
                          std::chrono::milliseconds(std::llround(seconds * 1000)));
    } else {
      STEWARD_LOG(WARNING) << "SUBSCRIBED carries no positive heartbeat interval; using "
                           << interval.count() << " ms";
    }
    std::lock_guard lock(mu_);
    subscribed_ = true;
    agent_id_ = event.subscribed().agent_id();
    heartbeat_interval_ = interval;
    accepts_status_update_batches_ = event.subscribed().accepts_status_update_batches();
    last_event_ = now;
    next_heartbeat_ = now + interval;
    *got_subscribed = true;
  } else {
    std::lock_guard lock(mu_);
    last_event_ = now;
  }
  return callbacks_.on_event(event);
}

absl::Status MasterLink::Send(Call call) {
  std::string stream_id;
  common::MasterAddress master;
  {
    std::lock_guard lock(mu_);
    if (!subscribed_ || !agent_id_.has_value()) {
      return absl::UnavailableError("not subscribed to the master");
    }
    stream_id = stream_id_;
    master = master_;
    *call.mutable_agent_id() = *agent_id_;
  }
  if (sender_ == nullptr || !(sender_master_ == master)) {
    common::HttpClient::Options client_options;
    client_options.timeout = options_.request_timeout;
    sender_ = std::make_unique<common::HttpClient>(master.host, master.port, client_options);
    sender_master_ = std::move(master);
  }
  common::HttpRequest request = ProtobufPost(call);
  request.headers.emplace_back("Mesos-Stream-Id", stream_id);
  absl::StatusOr<common::HttpResponse> response = sender_->Send(request);
  if (!response.ok()) return response.status();
  if (response->status >= 200 && response->status < 300) return absl::OkStatus();
  const std::string reason =
      absl::StrCat("master answered ", Call::Type_Name(call.type()), " with ", response->status,
                   ": ", OneLine(response->body));
  if (response->status >= 400 && response->status < 500) {
    std::lock_guard lock(mu_);
    if (stream_client_ && stream_id_ == stream_id) {
      STEWARD_LOG(WARNING) << reason << "; subscribing again";
      stream_client_->Cancel();
    }
    return absl::FailedPreconditionError(reason);
  }
  return absl::UnavailableError(reason);
}

absl::Status MasterLink::SendStatusUpdates(std::vector<Call::StatusUpdate> updates) {
  const bool batches = accepts_status_update_batches();
  size_t next = 0;
  while (next < updates.size()) {
    const size_t first = next;
    Call call;
    call.set_type(Call::STATUS_UPDATE);
    if (!batches || next + 1 == updates.size()) {
      *call.mutable_status_update() = std::move(updates[next++]);
    } else {
      size_t bytes = 0;
      while (next < updates.size() && call.status_updates_size() < kMaxUpdatesPerCall) {
        const size_t size = updates[next].ByteSizeLong();
        if (call.status_updates_size() > 0 && bytes + size > kMaxUpdateBytesPerCall) break;
        bytes += size;
        *call.add_status_updates() = std::move(updates[next++]);
      }
    }
    if (absl::Status status = Send(std::move(call)); !status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(updates.size() - first, " of ", updates.size(),
                                       " status updates not delivered: ", status.message()));
    }
  }
  return absl::OkStatus();
}

void MasterLink::Tick(Clock::time_point now) {
  bool heartbeat = false;
  {
    std::lock_guard lock(mu_);
    if (!subscribed_) return;
    if (now - last_event_ > 3 * heartbeat_interval_) {
      STEWARD_LOG(WARNING) << "No event from the master for three heartbeat intervals ("
                           << 3 * heartbeat_interval_.count() << " ms); subscribing again";
      if (stream_client_) stream_client_->Cancel();
      return;
    }
    if (now >= next_heartbeat_) {
      heartbeat = true;
      next_heartbeat_ = now + heartbeat_interval_;
    }
  }
  if (heartbeat) {
    Call call;
    call.set_type(Call::HEARTBEAT);
    if (absl::Status status = Send(std::move(call)); !status.ok()) {
      STEWARD_LOG(WARNING) << "HEARTBEAT call failed: " << status;
    }
  }
}

}  // namespace steward::agent::internal
