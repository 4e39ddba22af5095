#include "daemon/cli/internal/task_runner.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "common/mesos_resources.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/scheduler_session.h"

namespace steward::cli {
namespace {

using mesos::v1::Offer;
using mesos::v1::TaskState;
using mesos::v1::TaskStatus;
using mesos::v1::scheduler::Call;
using mesos::v1::scheduler::Event;
using Clock = std::chrono::steady_clock;

// Declined offers come back after this long while the task waits for room...
constexpr double kRefuseWhileWaiting = 1;
// ... and are not wanted again once it is launched.
constexpr double kRefuseAfterLaunch = 3600;
// How often the loop looks at `interrupted` while no event comes.
constexpr auto kPollInterval = std::chrono::milliseconds(200);

std::string Describe(const TaskStatus& status) {
  std::string line = mesos::v1::TaskState_Name(status.state());
  if (status.has_reason()) {
    absl::StrAppend(&line, " (", TaskStatus::Reason_Name(status.reason()), ")");
  }
  if (!status.message().empty()) absl::StrAppend(&line, ": ", status.message());
  return line;
}

class Runner {
 public:
  Runner(const GlobalOptions& global, const RunSpec& spec, std::ostream& out,
         const std::atomic<bool>& interrupted)
      : spec_(spec), out_(out), interrupted_(interrupted), session_(global) {}

  absl::StatusOr<int> Run() {
    const Clock::time_point deadline =
        spec_.timeout > std::chrono::nanoseconds(0)
            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(spec_.timeout)
            : Clock::time_point::max();
    mesos::v1::FrameworkInfo info;
    info.set_user(spec_.user);
    info.set_name(spec_.name);
    info.add_roles(spec_.role);
    info.add_capabilities()->set_type(mesos::v1::FrameworkInfo::Capability::MULTI_ROLE);
    if (!spec_.hostname.empty()) info.set_hostname(spec_.hostname);
    if (absl::Status s = session_.Subscribe(info); !s.ok()) return s;
    while (true) {
      if (interrupted_.load()) {
        out_ << "Interrupted; tearing down the framework"
             << (launched_ ? " (the task is killed)" : "") << std::endl;
        Teardown();
        return kExitInterrupted;
      }
      const Clock::time_point now = Clock::now();
      if (now >= deadline) {
        out_ << "Timed out after " << common::FormatDuration(spec_.timeout)
             << (launched_
                     ? (last_state_
                            ? absl::StrCat(" with task ", spec_.task_id, " in ",
                                           mesos::v1::TaskState_Name(*last_state_))
                            : absl::StrCat(" before task ", spec_.task_id, " reported a state"))
                     : absl::StrCat(" waiting for an offer with ", spec_.resources.ToString()))
             << "; tearing down the framework" << std::endl;
        Teardown();
        return kExitTimeout;
      }
      absl::StatusOr<std::optional<Event>> event =
          session_.NextEvent(std::min(deadline, now + kPollInterval));
      if (!event.ok()) {
        return absl::UnavailableError(
            absl::StrCat("lost the master's event stream: ", event.status().message()));
      }
      if (!event->has_value()) continue;
      absl::StatusOr<std::optional<int>> done = Handle(**event);
      if (!done.ok()) {
        Teardown();
        return done.status();
      }
      if (done->has_value()) {
        Teardown();
        return **done;
      }
    }
  }

 private:
  // Handles one event; returns the exit code once the task ended.
  absl::StatusOr<std::optional<int>> Handle(const Event& event) {
    switch (event.type()) {
      case Event::SUBSCRIBED:
        out_ << "Subscribed as framework " << event.subscribed().framework_id().value()
             << " with role " << spec_.role << "; waiting for an offer with "
             << spec_.resources.ToString() << std::endl;
        return std::nullopt;
      case Event::OFFERS:
        for (const Offer& offer : event.offers().offers()) {
          if (absl::Status s = HandleOffer(offer); !s.ok()) return s;
        }
        return std::nullopt;
      case Event::UPDATE:
        return HandleUpdate(event.update().status());
      case Event::FAILURE:
        if (event.failure().has_executor_id()) {
          out_ << "Executor " << event.failure().executor_id().value() << " on agent "
               << event.failure().agent_id().value() << " exited"
               << (event.failure().has_status()
                       ? absl::StrCat(" with status ", event.failure().status())
                       : "")
               << std::endl;
        } else {
          out_ << "Agent " << event.failure().agent_id().value() << " was lost" << std::endl;
        }
        return std::nullopt;
      case Event::ERROR:
        return absl::AbortedError(
            absl::StrCat("the master sent an ERROR event: ", event.error().message()));
      default:  // HEARTBEAT, RESCIND (an accept of a rescinded offer fails and is retried), ...
        return std::nullopt;
    }
  }

  absl::Status HandleOffer(const Offer& offer) {
    absl::StatusOr<allocator::Resources> offered = common::FromProto(offer.resources());
    const bool fits = !launched_ && offered.ok() && offered->Contains(spec_.resources);
    if (!fits) {
      if (!launched_ && warned_agents_.insert(offer.agent_id().value()).second) {
        out_ << "Declined an offer from agent " << offer.agent_id().value() << " ("
             << offer.hostname() << "): it has "
             << (offered.ok() ? offered->ToString() : "resources Steward cannot read")
             << ", the task needs " << spec_.resources.ToString() << std::endl;
      }
      Call call;
      call.set_type(Call::DECLINE);
      *call.mutable_decline()->add_offer_ids() = offer.id();
      call.mutable_decline()->mutable_filters()->set_refuse_seconds(
          launched_ ? kRefuseAfterLaunch : kRefuseWhileWaiting);
      // A decline of an offer rescinded meanwhile fails harmlessly.
      (void)session_.Send(call);
      return absl::OkStatus();
    }
    mesos::v1::TaskInfo task;
    task.set_name(spec_.name);
    task.mutable_task_id()->set_value(spec_.task_id);
    *task.mutable_agent_id() = offer.agent_id();
    *task.mutable_resources() =
        common::ToProto(spec_.resources, mesos::v1::Resource::ReservationInfo::STATIC, spec_.role);
    *task.mutable_command() = spec_.command;
    Call call;
    call.set_type(Call::ACCEPT);
    *call.mutable_accept()->add_offer_ids() = offer.id();
    Offer::Operation* operation = call.mutable_accept()->add_operations();
    operation->set_type(Offer::Operation::LAUNCH);
    *operation->mutable_launch()->add_task_infos() = task;
    call.mutable_accept()->mutable_filters()->set_refuse_seconds(kRefuseAfterLaunch);
    if (absl::Status s = session_.Send(call); !s.ok()) {
      if (s.code() == absl::StatusCode::kUnavailable) return s;
      // Most likely the offer was rescinded in the meantime: wait for the next one.
      out_ << "Could not launch on offer " << offer.id().value() << " (" << s.message()
           << "); waiting for another offer" << std::endl;
      return absl::OkStatus();
    }
    launched_ = true;
    out_ << "Launched task " << spec_.task_id << " on agent " << offer.agent_id().value() << " ("
         << offer.hostname() << ")\n"
         << "Read its output with: steward tail " << spec_.task_id << " [--stderr] [--follow]"
         << std::endl;
    Call suppress;
    suppress.set_type(Call::SUPPRESS);
    (void)session_.Send(suppress);  // Only saves declines; offers still coming are declined.
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<int>> HandleUpdate(const TaskStatus& status) {
    // Updates the master makes up itself (TASK_ERROR for an invalid task, reconciliation)
    // carry no uuid and need no acknowledgement.
    if (status.has_uuid() && status.has_agent_id()) {
      Call ack;
      ack.set_type(Call::ACKNOWLEDGE);
      *ack.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
      *ack.mutable_acknowledge()->mutable_task_id() = status.task_id();
      ack.mutable_acknowledge()->set_uuid(status.uuid());
      if (absl::Status s = session_.Send(ack); !s.ok()) {
        if (s.code() == absl::StatusCode::kUnavailable) return s;
        out_ << "Could not acknowledge an update of task " << status.task_id().value() << ": "
             << s.message() << std::endl;
      }
    }
    if (status.task_id().value() != spec_.task_id) return std::nullopt;
    if (!last_state_ || *last_state_ != status.state()) {
      out_ << "Task " << spec_.task_id << " is " << Describe(status) << std::endl;
      last_state_ = status.state();
    }
    if (!IsTerminalState(status.state())) return std::nullopt;
    return std::optional<int>(status.state() == mesos::v1::TASK_FINISHED ? kExitTaskFinished
                                                                         : kExitTaskFailed);
  }

  void Teardown() {
    if (!session_.framework_id().empty()) {
      Call call;
      call.set_type(Call::TEARDOWN);
      if (absl::Status s = session_.Send(call); !s.ok()) {
        out_ << "Could not tear down framework " << session_.framework_id() << ": " << s.message()
             << std::endl;
      }
    }
    session_.Close();
  }

  const RunSpec& spec_;
  std::ostream& out_;
  const std::atomic<bool>& interrupted_;
  SchedulerSession session_;
  bool launched_ = false;
  std::optional<TaskState> last_state_;
  std::set<std::string> warned_agents_;  // agents whose offer was declined for lack of room
};

}  // namespace

absl::StatusOr<int> RunTask(const GlobalOptions& global, const RunSpec& spec, std::ostream& out,
                            const std::atomic<bool>& interrupted) {
  return Runner(global, spec, out, interrupted).Run();
}

}  // namespace steward::cli
