// Plain HTTP request and response values shared by HttpServer and HttpClient. They carry no
// Beast types, so callers do not compile Beast.
#ifndef STEWARD_COMMON_HTTP_TYPES_H_
#define STEWARD_COMMON_HTTP_TYPES_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace steward::common {

// Header fields in arrival order; names compare case-insensitively through FindHeader.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first field named `name` (case-insensitive), if any.
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // As sent: path and query, "/api/v1?x=1".
  std::string path;    // Target up to the first '?'.
  std::string query;   // After the '?', or empty.
  HttpHeaders headers;
  std::string body;  // Complete, de-chunked.
  std::string peer;  // The client's "address:port" (set by HttpServer).

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

}  // namespace steward::common

#endif  // STEWARD_COMMON_HTTP_TYPES_H_
