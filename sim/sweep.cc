#include "sim/sweep.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "oneapi/tbb/global_control.h"
#include "oneapi/tbb/parallel_for.h"
#include "proto/sim/scenario.pb.h"
#include "sim/config.h"
#include "sim/proto_file.h"
#include "sim/results.h"
#include "sim/simulator.h"

namespace steward::sim {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Sets the scalar field at `path` ("options.sorter", "frameworks[1].refuse_seconds") of
// `scenario` from `value` in text format syntax. Intermediate messages are created; a
// repeated element must already exist.
absl::Status SetField(Message* message, const std::string& path, const std::string& value) {
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    int index = -1;
    if (const size_t bracket = part.find('['); bracket != std::string::npos) {
      if (part.back() != ']') return absl::InvalidArgumentError("bad index in '" + path + "'");
      const std::string digits = part.substr(bracket + 1, part.size() - bracket - 2);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
          !absl::SimpleAtoi(digits, &index)) {
        return absl::InvalidArgumentError("bad index in '" + path + "'");
      }
      part = part.substr(0, bracket);
    }
    const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(part);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no field '", part, "' in ", message->GetDescriptor()->name()));
    }
    const Reflection* reflection = message->GetReflection();
    if (field->is_repeated() != (index >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", part, "' ", field->is_repeated() ? "needs an index [i]" : "takes no index"));
    }
    if (index >= 0 && index >= reflection->FieldSize(*message, field)) {
      return absl::InvalidArgumentError(absl::StrCat("'", part, "[", index, "]' does not exist (",
                                                     reflection->FieldSize(*message, field),
                                                     " elements)"));
    }
    const bool last = dot == std::string::npos;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (last) return absl::InvalidArgumentError("'" + path + "' is a message, not a value");
      message = index >= 0 ? reflection->MutableRepeatedMessage(message, field, index)
                           : reflection->MutableMessage(message, field);
      start = dot + 1;
      continue;
    }
    if (!last || index >= 0) {
      return absl::InvalidArgumentError("'" + path + "': only single scalar fields can be swept");
    }
    // A parser with a silent collector: protobuf would log the failure to stderr otherwise.
    class Silent : public google::protobuf::io::ErrorCollector {
     public:
      void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
    } silent;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&silent);
    if (!parser.ParseFieldValueFromString(value, field, message)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", value, "' is not a valid value for ", field->full_name()));
    }
    return absl::OkStatus();
  }
}

// A run's folder name: scenario stem, parameter values, seed; characters outside
// [A-Za-z0-9._=-] become '_'.
std::string RunName(const std::string& scenario,
                    const std::vector<std::pair<std::string, std::string>>& parameters,
                    bool has_seed, uint64_t seed) {
  std::string name = std::filesystem::path(scenario).stem().string();
  for (const auto& [field, value] : parameters) absl::StrAppend(&name, "__", field, "=", value);
  if (has_seed) absl::StrAppend(&name, "__seed=", seed);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '=' &&
        c != '-')
      c = '_';
  }
  return name;
}

absl::StatusOr<SimConfig> LoadRun(const SweepRun& run) {
  Scenario scenario;
  absl::StatusOr<SourceMap> where = ParseProtoFile(run.scenario, &scenario);
  if (!where.ok()) return where.status();
  for (const auto& [field, value] : run.parameters) {
    if (absl::Status s = SetField(&scenario, field, value); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(run.scenario, ": sweep parameter ", field, "=", value, ": ", s.message()));
    }
  }
  const std::string base = std::filesystem::path(run.scenario).parent_path().string();
  return BuildConfig(scenario, *where, base.empty() ? "." : base,
                     run.has_seed ? std::optional<uint64_t>(run.seed) : std::nullopt);
}

}  // namespace

absl::StatusOr<std::vector<SweepRun>> PlanSweep(const std::string& sweep_path) {
  Sweep sweep;
  absl::StatusOr<SourceMap> where = ParseProtoFile(sweep_path, &sweep);
  if (!where.ok()) return where.status();
  if (sweep.scenarios_size() == 0) return where->Error("scenarios", "a sweep needs scenarios");
  const std::filesystem::path base = std::filesystem::path(sweep_path).parent_path();
  for (int p = 0; p < sweep.parameters_size(); ++p) {
    const std::string path = absl::StrCat("parameters[", p, "]");
    if (sweep.parameters(p).field().empty()) return where->Error(path, "parameter without a field");
    if (sweep.parameters(p).values_size() == 0) return where->Error(path + ".values", "no values");
  }
  std::vector<SweepRun> runs;
  for (int s = 0; s < sweep.scenarios_size(); ++s) {
    std::filesystem::path scenario(sweep.scenarios(s));
    if (scenario.is_relative()) scenario = base / scenario;
    // Every parameter value must apply to the scenario (the error points at the value).
    Scenario parsed;
    absl::StatusOr<SourceMap> scenario_where = ParseProtoFile(scenario.string(), &parsed);
    if (!scenario_where.ok()) {
      return absl::Status(scenario_where.status().code(),
                          absl::StrCat(where->Where(absl::StrCat("scenarios[", s, "]")), ": ",
                                       scenario_where.status().message()));
    }
    for (int p = 0; p < sweep.parameters_size(); ++p) {
      for (int v = 0; v < sweep.parameters(p).values_size(); ++v) {
        Scenario copy = parsed;
        if (absl::Status set =
                SetField(&copy, sweep.parameters(p).field(), sweep.parameters(p).values(v));
            !set.ok()) {
          return where->Error(
              absl::StrCat("parameters[", p, "].values[", v, "]"),
              absl::StrCat(sweep.parameters(p).field(), " = ", sweep.parameters(p).values(v),
                           " in ", scenario.string(), ": ", set.message()));
        }
      }
    }
    // The grid: every combination of parameter values, the first parameter varying slowest.
    std::vector<int> digit(static_cast<size_t>(sweep.parameters_size()), 0);
    while (true) {
      std::vector<std::pair<std::string, std::string>> parameters;
      for (int p = 0; p < sweep.parameters_size(); ++p) {
        parameters.emplace_back(sweep.parameters(p).field(), sweep.parameters(p).values(digit[p]));
      }
      const int seeds = std::max(1, sweep.seeds_size());
      for (int k = 0; k < seeds; ++k) {
        SweepRun run;
        run.scenario = scenario.lexically_normal().string();
        run.parameters = parameters;
        run.has_seed = sweep.seeds_size() > 0;
        run.seed = run.has_seed ? sweep.seeds(k) : 0;
        run.name = RunName(run.scenario, run.parameters, run.has_seed, run.seed);
        absl::StatusOr<SimConfig> config = LoadRun(run);
        if (!config.ok()) {
          return absl::Status(config.status().code(),
                              absl::StrCat(where->Where(absl::StrCat("scenarios[", s, "]")), ": ",
                                           config.status().message()));
        }
        runs.push_back(std::move(run));
      }
      int p = sweep.parameters_size() - 1;
      while (p >= 0 && ++digit[p] == sweep.parameters(p).values_size()) digit[p--] = 0;
      if (p < 0) break;
    }
  }
  return runs;
}

absl::Status RunSweep(const std::vector<SweepRun>& runs, const SweepOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(options.out_dir, ": ", ec.message()));
  std::vector<absl::Status> statuses(runs.size());
  std::vector<std::string> rows(runs.size());
  std::mutex report;
  const int jobs = options.jobs > 0
                       ? options.jobs
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<size_t>(jobs));
  tbb::parallel_for(size_t{0}, runs.size(), [&](size_t i) {
    const SweepRun& run = runs[i];
    absl::Status status;
    absl::StatusOr<SimConfig> config = LoadRun(run);
    if (!config.ok()) {
      status = config.status();
    } else {
      absl::StatusOr<Results> results = Simulate(*config);
      if (!results.ok()) {
        status = results.status();
      } else {
        status =
            WriteOutputs(*results, (std::filesystem::path(options.out_dir) / run.name).string());
        const Summary s = Summarize(*results);
        auto util = [&](const char* name) {
          for (size_t c = 0; c < results->resources.size(); ++c) {
            if (results->resources[c] == name && s.mean_utilisation[c] >= 0) {
              return FormatDouble(s.mean_utilisation[c]);
            }
          }
          return std::string();
        };
        rows[i] = absl::StrCat(FormatDouble(results->end_time), ",", s.submitted, ",", s.started,
                               ",", s.finished, ",", s.running_at_end, ",", s.pending_at_end, ",",
                               s.failed, ",", util("cpus"), ",", util("mem"), ",", util("gpus"),
                               ",", FormatDouble(s.wait.mean), ",", FormatDouble(s.wait.p50), ",",
                               FormatDouble(s.wait.p99), ",", FormatDouble(s.jct.mean), ",",
                               FormatDouble(s.jct.p99), ",", FormatDouble(s.slowdown.mean), ",",
                               FormatDouble(s.slowdown.p99), ",", FormatDouble(s.mean_jain), ",",
                               FormatDouble(results->wall_seconds));
      }
    }
    statuses[i] = status;
    if (options.on_done) {
      std::lock_guard<std::mutex> lock(report);
      options.on_done(run, status);
    }
  });

  // sweep.csv: parameters as columns (by field), in plan order.
  std::vector<std::string> fields;
  for (const SweepRun& run : runs) {
    for (const auto& [field, value] : run.parameters) {
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) fields.push_back(field);
    }
  }
  std::string csv = "run,scenario";
  for (const std::string& field : fields) absl::StrAppend(&csv, ",", field);
  csv +=
      ",seed,status,end_time,submitted,started,finished,running_at_end,pending_at_end,failed,"
      "cpus_utilisation,mem_utilisation,gpus_utilisation,wait_mean,wait_p50,wait_p99,jct_mean,"
      "jct_p99,slowdown_mean,slowdown_p99,jain_mean,wall_seconds\n";
  absl::Status first_error;
  int failed = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const SweepRun& run = runs[i];
    absl::StrAppend(&csv, run.name, ",", run.scenario);
    for (const std::string& field : fields) {
      std::string value;
      for (const auto& [f, v] : run.parameters) {
        if (f == field) value = v;
      }
      absl::StrAppend(&csv, ",", value);
    }
    absl::StrAppend(&csv, ",", run.has_seed ? absl::StrCat(run.seed) : std::string(), ",",
                    statuses[i].ok() ? "ok" : "failed");
    if (statuses[i].ok()) {
      absl::StrAppend(&csv, ",", rows[i]);
    } else {
      csv += std::string(19, ',');
      ++failed;
      if (first_error.ok()) first_error = statuses[i];
    }
    csv += "\n";
  }
  std::ofstream out(std::filesystem::path(options.out_dir) / "sweep.csv", std::ios::trunc);
  out << csv;
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(options.out_dir, "/sweep.csv: write failed"));
  if (!first_error.ok()) {
    return absl::Status(
        first_error.code(),
        absl::StrCat(failed, " of ", runs.size(), " runs failed; first: ", first_error.message()));
  }
  return absl::OkStatus();
}

}  // namespace steward::sim
