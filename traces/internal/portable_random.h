// Random numbers and elementary functions that give the same bits on every platform, for
// generators whose output must be a function of the seed alone (traces/synthetic.h).
//
// std:: distributions are implementation-defined (libstdc++, libc++ and MSVC differ), and libm's
// log, exp and sin are not required to round correctly, so they differ in the last bit between
// C libraries; one differing bit in a thinning test changes the rest of a stream. Everything
// here is built from operations IEEE 754 defines exactly (+ - * /, sqrt, floor, fmod, frexp,
// ldexp) evaluated in double precision; the .cc is compiled without floating-point
// contraction (no fused multiply-add) so that compilers cannot change the rounding.
#ifndef STEWARD_TRACES_INTERNAL_PORTABLE_RANDOM_H_
#define STEWARD_TRACES_INTERNAL_PORTABLE_RANDOM_H_

#include <cstdint>

namespace steward::traces::internal {

// Natural logarithm of a positive finite x, within a few ulp of the exact value.
double PortableLog(double x);
// e^x, within a few ulp; 0 below -745 and +infinity above 709.78.
double PortableExp(double x);
// sin(2 pi * turns), within a few ulp of the exact value for |turns| < 2^30.
double PortableSinTurns(double turns);

// xoshiro256** (Blackman and Vigna, 2018), seeded by expanding the 64-bit seed with
// splitmix64 as its authors recommend.
class PortableRandom {
 public:
  explicit PortableRandom(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, 1), a multiple of 2^-53.
  double Uniform();
  // Uniform in (0, 1], for logarithms.
  double UniformPositive();
  // Exponential with the given rate (> 0).
  double Exponential(double rate);
  // Standard normal, by Marsaglia's polar method (no trigonometry).
  double Normal();
  // exp(N(log(median), sigma^2)).
  double LogNormal(double median, double sigma);
  // Pareto with scale x_min and shape alpha: x_min * U^(-1/alpha).
  double Pareto(double x_min, double alpha);

 private:
  uint64_t state_[4];
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

}  // namespace steward::traces::internal

#endif  // STEWARD_TRACES_INTERNAL_PORTABLE_RANDOM_H_
