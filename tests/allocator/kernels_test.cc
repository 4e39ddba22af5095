// The SIMD kernels (allocator/internal/kernels.h): the scalar versions against hand-computed
// values, and the AVX2 versions against the scalar ones, bit for bit, on random inputs of edge
// sizes (0, 1, 7, lengths that are not a multiple of the vector width, several mask words),
// zero totals and caps, boundary values (free == demand) and huge values.
#include "allocator/internal/kernels.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace steward::allocator::internal::kernels {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
const size_t kSizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 15, 63, 64, 65, 127, 130, 1000};

// Columns of random values around the demand, so that every comparison goes both ways and
// equality (a fit) is frequent; with `huge`, values near the int64 limits too.
struct Table {
  std::vector<std::vector<int64_t>> columns;
  std::vector<const int64_t*> pointers;
  std::span<const int64_t* const> span() const { return pointers; }
};

Table RandomTable(std::mt19937_64& rng, size_t num_columns, size_t n, int64_t lo, int64_t hi) {
  Table table;
  std::uniform_int_distribution<int64_t> value(lo, hi);
  std::uniform_int_distribution<int> pick(0, 9);
  table.columns.resize(num_columns);
  for (auto& column : table.columns) {
    column.resize(n);
    for (int64_t& x : column) {
      switch (pick(rng)) {
        case 0:
          x = 0;
          break;
        case 1:
          x = lo;
          break;
        case 2:
          x = hi;
          break;
        default:
          x = value(rng);
      }
    }
  }
  for (const auto& column : table.columns) table.pointers.push_back(column.data());
  return table;
}

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

TEST(KernelsTest, IsaNamesAndDispatch) {
  EXPECT_STREQ(IsaName(Isa::kScalar), "scalar");
  EXPECT_STREQ(IsaName(Isa::kAvx2), "avx2");
  EXPECT_EQ(ActiveIsa(), Avx2Supported() ? Isa::kAvx2 : Isa::kScalar);
}

TEST(KernelsTest, FitMaskByHand) {
  const std::vector<int64_t> cpus = {4, 1, 2, 8, 2, 0, 3, 2, 9};
  const std::vector<int64_t> mem = {10, 10, 5, 4, 6, 9, 9, 5, 5};
  const int64_t* columns[] = {cpus.data(), mem.data()};
  const int64_t demand[] = {2, 5};
  for (Isa isa : {Isa::kScalar, ActiveIsa()}) {
    uint64_t mask = ~uint64_t{0};
    FitMask(columns, demand, 0, 9, &mask, isa);
    // Fits: 0 (4,10), 2 (2,5), 4 (2,6), 6 (3,9), 7 (2,5), 8 (9,5).
    EXPECT_EQ(mask, 0b111010101u) << IsaName(isa);
    FitMask(columns, demand, 2, 7, &mask, isa);
    EXPECT_EQ(mask, 0b1110101u) << IsaName(isa);
    FitMask(std::span<const int64_t* const>(), std::span<const int64_t>(), 0, 5, &mask, isa);
    EXPECT_EQ(mask, 0b11111u) << "no columns: everything fits, " << IsaName(isa);
  }
}

TEST(KernelsTest, DominantSharesByHand) {
  const std::vector<int64_t> cpus = {0, 5, 10, 2};
  const std::vector<int64_t> mem = {0, 10, 5, 100};
  const std::vector<int64_t> gpus = {7, 7, 7, 7};  // total zero: ignored
  const int64_t* allocated[] = {cpus.data(), mem.data(), gpus.data()};
  const int64_t totals[] = {10, 100, 0};
  const double weights[] = {1, 2, 1, 4};
  for (Isa isa : {Isa::kScalar, ActiveIsa()}) {
    double out[4];
    DominantShares(allocated, totals, weights, 4, out, isa);
    EXPECT_EQ(out[0], 0.0);
    EXPECT_EQ(out[1], 0.25);  // max(0.5, 0.1) / 2
    EXPECT_EQ(out[2], 1.0);
    EXPECT_EQ(out[3], 0.25);  // max(0.2, 1.0) / 4
  }
}

TEST(KernelsTest, ScoresByHand) {
  const std::vector<int64_t> cpus_free = {8, 4, 5};
  const std::vector<int64_t> cpus_cap = {8, 8, 10};
  const std::vector<int64_t> mem_free = {16, 4, 20};
  const std::vector<int64_t> mem_cap = {32, 8, 40};
  const int64_t* free[] = {cpus_free.data(), mem_free.data()};
  const int64_t* caps[] = {cpus_cap.data(), mem_cap.data()};
  const int64_t demand[] = {4, 4};
  for (Isa isa : {Isa::kScalar, ActiveIsa()}) {
    double out[3];
    Scores(ScoreKind::kSlack, free, caps, demand, 0, 3, out, isa);
    EXPECT_EQ(out[0], 0.5 + 12.0 / 32);
    EXPECT_EQ(out[1], 0.0);
    EXPECT_EQ(out[2], 0.1 + 16.0 / 40);
    Scores(ScoreKind::kDot, free, caps, demand, 1, 2, out, isa);
    EXPECT_EQ(out[0], 0.5 * 0.5 + 0.5 * 0.5);
    EXPECT_EQ(out[1], 0.4 * 0.5 + 0.1 * 0.5);
  }
}

class KernelsAvx2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Avx2Supported()) GTEST_SKIP() << "this CPU has no AVX2: only the scalar kernels run";
  }
};

TEST_F(KernelsAvx2Test, FitMaskMatchesScalar) {
  std::mt19937_64 rng(1);
  for (size_t num_columns : {0, 1, 3, 6}) {
    for (size_t n : kSizes) {
      for (bool huge : {false, true}) {
        const int64_t lo = huge ? kMin : -5, hi = huge ? kMax : 20;
        for (size_t begin : {size_t{0}, size_t{3}}) {
          Table table = RandomTable(rng, num_columns, n + begin, lo, hi);
          std::vector<int64_t> demand;
          std::uniform_int_distribution<int64_t> value(lo, hi);
          for (size_t k = 0; k < num_columns; ++k) {
            // Half the time a value taken from the column, so equality occurs.
            demand.push_back(n > 0 && k % 2 == 0 ? table.columns[k][begin + n / 2] : value(rng));
          }
          std::vector<uint64_t> want(MaskWords(n) + 1, 0xdead), got(MaskWords(n) + 1, 0xdead);
          FitMask(table.span(), demand, begin, n, want.data(), Isa::kScalar);
          FitMask(table.span(), demand, begin, n, got.data(), Isa::kAvx2);
          EXPECT_EQ(got, want) << "columns " << num_columns << " n " << n << " begin " << begin
                               << " huge " << huge;
          EXPECT_EQ(got.back(), 0xdeadu) << "wrote past MaskWords(n)";
          if (n % 64 != 0) {
            EXPECT_EQ(got[n / 64] >> (n % 64), 0u) << "bits past n must be zero";
          }
        }
      }
    }
  }
}

TEST_F(KernelsAvx2Test, DominantSharesMatchScalar) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> weight(0.1, 10.0);
  for (size_t num_columns : {0, 1, 3, 6}) {
    for (size_t n : kSizes) {
      for (bool huge : {false, true}) {
        Table allocated = RandomTable(rng, num_columns, n, huge ? kMin : 0, huge ? kMax : 1000);
        std::vector<int64_t> totals;
        std::uniform_int_distribution<int64_t> total(huge ? 1 : -3, huge ? kMax : 2000);
        for (size_t r = 0; r < num_columns; ++r) totals.push_back(r == 1 ? 0 : total(rng));
        std::vector<double> weights(n);
        for (double& w : weights) w = weight(rng);
        std::vector<double> want(n), got(n);
        DominantShares(allocated.span(), totals, weights.data(), n, want.data(), Isa::kScalar);
        DominantShares(allocated.span(), totals, weights.data(), n, got.data(), Isa::kAvx2);
        for (size_t c = 0; c < n; ++c) {
          ASSERT_TRUE(SameBits(got[c], want[c]))
              << "client " << c << " of " << n << ": " << got[c] << " vs " << want[c];
        }
      }
    }
  }
}

TEST_F(KernelsAvx2Test, ScoresMatchScalar) {
  std::mt19937_64 rng(3);
  for (ScoreKind kind : {ScoreKind::kSlack, ScoreKind::kDot}) {
    for (size_t num_columns : {0, 1, 3, 6}) {
      for (size_t n : kSizes) {
        for (bool huge : {false, true}) {
          // f - d must not overflow: keep both within +-2^62.
          const int64_t hi = huge ? (int64_t{1} << 62) : 50;
          const size_t begin = n % 3;
          Table free = RandomTable(rng, num_columns, n + begin, huge ? -hi : 0, hi);
          Table caps = RandomTable(rng, num_columns, n + begin, 0, hi);  // zero caps included
          std::vector<int64_t> demand;
          std::uniform_int_distribution<int64_t> value(0, hi);
          for (size_t k = 0; k < num_columns; ++k) demand.push_back(value(rng));
          std::vector<double> want(n), got(n);
          Scores(kind, free.span(), caps.span(), demand, begin, n, want.data(), Isa::kScalar);
          Scores(kind, free.span(), caps.span(), demand, begin, n, got.data(), Isa::kAvx2);
          for (size_t i = 0; i < n; ++i) {
            ASSERT_TRUE(SameBits(got[i], want[i]) || (std::isnan(got[i]) && std::isnan(want[i])))
                << "agent " << i << " of " << n << ": " << got[i] << " vs " << want[i];
          }
        }
      }
    }
  }
}

// The int64 -> double conversion must round exactly like static_cast<double>: a slack score
// with demand 0 and cap 1 is the free value converted.
TEST_F(KernelsAvx2Test, ConversionRoundsLikeStaticCast) {
  std::vector<int64_t> values = {0,
                                 1,
                                 -1,
                                 kMax,
                                 kMin,
                                 kMin + 1,
                                 (int64_t{1} << 53) + 1,
                                 (int64_t{1} << 53) + 3,
                                 -(int64_t{1} << 53) - 1,
                                 (int64_t{1} << 62) + 513,
                                 (int64_t{1} << 62) + 512,
                                 (int64_t{1} << 62) + 1536,
                                 (int64_t{1} << 48) - 1,
                                 int64_t{1} << 48,
                                 -(int64_t{1} << 48)};
  std::mt19937_64 rng(4);
  for (int i = 0; i < 4000; ++i) {
    const auto x = static_cast<int64_t>(rng());
    values.push_back(x);
    values.push_back(x >> (i % 64));
  }
  const std::vector<int64_t> caps(values.size(), 1);
  const int64_t* free[] = {values.data()};
  const int64_t* cap[] = {caps.data()};
  const int64_t demand[] = {0};
  std::vector<double> got(values.size());
  Scores(ScoreKind::kSlack, free, cap, demand, 0, values.size(), got.data(), Isa::kAvx2);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(SameBits(got[i], static_cast<double>(values[i])))
        << values[i] << " converted to " << got[i];
  }
}

}  // namespace
}  // namespace steward::allocator::internal::kernels
