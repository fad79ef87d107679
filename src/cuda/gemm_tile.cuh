// Shared pieces of the tensor-core implicit-GEMM kernels (implicit_gemm.cu: all warps do every job,
// any reduction size; streaming_gemm.cu: warp-specialised, whole reduction resident). See
// implicit_gemm.cu for the tile, the smem layout and the MMA fragment mapping.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "cuda/ptx.cuh"
#include "plan.hpp"

namespace convt1d::detail::gemm {


constexpr int kMmaTilesM = 4;  // 4 x 16 = 64 output channels per warp
constexpr int kMmaTilesN = 4;  // 4 x 8 = 32 positions per warp
constexpr int kVecBytes = 16;

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

struct GemmParams {  // what the kernels read of the plan
  int64_t batch, in_channels, out_channels, in_length, out_length, padding;
  int64_t co_tiles, q_tiles, tiles;
  int32_t in_per_group, out_per_group, kernel_size, stride;
  int32_t q_tile, ci_chunk, chunks, items, w_rows, w_pitch, x_cols, y_pitch, k_step;
  int32_t tap_step, shift_step, max_shift;
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

template <int kVec>
__device__ __forceinline__ int64_t window_base(const GemmParams& p, int64_t q0) {
  const int64_t l = q0 - p.max_shift;
  return (l >= 0 ? l : l - (kVec - 1)) / kVec * kVec;  // floor to a multiple of kVec
}

// Starts the copy of one chunk's x window into x_s (rows beyond C_in/groups and columns outside
// [0, L_in) become zeros, so they add nothing to the MMAs).
template <class T>
__device__ void issue_x(const GemmParams& p, const T* __restrict__ x, T* x_s, const TileCoord& c, int chunk, int tid,
                        int nthreads) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int64_t l_base = window_base<kVec>(p, c.q0);
  const int load_cols = static_cast<int>(min64(p.x_cols, (c.q0 + p.q_tile - l_base + kVec - 1) / kVec * kVec));
  const int vecs_per_row = load_cols / kVec;
  const int ci0 = chunk * p.ci_chunk;
  const T* x_rows = x + (c.b * p.in_channels + int64_t(c.g) * p.in_per_group) * p.in_length;
  for (int idx = tid; idx < p.ci_chunk * vecs_per_row; idx += nthreads) {
    const int row = idx / vecs_per_row, v = idx % vecs_per_row;
    T* dst = x_s + row * p.x_cols + v * kVec;
    const int ci = ci0 + row;
    const int64_t l = l_base + int64_t(v) * kVec;
    if (ci >= p.in_per_group || l >= p.in_length || l + kVec <= 0) {
      *reinterpret_cast<uint4*>(dst) = make_uint4(0, 0, 0, 0);
      continue;
    }
    const T* src = x_rows + int64_t(ci) * p.in_length + l;
    if (l >= 0 && l + kVec <= p.in_length && (reinterpret_cast<uintptr_t>(src) % kVecBytes) == 0) {
      ptx::cp_async16(dst, src);
    } else {
      for (int e = 0; e < kVec; ++e) {
        const int64_t le = l + e;
        dst[e] = (le >= 0 && le < p.in_length) ? src[e] : from_float<T>(0.f);
      }
    }
  }
}

// Weights of (group, channel tile, chunk) into w_s, converted for the MMA (see the file comment).
template <Math M>
__device__ void load_w(const GemmParams& p, const typename Traits<M>::T* __restrict__ w, uint32_t* w_s,
                       const TileCoord& c, int chunk, int tid, int nthreads) {
  using T = typename Traits<M>::T;
  const int K = p.kernel_size;
  const int ci0 = chunk * p.ci_chunk;
  const int total = p.w_rows * 64 * K;
  for (int idx = tid; idx < total; idx += nthreads) {
    const int k = idx % K, co = (idx / K) % 64, row = idx / (K * 64);
    const bool co_ok = c.co0 + co < p.out_per_group;
    const T* base = w + (int64_t(c.g) * p.in_per_group * p.out_per_group + c.co0 + co) * K + k;
    const int64_t ci_stride = int64_t(p.out_per_group) * K;
    uint32_t word;
    if constexpr (M == Math::TF32 || M == Math::IEEE) {
      const int ci = ci0 + row;
      const float v = (co_ok && ci < p.in_per_group) ? base[ci * ci_stride] : 0.f;
      word = M == Math::TF32 ? ptx::to_tf32(v) : __float_as_uint(v);
    } else {
      const int ci = ci0 + 2 * row;
      const T zero = from_float<T>(0.f);
      const T lo = (co_ok && ci < p.in_per_group) ? base[ci * ci_stride] : zero;
      const T hi = (co_ok && ci + 1 < p.in_per_group) ? base[(ci + 1) * ci_stride] : zero;
      word = pack(bits16(lo), bits16(hi));
    }
    w_s[(k * p.w_rows + row) * p.w_pitch + co] = word;
  }
}

using Acc = float[kMmaTilesM][kMmaTilesN][4];

// One warp item's MMAs over one chunk: every tap of phase r, every k-step of the chunk's channels.
template <Math M>
__device__ __forceinline__ void compute_item(const GemmParams& p, const uint32_t* w_s, const typename Traits<M>::T* x_s,
                                             int r, int col_first, int k_steps, Acc& acc) {
  using T = typename Traits<M>::T;
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int taps = p.tap_count[r];
  for (int j = 0; j < taps; ++j) {
    const int k = p.first_tap[r] + j * p.tap_step;
    const int col0 = col_first - (p.first_shift[r] + j * p.shift_step) + gq;
    const uint32_t* wk = w_s + k * p.w_rows * p.w_pitch + gq;
    for (int ks = 0; ks < k_steps; ++ks) {
      uint32_t a[kMmaTilesM][4], b[kMmaTilesN][2];
      if constexpr (M == Math::TF32 || M == Math::IEEE) {
        const uint32_t* wr = wk + (ks * 8 + tq) * p.w_pitch;
        const float* xr = reinterpret_cast<const float*>(x_s) + (ks * 8 + tq) * p.x_cols + col0;
#pragma unroll
        for (int mt = 0; mt < kMmaTilesM; ++mt) {
          a[mt][0] = wr[mt * 16];
          a[mt][1] = wr[mt * 16 + 8];
          a[mt][2] = wr[4 * p.w_pitch + mt * 16];
          a[mt][3] = wr[4 * p.w_pitch + mt * 16 + 8];
        }
        float bx[kMmaTilesN][2];
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) {
          bx[nt][0] = xr[nt * 8];
          bx[nt][1] = xr[4 * p.x_cols + nt * 8];
          b[nt][0] = ptx::to_tf32(bx[nt][0]);
          b[nt][1] = ptx::to_tf32(bx[nt][1]);
        }
        if constexpr (M == Math::IEEE) {
          // 3xTF32: w*x ≈ w_hi*x_hi + w_hi*x_lo + w_lo*x_hi, small terms first.
          uint32_t a_lo[kMmaTilesM][4], b_lo[kMmaTilesN][2];
#pragma unroll
          for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
            for (int i = 0; i < 4; ++i) {
              const float v = __uint_as_float(a[mt][i]);
              a[mt][i] = ptx::to_tf32(v);
              a_lo[mt][i] = ptx::to_tf32(v - __uint_as_float(a[mt][i]));
            }
#pragma unroll
          for (int nt = 0; nt < kMmaTilesN; ++nt)
#pragma unroll
            for (int i = 0; i < 2; ++i) b_lo[nt][i] = ptx::to_tf32(bx[nt][i] - __uint_as_float(b[nt][i]));
#pragma unroll
          for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
            for (int nt = 0; nt < kMmaTilesN; ++nt) {
              ptx::mma_tf32(acc[mt][nt], a_lo[mt], b[nt]);
              ptx::mma_tf32(acc[mt][nt], a[mt], b_lo[nt]);
            }
        }
#pragma unroll
        for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
          for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a[mt], b[nt]);
      } else {
        const uint32_t* wr = wk + (ks * 8 + tq) * p.w_pitch;
        const uint16_t* xr = reinterpret_cast<const uint16_t*>(x_s) + (ks * 16 + 2 * tq) * p.x_cols + col0;
#pragma unroll
        for (int mt = 0; mt < kMmaTilesM; ++mt) {
          a[mt][0] = wr[mt * 16];
          a[mt][1] = wr[mt * 16 + 8];
          a[mt][2] = wr[4 * p.w_pitch + mt * 16];
          a[mt][3] = wr[4 * p.w_pitch + mt * 16 + 8];
        }
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) {
          b[nt][0] = pack(xr[nt * 8], xr[p.x_cols + nt * 8]);
          b[nt][1] = pack(xr[8 * p.x_cols + nt * 8], xr[9 * p.x_cols + nt * 8]);
        }
#pragma unroll
        for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
          for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_16bit<M == Math::BF16>(acc[mt][nt], a[mt], b[nt]);
      }
    }
  }
}

__device__ __forceinline__ void zero(Acc& acc) {
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[mt][nt][i] = 0.f;
}

// Staging column of output t0 (the tile's first output) in row `co`: chosen so that the staging row and
// the global row have the same alignment modulo 16 bytes, so the store loop moves whole 16-byte vectors
// (LDS.128 -> STG.128) whatever L_out, the row and the tile origin are.
template <class T>
__device__ __forceinline__ int stage_offset(const GemmParams& p, const TileCoord& c, int co, const T* y) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int64_t row = c.b * p.out_channels + int64_t(c.g) * p.out_per_group + c.co0 + co;
  const int64_t t0 = c.q0 * p.stride - p.padding;
  const int64_t element = static_cast<int64_t>(reinterpret_cast<uintptr_t>(y) / sizeof(T)) + row * p.out_length + t0;
  return static_cast<int>(((element % kVec) + kVec) % kVec);
}

// Accumulators of item (phase r, positions q_first..q_first+31) into the staging tile: output
// u = q*stride + r of the tile goes to column u + stage_offset(row).
template <class T>
__device__ __forceinline__ void stage_item(const GemmParams& p, float* y_s, int r, int q_first, const Acc& acc,
                                           const TileCoord& c, const T* y) {
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt) {
    const int co = mt * 16 + gq;
    float* lo = y_s + co * p.y_pitch + stage_offset(p, c, co, y);
    float* hi = y_s + (co + 8) * p.y_pitch + stage_offset(p, c, co + 8, y);
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      const int u = (q_first + nt * 8 + 2 * tq) * p.stride + r;
      lo[u] = acc[mt][nt][0];
      lo[u + p.stride] = acc[mt][nt][1];
      hi[u] = acc[mt][nt][2];
      hi[u + p.stride] = acc[mt][nt][3];
    }
  }
}

// Writes the staged tile: one warp per output row; the aligned body of the row piece moves as 16-byte
// vectors (smem and global aligned alike, see stage_offset), the unaligned head and tail element-wise.
template <class T>
__device__ void store_tile(const GemmParams& p, const float* y_s, const T* __restrict__ bias, T* __restrict__ y,
                           const TileCoord& c, int warp, int nwarps) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int lane = threadIdx.x & 31;
  const int64_t u0 = c.q0 * p.stride;
  const int64_t t0 = u0 - p.padding;  // output of staging column stage_offset(row)
  const int64_t t_begin = max64(0, t0);
  const int64_t t_end = min64(p.out_length, t0 + int64_t(p.q_tile) * p.stride);
  if (t_begin >= t_end) return;
  const int rows = min(64, p.out_per_group - c.co0);
  for (int row = warp; row < rows; row += nwarps) {
    const int64_t co = int64_t(c.g) * p.out_per_group + c.co0 + row;
    const float add = bias ? to_float(bias[co]) : 0.f;
    T* out = y + (c.b * p.out_channels + co) * p.out_length;
    const float* src = y_s + row * p.y_pitch + stage_offset(p, c, row, y) - t0;  // src[t] is output t
    const int64_t misalign = (reinterpret_cast<uintptr_t>(out + t_begin) % kVecBytes) / sizeof(T);
    const int64_t body_begin = min64(t_end, t_begin + (misalign ? kVec - misalign : 0));
    const int64_t body_end = body_begin + (t_end - body_begin) / kVec * kVec;
    if (lane < body_begin - t_begin) out[t_begin + lane] = from_float<T>(src[t_begin + lane] + add);
    if (lane < t_end - body_end) out[body_end + lane] = from_float<T>(src[body_end + lane] + add);
    for (int64_t t = body_begin + int64_t(lane) * kVec; t < body_end; t += 32 * kVec) {
      T v[kVec];
#pragma unroll
      for (int e = 0; e < kVec; e += 4) {
        const float4 f = *reinterpret_cast<const float4*>(src + t + e);
        v[e] = from_float<T>(f.x + add);
        v[e + 1] = from_float<T>(f.y + add);
        v[e + 2] = from_float<T>(f.z + add);
        v[e + 3] = from_float<T>(f.w + add);
      }
      *reinterpret_cast<uint4*>(out + t) = *reinterpret_cast<const uint4*>(v);
    }
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
  p.ci_chunk = t.ci_chunk;
  p.chunks = t.chunks;
  p.items = t.items;
  p.w_rows = t.w_rows;
  p.w_pitch = t.w_pitch;
  p.x_cols = t.x_cols;
  p.y_pitch = t.y_pitch;
  p.k_step = t.k_step;
  p.tap_step = plan.poly.tap_step;
  p.shift_step = plan.poly.shift_step;
  p.max_shift = plan.poly.max_shift;
  for (int r = 0; r < plan.poly.phases; ++r) {
    p.first_tap[r] = plan.poly.taps[r].first_tap;
    p.first_shift[r] = plan.poly.taps[r].first_shift;
    p.tap_count[r] = plan.poly.taps[r].count;
  }
  return p;
}

}  // namespace convt1d::detail::gemm
