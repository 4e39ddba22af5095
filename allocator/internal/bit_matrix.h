// BitMatrix: bits by (row, column) in kPlanes planes, stored row-major so that all the bits
// of one row (every plane) are adjacent.
//
// The engine keeps its decline-filter bits here with agents as rows and frameworks as
// columns: a cycle walks agents in order and, at each agent, tests the bits of the few
// frameworks it visits, so one row's bits should share a cache line or two. Kept per
// framework instead, every visited framework's bits would sit in a separate array.
//
// Reading outside the allocated rows or columns gives false; setting a bit there grows the
// matrix (columns in whole 64-bit words, re-laying out the rows when they widen).
#ifndef STEWARD_ALLOCATOR_INTERNAL_BIT_MATRIX_H_
#define STEWARD_ALLOCATOR_INTERNAL_BIT_MATRIX_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace steward::allocator::internal {

template <size_t kPlanes>
class BitMatrix {
 public:
  bool Test(size_t plane, size_t row, size_t column) const {
    const size_t word = column / 64;
    if (row >= rows_ || word >= words_) return false;
    return ((bits_[Index(plane, row, word)] >> (column % 64)) & 1) != 0;
  }

  void Assign(size_t plane, size_t row, size_t column, bool value) {
    const size_t word = column / 64;
    if (row >= rows_ || word >= words_) {
      if (!value) return;
      Grow(row + 1, word + 1);
    }
    uint64_t& bits = bits_[Index(plane, row, word)];
    const uint64_t mask = uint64_t{1} << (column % 64);
    bits = value ? (bits | mask) : (bits & ~mask);
  }

  size_t rows() const { return rows_; }
  // Columns allocated per row (a multiple of 64).
  size_t columns() const { return words_ * 64; }

 private:
  size_t Index(size_t plane, size_t row, size_t word) const {
    return (row * kPlanes + plane) * words_ + word;
  }

  // Rows grow geometrically (the vector's own growth). A wider row re-lays out every row, so
  // rows widen by half at least: re-layouts stay logarithmic in the columns, and a row holds
  // at most half again the words it needs (at 50k rows and 10k columns, 2 planes: 169 MB
  // against the 125 MB needed).
  void Grow(size_t rows, size_t words) {
    rows = std::max(rows, rows_);
    if (words <= words_) {
      bits_.resize(rows * kPlanes * words_, 0);
      rows_ = rows;
      return;
    }
    words = std::max(words, words_ + words_ / 2);
    std::vector<uint64_t> wider(rows * kPlanes * words, 0);
    for (size_t r = 0; r < rows_; ++r) {
      for (size_t p = 0; p < kPlanes; ++p) {
        std::copy_n(bits_.begin() + static_cast<std::ptrdiff_t>((r * kPlanes + p) * words_), words_,
                    wider.begin() + static_cast<std::ptrdiff_t>((r * kPlanes + p) * words));
      }
    }
    bits_ = std::move(wider);
    rows_ = rows;
    words_ = words;
  }

  size_t rows_ = 0;
  size_t words_ = 0;
  std::vector<uint64_t> bits_;
};

}  // namespace steward::allocator::internal

#endif  // STEWARD_ALLOCATOR_INTERNAL_BIT_MATRIX_H_
