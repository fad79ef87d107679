// The tap-major kernels' shift-add straight from the wgmma accumulators, for the stride-8 upsamplers
// of most vocoders (HiFi-GAN, DAC, Oobleck, Mimi): kernel_size 16, dilation 1
// (WgmmaTiling::register_epilogue).
//
// Output t (u = t + padding = 8q + r) then sums exactly two taps of its phase r: k = r at input
// position q and k = r + 8 at q - 1, i.e. Z rows (co, r) and (co, r + 8) at columns q and q - 1. In a
// consumer warpgroup's m64 x N accumulators (4 channels of 16 rows), lane l of warp w holds channel w's
// rows l/4 (registers 4j, 4j+1) and l/4 + 8 (4j+2, 4j+3) at columns 8j + 2(l%4) and the next: both
// taps of phase l/4 at the lane's two columns. The second tap's column q - 1 of the lane's first
// column comes from its left neighbour (one shuffle; a row group's first lane carries it over from
// the previous 8 columns). No Z in shared memory and no block barrier: the layers this serves
// (perf-log step 121) ran 2-10 % faster. With kernel_size 8 or 4 the two taps' rows sit in different
// lanes, and the two more shuffles per 8 columns made the epilogue slower than the Z path.
// A window's last column also feeds the output one column to its right (its first tap's position is
// past the row, a zero), which its lane writes as well; the plan guarantees that no owned output lies
// further right (register_epilogue_fits).
// Joined rows (WgmmaTiling::joined_pitch, one segment): column c of the joined row is position
// c - b * pitch of batch row b = c / pitch; the window owns the outputs whose q lies in
// [start + halo, start + window) of the joined row (the first and last windows: everything to their
// left and right), as apart rows' windows do, and a row's zeros make the taps left of its first position
// and right of its last read zero. The pitch is even, so a lane's two columns are of one row.
#pragma once

#include "cuda/wgmma_common.cuh"

namespace convt1d::detail::wgmma {

// (JOINED: p.joined, as a template argument so that the loop over rows apart stays as lean as it was.)
// 16-bit (kStepRows): the lane's batch row, its row of y and its column's input position are stepped
// along with the column (segments are consecutive batch rows; joined rows start every joined_pitch
// columns) instead of recomputed every 8 columns: the epilogue is a quarter of T5's time, and its 64-bit
// row products a good part of each step (perf-log step 144: T5 bf16 3 % faster). TF32 tiles ran 1-3 %
// slower that way, and keep the recomputation.
template <int N, bool JOINED, class T>
__device__ __forceinline__ void register_shift_add_rows(const float* acc, const WgmmaParams& p, int32_t b0, int32_t j,
                                                        int32_t start, int32_t co0, int h, const T* __restrict__ bias,
                                                        T* __restrict__ y) {
  constexpr bool kStepRows = sizeof(T) == 2;
  constexpr int32_t s = kRegisterEpilogueStride;
  const int lane = threadIdx.x % 32, warp = (threadIdx.x % 128) / 32, r = lane / 4, quad = lane % 4;
  const int32_t co = co0 + h * p.co_per_half + warp;
  const auto [first, last] = owned_outputs(p, j, start, s);
  // (joined rows: the joined q that the window owns)
  const int32_t own_first = j > 0 ? start + p.halo : 0;
  const int32_t own_last = j < p.windows.value - 1 ? start + p.window : start + p.window + 1;
  const bool live = co < p.out_channels;
  const float bias_v = live && bias != nullptr ? to_float(bias[co]) : 0.0f;
  const int left_lane = quad == 0 ? lane + 3 : lane - 1;  // holds the column left of this lane's first
  float carry = 0.0f;  // the second tap at column 8j - 1 (quad 0 lanes), from the previous 8 columns
  int32_t sg = 0, col = 2 * quad;  // this lane's first column of the 8: segment and column in it
  // The batch row and position of this lane's column, stepped with it (JOINED, or kStepRows)
  int32_t step_b = b0, step_q = start + col;
  if constexpr (JOINED) {
    step_b = p.joined_pitch.div(start + col);
    step_q = start + col - step_b * p.joined_pitch.value;
  }
  const int64_t row_step = int64_t{p.out_channels} * p.out_length;  // from one batch row of y to the next
  T* step_row = kStepRows ? y + (int64_t{step_b} * p.out_channels + co) * p.out_length : nullptr;
#pragma unroll
  for (int c8 = 0; c8 < N / 8; ++c8, col += 8) {
    if (col >= p.window) {  // (windows are whole multiples of 8 columns)
      col -= p.window;
      ++sg;
      if constexpr (kStepRows && !JOINED) {
        step_q -= p.window;
        ++step_b;
        step_row += row_step;
      }
    }
    const float* a = acc + 4 * c8;  // first tap at col, col + 1; second tap at col, col + 1
    const float from_left = __shfl_sync(0xffffffffu, a[3], left_lane);
    float left = quad == 0 ? carry : from_left;
    carry = from_left;
    if (col == 0) left = 0.0f;  // column -1: an input position before the row (or another segment's)
    int32_t b = b0 + sg, q = start + col;  // the lane's first column: batch row, input position
    T* yrow = step_row;
    if constexpr (JOINED || kStepRows) {
      b = step_b;
      q = step_q;
      for (step_q += 8; JOINED && step_q >= p.joined_pitch.value; step_q -= p.joined_pitch.value) {
        ++step_b;
        if constexpr (kStepRows) step_row += row_step;
      }
    }
    if (!live || b >= p.batch) continue;
    if constexpr (!kStepRows) yrow = y + (int64_t(b) * p.out_channels + co) * p.out_length;
    const int32_t t0 = q * s + r - p.padding;
    const float v[3] = {a[0] + left, a[1] + a[2], a[3]};
#pragma unroll
    for (int e = 0; e < 3; ++e) {
      if (e == 2 && col + 2 != p.window) break;  // only a window's last column feeds one more output
      const int32_t t = t0 + e * s;
      const bool owned = JOINED ? start + col + e >= own_first && start + col + e < own_last && t >= 0 &&
                                      t < p.out_length
                                : t >= first && t < last;
      if (owned) yrow[t] = from_float<T>(v[e] + bias_v);
    }
  }
}

template <int N, class T>
__device__ __forceinline__ void register_shift_add(const float* acc, const WgmmaParams& p, int32_t b0, int32_t j,
                                                   int32_t start, int32_t co0, int h, const T* __restrict__ bias,
                                                   T* __restrict__ y) {
  if (p.joined) return register_shift_add_rows<N, true>(acc, p, b0, j, start, co0, h, bias, y);
  register_shift_add_rows<N, false>(acc, p, b0, j, start, co0, h, bias, y);
}

// The epilogue of a block that computes one tile (the non-persistent tap-major kernels): the register
// shift-add by the two consumer warpgroups where the plan chose it, else their accumulators into Z over
// the spent stages and the shift-add by all three warpgroups. `bias_s`: stage_bias's copy (Z path).
template <int N, class T>
__device__ __forceinline__ void one_tile_epilogue(const float* acc, float* z, const WgmmaParams& p, int32_t b0,
                                                  int32_t j, int32_t start, int32_t co0, const float* bias_s,
                                                  const T* __restrict__ bias, T* __restrict__ y) {
  const int wg = threadIdx.x / 128;
  if (p.register_epilogue) {
    if (wg > 0) register_shift_add<N>(acc, p, b0, j, start, co0, wg - 1, bias, y);
    return;
  }
  __syncthreads();
  if (wg > 0) accumulators_to_z<N>(acc, z, wg - 1, p.z_pitch);
  __syncthreads();  // Z written (the producer warpgroup joins the shift-add)
  shift_add(p, z, b0, j, start, co0, bias_s, y, epilogue_threads(p, threadIdx.x));
}

}  // namespace convt1d::detail::wgmma
