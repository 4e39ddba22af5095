#include "daemon/cli/internal/sandbox.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/cli/internal/master_client.h"

namespace steward::cli {
namespace {

bool ListsTask(const JsonValue& executor, const std::string& task_id) {
  for (const char* group : {"tasks", "queued_tasks", "completed_tasks"}) {
    for (const JsonValue& task : executor.ArrayOr(group)) {
      if (task.StringOr("id") == task_id) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> FindSandbox(const JsonValue& agent_state,
                                        const std::string& framework_id,
                                        const std::string& task_id) {
  for (const char* frameworks : {"frameworks", "completed_frameworks"}) {
    for (const JsonValue& framework : agent_state.ArrayOr(frameworks)) {
      if (framework.StringOr("id") != framework_id) continue;
      for (const char* executors : {"executors", "completed_executors"}) {
        for (const JsonValue& executor : framework.ArrayOr(executors)) {
          if (!ListsTask(executor, task_id)) continue;
          std::string directory = executor.StringOr("directory");
          if (directory.empty()) {
            return absl::DataLossError(absl::StrCat("the agent lists task ", task_id,
                                                    " under an executor without a directory"));
          }
          return directory;
        }
      }
    }
  }
  return absl::NotFoundError(
      absl::StrCat("the agent does not list task ", task_id, " of framework ", framework_id));
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' || byte == '.' || byte == '~' ||
        byte == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

absl::StatusOr<FileChunk> ReadFileChunk(common::HttpClient& agent, std::string_view who,
                                        const std::string& path, int64_t offset, int64_t length) {
  const std::string target =
      absl::StrCat("/files/read?path=", UrlEncode(path), "&offset=", offset, "&length=", length);
  absl::StatusOr<std::string> body = HttpGet(agent, who, target);
  if (!body.ok()) return body.status();
  absl::StatusOr<JsonValue> json = JsonValue::Parse(*body, {.bytes_escapes = true});
  const JsonValue* data = json.ok() ? json->Find("data") : nullptr;
  const JsonValue* at = json.ok() ? json->Find("offset") : nullptr;
  if (data == nullptr || !data->is_string() || at == nullptr || !at->integer().has_value()) {
    return absl::DataLossError(
        absl::StrCat("unexpected answer from ", std::string(who.data(), who.size()),
                     " to GET /files/read (expecting {\"data\": ..., \"offset\": ...}): ",
                     json.ok() ? ErrorDetail(*body) : std::string(json.status().message())));
  }
  return FileChunk{data->text(), *at->integer()};
}

}  // namespace steward::cli
