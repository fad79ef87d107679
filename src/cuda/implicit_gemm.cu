// Tensor-core polyphase implicit GEMM (mma.sync), output-stationary, persistent, warp-specialised.
//
// Tile: 64 output channels x (q_tile positions of every stride phase) = q_tile*stride consecutive
// outputs of one (group, batch) row block. Output u = t + padding = q*stride + r takes, for each tap k
// of phase r (host plan: first tap, step, shift), W[ci, co, k] * x[ci, q - shift]; a warp work item
// is one phase x 32 positions x 64 channels: 4x4 MMA tiles, 64 fp32 accumulators per thread, which
// start from the bias. The reduction over C_in/groups runs in `chunks` steps of ci_chunk channels.
//
// Shared memory (sizes from plan_implicit_gemm):
//   w_s [K][k-steps][4][32][4]  resident weights (chunks == 1): 32-bit words in MMA fragment order,
//                               fp32 pre-rounded to tf32 (TF32) or raw (IEEE, split at fragment load),
//                               16-bit as ci pairs; one conflict-free LDS.128 per fragment.
//   stage [stages]:             x window [ci_chunk][x_cols] (columns map to l = l_base + c, l_base =
//                               q0 - max_shift rounded down to 16 bytes), then, when the weights
//                               stream (chunks > 1), the chunk's weights: in fragment order when
//                               pre-packed (pack_weights_kernel, once per call), else raw rows
//                               [ci_chunk][w_pitch] as in global memory, converted at fragment load.
//   y_s [64][y_pitch]           output staging in the output type, rows shifted to the global rows'
//                               16-byte alignment, so stores are long LDS.128 -> STG.128 row pieces.
//
// Pipeline, per block over its contiguous range of (tile, chunk) steps:
//   8 compute warps: wait for stage i, run their item's MMAs over the chunk, release the stage; after
//                    a tile's last chunk, write the accumulators to y_s once it has been drained.
//   4 memory warps:  keep `stages` steps in flight (16-byte cp.async, zero-filled at the edges),
//                    refilling a stage as soon as it is released, and write each staged tile out
//                    while the compute warps run the next one.
// Split-K (few tiles, streamed weights): a tile's chunks are shared among `splits` work units on
// different blocks; each adds its partial tile with fp32 atomics into zeroed fp32 memory (y itself for
// fp32 outputs, a workspace rounded into y afterwards for 16-bit ones); only the first adds the bias.
// Hand-offs: named barriers per pipeline stage (bar.arrive by the producer, bar.sync by the consumer)
// and two mbarriers for the staging buffer, so neither side waits for the other except on data.
#include <algorithm>
#include <optional>
#include <type_traits>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/opt_in_smem.cuh"
#include "cuda/stream_buffer.cuh"
#include "cuda/gemm_epilogue.cuh"
#include "cuda/gemm_loads.cuh"
#include "cuda/gemm_mma.cuh"

namespace convt1d::detail {

namespace {

using namespace gemm;

constexpr int kComputeWarps = kGemmWarps;
constexpr int kMemoryWarps = 4;
constexpr int kComputeThreads = kComputeWarps * 32;
constexpr int kMemoryThreads = kMemoryWarps * 32;
constexpr int kThreads = kComputeThreads + kMemoryThreads;
constexpr int kMaxStages = 3;

// Named barrier ids (0 is __syncthreads; the staging buffer's hand-offs are mbarriers, see the kernel).
constexpr int kBarStageFull = 1;                            // + stage
constexpr int kBarStageFree = kBarStageFull + kMaxStages;   // + stage
constexpr int kBarCompute = kBarStageFree + kMaxStages;     // compute warps only

// Where the MMAs' weights come from: resident in w_s (one chunk), or streamed per chunk through the
// stages as raw rows or as chunks pre-packed in fragment order by pack_weights_kernel.
enum class WSource { Resident, Raw, Packed };

// TOut is the output type: T, or float when 16-bit split-K units accumulate into an fp32 workspace.
template <int kStages, Math M, WSource kW, class TOut>
__global__ void __launch_bounds__(kThreads, 1)
    implicit_gemm_kernel(const __grid_constant__ GemmParams p, const typename Traits<M>::T* __restrict__ x,
                         const typename Traits<M>::T* __restrict__ w, const uint32_t* __restrict__ packed,
                         const typename Traits<M>::T* __restrict__ bias, TOut* __restrict__ y) {
  using T = typename Traits<M>::T;
  constexpr bool kStreamW = kW != WSource::Resident;
  extern __shared__ __align__(16) unsigned char smem[];
  uint32_t* w_s = reinterpret_cast<uint32_t*>(smem);
  const size_t resident_bytes = kStreamW ? 0 : size_t(p.kernel_size) * p.w_rows * kGemmBlockCo * 4;
  T* stages = reinterpret_cast<T*>(smem + resident_bytes);
  const int x_elems = p.ci_chunk * p.x_cols;
  const int w_elems = kW == WSource::Raw      ? p.ci_chunk * p.w_pitch
                      : kW == WSource::Packed ? fragment_words(p) * 4 / int(sizeof(T))
                                              : 0;
  const int stage_elems = x_elems + w_elems;
  TOut* y_s = reinterpret_cast<TOut*>(stages + kStages * stage_elems);
  // The staging buffer's hand-offs are mbarriers (arrive releases, a completed wait acquires):
  // "drained" (memory warps arrive after reading y_s out; compute warps wait before writing it) and
  // "full" (the reverse). Phase k of each completes once per staged tile.
  uint64_t* staging_free = reinterpret_cast<uint64_t*>(
      (reinterpret_cast<uintptr_t>(y_s + kGemmBlockCo * p.y_pitch) + alignof(uint64_t) - 1) & ~uintptr_t(alignof(uint64_t) - 1));
  uint64_t* staging_full = staging_free + 1;
  if (threadIdx.x == 0) {
    ptx::mbar_init(staging_free, kMemoryThreads);
    ptx::mbar_init(staging_full, kComputeThreads);
  }

  const int64_t units = p.tiles * p.splits;
  const int64_t unit_begin = blockIdx.x * units / gridDim.x, unit_end = (blockIdx.x + 1) * units / gridDim.x;
  if (unit_end <= unit_begin) return;
  const int64_t n = steps_of_units(p, unit_begin, unit_end);  // pipeline steps: (tile, chunk)
  const int warp = threadIdx.x >> 5;
  const StepCursor first = StepCursor::at(p, unit_begin);
  // Split-K units add their partial sums into y (zeroed by the launcher) instead of storing.
  auto store = [&](const TileCoord& c, int mwarp) {
    if constexpr (kStreamW && std::is_same_v<TOut, float>) {
      if (p.splits > 1) return store_tile<TOut, true>(p, y_s, y, c, mwarp, kMemoryWarps);
    }
    store_tile<TOut, false>(p, y_s, y, c, mwarp, kMemoryWarps);
  };

  if constexpr (!kStreamW) load_w<M>(p, w, w_s, first.c, 0, threadIdx.x, kThreads);
  __syncthreads();

  if (warp >= kComputeWarps) {
    // ---- memory warps ----
    const int mwarp = warp - kComputeWarps;
    StepCursor load = first;  // the next step to issue
    auto issue = [&](int64_t i) {
      T* st = stages + (i % kStages) * stage_elems;
      issue_x(p, x, st, load.c, load.chunk, mwarp, kMemoryWarps);
      if constexpr (kW == WSource::Raw) issue_w_raw(p, w, st + x_elems, load.c, load.chunk, mwarp, kMemoryWarps);
      if constexpr (kW == WSource::Packed)
        issue_w_packed(p, packed, reinterpret_cast<uint32_t*>(st + x_elems), load.c, load.chunk,
                       threadIdx.x - kComputeThreads, kMemoryThreads);
      load.advance(p);
    };
    for (int j = 0; j < kStages; ++j) {
      if (j < n) issue(j);
      ptx::cp_async_commit();
    }
    ptx::mbar_arrive(staging_free);  // the staging buffer starts empty (phase 0)
    StepCursor done = first, cur = first;  // steps i-1 and i
    uint32_t full_phase = 0;                 // parity of the next staging_full phase
    auto wait_staging_full = [&]() {
      ptx::mbar_wait(staging_full, full_phase);
      full_phase ^= 1;
    };
    for (int64_t i = 0; i < n; ++i) {
      if (i > 0) {
        done = cur;
        const bool new_w = cur.advance(p);
        if (!kStreamW && new_w) __syncthreads();  // matches the compute warps' weight reload
      }
      ptx::cp_async_wait<kStages - 2>();
      ptx::bar_arrive(kBarStageFull + i % kStages, kThreads);
      if (i > 0) {
        // Refill the stage step i-1 used before writing anything out, so the load's latency hides
        // behind the stores.
        if (i - 1 + kStages < n) {
          ptx::bar_sync(kBarStageFree + (i - 1) % kStages, kThreads);
          issue(i - 1 + kStages);
        }
        ptx::cp_async_commit();
        if (done.unit_last()) {  // step i-1 finished a work unit
          wait_staging_full();
          store(done.c, mwarp);
          ptx::mbar_arrive(staging_free);
        }
      }
    }
    wait_staging_full();
    store(cur.c, mwarp);
    return;
  }

  // ---- compute warps ----
  constexpr int kVec = kVecBytes / sizeof(T);
  BiasRegs bias_r = load_bias(p, bias, first.c);
  Acc acc;
  uint32_t free_phase = 0;  // parity of the next staging_free phase to wait for
  auto wait_staging_free = [&]() {
    ptx::mbar_wait(staging_free, free_phase);
    free_phase ^= 1;
  };
  StepCursor cur = first;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0 && cur.advance(p)) {
      if constexpr (!kStreamW) {
        __syncthreads();
        load_w<M>(p, w, w_s, cur.c, 0, threadIdx.x, kComputeThreads);
        ptx::bar_sync(kBarCompute, kComputeThreads);
      }
      bias_r = load_bias(p, bias, cur.c);
    }
    const TileCoord& c = cur.c;
    const int chunk = cur.chunk;
    const int stage = static_cast<int>(i % kStages);
    ptx::bar_sync(kBarStageFull + stage, kThreads);
    const T* xs = stages + stage * stage_elems;
    const int col_base = static_cast<int>(c.q0 - window_base<kVec>(p, c.q0));
    const int k_steps = (min(p.ci_chunk, p.in_per_group - chunk * p.ci_chunk) + Traits<M>::kStep - 1) / Traits<M>::kStep;
    if constexpr (kStreamW) {
      // One item per warp (the plan keeps items <= warps); its accumulators live across the chunks.
      const int r = p.q_chunks.div(warp), q_first = (warp - r * p.q_chunks.value) * kGemmWarpPositions;
      if (warp < p.items) {
        if (cur.unit_first(p)) init_acc(acc, cur.split == 0 ? bias_r : BiasRegs{});  // bias once per tile
        if constexpr (kW == WSource::Raw)
          compute_item<M, true>(p, w_s, xs + x_elems, xs, r, col_base + q_first, k_steps, acc);
        else
          compute_item<M, false>(p, reinterpret_cast<const uint32_t*>(xs + x_elems), xs, xs, r, col_base + q_first,
                                 k_steps, acc);
      }
      if (i + kStages < n) ptx::bar_arrive(kBarStageFree + stage, kThreads);
      if (cur.unit_last()) {
        wait_staging_free();
        if (warp < p.items) stage_item(p, y_s, r, q_first, acc, stage_align<TOut>(p, c, y));
        ptx::mbar_arrive(staging_full);
      }
    } else {
      const StageAlign<TOut> al = stage_align<TOut>(p, c, y);
      bool staging_ours = false;
      for (int item = warp; item < p.items; item += kComputeWarps) {
        const int r = p.q_chunks.div(item), q_first = (item - r * p.q_chunks.value) * kGemmWarpPositions;
        init_acc(acc, bias_r);
        compute_item<M, false>(p, w_s, xs, xs, r, col_base + q_first, k_steps, acc);
        if (!staging_ours) {
          wait_staging_free();
          staging_ours = true;
        }
        stage_item(p, y_s, r, q_first, acc, al);
      }
      if (i + kStages < n) ptx::bar_arrive(kBarStageFree + stage, kThreads);
      if (!staging_ours) wait_staging_free();
      ptx::mbar_arrive(staging_full);
    }
  }
}

// Streamed weights in fragment order, once per call: (group, channel tile, chunk) after another,
// each chunk laid out as the resident w_s (weight_fragment), so the main loop loads them by cp.async
// and reads each fragment with one LDS.128.
template <Math M>
__global__ void pack_weights_kernel(const __grid_constant__ GemmParams p, const typename Traits<M>::T* __restrict__ w,
                                    uint4* __restrict__ packed) {
  const int slots = fragment_words(p) / 4;
  const int64_t groups = p.in_channels / p.in_per_group;
  const int64_t total = groups * p.co_tiles * p.chunks * slots;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i / slots;
    const int chunk = static_cast<int>(rest % p.chunks);
    rest /= p.chunks;
    const int cot = static_cast<int>(rest % p.co_tiles);
    packed[i] = weight_fragment<M>(p, w, static_cast<int>(rest / p.co_tiles), cot * 64, chunk, static_cast<int>(i % slots));
  }
}

// 16-bit split-K: the fp32 workspace's sums, rounded once into y.
template <class T>
__global__ void finish_split_kernel(const float* __restrict__ sums, T* __restrict__ y, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = from_float<T>(sums[i]);
}

template <int kStages, Math M, WSource kW, class TOut>
void launch_kernel(const Plan& plan, const ForwardArgs& a, const uint32_t* packed, TOut* y) {
  const GemmParams p = make_params(plan);
  const GemmTiling& t = plan.gemm;
  constexpr auto kernel = implicit_gemm_kernel<kStages, M, kW, TOut>;
  opt_in_smem<kernel>(t.smem_bytes, a.device, "cudaFuncSetAttribute(implicit_gemm_kernel)");
  using T = typename Traits<M>::T;
  kernel<<<static_cast<unsigned>(t.grid), kThreads, static_cast<size_t>(t.smem_bytes),
           static_cast<cudaStream_t>(a.stream)>>>(p, static_cast<const T*>(a.x), static_cast<const T*>(a.w), packed,
                                                  static_cast<const T*>(a.bias), y);
  cuda_check_launch("implicit_gemm_kernel launch");
}

template <int kStages, Math M, WSource kW>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  using T = typename Traits<M>::T;
  const GemmTiling& t = plan.gemm;
  const Shape& s = plan.shape;
  const int64_t count = s.batch * s.out_channels * s.out_length;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  constexpr int kSideThreads = 256;  // threads per block of the small pack and finish kernels
  // Stream-ordered workspaces (pool-cached, so no device allocation per call after the first, and
  // capturable in CUDA graphs): the packed weights, and the fp32 sums of 16-bit split-K.
  std::optional<StreamBuffer> packed;
  if constexpr (kW == WSource::Packed) {
    packed.emplace(static_cast<size_t>(t.packed_bytes), stream, "packed weights");
    const int64_t blocks = std::min<int64_t>((t.packed_bytes / 16 + kSideThreads - 1) / kSideThreads, 65535);
    pack_weights_kernel<M><<<static_cast<unsigned>(blocks), kSideThreads, 0, stream>>>(
        make_params(plan), static_cast<const T*>(a.w), packed->as<uint4>());
    cuda_check_launch("pack_weights_kernel launch");
  }
  const uint32_t* packed_words = packed ? packed->as<const uint32_t>() : nullptr;
  if (t.splits == 1) {
    launch_kernel<kStages, M, kW, T>(plan, a, packed_words, static_cast<T*>(a.y));
  } else if constexpr (kW == WSource::Resident) {
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: split-K planned with resident weights");
  } else if constexpr (std::is_same_v<T, float>) {  // split-K units accumulate into zeroed y
    cuda_check(cudaMemsetAsync(a.y, 0, static_cast<size_t>(count) * sizeof(float), stream), "cudaMemsetAsync(y)");
    launch_kernel<kStages, M, kW, float>(plan, a, packed_words, static_cast<float*>(a.y));
  } else {  // ... or into zeroed fp32 sums, rounded once into y
    StreamBuffer sums(static_cast<size_t>(count) * sizeof(float), stream, "split-K workspace");
    cuda_check(cudaMemsetAsync(sums.as<float>(), 0, static_cast<size_t>(count) * sizeof(float), stream),
               "cudaMemsetAsync(workspace)");
    launch_kernel<kStages, M, kW, float>(plan, a, packed_words, sums.as<float>());
    const int64_t blocks = std::min<int64_t>((count + kSideThreads - 1) / kSideThreads, 65535);
    finish_split_kernel<T><<<static_cast<unsigned>(blocks), kSideThreads, 0, stream>>>(sums.as<const float>(),
                                                                                      static_cast<T*>(a.y), count);
    cuda_check_launch("finish_split_kernel launch");
    sums.release();
  }
  if (packed) packed->release();
}

template <Math M, WSource kW>
void launch_stages(const Plan& plan, const ForwardArgs& args) {
  if (plan.gemm.stages == kMaxStages)
    launch_typed<kMaxStages, M, kW>(plan, args);
  else
    launch_typed<2, M, kW>(plan, args);
}

template <Math M>
void launch_math(const Plan& plan, const ForwardArgs& args) {
  if (!plan.gemm.stream_w)
    launch_stages<M, WSource::Resident>(plan, args);
  else if (plan.gemm.pack_w)
    launch_stages<M, WSource::Packed>(plan, args);
  else
    launch_stages<M, WSource::Raw>(plan, args);
}

}  // namespace

void launch_implicit_gemm(const Plan& plan, const ForwardArgs& args) {
  switch (plan.dtype) {
    case CONVT1D_FLOAT32:
      if (plan.math == CONVT1D_MATH_IEEE)
        launch_math<Math::IEEE>(plan, args);
      else
        launch_math<Math::TF32>(plan, args);
      break;
    case CONVT1D_FLOAT16: launch_math<Math::F16>(plan, args); break;
    case CONVT1D_BFLOAT16: launch_math<Math::BF16>(plan, args); break;
    default: fail(CONVT1D_INTERNAL_ERROR, "convt1d: implicit_gemm planned for an unsupported dtype");
  }
}

}  // namespace convt1d::detail
