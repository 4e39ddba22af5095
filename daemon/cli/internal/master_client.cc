#include "daemon/cli/internal/master_client.h"

#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "google/protobuf/util/json_util.h"

namespace steward::cli {
namespace {

using mesos::v1::master::Response;
using OperatorCall = mesos::v1::master::Call;

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr size_t kMaxDetail = 200;

}  // namespace

std::string HttpStatusText(int status) {
  const char* phrase = nullptr;
  switch (status) {
    case 200:
      phrase = "OK";
      break;
    case 202:
      phrase = "Accepted";
      break;
    case 307:
      phrase = "Temporary Redirect";
      break;
    case 400:
      phrase = "Bad Request";
      break;
    case 401:
      phrase = "Unauthorized";
      break;
    case 403:
      phrase = "Forbidden";
      break;
    case 404:
      phrase = "Not Found";
      break;
    case 405:
      phrase = "Method Not Allowed";
      break;
    case 406:
      phrase = "Not Acceptable";
      break;
    case 409:
      phrase = "Conflict";
      break;
    case 413:
      phrase = "Payload Too Large";
      break;
    case 415:
      phrase = "Unsupported Media Type";
      break;
    case 500:
      phrase = "Internal Server Error";
      break;
    case 503:
      phrase = "Service Unavailable";
      break;
    default:
      break;
  }
  return phrase == nullptr ? absl::StrCat("HTTP ", status) : absl::StrCat(status, " ", phrase);
}

std::string ErrorDetail(std::string_view body) {
  std::string detail(absl::StripAsciiWhitespace(A(body)));
  for (char& c : detail) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (detail.size() > kMaxDetail) detail = detail.substr(0, kMaxDetail) + "...";
  return detail;
}

absl::StatusOr<std::string> CallJson(const google::protobuf::Message& call) {
  // protobuf's JSON printer aborts on a message with unset required fields.
  if (!call.IsInitialized()) {
    return absl::InternalError(
        absl::StrCat("cannot send ", call.GetTypeName(),
                     ": required fields are unset: ", call.InitializationErrorString()));
  }
  return common::MessageToJson(call);
}

std::string PrettyJson(const google::protobuf::Message& message) {
  if (!message.IsInitialized()) return message.DebugString();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    // Only messages with invalid UTF-8 in string fields fail; show them as text rather than
    // nothing.
    return message.DebugString();
  }
  return out;
}

common::HttpClient::Options ClientOptions(const GlobalOptions& global) {
  common::HttpClient::Options options;
  options.timeout =
      std::max(std::chrono::milliseconds(1),
               std::chrono::duration_cast<std::chrono::milliseconds>(global.request_timeout));
  return options;
}

MasterClient::MasterClient(const GlobalOptions& global)
    : address_(global.master),
      http_(global.master_host, global.master_port, ClientOptions(global)) {}

absl::StatusOr<Response> MasterClient::Call(const OperatorCall& call) {
  absl::StatusOr<std::string> body = CallJson(call);
  if (!body.ok()) return body.status();
  common::HttpRequest request;
  request.method = "POST";
  request.target = "/api/v1";
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = *std::move(body);
  absl::StatusOr<common::HttpResponse> answer = http_.Send(request);
  const std::string type = OperatorCall::Type_Name(call.type());
  if (!answer.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the master: ", answer.status().message()));
  }
  if (answer->status == 307) {
    const std::optional<std::string_view> location = answer->Header("Location");
    return absl::FailedPreconditionError(absl::StrCat(
        "the master at ", address_, " is not the leading master; it redirects to ",
        location ? A(*location) : "an unknown location", " (use that address with --master)"));
  }
  if (answer->status < 200 || answer->status >= 300) {
    std::string detail = ErrorDetail(answer->body);
    return absl::FailedPreconditionError(absl::StrCat("the master refused ", type, " (",
                                                      HttpStatusText(answer->status), ")",
                                                      detail.empty() ? "" : ": ", detail));
  }
  Response response;
  if (answer->body.empty()) return response;
  if (absl::Status s = common::JsonToMessage(answer->body, &response); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("cannot read the master's answer to ", type, ": ", s.message()));
  }
  return response;
}

absl::StatusOr<std::string> HttpGet(common::HttpClient& client, std::string_view who,
                                    const std::string& target) {
  absl::StatusOr<common::HttpResponse> answer = client.Get(target);
  if (!answer.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", A(who), ": ", answer.status().message()));
  }
  if (answer->status == 200) return std::move(answer->body);
  std::string detail = ErrorDetail(answer->body);
  std::string message = absl::StrCat(A(who), " answered ", HttpStatusText(answer->status),
                                     " to GET ", target, detail.empty() ? "" : ": ", detail);
  if (answer->status == 404) return absl::NotFoundError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace steward::cli
