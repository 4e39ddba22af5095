// ResourceQuantities: parsing (zeros kept, duplicates summed, whitespace, rounding to the
// milli-unit), printing, Get/Has/Set, and InvalidArgument naming the entry for every class of
// malformed input.
#include "allocator/quantities.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "allocator/resources.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/allocator/test_util.h"

namespace steward::allocator {
namespace {

using test_util::Q;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(ResourceQuantitiesTest, ParsesSortsAndPrints) {
  ResourceQuantities q = Q("mem:1024;cpus:2.5;disk:100");
  EXPECT_FALSE(q.empty());
  EXPECT_THAT(q.entries(),
              ElementsAre(Pair("cpus", 2500), Pair("disk", 100000), Pair("mem", 1024000)));
  EXPECT_EQ(q.ToString(), "cpus:2.5;disk:100;mem:1024");
  EXPECT_EQ(q.Get("cpus"), 2500);
  EXPECT_EQ(q.Get("mem"), 1024000);
  EXPECT_EQ(q.Get("gpus"), 0);
  EXPECT_TRUE(q.Has("disk"));
  EXPECT_FALSE(q.Has("gpus"));
  EXPECT_FALSE(q.Has("cpu"));  // no prefix matching
  EXPECT_EQ(Q(q.ToString()), q);
}

TEST(ResourceQuantitiesTest, EmptyInputsGiveEmptyQuantities) {
  for (std::string_view text : {"", " ", ";", " ; ;\t", ";;;"}) {
    ResourceQuantities q = Q(text);
    EXPECT_TRUE(q.empty()) << "'" << text << "'";
    EXPECT_THAT(q.entries(), IsEmpty());
    EXPECT_EQ(q.ToString(), "");
    EXPECT_EQ(q, ResourceQuantities());
  }
}

TEST(ResourceQuantitiesTest, ZerosAreKept) {
  ResourceQuantities q = Q("cpus:0;mem:0.0;gpus:0.000");
  EXPECT_FALSE(q.empty());
  EXPECT_THAT(q.entries(), ElementsAre(Pair("cpus", 0), Pair("gpus", 0), Pair("mem", 0)));
  EXPECT_TRUE(q.Has("cpus"));
  EXPECT_EQ(q.Get("cpus"), 0);
  EXPECT_EQ(q.ToString(), "cpus:0;gpus:0;mem:0");
  // A zero is not the same as absent ("cpus:0" as a limit forbids CPUs).
  EXPECT_NE(Q("cpus:0"), ResourceQuantities());
  EXPECT_NE(Q("cpus:0"), Q("mem:0"));
  EXPECT_EQ(Q(q.ToString()), q);
}

TEST(ResourceQuantitiesTest, DuplicatesAreSummed) {
  EXPECT_THAT(Q("cpus:1;mem:2;cpus:0.5").entries(),
              ElementsAre(Pair("cpus", 1500), Pair("mem", 2000)));
  EXPECT_THAT(Q("cpus:0;cpus:0").entries(), ElementsAre(Pair("cpus", 0)));
  EXPECT_THAT(Q("cpus:0;cpus:0.001;cpus:0").entries(), ElementsAre(Pair("cpus", 1)));
  EXPECT_EQ(Q("a:1;b:2;a:3;b:4;a:5").ToString(), "a:9;b:6");
}

TEST(ResourceQuantitiesTest, WhitespaceAroundTokensIsIgnored) {
  ResourceQuantities expected = Q("cpus:1.5;mem:2");
  EXPECT_EQ(Q(" cpus : 1.5 ;\tmem:\n2 "), expected);
  EXPECT_EQ(Q("cpus:1.5;mem:2;"), expected);
  EXPECT_EQ(Q(";cpus:1.5; ;mem:2"), expected);
  EXPECT_EQ(Q("\t\ncpus\t:\t1.5\t;\tmem\t:\t2\t"), expected);
}

TEST(ResourceQuantitiesTest, RoundsToTheNearestMilliUnit) {
  EXPECT_EQ(Q("cpus:0.0004").Get("cpus"), 0);
  EXPECT_TRUE(Q("cpus:0.0004").Has("cpus"));  // rounded to zero, still present
  EXPECT_EQ(Q("cpus:0.0006").Get("cpus"), 1);
  EXPECT_EQ(Q("cpus:1.9996").Get("cpus"), 2000);
  EXPECT_EQ(Q("cpus:2.0004").Get("cpus"), 2000);
  EXPECT_EQ(Q("cpus:0.1234").Get("cpus"), 123);
  EXPECT_EQ(Q("cpus:0.1236").Get("cpus"), 124);
  EXPECT_EQ(Q("mem:0.999").Get("mem"), 999);  // not truncated by binary imprecision
  EXPECT_EQ(Q("mem:4.35").Get("mem"), 4350);
  EXPECT_EQ(Q("cpus:0.0006").ToString(), "cpus:0.001");
  // Each duplicate is rounded on its own, then summed.
  EXPECT_EQ(Q("cpus:0.0004;cpus:0.0004;cpus:0.0004").Get("cpus"), 0);
}

TEST(ResourceQuantitiesTest, LargestValueIsAccepted) {
  ResourceQuantities q = Q("mem:1000000000000");
  EXPECT_EQ(q.Get("mem"), 1000000000000 * kMilliPerUnit);
  EXPECT_EQ(q.ToString(), "mem:1000000000000");
  EXPECT_EQ(Q("mem:999999999999.999;cpus:0.001").Get("mem"), 999999999999999);
}

TEST(ResourceQuantitiesTest, SetGetHas) {
  ResourceQuantities q;
  EXPECT_TRUE(q.empty());
  q.Set("mem", 2048000);
  q.Set("cpus", 1);
  q.Set("gpus", 0);
  EXPECT_THAT(q.entries(), ElementsAre(Pair("cpus", 1), Pair("gpus", 0), Pair("mem", 2048000)));
  EXPECT_EQ(q.ToString(), "cpus:0.001;gpus:0;mem:2048");
  EXPECT_TRUE(q.Has("gpus"));
  EXPECT_EQ(q.Get("gpus"), 0);
  q.Set("cpus", 4000);  // overwrites, does not add
  EXPECT_EQ(q.Get("cpus"), 4000);
  q.Set("mem", 0);  // zero keeps the entry
  EXPECT_TRUE(q.Has("mem"));
  EXPECT_EQ(q.ToString(), "cpus:4;gpus:0;mem:0");
  EXPECT_EQ(q, Q("gpus:0;mem:0;cpus:4"));
  q.Set("a", 1500);  // sorts before everything
  EXPECT_EQ(q.entries().front(), (std::pair<std::string, int64_t>("a", 1500)));
  EXPECT_EQ(q.ToString(), "a:1.5;cpus:4;gpus:0;mem:0");
}

// Every class of malformed input: InvalidArgument whose message names the offending entry.
TEST(ResourceQuantitiesTest, MalformedInputIsInvalidArgumentNamingTheEntry) {
  struct Case {
    std::string text;
    std::string entry;  // what the message must quote
  };
  const std::vector<Case> cases = {
      // Missing colon.
      {"cpus", "cpus"},
      {"cpus:1;mem", "mem"},
      {"cpus 1", "cpus 1"},
      // Empty or invalid name.
      {":1", ":1"},
      {"cpus:1; :2", ":2"},
      {"c pus:1", "c pus:1"},
      {"cpus*:1", "cpus*:1"},
      // Reservation syntax.
      {"cpus(x):1", "cpus(x):1"},
      {"mem:1;cpus(eng/web):1", "cpus(eng/web):1"},
      {"cpus(*):1", "cpus(*):1"},
      // Ranges and sets.
      {"ports:[31000-32000]", "ports:[31000-32000]"},
      {"disks:{a,b}", "disks:{a,b}"},
      {"cpus:1;disks:{ssd}", "disks:{ssd}"},
      // Negative.
      {"cpus:-1", "cpus:-1"},
      {"mem:1;cpus:-0.5", "cpus:-0.5"},
      {"cpus:-0.0001", "cpus:-0.0001"},
      // NaN and infinity.
      {"cpus:nan", "cpus:nan"},
      {"cpus:NaN", "cpus:NaN"},
      {"cpus:-nan", "cpus:-nan"},
      {"cpus:inf", "cpus:inf"},
      {"cpus:-inf", "cpus:-inf"},
      {"cpus:INF", "cpus:INF"},
      {"cpus:infinity", "cpus:infinity"},
      // Hexadecimal.
      {"cpus:0x10", "cpus:0x10"},
      {"cpus:0X10", "cpus:0X10"},
      {"cpus:0x1p4", "cpus:0x1p4"},
      // Too large, alone or summed.
      {"mem:1000000000001", "mem:1000000000001"},
      {"mem:1e13", "mem:1e13"},
      {"mem:1e400", "mem:1e400"},
      {"mem:1000000000000;mem:1", "mem:1"},
      // Not a number at all.
      {"cpus:", "cpus:"},
      {"cpus: ", "cpus:"},
      {"cpus:abc", "cpus:abc"},
      {"cpus:1:2", "cpus:1:2"},
      {"cpus:1 2", "cpus:1 2"},
      {"cpus:1,5", "cpus:1,5"},
      {"cpus::1", "cpus::1"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ResourceQuantities> parsed = ResourceQuantities::Parse(c.text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << c.text << "' parsed as '" << (parsed.ok() ? parsed->ToString() : "") << "'";
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.entry)) << "'" << c.text << "'";
  }
}

}  // namespace
}  // namespace steward::allocator
