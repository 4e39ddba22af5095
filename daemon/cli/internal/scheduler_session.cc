#include "daemon/cli/internal/scheduler_session.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/recordio.h"
#include "daemon/cli/internal/master_client.h"

namespace steward::cli {
namespace {

using mesos::v1::scheduler::Call;
using mesos::v1::scheduler::Event;

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr char kSchedulerPath[] = "/api/v1/scheduler";

}  // namespace

SchedulerSession::SchedulerSession(const GlobalOptions& global)
    : global_(global), calls_(global.master_host, global.master_port, ClientOptions(global)) {}

SchedulerSession::~SchedulerSession() { Close(); }

absl::Status SchedulerSession::Subscribe(const mesos::v1::FrameworkInfo& info) {
  if (stream_ != nullptr) return absl::FailedPreconditionError("already subscribed");
  Call call;
  call.set_type(Call::SUBSCRIBE);
  *call.mutable_subscribe()->mutable_framework_info() = info;
  absl::StatusOr<std::string> body = CallJson(call);
  if (!body.ok()) return body.status();
  common::HttpClient::Options options = ClientOptions(global_);
  options.stream_idle_timeout = std::chrono::milliseconds(0);  // events come when they come
  stream_ = std::make_unique<common::HttpClient>(global_.master_host, global_.master_port, options);
  reader_ = std::thread(&SchedulerSession::ReadStream, this, *std::move(body));

  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return head_received_ || ended_; });
  if (!head_received_) {
    return absl::UnavailableError(absl::StrCat("cannot reach the master: ", end_status_.message()));
  }
  if (head_status_ != 200) {
    changed_.wait(lock, [this] { return ended_; });
    const std::string detail = ErrorDetail(error_body_);
    return absl::FailedPreconditionError(absl::StrCat("the master refused SUBSCRIBE (",
                                                      HttpStatusText(head_status_), ")",
                                                      detail.empty() ? "" : ": ", detail));
  }
  if (head_stream_id_.empty()) {
    return absl::DataLossError("the master's answer to SUBSCRIBE has no Mesos-Stream-Id header");
  }
  stream_id_ = head_stream_id_;
  return absl::OkStatus();
}

void SchedulerSession::ReadStream(std::string body) {
  common::HttpRequest request;
  request.method = "POST";
  request.target = kSchedulerPath;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = std::move(body);
  common::RecordIoDecoder decoder;
  absl::Status failure;  // a decoding error, which ends the stream
  auto on_head = [this](const common::HttpResponse& head) {
    std::lock_guard<std::mutex> lock(mu_);
    head_received_ = true;
    head_status_ = head.status;
    if (std::optional<std::string_view> id = head.Header("Mesos-Stream-Id"); id) {
      head_stream_id_ = std::string(*id);
    }
    changed_.notify_all();
    return true;
  };
  auto on_data = [&](std::string_view data) {
    std::lock_guard<std::mutex> lock(mu_);
    if (head_status_ != 200) {
      if (error_body_.size() < kMaxErrorBody) error_body_.append(data);
      return true;
    }
    std::vector<std::string> records;
    if (absl::Status s = decoder.Decode(data, &records); !s.ok()) {
      failure = absl::DataLossError(
          absl::StrCat("the master's event stream is not valid RecordIO: ", s.message()));
      return false;
    }
    for (const std::string& record : records) {
      Event event;
      if (absl::Status s = common::JsonToMessage(record, &event); !s.ok()) {
        failure = absl::DataLossError(
            absl::StrCat("the master sent an event that does not parse: ", s.message()));
        return false;
      }
      events_.push_back(std::move(event));
    }
    if (!records.empty()) changed_.notify_all();
    return true;
  };
  absl::StatusOr<common::HttpResponse> result = stream_->Stream(request, on_head, on_data);
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  if (!failure.ok()) {
    end_status_ = failure;
  } else if (!result.ok()) {
    end_status_ = absl::UnavailableError(std::string(result.status().message()));
  } else {
    end_status_ = absl::UnavailableError("the master closed the event stream");
  }
  changed_.notify_all();
}

absl::StatusOr<std::optional<Event>> SchedulerSession::NextEvent(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, deadline, [this] { return !events_.empty() || ended_; });
  if (!events_.empty()) {
    Event event = std::move(events_.front());
    events_.pop_front();
    if (event.type() == Event::SUBSCRIBED) {
      framework_id_ = event.subscribed().framework_id().value();
    }
    return std::optional<Event>(std::move(event));
  }
  if (ended_) return end_status_;
  return std::optional<Event>();
}

absl::Status SchedulerSession::Send(Call call) {
  if (framework_id_.empty()) {
    return absl::FailedPreconditionError("not subscribed yet (no SUBSCRIBED event)");
  }
  call.mutable_framework_id()->set_value(framework_id_);
  absl::StatusOr<std::string> body = CallJson(call);
  if (!body.ok()) return body.status();
  common::HttpRequest request;
  request.method = "POST";
  request.target = kSchedulerPath;
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Mesos-Stream-Id", stream_id_}};
  request.body = *std::move(body);
  absl::StatusOr<common::HttpResponse> answer = calls_.Send(request);
  const std::string type = Call::Type_Name(call.type());
  if (!answer.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the master to send ", type, ": ", answer.status().message()));
  }
  if (answer->status < 200 || answer->status >= 300) {
    const std::string detail = ErrorDetail(answer->body);
    return absl::FailedPreconditionError(absl::StrCat("the master refused ", type, " (",
                                                      HttpStatusText(answer->status), ")",
                                                      detail.empty() ? "" : ": ", detail));
  }
  return absl::OkStatus();
}

void SchedulerSession::Close() {
  if (stream_ != nullptr) stream_->Cancel();
  if (reader_.joinable()) reader_.join();
  calls_.Close();
}

}  // namespace steward::cli
