// OpenTrace: the table of trace formats and their readers.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allocator/internal/strings.h"
#include "traces/internal/readers.h"
#include "traces/workload.h"

namespace steward::traces {
namespace {

using allocator::internal::Av;

struct Format {
  std::string_view name;
  internal::ReaderOr (*open)(const internal::Paths&, const ReadOptions&);
};

// One row per format with a reader.
const std::vector<Format>& Formats() {
  static const std::vector<Format> formats = {
      {"openb", internal::OpenOpenb},
      {"alibaba2017", internal::OpenAlibaba2017},
      {"alibaba2018", internal::OpenAlibaba2018},
      {"alibaba2025", internal::OpenAlibaba2025},
      {"google2011", internal::OpenGoogle2011},
      {"swf", internal::OpenSwf},
      {"native", internal::OpenNative},
  };
  return formats;
}

}  // namespace

const std::vector<std::string_view>& TraceFormats() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const Format& format : Formats()) out.push_back(format.name);
    return out;
  }();
  return names;
}

absl::StatusOr<std::unique_ptr<TraceReader>> OpenTrace(std::string_view format,
                                                       const std::vector<std::string>& paths,
                                                       const ReadOptions& options) {
  for (const Format& entry : Formats()) {
    if (entry.name != format) continue;
    if (paths.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("trace format ", Av(format), ": no files"));
    }
    if (options.limit < 0) {
      return absl::InvalidArgumentError(absl::StrCat("limit must be >= 0, got ", options.limit));
    }
    return entry.open(paths, options);
  }
  std::vector<std::string> names;
  for (std::string_view name : TraceFormats()) names.emplace_back(name);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trace format '", Av(format),
                   "'; known formats: ", names.empty() ? "none" : absl::StrJoin(names, ", ")));
}

}  // namespace steward::traces
