#include "allocator/resources.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace steward::allocator {
namespace {

// The Debian build of Abseil has its own absl::string_view type, distinct from std::string_view;
// this helper converts without copying.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr int64_t kMaxMilli = static_cast<int64_t>(kMaxScalarUnits) * kMilliPerUnit;
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();

using Interval = RangeSet::Interval;

// ---------------------------------------------------------------------------------------------
// Small text helpers.

bool IsSpace(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on every `sep`; always returns at least one (possibly empty) piece.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      pieces.push_back(s.substr(start));
      return pieces;
    }
    pieces.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Quotes `s` for an error message, escaping anything unprintable.
std::string Quote(std::string_view s) {
  return absl::StrFormat("\"%s\"", absl::CEscape(ToAbsl(s)));
}

// Resource names: [A-Za-z0-9_.-]+.
bool IsNameChar(char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; }
// Set items: [A-Za-z0-9_.:/-]+.
bool IsSetItemChar(char c) { return IsNameChar(c) || c == ':' || c == '/'; }

bool IsValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsNameChar);
}

absl::Status ValidateName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty resource name");
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid resource name %s (allowed: [A-Za-z0-9_.-])", Quote(name)));
  }
  return absl::OkStatus();
}

// True for a plain decimal literal: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?.
// Used to keep SimpleAtod's hexadecimal, "nan" and "inf" spellings out of the text notation.
bool IsDecimalLiteral(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t begin = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i - begin;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa_digits = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa_digits += digits();
  }
  if (mantissa_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Why `units` is not an acceptable scalar amount, or nullopt if it is.
std::optional<std::string> ScalarProblem(double units) {
  if (std::isnan(units)) return "NaN is not allowed";
  if (std::isinf(units)) return "infinite value is not allowed";
  if (units < 0) return "negative value";
  if (units > kMaxScalarUnits) {
    return absl::StrFormat("value exceeds the maximum of %s units", FormatMilli(kMaxMilli));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Value parsers for the text notation. Errors carry only the reason; Resources::Parse adds the
// entry context.

absl::StatusOr<int64_t> ParseScalarValue(std::string_view text) {
  double units = 0;
  if (!absl::SimpleAtod(ToAbsl(text), &units)) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid scalar value %s", Quote(text)));
  }
  if (std::isnan(units)) return absl::InvalidArgumentError("NaN is not allowed");
  if (!IsDecimalLiteral(text)) {
    if (std::isinf(units)) return absl::InvalidArgumentError("infinite value is not allowed");
    return absl::InvalidArgumentError(absl::StrFormat("invalid scalar value %s", Quote(text)));
  }
  if (std::isinf(units)) {
    // A decimal literal too large for a double, e.g. "1e400".
    return absl::InvalidArgumentError(absl::StrFormat("value %s out of range", Quote(text)));
  }
  if (std::optional<std::string> problem = ScalarProblem(units)) {
    return absl::InvalidArgumentError(*problem);
  }
  return std::llround(units * static_cast<double>(kMilliPerUnit));
}

absl::StatusOr<uint64_t> ParseUint64(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("missing number in range");
  uint64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) {
      return absl::InvalidArgumentError(absl::StrFormat("invalid number %s in range", Quote(text)));
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kUint64Max - digit) / 10) {
      return absl::InvalidArgumentError(
          absl::StrFormat("number %s in range exceeds %d", Quote(text), kUint64Max));
    }
    value = value * 10 + digit;
  }
  return value;
}

// `text` is the whole stripped value, starting with '['.
absl::StatusOr<RangeSet> ParseRangesValue(std::string_view text) {
  if (text.size() < 2 || text.back() != ']') {
    return absl::InvalidArgumentError("unbalanced '[': range list must end with ']'");
  }
  const std::string_view inner = Strip(text.substr(1, text.size() - 2));
  if (inner.empty()) return RangeSet();
  std::vector<Interval> intervals;
  for (std::string_view item : Split(inner, ',')) {
    item = Strip(item);
    if (item.empty()) return absl::InvalidArgumentError("empty range in range list");
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("range %s is not of the form a-b", Quote(item)));
    }
    absl::StatusOr<uint64_t> first = ParseUint64(Strip(item.substr(0, dash)));
    if (!first.ok()) return first.status();
    absl::StatusOr<uint64_t> second = ParseUint64(Strip(item.substr(dash + 1)));
    if (!second.ok()) return second.status();
    if (*first > *second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("range %s has start greater than end", Quote(item)));
    }
    intervals.emplace_back(*first, *second);
  }
  return RangeSet::FromIntervals(std::move(intervals));
}

// `text` is the whole stripped value, starting with '{'.
absl::StatusOr<std::vector<std::string>> ParseSetValue(std::string_view text) {
  if (text.size() < 2 || text.back() != '}') {
    return absl::InvalidArgumentError("unbalanced '{': set must end with '}'");
  }
  const std::string_view inner = Strip(text.substr(1, text.size() - 2));
  std::vector<std::string> items;
  if (inner.empty()) return items;
  for (std::string_view item : Split(inner, ',')) {
    item = Strip(item);
    if (item.empty()) return absl::InvalidArgumentError("empty item in set");
    if (!std::all_of(item.begin(), item.end(), IsSetItemChar)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("invalid set item %s (allowed: [A-Za-z0-9_.:/-])", Quote(item)));
    }
    items.emplace_back(item);
  }
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

// Parses one stripped, non-empty entry `name[(role)]:value`. The result may be empty (zero
// scalar, "[]" or "{}"); the caller drops it.
absl::StatusOr<Resource> ParseEntry(std::string_view entry) {
  const size_t colon = entry.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("missing ':' between name and value");
  }
  const std::string_view head = Strip(entry.substr(0, colon));
  const std::string_view value = Strip(entry.substr(colon + 1));

  Resource resource;
  std::string_view name = head;
  const size_t open = head.find('(');
  if (open != std::string_view::npos) {
    if (head.back() != ')') return absl::InvalidArgumentError("unbalanced '(' in reservation");
    name = Strip(head.substr(0, open));
    const std::string_view role = Strip(head.substr(open + 1, head.size() - open - 2));
    if (role != "*") {
      if (absl::Status status = ValidateRolePath(role); !status.ok()) return status;
      resource.reservation = std::string(role);
    }
  }
  if (absl::Status status = ValidateName(name); !status.ok()) return status;
  resource.name = std::string(name);

  if (value.empty()) return absl::InvalidArgumentError("missing value");
  if (value.front() == '[') {
    absl::StatusOr<RangeSet> ranges = ParseRangesValue(value);
    if (!ranges.ok()) return ranges.status();
    resource.kind = ResourceKind::kRanges;
    resource.ranges = *std::move(ranges);
  } else if (value.front() == '{') {
    absl::StatusOr<std::vector<std::string>> items = ParseSetValue(value);
    if (!items.ok()) return items.status();
    resource.kind = ResourceKind::kSet;
    resource.items = *std::move(items);
  } else {
    absl::StatusOr<int64_t> milli = ParseScalarValue(value);
    if (!milli.ok()) return milli.status();
    resource.kind = ResourceKind::kScalar;
    resource.scalar = *milli;
  }
  return resource;
}

// ---------------------------------------------------------------------------------------------
// Entry helpers.

const char* KindName(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kScalar:
      return "scalar";
    case ResourceKind::kRanges:
      return "ranges";
    case ResourceKind::kSet:
      return "set";
  }
  return "unknown";
}

bool IsEmptyValue(const Resource& r) {
  switch (r.kind) {
    case ResourceKind::kScalar:
      return r.scalar == 0;
    case ResourceKind::kRanges:
      return r.ranges.empty();
    case ResourceKind::kSet:
      return r.items.empty();
  }
  return true;
}

using Key = std::pair<std::string_view, std::string_view>;

Key KeyOf(const Resource& r) { return Key(r.name, r.reservation); }

// First entry whose (name, reservation) is not less than `key`.
std::vector<Resource>::const_iterator LowerBound(const std::vector<Resource>& entries,
                                                 const Key& key) {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const Resource& r, const Key& k) { return KeyOf(r) < k; });
}
std::vector<Resource>::iterator LowerBound(std::vector<Resource>& entries, const Key& key) {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const Resource& r, const Key& k) { return KeyOf(r) < k; });
}

const Resource* FindExact(const std::vector<Resource>& entries, std::string_view name,
                          std::string_view reservation) {
  auto it = LowerBound(entries, Key(name, reservation));
  if (it == entries.end() || KeyOf(*it) != Key(name, reservation)) return nullptr;
  return &*it;
}

template <typename Pred>
std::vector<Resource> FilterEntries(const std::vector<Resource>& entries, Pred pred) {
  std::vector<Resource> out;
  std::copy_if(entries.begin(), entries.end(), std::back_inserter(out), pred);
  return out;
}

std::vector<std::string> SetUnion(const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
  std::vector<std::string> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<std::string> SetDifference(const std::vector<std::string>& a,
                                       const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

bool Covers(const Resource& have, const Resource& want) {
  if (have.kind != want.kind) return false;
  switch (want.kind) {
    case ResourceKind::kScalar:
      return have.scalar >= want.scalar;
    case ResourceKind::kRanges:
      return have.ranges.Contains(want.ranges);
    case ResourceKind::kSet:
      return std::includes(have.items.begin(), have.items.end(), want.items.begin(),
                           want.items.end());
  }
  return false;
}

// Sorts and merges overlapping or adjacent intervals. Every interval must have first <= second.
RangeSet::Intervals Normalize(RangeSet::Intervals intervals) {
  std::sort(intervals.begin(), intervals.end());
  RangeSet::Intervals out;
  out.reserve(intervals.size());
  for (const Interval& next : intervals) {
    if (!out.empty()) {
      Interval& last = out.back();
      // next.first >= last.first. Merge when overlapping or adjacent; when
      // next.first > last.second, next.first >= 1 so next.first - 1 cannot wrap.
      if (next.first <= last.second || next.first - 1 == last.second) {
        last.second = std::max(last.second, next.second);
        continue;
      }
    }
    out.push_back(next);
  }
  return out;
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Scalars.

absl::StatusOr<int64_t> UnitsToMilli(double units) {
  if (std::optional<std::string> problem = ScalarProblem(units)) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid scalar %g: %s", units, *problem));
  }
  return std::llround(units * static_cast<double>(kMilliPerUnit));
}

std::string FormatMilli(int64_t milli) {
  // Work on the magnitude as unsigned so INT64_MIN does not overflow.
  const uint64_t magnitude =
      milli < 0 ? 0 - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  const uint64_t per_unit = static_cast<uint64_t>(kMilliPerUnit);
  std::string out = absl::StrFormat("%s%d", milli < 0 ? "-" : "", magnitude / per_unit);
  const uint64_t fraction = magnitude % per_unit;
  if (fraction != 0) {
    std::string digits = absl::StrFormat("%03d", fraction);
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

// -----------------------------------------------------------------------------------------------
// RangeSet.

void RangeSet::Assign(Intervals intervals) {
  if (intervals.empty()) {
    shared_.reset();
  } else {
    shared_ = std::make_shared<const Intervals>(std::move(intervals));
  }
}

const RangeSet::Intervals& RangeSet::Empty() {
  static const Intervals* const empty = new Intervals();
  return *empty;
}

absl::StatusOr<RangeSet> RangeSet::FromIntervals(std::vector<Interval> intervals) {
  for (const Interval& interval : intervals) {
    if (interval.first > interval.second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "invalid interval [%d-%d]: start greater than end", interval.first, interval.second));
    }
  }
  RangeSet result;
  result.Assign(Normalize(RangeSet::Intervals(intervals.begin(), intervals.end())));
  return result;
}

uint64_t RangeSet::Count() const {
  uint64_t total = 0;
  for (const Interval& interval : intervals()) {
    const uint64_t span = interval.second - interval.first;  // count - 1
    if (span == kUint64Max || total > kUint64Max - span - 1) return kUint64Max;
    total += span + 1;
  }
  return total;
}

bool RangeSet::Contains(uint64_t value) const {
  // The last interval starting at or before `value`.
  auto it = std::upper_bound(intervals().begin(), intervals().end(), value,
                             [](uint64_t v, const Interval& i) { return v < i.first; });
  if (it == intervals().begin()) return false;
  --it;
  return value <= it->second;
}

bool RangeSet::Contains(const RangeSet& other) const {
  // Intervals are disjoint and non-adjacent, so each interval of `other` must lie within a
  // single interval of this set.
  auto it = intervals().begin();
  for (const Interval& want : other.intervals()) {
    while (it != intervals().end() && it->second < want.first) ++it;
    if (it == intervals().end() || it->first > want.first || it->second < want.second) {
      return false;
    }
  }
  return true;
}

void RangeSet::Add(const RangeSet& other) {
  if (other.intervals().empty()) return;
  if (intervals().empty()) {
    shared_ = other.shared_;  // immutable: share it
    return;
  }
  // Both lists are sorted and disjoint: merge them in one pass, in order of start, joining
  // overlapping or adjacent intervals as Normalize does, into a scratch list on the stack
  // (heap only past 64 intervals); the result is then allocated once, at its size (often one
  // interval, which needs no heap).
  const Intervals& a = intervals();
  const Intervals& b = other.intervals();
  absl::InlinedVector<Interval, 64> merged;
  Interval last = (b[0].first < a[0].first) ? b[0] : a[0];
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    const Interval& next =
        (j == b.size() || (i < a.size() && a[i].first <= b[j].first)) ? a[i++] : b[j++];
    // next.first >= last.first; see Normalize for why next.first - 1 cannot wrap.
    if (next.first <= last.second || next.first - 1 == last.second) {
      last.second = std::max(last.second, next.second);
      continue;
    }
    merged.push_back(last);
    last = next;
  }
  merged.push_back(last);
  Assign(Intervals(merged.begin(), merged.end()));
}

void RangeSet::Subtract(const RangeSet& other) {
  if (other.intervals().empty() || intervals().empty()) return;
  RangeSet::Intervals out;
  auto skip = other.intervals().begin();
  for (const Interval& have : intervals()) {
    // Skip the removals lying entirely before this interval; they cannot touch later ones.
    while (skip != other.intervals().end() && skip->second < have.first) ++skip;
    uint64_t low = have.first;  // start of the part of `have` not yet processed
    bool remaining = true;
    for (auto cut = skip; cut != other.intervals().end() && cut->first <= have.second; ++cut) {
      // cut->second >= have.first here and cut->first <= have.second: they overlap.
      if (cut->first > low) out.emplace_back(low, cut->first - 1);
      if (cut->second >= have.second) {
        remaining = false;
        break;
      }
      low = std::max(low, cut->second + 1);  // cut->second < have.second <= UINT64_MAX
    }
    if (remaining) out.emplace_back(low, have.second);
  }
  Assign(std::move(out));
}

RangeSet RangeSet::Intersect(const RangeSet& other) const {
  RangeSet result;
  RangeSet::Intervals out;
  auto a = intervals().begin();
  auto b = other.intervals().begin();
  while (a != intervals().end() && b != other.intervals().end()) {
    const uint64_t low = std::max(a->first, b->first);
    const uint64_t high = std::min(a->second, b->second);
    if (low <= high) out.emplace_back(low, high);
    if (a->second < b->second) {
      ++a;
    } else {
      ++b;
    }
  }
  result.Assign(std::move(out));
  return result;
}

std::string RangeSet::ToString() const {
  std::string out = "[";
  for (size_t i = 0; i < intervals().size(); ++i) {
    if (i > 0) out += ',';
    out += absl::StrFormat("%d-%d", intervals()[i].first, intervals()[i].second);
  }
  out += ']';
  return out;
}

// -----------------------------------------------------------------------------------------------
// Roles.

absl::Status ValidateRolePath(std::string_view role) {
  if (role.empty()) return absl::InvalidArgumentError("role must not be empty");
  if (role == "*") return absl::OkStatus();
  if (role.front() == '/' || role.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrFormat("role %s must not start or end with '/'", Quote(role)));
  }
  for (std::string_view segment : Split(role, '/')) {
    if (segment.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("role %s has an empty path segment", Quote(role)));
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrFormat("role %s must not contain '.' or '..' segments", Quote(role)));
    }
    if (segment.find('*') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("role %s: '*' is only valid as the whole role", Quote(role)));
    }
    if (!std::all_of(segment.begin(), segment.end(), IsNameChar)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "role %s has invalid characters (allowed: [A-Za-z0-9_.-] and '/')", Quote(role)));
    }
  }
  return absl::OkStatus();
}

bool IsSelfOrAncestor(std::string_view ancestor, std::string_view role) {
  if (ancestor == role) return true;
  if (ancestor.empty() || ancestor == "*") return false;
  return role.size() > ancestor.size() && role.substr(0, ancestor.size()) == ancestor &&
         role[ancestor.size()] == '/';
}

// -----------------------------------------------------------------------------------------------
// Resources.

absl::StatusOr<Resources> Resources::Parse(std::string_view text) {
  Resources result;
  const std::vector<std::string_view> pieces = Split(text, ';');
  size_t piece_offset = 0;  // offset of pieces[i] in `text`
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view raw = pieces[i];
    const std::string_view entry = Strip(raw);
    size_t offset = piece_offset;
    while (offset - piece_offset < raw.size() && IsSpace(raw[offset - piece_offset])) ++offset;
    piece_offset += raw.size() + 1;

    auto fail = [&](std::string_view reason) {
      return absl::InvalidArgumentError(
          absl::StrFormat("entry %d (%s) at offset %d: %s", i + 1, Quote(entry), offset, reason));
    };
    if (entry.empty()) {
      // Only the last piece may be blank: a trailing ';' or an entirely blank text.
      if (i + 1 == pieces.size()) continue;
      return fail("empty entry");
    }
    absl::StatusOr<Resource> resource = ParseEntry(entry);
    if (!resource.ok()) {
      const absl::string_view message = resource.status().message();
      return fail(std::string_view(message.data(), message.size()));
    }
    if (absl::Status status = result.Merge(*resource); !status.ok()) {
      const absl::string_view message = status.message();
      return fail(std::string_view(message.data(), message.size()));
    }
  }
  return result;
}

absl::StatusOr<Resources> Resources::Scalar(std::string_view name, double units) {
  if (absl::Status status = ValidateName(name); !status.ok()) return status;
  absl::StatusOr<int64_t> milli = UnitsToMilli(units);
  if (!milli.ok()) return milli.status();
  Resources result;
  if (*milli == 0) return result;
  Resource entry;
  entry.name = std::string(name);
  entry.kind = ResourceKind::kScalar;
  entry.scalar = *milli;
  result.Mutable().push_back(std::move(entry));
  return result;
}

absl::StatusOr<Resources> Resources::FromEntries(std::vector<Resource> entries) {
  Resources result;
  for (Resource& entry : entries) {
    if (absl::Status status = ValidateName(entry.name); !status.ok()) return status;
    if (entry.reservation == "*") entry.reservation.clear();
    if (!entry.reservation.empty()) {
      if (absl::Status status = ValidateRolePath(entry.reservation); !status.ok()) return status;
    }
    switch (entry.kind) {
      case ResourceKind::kScalar:
        if (entry.scalar < 0 || entry.scalar > kMaxMilli) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "amount of %s out of range: %d milli-units", Quote(entry.name), entry.scalar));
        }
        break;
      case ResourceKind::kRanges:
        break;  // a RangeSet is canonical by construction
      case ResourceKind::kSet:
        for (const std::string& item : entry.items) {
          if (item.empty() || !std::all_of(item.begin(), item.end(), IsSetItemChar)) {
            return absl::InvalidArgumentError(
                absl::StrFormat("invalid item %s in set %s", Quote(item), Quote(entry.name)));
          }
        }
        std::sort(entry.items.begin(), entry.items.end());
        entry.items.erase(std::unique(entry.items.begin(), entry.items.end()), entry.items.end());
        break;
    }
    if (absl::Status status = result.Merge(entry); !status.ok()) return status;
  }
  return result;
}

Resources Resources::FromCanonicalEntries(std::vector<Resource> entries) {
  Resources result;
  result.Assign(std::move(entries));
  return result;
}

const std::vector<Resource>& Resources::NoEntries() {
  static const std::vector<Resource>* const empty = new std::vector<Resource>();
  return *empty;
}

void Resources::Assign(std::vector<Resource> entries) {
  if (entries.empty()) {
    rep_.reset();
  } else {
    rep_ = std::make_shared<std::vector<Resource>>(std::move(entries));
  }
}

std::vector<Resource>& Resources::Mutable() {
  if (rep_ == nullptr) {
    rep_ = std::make_shared<std::vector<Resource>>();
  } else if (rep_.use_count() > 1) {
    rep_ = std::make_shared<std::vector<Resource>>(*rep_);  // copy on write
  }
  return *rep_;
}

std::string Resources::ToString() const {
  std::string out;
  for (const Resource& r : entries()) {
    if (!out.empty()) out += ';';
    out += r.name;
    if (!r.unreserved()) {
      out += '(';
      out += r.reservation;
      out += ')';
    }
    out += ':';
    switch (r.kind) {
      case ResourceKind::kScalar:
        out += FormatMilli(r.scalar);
        break;
      case ResourceKind::kRanges:
        out += r.ranges.ToString();
        break;
      case ResourceKind::kSet:
        out += '{';
        for (size_t i = 0; i < r.items.size(); ++i) {
          if (i > 0) out += ',';
          out += r.items[i];
        }
        out += '}';
        break;
    }
  }
  return out;
}

absl::Status Resources::CheckMerge(const Resource& entry) const {
  if (IsEmptyValue(entry)) return absl::OkStatus();
  // Entries of one name are contiguous and start at (name, "") in the sort order.
  const std::vector<Resource>& have = entries();
  for (auto it = LowerBound(have, Key(entry.name, "")); it != have.end() && it->name == entry.name;
       ++it) {
    if (it->kind != entry.kind) {
      return absl::InvalidArgumentError(absl::StrFormat("resource %s is used as both %s and %s",
                                                        Quote(entry.name), KindName(it->kind),
                                                        KindName(entry.kind)));
    }
    // Both operands are at most kMaxMilli, so the sum cannot overflow int64.
    if (entry.kind == ResourceKind::kScalar && it->reservation == entry.reservation &&
        it->scalar + entry.scalar > kMaxMilli) {
      return absl::InvalidArgumentError(absl::StrFormat("sum of %s exceeds the maximum of %s units",
                                                        Quote(entry.name), FormatMilli(kMaxMilli)));
    }
  }
  return absl::OkStatus();
}

absl::Status Resources::Merge(const Resource& entry) {
  if (absl::Status status = CheckMerge(entry); !status.ok()) return status;
  MergeChecked(entry);
  return absl::OkStatus();
}

void Resources::MergeChecked(const Resource& entry) {
  if (IsEmptyValue(entry)) return;
  std::vector<Resource>& entries = Mutable();
  auto it = LowerBound(entries, KeyOf(entry));
  if (it == entries.end() || KeyOf(*it) != KeyOf(entry)) {
    entries.insert(it, entry);
    return;
  }
  switch (entry.kind) {
    case ResourceKind::kScalar:
      it->scalar += entry.scalar;
      break;
    case ResourceKind::kRanges:
      it->ranges.Add(entry.ranges);
      break;
    case ResourceKind::kSet:
      it->items = SetUnion(it->items, entry.items);
      break;
  }
}

absl::Status Resources::Add(const Resources& other) {
  if (other.empty()) return absl::OkStatus();
  if (empty()) {
    rep_ = other.rep_;  // both canonical: share the entries
    return absl::OkStatus();
  }
  if (&other == this) {
    const Resources copy = other;
    return Add(copy);
  }
  // Check everything first, so that a failure leaves *this unchanged without working on a
  // copy. `other` is canonical: one kind per name and each (name, reservation) once, so every
  // entry meets at most one entry of *this with its key and merging never changes a kind.
  for (const Resource& entry : other.entries()) {
    if (absl::Status status = CheckMerge(entry); !status.ok()) return status;
  }
  for (const Resource& entry : other.entries()) MergeChecked(entry);
  return absl::OkStatus();
}

absl::Status Resources::Subtract(const Resources& other) {
  if (!Contains(other)) {
    return absl::InvalidArgumentError(absl::StrFormat("cannot subtract %s from %s: not contained",
                                                      Quote(other.ToString()), Quote(ToString())));
  }
  // Contains() guarantees every entry below exists with the same kind and covers `entry`. Work
  // on a copy: `other` may be `*this`, whose entries must not shift while we iterate them.
  std::vector<Resource> result = entries();
  for (const Resource& entry : other.entries()) {
    auto it = LowerBound(result, KeyOf(entry));
    if (it == result.end() || KeyOf(*it) != KeyOf(entry)) continue;  // only empty entries
    switch (entry.kind) {
      case ResourceKind::kScalar:
        it->scalar -= entry.scalar;
        break;
      case ResourceKind::kRanges:
        it->ranges.Subtract(entry.ranges);
        break;
      case ResourceKind::kSet:
        it->items = SetDifference(it->items, entry.items);
        break;
    }
    if (IsEmptyValue(*it)) result.erase(it);
  }
  Assign(std::move(result));
  return absl::OkStatus();
}

bool Resources::Contains(const Resources& other) const {
  if (rep_ == other.rep_) return true;
  for (const Resource& want : other.entries()) {
    const Resource* have = FindExact(entries(), want.name, want.reservation);
    if (have == nullptr) {
      if (IsEmptyValue(want)) continue;
      return false;
    }
    if (!Covers(*have, want)) return false;
  }
  return true;
}

template <typename Pred>
Resources Resources::Filter(Pred pred) const {
  if (std::all_of(entries().begin(), entries().end(), pred)) return *this;  // shares storage
  Resources result;
  result.Assign(FilterEntries(entries(), pred));
  return result;
}

Resources Resources::Unreserved() const {
  return Filter([](const Resource& r) { return r.unreserved(); });
}

Resources Resources::ReservedTo(std::string_view role) const {
  return Filter([role](const Resource& r) { return !r.unreserved() && r.reservation == role; });
}

Resources Resources::Reserved() const {
  return Filter([](const Resource& r) { return !r.unreserved(); });
}

Resources Resources::AllocatableTo(std::string_view role) const {
  return Filter([role](const Resource& r) {
    return r.unreserved() || IsSelfOrAncestor(r.reservation, role);
  });
}

Resources Resources::Scalars() const {
  return Filter([](const Resource& r) { return r.kind == ResourceKind::kScalar; });
}

Resources Resources::NonScalars() const {
  return Filter([](const Resource& r) { return r.kind != ResourceKind::kScalar; });
}

int64_t Resources::ScalarMilli(std::string_view name) const {
  int64_t total = 0;
  const std::vector<Resource>& have = entries();
  for (auto it = LowerBound(have, Key(name, "")); it != have.end() && it->name == name; ++it) {
    if (it->kind != ResourceKind::kScalar) continue;
    // Saturate rather than overflow (would need ~9000 reservations at the maximum).
    total = it->scalar > std::numeric_limits<int64_t>::max() - total
                ? std::numeric_limits<int64_t>::max()
                : total + it->scalar;
  }
  return total;
}

bool Resources::Has(std::string_view name) const {
  auto it = LowerBound(entries(), Key(name, ""));
  return it != entries().end() && it->name == name;
}

Resources Resources::WithReservation(std::string_view role) const {
  const std::string reservation = role == "*" ? std::string() : std::string(role);
  std::vector<Resource> out;
  // Entries are sorted by name first, so all entries of one name are adjacent; they share a
  // kind and collapse into a single entry.
  for (const Resource& entry : entries()) {
    if (!out.empty() && out.back().name == entry.name) {
      Resource& merged = out.back();
      switch (entry.kind) {
        case ResourceKind::kScalar:
          // Only reachable with several reservations near kMaxScalarUnits each; clamp rather
          // than exceed the documented maximum.
          merged.scalar = std::min(merged.scalar + entry.scalar, kMaxMilli);
          break;
        case ResourceKind::kRanges:
          merged.ranges.Add(entry.ranges);
          break;
        case ResourceKind::kSet:
          merged.items = SetUnion(merged.items, entry.items);
          break;
      }
      continue;
    }
    Resource copy = entry;
    copy.reservation = reservation;
    out.push_back(std::move(copy));
  }
  Resources result;
  result.Assign(std::move(out));
  return result;
}

}  // namespace steward::allocator
