// The taps of one output position in gather form, shared by the direct kernel and the col2im pass.
// For u = t + padding only taps k with k*dilation ≡ u (mod stride) contribute. With g =
// gcd(stride, dilation) those exist iff g divides u, and they are k0, k0 + stride/g, ... where
// k0 = (u/g) * inverse(dilation/g) mod (stride/g): a thread visits only its own taps, which is what
// makes K = 10000, stride = 1000 cheap.
#pragma once

#include <cstdint>
#include <numeric>

#include "divisor.hpp"
#include "plan.hpp"

namespace convt1d::detail {

// I: the index type, int32_t where every position and count of the problem fits (the direct kernel's
// 32-bit instantiation: 64-bit divisions are ~10x the instructions of 32-bit ones, and its divisors
// divide by multiply-high, src/divisor.hpp), else int64_t.
template <class I>
struct TapWalkOf {
  I kernel_size, padding, dilation, in_length;
  I inverse;                         // (dilation/gcd)^-1 mod tap_step
  Divisor<I> stride, gcd, tap_step;  // gcd = gcd(stride, dilation), tap_step = stride/gcd

  static TapWalkOf of(const Shape& s) {
    const int64_t g = std::gcd(s.stride, s.dilation);
    return TapWalkOf{static_cast<I>(s.kernel_size), static_cast<I>(s.padding), static_cast<I>(s.dilation),
                     static_cast<I>(s.in_length), static_cast<I>(mod_inverse(s.dilation / g, s.stride / g)),
                     Divisor<I>::of(s.stride), Divisor<I>::of(g), Divisor<I>::of(s.stride / g)};
  }

  // f(k, l) for every tap k of output t whose input position l lies in [0, in_length). In the 32-bit
  // instantiation the caller guarantees tap_step^2 < 2^31 (the product below) and t + padding < 2^31.
  template <class F>
  __device__ __forceinline__ void each(I t, F&& f) const {
    const I u = t + padding;
    const I q = gcd.div(u);
    if (u != q * gcd.value) return;
    const I k0 = tap_step.mod(tap_step.mod(q) * inverse);
    for (I k = k0; k < kernel_size; k += tap_step.value) {
      const I v = u - k * dilation;
      if (v < 0) break;  // v only decreases with k
      const I l = stride.div(v);
      if (l < in_length) f(k, l);
    }
  }

 private:
  // x^-1 mod m for gcd(x, m) = 1 (extended Euclid); 0 when m == 1.
  static int64_t mod_inverse(int64_t x, int64_t m) {
    int64_t r0 = m, r1 = x % m, s0 = 0, s1 = 1;
    while (r1 != 0) {
      const int64_t q = r0 / r1, r2 = r0 - q * r1, s2 = s0 - q * s1;
      r0 = r1; r1 = r2; s0 = s1; s1 = s2;
    }
    return m == 1 ? 0 : ((s0 % m) + m) % m;
  }
};

using TapWalk = TapWalkOf<int64_t>;

}  // namespace convt1d::detail
