#include "traces/internal/fields.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace steward::traces::internal {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string_view Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsBlank(text[begin])) ++begin;
  while (end > begin && IsBlank(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

void SplitCsv(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields->push_back(Trim(line.substr(start)));
      return;
    }
    fields->push_back(Trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

void SplitWhitespace(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    const size_t begin = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (i > begin) fields->push_back(line.substr(begin, i - begin));
  }
}

bool ParseDouble(std::string_view text, double* out) {
  text = Trim(text);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return false;
  }
  *out = value;
  return true;
}

bool ParseInt(std::string_view text, int64_t* out) {
  text = Trim(text);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc() && end == text.data() + text.size()) {
    *out = value;
    return true;
  }
  // An integral float ("18.00", "1e3"), within the range where doubles are exact.
  double real = 0;
  if (!ParseDouble(text, &real) || real != std::trunc(real) || std::fabs(real) > 9.0e15) {
    return false;
  }
  *out = static_cast<int64_t>(real);
  return true;
}

}  // namespace steward::traces::internal
