// fp32 tap-major GEMM on Hopper tensor cores with the weights read as stored (WgmmaTiling::raw_weights),
// TF32 or IEEE (3xTF32), for layers whose weights outweigh their few row tiles (B = 1 vocoder layers):
// the packed-W^T kernels read W, write W^T (twice as big in IEEE) and read that again, where this one
// reads W once.
//
// Tile: 2*co_per_half output channels x N Z-columns (`segments` windows of `window` input positions),
// as the 16-bit kernel's: Z[m, n] = sum_ci W[ci, m] x^T[n, ci] with m = co*K + k. wgmma reads tf32
// A from shared memory K-major only, and W is [C_in][C_out*K] (m-major), so A comes from registers:
// each consumer thread loads its m64k8 fragments from the W tile TMA wrote and rounds them to tf32
// (IEEE: also the tf32 rounding of what the big part leaves). B = x^T, packed per call by
// transpose_to_tf32 (IEEE: big and small parts side by side), K-major from shared memory.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   stage[stages]: W[2 warpgroups][2][32 ci][32 m]  128B swizzle, one TMA box per 32 rows m
//                  X[N][32 ci]                       128B swizzle, one TMA box per segment (x^T big parts)
//                  XS[N][32 ci]                      IEEE: the small parts
//   full[stages], empty[stages]                      mbarriers
//   Z[2][64][z_pitch] fp32                           epilogue staging, over the stage buffers once spent
//
// Pipeline: warpgroup 0's first thread issues a stage's TMA boxes once the consumers have released
// it. Consumer warpgroups 1-2 wait on "full", load and round their fragments, issue the stage's
// wgmmas (IEEE: W small x x big, W big x x small, W big x x big, folded into `total` every
// segment_chunks stages: WgmmaTiling::segment_sums), commit, and release the previous stage once its
// group has retired; its fragments (the other of two register sets) are then free. Then Z and the
// shift-add, or the register shift-add, as in the 16-bit kernel.
#include "cuda/dependent_launch.cuh"
#include "cuda/hopper.cuh"
#include "cuda/register_shift_add.cuh"
#include "cuda/tf32_transpose.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"

namespace convt1d::detail {

namespace {

using namespace wgmma;

constexpr int kK8 = 8;                                         // reduction per tf32 wgmma
constexpr int kKSteps = kWgmmaTf32Chunk / kK8;                  // wgmma steps per stage
constexpr uint32_t kRowBytes = kWgmmaTf32Chunk * 4;             // one 128-byte row of 32 fp32
constexpr int kWBoxRows = 32;                                   // rows m per W box (128 bytes of fp32)
constexpr uint32_t kWBoxBytes = kWgmmaTf32Chunk * kWBoxRows * 4;  // [32 ci][32 m]
constexpr int kWBoxesPerWarpgroup = kWgmmaRows / kWBoxRows;
constexpr uint32_t kWBytes = 2 * kWBoxesPerWarpgroup * kWBoxBytes;
constexpr int kCoreRows = 8;                                    // rows of a core matrix (descriptor SBO unit)
static_assert(kWBytes == 2 * kWgmmaRows * 128, "the planner's kStageWeightBytes");

// A stage's m64k8 fragments: tf32 big parts, and (IEEE) small parts, unused and dropped in TF32.
struct Fragments {
  uint32_t big[kKSteps][4];
  uint32_t small[kKSteps][4];
};

template <bool IEEE>
__device__ __forceinline__ void fence_fragments(Fragments& f) {
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      asm volatile("" : "+r"(f.big[kk][i])::"memory");
      if constexpr (IEEE) asm volatile("" : "+r"(f.small[kk][i])::"memory");
    }
}

// N columns of Z as wgmma widths 128/64/32/16, widest first; column C0 of B starts C0 * 128 bytes
// (C0 * 8 in 16-byte units) into its K-major rows.
template <int N, int C0 = 0>
__device__ __forceinline__ void mma_columns(float* acc, const uint32_t (&a)[4], uint64_t b) {
  if constexpr (C0 < N) {
    constexpr int kRest = N - C0;
    constexpr int kW = kRest >= 128 ? 128 : kRest >= 64 ? 64 : kRest >= 32 ? 32 : 16;
    MmaTf32<kW>::run(acc + C0 / 2, a, b + uint64_t(C0) * 8);
    mma_columns<N, C0 + kW>(acc, a, b);
  }
}

// Element (ci, m) of warpgroup h's W tile: box h*2 + m/32, row ci, its 16-byte chunk XORed with
// ci mod 8 by the 128B swizzle.
__device__ __forceinline__ float w_at(const unsigned char* ws, int h, int ci, int m) {
  const int box = h * kWBoxesPerWarpgroup + m / kWBoxRows, r = m % kWBoxRows;
  return *reinterpret_cast<const float*>(ws + box * kWBoxBytes + hopper::swizzled_128b(ci, r));
}

template <bool IEEE>
__device__ __forceinline__ void split(float v, uint32_t& big, uint32_t& small) {
  big = ptx::to_tf32(v);
  if constexpr (IEEE) small = ptx::to_tf32(v - __uint_as_float(big));
}

// One stage of consumer warpgroup h: its fragments into `f`, the wgmmas, and the release of the
// previous stage, whose fragments (`f_prev`) are free once its group has retired.
template <int N, bool IEEE>
__device__ __forceinline__ void consume_stage(const WgmmaParams& p, unsigned char* smem, uint64_t* full,
                                              uint64_t* empty, uint32_t stage_bytes, int kc, StageCursor& step,
                                              int h, float* acc, float* total, Fragments& f, Fragments& f_prev) {
  const int s = step.stage;
  ptx::mbar_wait(&full[s], step.wraps & 1);
  const unsigned char* ws = smem + size_t(s) * stage_bytes;
  const int lane = threadIdx.x % 32;
  const int m0 = (threadIdx.x % 128) / 32 * 16 + lane / 4;
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const int ci0 = kk * kK8 + lane % 4;
    split<IEEE>(w_at(ws, h, ci0, m0), f.big[kk][0], f.small[kk][0]);
    split<IEEE>(w_at(ws, h, ci0, m0 + 8), f.big[kk][1], f.small[kk][1]);
    split<IEEE>(w_at(ws, h, ci0 + 4, m0), f.big[kk][2], f.small[kk][2]);
    split<IEEE>(w_at(ws, h, ci0 + 4, m0 + 8), f.big[kk][3], f.small[kk][3]);
  }
  const uint32_t xb = hopper::smem_addr(ws + kWBytes);
  const uint32_t xs = xb + uint32_t(N) * kRowBytes;  // IEEE: the small parts
  fence_accumulators<N, IEEE>(acc, total);
  fence_fragments<IEEE>(f);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const uint64_t b = hopper::matrix_desc(xb + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    if constexpr (IEEE) {
      const uint64_t bs = hopper::matrix_desc(xs + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
      mma_columns<N>(acc, f.small[kk], b);
      mma_columns<N>(acc, f.big[kk], bs);
    }
    mma_columns<N>(acc, f.big[kk], b);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
  fence_accumulators<N, IEEE>(acc, total);
  fence_fragments<IEEE>(f_prev);
  if (kc > 0 && threadIdx.x % 32 == 0) ptx::mbar_arrive(&empty[step.previous(p.stages)]);
  __syncwarp();
  step.next(p.stages);
}

template <int N, bool IEEE>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_raw_weights_kernel(const __grid_constant__ CUtensorMap w_map, const __grid_constant__ CUtensorMap x_map,
                             const __grid_constant__ WgmmaParams p, const float* __restrict__ bias,
                             float* __restrict__ y) {
#ifdef CONVT1D_SM90A_DEVICE
  extern __shared__ unsigned char smem_raw[];
  const uint32_t stage_bytes = kWBytes + uint32_t(N) * kRowBytes * (IEEE ? 2 : 1);
  // (x^T is packed by the kernel before)
  const auto [smem, full, empty, bias_smem] = open_stage_ring(smem_raw, p.stages, stage_bytes);
  const int tid = threadIdx.x;
  const int wg = tid / 128;

  const auto [b0, j, start, co0] = tile_origin(p, blockIdx.x, 2 * p.co_per_half);
  const float* bias_s = stage_bias(p, co0, bias, bias_smem);

  float acc[N / 2];
  float total[IEEE ? N / 2 : 1];  // IEEE: the earlier segments' sums (WgmmaTiling::segment_sums)
  if (wg == 0) {  // producer
    if (tid == 0) {
      StageCursor step;
      for (int kc = 0; kc < p.k_chunks; ++kc, step.next(p.stages)) {
        const int s = step.stage;
        if (step.wraps > 0) ptx::mbar_wait(&empty[s], (step.wraps - 1) & 1);
        hopper::mbar_arrive_expect_tx(&full[s], stage_bytes);
        unsigned char* ws = smem + size_t(s) * stage_bytes;
        const int32_t ci = kc * kWgmmaTf32Chunk;
        for (int h = 0; h < 2; ++h)
          for (int box = 0; box < kWBoxesPerWarpgroup; ++box)
            hopper::tma_load_2d(ws + (h * kWBoxesPerWarpgroup + box) * kWBoxBytes, &w_map,
                                (co0 + h * p.co_per_half) * p.kernel_size + box * kWBoxRows, ci, &full[s]);
        const int32_t col = IEEE ? 2 * ci : ci;  // x^T's packed columns: IEEE chunks are big | small
        for (int sg = 0; sg < p.segments.value; ++sg) {
          unsigned char* xs = ws + kWBytes + sg * p.window * kRowBytes;
          hopper::tma_load_3d(xs, &x_map, col, start, b0 + sg, &full[s]);
          if constexpr (IEEE)
            hopper::tma_load_3d(xs + N * kRowBytes, &x_map, col + kWgmmaTf32Chunk, start, b0 + sg, &full[s]);
        }
      }
    }
    __syncwarp();
  } else {  // consumers
    const int h = wg - 1;
#pragma unroll
    for (int i = 0; i < N / 2; ++i) acc[i] = 0.0f;
#pragma unroll
    for (int i = 0; i < (IEEE ? N / 2 : 1); ++i) total[i] = 0.0f;
    Fragments f_even, f_odd;
    StageCursor step;
    int segment_left = p.segment_chunks;  // stages to this IEEE segment's end
    for (int kc = 0; kc < p.k_chunks; ++kc) {
      if (kc % 2 == 0)
        consume_stage<N, IEEE>(p, smem, full, empty, stage_bytes, kc, step, h, acc, total, f_even, f_odd);
      else
        consume_stage<N, IEEE>(p, smem, full, empty, stage_bytes, kc, step, h, acc, total, f_odd, f_even);
      if constexpr (IEEE)
        if (--segment_left == 0 && kc + 1 < p.k_chunks) {
          fold_segment<N>(acc, total);
          segment_left = p.segment_chunks;
        }
    }
    retire_accumulators<N, IEEE>(acc, total);
  }
  one_tile_epilogue<N>(acc, reinterpret_cast<float*>(smem), p, b0, j, start, co0, bias_s, bias, y);
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

template <int N, bool IEEE>
void launch_n(const Plan& plan, const ForwardArgs& a, const CUtensorMap& w_map, const CUtensorMap& x_map) {
  launch_tiles<wgmma_raw_weights_kernel<N, IEEE>, float>(plan, a, w_map, x_map, /*dependent=*/true,
                                                        "cudaFuncSetAttribute(wgmma_raw_weights_kernel)",
                                                        "wgmma_raw_weights_kernel launch");
}

// Tile widths in steps of kWgmmaTf32ColumnStep, up to kRawWeightsMaxN (IEEE: kRawWeightsIeeeMaxN).
template <bool IEEE, int N = IEEE ? kRawWeightsIeeeMaxN : kRawWeightsMaxN>
void launch_width(const Plan& plan, const ForwardArgs& a, const CUtensorMap& w_map, const CUtensorMap& x_map) {
  if constexpr (N >= kWgmmaTf32ColumnStep) {
    if (plan.wgmma.n() == N) return launch_n<N, IEEE>(plan, a, w_map, x_map);
    return launch_width<IEEE, N - kWgmmaTf32ColumnStep>(plan, a, w_map, x_map);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: raw-weights tile width " + std::to_string(plan.wgmma.n()) + " not planned");
}

}  // namespace

void wgmma::launch_wgmma_raw_weights(const Plan& plan, const ForwardArgs& a, const CUtensorMap& xt_map) {
  const Shape& s = plan.shape;
  const cuuint64_t m_total = static_cast<cuuint64_t>(s.out_channels * s.kernel_size);
  const CUtensorMap w_map =
      tensor_map<2>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, a.w, {m_total, static_cast<cuuint64_t>(s.in_channels)},
                    {m_total * 4}, {kWBoxRows, kWgmmaTf32Chunk}, CU_TENSOR_MAP_SWIZZLE_128B, "weight");
  if (plan.wgmma.ieee)
    launch_width<true>(plan, a, w_map, xt_map);
  else
    launch_width<false>(plan, a, w_map, xt_map);
}

}  // namespace convt1d::detail
