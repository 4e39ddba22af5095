// Scalar and AVX2 versions of the kernels of kernels.h.
#include "allocator/internal/kernels.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#define STEWARD_KERNELS_AVX2 1
#include <immintrin.h>
#else
#define STEWARD_KERNELS_AVX2 0
#endif

namespace steward::allocator::internal::kernels {
namespace {

// ---- scalar versions: the definitions ----

void FitMaskScalar(std::span<const int64_t* const> columns, std::span<const int64_t> demand,
                   size_t begin, size_t n, uint64_t* out) {
  std::fill(out, out + MaskWords(n), uint64_t{0});
  for (size_t i = 0; i < n; ++i) {
    if (Fits(columns, demand, begin + i)) out[i / 64] |= uint64_t{1} << (i % 64);
  }
}

double DominantShareOf(std::span<const int64_t* const> allocated, std::span<const int64_t> totals,
                       double weight, size_t c) {
  double share = 0;
  for (size_t r = 0; r < totals.size(); ++r) {
    if (totals[r] <= 0) continue;
    share = std::max(share, static_cast<double>(allocated[r][c]) / static_cast<double>(totals[r]));
  }
  return share / weight;
}

void DominantSharesScalar(std::span<const int64_t* const> allocated,
                          std::span<const int64_t> totals, const double* weights, size_t n,
                          double* out) {
  for (size_t c = 0; c < n; ++c) out[c] = DominantShareOf(allocated, totals, weights[c], c);
}

void ScoresScalar(ScoreKind kind, std::span<const int64_t* const> free,
                  std::span<const int64_t* const> caps, std::span<const int64_t> demand,
                  size_t begin, size_t n, double* out) {
  for (size_t i = 0; i < n; ++i) out[i] = Score(kind, free, caps, demand, begin + i);
}

#if STEWARD_KERNELS_AVX2

// ---- AVX2 versions ----

#define STEWARD_AVX2 __attribute__((target("avx2")))

STEWARD_AVX2 inline __m256i Load(const int64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Signed int64 -> double over the full range, correctly rounded (round to nearest even), so
// equal to static_cast<double> lane by lane: the top 16 bits and the low 48 bits are placed
// exactly into two doubles biased by powers of two, the biases cancel exactly, and the final
// addition is the only rounding.
STEWARD_AVX2 inline __m256d ToDouble(__m256i x) {
  __m256i high = _mm256_srai_epi32(x, 16);
  high = _mm256_blend_epi16(high, _mm256_setzero_si256(), 0x33);
  high = _mm256_add_epi64(high, _mm256_castpd_si256(_mm256_set1_pd(442721857769029238784.0)));
  const __m256i low =
      _mm256_blend_epi16(x, _mm256_castpd_si256(_mm256_set1_pd(4503599627370496.0)), 0x88);
  const __m256d biased =
      _mm256_sub_pd(_mm256_castsi256_pd(high), _mm256_set1_pd(442726361368656609280.0));
  return _mm256_add_pd(biased, _mm256_castsi256_pd(low));
}

STEWARD_AVX2 void FitMaskAvx2(std::span<const int64_t* const> columns,
                              std::span<const int64_t> demand, size_t begin, size_t n,
                              uint64_t* out) {
  std::fill(out, out + MaskWords(n), uint64_t{0});
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i short_of = _mm256_setzero_si256();
    for (size_t k = 0; k < columns.size(); ++k) {
      const __m256i need = _mm256_set1_epi64x(demand[k]);
      short_of = _mm256_or_si256(short_of, _mm256_cmpgt_epi64(need, Load(columns[k] + begin + i)));
    }
    const auto fits =
        static_cast<uint64_t>(~_mm256_movemask_pd(_mm256_castsi256_pd(short_of)) & 0xF);
    out[i / 64] |= fits << (i % 64);
  }
  for (; i < n; ++i) {
    bool fits = true;
    for (size_t k = 0; k < columns.size() && fits; ++k) fits = columns[k][begin + i] >= demand[k];
    if (fits) out[i / 64] |= uint64_t{1} << (i % 64);
  }
}

STEWARD_AVX2 void DominantSharesAvx2(std::span<const int64_t* const> allocated,
                                     std::span<const int64_t> totals, const double* weights,
                                     size_t n, double* out) {
  size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    __m256d share = _mm256_setzero_pd();
    for (size_t r = 0; r < totals.size(); ++r) {
      if (totals[r] <= 0) continue;
      const __m256d x = _mm256_div_pd(ToDouble(Load(allocated[r] + c)),
                                      _mm256_set1_pd(static_cast<double>(totals[r])));
      // std::max(share, x): x where share < x, else share (no NaN: totals are positive).
      share = _mm256_max_pd(x, share);
    }
    _mm256_storeu_pd(out + c, _mm256_div_pd(share, _mm256_loadu_pd(weights + c)));
  }
  for (; c < n; ++c) out[c] = DominantShareOf(allocated, totals, weights[c], c);
}

STEWARD_AVX2 void ScoresAvx2(ScoreKind kind, std::span<const int64_t* const> free,
                             std::span<const int64_t* const> caps, std::span<const int64_t> demand,
                             size_t begin, size_t n, double* out) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d score = _mm256_setzero_pd();
    for (size_t k = 0; k < demand.size(); ++k) {
      const __m256i f = Load(free[k] + begin + i);
      const __m256d cap = ToDouble(Load(caps[k] + begin + i));
      __m256d term;
      if (kind == ScoreKind::kDot) {
        const __m256d d = _mm256_set1_pd(static_cast<double>(demand[k]));
        term = _mm256_mul_pd(_mm256_div_pd(d, cap), _mm256_div_pd(ToDouble(f), cap));
      } else {
        const __m256i slack = _mm256_sub_epi64(f, _mm256_set1_epi64x(demand[k]));
        term = _mm256_div_pd(ToDouble(slack), cap);
      }
      score = _mm256_add_pd(score, term);
    }
    _mm256_storeu_pd(out + i, score);
  }
  if (i < n) ScoresScalar(kind, free, caps, demand, begin + i, n - i, out + i);
}

#undef STEWARD_AVX2

#endif  // STEWARD_KERNELS_AVX2

}  // namespace

bool Avx2Supported() {
#if STEWARD_KERNELS_AVX2
  static const bool supported = __builtin_cpu_supports("avx2");
  return supported;
#else
  return false;
#endif
}

Isa ActiveIsa() {
  static const Isa isa = Avx2Supported() ? Isa::kAvx2 : Isa::kScalar;
  return isa;
}

const char* IsaName(Isa isa) { return isa == Isa::kAvx2 ? "avx2" : "scalar"; }

void FitMask(std::span<const int64_t* const> columns, std::span<const int64_t> demand, size_t begin,
             size_t n, uint64_t* out, Isa isa) {
#if STEWARD_KERNELS_AVX2
  if (isa == Isa::kAvx2 && Avx2Supported()) return FitMaskAvx2(columns, demand, begin, n, out);
#endif
  FitMaskScalar(columns, demand, begin, n, out);
}

void DominantShares(std::span<const int64_t* const> allocated, std::span<const int64_t> totals,
                    const double* weights, size_t n, double* out, Isa isa) {
#if STEWARD_KERNELS_AVX2
  if (isa == Isa::kAvx2 && Avx2Supported()) {
    return DominantSharesAvx2(allocated, totals, weights, n, out);
  }
#endif
  DominantSharesScalar(allocated, totals, weights, n, out);
}

void Scores(ScoreKind kind, std::span<const int64_t* const> free,
            std::span<const int64_t* const> caps, std::span<const int64_t> demand, size_t begin,
            size_t n, double* out, Isa isa) {
#if STEWARD_KERNELS_AVX2
  if (isa == Isa::kAvx2 && Avx2Supported()) {
    return ScoresAvx2(kind, free, caps, demand, begin, n, out);
  }
#endif
  ScoresScalar(kind, free, caps, demand, begin, n, out);
}

}  // namespace steward::allocator::internal::kernels
