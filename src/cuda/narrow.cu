// Narrow kernel, FMA reduction: few output channels x taps (C_out*K <= 32), where a tensor-core tile
// would run nearly empty and the layer is bound by reading x once. Plain FFMA with fp32 accumulation:
// exact fp32, so it serves IEEE (TF32 and 16-bit take the mma reduction, narrow_mma.cu); any stride,
// dilation and padding.
//
// Tile: one window of `cols` input positions l = start + c of one batch row (plan.hpp, NarrowTiling).
// Thread (slice, j) keeps Z[m][c] for its POSITIONS columns c = j + i * threads_per_slice and every row
// m = co*K + k (ROWS registers each), summed over its slice's input channels: per channel, one
// coalesced load of x per column and ROWS/4 broadcast float4 reads of that channel's weights.
//
// Shared memory: W[ci][ROWS] fp32 (staged once per block; rows past C_out*K zero) | Z[slices][ROWS][cols]
// (`slice_pitch` apart: the slices' partial sums) | bias[C_out] fp32.
//
// Pipeline: none beyond the loads in flight: rounds of UNROLL channels x POSITIONS columns (8 loads)
// issued before their FMAs. (An L2 prefetch of each thread's x for the window up front was tried:
// 10 % slower on Conv-TasNet's decoder, perf-log step 42.)
// Persistent blocks walk the windows; per window: reduce in registers, barrier, partial Z to shared
// memory, barrier, shift-add: each output sums its phase's taps over the slices and is stored by
// consecutive threads to consecutive addresses.
#include <algorithm>
#include <cstdint>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dtype_traits.cuh"
#include "cuda/narrow_common.cuh"
#include "cuda/opt_in_smem.cuh"

namespace convt1d::detail {

namespace {

using narrow::NarrowParams;

constexpr int kLoadsInFlight = 8;  // x loads per thread before their FMAs: UNROLL * POSITIONS

template <class T, int ROWS>
__global__ void __launch_bounds__(kNarrowThreads, narrow_blocks_per_sm(ROWS))
    narrow_kernel(const __grid_constant__ NarrowParams p, const T* __restrict__ x, const T* __restrict__ w,
                  const T* __restrict__ bias, T* __restrict__ y) {
  constexpr int P = narrow_positions(ROWS);
  constexpr int UNROLL = kLoadsInFlight / P;
  extern __shared__ float4 smem_f4[];
  float* w_s = reinterpret_cast<float*>(smem_f4);
  float* z_s = w_s + p.in_channels * ROWS;
  float* bias_s = z_s + p.slices * p.slice_pitch;
  const int tid = threadIdx.x;
  for (int i = tid; i < p.in_channels * ROWS; i += kNarrowThreads) {
    const int ci = i / ROWS, m = i % ROWS;
    w_s[i] = m < p.m ? Elem<T>::load(w[int64_t(ci) * p.m + m]) : 0.0f;
  }
  for (int i = tid; i < p.out_channels; i += kNarrowThreads) bias_s[i] = bias ? Elem<T>::load(bias[i]) : 0.0f;
  __syncthreads();

  const int per_slice = kNarrowThreads / p.slices;
  const int slice = tid / per_slice, j = tid % per_slice;
  const int ci0 = min(slice * p.ci_per_slice, p.in_channels);
  const int ci1 = min(ci0 + p.ci_per_slice, p.in_channels);

  for (int64_t tile = blockIdx.x; tile < p.tiles; tile += gridDim.x) {
    const narrow::Window win = narrow::window_of(p, tile);
    const int64_t b = win.b, q_lo = win.q_lo, start = win.start;  // start: the window's column 0

    float acc[P][ROWS];
#pragma unroll
    for (int i = 0; i < P; ++i)
#pragma unroll
      for (int m = 0; m < ROWS; ++m) acc[i][m] = 0.0f;
    const T* xrow = x + b * p.in_channels * int64_t(p.in_length);
    int32_t col_l[P];  // x positions of the thread's columns (0, a valid address, where outside the row)
    bool inside[P];
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int64_t l = start + j + i * per_slice;
      inside[i] = l >= 0 && l < p.in_length;
      col_l[i] = inside[i] ? static_cast<int32_t>(l) : 0;
    }
    // Loads are unconditional (a column outside the row reads position 0) so that they issue back to
    // back; the value is zeroed here.
    auto fma_channel = [&](int ci, float (&xv)[P]) {
#pragma unroll
      for (int i = 0; i < P; ++i) xv[i] = inside[i] ? xv[i] : 0.0f;
      const float4* wr = reinterpret_cast<const float4*>(w_s + ci * ROWS);
#pragma unroll
      for (int m4 = 0; m4 < ROWS / 4; ++m4) {
        const float4 wv = wr[m4];
#pragma unroll
        for (int i = 0; i < P; ++i) {
          acc[i][4 * m4] = fmaf(wv.x, xv[i], acc[i][4 * m4]);
          acc[i][4 * m4 + 1] = fmaf(wv.y, xv[i], acc[i][4 * m4 + 1]);
          acc[i][4 * m4 + 2] = fmaf(wv.z, xv[i], acc[i][4 * m4 + 2]);
          acc[i][4 * m4 + 3] = fmaf(wv.w, xv[i], acc[i][4 * m4 + 3]);
        }
      }
    };
    int ci = ci0;
    for (; ci + UNROLL <= ci1; ci += UNROLL) {
      float xv[UNROLL][P];
#pragma unroll
      for (int u = 0; u < UNROLL; ++u) {
        const T* xc = xrow + int64_t(ci + u) * p.in_length;
#pragma unroll
        for (int i = 0; i < P; ++i) xv[u][i] = Elem<T>::load(xc[col_l[i]]);
      }
#pragma unroll
      for (int u = 0; u < UNROLL; ++u) fma_channel(ci + u, xv[u]);
    }
    for (; ci < ci1; ++ci) {
      float xv[P];
      const T* xc = xrow + int64_t(ci) * p.in_length;
#pragma unroll
      for (int i = 0; i < P; ++i) xv[i] = Elem<T>::load(xc[col_l[i]]);
      fma_channel(ci, xv);
    }

    __syncthreads();  // the previous window's shift-add has read Z
    float* zs = z_s + slice * p.slice_pitch + j;
#pragma unroll
    for (int m = 0; m < ROWS; ++m)
#pragma unroll
      for (int i = 0; i < P; ++i) zs[m * p.cols + i * per_slice] = acc[i][m];
    __syncthreads();

    narrow::shift_add<T>(p, z_s, bias_s, y, b, q_lo, start, tid);
  }
}

template <class T, int ROWS>
void launch_rows(const Plan& plan, const ForwardArgs& a) {
  const auto smem = static_cast<size_t>(plan.narrow.smem_bytes);
  opt_in_smem<narrow_kernel<T, ROWS>>(plan.narrow.smem_bytes, a.device, "cudaFuncSetAttribute(narrow_kernel)");
  narrow_kernel<T, ROWS><<<static_cast<unsigned>(plan.narrow.grid), kNarrowThreads, smem, static_cast<cudaStream_t>(a.stream)>>>(
      narrow::make_params(plan), static_cast<const T*>(a.x), static_cast<const T*>(a.w), static_cast<const T*>(a.bias),
      static_cast<T*>(a.y));
  cuda_check_launch("narrow_kernel launch");
}

template <class T>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  switch (plan.narrow.rows) {
    case 8: return launch_rows<T, 8>(plan, a);
    case 16: return launch_rows<T, 16>(plan, a);
    case 32: return launch_rows<T, 32>(plan, a);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: narrow kernel rows " + std::to_string(plan.narrow.rows) + " not planned");
}

}  // namespace

void launch_narrow(const Plan& plan, const ForwardArgs& args) {
  if (plan.narrow.mma) return launch_narrow_mma(plan, args);
  if (plan.dtype == CONVT1D_FLOAT32) return launch_typed<float>(plan, args);  // IEEE: the FMA reduction
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: narrow FMA kernel planned for dtype " + std::to_string(plan.dtype));
}

}  // namespace convt1d::detail
