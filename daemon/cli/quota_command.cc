// steward quota set | get | remove: UPDATE_QUOTA and GET_QUOTA.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/resources.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/errors.h"
#include "daemon/cli/internal/arguments.h"
#include "daemon/cli/internal/master_client.h"
#include "daemon/cli/internal/table.h"

namespace steward::cli {

const char kQuotaUsage[] =
    "Usage: steward quota set ROLE GUARANTEE [--limit=RESOURCES] [--force]\n"
    "       steward quota get [ROLE] [--json]\n"
    "       steward quota remove ROLE\n"
    "\n"
    "Quota of a role (operator API UPDATE_QUOTA and GET_QUOTA). Resources are scalar, in\n"
    "Mesos notation: 'cpus:4;mem:4096' (mem and disk in MB).\n"
    "\n"
    "  set      Replaces ROLE's quota: GUARANTEE is what the role is guaranteed (it may be ''\n"
    "           when --limit is given); --limit caps what it can be allocated (default: no\n"
    "           limit). The master refuses a guarantee above the cluster's total resources\n"
    "           unless --force is given.\n"
    "  get      Lists every role's quota, or ROLE's.\n"
    "  remove   Removes ROLE's quota (its guarantee and limit). Fails if it has none.\n";

namespace {

using mesos::v1::master::Call;
using mesos::v1::master::Response;
using ScalarMap = google::protobuf::Map<std::string, mesos::v1::Value::Scalar>;

// Parses scalar resources for a quota into `*out`. UsageError naming `what` on bad text,
// reserved or non-scalar resources.
absl::Status ParseQuantities(const std::string& what, const std::string& text, ScalarMap* out) {
  absl::StatusOr<allocator::Resources> resources = allocator::Resources::Parse(text);
  if (!resources.ok()) {
    return UsageError(absl::StrCat(what, " '", text, "': ", resources.status().message()));
  }
  for (const allocator::Resource& entry : resources->entries()) {
    if (entry.kind != allocator::ResourceKind::kScalar) {
      return UsageError(absl::StrCat(what, " '", text, "': '", entry.name,
                                     "' is not a scalar resource; quota takes scalars such as "
                                     "cpus, mem, disk and gpus"));
    }
    if (!entry.unreserved()) {
      return UsageError(absl::StrCat(what, " '", text, "': '", entry.name, "(", entry.reservation,
                                     ")' has a reservation role; quota quantities have none"));
    }
    (*out)[entry.name].set_value(static_cast<double>(entry.scalar) / allocator::kMilliPerUnit);
  }
  return absl::OkStatus();
}

absl::Status CheckRole(const std::string& role) {
  if (absl::Status s = allocator::ValidateRolePath(role); !s.ok()) {
    return UsageError(absl::StrCat("invalid role '", role, "': ", s.message()));
  }
  if (role == "*") return UsageError("the default role '*' cannot have a quota");
  return absl::OkStatus();
}

absl::StatusOr<Response> GetQuota(MasterClient& master) {
  Call call;
  call.set_type(Call::GET_QUOTA);
  return master.Call(call);
}

absl::StatusOr<int> QuotaSet(const GlobalOptions& global, const std::vector<std::string>& args,
                             const std::string& limit, bool force, Io& io) {
  if (args.size() != 2) {
    return UsageError(absl::StrCat("'quota set' needs ROLE and GUARANTEE (got ", args.size(),
                                   args.size() == 1 ? " argument)" : " arguments)"));
  }
  const std::string& role = args[0];
  if (absl::Status s = CheckRole(role); !s.ok()) return s;
  Call call;
  call.set_type(Call::UPDATE_QUOTA);
  call.mutable_update_quota()->set_force(force);
  mesos::v1::quota::QuotaConfig* config = call.mutable_update_quota()->add_quota_configs();
  config->set_role(role);
  if (absl::Status s = ParseQuantities("GUARANTEE", args[1], config->mutable_guarantees());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseQuantities("--limit", limit, config->mutable_limits()); !s.ok()) {
    return s;
  }
  if (config->guarantees().empty() && config->limits().empty()) {
    return UsageError(
        absl::StrCat("GUARANTEE is empty and no --limit is given; to remove the "
                     "quota use 'steward quota remove ",
                     role, "'"));
  }
  MasterClient master(global);
  absl::StatusOr<Response> response = master.Call(call);
  if (!response.ok()) return response.status();
  io.out << "Quota of role '" << role << "': guarantee "
         << (config->guarantees().empty() ? "none" : FormatQuantities(config->guarantees()))
         << ", limit " << (config->limits().empty() ? "none" : FormatQuantities(config->limits()))
         << "\n";
  return kExitOk;
}

absl::StatusOr<int> QuotaGet(const GlobalOptions& global, const std::vector<std::string>& args,
                             Io& io) {
  if (args.size() > 1) {
    return UsageError("'quota get' takes at most one ROLE");
  }
  MasterClient master(global);
  absl::StatusOr<Response> response = GetQuota(master);
  if (!response.ok()) return response.status();
  if (!args.empty()) {
    auto* configs = response->mutable_get_quota()->mutable_status()->mutable_configs();
    for (int i = configs->size() - 1; i >= 0; --i) {
      if (configs->Get(i).role() != args[0]) configs->DeleteSubrange(i, 1);
    }
    if (configs->empty()) {
      return absl::NotFoundError(absl::StrCat("role '", args[0], "' has no quota"));
    }
  }
  if (global.json) {
    io.out << PrettyJson(*response);
    return kExitOk;
  }
  Table table({"ROLE", "GUARANTEE", "LIMIT"});
  for (const auto& config : response->get_quota().status().configs()) {
    table.AddRow(
        {config.role(), FormatQuantities(config.guarantees()), FormatQuantities(config.limits())});
  }
  io.out << table.Render();
  return kExitOk;
}

absl::StatusOr<int> QuotaRemove(const GlobalOptions& global, const std::vector<std::string>& args,
                                Io& io) {
  if (args.size() != 1) {
    return UsageError("'quota remove' needs exactly one ROLE");
  }
  const std::string& role = args[0];
  if (absl::Status s = CheckRole(role); !s.ok()) return s;
  MasterClient master(global);
  absl::StatusOr<Response> current = GetQuota(master);
  if (!current.ok()) return current.status();
  bool found = false;
  for (const auto& config : current->get_quota().status().configs()) found |= config.role() == role;
  if (!found) return absl::NotFoundError(absl::StrCat("role '", role, "' has no quota"));
  Call call;
  call.set_type(Call::UPDATE_QUOTA);
  call.mutable_update_quota()->add_quota_configs()->set_role(role);
  absl::StatusOr<Response> response = master.Call(call);
  if (!response.ok()) return response.status();
  io.out << "Removed the quota of role '" << role << "'\n";
  return kExitOk;
}

}  // namespace

absl::StatusOr<int> QuotaCommand(const std::vector<std::string>& args, Io& io) {
  GlobalOptions global;
  std::string limit;
  bool force = false;
  CommandFlags flags(&global);
  flags.Add("limit", &limit);
  flags.Add("force", &force);
  absl::StatusOr<CommandFlags::Parsed> parsed = flags.Parse(args, io.env);
  if (!parsed.ok()) return parsed.status();
  if (parsed->help) {
    io.out << kQuotaUsage << kGlobalFlagsHelp;
    return kExitOk;
  }
  if (parsed->has_command) return UsageError("unexpected '--'");
  if (parsed->positional.empty()) {
    return UsageError("needs a subcommand: set, get or remove");
  }
  const std::string sub = parsed->positional.front();
  const std::vector<std::string> rest(parsed->positional.begin() + 1, parsed->positional.end());
  if (sub != "set" && (!limit.empty() || force)) {
    return UsageError(
        absl::StrCat("--limit and --force apply to 'quota set', not 'quota ", sub, "'"));
  }
  if (sub == "set") return QuotaSet(global, rest, limit, force, io);
  if (sub == "get") return QuotaGet(global, rest, io);
  if (sub == "remove") return QuotaRemove(global, rest, io);
  return UsageError(
      absl::StrCat("unknown quota subcommand '", sub, "' (expected set, get or remove)"));
}

}  // namespace steward::cli
