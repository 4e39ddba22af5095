// JSON <-> protobuf on protobuf's own JSON utilities, with the conventions of Steward's wire
// APIs: unknown fields are ignored, `null` reads as an absent field, output keeps the proto
// field names (`framework_id`, not `frameworkId`), and input nested deeper than a limit is
// rejected before protobuf parses it (protobuf's recursive parser would otherwise be the
// limit, with a less clear error).
#ifndef STEWARD_COMMON_JSON_H_
#define STEWARD_COMMON_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace steward::common {

inline constexpr int kDefaultMaxJsonDepth = 64;

// Returns InvalidArgument naming the limit when arrays and objects in `json` nest deeper than
// `max_depth` (a flat object is depth 1). Looks only at structure, so it is cheap and does not
// validate the rest of the syntax; strings (with escapes) are skipped correctly.
absl::Status CheckJsonDepth(std::string_view json, int max_depth = kDefaultMaxJsonDepth);

// Parses `json` into `*message` (cleared first). Unknown fields are ignored; a field whose
// value is `null` is left absent. Returns InvalidArgument with protobuf's reason for malformed
// JSON or a value of the wrong type, and for input deeper than `max_depth`.
absl::Status JsonToMessage(std::string_view json, google::protobuf::Message* message,
                           int max_depth = kDefaultMaxJsonDepth);

// Prints `message` as compact JSON with the proto field names. Fields with default values are
// left out, as protobuf does.
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message);

}  // namespace steward::common

#endif  // STEWARD_COMMON_JSON_H_
