// Device pieces of the tensor-core implicit-GEMM kernel (implicit_gemm.cu documents the tile, the
// smem layout and the pipeline): window and weight loads, MMA fragments, staging and stores.
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
  int32_t q_tile, ci_chunk, chunks, splits, chunks_per_split, items, w_rows, w_pitch, x_cols, y_pitch, k_step;
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

// Starts the copy of one chunk's x window into x_s (rows beyond C_in/groups and columns outside
// [0, L_in) become zeros, so they add nothing to the MMAs). Warps take rows, lanes 16-byte vectors.
// Everything that does not depend on the row is decided once per call, so the common vector costs
// a compare and a cp.async: the memory warps' instruction count, not bandwidth, bounds this loop.
template <class T>
__device__ void issue_x(const GemmParams& p, const T* __restrict__ x, T* x_s, const TileCoord& c, int chunk, int warp,
                        int nwarps) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int lane = threadIdx.x & 31;
  const int64_t l_base = window_base<kVec>(p, c.q0);
  const int vecs = static_cast<int>(min64(p.x_cols, (c.q0 + p.q_tile - l_base + kVec - 1) / kVec * kVec)) / kVec;
  // l_base is a multiple of kVec, so vector v < v_lo lies wholly before 0; v in [v_lo, v_full) wholly
  // inside [0, L_in); v >= v_any wholly at or past L_in; v_full <= v < v_any straddles L_in.
  const int v_lo = static_cast<int>(max64(0, -l_base) / kVec);
  const int v_full = static_cast<int>(max64(0, min64(vecs, (p.in_length - l_base) / kVec)));
  const int v_any = static_cast<int>(max64(0, min64(vecs, (p.in_length - l_base + kVec - 1) / kVec)));
  const int ci0 = chunk * p.ci_chunk;
  const int rows_real = min(p.ci_chunk, p.in_per_group - ci0);  // rows past it are zeros
  const unsigned fast_count = static_cast<unsigned>(max(0, v_full - v_lo));
  const T* src = x + (c.b * p.in_channels + int64_t(c.g) * p.in_per_group + ci0 + warp) * p.in_length + l_base;
  const int64_t src_jump = int64_t(nwarps) * p.in_length;
  T* dst = x_s + warp * p.x_cols;
  const int dst_jump = nwarps * p.x_cols;
  for (int row = warp; row < p.ci_chunk; row += nwarps, src += src_jump, dst += dst_jump) {
    const bool row_ok = row < rows_real;
    const bool vector_ok = row_ok && (reinterpret_cast<uintptr_t>(src) % kVecBytes) == 0;  // cp.async needs it
    for (int v = lane; v < vecs; v += 32) {
      const int e0 = v * kVec;
      if (vector_ok && static_cast<unsigned>(v - v_lo) < fast_count) {
        ptx::cp_async16(dst + e0, src + e0);
      } else if (!row_ok || v < v_lo || v >= v_any) {
        *reinterpret_cast<uint4*>(dst + e0) = make_uint4(0, 0, 0, 0);  // wholly outside: zeros
      } else {
        for (int e = e0; e < e0 + kVec; ++e) {
          const int64_t l = l_base + e;
          dst[e] = (l >= 0 && l < p.in_length) ? src[e] : from_float<T>(0.f);
        }
      }
    }
  }
}

// Weights of (group, channel tile, chunk) into w_s in MMA fragment order: for tap k, k-step ks and
// 16-channel tile mt, the 32 lanes' A fragments (4 words each) lie contiguous, so a warp reads one
// fragment with a single conflict-free LDS.128 per lane. Converted on the way (see the file comment).
template <Math M>
__device__ void load_w(const GemmParams& p, const typename Traits<M>::T* __restrict__ w, uint32_t* w_s,
                       const TileCoord& c, int chunk, int tid, int nthreads) {
  using T = typename Traits<M>::T;
  constexpr bool kWide = M == Math::TF32 || M == Math::IEEE;
  const int K = p.kernel_size;
  const int ksc = p.ci_chunk / Traits<M>::kStep;  // k-steps per chunk
  const int ci0 = chunk * p.ci_chunk;
  const int64_t ci_stride = int64_t(p.out_per_group) * K;
  const T* w_group = w + int64_t(c.g) * p.in_per_group * ci_stride;
  auto fetch = [&](int ci, int co, int k) -> T {
    const bool ok = ci < p.in_per_group && c.co0 + co < p.out_per_group;
    return ok ? w_group[int64_t(ci) * ci_stride + int64_t(c.co0 + co) * K + k] : from_float<T>(0.f);
  };
  const int slots = K * ksc * kMmaTilesM * 32;  // one (tap, k-step, channel tile, lane) each
  for (int idx = tid; idx < slots; idx += nthreads) {
    const int lane = idx & 31, mt = (idx >> 5) % kMmaTilesM, rest = idx / (32 * kMmaTilesM);
    const int ks = rest % ksc, k = rest / ksc;
    const int gq = lane >> 2, tq = lane & 3;
    uint32_t word[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {  // fragment word i: channel + 8 for odd i, reduction + half-step for i >= 2
      const int co = mt * 16 + gq + (i & 1) * 8;
      if constexpr (kWide) {
        const float v = fetch(ci0 + ks * 8 + tq + (i >> 1) * 4, co, k);
        word[i] = M == Math::TF32 ? ptx::to_tf32(v) : __float_as_uint(v);
      } else {
        const int ci = ci0 + ks * 16 + 2 * tq + (i >> 1) * 8;
        word[i] = pack(bits16(fetch(ci, co, k)), bits16(fetch(ci + 1, co, k)));
      }
    }
    reinterpret_cast<uint4*>(w_s)[idx] = make_uint4(word[0], word[1], word[2], word[3]);
  }
}

// Starts the copy of one chunk's raw weight rows into a pipeline stage (stream_w plans): row ci of the
// chunk holds W[ci, co0 .. co0+63, 0 .. K-1] as in global memory (co-major), pitch w_pitch elements.
// Rows past C_in/groups and channels past C_out/groups become zeros.
template <class T>
__device__ void issue_w_raw(const GemmParams& p, const T* __restrict__ w, T* w_st, const TileCoord& c, int chunk,
                            int warp, int nwarps) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int lane = threadIdx.x & 31;
  const int valid = min(kGemmBlockCo, p.out_per_group - c.co0) * p.kernel_size;  // elements per row
  const int vecs = (kGemmBlockCo * p.kernel_size + kVec - 1) / kVec;
  const int ci0 = chunk * p.ci_chunk;
  const int rows_real = min(p.ci_chunk, p.in_per_group - ci0);
  const int64_t row_elems = int64_t(p.out_per_group) * p.kernel_size;
  const T* src = w + (int64_t(c.g) * p.in_per_group + ci0 + warp) * row_elems + int64_t(c.co0) * p.kernel_size;
  const int64_t src_jump = nwarps * row_elems;
  T* dst = w_st + warp * p.w_pitch;
  for (int row = warp; row < p.ci_chunk; row += nwarps, src += src_jump, dst += nwarps * p.w_pitch) {
    const bool row_ok = row < rows_real;
    const bool vector_ok = row_ok && (reinterpret_cast<uintptr_t>(src) % kVecBytes) == 0;
    for (int v = lane; v < vecs; v += 32) {
      const int e0 = v * kVec;
      if (vector_ok && e0 + kVec <= valid) {
        ptx::cp_async16(dst + e0, src + e0);
      } else if (!row_ok || e0 >= valid) {
        *reinterpret_cast<uint4*>(dst + e0) = make_uint4(0, 0, 0, 0);
      } else {
        for (int e = e0; e < e0 + kVec; ++e) dst[e] = e < valid ? src[e] : from_float<T>(0.f);
      }
    }
  }
}

using Acc = float[kMmaTilesM][kMmaTilesN][4];

// A and B fragments of one k-step: weights from w_s (fragment order), x columns from the window.
template <Math M>
struct Fragments {
  uint32_t a[kMmaTilesM][4];
  float bx[kMmaTilesN][2];  // fp32 modes: x values, rounded (and split) when the MMAs issue
  uint32_t b[kMmaTilesN][2];  // 16-bit modes: packed pairs
};

template <Math M>
__device__ __forceinline__ void load_a_resident(Fragments<M>& f, const uint4* wp) {
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt) {
    const uint4 v = wp[mt * 32];
    f.a[mt][0] = v.x;
    f.a[mt][1] = v.y;
    f.a[mt][2] = v.z;
    f.a[mt][3] = v.w;
  }
}

template <Math M>
__device__ __forceinline__ void load_b(Fragments<M>& f, const typename Traits<M>::T* xp, int x_cols) {
  if constexpr (M == Math::TF32 || M == Math::IEEE) {
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      f.bx[nt][0] = xp[nt * 8];
      f.bx[nt][1] = xp[4 * x_cols + nt * 8];
    }
  } else {
    const uint16_t* xr = reinterpret_cast<const uint16_t*>(xp);
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      f.b[nt][0] = pack(xr[nt * 8], xr[x_cols + nt * 8]);
      f.b[nt][1] = pack(xr[8 * x_cols + nt * 8], xr[9 * x_cols + nt * 8]);
    }
  }
}

// A fragments from raw weight rows (stream_w): wr points at row first_row, column gq*K + k; a
// 16-channel tile is 16*K columns further, +8 channels 8*K. Converted here (the resident layout is
// converted once, when it is loaded).
template <Math M>
__device__ __forceinline__ void load_a_raw(Fragments<M>& f, const typename Traits<M>::T* wr, int w_pitch, int co8) {
  if constexpr (M == Math::TF32 || M == Math::IEEE) {
#pragma unroll
    for (int mt = 0; mt < kMmaTilesM; ++mt) {
      const float* r = wr + 2 * mt * co8;
      const float v[4] = {r[0], r[co8], r[4 * w_pitch], r[4 * w_pitch + co8]};
#pragma unroll
      for (int i = 0; i < 4; ++i) f.a[mt][i] = M == Math::TF32 ? ptx::to_tf32(v[i]) : __float_as_uint(v[i]);
    }
  } else {
    const uint16_t* r16 = reinterpret_cast<const uint16_t*>(wr);
#pragma unroll
    for (int mt = 0; mt < kMmaTilesM; ++mt) {
      const uint16_t* r = r16 + 2 * mt * co8;
      f.a[mt][0] = pack(r[0], r[w_pitch]);
      f.a[mt][1] = pack(r[co8], r[w_pitch + co8]);
      f.a[mt][2] = pack(r[8 * w_pitch], r[9 * w_pitch]);
      f.a[mt][3] = pack(r[8 * w_pitch + co8], r[9 * w_pitch + co8]);
    }
  }
}

template <Math M>
__device__ __forceinline__ void mma_fragments(const Fragments<M>& f, Acc& acc) {
  if constexpr (M == Math::TF32 || M == Math::IEEE) {
    uint32_t b[kMmaTilesN][2];
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      b[nt][0] = ptx::to_tf32(f.bx[nt][0]);
      b[nt][1] = ptx::to_tf32(f.bx[nt][1]);
    }
    if constexpr (M == Math::IEEE) {
      // 3xTF32: w*x ≈ w_hi*x_hi + w_hi*x_lo + w_lo*x_hi. The two small-term passes run over all 16
      // accumulators before the main pass, so no MMA waits on the one just before it.
      uint32_t a_hi[kMmaTilesM][4], a_lo[kMmaTilesM][4], b_lo[kMmaTilesN][2];
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float v = __uint_as_float(f.a[mt][i]);
          a_hi[mt][i] = ptx::to_tf32(v);
          a_lo[mt][i] = ptx::to_tf32(v - __uint_as_float(a_hi[mt][i]));
        }
#pragma unroll
      for (int nt = 0; nt < kMmaTilesN; ++nt)
#pragma unroll
        for (int i = 0; i < 2; ++i) b_lo[nt][i] = ptx::to_tf32(f.bx[nt][i] - __uint_as_float(b[nt][i]));
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_lo[mt], b[nt]);
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_hi[mt], b_lo[nt]);
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_hi[mt], b[nt]);
    } else {
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], f.a[mt], b[nt]);
    }
  } else {
#pragma unroll
    for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
      for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_16bit<M == Math::BF16>(acc[mt][nt], f.a[mt], f.b[nt]);
  }
}

// One warp item's MMAs over one chunk: every tap of phase r, every k-step of the chunk's channels,
// walked as one flat sequence of (tap, k-step) steps. Weights come from the resident fragment-order
// copy (w_s) or, with kRawW, from the chunk's raw rows in the pipeline stage (w_raw).
template <Math M, bool kRawW>
__device__ __forceinline__ void compute_item(const GemmParams& p, const uint32_t* w_s, const typename Traits<M>::T* w_raw,
                                             const typename Traits<M>::T* x_s, int r, int col_first, int k_steps,
                                             Acc& acc) {
  using T = typename Traits<M>::T;
  constexpr int kRowsPerStep = Traits<M>::kStep;  // reduction rows (channels) per k-step
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
  const int taps = p.tap_count[r];
  if (taps == 0 || k_steps == 0) return;
  const int ksc = p.ci_chunk / Traits<M>::kStep;
  const int x_cols = p.x_cols;
  const int first_row = (M == Math::TF32 || M == Math::IEEE) ? tq : 2 * tq;
  // Pointer moves: within a tap, the next k-step; at a tap boundary, the next tap of the phase.
  const int x_step = kRowsPerStep * x_cols;
  const int x_tap_jump = -k_steps * x_step - p.shift_step;
  const T* xp = x_s + first_row * x_cols + col_first - p.first_shift[r] + gq;
  // Resident: uint4 units, one (tap, k-step) block of 4 x 32 fragments at a time. Raw: elements.
  const int w_step = kRawW ? kRowsPerStep * p.w_pitch : kMmaTilesM * 32;
  const int w_tap_jump = kRawW ? p.tap_step - k_steps * w_step : (p.tap_step * ksc - k_steps) * w_step;
  const int co8 = 8 * p.kernel_size;
  const uint4* wp = reinterpret_cast<const uint4*>(w_s) + p.first_tap[r] * ksc * (kMmaTilesM * 32) + lane;
  const T* wr = w_raw + first_row * p.w_pitch + gq * p.kernel_size + p.first_tap[r];
  auto load = [&](Fragments<M>& f) {
    if constexpr (kRawW)
      load_a_raw<M>(f, wr, p.w_pitch, co8);
    else
      load_a_resident<M>(f, wp);
    load_b<M>(f, xp, x_cols);
  };
  const int steps = taps * k_steps;
  int ks = 0, s_next = 1;
  // Moves the pointers to step s_next (the last step reloads itself rather than run past the tile).
  auto advance = [&]() {
    if (s_next < steps) {
      if (++ks == k_steps) {
        ks = 0;
        if constexpr (kRawW) wr += w_tap_jump; else wp += w_tap_jump;
        xp += x_tap_jump;
      }
      if constexpr (kRawW) wr += w_step; else wp += w_step;
      xp += x_step;
    }
    ++s_next;
  };
  // Two fragment sets in ping-pong: the loads of step s+1 are in flight during the MMAs of step s.
  Fragments<M> f0, f1;
  load(f0);
  for (int s = 0; s < steps; s += 2) {
    advance();
    load(f1);
    mma_fragments<M>(f0, acc);
    if (s + 1 == steps) break;
    advance();
    load(f0);
    mma_fragments<M>(f1, acc);
  }
}

// Bias of the accumulator rows a thread owns (channels mt*16 + gq and +8 of the tile); zeros
// without bias. Starting the accumulators from it fuses the bias for free.
struct BiasRegs {
  float v[kMmaTilesM][2];
};

template <class T>
__device__ __forceinline__ BiasRegs load_bias(const GemmParams& p, const T* __restrict__ bias, const TileCoord& c) {
  const int gq = (threadIdx.x & 31) >> 2;
  BiasRegs b;
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int co = c.co0 + mt * 16 + gq + h * 8;
      b.v[mt][h] = (bias && co < p.out_per_group) ? to_float(bias[int64_t(c.g) * p.out_per_group + co]) : 0.f;
    }
  return b;
}

__device__ __forceinline__ void init_acc(Acc& acc, const BiasRegs& b) {
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      acc[mt][nt][0] = acc[mt][nt][1] = b.v[mt][0];
      acc[mt][nt][2] = acc[mt][nt][3] = b.v[mt][1];
    }
}

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
  p.splits = t.splits;
  p.chunks_per_split = t.chunks_per_split;
  p.items = t.items;
  p.w_rows = t.w_rows;
  p.x_cols = t.x_cols;
  p.y_pitch = t.y_pitch;
  p.k_step = t.k_step;
  p.w_pitch = t.w_pitch;
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
