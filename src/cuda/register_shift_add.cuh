// The tap-major kernels' shift-add straight from the wgmma accumulators, for the stride-8 upsamplers
// of most vocoders (HiFi-GAN, DAC, Oobleck, Mimi): kernel_size 16, dilation 1
// (WgmmaTiling::register_epilogue). TF32 persistent tiles on packed W^T take strides 4, 2 and 1
// (kernel_size twice the stride) too (WgmmaTiling::tap_pairs): the packing regroups W^T's rows so that
// a lane's two rows are again both taps of one phase of one channel (src/tap_pairs.hpp), and what
// follows holds with lane row l/4 standing for that channel and phase.
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
#include "tap_pairs.hpp"
#include "window_ownership.hpp"

namespace convt1d::detail::wgmma {

// Joined rows (JOINED: p.joined, as a template argument so that the TF32 loop over rows apart stays as
// it was), and TF32 rows apart. Joined 16-bit (kStepRows): the lane's batch row and its row of y are
// stepped along with the column (joined rows start every joined_pitch columns) instead of recomputed
// every 8 columns (perf-log step 144: 3 % faster). TF32 tiles ran 1-3 % slower that way, and keep the
// recomputation.
// STRIDE: kRegisterEpilogueStride, or 0 for strides 4, 2 and 1 read at run time (TF32 persistent tiles
// on rows the packing regrouped, WgmmaTiling::tap_pairs): the stride-8 loop keeps its constant
// multiplies (read at run time, T5 and T1 TF32 ran 8-9 % slower; perf-log step 166).
template <int N, bool JOINED, class T, int STRIDE = kRegisterEpilogueStride>
__device__ __forceinline__ void register_shift_add_rows(const float* acc, const WgmmaParams& p, int32_t b0, int32_t j,
                                                        int32_t start, int32_t co0, int h, const T* __restrict__ bias,
                                                        T* __restrict__ y) {
  constexpr bool kStepRows = JOINED && sizeof(T) == 2;
  static_assert(STRIDE == kRegisterEpilogueStride || (STRIDE == 0 && !JOINED), "joined rows: stride 8");
  const int32_t s = STRIDE > 0 ? STRIDE : p.stride.value;
  const int shift = STRIDE > 0 ? kTapPairMaxShift : __ffs(s) - 1;
  const int lane = threadIdx.x % 32, warp = (threadIdx.x % 128) / 32, quad = lane % 4;
  const TapPairLane mine = STRIDE > 0 ? TapPairLane{warp, lane / 4} : tap_pair_lane(warp, lane / 4, shift);
  const int32_t r = mine.phase;
  const int32_t co = co0 + h * p.co_per_half + mine.channel;
  const auto [first, last] = owned_outputs(p, j, start, s);
  // (joined rows: the joined q that the window owns)
  const int32_t own_first = j > 0 ? start + p.halo : 0;
  const int32_t own_last = j < p.windows.value - 1 ? start + p.window : start + p.window + 1;
  const bool live = co < p.out_channels;
  const float bias_v = live && bias != nullptr ? to_float(bias[co]) : 0.0f;
  const int left_lane = quad == 0 ? lane + 3 : lane - 1;  // holds the column left of this lane's first
  float carry = 0.0f;  // the second tap at column 8j - 1 (quad 0 lanes), from the previous 8 columns
  int32_t sg = 0, col = 2 * quad;  // this lane's first column of the 8: segment and column in it
  // (JOINED) The batch row and position of this lane's column, stepped with it
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
    }
    const float* a = acc + 4 * c8;  // first tap at col, col + 1; second tap at col, col + 1
    const float from_left = __shfl_sync(0xffffffffu, a[3], left_lane);
    float left = quad == 0 ? carry : from_left;
    carry = from_left;
    if (col == 0) left = 0.0f;  // column -1: an input position before the row (or another segment's)
    int32_t b = b0 + sg, q = start + col;  // the lane's first column: batch row, input position
    T* yrow = step_row;
    if constexpr (JOINED) {
      b = step_b;
      q = step_q;
      for (step_q += 8; step_q >= p.joined_pitch.value; step_q -= p.joined_pitch.value) {
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

// Tiles of rows apart, 16-bit and fp32's persistent ones: the same sums, with less work per 8 columns than
// the general loop above (perf-log steps 145-146, 175; the epilogue is the consumers' serial tail of every
// tile). Which columns a lane writes is one range for the whole tile (owned_columns), moved along with the
// segment; the lane's y pointer moves at a segment's start only, so a column's store takes a constant
// offset from it; the bias rides on the taps before the shuffle (the second tap at column c - 1, and the
// first output's carry at a segment's start). The output right of a window's last column (its second tap
// alone): RIGHT_FROM_CARRY (persistent tiles), what a quad-0 lane's carry holds at the segment's end,
// written there once per segment; else tested for in every 8 columns, which ran 5 % faster on S9's one
// wave of one-tile blocks (their epilogue's code runs once per SM: its size counts; perf-log step 146).
template <int N, bool RIGHT_FROM_CARRY, class T>
__device__ __forceinline__ void register_shift_add_apart(const float* acc, const WgmmaParams& p, int32_t b0, int32_t j,
                                                         int32_t start, int32_t co0, int h,
                                                         const T* __restrict__ bias, T* __restrict__ y) {
  constexpr int32_t s = kRegisterEpilogueStride;
  const int lane = threadIdx.x % 32, warp = (threadIdx.x % 128) / 32, r = lane / 4, quad = lane % 4;
  const int32_t co = co0 + h * p.co_per_half + warp;
  if (co >= p.out_channels) return;  // (the warp's channel: all its lanes leave)
  const float bias_v = bias != nullptr ? to_float(bias[co]) : 0.0f;
  const int left_lane = quad == 0 ? lane + 3 : lane - 1;  // holds the column left of this lane's first
  // In the unrolled column c = 8 * c8 of the tile, the lane's first column in its segment is
  // c + 2 * quad - seg_start: the owned range and the segment's end are kept in units of c.
  const OwnedColumns own = owned_columns(r, s, j, p.windows.value, start, p.halo, p.window, p.padding, p.out_length);
  int32_t lo = own.lo - 2 * quad, hi = own.hi - 2 * quad;
  int32_t seg_end = p.window, last_pair = p.window - 2 - 2 * quad;  // last_pair: c of the window's last column
  const int32_t rows = min(p.batch - b0, p.segments.value);
  const int32_t live_end = rows * p.window;  // (no segment past the last batch row)
  constexpr int32_t kNoColumn = -(1 << 30);
  T* out = y + (int64_t{b0} * p.out_channels + co) * p.out_length + int64_t{start + 2 * quad} * s + r - p.padding;
  const int64_t next_segment = int64_t{p.out_channels} * p.out_length - int64_t{p.window} * s;
  float carry = bias_v;  // the quad-0 lanes' left tap: from the previous 8 columns, or none at a segment's start
  // (c: the segment's end, its column `window`; carry: the quad-3 lane's second tap at window - 1)
  const auto right_of_window = [&](int32_t c) {
    if (quad == 0 && lo <= c && c < hi) out[c * s] = from_float<T>(carry);
  };
#pragma unroll
  for (int c8 = 0; c8 < N / 8; ++c8) {
    constexpr int32_t kColumns = 8;
    const int32_t c = kColumns * c8;
    if (c >= seg_end) {  // (windows are whole multiples of 8 columns: c is the segment's end in every lane)
      if constexpr (RIGHT_FROM_CARRY) right_of_window(c);
      seg_end += p.window;
      if constexpr (!RIGHT_FROM_CARRY) last_pair += p.window;
      lo += p.window;
      hi = c < live_end ? hi + p.window : kNoColumn;  // (past the last batch row: no stores, no exit
                                                      // before the shuffles, which cost a check of the warp)
      out += next_segment;
      carry = bias_v;
    }
    const float* a = acc + 4 * c8;  // first tap at columns c, c + 1; second tap at c, c + 1
    const float second = a[3] + bias_v;
    const float from_left = __shfl_sync(0xffffffffu, second, left_lane);
    const float left = quad == 0 ? carry : from_left;
    carry = from_left;
    const float v0 = a[0] + left, v1 = (a[1] + bias_v) + a[2];
    if (lo <= c && c < hi) out[c * s] = from_float<T>(v0);
    if (lo <= c + 1 && c + 1 < hi) out[(c + 1) * s] = from_float<T>(v1);
    if constexpr (!RIGHT_FROM_CARRY)
      if (c == last_pair && lo <= c + 2 && c + 2 < hi) out[(c + 2) * s] = from_float<T>(second);
  }
  if constexpr (RIGHT_FROM_CARRY)
    if (seg_end == N) right_of_window(N);  // (the last segment, where it ends with the tile)
}

// PERSISTENT: the persistent kernel's tiles (register_shift_add_apart's RIGHT_FROM_CARRY).
template <int N, bool PERSISTENT = false, class T>
__device__ __forceinline__ void register_shift_add(const float* acc, const WgmmaParams& p, int32_t b0, int32_t j,
                                                   int32_t start, int32_t co0, int h, const T* __restrict__ bias,
                                                   T* __restrict__ y) {
  if (p.joined) return register_shift_add_rows<N, true>(acc, p, b0, j, start, co0, h, bias, y);
  // fp32 (TF32, IEEE): the apart loop on persistent tiles, where the general loop's ~1330 instructions per warp
  // and tile issue with no MMAs running (three consumer warpgroups since perf-log step 161; step 175: T5 TF32
  // 1.9 %, L1 0.8 % faster); one-tile blocks keep the general loop (step 145: S9 4.5 % slower on the apart one).
  if constexpr (sizeof(T) == 4 && PERSISTENT)
    if (p.stride.value != kRegisterEpilogueStride)  // (regrouped rows: TF32 persistent tilings only)
      return register_shift_add_rows<N, false, T, 0>(acc, p, b0, j, start, co0, h, bias, y);
  if constexpr (sizeof(T) == 2 || PERSISTENT)
    register_shift_add_apart<N, PERSISTENT>(acc, p, b0, j, start, co0, h, bias, y);
  else
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
