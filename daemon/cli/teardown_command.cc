// steward teardown: the operator API's TEARDOWN of a framework.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"
#include "daemon/cli/internal/master_client.h"

namespace steward::cli {

const char kTeardownUsage[] =
    "Usage: steward teardown FRAMEWORK_ID\n"
    "\n"
    "Removes framework FRAMEWORK_ID (operator API TEARDOWN): its tasks are killed, its offers\n"
    "withdrawn, and it may not subscribe again. Fails for a framework the master does not\n"
    "know or has already removed.\n";

absl::StatusOr<int> TeardownCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  CommandFlags flags(&global);
  absl::StatusOr<CommandFlags::Parsed> parsed = flags.Parse(args, io.env);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kTeardownUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  if (parsed->positional.size() != 1 || parsed->has_command) {
    return UsageError("needs exactly one FRAMEWORK_ID");
  }
  const std::string& id = parsed->positional.front();
  mesos::v1::master::Call call;
  call.set_type(mesos::v1::master::Call::TEARDOWN);
  call.mutable_teardown()->mutable_framework_id()->set_value(id);
  MasterClient master(global);
  absl::StatusOr<mesos::v1::master::Response> response = master.Call(call);
  if (!response.ok()) return response.status();
  io.out << "Tore down framework " << id << "\n";
  return kExitOk;
}

}  // namespace steward::cli
