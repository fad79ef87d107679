// Division by a number that stays fixed for a whole launch (a length, a channel count, a stride).
// GPUs have no integer divider: a 32-bit `/` by a run-time value compiles to ~20 dependent
// instructions, and the direct kernel's index and tap arithmetic chains about ten of them before its
// first load, a visible part of a 5 us launch-bound layer (Mimi's depthwise upsampler, perf-log 134).
// Divisor<int32_t> divides by a multiply-high, an add and a shift instead. The host computes
// magic = floor(2^(32+l) / d) + 1 - 2^32 with l = ceil(log2 d), so that n / d = (hi(n * magic) + n) >> l;
// the rounding error of magic stays below 2^-(32+l) * n * d, which is exact for 0 <= n < 2^31 (and keeps
// the 32-bit sum from overflowing). Divisor<int64_t> divides plainly (the rare problems past 2^31).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "host_device.hpp"

namespace convt1d::detail {

template <class I>
struct Divisor;

template <>
struct Divisor<int64_t> {
  int64_t value;
  static Divisor of(int64_t d) { return Divisor{d}; }
  CONVT1D_HOST_DEVICE int64_t div(int64_t n) const { return n / value; }
  CONVT1D_HOST_DEVICE int64_t mod(int64_t n) const { return n % value; }
};

template <>
struct Divisor<int32_t> {
  int32_t value;
  uint32_t magic, shift;

  // d in [1, 2^31).
  static Divisor of(int64_t d) {
    if (d < 1 || d > INT32_MAX) throw std::invalid_argument("Divisor<int32_t>: divisor " + std::to_string(d));
    uint32_t l = 0;
    while ((uint64_t{1} << l) < static_cast<uint64_t>(d)) ++l;
    // 2^32 * (2^l - d) < 2^62: no overflow; the quotient is below 2^32 - 1 for every d < 2^31.
    const auto ud = static_cast<uint64_t>(d);
    const uint64_t m = (uint64_t{1} << 32) * ((uint64_t{1} << l) - ud) / ud + 1;
    return Divisor{static_cast<int32_t>(d), static_cast<uint32_t>(m), l};
  }
  // n in [0, 2^31).
  CONVT1D_HOST_DEVICE int32_t div(int32_t n) const {
    const auto un = static_cast<uint32_t>(n);
#if defined(__CUDA_ARCH__)
    const uint32_t hi = __umulhi(un, magic);
#else
    const auto hi = static_cast<uint32_t>((static_cast<uint64_t>(un) * magic) >> 32);
#endif
    return static_cast<int32_t>((hi + un) >> shift);
  }
  CONVT1D_HOST_DEVICE int32_t mod(int32_t n) const { return n - div(n) * value; }
};

}  // namespace convt1d::detail
