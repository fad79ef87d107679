// Tensor-core polyphase implicit GEMM (mma.sync), output-stationary, persistent blocks.
//
// Tile: 64 output channels x (q_tile positions of every stride phase) = q_tile*stride consecutive
// outputs of one (group, batch) row block. Output u = t + padding = q*stride + r takes, for each tap k
// of phase r (host plan: first tap, step, shift), W[ci, co, k] * x[ci, q - shift]; a warp work item
// is one phase x 32 positions x 64 channels: 4x4 MMA tiles, 64 fp32 accumulators per thread.
//
// Shared memory (sizes from plan_implicit_gemm):
//   w_s [K][w_rows][w_pitch]  32-bit words: fp32 weights (pre-rounded to tf32 in TF32 mode, raw in
//                             IEEE mode and split at fragment load), or fp16/bf16 ci-pairs packed;
//                             w_pitch ≡ 8 (mod 32) so a fragment's 4 reduction rows hit distinct banks.
//   x_s [2][ci_chunk][x_cols] the input window of one reduction chunk, double-buffered: columns map
//                             to l = l_base + c, l_base = q0 - max_shift rounded down to 16 bytes.
//   y_s [64][y_pitch]         fp32 output staging, so global stores are long contiguous row pieces.
//
// Pipeline: a block walks steps (tile, chunk) of its contiguous tile range. The x window of step i+1
// is in flight (cp.async, 16-byte, zero-filled at the edges) while step i computes. Weights are loaded
// through registers (converted on the way) when the (group, channel tile, chunk) changes: once per block
// when the whole reduction fits (one chunk), every step otherwise. After the last chunk of a tile the
// accumulators go to y_s and the block writes the tile with 16-byte stores (bias and dtype conversion
// fused); those stores drain while the next tile's MMAs run.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/ptx.cuh"

namespace convt1d::detail {

namespace {

constexpr int kThreads = kGemmWarps * 32;
constexpr int kMmaTilesM = 4;  // 4 x 16 = 64 output channels per warp
constexpr int kMmaTilesN = 4;  // 4 x 8 = 32 positions per warp
constexpr int kVecBytes = 16;

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

struct GemmParams {
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
__device__ void issue_x(const GemmParams& p, const T* __restrict__ x, T* x_s, const TileCoord& c, int chunk) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int64_t l_base = window_base<kVec>(p, c.q0);
  const int load_cols = static_cast<int>(min64(p.x_cols, (c.q0 + p.q_tile - l_base + kVec - 1) / kVec * kVec));
  const int vecs_per_row = load_cols / kVec;
  const int ci0 = chunk * p.ci_chunk;
  const T* x_rows = x + (c.b * p.in_channels + int64_t(c.g) * p.in_per_group) * p.in_length;
  for (int idx = threadIdx.x; idx < p.ci_chunk * vecs_per_row; idx += kThreads) {
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
                       const TileCoord& c, int chunk) {
  using T = typename Traits<M>::T;
  const int K = p.kernel_size;
  const int ci0 = chunk * p.ci_chunk;
  const int total = p.w_rows * 64 * K;
  for (int idx = threadIdx.x; idx < total; idx += kThreads) {
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

// Accumulators of item (phase r, positions q_first..q_first+31) into the staging tile at u = q*stride + r.
__device__ __forceinline__ void stage_item(const GemmParams& p, float* y_s, int r, int q_first, const Acc& acc) {
  const int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
#pragma unroll
  for (int mt = 0; mt < kMmaTilesM; ++mt)
#pragma unroll
    for (int nt = 0; nt < kMmaTilesN; ++nt) {
      const int co = mt * 16 + gq;
      const int u = (q_first + nt * 8 + 2 * tq) * p.stride + r;
      y_s[co * p.y_pitch + u] = acc[mt][nt][0];
      y_s[co * p.y_pitch + u + p.stride] = acc[mt][nt][1];
      y_s[(co + 8) * p.y_pitch + u] = acc[mt][nt][2];
      y_s[(co + 8) * p.y_pitch + u + p.stride] = acc[mt][nt][3];
    }
}

// Writes the staged tile: one warp per output row, 16-byte stores on the aligned body of the row piece.
template <class T>
__device__ void store_tile(const GemmParams& p, const float* y_s, const T* __restrict__ bias, T* __restrict__ y,
                           const TileCoord& c) {
  constexpr int kVec = kVecBytes / sizeof(T);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t u0 = c.q0 * p.stride;
  const int64_t t_begin = max64(0, u0 - p.padding);
  const int64_t t_end = min64(p.out_length, u0 + int64_t(p.q_tile) * p.stride - p.padding);
  if (t_begin >= t_end) return;
  const int rows = min(64, p.out_per_group - c.co0);
  for (int row = warp; row < rows; row += kGemmWarps) {
    const int64_t co = int64_t(c.g) * p.out_per_group + c.co0 + row;
    const float add = bias ? to_float(bias[co]) : 0.f;
    T* out = y + (c.b * p.out_channels + co) * p.out_length;
    const float* src = y_s + row * p.y_pitch + (p.padding - u0);  // src[t] is output t
    const int64_t misalign = (reinterpret_cast<uintptr_t>(out + t_begin) % kVecBytes) / sizeof(T);
    const int64_t body_begin = min64(t_end, t_begin + (misalign ? kVec - misalign : 0));
    const int64_t body_end = body_begin + (t_end - body_begin) / kVec * kVec;
    if (lane < body_begin - t_begin) out[t_begin + lane] = from_float<T>(src[t_begin + lane] + add);
    if (lane < t_end - body_end) out[body_end + lane] = from_float<T>(src[body_end + lane] + add);
    for (int64_t t = body_begin + int64_t(lane) * kVec; t < body_end; t += 32 * kVec) {
      T v[kVec];
#pragma unroll
      for (int e = 0; e < kVec; ++e) v[e] = from_float<T>(src[t + e] + add);
      *reinterpret_cast<uint4*>(out + t) = *reinterpret_cast<const uint4*>(v);
    }
  }
}

template <Math M>
__global__ void __launch_bounds__(kThreads)
    implicit_gemm_kernel(const __grid_constant__ GemmParams p, const typename Traits<M>::T* __restrict__ x,
                         const typename Traits<M>::T* __restrict__ w, const typename Traits<M>::T* __restrict__ bias,
                         typename Traits<M>::T* __restrict__ y) {
  using T = typename Traits<M>::T;
  extern __shared__ __align__(16) unsigned char smem[];
  uint32_t* w_s = reinterpret_cast<uint32_t*>(smem);
  T* x_s = reinterpret_cast<T*>(smem + size_t(p.kernel_size) * p.w_rows * p.w_pitch * 4);
  const int x_stage = p.ci_chunk * p.x_cols;
  float* y_s = reinterpret_cast<float*>(x_s + 2 * x_stage);

  const int64_t tile_begin = blockIdx.x * p.tiles / gridDim.x;
  const int64_t tile_end = (blockIdx.x + 1) * p.tiles / gridDim.x;
  const int64_t steps = (tile_end - tile_begin) * p.chunks;
  if (steps <= 0) return;
  const int warp = threadIdx.x >> 5;
  const int q_chunks = p.q_tile / 32;

  issue_x(p, x, x_s, decode_tile(p, tile_begin), 0);
  ptx::cp_async_commit();
  int64_t loaded_w = -1;  // (group, channel tile, chunk) now in w_s
  Acc acc;
  zero(acc);
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t tile = tile_begin + step / p.chunks;
    const int chunk = static_cast<int>(step % p.chunks);
    const TileCoord c = decode_tile(p, tile);
    if (step + 1 < steps) {
      const int64_t next = step + 1;
      issue_x(p, x, x_s + ((step + 1) & 1) * x_stage, decode_tile(p, tile_begin + next / p.chunks),
              static_cast<int>(next % p.chunks));
    }
    ptx::cp_async_commit();
    const int64_t w_key = ((int64_t(c.g) * p.co_tiles + c.co0 / 64) * p.chunks) + chunk;
    if (w_key != loaded_w) {
      load_w<M>(p, w, w_s, c, chunk);
      loaded_w = w_key;
    }
    ptx::cp_async_wait<1>();
    __syncthreads();

    const T* xs = x_s + (step & 1) * x_stage;
    const int k_steps = (min(p.ci_chunk, p.in_per_group - chunk * p.ci_chunk) + Traits<M>::kStep - 1) / Traits<M>::kStep;
    const int64_t l_base = window_base<kVecBytes / sizeof(T)>(p, c.q0);
    if (p.chunks == 1) {
      for (int item = warp; item < p.items; item += kGemmWarps) {
        const int r = item / q_chunks, q_first = (item % q_chunks) * 32;
        zero(acc);
        compute_item<M>(p, w_s, xs, r, static_cast<int>(c.q0 + q_first - l_base), k_steps, acc);
        stage_item(p, y_s, r, q_first, acc);
      }
    } else if (warp < p.items) {
      const int r = warp / q_chunks, q_first = (warp % q_chunks) * 32;
      if (chunk == 0) zero(acc);
      compute_item<M>(p, w_s, xs, r, static_cast<int>(c.q0 + q_first - l_base), k_steps, acc);
      if (chunk == p.chunks - 1) stage_item(p, y_s, r, q_first, acc);
    }
    if (chunk == p.chunks - 1) {
      __syncthreads();
      store_tile<T>(p, y_s, bias, y, c);
    }
    __syncthreads();  // x stage, w_s and y_s are free for the next step
  }
}

template <Math M>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
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
  auto kernel = implicit_gemm_kernel<M>;
  cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(t.smem_bytes)),
             "cudaFuncSetAttribute(implicit_gemm_kernel)");
  using T = typename Traits<M>::T;
  kernel<<<static_cast<unsigned>(t.grid), kThreads, static_cast<size_t>(t.smem_bytes),
           static_cast<cudaStream_t>(a.stream)>>>(p, static_cast<const T*>(a.x), static_cast<const T*>(a.w),
                                                  static_cast<const T*>(a.bias), static_cast<T*>(a.y));
  cuda_check_launch("implicit_gemm_kernel launch");
}

}  // namespace

void launch_implicit_gemm(const Plan& plan, const ForwardArgs& args) {
  switch (plan.dtype) {
    case CONVT1D_FLOAT32:
      if (plan.math == CONVT1D_MATH_IEEE)
        launch_typed<Math::IEEE>(plan, args);
      else
        launch_typed<Math::TF32>(plan, args);
      break;
    case CONVT1D_FLOAT16: launch_typed<Math::F16>(plan, args); break;
    case CONVT1D_BFLOAT16: launch_typed<Math::BF16>(plan, args); break;
    default: fail(CONVT1D_INTERNAL_ERROR, "convt1d: implicit_gemm planned for an unsupported dtype");
  }
}

}  // namespace convt1d::detail
