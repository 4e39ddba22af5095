#include "allocator/quantities.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/strings.h"
#include "allocator/resources.h"

namespace steward::allocator {
namespace {

std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

absl::StatusOr<ResourceQuantities> ResourceQuantities::Parse(std::string_view text) {
  ResourceQuantities result;
  int index = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = Strip(text.substr(start, end - start));
    start = end + 1;
    ++index;
    if (entry.empty()) continue;
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "quantity ", index, " (\"", internal::Av(entry), "\"): ", internal::Av(why)));
    };
    size_t colon = entry.find(':');
    if (colon == std::string_view::npos) return fail("expected name:value");
    std::string_view name = Strip(entry.substr(0, colon));
    std::string_view value = Strip(entry.substr(colon + 1));
    if (!ValidName(name)) return fail("invalid resource name (reservations are not allowed here)");
    double units = 0;
    if (value.empty() || !absl::SimpleAtod(internal::Av(value), &units) ||
        value.find_first_of("xXnN") != std::string_view::npos) {
      return fail("value is not a decimal number");
    }
    absl::StatusOr<int64_t> milli = UnitsToMilli(units);
    if (!milli.ok()) {
      absl::string_view message = milli.status().message();
      return fail(std::string_view(message.data(), message.size()));
    }
    int64_t sum = result.Get(name) + *milli;
    if (static_cast<double>(sum) > kMaxScalarUnits * kMilliPerUnit) return fail("value too large");
    result.Set(name, sum);
  }
  return result;
}

bool ResourceQuantities::Has(std::string_view name) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return e.first == name; });
}

int64_t ResourceQuantities::Get(std::string_view name) const {
  for (const auto& [n, v] : entries_) {
    if (n == name) return v;
  }
  return 0;
}

void ResourceQuantities::Set(std::string_view name, int64_t milli) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it != entries_.end() && it->first == name) {
    it->second = milli;
  } else {
    entries_.insert(it, {std::string(name), milli});
  }
}

std::string ResourceQuantities::ToString() const {
  std::string out;
  for (const auto& [name, milli] : entries_) {
    if (!out.empty()) out += ';';
    absl::StrAppend(&out, name, ":", FormatMilli(milli));
  }
  return out;
}

}  // namespace steward::allocator
