#include "agent/internal/files_api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json_writer.h"

namespace steward::agent::internal {
namespace {

common::HttpResponse Text(int status, std::string body) {
  common::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain");
  response.body = std::move(body) + "\n";
  return response;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

bool IsUnder(const std::string& path, const std::string& root) {
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         path[root.size()] == '/';
}

}  // namespace

absl::StatusOr<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) {
        return absl::InvalidArgumentError("truncated %-escape in the query");
      }
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return absl::InvalidArgumentError("bad %-escape in the query");
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

common::HttpResponse ServeFilesRead(const std::string& work_dir,
                                    const common::HttpRequest& request) {
  std::map<std::string, std::string> params;
  for (absl::string_view piece : absl::StrSplit(request.query, '&', absl::SkipEmpty())) {
    const std::string_view pair(piece.data(), piece.size());
    const size_t equals = pair.find('=');
    absl::StatusOr<std::string> key = UrlDecode(pair.substr(0, equals));
    absl::StatusOr<std::string> value =
        UrlDecode(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    if (!key.ok()) return Text(400, std::string(key.status().message()));
    if (!value.ok()) return Text(400, std::string(value.status().message()));
    params[*key] = *value;
  }
  const auto path_it = params.find("path");
  if (path_it == params.end() || path_it->second.empty()) {
    return Text(400, "missing query parameter 'path'");
  }
  const std::string& path = path_it->second;
  int64_t offset = 0;
  if (auto it = params.find("offset"); it != params.end()) {
    if (!absl::SimpleAtoi(it->second, &offset) || offset < -1) {
      return Text(400, absl::StrCat("bad offset '", it->second, "': need -1 or an integer >= 0"));
    }
  }
  int64_t length = static_cast<int64_t>(kMaxFilesReadBytes);
  if (auto it = params.find("length"); it != params.end()) {
    if (!absl::SimpleAtoi(it->second, &length) || length < 0) {
      return Text(400, absl::StrCat("bad length '", it->second, "': need an integer >= 0"));
    }
    length = std::min(length, static_cast<int64_t>(kMaxFilesReadBytes));
  }

  if (path.front() != '/') return Text(400, absl::StrCat("path '", path, "' is not absolute"));
  for (absl::string_view component : absl::StrSplit(path, '/')) {
    if (component == "..") {
      return Text(400, absl::StrCat("path '", path, "' has a '..' component"));
    }
  }
  const std::optional<std::string> root = RealPath(work_dir + "/slaves");
  if (!root.has_value()) return Text(404, absl::StrCat("no sandboxes exist yet under ", work_dir));
  const std::optional<std::string> resolved = RealPath(path);
  if (!resolved.has_value()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Text(404, absl::StrCat("file '", path, "' does not exist"));
    }
    return Text(400, absl::StrCat("cannot resolve '", path, "': ", std::strerror(errno)));
  }
  if (!IsUnder(*resolved, *root)) {
    return Text(400, absl::StrCat("path '", path, "' is outside the agent's sandboxes"));
  }

  const int fd = ::open(resolved->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Text(404, absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Text(400, absl::StrCat("'", path, "' is not a regular file"));
  }
  const int64_t size = info.st_size;
  std::string data;
  if (offset == -1) {
    offset = size;
  } else if (offset < size && length > 0) {
    data.resize(static_cast<size_t>(std::min(length, size - offset)));
    size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::pread(fd, data.data() + got, data.size() - got,
                                static_cast<off_t>(offset) + static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    data.resize(got);
  }
  ::close(fd);
  common::HttpResponse response;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = absl::StrCat("{\"data\":", common::JsonQuote(data), ",\"offset\":", offset, "}");
  return response;
}

}  // namespace steward::agent::internal
