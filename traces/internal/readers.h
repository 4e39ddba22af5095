// One factory per external trace format; OpenTrace (traces/open.cc) dispatches on the name.
// Each takes the files in any order, recognises each by header or name, and reads machines
// eagerly and tasks lazily (see workload.h).
#ifndef STEWARD_TRACES_INTERNAL_READERS_H_
#define STEWARD_TRACES_INTERNAL_READERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "traces/workload.h"

namespace steward::traces::internal {

using Paths = std::vector<std::string>;
using ReaderOr = absl::StatusOr<std::unique_ptr<TraceReader>>;

ReaderOr OpenOpenb(const Paths& paths, const ReadOptions& options);        // openb.cc
ReaderOr OpenSwf(const Paths& paths, const ReadOptions& options);          // swf.cc
ReaderOr OpenGoogle2011(const Paths& paths, const ReadOptions& options);   // google2011.cc
ReaderOr OpenAlibaba2017(const Paths& paths, const ReadOptions& options);  // alibaba2017.cc
ReaderOr OpenAlibaba2018(const Paths& paths, const ReadOptions& options);  // alibaba2018.cc
ReaderOr OpenAlibaba2025(const Paths& paths, const ReadOptions& options);  // alibaba2025.cc
ReaderOr OpenNative(const Paths& paths, const ReadOptions& options);       // native.cc

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_READERS_H_
