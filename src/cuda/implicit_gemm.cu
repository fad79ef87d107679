// Tensor-core polyphase implicit GEMM (mma.sync), output-stationary, persistent blocks.
//
// Tile: 64 output channels x (q_tile positions of every stride phase) = q_tile*stride consecutive
// outputs of one (group, batch) row block. Output u = t + padding = q*stride + r takes, for each tap k
// of phase r (host plan: first tap, step, shift), W[ci, co, k] * x[ci, q - shift]; a warp work item
// is one phase x 32 positions x 64 channels: 4x4 MMA tiles, 64 fp32 accumulators per thread.
//
// Shared memory (sizes from plan_implicit_gemm):
//   w_s [K][k-steps][4][32 lanes][4]  32-bit words in MMA fragment order (load_w): fp32 weights
//                             (pre-rounded to tf32 in TF32 mode, raw in IEEE mode and split at
//                             fragment load), or fp16/bf16 ci-pairs packed; one LDS.128 per fragment.
//   x_s [2][ci_chunk][x_cols] the input window of one reduction chunk, double-buffered: columns map
//                             to l = l_base + c, l_base = q0 - max_shift rounded down to 16 bytes.
//   y_s [64][y_pitch]         output staging in the output type, so global stores are long
//                             contiguous row pieces.
//
// Pipeline: a block walks steps (tile, chunk) of its contiguous tile range. The x window of step i+1
// is in flight (cp.async, 16-byte, zero-filled at the edges) while step i computes. Weights are loaded
// through registers (converted on the way) when the (group, channel tile, chunk) changes: once per block
// when the whole reduction fits (one chunk), every step otherwise. After the last chunk of a tile the
// accumulators go to y_s and the block writes the tile with 16-byte stores (bias and dtype conversion
// fused); those stores drain while the next tile's MMAs run.
#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/gemm_tile.cuh"

namespace convt1d::detail {

namespace {

using namespace gemm;

constexpr int kThreads = kGemmWarps * 32;

template <Math M>
__global__ void __launch_bounds__(kThreads)
    implicit_gemm_kernel(const __grid_constant__ GemmParams p, const typename Traits<M>::T* __restrict__ x,
                         const typename Traits<M>::T* __restrict__ w, const typename Traits<M>::T* __restrict__ bias,
                         typename Traits<M>::T* __restrict__ y) {
  using T = typename Traits<M>::T;
  extern __shared__ __align__(16) unsigned char smem[];
  uint32_t* w_s = reinterpret_cast<uint32_t*>(smem);
  T* x_s = reinterpret_cast<T*>(smem + size_t(p.kernel_size) * p.w_rows * kGemmBlockCo * 4);
  const int x_stage = p.ci_chunk * p.x_cols;
  T* y_s = x_s + 2 * x_stage;

  const int64_t tile_begin = blockIdx.x * p.tiles / gridDim.x;
  const int64_t tile_end = (blockIdx.x + 1) * p.tiles / gridDim.x;
  const int64_t steps = (tile_end - tile_begin) * p.chunks;
  if (steps <= 0) return;
  const int warp = threadIdx.x >> 5;
  const int q_chunks = p.q_tile / 32;

  issue_x(p, x, x_s, decode_tile(p, tile_begin), 0, warp, kGemmWarps);
  ptx::cp_async_commit();
  int64_t loaded_w = -1;  // (group, channel tile, chunk) now in w_s
  Acc acc;
  BiasRegs bias_r{};
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t tile = tile_begin + step / p.chunks;
    const int chunk = static_cast<int>(step % p.chunks);
    const TileCoord c = decode_tile(p, tile);
    if (step + 1 < steps) {
      const int64_t next = step + 1;
      issue_x(p, x, x_s + ((step + 1) & 1) * x_stage, decode_tile(p, tile_begin + next / p.chunks),
              static_cast<int>(next % p.chunks), warp, kGemmWarps);
    }
    ptx::cp_async_commit();
    const int64_t w_key = ((int64_t(c.g) * p.co_tiles + c.co0 / 64) * p.chunks) + chunk;
    if (w_key != loaded_w) {
      load_w<M>(p, w, w_s, c, chunk, threadIdx.x, kThreads);
      if (chunk == 0) bias_r = load_bias(p, bias, c);
      loaded_w = w_key;
    }
    ptx::cp_async_wait<1>();
    __syncthreads();

    const T* xs = x_s + (step & 1) * x_stage;
    const int k_steps = (min(p.ci_chunk, p.in_per_group - chunk * p.ci_chunk) + Traits<M>::kStep - 1) / Traits<M>::kStep;
    const int64_t l_base = window_base<kVecBytes / sizeof(T)>(p, c.q0);
    const StageAlign<T> al = stage_align<T>(p, c, y);
    if (p.chunks == 1) {
      for (int item = warp; item < p.items; item += kGemmWarps) {
        const int r = item / q_chunks, q_first = (item % q_chunks) * 32;
        init_acc(acc, bias_r);
        compute_item<M>(p, w_s, xs, r, static_cast<int>(c.q0 + q_first - l_base), k_steps, acc);
        stage_item(p, y_s, r, q_first, acc, al);
      }
    } else if (warp < p.items) {
      const int r = warp / q_chunks, q_first = (warp % q_chunks) * 32;
      if (chunk == 0) init_acc(acc, bias_r);
      compute_item<M>(p, w_s, xs, r, static_cast<int>(c.q0 + q_first - l_base), k_steps, acc);
      if (chunk == p.chunks - 1) stage_item(p, y_s, r, q_first, acc, al);
    }
    if (chunk == p.chunks - 1) {
      __syncthreads();
      store_tile<T>(p, y_s, y, c, warp, kGemmWarps);
    }
    __syncthreads();  // x stage, w_s and y_s are free for the next step
  }
}

template <Math M>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  const GemmParams p = make_params(plan);
  const GemmTiling& t = plan.gemm;
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
