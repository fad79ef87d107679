// What the streaming kernels share (wgmma_stream.cu: whole W^T resident, every phase per tile;
// wgmma_phase_stream.cu: one phase per block): their parameters, the walk over a block's tiles, the
// per-dtype math of one k-step (x^T fragments from the window in registers, W^T from shared memory),
// and one commit group of wgmmas. The scheme is described at the top of wgmma_stream.cu.
#pragma once

#include <cuda.h>

#include <cstdint>

#include "backend.hpp"
#include "cuda/hopper.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"
#include "tile_walk.hpp"

namespace convt1d::detail::stream {

using namespace wgmma;

constexpr int kStepsPerGroup = 4;            // k-steps per 128-byte row (chunk) of W^T
constexpr uint32_t kRowBytes = 128;          // a W^T row chunk and a staging row
constexpr int kStepBytes = 32;               // W^T bytes per k-step (the descriptor advance)
constexpr int kBlockM = 64;                  // positions per wgmma (M)
constexpr int kCoreRows = 8;                 // rows of a core matrix (descriptor SBO unit)
constexpr int kDescAddrShift = 4;            // a descriptor holds addresses in 16-byte units
constexpr int kWarpsPerConsumer = 4;            // warps of a consumer warpgroup
constexpr int kStoreWarps = 3;               // the producer warpgroup's other warps store y (warp stores)

struct StreamParams {
  int32_t tiles, tiles_per_row, out_length, out_channels;
  int32_t ci_pad, x_cols, x_base, stages, phases, shift_step;
  int32_t q_first;     // tile j's q0 = q_first + 128 j; its first output q0 * phases - padding
  int32_t out_offset;  // = q_first * phases - padding (in (-phases, 0]); with rotation, that + rotation - phases
  int32_t vec_slots;   // channel-group phase blocks: a thread's `phases` outputs of a row leave as one vector
  int32_t vec_rows;    // every tile's y rows start aligned to a lane's 4 elements
  int32_t paced;       // phase blocks: launched as clusters of `phases` blocks kept in step
  int32_t groups;      // phase blocks of every phase: channel groups of N
  int32_t tile_run;    // a block's runs of consecutive tiles (TileWalk)
  int32_t phase_chunk[kStreamMaxPhases + 1], phase_steps[kStreamMaxPhases], phase_shift[kStreamMaxPhases];
  uint32_t x_box_bytes, stage_bytes, weight_bytes, zero_bytes, staging_bytes;
  uint32_t image_bytes;  // one image of the packed W^T (every phase; IEEE has two: big, then small parts)
  int32_t rotation;      // every-phase tiles: phase r's outputs in slot (r - rotation) mod phases (StreamTiling)
  int32_t vec_pairs;     // vec_slots at stride 2 with slots on multiples of 4: two positions' outputs per vector
  int32_t x_parts;       // boxes (and barrier pairs) per x window: StreamTiling::x_parts
};

// Block `block` of `blocks` walking p's tiles (tile_walk.hpp), every index_step-th from first_index.
template <bool kRuns>
__device__ __forceinline__ TileWalk<kRuns> tile_walk(int32_t block, int32_t blocks, int32_t first_index,
                                                     int32_t index_step, const StreamParams& p) {
  return TileWalk<kRuns>(block, blocks, first_index, index_step, p.tile_run, p.stages, p.tiles_per_row);
}

// The math of one k-step, per element type and precision: the reduction per wgmma (kStep), where a
// thread's fragment rows start (kRowsPerQ), its A registers (kRegs), the fragment loads, and the
// wgmmas. `x` points at this thread's fragment origin in the window for one k-step; `cols` is the
// window row pitch; `b` is the step's W^T descriptor and `b_small` how far (in descriptor units) the
// image of W^T's small parts lies after it (IEEE only).
struct Tf32Math {
  using T = float;
  static constexpr int kStep = 8;
  static constexpr int kRowsPerQ = 1;  // lane q reads channel rows q and q + 4
  static constexpr int kRegs = 4;
  static constexpr int kImages = 1;    // W^T images (big, small)
  static constexpr int kGroupSteps = 4;  // k-steps per commit group (A fragments: kGroupSteps x kRegs)
  static constexpr bool kUnrolledStores = true;  // store_rows: four rows in flight per store warp
  template <int N>
  static __device__ __forceinline__ void mma(float* acc, const uint32_t (&a)[kRegs], uint64_t b, uint32_t) {
    MmaTf32<N>::run(acc, a, b);
  }
  static __device__ __forceinline__ void load(uint32_t (&a)[kRegs], const float* x, int32_t cols) {
    load_shifted(a, x, 4 * cols, 0, 0);
  }
  // Row boxes and residue maps (wgmma_stream.cu): the rows of k-slot q + 4 `high` elements past those of q.
  static __device__ __forceinline__ void load_shifted(uint32_t (&a)[kRegs], const float* x, int32_t high, int32_t,
                                                      int32_t) {
    a[0] = ptx::to_tf32(x[0]);             // (position g, channel q)
    a[1] = ptx::to_tf32(x[8]);             // (g + 8, q)
    a[2] = ptx::to_tf32(x[high]);          // (g, q + 4)
    a[3] = ptx::to_tf32(x[high + 8]);
  }
};

// IEEE fp32 by 3xTF32: x = big + small and W = big + small; the product keeps big*big + big*small +
// small*big (small*small is below fp32's precision). W's parts are rounded to tf32 when packed; x is
// split per fragment by ptx::split_tf32 (truncation), since the rounded split's ALU work bounded this
// kernel (ncu, perf-log step 52).
struct IeeeMath {
  using T = float;
  static constexpr int kStep = 8;
  static constexpr int kRowsPerQ = 1;
  static constexpr int kRegs = 8;      // [0..3] big, [4..7] small
  static constexpr int kImages = 2;
  static constexpr int kGroupSteps = 2;  // (twice the registers per step)
  static constexpr bool kUnrolledStores = false;
  template <int N>
  static __device__ __forceinline__ void mma(float* acc, const uint32_t (&a)[kRegs], uint64_t b, uint32_t b_small) {
    const uint32_t(&big)[4] = *reinterpret_cast<const uint32_t(*)[4]>(&a[0]);
    const uint32_t(&small)[4] = *reinterpret_cast<const uint32_t(*)[4]>(&a[4]);
    MmaTf32<N>::run(acc, small, b);
    MmaTf32<N>::run(acc, big, b + b_small);
    MmaTf32<N>::run(acc, big, b);
  }
  static __device__ __forceinline__ void load(uint32_t (&a)[kRegs], const float* x, int32_t cols) {
    load_shifted(a, x, 4 * cols, 0, 0);
  }
  static __device__ __forceinline__ void load_shifted(uint32_t (&a)[kRegs], const float* x, int32_t high, int32_t,
                                                      int32_t) {
    ptx::split_tf32(a[0], a[4], x[0]);
    ptx::split_tf32(a[1], a[5], x[8]);
    ptx::split_tf32(a[2], a[6], x[high]);
    ptx::split_tf32(a[3], a[7], x[high + 8]);
  }
};

template <class T16>
struct Math16 {
  using T = T16;
  static constexpr int kStep = 16;
  static constexpr int kRowsPerQ = 2;  // lane q reads channel rows 2q, 2q + 1 (+ 8): one pair per register
  static constexpr int kRegs = 4;
  static constexpr int kImages = 1;
  static constexpr int kGroupSteps = 4;
  static constexpr bool kUnrolledStores = false;
  template <int N>
  static __device__ __forceinline__ void mma(float* acc, const uint32_t (&a)[kRegs], uint64_t b, uint32_t) {
    MmaRegA<N, T16>::run(acc, a, b);
  }
  static __device__ __forceinline__ uint32_t pair(const uint16_t* x, int32_t cols) {
    return uint32_t(x[0]) | (uint32_t(x[cols]) << 16);  // channels 2q (low half) and 2q + 1
  }
  static __device__ __forceinline__ void load(uint32_t (&a)[kRegs], const T16* xt, int32_t cols) {
    const uint16_t* x = reinterpret_cast<const uint16_t*>(xt);
    a[0] = pair(x, cols);                  // (position g, channels 2q, 2q + 1)
    a[1] = pair(x + 8, cols);              // (g + 8, ...)
    a[2] = pair(x + 8 * cols, cols);       // (g, 2q + 8, 2q + 9)
    a[3] = pair(x + 8 * cols + 8, cols);
  }
  // Row boxes and residue maps (wgmma_stream.cu): row 2q + 8 sits `high` elements past row 2q, and rows
  // 2q + 1 and 2q + 9 `pair_step` and `pair_high` past rows 2q and 2q + 8.
  static __device__ __forceinline__ void load_shifted(uint32_t (&a)[kRegs], const T16* xt, int32_t high,
                                                      int32_t pair_step, int32_t pair_high) {
    const uint16_t* x = reinterpret_cast<const uint16_t*>(xt);
    a[0] = pair(x, pair_step);
    a[1] = pair(x + 8, pair_step);
    a[2] = pair(x + high, pair_high);
    a[3] = pair(x + high + 8, pair_high);
  }
};

// Two 16-bit values as one word, the first in the low half (the lower address).
template <class T>
__device__ __forceinline__ uint32_t pack_pair(float first, float second) {
  alignas(4) const T e[2] = {from_float<T>(first), from_float<T>(second)};
  return *reinterpret_cast<const uint32_t*>(e);
}

template <class M>
using AGroup = uint32_t[M::kGroupSteps][M::kRegs];

// Row boxes and residue maps (wgmma_stream.cu): where a thread's fragment rows sit, by the step's place kk
// in its W^T chunk, which repeats every P steps: `low[kk % P]` elements right of where a 16-byte-row stage
// would hold its first row, the other row of the fragment (k-slot q + 4 in fp32, 2q + 8 in 16-bit)
// `high[kk % P]` past the first, and (16-bit) the pair of each `pair[kk % P]` and `pair_high[kk % P]` past it.
//   16-bit row boxes, P = 1: the thread's own shift, and its second row's difference in both pairs;
//   fp32 row boxes, P = 2: transposed slots (row_boxes.hpp, row_box_slot) a pair per step parity,
//     the same for the whole warp; slots in channel order the thread's own shift for both;
//   residue maps, P = 4: row_residues.hpp, residue_rows.
template <int P>
struct RowShifts {
  int32_t low[P], high[P], pair[P], pair_high[P];
};

template <class M>
__device__ __forceinline__ void fence_group(AGroup<M>& a) {
#pragma unroll
  for (int kk = 0; kk < M::kGroupSteps; ++kk)
#pragma unroll
    for (int i = 0; i < M::kRegs; ++i) asm volatile("" : "+r"(a[kk][i])::"memory");
}

template <int N>
__device__ __forceinline__ void fence_acc(float (&acc)[N / 2]) {
#pragma unroll
  for (int i = 0; i < N / 2; ++i) hopper::fence_operand(acc[i]);
}

// One commit group: the A fragments of kGroupSteps k-steps for one m64 block from the x window (xs
// points at this thread's fragment origin in the block; off[kk] is step kk's channel-row and tap
// offset, or, past the reduction, the offset of a zero block: zero A against zero W^T rows), then
// their wgmmas into acc. Every group has all its wgmmas: wgmmas under a branch make ptxas serialize them.
// P > 0 (row boxes and residue maps, wgmma_stream.cu): the rows where `shifts` puts them, the group being
// steps g0.. of its chunk.
template <class M, int N, int P = 0>
__device__ __forceinline__ void mma_group(float (&acc)[N / 2], AGroup<M>& a, const typename M::T* xs,
                                          const int32_t* off, int32_t cols, uint64_t b_desc, uint32_t b_small,
                                          const RowShifts<P == 0 ? 1 : P>& shifts = {}, int g0 = 0) {
  if constexpr (P > 0) {
#pragma unroll
    for (int kk = 0; kk < M::kGroupSteps; ++kk) {
      const int j = (g0 + kk) % P;
      M::load_shifted(a[kk], xs + off[kk] + shifts.low[j], shifts.high[j], shifts.pair[j], shifts.pair_high[j]);
    }
  } else {
#pragma unroll
    for (int kk = 0; kk < M::kGroupSteps; ++kk) M::load(a[kk], xs + off[kk], cols);
  }
  fence_acc<N>(acc);
  fence_group<M>(a);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < M::kGroupSteps; ++kk) {
    M::template mma<N>(acc, a[kk], b_desc + kk * (kStepBytes >> kDescAddrShift), b_small);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
  fence_acc<N>(acc);
}

// One m64 block's accumulators set to the bias: this thread's two columns 8 nb + 2q, + 1 in both of
// its rows.
template <int N>
__device__ __forceinline__ void set_bias(float (&acc)[N / 2], const float* bias_s, int q) {
#pragma unroll
  for (int nb = 0; nb < N / 8; ++nb) {
    const float2 bv = *reinterpret_cast<const float2*>(&bias_s[nb * 8 + 2 * q]);
    acc[nb * 4 + 0] = acc[nb * 4 + 2] = bv.x;
    acc[nb * 4 + 1] = acc[nb * 4 + 3] = bv.y;
  }
}

// The x-window offsets of one chunk's k-steps step0.. (channel rows ci0.. of the tap whose column is
// `col`), advancing (ci0, col) through the phase's taps; steps past the phase's `steps` read the zero
// block at zero_off.
template <class M>
__device__ __forceinline__ void chunk_offsets(int32_t (&off)[kStepsPerGroup], int32_t step0, int32_t steps,
                                              int32_t& ci0, int32_t& col, int32_t zero_off, const StreamParams& p) {
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk) {
    off[kk] = step0 + kk < steps ? ci0 * p.x_cols + col : zero_off;
    ci0 += M::kStep;
    if (ci0 == p.ci_pad) {  // the phase's next tap: its x column is shift_step to the left
      ci0 = 0;
      col -= p.shift_step;
    }
  }
}

// The x stages' barriers: "full" completes on the producer's arrival plus the TMA bytes, "empty" on
// the arrivals of the consuming warpgroup's warps (or of its every thread: `empty_arrivals`).
__device__ __forceinline__ void init_stage_barriers(uint64_t* full, uint64_t* empty, int32_t stages,
                                                    int32_t empty_arrivals = kWarpsPerConsumer) {
  for (int s = 0; s < stages; ++s) {
    ptx::mbar_init(&full[s], 1);
    ptx::mbar_init(&empty[s], empty_arrivals);
  }
}

// What every thread of a block does before the roles split: zero the block that fragment loads past
// the reduction read, stage the bias (fp32, zero past C_out), and make W^T's generic stores (made
// before this call) visible to wgmma's async proxy.
template <int N, class T>
__device__ __forceinline__ void finish_setup(unsigned char* zeros, float* bias_s, const T* bias, const StreamParams& p,
                                             int32_t co_first = 0) {
  for (uint32_t i = threadIdx.x; i < p.zero_bytes / 16; i += blockDim.x)
    reinterpret_cast<uint4*>(zeros)[i] = make_uint4(0, 0, 0, 0);
  const int32_t co = co_first + static_cast<int32_t>(threadIdx.x);
  if (threadIdx.x < N) bias_s[threadIdx.x] = bias != nullptr && co < p.out_channels ? to_float(bias[co]) : 0.0f;
  hopper::fence_proxy_async();
  __syncthreads();
}

// The producer: x_parts TMA boxes of x per tile of the walk `w` (tiles of `positions` q; box h holds
// channel rows h * ci_pad / x_parts on, with barriers full/empty[stage * x_parts + h]), each into the
// tile's stage once its consumer has released that part of the stage's previous tile and, before the
// first, `pace(i)` (for this block's i-th tile) has returned.
struct NoPace {
  __device__ void operator()(int32_t) const {}
};
template <bool kRuns, class Pace = NoPace>
__device__ __forceinline__ void fill_x_stages(TileWalk<kRuns> w, int32_t positions, const StreamParams& p,
                                              const CUtensorMap* x_map, unsigned char* x_stages, uint64_t* full,
                                              uint64_t* empty, Pace pace = {}) {
  const int32_t box_rows = p.ci_pad / p.x_parts;
  for (int32_t i = 0; w.tile < p.tiles; ++i, w.next()) {
    const int32_t q0 = p.q_first + w.col_tile * positions;
    for (int32_t h = 0; h < p.x_parts; ++h) {
      const int32_t b = w.stage * p.x_parts + h;
      if (i >= p.stages) ptx::mbar_wait(&empty[b], w.parity ^ 1);
      if (h == 0) pace(i);
      hopper::mbar_arrive_expect_tx(&full[b], p.x_box_bytes);
      hopper::tma_load_3d(x_stages + size_t(w.stage) * p.stage_bytes + size_t(h) * p.x_box_bytes, x_map,
                          q0 + p.x_base, h * box_rows, w.row, &full[b]);
    }
  }
}

// The phase-block variant (wgmma_phase_stream.cu) on the W^T image packed for the call.
template <class M>
void launch_phase_blocks(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const StreamParams& p,
                         const void* image);

}  // namespace convt1d::detail::stream
