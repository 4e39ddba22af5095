#include "allocator/resources.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace steward::allocator {

// Readable failure output for EXPECT_EQ on these types (internal linkage, found by ADL).
static void PrintTo(const Resources& resources, std::ostream* os) {
  *os << "Resources(\"" << resources.ToString() << "\")";
}
static void PrintTo(const RangeSet& ranges, std::ostream* os) { *os << ranges.ToString(); }

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr int64_t kMaxMilli = 1'000'000'000'000'000;  // kMaxScalarUnits in milli-units

using Interval = RangeSet::Interval;
using Intervals = RangeSet::Intervals;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

bool HasSubstr(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Parses `text`, failing the test (and returning an empty bag) if it does not parse.
Resources MustParse(std::string_view text) {
  absl::StatusOr<Resources> parsed = Resources::Parse(text);
  EXPECT_TRUE(parsed.ok()) << "Parse(\"" << text << "\"): " << parsed.status();
  return parsed.ok() ? *parsed : Resources();
}

RangeSet MustRanges(Intervals intervals) {
  absl::StatusOr<RangeSet> ranges = RangeSet::FromIntervals({intervals.begin(), intervals.end()});
  EXPECT_TRUE(ranges.ok()) << ranges.status();
  return ranges.ok() ? *ranges : RangeSet();
}

// The canonical text of Parse(text), or "<error: ...>".
std::string Canonical(std::string_view text) {
  absl::StatusOr<Resources> parsed = Resources::Parse(text);
  if (!parsed.ok()) return absl::StrCat("<error: ", Message(parsed.status()), ">");
  return parsed->ToString();
}

// ---------------------------------------------------------------------------------------------
// UnitsToMilli / FormatMilli

TEST(UnitsToMilliTest, RoundsToNearestMilliUnit) {
  struct Case {
    double units;
    int64_t milli;
  };
  const Case cases[] = {
      {0.0, 0},       {0.0004, 0},          {0.00049, 0},      {0.0005, 1},    {0.0006, 1},
      {0.001, 1},     {0.0014999, 1},       {0.0015, 2},       {0.1, 100},     {0.5, 500},
      {1.0, 1000},    {1.9994, 1999},       {1.9995, 2000},    {1.9999, 2000}, {2.0004, 2000},
      {2.0006, 2001}, {4.0, 4000},          {8192.0, 8192000}, {0.333, 333},   {0.3334, 333},
      {2.675, 2675},  {1e9, 1000000000000}, {1e12, kMaxMilli},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> milli = UnitsToMilli(c.units);
    ASSERT_TRUE(milli.ok()) << c.units << ": " << milli.status();
    EXPECT_EQ(*milli, c.milli) << "units=" << c.units;
  }
}

TEST(UnitsToMilliTest, ExactHalvesRoundAwayFromZeroLikeLlround) {
  // 0.0625 * 1000 == 62.5 exactly; llround rounds halves away from zero (banker's would give 62).
  EXPECT_EQ(*UnitsToMilli(0.0625), 63);
  // 0.0025 * 1000 evaluates to exactly 2.5 as well; nearest-even would give 2.
  EXPECT_EQ(*UnitsToMilli(0.0025), 3);
  EXPECT_EQ(*UnitsToMilli(0.0005), 1);
  EXPECT_EQ(*UnitsToMilli(0.1875), 188);  // 187.5
  // Never truncates.
  EXPECT_EQ(*UnitsToMilli(0.0009999), 1);
  // Agrees with std::llround(units * 1000) over a sweep.
  for (int i = 0; i <= 20000; ++i) {
    const double units = i * 0.00037;
    EXPECT_EQ(*UnitsToMilli(units), std::llround(units * 1000)) << units;
  }
}

TEST(UnitsToMilliTest, AcceptsNegativeZeroAndDenormals) {
  EXPECT_EQ(*UnitsToMilli(-0.0), 0);
  EXPECT_EQ(*UnitsToMilli(std::numeric_limits<double>::denorm_min()), 0);
}

TEST(UnitsToMilliTest, RejectsInvalidValues) {
  const double bad[] = {
      std::numeric_limits<double>::quiet_NaN(),
      -std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      -1.0,
      -0.0001,
      -std::numeric_limits<double>::denorm_min(),
      std::nextafter(kMaxScalarUnits, std::numeric_limits<double>::infinity()),
      1e13,
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
  };
  for (double units : bad) {
    absl::StatusOr<int64_t> milli = UnitsToMilli(units);
    EXPECT_EQ(milli.status().code(), absl::StatusCode::kInvalidArgument) << units;
  }
  EXPECT_TRUE(HasSubstr(Message(UnitsToMilli(-1).status()), "negative"));
  EXPECT_TRUE(HasSubstr(Message(UnitsToMilli(std::nan("")).status()), "NaN"));
  EXPECT_TRUE(HasSubstr(Message(UnitsToMilli(1e13).status()), "maximum"));
}

TEST(FormatMilliTest, PrintsShortestDecimal) {
  EXPECT_EQ(FormatMilli(0), "0");
  EXPECT_EQ(FormatMilli(1), "0.001");
  EXPECT_EQ(FormatMilli(10), "0.01");
  EXPECT_EQ(FormatMilli(100), "0.1");
  EXPECT_EQ(FormatMilli(500), "0.5");
  EXPECT_EQ(FormatMilli(999), "0.999");
  EXPECT_EQ(FormatMilli(1000), "1");
  EXPECT_EQ(FormatMilli(1010), "1.01");
  EXPECT_EQ(FormatMilli(1500), "1.5");
  EXPECT_EQ(FormatMilli(4000), "4");
  EXPECT_EQ(FormatMilli(1234567), "1234.567");
  EXPECT_EQ(FormatMilli(8192000), "8192");
  EXPECT_EQ(FormatMilli(kMaxMilli), "1000000000000");
  EXPECT_EQ(FormatMilli(kMaxMilli - 1), "999999999999.999");
}

TEST(FormatMilliTest, NegativeAndExtremeValues) {
  EXPECT_EQ(FormatMilli(-1500), "-1.5");
  EXPECT_EQ(FormatMilli(-1), "-0.001");
  EXPECT_EQ(FormatMilli(std::numeric_limits<int64_t>::max()), "9223372036854775.807");
  EXPECT_EQ(FormatMilli(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
}

TEST(FormatMilliTest, ParsesBackExactly) {
  std::vector<int64_t> values;
  for (int64_t m = 1; m <= 3000; ++m) values.push_back(m);
  for (int64_t m = kMaxMilli - 3000; m <= kMaxMilli; ++m) values.push_back(m);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(1, kMaxMilli);
  for (int i = 0; i < 3000; ++i) values.push_back(dist(rng));
  for (int64_t m : values) {
    absl::StatusOr<Resources> parsed = Resources::Parse(absl::StrCat("cpus:", FormatMilli(m)));
    ASSERT_TRUE(parsed.ok()) << m << ": " << parsed.status();
    EXPECT_EQ(parsed->ScalarMilli("cpus"), m) << FormatMilli(m);
  }
}

// ---------------------------------------------------------------------------------------------
// RangeSet

TEST(RangeSetTest, DefaultIsEmpty) {
  RangeSet empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.Count(), 0u);
  EXPECT_EQ(empty.ToString(), "[]");
  EXPECT_FALSE(empty.Contains(uint64_t{0}));
  EXPECT_TRUE(empty.Contains(RangeSet()));
  EXPECT_EQ(MustRanges({}), empty);
}

TEST(RangeSetTest, FromIntervalsSortsAndMergesOverlapAndAdjacency) {
  EXPECT_EQ(MustRanges({{1, 2}, {3, 4}}).intervals(), (Intervals{{1, 4}}));
  EXPECT_EQ(MustRanges({{3, 4}, {1, 2}}).intervals(), (Intervals{{1, 4}}));
  EXPECT_EQ(MustRanges({{1, 5}, {3, 8}}).intervals(), (Intervals{{1, 8}}));
  EXPECT_EQ(MustRanges({{1, 10}, {3, 4}}).intervals(), (Intervals{{1, 10}}));
  EXPECT_EQ(MustRanges({{1, 2}, {4, 5}}).intervals(), (Intervals{{1, 2}, {4, 5}}));
  EXPECT_EQ(MustRanges({{7, 7}, {7, 7}}).intervals(), (Intervals{{7, 7}}));
  EXPECT_EQ(MustRanges({{5, 6}, {0, 0}, {1, 1}, {9, 9}, {2, 3}}).intervals(),
            (Intervals{{0, 3}, {5, 6}, {9, 9}}));
  EXPECT_EQ(MustRanges({{10, 20}, {1, 3}, {21, 21}, {4, 9}}).intervals(), (Intervals{{1, 21}}));
}

TEST(RangeSetTest, FromIntervalsHandlesUint64Extremes) {
  EXPECT_EQ(MustRanges({{0, 0}}).intervals(), (Intervals{{0, 0}}));
  EXPECT_EQ(MustRanges({{kMax, kMax}}).intervals(), (Intervals{{kMax, kMax}}));
  EXPECT_EQ(MustRanges({{kMax, kMax}, {kMax - 1, kMax - 1}}).intervals(),
            (Intervals{{kMax - 1, kMax}}));
  EXPECT_EQ(MustRanges({{0, kMax}, {kMax, kMax}, {0, 0}}).intervals(), (Intervals{{0, kMax}}));
  EXPECT_EQ(MustRanges({{0, kMax - 1}, {kMax, kMax}}).intervals(), (Intervals{{0, kMax}}));
  EXPECT_EQ(MustRanges({{0, 0}, {kMax, kMax}}).intervals(), (Intervals{{0, 0}, {kMax, kMax}}));
  EXPECT_EQ(MustRanges({{kMax - 5, kMax}, {0, kMax - 10}}).intervals(),
            (Intervals{{0, kMax - 10}, {kMax - 5, kMax}}));
}

TEST(RangeSetTest, FromIntervalsRejectsReversedInterval) {
  EXPECT_EQ(RangeSet::FromIntervals({{5, 4}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RangeSet::FromIntervals({{1, 2}, {kMax, 0}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RangeSetTest, CountSaturates) {
  EXPECT_EQ(MustRanges({{0, 0}}).Count(), 1u);
  EXPECT_EQ(MustRanges({{1, 10}, {20, 29}}).Count(), 20u);
  EXPECT_EQ(MustRanges({{kMax, kMax}}).Count(), 1u);
  EXPECT_EQ(MustRanges({{0, kMax - 1}}).Count(), kMax);
  EXPECT_EQ(MustRanges({{1, kMax}}).Count(), kMax);
  EXPECT_EQ(MustRanges({{0, kMax}}).Count(), kMax);
  EXPECT_EQ(MustRanges({{0, 5}, {7, kMax}}).Count(), kMax);
  EXPECT_EQ(MustRanges({{0, kMax - 3}, {kMax - 1, kMax}}).Count(), kMax);
  EXPECT_EQ(MustRanges({{0, kMax - 4}, {kMax - 1, kMax}}).Count(), kMax - 1);
}

TEST(RangeSetTest, ContainsValue) {
  const RangeSet r = MustRanges({{0, 0}, {10, 20}, {kMax, kMax}});
  EXPECT_TRUE(r.Contains(uint64_t{0}));
  EXPECT_FALSE(r.Contains(uint64_t{1}));
  EXPECT_FALSE(r.Contains(uint64_t{9}));
  EXPECT_TRUE(r.Contains(uint64_t{10}));
  EXPECT_TRUE(r.Contains(uint64_t{15}));
  EXPECT_TRUE(r.Contains(uint64_t{20}));
  EXPECT_FALSE(r.Contains(uint64_t{21}));
  EXPECT_FALSE(r.Contains(kMax - 1));
  EXPECT_TRUE(r.Contains(kMax));
}

TEST(RangeSetTest, ContainsRangeSet) {
  const RangeSet r = MustRanges({{10, 20}, {30, 40}});
  EXPECT_TRUE(r.Contains(RangeSet()));
  EXPECT_TRUE(r.Contains(r));
  EXPECT_TRUE(r.Contains(MustRanges({{10, 10}, {35, 40}})));
  EXPECT_TRUE(r.Contains(MustRanges({{12, 18}})));
  EXPECT_FALSE(r.Contains(MustRanges({{9, 10}})));
  EXPECT_FALSE(r.Contains(MustRanges({{20, 21}})));
  EXPECT_FALSE(r.Contains(MustRanges({{15, 35}})));  // spans the gap
  EXPECT_FALSE(r.Contains(MustRanges({{41, 41}})));
  EXPECT_FALSE(r.Contains(MustRanges({{12, 13}, {50, 50}})));
  EXPECT_FALSE(RangeSet().Contains(MustRanges({{0, 0}})));
  EXPECT_TRUE(MustRanges({{0, kMax}}).Contains(MustRanges({{0, 0}, {kMax, kMax}})));
}

TEST(RangeSetTest, AddMergesAdjacency) {
  RangeSet r = MustRanges({{1, 2}, {10, 12}});
  r.Add(MustRanges({{3, 9}}));
  EXPECT_EQ(r.intervals(), (Intervals{{1, 12}}));
  r.Add(RangeSet());
  EXPECT_EQ(r.intervals(), (Intervals{{1, 12}}));
  r.Add(MustRanges({{kMax, kMax}, {0, 0}}));
  EXPECT_EQ(r.intervals(), (Intervals{{0, 12}, {kMax, kMax}}));
  RangeSet empty;
  empty.Add(MustRanges({{4, 5}}));
  EXPECT_EQ(empty.intervals(), (Intervals{{4, 5}}));
}

TEST(RangeSetTest, SubtractSplitsAndTrims) {
  RangeSet r = MustRanges({{1, 10}});
  r.Subtract(MustRanges({{4, 6}}));
  EXPECT_EQ(r.intervals(), (Intervals{{1, 3}, {7, 10}}));
  r.Subtract(MustRanges({{1, 1}, {10, 10}}));
  EXPECT_EQ(r.intervals(), (Intervals{{2, 3}, {7, 9}}));
  r.Subtract(MustRanges({{3, 7}}));
  EXPECT_EQ(r.intervals(), (Intervals{{2, 2}, {8, 9}}));
  r.Subtract(MustRanges({{100, 200}}));  // absent values are ignored
  EXPECT_EQ(r.intervals(), (Intervals{{2, 2}, {8, 9}}));
  r.Subtract(MustRanges({{0, 1000}}));
  EXPECT_TRUE(r.empty());
}

TEST(RangeSetTest, SubtractManyCutsAcrossIntervals) {
  RangeSet r = MustRanges({{0, 9}, {20, 29}, {40, 49}});
  r.Subtract(MustRanges({{2, 3}, {5, 22}, {25, 25}, {29, 41}, {45, 45}, {49, 60}}));
  EXPECT_EQ(r.intervals(), (Intervals{{0, 1}, {4, 4}, {23, 24}, {26, 28}, {42, 44}, {46, 48}}));
}

TEST(RangeSetTest, SubtractAtUint64Extremes) {
  RangeSet all = MustRanges({{0, kMax}});
  RangeSet r = all;
  r.Subtract(MustRanges({{0, 0}}));
  EXPECT_EQ(r.intervals(), (Intervals{{1, kMax}}));
  r = all;
  r.Subtract(MustRanges({{kMax, kMax}}));
  EXPECT_EQ(r.intervals(), (Intervals{{0, kMax - 1}}));
  r = all;
  r.Subtract(MustRanges({{5, 10}}));
  EXPECT_EQ(r.intervals(), (Intervals{{0, 4}, {11, kMax}}));
  r = all;
  r.Subtract(MustRanges({{0, 0}, {kMax, kMax}}));
  EXPECT_EQ(r.intervals(), (Intervals{{1, kMax - 1}}));
  EXPECT_EQ(r.Count(), kMax - 1);
  r = all;
  r.Subtract(all);
  EXPECT_TRUE(r.empty());
  r = MustRanges({{kMax - 2, kMax}});
  r.Subtract(MustRanges({{kMax - 1, kMax - 1}}));
  EXPECT_EQ(r.intervals(), (Intervals{{kMax - 2, kMax - 2}, {kMax, kMax}}));
}

TEST(RangeSetTest, Intersect) {
  const RangeSet a = MustRanges({{0, 10}, {20, 30}, {kMax - 1, kMax}});
  const RangeSet b = MustRanges({{5, 25}, {30, 40}, {kMax, kMax}});
  EXPECT_EQ(a.Intersect(b).intervals(), (Intervals{{5, 10}, {20, 25}, {30, 30}, {kMax, kMax}}));
  EXPECT_EQ(b.Intersect(a), a.Intersect(b));
  EXPECT_TRUE(a.Intersect(RangeSet()).empty());
  EXPECT_EQ(a.Intersect(a), a);
  EXPECT_TRUE(MustRanges({{1, 2}}).Intersect(MustRanges({{3, 4}})).empty());
}

TEST(RangeSetTest, ToString) {
  EXPECT_EQ(MustRanges({{31000, 32000}, {33000, 33000}}).ToString(), "[31000-32000,33000-33000]");
  EXPECT_EQ(MustRanges({{0, kMax}}).ToString(), "[0-18446744073709551615]");
}

// Canonical intervals of a set of values, computed independently of RangeSet.
Intervals ModelIntervals(const std::set<uint64_t>& values) {
  Intervals out;
  for (uint64_t v : values) {
    if (!out.empty() && out.back().second != kMax && out.back().second + 1 == v) {
      out.back().second = v;
    } else {
      out.emplace_back(v, v);
    }
  }
  return out;
}

TEST(RangeSetTest, RandomizedAgainstModel) {
  // Values come from both ends of the uint64 range so the edge cases are exercised.
  std::vector<uint64_t> domain;
  for (uint64_t v = 0; v <= 40; ++v) domain.push_back(v);
  for (uint64_t v = kMax - 40; v != 0; ++v) domain.push_back(v);  // wraps to 0 after kMax
  std::mt19937_64 rng(20240601);
  auto random_model = [&] {
    std::set<uint64_t> values;
    bool in = std::bernoulli_distribution(0.5)(rng);
    for (uint64_t v : domain) {
      if (std::bernoulli_distribution(0.3)(rng)) in = !in;
      if (in) values.insert(v);
    }
    return values;
  };
  auto from_model = [&](const std::set<uint64_t>& values) {
    // Build from shuffled, sometimes overlapping, singletons and pairs.
    Intervals pieces;
    for (uint64_t v : values) {
      pieces.emplace_back(v, v);
      if (values.count(v + 1) != 0 && v != kMax && std::bernoulli_distribution(0.3)(rng)) {
        pieces.emplace_back(v, v + 1);
      }
    }
    std::shuffle(pieces.begin(), pieces.end(), rng);
    return MustRanges(std::move(pieces));
  };
  for (int iteration = 0; iteration < 1000; ++iteration) {
    const std::set<uint64_t> ma = random_model();
    const std::set<uint64_t> mb = random_model();
    const RangeSet a = from_model(ma);
    const RangeSet b = from_model(mb);
    ASSERT_EQ(a.intervals(), ModelIntervals(ma));
    ASSERT_EQ(a.Count(), ma.size());

    std::set<uint64_t> munion = ma, mdiff, minter;
    munion.insert(mb.begin(), mb.end());
    std::set_difference(ma.begin(), ma.end(), mb.begin(), mb.end(),
                        std::inserter(mdiff, mdiff.end()));
    std::set_intersection(ma.begin(), ma.end(), mb.begin(), mb.end(),
                          std::inserter(minter, minter.end()));

    RangeSet sum = a;
    sum.Add(b);
    EXPECT_EQ(sum.intervals(), ModelIntervals(munion));
    RangeSet diff = a;
    diff.Subtract(b);
    EXPECT_EQ(diff.intervals(), ModelIntervals(mdiff));
    EXPECT_EQ(a.Intersect(b).intervals(), ModelIntervals(minter));
    EXPECT_EQ(a.Contains(b), std::includes(ma.begin(), ma.end(), mb.begin(), mb.end()));
    EXPECT_TRUE(sum.Contains(a));
    EXPECT_TRUE(sum.Contains(b));
    EXPECT_TRUE(a.Contains(diff));
    for (uint64_t v : domain) ASSERT_EQ(a.Contains(v), ma.count(v) != 0) << v;
  }
}

// ---------------------------------------------------------------------------------------------
// Roles

TEST(RoleTest, ValidRolePaths) {
  for (std::string_view role :
       {"*", "eng", "eng/web", "eng/web/frontend", "a.b-c_D9", "...", "x/.../y", "_", "-", "A"}) {
    EXPECT_TRUE(ValidateRolePath(role).ok()) << role << ": " << ValidateRolePath(role);
  }
}

TEST(RoleTest, InvalidRolePaths) {
  for (std::string_view role :
       {"",       "/",     "//",    "/eng",    "eng/",     "eng//web",    ".",       "..",
        "eng/..", "eng/.", "./eng", "eng/*",   "*/eng",    "**",          "*eng",    "e*",
        "e ng",   " eng",  "eng$",  "eng:web", "eng\\web", "caf\xc3\xa9", "eng(web)"}) {
    EXPECT_EQ(ValidateRolePath(role).code(), absl::StatusCode::kInvalidArgument)
        << "\"" << role << "\"";
  }
}

TEST(RoleTest, IsSelfOrAncestor) {
  EXPECT_TRUE(IsSelfOrAncestor("eng", "eng/web"));
  EXPECT_TRUE(IsSelfOrAncestor("eng", "eng/web/frontend"));
  EXPECT_TRUE(IsSelfOrAncestor("eng/web", "eng/web/frontend"));
  EXPECT_TRUE(IsSelfOrAncestor("eng", "eng"));
  EXPECT_TRUE(IsSelfOrAncestor("*", "*"));
  EXPECT_FALSE(IsSelfOrAncestor("eng", "engineering"));
  EXPECT_FALSE(IsSelfOrAncestor("eng/we", "eng/web"));
  EXPECT_FALSE(IsSelfOrAncestor("eng/web", "eng"));
  EXPECT_FALSE(IsSelfOrAncestor("eng/web", "eng/webx"));
  EXPECT_FALSE(IsSelfOrAncestor("*", "eng"));
  EXPECT_FALSE(IsSelfOrAncestor("eng", "*"));
  EXPECT_FALSE(IsSelfOrAncestor("ops", "eng/ops"));
  EXPECT_FALSE(IsSelfOrAncestor("web", "eng/web"));
}

// ---------------------------------------------------------------------------------------------
// Parse / ToString

TEST(ParseTest, BasicEntries) {
  const Resources r = MustParse("cpus:4;mem:8192;ports:[31000-32000];disks:{ssd2,ssd1}");
  ASSERT_EQ(r.entries().size(), 4u);
  const Resource& cpus = r.entries()[0];
  EXPECT_EQ(cpus.name, "cpus");
  EXPECT_TRUE(cpus.unreserved());
  EXPECT_EQ(cpus.kind, ResourceKind::kScalar);
  EXPECT_EQ(cpus.scalar, 4000);
  const Resource& disks = r.entries()[1];
  EXPECT_EQ(disks.name, "disks");
  EXPECT_EQ(disks.kind, ResourceKind::kSet);
  EXPECT_EQ(disks.items, (std::vector<std::string>{"ssd1", "ssd2"}));
  const Resource& mem = r.entries()[2];
  EXPECT_EQ(mem.name, "mem");
  EXPECT_EQ(mem.scalar, 8192000);
  const Resource& ports = r.entries()[3];
  EXPECT_EQ(ports.name, "ports");
  EXPECT_EQ(ports.kind, ResourceKind::kRanges);
  EXPECT_EQ(ports.ranges.intervals(), (Intervals{{31000, 32000}}));
  EXPECT_EQ(r.ToString(), "cpus:4;disks:{ssd1,ssd2};mem:8192;ports:[31000-32000]");
}

TEST(ParseTest, EmptyAndBlankInputs) {
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("   \t\n ").empty());
  EXPECT_EQ(MustParse("cpus:1;").ToString(), "cpus:1");
  EXPECT_EQ(MustParse("cpus:1; \t").ToString(), "cpus:1");
  EXPECT_EQ(Resources().ToString(), "");
}

TEST(ParseTest, WhitespaceAroundTokensIsIgnored) {
  EXPECT_EQ(Canonical(" cpus : 4 ; mem ( eng ) : 1.5 ; ports : [ 1 - 2 , 5 - 6 ] ; "
                      "disks : { b , a } "),
            "cpus:4;disks:{a,b};mem(eng):1.5;ports:[1-2,5-6]");
  EXPECT_EQ(Canonical("\tcpus:\t2\n"), "cpus:2");
}

TEST(ParseTest, ScalarSpellings) {
  EXPECT_EQ(Canonical("cpus:0.5"), "cpus:0.5");
  EXPECT_EQ(Canonical("cpus:.5"), "cpus:0.5");
  EXPECT_EQ(Canonical("cpus:5."), "cpus:5");
  EXPECT_EQ(Canonical("cpus:+2"), "cpus:2");
  EXPECT_EQ(Canonical("cpus:1.500"), "cpus:1.5");
  EXPECT_EQ(Canonical("cpus:007"), "cpus:7");
  EXPECT_EQ(Canonical("cpus:1e3"), "cpus:1000");
  EXPECT_EQ(Canonical("cpus:2.5E-1"), "cpus:0.25");
  EXPECT_EQ(Canonical("mem:1000000000000"), "mem:1000000000000");
}

TEST(ParseTest, ScalarsRoundToNearestMilli) {
  EXPECT_EQ(Canonical("cpus:0.0004"), "");
  EXPECT_EQ(Canonical("cpus:0.0005"), "cpus:0.001");
  EXPECT_EQ(Canonical("cpus:1.9999"), "cpus:2");
  EXPECT_EQ(Canonical("cpus:1.2344"), "cpus:1.234");
  EXPECT_EQ(Canonical("cpus:1.2346"), "cpus:1.235");
  EXPECT_EQ(Canonical("cpus:0.0625"), "cpus:0.063");
  EXPECT_EQ(MustParse("cpus:0.0025").ScalarMilli("cpus"), 3);
}

TEST(ParseTest, ZeroAndEmptyValuesAreDropped) {
  EXPECT_TRUE(MustParse("cpus:0").empty());
  EXPECT_TRUE(MustParse("cpus:0.0;mem:0.0004").empty());
  EXPECT_TRUE(MustParse("ports:[]").empty());
  EXPECT_TRUE(MustParse("ports:[ ]").empty());
  EXPECT_TRUE(MustParse("disks:{}").empty());
  EXPECT_TRUE(MustParse("disks:{  }").empty());
  EXPECT_EQ(Canonical("cpus(eng):0;mem:1"), "mem:1");
  EXPECT_TRUE(MustParse("cpus:1e-400").empty());  // underflows to zero
}

TEST(ParseTest, StarRoleMeansUnreserved) {
  EXPECT_EQ(Canonical("cpus(*):2"), "cpus:2");
  EXPECT_EQ(Canonical("cpus(*):2;cpus:1"), "cpus:3");
  EXPECT_EQ(Canonical("cpus( * ):2"), "cpus:2");
  const Resources r = MustParse("cpus(*):2");
  ASSERT_EQ(r.entries().size(), 1u);
  EXPECT_TRUE(r.entries()[0].unreserved());
  EXPECT_EQ(r.entries()[0].reservation, "");
}

TEST(ParseTest, SameKeyEntriesMerge) {
  EXPECT_EQ(Canonical("cpus:1;cpus:2.5"), "cpus:3.5");
  EXPECT_EQ(Canonical("cpus(eng):1;cpus:1;cpus(eng):0.5"), "cpus:1;cpus(eng):1.5");
  EXPECT_EQ(Canonical("ports:[1-2];ports:[3-4]"), "ports:[1-4]");
  EXPECT_EQ(Canonical("ports:[10-20,1-5];ports:[4-12]"), "ports:[1-20]");
  EXPECT_EQ(Canonical("ports:[1-5,3-4,7-9,6-6]"), "ports:[1-9]");
  EXPECT_EQ(Canonical("disks:{b,a,b};disks:{c,a}"), "disks:{a,b,c}");
  const Resources r = MustParse("cpus:1;cpus:2;cpus:3");
  ASSERT_EQ(r.entries().size(), 1u);
  EXPECT_EQ(r.entries()[0].scalar, 6000);
}

TEST(ParseTest, CanonicalOrdering) {
  EXPECT_EQ(Canonical("mem:1;cpus(eng):1;zz:{q};cpus:1;cpus(a):1;ports(eng/web):[5-6];"
                      "cpus(eng/web):2;ports:[1-1]"),
            "cpus:1;cpus(a):1;cpus(eng):1;cpus(eng/web):2;mem:1;ports:[1-1];"
            "ports(eng/web):[5-6];zz:{q}");
  // Entries are sorted as well, not only printed sorted.
  const Resources r = MustParse("b:1;a:1;c(x):1;c:1");
  ASSERT_EQ(r.entries().size(), 4u);
  EXPECT_EQ(r.entries()[0].name, "a");
  EXPECT_EQ(r.entries()[1].name, "b");
  EXPECT_EQ(r.entries()[2].reservation, "");
  EXPECT_EQ(r.entries()[3].reservation, "x");
  EXPECT_EQ(MustParse("a:1;b:2"), MustParse("b:2;a:1"));
}

TEST(ParseTest, NamesSetItemsAndRangeExtremes) {
  EXPECT_EQ(Canonical("my-res_1.x:3"), "my-res_1.x:3");
  EXPECT_EQ(Canonical("volumes:{/mnt/a,host:path,a.b-c_d}"), "volumes:{/mnt/a,a.b-c_d,host:path}");
  EXPECT_EQ(Canonical("ports:[0-18446744073709551615]"), "ports:[0-18446744073709551615]");
  EXPECT_EQ(Canonical("ports:[18446744073709551615-18446744073709551615,0-0]"),
            "ports:[0-0,18446744073709551615-18446744073709551615]");
  EXPECT_EQ(Canonical("ports:[007-010]"), "ports:[7-10]");
  EXPECT_EQ(Canonical("cpus(eng/web.v2):1"), "cpus(eng/web.v2):1");
}

TEST(ParseTest, RoundTripsThroughToString) {
  for (std::string_view text : {
           "",
           "cpus:4",
           "cpus:0.001;mem:999999999999.999",
           "cpus:1;cpus(eng):2;cpus(eng/web):0.5",
           "ports:[1-2,4-5,18446744073709551615-18446744073709551615]",
           "disks:{a,b};disks(ops):{/mnt/x,host:1}",
           "gpus(x.y/z-1):3;mem:1000000000000;ports(*):[0-0]",
       }) {
    const Resources r = MustParse(text);
    const Resources again = MustParse(r.ToString());
    EXPECT_EQ(again, r) << text;
    EXPECT_EQ(again.ToString(), r.ToString()) << text;
  }
}

struct BadInput {
  std::string_view text;
  std::string_view reason;  // expected substring of the message
};

TEST(ParseErrorTest, MalformedInputsAreInvalidArgument) {
  const BadInput cases[] = {
      // Scalars.
      {"cpus:-1", "negative value"},
      {"cpus:-0.0001", "negative value"},
      {"cpus:nan", "NaN"},
      {"cpus:NaN", "NaN"},
      {"cpus:-nan", "NaN"},
      {"cpus:inf", "infinite"},
      {"cpus:-inf", "infinite"},
      {"cpus:Infinity", "infinite"},
      {"cpus:1e400", "out of range"},
      {"cpus:1e13", "maximum"},
      {"cpus:1000000000000.001", "maximum"},
      {"cpus:4x", "invalid scalar value"},
      {"cpus:--1", "invalid scalar value"},
      {"cpus:+-1", "invalid scalar value"},
      {"cpus:0x10", "invalid scalar value"},
      {"cpus:1,5", "invalid scalar value"},
      {"cpus:1 5", "invalid scalar value"},
      {"cpus:1:2", "invalid scalar value"},
      {"cpus:.", "invalid scalar value"},
      {"cpus:1e", "invalid scalar value"},
      {"cpus:", "missing value"},
      {"cpus:   ", "missing value"},
      // Structure.
      {"cpus", "missing ':'"},
      {"cpus 4", "missing ':'"},
      {":4", "empty resource name"},
      {"(eng):4", "empty resource name"},
      {"cp us:4", "invalid resource name"},
      {"cpus!:4", "invalid resource name"},
      {"cpus):4", "invalid resource name"},
      {"cpus(eng:4", "unbalanced '('"},
      {"cpus(eng)x:4", "unbalanced '('"},
      // Roles.
      {"cpus():4", "role"},
      {"cpus(eng/):4", "role"},
      {"cpus(/eng):4", "role"},
      {"cpus(eng//web):4", "role"},
      {"cpus(..):4", "role"},
      {"cpus(eng/.):4", "role"},
      {"cpus(eng/*):4", "role"},
      {"cpus(**):4", "role"},
      {"cpus(e g):4", "role"},
      {"cpus(a)(b):4", "role"},
      // Ranges.
      {"ports:[1-2", "unbalanced '['"},
      {"ports:[", "unbalanced '['"},
      {"ports:[1-2]x", "unbalanced '['"},
      {"ports:1-2]", "invalid scalar value"},
      {"ports:[5]", "not of the form a-b"},
      {"ports:[5-1]", "start greater than end"},
      {"ports:[1-2,]", "empty range"},
      {"ports:[,1-2]", "empty range"},
      {"ports:[a-b]", "invalid number"},
      {"ports:[1-2-3]", "invalid number"},
      {"ports:[-1-2]", "missing number"},
      {"ports:[1-]", "missing number"},
      {"ports:[[1-2]]", "invalid number"},
      {"ports:[+1-2]", "invalid number"},
      {"ports:[1-18446744073709551616]", "exceeds"},
      {"ports:[99999999999999999999-1]", "exceeds"},
      // Sets.
      {"disks:{a,b", "unbalanced '{'"},
      {"disks:{", "unbalanced '{'"},
      {"disks:{a}b", "unbalanced '{'"},
      {"disks:{a,,b}", "empty item"},
      {"disks:{a,}", "empty item"},
      {"disks:{a b}", "invalid set item"},
      {"disks:{a{b}", "invalid set item"},
      {"disks:{a*}", "invalid set item"},
      // Entries.
      {";", "empty entry"},
      {" ; cpus:1", "empty entry"},
  };
  for (const BadInput& c : cases) {
    absl::StatusOr<Resources> parsed = Resources::Parse(c.text);
    ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << c.text << "\"";
    const std::string message = Message(parsed.status());
    EXPECT_TRUE(HasSubstr(message, "entry 1 (")) << c.text << " -> " << message;
    EXPECT_TRUE(HasSubstr(message, c.reason))
        << c.text << " -> " << message << " (expected \"" << c.reason << "\")";
  }
}

TEST(ParseErrorTest, MessageNamesEntryIndexTextAndOffset) {
  EXPECT_EQ(Message(Resources::Parse("cpus:4;mem:-1").status()),
            "entry 2 (\"mem:-1\") at offset 7: negative value");
  // The offset is that of the entry's first non-blank character; the text is stripped.
  EXPECT_EQ(Message(Resources::Parse("cpus:4;  mem:-1 ;").status()),
            "entry 2 (\"mem:-1\") at offset 9: negative value");
  const std::string message = Message(Resources::Parse("a:1;b:2;ports:[3-1]").status());
  EXPECT_TRUE(HasSubstr(message, "entry 3 (\"ports:[3-1]\") at offset 8: ")) << message;
  EXPECT_TRUE(HasSubstr(message, "start greater than end")) << message;
  const std::string empty = Message(Resources::Parse("cpus:1;;mem:2").status());
  EXPECT_TRUE(HasSubstr(empty, "entry 2 (\"\") at offset 7: empty entry")) << empty;
  const std::string first = Message(Resources::Parse("  cpus:x;mem:1").status());
  EXPECT_TRUE(HasSubstr(first, "entry 1 (\"cpus:x\") at offset 2: ")) << first;
  // Unprintable characters are escaped in the quoted entry text.
  const std::string escaped = Message(Resources::Parse("cpus:1;c\"x:1").status());
  EXPECT_TRUE(HasSubstr(escaped, "entry 2 (\"c\\\"x:1\") at offset 7: ")) << escaped;
}

TEST(ParseErrorTest, KindMismatchIsInvalidArgument) {
  for (std::string_view text : {"cpus:1;cpus:[1-2]", "cpus(eng):1;cpus:{a}",
                                "ports:[1-2];ports(eng/web):3", "disks:{a};disks(x):[1-2]"}) {
    absl::StatusOr<Resources> parsed = Resources::Parse(text);
    ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_TRUE(HasSubstr(Message(parsed.status()), "entry 2 (")) << parsed.status();
  }
  // A zero scalar is dropped before it could conflict.
  EXPECT_EQ(Canonical("cpus:0;cpus:[1-2]"), "cpus:[1-2]");
}

TEST(ParseErrorTest, ScalarSumOverflowIsInvalidArgument) {
  EXPECT_EQ(Canonical("cpus:500000000000;cpus:500000000000"), "cpus:1000000000000");
  absl::StatusOr<Resources> parsed = Resources::Parse("cpus:600000000000;cpus:600000000000");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasSubstr(Message(parsed.status()), "entry 2 (")) << parsed.status();
  // Different reservations are separate entries and do not overflow each other.
  EXPECT_EQ(Canonical("cpus:600000000000;cpus(eng):600000000000"),
            "cpus:600000000000;cpus(eng):600000000000");
}

// ---------------------------------------------------------------------------------------------
// Resources::Scalar

TEST(ScalarFactoryTest, BuildsUnreservedScalar) {
  absl::StatusOr<Resources> r = Resources::Scalar("cpus", 0.5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ToString(), "cpus:0.5");
  EXPECT_EQ(*r, MustParse("cpus:0.5"));
  EXPECT_TRUE(Resources::Scalar("cpus", 0)->empty());
  EXPECT_TRUE(Resources::Scalar("cpus", 0.0004)->empty());
  EXPECT_EQ(Resources::Scalar("mem", 1.9999)->ScalarMilli("mem"), 2000);
}

TEST(ScalarFactoryTest, RejectsBadNameOrValue) {
  EXPECT_EQ(Resources::Scalar("cpus", -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("cpus", std::nan("")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("cpus", std::numeric_limits<double>::infinity()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("cpus", 2e12).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("cp us", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Resources::Scalar("cpus(eng)", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Add / Subtract / Contains

TEST(AddTest, MergesAndKeepsCanonicalOrder) {
  Resources r = MustParse("cpus:1;ports:[1-5]");
  ASSERT_TRUE(r.Add(MustParse("mem:2;cpus:0.5;ports:[6-9,20-21];cpus(eng):1;a:{x}")).ok());
  EXPECT_EQ(r.ToString(), "a:{x};cpus:1.5;cpus(eng):1;mem:2;ports:[1-9,20-21]");
  EXPECT_EQ(r, MustParse(r.ToString()));
  const Resources before = r;
  ASSERT_TRUE(r.Add(Resources()).ok());
  EXPECT_EQ(r, before);
  Resources empty;
  ASSERT_TRUE(empty.Add(before).ok());
  EXPECT_EQ(empty, before);
}

TEST(AddTest, KindMismatchFailsAndLeavesObjectUnchanged) {
  Resources r = MustParse("cpus:1;mem(eng):1");
  const Resources before = r;
  // "aaa" and "cpus" would merge before "mem" fails.
  const absl::Status status = r.Add(MustParse("aaa:5;cpus:1;mem:[1-2]"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r, before);
  EXPECT_EQ(r.ToString(), "cpus:1;mem(eng):1");
  EXPECT_EQ(r.Add(MustParse("cpus(ops):{a}")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r, before);
}

TEST(AddTest, ScalarOverflowFailsAndLeavesObjectUnchanged) {
  Resources r = MustParse("cpus:1000000000000;mem:1");
  const Resources before = r;
  EXPECT_EQ(r.Add(MustParse("a:1;cpus:0.001;mem:1")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r, before);
  // Exactly at the maximum is fine.
  Resources s = MustParse("cpus:999999999999");
  ASSERT_TRUE(s.Add(MustParse("cpus:1")).ok());
  EXPECT_EQ(s.ScalarMilli("cpus"), kMaxMilli);
}

TEST(SubtractTest, RemovesAndDropsEmptiedEntries) {
  Resources r = MustParse("cpus:4;mem:1024;ports:[1-10];disks:{a,b,c};cpus(eng):2");
  ASSERT_TRUE(r.Subtract(MustParse("cpus:1.5;ports:[4-6];disks:{b}")).ok());
  EXPECT_EQ(r.ToString(), "cpus:2.5;cpus(eng):2;disks:{a,c};mem:1024;ports:[1-3,7-10]");
  ASSERT_TRUE(r.Subtract(MustParse("cpus(eng):2;mem:1024;disks:{a,c}")).ok());
  EXPECT_EQ(r.ToString(), "cpus:2.5;ports:[1-3,7-10]");
  ASSERT_TRUE(r.Subtract(Resources()).ok());
  EXPECT_EQ(r.ToString(), "cpus:2.5;ports:[1-3,7-10]");
  ASSERT_TRUE(r.Subtract(r).ok());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r, Resources());
}

TEST(SubtractTest, FailsUnlessContainedAndLeavesObjectUnchanged) {
  Resources r = MustParse("cpus:4;mem:10;ports:[1-10];disks:{a};cpus(eng):1");
  const Resources before = r;
  for (std::string_view text : {
           "cpus:1;mem:11",      // cpus alone would succeed
           "cpus(eng):2",        // more than reserved
           "cpus(ops):1",        // absent reservation
           "cpus(eng/web):0.5",  // a child role is a different reservation
           "gpus:1",             // absent name
           "ports:[5-11]",       // partially present
           "disks:{a,b}",        // not a subset
           "ports:{a}",          // kind mismatch
           "cpus:[1-2]",         // kind mismatch
       }) {
    EXPECT_EQ(r.Subtract(MustParse(text)).code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(r, before) << text;
  }
  // Unreserved resources do not cover reserved ones.
  Resources unreserved = MustParse("cpus:10");
  EXPECT_EQ(unreserved.Subtract(MustParse("cpus(eng):1")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unreserved, MustParse("cpus:10"));
}

TEST(AddSubtractTest, SelfAliasing) {
  Resources r = MustParse("cpus:1.5;cpus(eng):1;ports:[1-3];disks:{a}");
  ASSERT_TRUE(r.Add(r).ok());
  EXPECT_EQ(r.ToString(), "cpus:3;cpus(eng):2;disks:{a};ports:[1-3]");
  ASSERT_TRUE(r.Subtract(r).ok());
  EXPECT_TRUE(r.empty());

  RangeSet ranges = MustRanges({{1, 3}, {kMax, kMax}});
  ranges.Add(ranges);
  EXPECT_EQ(ranges.intervals(), (Intervals{{1, 3}, {kMax, kMax}}));
  ranges.Subtract(ranges);
  EXPECT_TRUE(ranges.empty());
}

TEST(ContainsTest, CoversPerNameAndReservation) {
  const Resources r = MustParse("cpus:4;cpus(eng):1;ports:[1-10,20-30];disks:{a,b}");
  EXPECT_TRUE(r.Contains(Resources()));
  EXPECT_TRUE(Resources().Contains(Resources()));
  EXPECT_TRUE(r.Contains(r));
  EXPECT_TRUE(r.Contains(MustParse("cpus:4")));
  EXPECT_TRUE(r.Contains(MustParse("cpus:0.001;cpus(eng):1;ports:[2-3,25-30];disks:{b}")));
  EXPECT_FALSE(r.Contains(MustParse("cpus:4.001")));
  EXPECT_FALSE(r.Contains(MustParse("cpus(eng):1.001")));
  EXPECT_FALSE(r.Contains(MustParse("cpus(ops):1")));
  EXPECT_FALSE(r.Contains(MustParse("cpus(eng/web):1")));  // different reservation
  EXPECT_FALSE(r.Contains(MustParse("mem:1")));
  EXPECT_FALSE(r.Contains(MustParse("ports:[10-20]")));
  EXPECT_FALSE(r.Contains(MustParse("ports:[0-1]")));
  EXPECT_FALSE(r.Contains(MustParse("disks:{c}")));
  EXPECT_FALSE(r.Contains(MustParse("disks:{a,b,c}")));
  EXPECT_FALSE(Resources().Contains(r));
  EXPECT_FALSE(MustParse("cpus(eng):10").Contains(MustParse("cpus:1")));
}

TEST(ContainsTest, KindMismatchIsFalse) {
  EXPECT_FALSE(MustParse("ports:[1-10]").Contains(MustParse("ports:1")));
  EXPECT_FALSE(MustParse("ports:10").Contains(MustParse("ports:[1-1]")));
  EXPECT_FALSE(MustParse("ports:{1}").Contains(MustParse("ports:[1-1]")));
  EXPECT_FALSE(MustParse("ports:[1-1]").Contains(MustParse("ports:{a}")));
}

// ---------------------------------------------------------------------------------------------
// Filters and queries

TEST(FilterTest, ReservationFilters) {
  const Resources r = MustParse(
      "cpus:1;cpus(eng):2;cpus(eng/web):3;cpus(eng/webx):4;cpus(engineering):5;"
      "cpus(eng/web/frontend):6;cpus(ops):7;ports(eng):[1-2];mem:8");
  EXPECT_EQ(r.Unreserved().ToString(), "cpus:1;mem:8");
  EXPECT_EQ(r.Reserved().ToString(),
            "cpus(eng):2;cpus(eng/web):3;cpus(eng/web/frontend):6;cpus(eng/webx):4;"
            "cpus(engineering):5;cpus(ops):7;ports(eng):[1-2]");
  EXPECT_EQ(r.ReservedTo("eng").ToString(), "cpus(eng):2;ports(eng):[1-2]");
  EXPECT_EQ(r.ReservedTo("eng/web").ToString(), "cpus(eng/web):3");
  EXPECT_TRUE(r.ReservedTo("nobody").empty());
  EXPECT_TRUE(r.ReservedTo("*").empty());
  EXPECT_TRUE(r.ReservedTo("").empty());

  EXPECT_EQ(r.AllocatableTo("eng/web").ToString(),
            "cpus:1;cpus(eng):2;cpus(eng/web):3;mem:8;ports(eng):[1-2]");
  EXPECT_EQ(r.AllocatableTo("eng").ToString(), "cpus:1;cpus(eng):2;mem:8;ports(eng):[1-2]");
  EXPECT_EQ(r.AllocatableTo("eng/web/frontend").ToString(),
            "cpus:1;cpus(eng):2;cpus(eng/web):3;cpus(eng/web/frontend):6;mem:8;"
            "ports(eng):[1-2]");
  EXPECT_EQ(r.AllocatableTo("ops").ToString(), "cpus:1;cpus(ops):7;mem:8");
  EXPECT_EQ(r.AllocatableTo("*").ToString(), "cpus:1;mem:8");
  EXPECT_EQ(r.AllocatableTo("other").ToString(), "cpus:1;mem:8");

  EXPECT_EQ(Resources().Unreserved(), Resources());
  Resources sum = r.Unreserved();
  ASSERT_TRUE(sum.Add(r.Reserved()).ok());
  EXPECT_EQ(sum, r);
}

TEST(FilterTest, KindFilters) {
  const Resources r = MustParse("cpus:1;cpus(eng):2;ports:[1-2];disks(x):{a};mem:3");
  EXPECT_EQ(r.Scalars().ToString(), "cpus:1;cpus(eng):2;mem:3");
  EXPECT_EQ(r.NonScalars().ToString(), "disks(x):{a};ports:[1-2]");
}

TEST(QueryTest, ScalarMilliAndHas) {
  const Resources r = MustParse("cpus:1;cpus(eng):2.5;cpus(eng/web):0.001;ports:[1-2];c:7");
  EXPECT_EQ(r.ScalarMilli("cpus"), 3501);
  EXPECT_EQ(r.ScalarMilli("c"), 7000);
  EXPECT_EQ(r.ScalarMilli("ports"), 0);
  EXPECT_EQ(r.ScalarMilli("mem"), 0);
  EXPECT_EQ(r.ScalarMilli("cpu"), 0);
  EXPECT_TRUE(r.Has("cpus"));
  EXPECT_TRUE(r.Has("ports"));
  EXPECT_TRUE(r.Has("c"));
  EXPECT_FALSE(r.Has("cpu"));
  EXPECT_FALSE(r.Has("cpusx"));
  EXPECT_FALSE(r.Has(""));
  EXPECT_TRUE(MustParse("gpus(eng):1").Has("gpus"));
  EXPECT_FALSE(Resources().Has("cpus"));
}

TEST(WithReservationTest, ReplacesAndMergesEveryReservation) {
  const Resources r = MustParse(
      "cpus:1;cpus(eng):2;ports:[1-2];ports(eng):[3-4];disks(a):{x};disks:{y,x};mem(ops):5");
  EXPECT_EQ(r.WithReservation("ops").ToString(),
            "cpus(ops):3;disks(ops):{x,y};mem(ops):5;ports(ops):[1-4]");
  EXPECT_EQ(r.WithReservation("").ToString(), "cpus:3;disks:{x,y};mem:5;ports:[1-4]");
  EXPECT_EQ(r.WithReservation("*"), r.WithReservation(""));
  EXPECT_EQ(r.WithReservation("eng/web").ReservedTo("eng/web"), r.WithReservation("eng/web"));
  const Resources moved = r.WithReservation("eng/web");
  EXPECT_EQ(MustParse(moved.ToString()), moved);
  EXPECT_EQ(moved.ScalarMilli("cpus"), r.ScalarMilli("cpus"));
  EXPECT_TRUE(Resources().WithReservation("eng").empty());
  // Unchanged original.
  EXPECT_EQ(r.ToString(),
            "cpus:1;cpus(eng):2;disks:{x,y};disks(a):{x};mem(ops):5;ports:[1-2];"
            "ports(eng):[3-4]");
}

// ---------------------------------------------------------------------------------------------
// Randomized properties

struct RandomPair {
  std::string a;
  std::string b;
};

// Builds the texts of two random bags over a fixed vocabulary. For ranges and sets, a and b never
// share a value under the same (name, reservation), so (a + b) - b == a holds exactly.
class BagGenerator {
 public:
  explicit BagGenerator(uint64_t seed) : rng_(seed) {}

  RandomPair Next() {
    std::vector<std::string> a, b;
    for (const auto& [name, kind] : kNames) {
      for (std::string_view reservation : kReservations) {
        const bool in_a = Chance(0.4);
        const bool in_b = Chance(0.4);
        if (!in_a && !in_b) continue;
        const std::string head = reservation.empty() ? std::string(name)
                                                     : absl::StrCat(std::string(name), "(",
                                                                    std::string(reservation), ")");
        switch (kind) {
          case ResourceKind::kScalar:
            if (in_a) AddScalars(head, a);
            if (in_b) AddScalars(head, b);
            break;
          case ResourceKind::kRanges:
            AddRanges(head, in_a ? &a : nullptr, in_b ? &b : nullptr);
            break;
          case ResourceKind::kSet:
            AddSets(head, in_a ? &a : nullptr, in_b ? &b : nullptr);
            break;
        }
      }
    }
    std::shuffle(a.begin(), a.end(), rng_);
    std::shuffle(b.begin(), b.end(), rng_);
    return {Join(a), Join(b)};
  }

 private:
  static constexpr std::pair<std::string_view, ResourceKind> kNames[] = {
      {"cpus", ResourceKind::kScalar},      {"mem", ResourceKind::kScalar},
      {"gpus", ResourceKind::kScalar},      {"ports", ResourceKind::kRanges},
      {"ephemeral", ResourceKind::kRanges}, {"disks", ResourceKind::kSet},
      {"zones", ResourceKind::kSet},
  };
  static constexpr std::string_view kReservations[] = {"", "eng", "eng/web", "ops"};
  static constexpr std::string_view kItems[] = {"a", "b", "c", "ssd1", "ssd2", "/mnt/x", "host:9"};

  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }

  static std::string Join(const std::vector<std::string>& entries) {
    std::string out;
    for (const std::string& e : entries) absl::StrAppend(&out, e, ";");
    return out;  // trailing ';' is allowed
  }

  // One or two entries for the same key, amounts in milli-units spelled in varied ways.
  void AddScalars(const std::string& head, std::vector<std::string>& out) {
    const int count = Chance(0.3) ? 2 : 1;
    for (int i = 0; i < count; ++i) {
      int64_t milli = 0;
      switch (Uniform(0, 2)) {
        case 0:
          milli = static_cast<int64_t>(Uniform(1, 5000));
          break;
        case 1:
          milli = static_cast<int64_t>(Uniform(1, 1'000'000'000));
          break;
        default:
          milli = static_cast<int64_t>(Uniform(1, 100'000'000'000'000));
          break;
      }
      std::string value = FormatMilli(milli);
      if (Chance(0.3)) {
        // Same value with all three decimals, e.g. "1.500".
        value = absl::StrFormat("%d.%03d", milli / 1000, milli % 1000);
      }
      out.push_back(absl::StrCat(head, ":", value));
    }
  }

  // Labels each value of a small domain at both ends of uint64 as a's, b's or nobody's.
  void AddRanges(const std::string& head, std::vector<std::string>* a,
                 std::vector<std::string>* b) {
    std::vector<Interval> runs[2];
    int label = static_cast<int>(Uniform(0, 2));  // 0: a, 1: b, 2: nobody
    auto visit = [&](uint64_t v) {
      if (Chance(0.3)) label = static_cast<int>(Uniform(0, 2));
      if (label == 2) return;
      std::vector<Interval>& r = runs[label];
      if (!r.empty() && r.back().second != kMax && r.back().second + 1 == v) {
        r.back().second = v;
      } else {
        r.emplace_back(v, v);
      }
    };
    const bool high = Chance(0.5);
    const uint64_t base = high ? kMax - 30 : Uniform(0, 1) * 30000;
    for (uint64_t i = 0; i <= 30; ++i) visit(base + i);
    std::vector<std::string>* outs[2] = {a, b};
    for (int side = 0; side < 2; ++side) {
      if (outs[side] == nullptr) continue;
      std::vector<std::string> pieces;
      for (const Interval& run : runs[side]) {
        // Sometimes split a run into two overlapping pieces to exercise merging.
        if (run.second - run.first >= 2 && Chance(0.3)) {
          const uint64_t mid = run.first + (run.second - run.first) / 2;
          pieces.push_back(absl::StrCat(run.first, "-", mid + 1));
          pieces.push_back(absl::StrCat(mid, " - ", run.second));
        } else {
          pieces.push_back(absl::StrCat(run.first, "-", run.second));
        }
      }
      std::shuffle(pieces.begin(), pieces.end(), rng_);
      std::string value = "[";
      for (size_t i = 0; i < pieces.size(); ++i) {
        absl::StrAppend(&value, i > 0 ? "," : "", pieces[i]);
      }
      outs[side]->push_back(absl::StrCat(head, ":", value, "]"));
    }
  }

  void AddSets(const std::string& head, std::vector<std::string>* a, std::vector<std::string>* b) {
    std::vector<std::string> items[2];
    for (std::string_view item : kItems) {
      const uint64_t label = Uniform(0, 2);
      if (label < 2) {
        items[label].emplace_back(item);
        if (Chance(0.2)) items[label].emplace_back(item);  // duplicate
      }
    }
    std::vector<std::string>* outs[2] = {a, b};
    for (int side = 0; side < 2; ++side) {
      if (outs[side] == nullptr) continue;
      std::shuffle(items[side].begin(), items[side].end(), rng_);
      std::string value = "{";
      for (size_t i = 0; i < items[side].size(); ++i) {
        absl::StrAppend(&value, i > 0 ? "," : "", items[side][i]);
      }
      outs[side]->push_back(absl::StrCat(head, ":", value, "}"));
    }
  }

  std::mt19937_64 rng_;
};

TEST(ResourcesPropertyTest, RandomBags) {
  BagGenerator generator(0x5eed);
  int non_trivial = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    const RandomPair texts = generator.Next();
    SCOPED_TRACE(absl::StrCat("iteration ", iteration, "\na = ", texts.a, "\nb = ", texts.b));
    absl::StatusOr<Resources> parsed_a = Resources::Parse(texts.a);
    absl::StatusOr<Resources> parsed_b = Resources::Parse(texts.b);
    ASSERT_TRUE(parsed_a.ok()) << parsed_a.status();
    ASSERT_TRUE(parsed_b.ok()) << parsed_b.status();
    const Resources& a = *parsed_a;
    const Resources& b = *parsed_b;
    if (!a.empty() && !b.empty()) ++non_trivial;

    // Printing is canonical and parses back to the same value.
    ASSERT_EQ(MustParse(a.ToString()), a) << a.ToString();
    EXPECT_EQ(MustParse(a.ToString()).ToString(), a.ToString());

    // Add is commutative, agrees with parsing the concatenation, and contains both operands.
    Resources sum = a;
    ASSERT_TRUE(sum.Add(b).ok());
    Resources sum2 = b;
    ASSERT_TRUE(sum2.Add(a).ok());
    EXPECT_EQ(sum, sum2);
    EXPECT_EQ(MustParse(absl::StrCat(texts.a, texts.b)), sum);
    EXPECT_TRUE(sum.Contains(a));
    EXPECT_TRUE(sum.Contains(b));
    EXPECT_EQ(a.Contains(sum), b.empty());

    // (a + b) - b == a; subtracting something not contained fails and changes nothing.
    Resources diff = sum;
    ASSERT_TRUE(diff.Subtract(b).ok());
    EXPECT_EQ(diff, a);
    Resources copy = a;
    const absl::Status status = copy.Subtract(sum);
    if (b.empty()) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_TRUE(copy.empty());
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(copy, a);
    }

    // Filters partition the bag.
    Resources parts = a.Unreserved();
    ASSERT_TRUE(parts.Add(a.Reserved()).ok());
    EXPECT_EQ(parts, a);
    parts = a.Scalars();
    ASSERT_TRUE(parts.Add(a.NonScalars()).ok());
    EXPECT_EQ(parts, a);
    for (std::string_view role : {"eng", "eng/web", "ops", "*"}) {
      const Resources allocatable = a.AllocatableTo(role);
      EXPECT_TRUE(a.Contains(allocatable));
      EXPECT_TRUE(allocatable.Contains(a.Unreserved()));
      for (const Resource& e : allocatable.entries()) {
        EXPECT_TRUE(e.unreserved() || IsSelfOrAncestor(e.reservation, role)) << e.reservation;
      }
    }

    // Moving everything to one reservation preserves the scalar totals and names.
    const Resources moved = a.WithReservation("eng");
    EXPECT_EQ(moved.ReservedTo("eng"), moved);
    for (std::string_view name : {"cpus", "mem", "gpus", "ports", "disks"}) {
      EXPECT_EQ(moved.ScalarMilli(name), a.ScalarMilli(name));
      EXPECT_EQ(moved.Has(name), a.Has(name));
    }
    EXPECT_EQ(moved.WithReservation(""), a.WithReservation(""));
  }
  EXPECT_GT(non_trivial, 1000);  // the generator really produces interesting pairs
}

}  // namespace
}  // namespace steward::allocator
