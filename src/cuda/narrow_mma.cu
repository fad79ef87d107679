// Narrow kernel, mma.sync reduction: few output channels x taps (C_out*K <= 64: Conv-TasNet's decoder,
// HTDemucs' last layers), TF32 for fp32 and fp32-accumulated fp16 / bf16. The layer is bound by
// reading x once; the FMA kernel (narrow.cu, kept for IEEE) issues an FFMA per weight and column where
// one mma.sync does 16 rows x 8 columns x 8 or 16 channels, and held L7 at 30 % of its copy floor
// (perf-log step 105).
//
// Tile: one window of cols = 64 x passes input positions l = start + c of one batch row (plan.hpp,
// NarrowTiling), Z[m][c] = sum over every channel ci of W[ci][m] x[ci][start + c], m = co*K + k.
// In pass n warp w computes columns 64n + 8w .. 64n + 8w + 7 of all MT m-tiles of 16 rows: per
// channel step one B fragment (lane: column g = lane / 4, channels t, t + 4 (TF32) or 2t, 2t + 1,
// 2t + 8, 2t + 9 (16-bit), t = lane % 4), loaded straight from global memory, and one mma.sync m16n8
// per m-tile.
//
// Shared memory: W^T fragments [k_steps][MT][32 lanes] x 16 B (A of m16n8k8 / m16n8k16, TF32-rounded
// or packed pairs, zeros past C_in and C_out*K; built once per block) | Z[MT * 16][cols] fp32 |
// bias[C_out] fp32.
//
// Pipeline: each lane issues the loads of kNarrowMmaLoadsInFlight / (loads per step) channel steps before
// their MMAs (32 loads in flight per lane, 64 KB per SM at two blocks); no barrier in the reduction.
// Persistent blocks walk the windows; per window: reduce, barrier, Z to shared memory, barrier,
// shift-add (narrow_common.cuh).
#include <cstdint>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dtype_traits.cuh"
#include "cuda/narrow_common.cuh"
#include "cuda/opt_in_smem.cuh"
#include "cuda/ptx.cuh"

namespace convt1d::detail {

namespace {

using narrow::NarrowParams;

template <class T>
struct StepTraits {
  static constexpr bool kTf32 = sizeof(T) == 4;
  static constexpr int kStep = kTf32 ? kNarrowMmaStepTf32 : kNarrowMmaStep16;  // channels per step
  static constexpr int kLoads = kTf32 ? 2 : 4;  // B values per lane and step
  static_assert(kNarrowMmaLoadsInFlight / kLoads * kStep == kNarrowMmaBatchChannels);
  // Channel of a lane's load j within a step (B fragment rows): t, t+4 | 2t, 2t+1, 2t+8, 2t+9.
  static __device__ __forceinline__ int channel(int t, int j) {
    return kTf32 ? t + 4 * j : 2 * t + (j & 1) + 8 * (j >> 1);
  }
};

// W^T as A fragments: fragment (s, mt) lane l holds rows mt*16 + l/4 (+8) and the step's channels
// (TF32: l%4, +4; 16-bit: pairs 2(l%4), +8), in mma.sync's register order. kStageItems fragments'
// weights are loaded before any is stored, so that a block's start waits out few L2 round trips.
template <class T, int MT>
__device__ __forceinline__ void stage_fragments(const NarrowParams& p, const T* __restrict__ w, uint4* frag_s,
                                                int tid) {
  using S = StepTraits<T>;
  constexpr int kStageItems = 4;
  constexpr int kValues = S::kTf32 ? 4 : 8;  // weights per fragment lane
  const int count = p.k_steps * MT * 32;
  for (int i0 = tid; i0 < count; i0 += kStageItems * kNarrowThreads) {
    T v[kStageItems][kValues];
#pragma unroll
    for (int n = 0; n < kStageItems; ++n) {
      const int i = i0 + n * kNarrowThreads;
      const int lane = i % 32, mt = i / 32 % MT, s = i / (32 * MT);
      const int m0 = mt * kNarrowMmaRowTile + lane / 4, c = s * S::kStep;
#pragma unroll
      for (int e = 0; e < kValues; ++e) {
        // value e: row m0 (+8 for odd e / 2), channel per the fragment's register order
        const int m = m0 + 8 * (S::kTf32 ? e % 2 : e / 2 % 2);
        const int ci = S::kTf32 ? c + lane % 4 + 4 * (e / 2) : c + 2 * (lane % 4) + e % 2 + 8 * (e / 4);
        v[n][e] = i < count && ci < p.in_channels && m < p.m ? w[int64_t(ci) * p.m + m] : T(0.0f);
      }
    }
#pragma unroll
    for (int n = 0; n < kStageItems; ++n) {
      const int i = i0 + n * kNarrowThreads;
      if (i >= count) break;
      uint32_t r[4];
#pragma unroll
      for (int q = 0; q < 4; ++q)
        r[q] = S::kTf32 ? ptx::to_tf32(float(v[n][q])) : gemm::pack(gemm::bits16(v[n][2 * q]), gemm::bits16(v[n][2 * q + 1]));
      frag_s[i] = make_uint4(r[0], r[1], r[2], r[3]);
    }
  }
}

// One warp's columns col_lo.. + 7 of a window: the lane's column (g) over every channel, each batch of
// U channel steps loaded before its MMAs. x beyond the row or past C_in reads as zero.
template <class T, int MT>
__device__ __forceinline__ void reduce_columns(const NarrowParams& p, const T* __restrict__ xb, int64_t pos,
                                               const uint4* frag_s, const int64_t (&offset)[StepTraits<T>::kLoads],
                                               int lane, float (&acc)[MT][4]) {
  using S = StepTraits<T>;
  constexpr int U = kNarrowMmaLoadsInFlight / S::kLoads;  // channel steps per batch of loads
  const int t = lane % 4;
  const bool inside = pos >= 0 && pos < p.in_length;
  const T* xp = xb + (inside ? pos : 0);
  const int64_t step_rows = int64_t(S::kStep) * p.in_length;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int i = 0; i < 4; ++i) acc[mt][i] = 0.0f;
  for (int s0 = 0; s0 < p.k_steps; s0 += U) {
    T raw[U][S::kLoads];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int c = (s0 + u) * S::kStep;
      const T* xs = xp + (s0 + u) * step_rows;
#pragma unroll
      for (int j = 0; j < S::kLoads; ++j)
        raw[u][j] = inside && s0 + u < p.k_steps && c + S::channel(t, j) < p.in_channels ? xs[offset[j]] : T(0.0f);
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (s0 + u >= p.k_steps) break;
      uint32_t bf[2];
      if constexpr (S::kTf32) {
        bf[0] = ptx::to_tf32(raw[u][0]);
        bf[1] = ptx::to_tf32(raw[u][1]);
      } else {
        bf[0] = gemm::pack(gemm::bits16(raw[u][0]), gemm::bits16(raw[u][1]));
        bf[1] = gemm::pack(gemm::bits16(raw[u][2]), gemm::bits16(raw[u][3]));
      }
      const uint4* a = frag_s + (s0 + u) * MT * 32 + lane;
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        const uint4 v = a[mt * 32];
        const uint32_t af[4] = {v.x, v.y, v.z, v.w};
        if constexpr (S::kTf32)
          ptx::mma_tf32(acc[mt], af, bf);
        else
          ptx::mma_16bit<std::is_same_v<T, __nv_bfloat16>>(acc[mt], af, bf);
      }
    }
  }
}

template <class T, int MT>
__global__ void __launch_bounds__(kNarrowThreads, narrow_blocks_per_sm(MT * kNarrowMmaRowTile))
    narrow_mma_kernel(const __grid_constant__ NarrowParams p, const T* __restrict__ x, const T* __restrict__ w,
                      const T* __restrict__ bias, T* __restrict__ y) {
  using S = StepTraits<T>;
  extern __shared__ uint4 smem_u4[];
  uint4* frag_s = smem_u4;
  float* z_s = reinterpret_cast<float*>(frag_s + p.k_steps * MT * 32);
  float* bias_s = z_s + MT * kNarrowMmaRowTile * p.cols;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t = lane % 4;

  stage_fragments<T, MT>(p, w, frag_s, tid);
  for (int i = tid; i < p.out_channels; i += kNarrowThreads) bias_s[i] = bias ? Elem<T>::load(bias[i]) : 0.0f;
  __syncthreads();

  int64_t offset[S::kLoads];  // a lane's loads within a step, from the step's first channel row
#pragma unroll
  for (int j = 0; j < S::kLoads; ++j) offset[j] = int64_t(S::channel(t, j)) * p.in_length;
  const int passes = p.cols / kNarrowMmaCols;

  for (int64_t tile = blockIdx.x; tile < p.tiles; tile += gridDim.x) {
    const narrow::Window win = narrow::window_of(p, tile);
    const int64_t b = win.b, q_lo = win.q_lo, start = win.start;  // start: the window's column 0
    const T* xb = x + b * p.in_channels * int64_t(p.in_length);
    for (int pass = 0; pass < passes; ++pass) {
      const int col_lo = pass * kNarrowMmaCols + warp * kNarrowMmaWarpColumns;  // this warp's first column
      float acc[MT][4];
      reduce_columns<T, MT>(p, xb, start + col_lo + g, frag_s, offset, lane, acc);
      if (pass == 0) __syncthreads();  // the previous window's shift-add has read Z
      const int col = col_lo + 2 * t;  // D fragment: rows g, g + 8; columns 2t, 2t + 1
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        float* z = z_s + (mt * kNarrowMmaRowTile + g) * p.cols + col;
        z[0] = acc[mt][0];
        z[1] = acc[mt][1];
        z[8 * p.cols] = acc[mt][2];
        z[8 * p.cols + 1] = acc[mt][3];
      }
    }
    __syncthreads();
    narrow::shift_add<T>(p, z_s, bias_s, y, b, q_lo, start, tid);
  }
}

template <class T, int MT>
void launch_tiles(const Plan& plan, const ForwardArgs& a) {
  const auto smem = static_cast<size_t>(plan.narrow.smem_bytes);
  opt_in_smem<narrow_mma_kernel<T, MT>>(plan.narrow.smem_bytes, a.device, "cudaFuncSetAttribute(narrow_mma_kernel)");
  narrow_mma_kernel<T, MT><<<static_cast<unsigned>(plan.narrow.grid), kNarrowThreads, smem,
                             static_cast<cudaStream_t>(a.stream)>>>(
      narrow::make_params(plan), static_cast<const T*>(a.x), static_cast<const T*>(a.w),
      static_cast<const T*>(a.bias), static_cast<T*>(a.y));
  cuda_check_launch("narrow_mma_kernel launch");
}

template <class T>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  switch (plan.narrow.rows / kNarrowMmaRowTile) {
    case 1: return launch_tiles<T, 1>(plan, a);
    case 2: return launch_tiles<T, 2>(plan, a);
    case 3: return launch_tiles<T, 3>(plan, a);
    case 4: return launch_tiles<T, 4>(plan, a);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: narrow mma kernel rows " + std::to_string(plan.narrow.rows) + " not planned");
}

}  // namespace

void launch_narrow_mma(const Plan& plan, const ForwardArgs& args) {
  switch (plan.dtype) {
    case CONVT1D_FLOAT32: return launch_typed<float>(plan, args);
    case CONVT1D_FLOAT16: return launch_typed<__half>(plan, args);
    case CONVT1D_BFLOAT16: return launch_typed<__nv_bfloat16>(plan, args);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: narrow mma kernel planned for dtype " + std::to_string(plan.dtype));
}

}  // namespace convt1d::detail
