// The implicit-GEMM kernel's epilogue: accumulators into the aligned staging tile, and the staged
// tile out to global memory (16-byte vectors, or fp32 atomics for split-K partial sums).
#pragma once

#include "cuda/gemm_params.cuh"

namespace convt1d::detail::gemm {

// Staging alignment. Each staging row is shifted so that it shares the global row's alignment modulo
// 16 bytes; then the store loop moves whole 16-byte vectors (LDS.128 -> STG.128) whatever L_out, the
// row and the tile origin are. The tile's first output t0 of row `co` sits in staging column
// (base + co*step) mod kVec; computed once per tile in 64 bits, per row in 32.
template <class T>
struct StageAlign {
  static constexpr int kVec = kVecBytes / sizeof(T);
  int base, step;
  __device__ __forceinline__ int offset(int co) const { return (base + co * step) & (kVec - 1); }
};

template <class T>
__device__ __forceinline__ StageAlign<T> stage_align(const GemmParams& p, const TileCoord& c, const T* y) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int64_t row0 = c.b * p.out_channels + int64_t(c.g) * p.out_per_group + c.co0;
  const int64_t t0 = c.q0 * p.stride - p.padding;
  const int64_t element = static_cast<int64_t>(reinterpret_cast<uintptr_t>(y) / sizeof(T)) + row0 * p.out_length + t0;
  return StageAlign<T>{static_cast<int>(element & (kVec - 1)), static_cast<int>(p.out_length & (kVec - 1))};
}

// Accumulators of item (phase r, positions q_first..q_first+31) into the staging tile, converted to
// the output type: output u = q*stride + r of the tile goes to column u + offset(row).
template <class T>
__device__ __forceinline__ void stage_item(const GemmParams& p, T* y_s, int r, int q_first, const Acc& acc,
                                           const StageAlign<T>& al) {
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt) {
    const int co = mt * 16 + gq;
    T* lo = y_s + co * p.y_pitch + al.offset(co);
    T* hi = y_s + (co + 8) * p.y_pitch + al.offset(co + 8);
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      const int u = (q_first + nt * 8 + 2 * tq) * p.stride + r;
      lo[u] = from_float<T>(acc[mt][nt][0]);
      lo[u + p.stride] = from_float<T>(acc[mt][nt][1]);
      hi[u] = from_float<T>(acc[mt][nt][2]);
      hi[u + p.stride] = from_float<T>(acc[mt][nt][3]);
    }
  }
}

// Writes the staged tile: warps take rows, lanes 16-byte vectors. Staging columns are aligned like
// the global row (StageAlign), so the body of a row piece moves as LDS.128 -> STG.128 and only the
// head and tail (< kVec elements each) go element-wise.
template <class T, bool kAccumulate>
__device__ void store_tile(const GemmParams& p, const T* y_s, T* __restrict__ y, const TileCoord& c, int warp,
                           int nwarps) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int lane = threadIdx.x & 31;
  const int64_t t0 = c.q0 * p.stride - p.padding;  // output of the tile's first staging column
  const int64_t t_begin = max64(0, t0);
  const int n = static_cast<int>(min64(p.out_length, t0 + int64_t(p.q_tile) * p.stride) - t_begin);
  if (n <= 0) return;
  const int skip = static_cast<int>(t_begin - t0);  // staging columns before the first real output
  const StageAlign<T> al = stage_align<T>(p, c, y);
  const int rows = min(kGemmBlockCo, p.out_per_group - c.co0);
  // Per-row state advances by `nwarps` rows each iteration: the loop keeps no 64-bit arithmetic
  // beyond one pointer add.
  T* out = y + (c.b * p.out_channels + int64_t(c.g) * p.out_per_group + c.co0 + warp) * p.out_length + t_begin;
  const int64_t out_jump = int64_t(nwarps) * p.out_length;
  const T* src = y_s + warp * p.y_pitch + skip;  // + the row's offset: src[j] is out[j]
  const int src_jump = nwarps * p.y_pitch;
  int off = al.base + warp * al.step;
  const int off_jump = nwarps * al.step;
  for (int row = warp; row < rows; row += nwarps, out += out_jump, src += src_jump, off += off_jump) {
    const int shift = off & (kVec - 1);      // staging offset of this row
    const T* s_row = src + shift;
    // out[j] is 16-byte aligned where (shift + skip + j) % kVec == 0.
    const int head = min(n, (kVec - ((shift + skip) & (kVec - 1))) & (kVec - 1));
    const int tail = head + ((n - head) & ~(kVec - 1));
    if constexpr (kAccumulate) {  // split-K partial sums (fp32 only)
      for (int j = lane; j < n; j += 32) atomicAdd(out + j, s_row[j]);
    } else {
#pragma unroll 2
      for (int j = head + lane * kVec; j < tail; j += 32 * kVec)
        *reinterpret_cast<uint4*>(out + j) = *reinterpret_cast<const uint4*>(s_row + j);
      if (lane < head) out[lane] = s_row[lane];
      if (lane < n - tail) out[tail + lane] = s_row[tail + lane];
    }
  }
}

}  // namespace convt1d::detail::gemm
