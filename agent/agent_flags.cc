#include "agent/agent_flags.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/internal/file_io.h"
#include "agent/internal/machine_resources.h"
#include "common/flags.h"
#include "common/mesos_resources.h"

namespace steward::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

absl::StatusOr<milliseconds> Positive(const std::string& flag, nanoseconds value) {
  if (value <= nanoseconds(0)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": must be positive"));
  }
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(value));
}

absl::Status ParseMaster(const std::string& master, AgentOptions* options) {
  if (master.starts_with("zk://") || master.starts_with("file://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--master: '", master, "' is not supported; give the master as HOST:PORT"));
  }
  const size_t colon = master.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(master.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--master: '", master, "' is not HOST:PORT (e.g. 10.0.0.1:5050)"));
  }
  options->master_host = master.substr(0, colon);
  options->master_port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

absl::StatusOr<Containerizer::Isolation> ParseIsolation(const std::string& isolation) {
  if (isolation == "auto") return Containerizer::Isolation::kAuto;
  if (isolation == "cgroups/v2") return Containerizer::Isolation::kCgroupsV2;
  if (isolation == "cgroups/v1") return Containerizer::Isolation::kCgroupsV1;
  if (isolation == "none") return Containerizer::Isolation::kNone;
  return absl::InvalidArgumentError(absl::StrCat(
      "--isolation: '", isolation, "' is not one of auto, cgroups/v2, cgroups/v1, none"));
}

absl::StatusOr<common::LogSeverity> ParseLevel(const std::string& level) {
  if (level == "INFO") return common::LogSeverity::INFO;
  if (level == "WARNING") return common::LogSeverity::WARNING;
  if (level == "ERROR") return common::LogSeverity::ERROR;
  return absl::InvalidArgumentError(
      absl::StrCat("--logging_level: '", level, "' is not one of INFO, WARNING, ERROR"));
}

std::string Absolute(const std::string& path) {
  if (path.starts_with("/")) return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

// The agent's resources: --resources, completed with detected cpus, mem, disk and ports.
absl::StatusOr<google::protobuf::RepeatedPtrField<mesos::v1::Resource>> Resources(
    const std::string& text, const std::string& work_dir) {
  google::protobuf::RepeatedPtrField<mesos::v1::Resource> resources;
  if (!text.empty()) {
    absl::StatusOr<common::ResourceList> parsed = common::ParseResourceText(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--resources: ", parsed.status().message()));
    }
    resources = std::move(*parsed);
  }
  std::set<std::string> given;
  for (const mesos::v1::Resource& resource : resources) given.insert(resource.name());
  const bool cpus = given.count("cpus") == 0;
  const bool mem = given.count("mem") == 0;
  const bool disk = given.count("disk") == 0;
  const bool ports = given.count("ports") == 0;
  if (!cpus && !mem && !disk && !ports) return resources;
  absl::StatusOr<internal::MachineTotals> totals = internal::ProbeMachine(work_dir);
  if (!totals.ok()) return totals.status();
  absl::StatusOr<common::ResourceList> detected =
      common::ParseResourceText(internal::DefaultResourceText(*totals, cpus, mem, disk, ports));
  if (!detected.ok()) return detected.status();
  resources.MergeFrom(*detected);
  return resources;
}

}  // namespace

absl::StatusOr<AgentConfig> ParseAgentFlags(
    int argc, const char* const* argv,
    const std::optional<std::map<std::string, std::string>>& env) {
  std::string master;
  std::string ip = "127.0.0.1";
  uint16_t port = 5051;
  std::string work_dir;
  std::string resources;
  std::string attributes;
  std::string hostname;
  std::string isolation = "auto";
  std::string runtime_dir;
  std::string cgroups_root = "steward";
  std::string logging_level = "INFO";
  nanoseconds retry_interval = std::chrono::seconds(10);
  nanoseconds shutdown_grace = std::chrono::seconds(5);
  nanoseconds backoff_factor = std::chrono::seconds(1);
  nanoseconds reregistration_timeout = std::chrono::seconds(2);

  common::FlagSet flags("steward-agent",
                        "Runs a Steward agent: registers with the master, runs the tasks it "
                        "sends and reports their status.");
  flags.Add("master", &master, "The master as HOST:PORT.", common::FlagSet::kRequired);
  flags.Add("work_dir", &work_dir,
            "Directory for sandboxes (slaves/) and the agent's checkpoint (meta/).",
            common::FlagSet::kRequired);
  flags.Add("ip", &ip, "IP address to listen on (and to give executors).");
  flags.Add("port", &port, "Port to listen on.");
  flags.Add("resources", &resources,
            "Total resources, e.g. 'cpus:2;mem:1024;disk:1024;ports:[31000-32000]'; cpus, mem, "
            "disk and ports not given are detected from the machine.");
  flags.Add("attributes", &attributes, "Attributes, e.g. 'rack:r1;zone:z'.");
  flags.Add("hostname", &hostname,
            "Hostname reported to the master (default: --ip, or the machine's hostname when "
            "--ip is a wildcard address).");
  flags.Add("isolation", &isolation, "auto, cgroups/v2, cgroups/v1 or none.");
  flags.Add("status_update_retry_interval", &retry_interval,
            "First resend of an unacknowledged status update; doubles up to 10mins.");
  flags.Add("executor_shutdown_grace_period", &shutdown_grace,
            "Time an executor gets to exit after SHUTDOWN before it is killed.");
  flags.Add("executor_reregistration_timeout", &reregistration_timeout,
            "After an agent restart, how long a recovered custom executor has to subscribe "
            "again before the agent kills it and reports its tasks TASK_LOST (TASK_GONE for "
            "partition-aware frameworks). Positive, at most 15secs.");
  flags.Add("registration_backoff_factor", &backoff_factor,
            "Re-subscription backoff: a random delay in [0, b], b from this doubling to 30secs.");
  flags.Add("runtime_dir", &runtime_dir,
            "Per-container runtime state that survives agent restarts (default: "
            "<work_dir>/runtime).");
  flags.Add("cgroups_root", &cgroups_root,
            "Parent cgroup of the containers. Agents on one machine may share it: it is "
            "created again when missing, and removed only by the last agent using it, when "
            "empty.");
  flags.Add("logging_level", &logging_level, "INFO, WARNING or ERROR.");

  absl::StatusOr<common::FlagSet::Result> parsed =
      env.has_value() ? flags.Parse(argc, argv, *env) : flags.Parse(argc, argv);
  if (!parsed.ok()) return parsed.status();
  AgentConfig config;
  config.usage = flags.Usage();
  if (parsed->help) {
    config.help = true;
    return config;
  }
  if (!parsed->positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", parsed->positional.front(), "'"));
  }
  AgentOptions& options = config.agent;
  if (absl::Status status = ParseMaster(master, &options); !status.ok()) return status;
  if (ip.empty()) return absl::InvalidArgumentError("--ip: must not be empty");
  options.ip = ip;
  options.port = port;
  options.hostname = hostname;
  if (hostname.empty() && (ip == "0.0.0.0" || ip == "::")) {
    // A wildcard address names no machine: report the host's name, as Mesos does.
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
      return absl::InvalidArgumentError(
          "--hostname: needed with a wildcard --ip (the machine's hostname is unreadable)");
    }
    options.hostname = name;
  }
  if (work_dir.empty()) return absl::InvalidArgumentError("--work_dir: must not be empty");
  options.work_dir = Absolute(work_dir);
  while (options.work_dir.size() > 1 && options.work_dir.back() == '/') options.work_dir.pop_back();

  absl::StatusOr<milliseconds> retry = Positive("status_update_retry_interval", retry_interval);
  if (!retry.ok()) return retry.status();
  options.status_update_retry_interval = *retry;
  options.max_status_update_retry_interval = std::max(*retry, milliseconds(600'000));
  if (shutdown_grace < nanoseconds(0)) {
    return absl::InvalidArgumentError("--executor_shutdown_grace_period: must not be negative");
  }
  options.executor_shutdown_grace_period = std::chrono::duration_cast<milliseconds>(shutdown_grace);
  absl::StatusOr<milliseconds> reregistration =
      Positive("executor_reregistration_timeout", reregistration_timeout);
  if (!reregistration.ok()) return reregistration.status();
  if (reregistration_timeout > kMaxExecutorReregistrationTimeout) {
    return absl::InvalidArgumentError(
        absl::StrCat("--executor_reregistration_timeout: must be at most ",
                     common::FormatDuration(kMaxExecutorReregistrationTimeout)));
  }
  options.executor_reregistration_timeout = *reregistration;
  absl::StatusOr<milliseconds> backoff = Positive("registration_backoff_factor", backoff_factor);
  if (!backoff.ok()) return backoff.status();
  options.registration_backoff_factor = *backoff;
  options.max_registration_backoff = std::max(*backoff, milliseconds(30'000));

  absl::StatusOr<Containerizer::Isolation> mode = ParseIsolation(isolation);
  if (!mode.ok()) return mode.status();
  absl::StatusOr<common::LogSeverity> level = ParseLevel(logging_level);
  if (!level.ok()) return level.status();
  config.logging_level = *level;

  absl::StatusOr<google::protobuf::RepeatedPtrField<mesos::v1::Attribute>> parsed_attributes =
      common::ParseAttributes(attributes);
  if (!parsed_attributes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--attributes: ", parsed_attributes.status().message()));
  }
  options.attributes = std::move(*parsed_attributes);

  // The work directory is needed to size the disk default; create it now.
  if (absl::Status status = internal::MakeDirectories(options.work_dir, 0755); !status.ok()) {
    return absl::InternalError(absl::StrCat("--work_dir: ", status.message()));
  }
  absl::StatusOr<google::protobuf::RepeatedPtrField<mesos::v1::Resource>> total =
      Resources(resources, options.work_dir);
  if (!total.ok()) return total.status();
  options.resources = std::move(*total);

  config.containerizer.runtime_dir =
      runtime_dir.empty() ? options.work_dir + "/runtime" : Absolute(runtime_dir);
  config.containerizer.isolation = *mode;
  config.containerizer.cgroup_name = cgroups_root;
  return config;
}

}  // namespace steward::agent
