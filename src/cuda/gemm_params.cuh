// What the implicit-GEMM kernel reads of the plan, its element types and MMA traits, and how a block
// walks its (tile, chunk) steps. Shared by the load, MMA and epilogue headers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "divisor.hpp"
#include "plan.hpp"

namespace convt1d::detail::gemm {

constexpr int kMmaTilesM = 4;  // 4 x 16 = 64 output channels per warp
constexpr int kMmaTilesN = 4;  // 4 x 8 = 32 positions per warp
constexpr int kVecBytes = 16;

using Acc = float[kMmaTilesM][kMmaTilesN][4];  // one warp item's accumulators (per thread)

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

struct GemmParams {  // what the kernels read of the plan
  int64_t batch, in_channels, out_channels, in_length, out_length, padding;
  int64_t co_tiles, q_tiles, tiles;
  int32_t in_per_group, out_per_group, kernel_size, stride;
  int32_t q_tile, ci_chunk, chunks, splits, chunks_per_split, items, w_rows, w_pitch, x_cols, y_pitch, k_step;
  int32_t tap_step, shift_step, max_shift;
  // q_tile / 32: a warp item (phase r, 32 positions from q_first) of index i has r = i / q_chunks, which
  // the compute warps divide for every item of every step
  Divisor<int32_t> q_chunks;
  int32_t first_tap[kMaxPhases], first_shift[kMaxPhases], tap_count[kMaxPhases];
};

enum class Math { TF32, IEEE, F16, BF16 };

template <Math M> struct Traits;
template <> struct Traits<Math::TF32> { using T = float; static constexpr int kStep = 8; };
template <> struct Traits<Math::IEEE> { using T = float; static constexpr int kStep = 8; };
template <> struct Traits<Math::F16> { using T = __half; static constexpr int kStep = 16; };
template <> struct Traits<Math::BF16> { using T = __nv_bfloat16; static constexpr int kStep = 16; };

template <class T> __device__ __forceinline__ float to_float(T v);
template <> __device__ __forceinline__ float to_float(float v) { return v; }
template <> __device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
template <class T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float(float v) { return v; }
template <> __device__ __forceinline__ __half from_float(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float(float v) { return __float2bfloat16_rn(v); }

template <class T> __device__ __forceinline__ uint16_t bits16(T v) {
  uint16_t b;
  memcpy(&b, &v, 2);
  return b;
}
__device__ __forceinline__ uint32_t pack(uint16_t lo, uint16_t hi) { return lo | (uint32_t(hi) << 16); }

struct TileCoord {
  int64_t b, q0;
  int32_t g, co0;
};

__device__ __forceinline__ TileCoord decode_tile(const GemmParams& p, int64_t tile) {
  TileCoord c;
  const int64_t qt = tile % p.q_tiles;
  int64_t rest = tile / p.q_tiles;
  c.b = rest % p.batch;
  rest /= p.batch;
  c.co0 = static_cast<int32_t>(rest % p.co_tiles) * 64;
  c.g = static_cast<int32_t>(rest / p.co_tiles);
  c.q0 = qt * p.q_tile;
  return c;
}

// Walks a block's pipeline steps in order without divisions (the memory warps run on instruction
// latency, and 64-bit divides per step showed up in their time). A work unit is (tile, split): the
// chunks [split*chunks_per_split, chunk_end) of one tile; units run tile-major, splits adjacent.
struct StepCursor {
  TileCoord c;
  int64_t qt;         // q tile index
  int32_t cot;        // channel tile index
  int32_t split;      // work unit of the tile
  int32_t chunk;      // reduction chunk
  int32_t chunk_end;  // end of this unit's chunks

  __device__ __forceinline__ static StepCursor at(const GemmParams& p, int64_t unit) {
    StepCursor s;
    const int64_t tile = unit / p.splits;
    s.c = decode_tile(p, tile);
    s.qt = tile % p.q_tiles;
    s.cot = s.c.co0 / 64;
    s.split = static_cast<int32_t>(unit % p.splits);
    s.begin_unit(p);
    return s;
  }
  __device__ __forceinline__ void begin_unit(const GemmParams& p) {
    chunk = split * p.chunks_per_split;
    chunk_end = min(p.chunks, chunk + p.chunks_per_split);
  }
  __device__ __forceinline__ bool unit_first(const GemmParams& p) const { return chunk == split * p.chunks_per_split; }
  __device__ __forceinline__ bool unit_last() const { return chunk == chunk_end - 1; }
  // Next step; true when it starts another (group, channel tile), whose weights differ.
  __device__ __forceinline__ bool advance(const GemmParams& p) {
    if (++chunk < chunk_end) return false;
    if (++split < p.splits) {
      begin_unit(p);
      return false;
    }
    split = 0;
    begin_unit(p);
    c.q0 += p.q_tile;
    if (++qt < p.q_tiles) return false;
    qt = 0;
    c.q0 = 0;
    if (++c.b < p.batch) return false;
    c.b = 0;
    c.co0 += 64;
    if (++cot < p.co_tiles) return true;
    cot = 0;
    c.co0 = 0;
    ++c.g;
    return true;
  }
};

// Pipeline steps of work units [u0, u1): every unit has chunks_per_split chunks except each tile's
// last, which is short by splits*chunks_per_split - chunks.
__device__ __forceinline__ int64_t steps_of_units(const GemmParams& p, int64_t u0, int64_t u1) {
  const int64_t short_by = int64_t(p.splits) * p.chunks_per_split - p.chunks;
  return (u1 - u0) * p.chunks_per_split - (u1 / p.splits - u0 / p.splits) * short_by;
}

template <int kVec>
__device__ __forceinline__ int64_t window_base(const GemmParams& p, int64_t q0) {
  const int64_t l = q0 - p.max_shift;
  return (l >= 0 ? l : l - (kVec - 1)) / kVec * kVec;  // floor to a multiple of kVec
}

// The polyphase tap table as both kernels' parameters carry it (fixed-size arrays by phase).
template <class Params>
void fill_phase_taps(const Polyphase& poly, Params& p) {
  p.tap_step = poly.tap_step;
  p.shift_step = poly.shift_step;
  for (int r = 0; r < poly.phases; ++r) {
    p.first_tap[r] = poly.taps[static_cast<size_t>(r)].first_tap;
    p.first_shift[r] = poly.taps[static_cast<size_t>(r)].first_shift;
    p.tap_count[r] = poly.taps[static_cast<size_t>(r)].count;
  }
}

inline GemmParams make_params(const Plan& plan) {
  const Shape& s = plan.shape;
  const GemmTiling& t = plan.gemm;
  GemmParams p{};
  p.batch = s.batch;
  p.in_channels = s.in_channels;
  p.out_channels = s.out_channels;
  p.in_length = s.in_length;
  p.out_length = s.out_length;
  p.padding = s.padding;
  p.co_tiles = t.co_tiles;
  p.q_tiles = t.q_tiles;
  p.tiles = t.tiles;
  p.in_per_group = static_cast<int32_t>(s.in_per_group);
  p.out_per_group = static_cast<int32_t>(s.out_per_group);
  p.kernel_size = static_cast<int32_t>(s.kernel_size);
  p.stride = static_cast<int32_t>(s.stride);
  p.q_tile = t.q_tile;
  p.q_chunks = Divisor<int32_t>::of(t.q_tile / kGemmWarpPositions);
  p.ci_chunk = t.ci_chunk;
  p.chunks = t.chunks;
  p.splits = t.splits;
  p.chunks_per_split = t.chunks_per_split;
  p.items = t.items;
  p.w_rows = t.w_rows;
  p.x_cols = t.x_cols;
  p.y_pitch = t.y_pitch;
  p.k_step = t.k_step;
  p.w_pitch = t.w_pitch;
  p.max_shift = plan.poly.max_shift;
  fill_phase_taps(plan.poly, p);
  return p;
}

}  // namespace convt1d::detail::gemm
