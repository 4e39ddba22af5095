// BitMatrix against a plain set of (plane, row, column) triples, through growth in rows and
// in columns (which re-lays out every row).
#include "allocator/internal/bit_matrix.h"

#include <cstdint>
#include <random>
#include <set>
#include <tuple>

#include "gtest/gtest.h"

namespace steward::allocator::internal {
namespace {

TEST(BitMatrixTest, ReadsOutsideTheMatrixAsFalseWithoutGrowing) {
  BitMatrix<2> bits;
  EXPECT_FALSE(bits.Test(0, 5, 7));
  bits.Assign(1, 5, 7, false);  // clearing a bit that does not exist allocates nothing
  EXPECT_EQ(bits.rows(), 0u);
  EXPECT_EQ(bits.columns(), 0u);
  bits.Assign(1, 5, 7, true);
  EXPECT_TRUE(bits.Test(1, 5, 7));
  EXPECT_FALSE(bits.Test(0, 5, 7));  // the other plane
  EXPECT_FALSE(bits.Test(1, 4, 7));
  EXPECT_FALSE(bits.Test(1, 5, 6));
  EXPECT_FALSE(bits.Test(1, 6, 7));
  EXPECT_FALSE(bits.Test(1, 5, 64 * 9));  // beyond the allocated columns
  EXPECT_EQ(bits.rows(), 6u);
  EXPECT_EQ(bits.columns(), 64u);
}

TEST(BitMatrixTest, WideningKeepsEveryBit) {
  BitMatrix<2> bits;
  for (size_t row = 0; row < 10; ++row) bits.Assign(row % 2, row, 63 - row, true);
  bits.Assign(0, 3, 200, true);  // widens from one word per row to at least four
  EXPECT_GE(bits.columns(), 256u);
  for (size_t row = 0; row < 10; ++row) {
    EXPECT_TRUE(bits.Test(row % 2, row, 63 - row)) << row;
    EXPECT_FALSE(bits.Test(1 - row % 2, row, 63 - row)) << row;
  }
  EXPECT_TRUE(bits.Test(0, 3, 200));
  EXPECT_FALSE(bits.Test(1, 3, 200));
}

TEST(BitMatrixTest, AgreesWithASetUnderRandomChanges) {
  std::mt19937_64 random(20261126);
  BitMatrix<2> bits;
  std::set<std::tuple<size_t, size_t, size_t>> expected;
  for (int step = 0; step < 20000; ++step) {
    // Rows and columns widen over time, as agents and frameworks arrive.
    const size_t limit = 8 + static_cast<size_t>(step / 50);
    const size_t plane = random() % 2;
    const size_t row = random() % limit;
    const size_t column = random() % limit;
    const bool value = random() % 3 != 0;
    bits.Assign(plane, row, column, value);
    if (value) {
      expected.insert({plane, row, column});
    } else {
      expected.erase({plane, row, column});
    }
    if (step % 1000 == 999) {
      for (size_t p = 0; p < 2; ++p) {
        for (size_t r = 0; r < limit + 2; ++r) {
          for (size_t c = 0; c < limit + 2; ++c) {
            ASSERT_EQ(bits.Test(p, r, c), expected.contains({p, r, c}))
                << "step " << step << " plane " << p << " row " << r << " column " << c;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace steward::allocator::internal
