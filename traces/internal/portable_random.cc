#include "traces/internal/portable_random.h"

#include <array>
#include <cfloat>
#include <cmath>
#include <limits>

namespace steward::traces::internal {
namespace {

static_assert(std::numeric_limits<double>::is_iec559, "IEEE 754 doubles are required");
static_assert(FLT_EVAL_METHOD == 0, "double arithmetic must be evaluated in double precision");

// ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (the classic fdlibm constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kTwoPi = 6.28318530717958647693;

// Terms term(0), ..., term(N-1) of a series, called in that order, computed at compile time.
template <int N, typename Term>
constexpr std::array<double, N> Series(Term term) {
  std::array<double, N> values{};
  for (int k = 0; k < N; ++k) values[k] = term(k);
  return values;
}

// 1/n! for n = 0..kExpTerms-1, computed at compile time with IEEE division.
constexpr int kExpTerms = 18;
constexpr std::array<double, kExpTerms> kInverseFactorial =
    Series<kExpTerms>([factorial = 1.0](int n) mutable {
      if (n > 0) factorial *= n;
      return 1 / factorial;
    });

// (-1)^k / (2k+1)! for k = 0..kSinTerms-1: sin x to x^25, for |x| <= pi/2.
constexpr int kSinTerms = 13;
constexpr std::array<double, kSinTerms> kSin = Series<kSinTerms>([next = 1.0](int k) mutable {
  const double term = next;
  next = -next / ((2.0 * k + 2) * (2.0 * k + 3));
  return term;
});

// 1 / (2k+1) for k = 0..kLogTerms-1: 2 atanh(s) to s^25, for |s| <= 0.1716.
constexpr int kLogTerms = 13;
constexpr std::array<double, kLogTerms> kAtanh =
    Series<kLogTerms>([](int k) { return 1 / (2.0 * k + 1); });

double SinReduced(double x) {
  const double x2 = x * x;
  double p = kSin[kSinTerms - 1];
  for (int k = kSinTerms - 2; k >= 0; --k) p = p * x2 + kSin[k];
  return x * p;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

double PortableLog(double x) {
  if (!(x > 0))
    return x == 0 ? -std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::quiet_NaN();
  if (x == std::numeric_limits<double>::infinity()) return x;
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // x = m * 2^exponent, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2;
    --exponent;
  }
  // log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.1716.
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double p = kAtanh[kLogTerms - 1];
  for (int k = kLogTerms - 2; k >= 0; --k) p = p * s2 + kAtanh[k];
  const double e = exponent;
  return e * kLn2Hi + (e * kLn2Lo + 2 * s * p);
}

double PortableExp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0;
  // x = k ln2 + r with |r| <= ln2 / 2; e^x = 2^k e^r.
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = kInverseFactorial[kExpTerms - 1];
  for (int n = kExpTerms - 2; n >= 0; --n) p = p * r + kInverseFactorial[n];
  return std::ldexp(p, static_cast<int>(k));
}

double PortableSinTurns(double turns) {
  double f = std::fmod(turns, 1.0);  // exact; (-1, 1)
  if (f >= 0.5) f -= 1;              // exact; [-0.5, 0.5)
  if (f < -0.5) f += 1;
  // sin(2 pi f) = sin(2 pi (1/2 - f)): fold onto [-1/4, 1/4].
  if (f > 0.25) f = 0.5 - f;
  if (f < -0.25) f = -0.5 - f;
  return SinReduced(kTwoPi * f);
}

PortableRandom::PortableRandom(uint64_t seed) {
  uint64_t expand = seed;
  for (uint64_t& word : state_) word = SplitMix64(&expand);
}

uint64_t PortableRandom::Next() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

double PortableRandom::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double PortableRandom::UniformPositive() {
  return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53;
}

double PortableRandom::Exponential(double rate) { return -PortableLog(UniformPositive()) / rate; }

double PortableRandom::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  double u = 0, v = 0, s = 0;
  do {
    u = 2 * Uniform() - 1;
    v = 2 * Uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double factor = std::sqrt(-2 * PortableLog(s) / s);
  spare_normal_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

double PortableRandom::LogNormal(double median, double sigma) {
  return median * PortableExp(sigma * Normal());
}

double PortableRandom::Pareto(double x_min, double alpha) {
  return x_min * PortableExp(-PortableLog(UniformPositive()) / alpha);
}

}  // namespace steward::traces::internal
