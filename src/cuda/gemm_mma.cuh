// The implicit-GEMM kernel's MMAs: fragment loads (resident or raw weights, x window), tf32 /
// 3xTF32 / fp16 / bf16 mma.sync, one warp item over one reduction chunk, and the bias start.
#pragma once

#include "cuda/gemm_params.cuh"
#include "cuda/ptx.cuh"

namespace convt1d::detail::gemm {

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
    if constexpr (M == Math::IEEE) {
      // 3xTF32: w*x ≈ w_hi*x_hi + w_hi*x_lo + w_lo*x_hi. The two small-term passes run over all 16
      // accumulators before the main pass, so no MMA waits on the one just before it. The split is
      // by truncation (hi = the value's tf32 bits, one AND; lo = the exact rest, which the tensor core
      // truncates by < 2^-10 of itself): cvt.rna.tf32 costs five instructions on sm_90 (perf-log 52, 59).
      uint32_t a_hi[kMmaTilesM][4], a_lo[kMmaTilesM][4], b_hi[kMmaTilesN][2], b_lo[kMmaTilesN][2];
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int i = 0; i < 4; ++i) ptx::split_tf32(a_hi[mt][i], a_lo[mt][i], __uint_as_float(f.a[mt][i]));
#pragma unroll
      for (int nt = 0; nt < kMmaTilesN; ++nt)
#pragma unroll
        for (int i = 0; i < 2; ++i) ptx::split_tf32(b_hi[nt][i], b_lo[nt][i], f.bx[nt][i]);
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_lo[mt], b_hi[nt]);
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_hi[mt], b_lo[nt]);
#pragma unroll
      for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
        for (int nt = 0; nt < kMmaTilesN; ++nt) ptx::mma_tf32(acc[mt][nt], a_hi[mt], b_hi[nt]);
    } else {
      uint32_t b[kMmaTilesN][2];
#pragma unroll
      for (int nt = 0; nt < kMmaTilesN; ++nt) {
        b[nt][0] = ptx::to_tf32(f.bx[nt][0]);
        b[nt][1] = ptx::to_tf32(f.bx[nt][1]);
      }
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

}  // namespace convt1d::detail::gemm
