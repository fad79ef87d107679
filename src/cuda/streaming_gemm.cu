// Warp-specialised streaming variant of the implicit GEMM, for problems whose whole reduction
// (C_in/groups x K weights of a 64-channel tile) stays resident in shared memory — KernelBench #74 and
// the small/medium-channel layers with long sequences. Tile, smem layout and fragment mapping are those
// of implicit_gemm.cu (gemm_tile.cuh); what differs is who does what:
//
//   8 compute warps: wait for x stage i, run the tile's MMAs, write the accumulators to the staging
//                    buffer once the memory warps have drained it, and move on to tile i+1.
//   4 memory warps:  keep `stages` x windows in flight (cp.async) and write staged tile i-1 to global
//                    memory while the compute warps run tile i.
//
// Hand-offs use named barriers (bar.arrive by the producer, bar.sync by the consumer), one pair per x
// stage and one pair for the staging buffer, so neither side waits for the other except on data.
#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/gemm_tile.cuh"

namespace convt1d::detail {

namespace {

using namespace gemm;

constexpr int kComputeWarps = kGemmWarps;
constexpr int kMemoryWarps = 4;
constexpr int kComputeThreads = kComputeWarps * 32;
constexpr int kMemoryThreads = kMemoryWarps * 32;
constexpr int kThreads = kComputeThreads + kMemoryThreads;
constexpr int kMaxStages = 3;

// Named barrier ids (0 is __syncthreads).
constexpr int kBarStagingFull = 1;
constexpr int kBarStagingFree = 2;
constexpr int kBarXFull = 3;                   // + stage
constexpr int kBarXFree = kBarXFull + kMaxStages;  // + stage
constexpr int kBarCompute = kBarXFree + kMaxStages;  // compute warps only

template <int kStages, Math M>
__global__ void __launch_bounds__(kThreads, 1)
    streaming_gemm_kernel(const __grid_constant__ GemmParams p, const typename Traits<M>::T* __restrict__ x,
                          const typename Traits<M>::T* __restrict__ w, const typename Traits<M>::T* __restrict__ bias,
                          typename Traits<M>::T* __restrict__ y) {
  using T = typename Traits<M>::T;
  extern __shared__ __align__(16) unsigned char smem[];
  uint32_t* w_s = reinterpret_cast<uint32_t*>(smem);
  T* x_s = reinterpret_cast<T*>(smem + size_t(p.kernel_size) * p.w_rows * kGemmBlockCo * 4);
  const int x_stage = p.ci_chunk * p.x_cols;
  T* y_s = x_s + kStages * x_stage;

  const int64_t tile_begin = blockIdx.x * p.tiles / gridDim.x;
  const int64_t n = (blockIdx.x + 1) * p.tiles / gridDim.x - tile_begin;
  if (n <= 0) return;
  const int warp = threadIdx.x >> 5;
  auto w_key = [&](int64_t i) { return (tile_begin + i) / (p.q_tiles * p.batch); };  // (group, channel tile)

  load_w<M>(p, w, w_s, decode_tile(p, tile_begin), 0, threadIdx.x, kThreads);
  __syncthreads();

  if (warp >= kComputeWarps) {
    // ---- memory warps ----
    const int mwarp = warp - kComputeWarps;
    for (int j = 0; j < kStages; ++j) {
      if (j < n) issue_x(p, x, x_s + j * x_stage, decode_tile(p, tile_begin + j), 0, mwarp, kMemoryWarps);
      ptx::cp_async_commit();
    }
    ptx::bar_arrive(kBarStagingFree, kThreads);  // the staging buffer starts empty
    for (int64_t i = 0; i < n; ++i) {
      if (i > 0 && w_key(i) != w_key(i - 1)) __syncthreads();  // matches the compute warps' weight reload
      ptx::cp_async_wait<kStages - 2>();
      ptx::bar_arrive(kBarXFull + i % kStages, kThreads);
      if (i > 0) {
        // Refill the stage tile i-1 used before writing tile i-1 out, so the load's latency hides
        // behind the stores.
        const int64_t next = i - 1 + kStages;
        if (next < n) {
          ptx::bar_sync(kBarXFree + (i - 1) % kStages, kThreads);
          issue_x(p, x, x_s + ((i - 1) % kStages) * x_stage, decode_tile(p, tile_begin + next), 0, mwarp,
                  kMemoryWarps);
        }
        ptx::cp_async_commit();
        ptx::bar_sync(kBarStagingFull, kThreads);
        store_tile<T>(p, y_s, y, decode_tile(p, tile_begin + i - 1), mwarp, kMemoryWarps);
        ptx::bar_arrive(kBarStagingFree, kThreads);
      }
    }
    ptx::bar_sync(kBarStagingFull, kThreads);
    store_tile<T>(p, y_s, y, decode_tile(p, tile_begin + n - 1), mwarp, kMemoryWarps);
    return;
  }

  // ---- compute warps ----
  const int q_chunks = p.q_tile / 32;
  const int k_steps = (p.in_per_group + Traits<M>::kStep - 1) / Traits<M>::kStep;
  constexpr int kVec = kVecBytes / sizeof(T);
  BiasRegs bias_r = load_bias(p, bias, decode_tile(p, tile_begin));
  Acc acc;
  for (int64_t i = 0; i < n; ++i) {
    const TileCoord c = decode_tile(p, tile_begin + i);
    if (i > 0 && w_key(i) != w_key(i - 1)) {
      __syncthreads();
      load_w<M>(p, w, w_s, c, 0, threadIdx.x, kComputeThreads);
      bias_r = load_bias(p, bias, c);
      ptx::bar_sync(kBarCompute, kComputeThreads);
    }
    const int stage = static_cast<int>(i % kStages);
    ptx::bar_sync(kBarXFull + stage, kThreads);
    const T* xs = x_s + stage * x_stage;
    const int col_base = static_cast<int>(c.q0 - window_base<kVec>(p, c.q0));
    const StageAlign<T> al = stage_align<T>(p, c, y);
    bool staging_ours = false;
    for (int item = warp; item < p.items; item += kComputeWarps) {
      const int r = item / q_chunks, q_first = (item % q_chunks) * 32;
      init_acc(acc, bias_r);
      compute_item<M>(p, w_s, xs, r, col_base + q_first, k_steps, acc);
      if (!staging_ours) {
        ptx::bar_sync(kBarStagingFree, kThreads);
        staging_ours = true;
      }
      stage_item(p, y_s, r, q_first, acc, al);
    }
    if (i + kStages < n) ptx::bar_arrive(kBarXFree + stage, kThreads);
    if (!staging_ours) ptx::bar_sync(kBarStagingFree, kThreads);
    ptx::bar_arrive(kBarStagingFull, kThreads);
  }
}

template <int kStages, Math M>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  const GemmParams p = make_params(plan);
  const GemmTiling& t = plan.gemm;
  auto kernel = streaming_gemm_kernel<kStages, M>;
  cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(t.smem_bytes)),
             "cudaFuncSetAttribute(streaming_gemm_kernel)");
  using T = typename Traits<M>::T;
  kernel<<<static_cast<unsigned>(t.grid), kThreads, static_cast<size_t>(t.smem_bytes),
           static_cast<cudaStream_t>(a.stream)>>>(p, static_cast<const T*>(a.x), static_cast<const T*>(a.w),
                                                  static_cast<const T*>(a.bias), static_cast<T*>(a.y));
  cuda_check_launch("streaming_gemm_kernel launch");
}

template <int kStages>
void launch_stages(const Plan& plan, const ForwardArgs& args) {
  switch (plan.dtype) {
    case CONVT1D_FLOAT32:
      if (plan.math == CONVT1D_MATH_IEEE)
        launch_typed<kStages, Math::IEEE>(plan, args);
      else
        launch_typed<kStages, Math::TF32>(plan, args);
      break;
    case CONVT1D_FLOAT16: launch_typed<kStages, Math::F16>(plan, args); break;
    case CONVT1D_BFLOAT16: launch_typed<kStages, Math::BF16>(plan, args); break;
    default: fail(CONVT1D_INTERNAL_ERROR, "convt1d: streaming_gemm planned for an unsupported dtype");
  }
}

}  // namespace

void launch_streaming_gemm(const Plan& plan, const ForwardArgs& args) {
  if (plan.gemm.stages == kMaxStages)
    launch_stages<kMaxStages>(plan, args);
  else
    launch_stages<2>(plan, args);
}

}  // namespace convt1d::detail
