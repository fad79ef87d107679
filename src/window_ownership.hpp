// What a window of the tap-major kernels owns, in outputs (the shift-adds, the planner) and in columns
// (the register shift-add, src/cuda/register_shift_add.cuh): plain C++ that the kernels, the planner
// and the CPU tests share.
#pragma once

#include <algorithm>
#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

// The outputs [first, last) that window j of `windows` (input positions start .. start + window - 1)
// owns: the outputs u = t + padding whose q = u / stride lies in [start + halo, start + window), whose
// taps read q - halo .. q, all inside the window. The first window owns everything to its left (taps
// there read x < 0, which is zero), the last everything to its right (x >= L_in). I: int32_t in the
// kernels, int64_t on the host.
template <class I>
struct OwnedOutputs {
  I first, last;
};
template <class I>
CONVT1D_HOST_DEVICE inline I clamp_output(I t, I out_length) {
#if defined(__CUDA_ARCH__)
  return min(max(t, I{0}), out_length);  // (the kernels' integer min / max instructions)
#else
  return std::min(std::max(t, I{0}), out_length);
#endif
}
template <class I>
CONVT1D_HOST_DEVICE inline OwnedOutputs<I> window_owned_outputs(I j, I windows, I start, I halo, I window, I stride,
                                                                I padding, I out_length) {
  OwnedOutputs<I> o{0, out_length};
  if (j > 0) o.first = clamp_output<I>((start + halo) * stride - padding, out_length);
  if (j < windows - 1) o.last = clamp_output<I>((start + window) * stride - padding, out_length);
  return o;
}

// Window j of `windows` reads the input positions q = start + c of its columns c in [0, window); the
// outputs of phase r at column c are t = q * stride + r - padding. The window owns the columns from
// its halo (the first window: from its start) up to its end (the last window: one column further, whose
// first tap lies past the row), as window_owned_outputs says in outputs, and of those the columns whose
// t lies in [0, out_length). In columns, the bound is the same for every row of a tile (all its
// segments are window j of consecutive batch rows), so the kernel tests a column against two numbers.
struct OwnedColumns {
  int32_t lo, hi;  // columns [lo, hi); empty where lo >= hi
};

CONVT1D_HOST_DEVICE inline OwnedColumns owned_columns(int32_t r, int32_t stride, int32_t j, int32_t windows,
                                                      int32_t start, int32_t halo, int32_t window, int32_t padding,
                                                      int64_t out_length) {
  // t >= 0 from q >= ceil((padding - r) / stride); t < out_length up to q <= floor((out_length - 1 +
  // padding - r) / stride), the numerator at least -r > -stride (hence + stride before dividing).
  const int64_t q_lo = (int64_t{padding} - r + stride - 1) / stride;
  const int64_t q_hi = (out_length - 1 + padding - r + stride) / stride;  // one past the last
  const int64_t lo = q_lo - start, hi = q_hi - start;
  const int32_t own_lo = j > 0 ? halo : 0, own_hi = j < windows - 1 ? window : window + 1;
  return {lo > own_lo ? static_cast<int32_t>(lo) : own_lo, hi < own_hi ? static_cast<int32_t>(hi) : own_hi};
}

}  // namespace convt1d::detail
