// What the narrow kernels (FMA: narrow.cu, mma.sync: narrow_mma.cu) share: their parameters and the
// shift-add that turns a window's Z (shared memory) into its outputs.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cuda/dtype_traits.cuh"
#include "cuda/gemm_params.cuh"
#include "divisor.hpp"
#include "plan.hpp"

namespace convt1d::detail::narrow {

// The counts a tile's set-up divides by are Divisors (src/divisor.hpp): the tiles are short.
struct NarrowParams {
  int64_t out_length, q_first, tiles;
  Divisor<int32_t> tiles_per_row, stride;
  Divisor<int32_t> active;  // the shift-add's threads that take outputs: a multiple of the stride
  int32_t in_channels, out_channels, in_length, kernel_size, padding, m;
  int32_t slices, ci_per_slice, cols, halo, owned, slice_pitch, k_steps;
  int32_t tap_step, shift_step;
  int32_t first_tap[kMaxPhases], first_shift[kMaxPhases], tap_count[kMaxPhases];
};

inline NarrowParams make_params(const Plan& plan) {
  const Shape& s = plan.shape;
  const NarrowTiling& t = plan.narrow;
  NarrowParams p{};
  p.out_length = s.out_length;
  p.q_first = t.q_first;
  p.tiles_per_row = Divisor<int32_t>::of(std::max<int64_t>(t.tiles_per_row, 1));  // (0: no tiles to walk)
  p.tiles = t.tiles;
  p.in_channels = static_cast<int32_t>(s.in_channels);
  p.out_channels = static_cast<int32_t>(s.out_channels);
  p.in_length = static_cast<int32_t>(s.in_length);
  p.kernel_size = static_cast<int32_t>(s.kernel_size);
  p.stride = Divisor<int32_t>::of(s.stride);
  p.active = Divisor<int32_t>::of(kNarrowThreads - kNarrowThreads % s.stride);
  p.padding = static_cast<int32_t>(s.padding);
  p.m = static_cast<int32_t>(s.out_channels * s.kernel_size);
  p.slices = t.slices;
  p.ci_per_slice = t.ci_per_slice;
  p.cols = t.cols;
  p.halo = t.halo;
  p.owned = t.owned;
  p.slice_pitch = t.slice_pitch;
  p.k_steps = t.k_steps;
  gemm::fill_phase_taps(plan.poly, p);
  return p;
}

// Window `tile` of a kernel's walk: its batch row, its first owned q, its first position (column 0).
// The plan keeps tiles below 2^31, so the walk divides in 32 bits.
struct Window {
  int64_t b, q_lo, start;
};
__device__ __forceinline__ Window window_of(const NarrowParams& p, int64_t tile) {
  const auto tile32 = static_cast<int32_t>(tile);
  const int32_t b = p.tiles_per_row.div(tile32);
  const int64_t q_lo = p.q_first + int64_t{tile32 - b * p.tiles_per_row.value} * p.owned;
  return {b, q_lo, q_lo - p.halo};
}

// The outputs window (b, q_lo) owns, y[b, co, t] = bias + sum over the taps k of phase r
// (u = t + padding = q*stride + r) of Z[co*K + k][q - shift_k - start], each Z the sum of the
// slices' parts. Thread `tid` < active takes outputs t_lo + tid + n*active, all of one phase, so
// consecutive threads store to consecutive addresses.
template <class T>
__device__ __forceinline__ void shift_add(const NarrowParams& p, const float* z_s, const float* bias_s,
                                          T* __restrict__ y, int64_t b, int64_t q_lo, int64_t start, int tid) {
  const int stride = p.stride.value, active = p.active.value;
  const int col_step = p.stride.div(active);
  const int64_t t_lo = std::max<int64_t>(q_lo * stride - p.padding, 0);
  const int64_t t_hi = std::min<int64_t>((q_lo + p.owned) * stride - p.padding, p.out_length);
  if (tid >= active || t_lo + tid >= t_hi) return;
  // u = t + padding = q*stride + r, taken from the window's first q: d is under (owned + 1) * stride.
  const int d = static_cast<int>(t_lo + p.padding - q_lo * stride) + tid;
  const int dq = p.stride.div(d), r = d - dq * stride;
  const int taps = p.tap_count[r];
  const int col0 = dq + static_cast<int>(q_lo - start) - p.first_shift[r];
  const int count = p.active.div(static_cast<int>(t_hi - t_lo) - 1 - tid) + 1;
  const int tap_delta = p.tap_step * p.cols - p.shift_step;  // Z offset from one tap to the next
  for (int co = 0; co < p.out_channels; ++co) {
    const float* zc = z_s + (co * p.kernel_size + p.first_tap[r]) * p.cols + col0;
    T* yp = y + (b * p.out_channels + co) * p.out_length + t_lo + tid;
    const float bias_v = bias_s[co];
    for (int n = 0; n < count; ++n, zc += col_step, yp += active) {
      float v = bias_v;
      for (int k = 0; k < taps; ++k)
        for (int sl = 0; sl < p.slices; ++sl) v += zc[sl * p.slice_pitch + k * tap_delta];
      *yp = Elem<T>::store(v);
    }
  }
}

}  // namespace convt1d::detail::narrow
