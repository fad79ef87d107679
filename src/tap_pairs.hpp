// Where the register epilogue (src/cuda/register_shift_add.cuh) finds an output's two taps in the wgmma
// accumulators, for kernel_size = 2 * stride and dilation 1: plain C++ that the W^T packing, the
// epilogue and the CPU tests share.
//
// A warp holds 16 rows of its warpgroup's accumulators; lane l holds rows l/4 and l/4 + 8. An output of
// phase r sums taps r and r + stride of one channel, so those two rows must be 8 apart. At stride 8
// (kernel_size 16) a channel's 16 rows in their natural order (m = co*K + k) already are. At strides 4
// and 2 a group of 16 rows holds 8 / stride channels, and the TF32 W^T packing, which writes every row
// anyway, reorders each group: row 8*half + stride*c + phase holds tap phase + half*stride of the
// group's channel c. Lane row r (0..7) then holds channel r / stride, phase r % stride, both taps.
// Strides are powers of two here: `shift` is log2(stride).
#pragma once

#include <cstdint>

#include "host_device.hpp"

namespace convt1d::detail {

constexpr int kTapPairRows = 16;    // rows a warp holds: the unit that the packing reorders
constexpr int kTapPairHalf = 8;     // a lane's second row, this many after its first
constexpr int kTapPairMaxShift = 3;  // stride 8: the natural order

// log2 of a stride that is a power of two (the `shift` below); for others, that of the next one up.
CONVT1D_HOST_DEVICE constexpr int tap_pair_shift_of(int64_t stride) {
  int shift = 0;
  while ((int64_t{1} << shift) < stride) ++shift;
  return shift;
}

// The packed row that holds natural row m (m = co*K + k, K = 2 << shift) of W^T.
CONVT1D_HOST_DEVICE constexpr int64_t tap_pair_row(int64_t m, int shift) {
  const int64_t i = m % kTapPairRows;
  const int64_t c = i >> (shift + 1), tap = i & ((int64_t{2} << shift) - 1);
  const int64_t half = tap >> shift, phase = tap & ((int64_t{1} << shift) - 1);
  return m - i + half * kTapPairHalf + (c << shift) + phase;
}

// Lane row r (0..7) of warp `warp`: its channel within the warpgroup's co_per_half, and its phase.
struct TapPairLane {
  int32_t channel, phase;
};
CONVT1D_HOST_DEVICE constexpr TapPairLane tap_pair_lane(int32_t warp, int32_t r, int shift) {
  constexpr int32_t kWarpRows = kTapPairHalf;
  return {(warp * kWarpRows + r) >> shift, r & ((1 << shift) - 1)};
}

}  // namespace convt1d::detail
