// Global -> shared loads of the implicit-GEMM kernel: x windows and streamed raw weight rows by
// 16-byte cp.async (zero-filled at the edges), and the resident weights in MMA fragment order.
#pragma once

#include "cuda/gemm_params.cuh"
#include "cuda/ptx.cuh"

namespace convt1d::detail::gemm {

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

// Weights in MMA fragment order: within a (group, channel tile, chunk), for tap k, k-step ks and
// 16-channel tile mt, the 32 lanes' A fragments (4 words each) lie contiguous, so a warp reads one
// fragment with a single conflict-free LDS.128 per lane. `slot` = ((k*ksc + ks)*4 + mt)*32 + lane.
// Converted on the way (see implicit_gemm.cu).
template <Math M>
__device__ __forceinline__ uint4 weight_fragment(const GemmParams& p, const typename Traits<M>::T* __restrict__ w, int g,
                                                 int co0, int chunk, int slot) {
  using T = typename Traits<M>::T;
  constexpr bool kWide = M == Math::TF32 || M == Math::IEEE;
  const int K = p.kernel_size;
  const int ksc = p.ci_chunk / Traits<M>::kStep;  // k-steps per chunk
  const int ci0 = chunk * p.ci_chunk;
  const int64_t ci_stride = int64_t(p.out_per_group) * K;
  const T* w_group = w + int64_t(g) * p.in_per_group * ci_stride;
  auto fetch = [&](int ci, int co, int k) -> T {
    const bool ok = ci < p.in_per_group && co0 + co < p.out_per_group;
    return ok ? w_group[int64_t(ci) * ci_stride + int64_t(co0 + co) * K + k] : from_float<T>(0.f);
  };
  const int lane = slot & 31, mt = (slot >> 5) % kMmaTilesM, rest = slot / (32 * kMmaTilesM);
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
  return make_uint4(word[0], word[1], word[2], word[3]);
}

// 32-bit words of one chunk's weights in fragment order (resident w_s, or one packed chunk).
__device__ __forceinline__ int fragment_words(const GemmParams& p) { return p.kernel_size * p.w_rows * kGemmBlockCo; }

// The resident weights of (group, channel tile, chunk) into w_s, through registers.
template <Math M>
__device__ void load_w(const GemmParams& p, const typename Traits<M>::T* __restrict__ w, uint32_t* w_s,
                       const TileCoord& c, int chunk, int tid, int nthreads) {
  const int slots = fragment_words(p) / 4;
  for (int idx = tid; idx < slots; idx += nthreads)
    reinterpret_cast<uint4*>(w_s)[idx] = weight_fragment<M>(p, w, c.g, c.co0, chunk, idx);
}

// Starts the copy of one pre-packed chunk (fragment order, see pack_weights_kernel) into a stage:
// contiguous and 16-byte aligned, so every vector is a cp.async.
__device__ __forceinline__ void issue_w_packed(const GemmParams& p, const uint32_t* __restrict__ packed, uint32_t* dst,
                                               const TileCoord& c, int chunk, int tid, int nthreads) {
  const int words = fragment_words(p);
  const uint32_t* src = packed + ((int64_t(c.g) * p.co_tiles + c.co0 / 64) * p.chunks + chunk) * words;
  for (int v = tid; v < words / 4; v += nthreads) ptx::cp_async16(dst + 4 * v, src + 4 * v);
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

}  // namespace convt1d::detail::gemm
