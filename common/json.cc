#include "common/json.h"

#include "google/protobuf/util/json_util.h"

namespace steward::common {

absl::Status CheckJsonDepth(std::string_view json, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // Skip the escaped character; \uXXXX digits cannot contain '"'.
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > max_depth) {
          return absl::InvalidArgumentError("JSON nesting depth exceeds the limit of " +
                                            std::to_string(max_depth) + " (at byte offset " +
                                            std::to_string(i) + ")");
        }
        break;
      case '}':
      case ']':
        --depth;
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status JsonToMessage(std::string_view json, google::protobuf::Message* message,
                           int max_depth) {
  if (absl::Status depth = CheckJsonDepth(json, max_depth); !depth.ok()) return depth;
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError("invalid JSON for " + message->GetTypeName() + ": " +
                                      std::string(status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError("cannot print " + message.GetTypeName() +
                               " as JSON: " + std::string(status.message()));
  }
  return out;
}

}  // namespace steward::common
