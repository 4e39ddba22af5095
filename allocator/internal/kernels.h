// SIMD kernels for the allocator's hot loops over structure-of-arrays columns, behind one small
// interface with a scalar fallback.
//
// Every kernel has a scalar version and an AVX2 version that computes bit-identical results:
// the AVX2 code performs, lane by lane, exactly the scalar code's operations in the scalar
// code's order (int64 compare; int64 subtraction; correctly rounded int64 -> double conversion;
// IEEE division, multiplication and addition; no fused multiply-add), so callers may switch
// between them without changing a decision.
//
// Dispatch is at run time: the library is built for baseline x86-64, the AVX2 functions carry
// a per-function target attribute, and ActiveIsa() picks AVX2 only when the CPU (and the OS,
// for the YMM state) supports it, so the binary runs on any x86-64 CPU. Elsewhere (other
// architectures) only the scalar versions exist. Each kernel takes the Isa explicitly as its
// last argument, defaulting to ActiveIsa(), so tests and benchmarks can run both.
#ifndef STEWARD_ALLOCATOR_INTERNAL_KERNELS_H_
#define STEWARD_ALLOCATOR_INTERNAL_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace steward::allocator::internal::kernels {

enum class Isa { kScalar, kAvx2 };

// True if this build has the AVX2 versions and the CPU can run them.
bool Avx2Supported();
// The Isa the defaulted argument uses: kAvx2 when supported, else kScalar.
Isa ActiveIsa();
const char* IsaName(Isa isa);

// Bit words needed for a mask of `n` entries.
constexpr size_t MaskWords(size_t n) { return (n + 63) / 64; }

// Fit mask. For i in [0, n): bit i of `out` (word i / 64, bit i % 64) is set iff
// columns[k][begin + i] >= demand[k] for every k (set for every i when there are no columns).
// Writes MaskWords(n) words; bits from n up to the end of the last word are zero.
void FitMask(std::span<const int64_t* const> columns, std::span<const int64_t> demand, size_t begin,
             size_t n, uint64_t* out, Isa isa = ActiveIsa());

// Dominant shares. For client c in [0, n):
//   out[c] = max(0, max over r with totals[r] > 0 of allocated[r][c] / totals[r]) / weights[c]
// with allocated and totals converted to double first (Engine::Share's formula; resources
// whose total is zero or negative are ignored). `allocated` has one column per resource,
// indexed by client, and as many columns as `totals` has entries.
void DominantShares(std::span<const int64_t* const> allocated, std::span<const int64_t> totals,
                    const double* weights, size_t n, double* out, Isa isa = ActiveIsa());

// Placement scores of agents [begin, begin + n) for a demand, summed over k in order from 0.0,
// with f = free[k][agent], c = caps[k][agent], d = demand[k]:
//   kSlack: += double(f - d) / double(c)                  (best-fit minimises, worst-fit maximises)
//   kDot:   += (double(d) / double(c)) * (double(f) / double(c))   (dot-product maximises)
// Computed for every agent, fitting or not (a zero cap gives IEEE infinities or NaN, the same
// in both versions). The caller masks with FitMask. f - d must not overflow.
enum class ScoreKind { kSlack, kDot };
void Scores(ScoreKind kind, std::span<const int64_t* const> free,
            std::span<const int64_t* const> caps, std::span<const int64_t> demand, size_t begin,
            size_t n, double* out, Isa isa = ActiveIsa());

// One agent, inline: Fits(columns, demand, i) is bit i of FitMask's answer for begin = i,
// n = 1, and Score(kind, free, caps, demand, i) is Scores' out[0] for begin = i, n = 1 (the
// scalar versions are written with these, so the three agree bit for bit).
inline bool Fits(std::span<const int64_t* const> columns, std::span<const int64_t> demand,
                 size_t i) {
  for (size_t k = 0; k < columns.size(); ++k) {
    if (columns[k][i] < demand[k]) return false;
  }
  return true;
}
inline double Score(ScoreKind kind, std::span<const int64_t* const> free,
                    std::span<const int64_t* const> caps, std::span<const int64_t> demand,
                    size_t i) {
  double score = 0;
  for (size_t k = 0; k < demand.size(); ++k) {
    const int64_t f = free[k][i];
    const double cap = static_cast<double>(caps[k][i]);
    if (kind == ScoreKind::kDot) {
      score += (static_cast<double>(demand[k]) / cap) * (static_cast<double>(f) / cap);
    } else {
      score += static_cast<double>(f - demand[k]) / cap;
    }
  }
  return score;
}

}  // namespace steward::allocator::internal::kernels

#endif  // STEWARD_ALLOCATOR_INTERNAL_KERNELS_H_
