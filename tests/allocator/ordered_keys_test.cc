// OrderedKeys against std::set: random inserts, erases and re-keys across both
// representations (sorted vector up to kFlatLimit, B-tree above it), comparing the contents
// in order after every operation.
#include "allocator/internal/ordered_keys.h"

#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace steward::allocator::internal {
namespace {

struct Key {
  double share;
  uint32_t id;
  friend bool operator<(const Key& a, const Key& b) {
    if (a.share != b.share) return a.share < b.share;
    return a.id < b.id;
  }
  friend bool operator==(const Key& a, const Key& b) { return a.share == b.share && a.id == b.id; }
};

using Keys = OrderedKeys<Key>;

std::vector<Key> Contents(const Keys& keys) { return {keys.begin(), keys.end()}; }
std::vector<Key> Contents(const std::set<Key>& keys) { return {keys.begin(), keys.end()}; }

TEST(OrderedKeysTest, EmptySetIteratesNothing) {
  Keys keys;
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(keys.begin(), keys.end());
  keys.insert({1.0, 1});
  keys.erase({1.0, 1});
  EXPECT_EQ(keys.begin(), keys.end());
  EXPECT_EQ(std::distance(keys.begin(), keys.end()), 0);
}

TEST(OrderedKeysTest, RekeyMovesAKeyBothWays) {
  Keys keys;
  for (uint32_t id = 0; id < 5; ++id) keys.insert({static_cast<double>(id), id});
  keys.Rekey({0.0, 0}, {3.5, 0});  // up, past three keys
  EXPECT_EQ(Contents(keys), (std::vector<Key>{{1, 1}, {2, 2}, {3, 3}, {3.5, 0}, {4, 4}}));
  keys.Rekey({4.0, 4}, {0.5, 4});  // down, to the front
  EXPECT_EQ(Contents(keys), (std::vector<Key>{{0.5, 4}, {1, 1}, {2, 2}, {3, 3}, {3.5, 0}}));
  keys.Rekey({2.0, 2}, {2.0, 7});  // in place
  EXPECT_EQ(Contents(keys), (std::vector<Key>{{0.5, 4}, {1, 1}, {2, 7}, {3, 3}, {3.5, 0}}));
  EXPECT_EQ(keys.front(), (Key{0.5, 4}));
}

TEST(OrderedKeysTest, MatchesStdSetAcrossRepresentations) {
  std::mt19937_64 rng(42);
  Keys keys;
  std::set<Key> oracle;
  std::vector<uint32_t> live;
  std::vector<double> share_of(1000, 0.0);
  uint32_t next_id = 0;
  bool saw_tree_size = false;
  bool saw_flat_after_tree = false;
  // Three phases: grow past the limit, churn there, shrink back below half of it.
  for (int phase = 0; phase < 3; ++phase) {
    for (int step = 0; step < 3000; ++step) {
      int op = static_cast<int>(rng() % 10);
      bool grow = phase == 0 ? op < 6 : phase == 1 ? op < 3 : op < 1;
      bool shrink = phase == 0 ? op == 6 : phase == 1 ? op < 5 && !grow : op < 6 && !grow;
      if ((grow || live.empty()) && next_id < share_of.size()) {
        uint32_t id = next_id++;
        share_of[id] = static_cast<double>(rng() % 64) / 8.0;
        keys.insert({share_of[id], id});
        oracle.insert({share_of[id], id});
        live.push_back(id);
      } else if (shrink && !live.empty()) {
        size_t at = rng() % live.size();
        uint32_t id = live[at];
        keys.erase({share_of[id], id});
        oracle.erase({share_of[id], id});
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(at));
      } else if (!live.empty()) {
        uint32_t id = live[rng() % live.size()];
        double share = static_cast<double>(rng() % 64) / 8.0;
        keys.Rekey({share_of[id], id}, {share, id});
        oracle.erase({share_of[id], id});
        oracle.insert({share, id});
        share_of[id] = share;
      }
      ASSERT_EQ(keys.size(), oracle.size()) << "phase " << phase << " step " << step;
      ASSERT_EQ(Contents(keys), Contents(oracle)) << "phase " << phase << " step " << step;
      if (!oracle.empty()) {
        ASSERT_EQ(keys.front(), *oracle.begin());
      }
      if (keys.size() > Keys::kFlatLimit) saw_tree_size = true;
      if (saw_tree_size && keys.size() < Keys::kFlatLimit / 2) saw_flat_after_tree = true;
    }
  }
  EXPECT_TRUE(saw_tree_size) << "the test never grew past the flat limit";
  EXPECT_TRUE(saw_flat_after_tree) << "the test never shrank back below half the limit";
}

// The engine's commonest re-key: the first key moves to (or near) the back, which moves the
// front instead of shifting the rest. Mixed with front erases, inserts before the front and
// re-keys downwards, so that the moved front, its compaction and the plain paths interleave.
TEST(OrderedKeysTest, FrontToBackRekeysMatchStdSet) {
  std::mt19937_64 rng(7);
  Keys keys;
  std::set<Key> oracle;
  std::vector<double> share_of(400, 0.0);
  uint32_t next_id = 0;
  for (; next_id < 100; ++next_id) {
    keys.insert({0.0, next_id});
    oracle.insert({0.0, next_id});
  }
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 20);
    const Key first = *oracle.begin();
    const double top = oracle.rbegin()->share;
    if (op < 14) {  // front to the back, or just before the last few keys
      const double share = op < 10 ? top + 1.0 : top - static_cast<double>(rng() % 3);
      keys.Rekey(first, {share, first.id});
      oracle.erase(first);
      oracle.insert({share, first.id});
      share_of[first.id] = share;
    } else if (op < 16 && oracle.size() > 1) {  // drop the front
      keys.erase(first);
      oracle.erase(first);
    } else if (op < 18 && next_id < share_of.size()) {  // a newcomer in front
      const uint32_t id = next_id++;
      share_of[id] = first.share - 1.0;
      keys.insert({share_of[id], id});
      oracle.insert({share_of[id], id});
    } else {  // some key moves down to the front
      auto it = oracle.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % oracle.size()));
      const Key old_key = *it;
      const Key new_key{first.share - 0.5, old_key.id};
      keys.Rekey(old_key, new_key);
      oracle.erase(old_key);
      oracle.insert(new_key);
    }
    ASSERT_EQ(keys.size(), oracle.size()) << "step " << step;
    ASSERT_EQ(Contents(keys), Contents(oracle)) << "step " << step;
    ASSERT_EQ(keys.front(), *oracle.begin()) << "step " << step;
  }
}

}  // namespace
}  // namespace steward::allocator::internal
