#include "sim/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "allocator/internal/strings.h"
#include "allocator/quantities.h"
#include "sim/workload_feed.h"

namespace steward::sim {
namespace {

using allocator::Quota;
using allocator::ResourceKind;
using allocator::ResourceQuantities;
using allocator::Resources;
using allocator::internal::Av;

std::string Item(std::string_view field, int index) {
  return absl::StrCat(Av(field), "[", index, "]");
}

// A finite number >= 0 (or > 0 when `positive`).
absl::Status CheckSeconds(const SourceMap& where, const std::string& path, double value,
                          bool positive) {
  if (!std::isfinite(value) || value < 0 || (positive && value == 0)) {
    return where.Error(
        path, absl::StrCat("must be a finite number ", positive ? "> 0" : ">= 0", ", got ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<Resources> ParseResources(const SourceMap& where, const std::string& path,
                                         const std::string& text) {
  absl::StatusOr<Resources> resources = Resources::Parse(text);
  if (!resources.ok()) return where.Error(path, resources.status().message());
  return resources;
}

// Task demands: non-empty unreserved scalars.
absl::StatusOr<Resources> ParseDemand(const SourceMap& where, const std::string& path,
                                      const std::string& text) {
  absl::StatusOr<Resources> demand = ParseResources(where, path, text);
  if (!demand.ok()) return demand.status();
  if (demand->empty()) return where.Error(path, "a task must demand some resources");
  for (const allocator::Resource& entry : demand->entries()) {
    if (entry.kind != ResourceKind::kScalar || !entry.reservation.empty()) {
      return where.Error(path, absl::StrCat("a task demands unreserved scalars only; '", entry.name,
                                            "' is not one"));
    }
  }
  return demand;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseAttributes(
    const SourceMap& where, const std::string& path, const std::string& text) {
  std::vector<std::pair<std::string, std::string>> attributes;
  if (text.empty()) return attributes;
  for (absl::string_view part : absl::StrSplit(text, ';')) {
    const size_t colon = part.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return where.Error(
          path, absl::StrCat("attribute '", part, "' is not name:value (e.g. \"rack:r1;zone:a\")"));
    }
    attributes.emplace_back(std::string(part.substr(0, colon)),
                            std::string(part.substr(colon + 1)));
  }
  return attributes;
}

// A role path ("*" when empty), checked.
absl::StatusOr<std::string> RoleOf(const SourceMap& where, const std::string& path,
                                   const std::string& role) {
  if (role.empty()) return std::string("*");
  if (absl::Status valid = allocator::ValidateRolePath(role); !valid.ok()) {
    return where.Error(path, valid.message());
  }
  return role;
}

// OFFER-mode behaviour, from a FrameworkSpec or a TraceSource (they share the fields).
template <typename Spec>
absl::StatusOr<OfferBehaviour> BuildBehaviour(const SourceMap& where, const std::string& path,
                                              const Spec& spec) {
  const int32_t tasks_per_offer = spec.tasks_per_offer();
  const std::optional<double> refuse_seconds =
      spec.has_refuse_seconds() ? std::optional<double>(spec.refuse_seconds()) : std::nullopt;
  const double decision_seconds = spec.decision_seconds();
  OfferBehaviour behaviour;
  if (tasks_per_offer < 0) {
    return where.Error(path + ".tasks_per_offer", "must be >= 0 (0 = as many as fit)");
  }
  behaviour.tasks_per_offer = tasks_per_offer;
  if (refuse_seconds.has_value()) {
    if (std::isnan(*refuse_seconds) || *refuse_seconds < 0) {
      return where.Error(path + ".refuse_seconds", "must be >= 0");
    }
    behaviour.refuse_seconds = *refuse_seconds;
  }
  if (absl::Status s = CheckSeconds(where, path + ".decision_seconds", decision_seconds, false);
      !s.ok()) {
    return s;
  }
  behaviour.decision_seconds = decision_seconds;
  return behaviour;
}

absl::StatusOr<traces::ResourceVector> ParseMachine(const SourceMap& where, const std::string& path,
                                                    const std::string& text) {
  traces::ResourceVector machine;
  if (text.empty()) return machine;
  absl::StatusOr<ResourceQuantities> quantities = ResourceQuantities::Parse(text);
  if (!quantities.ok()) return where.Error(path, quantities.status().message());
  for (const auto& [name, milli] : quantities->entries()) {
    const double units = static_cast<double>(milli) / 1000.0;
    if (name == "cpus") {
      machine.cpus = units;
    } else if (name == "mem") {
      machine.mem = units;
    } else if (name == "disk") {
      machine.disk = units;
    } else if (name == "gpus") {
      machine.gpus = units;
    } else {
      return where.Error(path, absl::StrCat("unknown resource '", name,
                                            "': a machine has cpus, mem, disk and gpus"));
    }
  }
  return machine;
}

absl::Status BuildAgents(const Scenario& scenario, const SourceMap& where, SimConfig* config) {
  std::set<std::string> names;
  for (int i = 0; i < scenario.agents_size(); ++i) {
    const AgentSpec& spec = scenario.agents(i);
    const std::string path = Item("agents", i);
    if (spec.resources().empty()) return where.Error(path, "agent has no resources");
    absl::StatusOr<Resources> total = ParseResources(where, path + ".resources", spec.resources());
    if (!total.ok()) return total.status();
    if (total->empty()) return where.Error(path + ".resources", "agent has no resources");
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> attributes =
        ParseAttributes(where, path + ".attributes", spec.attributes());
    if (!attributes.ok()) return attributes.status();
    const int count = spec.has_count() ? spec.count() : 1;
    if (count < 1) return where.Error(path + ".count", "must be >= 1");
    const std::string base = spec.name().empty() ? "agent" : spec.name();
    for (int k = 0; k < count; ++k) {
      AgentConfig agent;
      agent.name = count == 1 && !spec.name().empty() ? base : absl::StrCat(base, "-", k);
      if (!names.insert(agent.name).second) {
        return where.Error(path + ".name", absl::StrCat("duplicate agent name '", agent.name, "'"));
      }
      agent.total = *total;
      agent.attributes = *attributes;
      config->agents.push_back(std::move(agent));
    }
  }
  return absl::OkStatus();
}

absl::Status BuildRoles(const Scenario& scenario, const SourceMap& where, SimConfig* config) {
  std::set<std::string> names;
  for (int i = 0; i < scenario.roles_size(); ++i) {
    const RoleSpec& spec = scenario.roles(i);
    const std::string path = Item("roles", i);
    if (absl::Status valid = allocator::ValidateRolePath(spec.name()); !valid.ok()) {
      return where.Error(path + ".name", valid.message());
    }
    if (!names.insert(spec.name()).second) {
      return where.Error(path + ".name", absl::StrCat("role '", spec.name(), "' listed twice"));
    }
    RoleConfig role;
    role.name = spec.name();
    if (spec.has_weight()) {
      if (!std::isfinite(spec.weight()) || spec.weight() <= 0) {
        return where.Error(path + ".weight", "must be a finite number > 0");
      }
      role.weight = spec.weight();
    }
    if (!spec.quota_guarantee().empty() || !spec.quota_limit().empty()) {
      if (spec.name() == "*") return where.Error(path, "the default role '*' takes no quota");
      Quota quota;
      absl::StatusOr<ResourceQuantities> guarantee =
          ResourceQuantities::Parse(spec.quota_guarantee());
      if (!guarantee.ok())
        return where.Error(path + ".quota_guarantee", guarantee.status().message());
      absl::StatusOr<ResourceQuantities> limit = ResourceQuantities::Parse(spec.quota_limit());
      if (!limit.ok()) return where.Error(path + ".quota_limit", limit.status().message());
      quota.guarantee = *guarantee;
      quota.limit = *limit;
      role.quota = quota;
    }
    config->roles.push_back(std::move(role));
  }
  return absl::OkStatus();
}

absl::Status BuildFrameworks(const Scenario& scenario, const SourceMap& where, SimConfig* config) {
  std::set<std::string> names;
  for (int i = 0; i < scenario.frameworks_size(); ++i) {
    const FrameworkSpec& spec = scenario.frameworks(i);
    const std::string path = Item("frameworks", i);
    FrameworkConfig framework;
    if (spec.name().empty()) return where.Error(path, "framework has no name");
    if (!names.insert(spec.name()).second) {
      return where.Error(path + ".name",
                         absl::StrCat("duplicate framework name '", spec.name(), "'"));
    }
    framework.name = spec.name();
    absl::StatusOr<std::string> role = RoleOf(where, path + ".role", spec.role());
    if (!role.ok()) return role.status();
    framework.role = *std::move(role);
    absl::StatusOr<OfferBehaviour> behaviour = BuildBehaviour(where, path, spec);
    if (!behaviour.ok()) return behaviour.status();
    framework.behaviour = *behaviour;
    bool wants_gpus = false;
    for (int g = 0; g < spec.tasks_size(); ++g) {
      const TaskGroup& group = spec.tasks(g);
      const std::string group_path = Item(path + ".tasks", g);
      TaskGroupConfig task;
      absl::StatusOr<Resources> demand =
          ParseDemand(where, group_path + ".resources", group.resources());
      if (!demand.ok()) return demand.status();
      task.demand = *std::move(demand);
      wants_gpus = wants_gpus || task.demand.Has("gpus");
      if (group.count() < 1) return where.Error(group_path + ".count", "must be >= 1");
      task.count = group.count();
      for (auto [field, value] : {std::pair{".submit_seconds", group.submit_seconds()},
                                  std::pair{".duration_seconds", group.duration_seconds()}}) {
        if (absl::Status s = CheckSeconds(where, group_path + field, value, false); !s.ok()) {
          return s;
        }
      }
      task.submit = group.submit_seconds();
      task.duration = group.duration_seconds();
      framework.groups.push_back(std::move(task));
    }
    framework.gpu_capable = spec.has_gpu_capable() ? spec.gpu_capable() : wants_gpus;
    config->frameworks.push_back(std::move(framework));
  }
  return absl::OkStatus();
}

absl::Status BuildTraces(const Scenario& scenario, const SourceMap& where,
                         const std::string& base_dir, SimConfig* config) {
  for (int i = 0; i < scenario.traces_size(); ++i) {
    const TraceSource& spec = scenario.traces(i);
    const std::string path = Item("traces", i);
    TraceConfig trace;
    trace.where = where.Where(path);
    trace.format = spec.format();
    const std::vector<std::string>& formats = SupportedFormats();
    if (std::find(formats.begin(), formats.end(), trace.format) == formats.end()) {
      return where.Error(path + ".format",
                         absl::StrCat("unknown trace format '", spec.format(), "'; known: ",
                                      formats.empty() ? "none" : absl::StrJoin(formats, ", ")));
    }
    if (trace.format == "synthetic") {
      if (spec.paths_size() > 0)
        return where.Error(path + ".paths", "format synthetic reads no files");
      const SyntheticWorkload& synthetic = spec.synthetic();
      traces::SyntheticOptions& options = trace.synthetic;
      if (synthetic.has_machines()) options.machines = synthetic.machines();
      if (synthetic.has_tasks()) options.tasks = synthetic.tasks();
      if (synthetic.has_frameworks()) options.frameworks = synthetic.frameworks();
      if (synthetic.has_span_seconds()) options.span_seconds = synthetic.span_seconds();
      if (synthetic.has_diurnal_amplitude())
        options.diurnal_amplitude = synthetic.diurnal_amplitude();
      if (synthetic.has_gpu_fraction()) options.gpu_fraction = synthetic.gpu_fraction();
      if (synthetic.has_median_duration_seconds()) {
        options.median_duration_seconds = synthetic.median_duration_seconds();
      }
      if (synthetic.has_zipf_exponent()) options.zipf_exponent = synthetic.zipf_exponent();
      if (synthetic.has_max_duration_seconds()) {
        options.max_duration_seconds = synthetic.max_duration_seconds();
      }
      if (synthetic.has_seed()) {
        options.seed = synthetic.seed();
        trace.synthetic_seed_set = true;
      }
      if (!synthetic.machine().empty()) {
        absl::StatusOr<traces::ResourceVector> shape =
            ParseMachine(where, path + ".synthetic.machine", synthetic.machine());
        if (!shape.ok()) return shape.status();
        options.machine_shape = *shape;
      }
      // The generator checks its options; report its complaint at the source.
      absl::StatusOr<std::unique_ptr<traces::TraceReader>> probe =
          traces::MakeSyntheticWorkload(options);
      if (!probe.ok()) return where.Error(path + ".synthetic", probe.status().message());
    } else {
      if (spec.paths_size() == 0) return where.Error(path + ".paths", "no trace files given");
      if (spec.has_synthetic()) {
        return where.Error(path + ".synthetic", "only for format synthetic");
      }
      for (int p = 0; p < spec.paths_size(); ++p) {
        std::filesystem::path file(spec.paths(p));
        if (file.is_relative()) file = std::filesystem::path(base_dir) / file;
        trace.paths.push_back(file.lexically_normal().string());
      }
    }
    if (!spec.framework_by().empty()) {
      absl::StatusOr<traces::GroupKey> key = traces::ParseGroupKey(spec.framework_by());
      if (!key.ok()) return where.Error(path + ".framework_by", key.status().message());
      trace.framework_by = *key;
    }
    trace.cluster_from_trace = spec.cluster_from_trace();
    if (spec.limit() < 0) return where.Error(path + ".limit", "must be >= 0 (0 = all)");
    trace.read.limit = spec.limit();
    trace.read.strict = spec.strict();
    absl::StatusOr<traces::ResourceVector> machine =
        ParseMachine(where, path + ".normalised_machine", spec.normalised_machine());
    if (!machine.ok()) return machine.status();
    trace.read.normalised_machine = *machine;
    if (absl::Status s =
            CheckSeconds(where, path + ".swf_mem_per_proc_mb", spec.swf_mem_per_proc_mb(), false);
        !s.ok()) {
      return s;
    }
    trace.read.swf_mem_per_proc_mb = spec.swf_mem_per_proc_mb();
    absl::StatusOr<std::string> role = RoleOf(where, path + ".role", spec.role());
    if (!role.ok()) return role.status();
    trace.role = *std::move(role);
    absl::StatusOr<OfferBehaviour> behaviour = BuildBehaviour(where, path, spec);
    if (!behaviour.ok()) return behaviour.status();
    trace.behaviour = *behaviour;
    if (!std::isfinite(spec.time_offset_seconds())) {
      return where.Error(path + ".time_offset_seconds", "must be finite");
    }
    trace.time_offset = spec.time_offset_seconds();
    config->traces.push_back(std::move(trace));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimConfig> BuildConfig(const Scenario& scenario, const SourceMap& where,
                                      const std::string& base_dir, std::optional<uint64_t> seed) {
  SimConfig config;
  config.name = scenario.name();
  if (config.name.empty()) {
    config.name = std::filesystem::path(where.file()).stem().string();
  }
  if (absl::Status s = BuildAgents(scenario, where, &config); !s.ok()) return s;
  if (absl::Status s = BuildRoles(scenario, where, &config); !s.ok()) return s;
  if (absl::Status s = BuildFrameworks(scenario, where, &config); !s.ok()) return s;
  if (absl::Status s = BuildTraces(scenario, where, base_dir, &config); !s.ok()) return s;
  if (absl::Status s = CheckSeconds(where, "duration_seconds", scenario.duration_seconds(), false);
      !s.ok()) {
    return s;
  }
  config.duration = scenario.duration_seconds();

  const SimOptions& options = scenario.options();
  switch (options.mode()) {
    case SimOptions::DIRECT:
      config.mode = Mode::kDirect;
      break;
    case SimOptions::OFFER:
    case SimOptions::MODE_UNSPECIFIED:
      config.mode = Mode::kOffer;
      break;
    default:
      return where.Error("options.mode", absl::StrCat("unknown mode ", options.mode()));
  }
  switch (options.sorter()) {
    case SimOptions::RANDOM:
      config.sorter = allocator::SorterKind::kRandom;
      break;
    case SimOptions::DRF:
    case SimOptions::SORTER_UNSPECIFIED:
      config.sorter = allocator::SorterKind::kDrf;
      break;
    default:
      return where.Error("options.sorter", absl::StrCat("unknown sorter ", options.sorter()));
  }
  switch (options.placement()) {
    case SimOptions::PLACEMENT_UNSPECIFIED:
    case SimOptions::FIRST_FIT:
      config.placement = allocator::PlacementPolicy::kFirstFit;
      break;
    case SimOptions::BEST_FIT:
      config.placement = allocator::PlacementPolicy::kBestFit;
      break;
    case SimOptions::WORST_FIT:
      config.placement = allocator::PlacementPolicy::kWorstFit;
      break;
    case SimOptions::DOT_PRODUCT:
      config.placement = allocator::PlacementPolicy::kDotProduct;
      break;
    default:
      return where.Error("options.placement",
                         absl::StrCat("unknown placement ", options.placement()));
  }
  if (options.has_allocation_interval_seconds()) {
    if (absl::Status s = CheckSeconds(where, "options.allocation_interval_seconds",
                                      options.allocation_interval_seconds(), true);
        !s.ok()) {
      return s;
    }
    config.allocation_interval = options.allocation_interval_seconds();
  }
  if (options.has_sample_interval_seconds()) {
    if (absl::Status s = CheckSeconds(where, "options.sample_interval_seconds",
                                      options.sample_interval_seconds(), true);
        !s.ok()) {
      return s;
    }
    config.sample_interval = options.sample_interval_seconds();
  }
  config.seed = seed.has_value() ? *seed : options.seed();

  if (config.frameworks.empty() && config.traces.empty()) {
    return where.Error("", "the scenario has no work: add frameworks with tasks, or traces");
  }
  bool machines = !config.agents.empty();
  for (const TraceConfig& trace : config.traces) {
    machines = machines || trace.cluster_from_trace || trace.format == "synthetic";
  }
  if (!machines) {
    return where.Error("",
                       "the scenario has no machines: add agents, or a trace with "
                       "cluster_from_trace: true");
  }
  return config;
}

absl::StatusOr<SimConfig> LoadScenario(const std::string& path, std::optional<uint64_t> seed) {
  Scenario scenario;
  absl::StatusOr<SourceMap> where = ParseProtoFile(path, &scenario);
  if (!where.ok()) return where.status();
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return BuildConfig(scenario, *where, base_dir.empty() ? "." : base_dir, seed);
}

std::string_view ModeName(Mode mode) { return mode == Mode::kDirect ? "DIRECT" : "OFFER"; }

std::string_view SorterName(allocator::SorterKind sorter) {
  return sorter == allocator::SorterKind::kDrf ? "DRF" : "RANDOM";
}

std::string_view PlacementName(allocator::PlacementPolicy placement) {
  switch (placement) {
    case allocator::PlacementPolicy::kFirstFit:
      return "FIRST_FIT";
    case allocator::PlacementPolicy::kBestFit:
      return "BEST_FIT";
    case allocator::PlacementPolicy::kWorstFit:
      return "WORST_FIT";
    case allocator::PlacementPolicy::kDotProduct:
      return "DOT_PRODUCT";
  }
  return "FIRST_FIT";
}

}  // namespace steward::sim
