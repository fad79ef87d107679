// Tap-major GEMM on Hopper tensor cores (wgmma fed by TMA), fp16/bf16 and (T = float) TF32, groups 1.
//
// Tile: C*co_per_half output channels x N Z-columns (`segments` windows of `window` input positions;
// see WgmmaTiling in plan.hpp), C = 2 consumer warpgroups, or 3 in wide tiles. The GEMM is
// Z[m, n] = sum_ci W[ci, m] x[ci, n] with m = co*K + k: W in its own layout viewed as [C_in][C_out*K]
// and x as [B][C_in][L_in] are both "MN-major" operands, which wgmma reads with its transpose flags, so
// TMA copies them unchanged. Consumer warpgroup h (0 .. C-1) computes the 64 rows m from
// (co0 + h*co_per_half)*K (rows past its channels are computed and ignored). Epilogue, the shift-add
// (shift_add, wgmma_common.cuh): each output sums its taps' rows of Z;
// stride-8 layers of kernel_size 16 sum theirs from the accumulators instead (WgmmaTiling::register_epilogue,
// register_shift_add.cuh), with no Z and no block barrier, as do TF32 persistent tiles at strides 4, 2 and
// 1 on W^T rows regrouped by the packing (WgmmaTiling::tap_pairs).
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   stage[stages]: A[C][64 ci][64 m]      128B swizzle, one TMA box per consumer warpgroup
//                  B[N/n_atom][64 ci][n_atom]   64B (n_atom 32) or 128B (64) swizzle, a box per atom
//   full[stages], empty[stages]            mbarriers
//   Z[C][64][z_pitch] fp32                  epilogue staging, over the stage buffers once they are spent
//                                           (persistent: after the tile's bias)
// Tiles of N <= kWgmmaMaxSharedN columns run two blocks per SM (one's epilogue behind the other's MMAs).
// Persistent tilings (WgmmaTiling::persistent: 16-bit, and TF32 without Z) put Z after the stages
// instead (or keep none, with the register epilogue), and one block per SM walks many tiles: the
// producer fills the next tile's stages during this one's shift-add.
// x rows that are not 16-byte multiples are read from a padded copy (launch_wgmma).
//
// TF32 (T = float, WgmmaTiling::tf32_columns): wgmma reads tf32 operands K-major only, so both come
// packed by launch_wgmma_tf32: A = W^T [C_out*K][ci_pitch] (a box of 32 channels x 64 rows per
// warpgroup) and B = x^T [B][L][ci_pitch] (a box of 32 channels x `window` positions per segment),
// both 128B-swizzled rows of 32 channels: a stage is one 32-channel chunk, 4 wgmma k8 steps. Same byte
// counts per stage as in 16-bit, same accumulators, Z and shift-add. IEEE (3xTF32): a chunk's three
// passes are three stages reading other packed columns (packed_columns, wgmma_common.cuh).
//
// Pipeline: warpgroup 0 is the producer: one thread arms stage s's "full" barrier with its byte count
// and issues its TMA boxes, after waiting on "empty" before a refill. Warpgroups 1-C wait on "full",
// issue 4 wgmma k16 steps over the stage, commit, and release the previous stage once its group has
// retired (wait_group 1), so one stage of MMAs is always in flight behind the loads. Then they write
// their accumulators to Z, and all three warpgroups run the shift-add (one tile per block). Persistent:
// the consumers release the tile's last stage, stage the bias, write Z and run the shift-add between
// named barriers, while the producer runs ahead into the next tile's stages.
// Wide tiles (C = 3, 512 threads): the producer warpgroup hands registers to the consumers
// (setmaxnreg, kWideProducerRegisters), so the one-tile kernel's shift-add runs on the consumers only,
// as the persistent kernel's does.

#include <type_traits>

#include "cuda/dependent_launch.cuh"
#include "cuda/hopper.cuh"
#include "cuda/register_shift_add.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"

namespace convt1d::detail {

namespace {

using namespace wgmma;

constexpr int kMmaK = 16;                    // reduction rows per wgmma (16-bit inputs)
constexpr int kKSteps = kWgmmaChunk / kMmaK;  // wgmma steps per stage (TF32: kWgmmaTf32Chunk / 8, also 4)
constexpr int kCoreRows = 8;                 // reduction rows of a core matrix (descriptor SBO unit)
constexpr uint32_t kARowBytes = kWgmmaRows * 2;  // one reduction row of a warpgroup's weight box
constexpr uint32_t kABoxBytes = kARowBytes * kWgmmaChunk;  // (TF32: 64 rows of 32 channels, the same)
constexpr uint32_t kTf32RowBytes = kWgmmaTf32Chunk * 4;    // TF32: one K-major row of A or B
constexpr int kTf32K = 8;                                  // TF32: reduction per wgmma
static_assert(kWgmmaTf32Chunk / kTf32K == kKSteps && kWgmmaRows * kTf32RowBytes == kABoxBytes);

// The persistent kernel's epilogue: the two consumer warpgroups, synchronised by a named barrier (0
// is __syncthreads). (All 11 warps but the TMA one, as one group of lanes, were 1.5x slower: each
// thread's loop over a channel's outputs got too short for its set-up, perf-log step 72.)
constexpr int kEpilogueBarrier = 1;

// Wide tiles' registers per thread: the producer's few (one thread issues TMA, the others idle) and
// what that leaves each consumer of the 64 K registers of an SM (N 256: 128 accumulators). ptxas
// compiles a wgmma instruction within the launch's even share (128 at 512 threads) whatever setmaxnreg
// grants around it, so wide consumers issue N as wgmmas of at most kWideMaxMmaN columns (m64n256 needs
// 154 registers).
constexpr int kWideProducerRegisters = 32;
constexpr int kWideConsumerRegisters = 160;
constexpr int kWideMaxMmaN = 128;
static_assert(kWarpgroupThreads * (kWideProducerRegisters + kWgmmaWideConsumers * kWideConsumerRegisters) <= 65536);

template <class T>
constexpr bool kTf32 = std::is_same_v<T, float>;

// A tile's epilogue on the C consumer warpgroups alone (the persistent kernel's, and the wide one-tile
// kernel's): the register shift-add where the plan chose it, else the shift-add over Z between named
// barriers, the first waiting for every consumer's last wgmma (Z overlays the stages, or the previous
// tile's Z), the second for Z and the bias.
template <int N, int C, bool PERSISTENT, class T>
__device__ __forceinline__ void consumers_epilogue(const float* acc, float* z, float* bias_s, const WgmmaParams& p,
                                                   const TileOrigin& o, int h, const T* __restrict__ bias,
                                                   T* __restrict__ y) {
  if (p.register_epilogue) return register_shift_add<N, PERSISTENT>(acc, p, o.b0, o.j, o.start, o.co0, h, bias, y);
  constexpr int kEpilogueThreads = C * kWarpgroupThreads;
  __syncwarp();  // (bar.sync is warp-aligned: reconverge after the shift-add's early exits)
  ptx::bar_sync(kEpilogueBarrier, kEpilogueThreads);
  if (bias != nullptr) copy_bias(p, o.co0, bias, bias_s, threadIdx.x - kProducerThreads, kEpilogueThreads);
  accumulators_to_z<N>(acc, z, h, p.z_pitch);
  ptx::bar_sync(kEpilogueBarrier, kEpilogueThreads);  // Z and the bias written
  shift_add(p, z, o.b0, o.j, o.start, o.co0, bias != nullptr ? bias_s : nullptr, y,
            epilogue_threads(p, threadIdx.x - kProducerThreads));
}

// N columns of Z as wgmma widths 256/128/64/32 (and 16 in TF32), widest first (so that every piece
// starts on a whole swizzle atom), none wider than kMaxW. A column of B is 128 bytes of smem in every
// layout (64 channels x 2 bytes MN-major, or a K-major row of 32 tf32), hence the descriptor offset
// C0 * 128 bytes (C0 * 8 in 16-byte units).
template <class T, int N, int kMaxW, int C0 = 0>
__device__ __forceinline__ void mma_columns(float* acc, uint64_t a, uint64_t b) {
  if constexpr (C0 < N) {
    constexpr int kRest = N - C0;
    constexpr int kFit = kRest >= 256 ? 256 : kRest >= 128 ? 128 : kRest >= 64 ? 64 : kRest >= 32 ? 32 : 16;
    constexpr int kW = kFit < kMaxW ? kFit : kMaxW;
    if constexpr (kTf32<T>)
      wgmma::MmaTf32Smem<kW>::run(acc + C0 / 2, a, b + uint64_t(C0) * 8);
    else
      wgmma::Mma<kW, T>::run(acc + C0 / 2, a, b + uint64_t(C0) * 8);
    mma_columns<T, N, kMaxW, C0 + kW>(acc, a, b);
  }
}

// Tiles up to kWgmmaMaxSharedN columns are compiled for two blocks per SM (<= 85 registers), except
// with SEGMENTS (IEEE, WgmmaTiling::segment_sums): after every segment_chunks chunks (their three passes
// each) the accumulators are folded into `total` and start a fresh chain. PERSISTENT
// (WgmmaTiling::persistent): the block walks tiles blockIdx.x, + gridDim.x, ...; the pipeline steps
// count over all of them, Z has its own buffer, and the consumers run each shift-add between named barriers
// while the producer fills the next tile's stages.
template <class T, int N, bool SEGMENTS, bool PERSISTENT, int C = 2>
__global__ void __launch_bounds__(kWarpgroupThreads * (1 + C),
                                  N <= kWgmmaMaxSharedN && !SEGMENTS && !PERSISTENT && C == 2 ? 2 : 1)
    wgmma_gemm_kernel(const __grid_constant__ CUtensorMap w_map, const __grid_constant__ CUtensorMap x_map,
                      const __grid_constant__ WgmmaParams p, const T* __restrict__ bias, T* __restrict__ y) {
#ifdef CONVT1D_SM90A_DEVICE
  extern __shared__ unsigned char smem_raw[];
  const uint32_t b_bytes = uint32_t(kWgmmaChunk) * N * 2;
  const uint32_t stage_bytes = C * kABoxBytes + b_bytes;
  constexpr int kMmaMaxN = C > 2 ? kWideMaxMmaN : kWgmmaMaxN;
  // (TF32: W^T and x^T are packed by the kernel before)
  const StageRing ring = open_stage_ring(smem_raw, p.stages, stage_bytes, C * kWarpgroupThreads / 32);
  unsigned char* const smem = ring.smem;  // (named, not bound: the consumers' lambda captures them)
  uint64_t* const full = ring.full;
  uint64_t* const empty = ring.empty;
  float* const z = PERSISTENT ? ring.bias + kWgmmaMaxTileChannels : reinterpret_cast<float*>(smem);
  const int tid = threadIdx.x;
  const int wg = tid / kWarpgroupThreads;
  const int32_t tile_channels = C * p.co_per_half;
  // The block's first tile; without PERSISTENT its only one, and the tile loops below (do ... while
  // (next_tile(tile))) run once, with no loop-carried state.
  const TileOrigin first = tile_origin(p, blockIdx.x, tile_channels);
  // (the persistent and wide kernels stage each tile's bias in its epilogue)
  const float* bias_s = PERSISTENT || C > 2 ? nullptr : stage_bias(p, first.co0, bias, ring.bias);
  const auto next_tile = [&](int64_t& tile) { return PERSISTENT && (tile += gridDim.x) < p.tiles; };

  float acc[N / 2];  // the consumers' accumulators (64 rows x N columns per warpgroup)
  float total[SEGMENTS ? N / 2 : 1];
  if (wg == 0) {  // producer
    if constexpr (C > 2) hopper::release_registers<kWideProducerRegisters>();
    if (tid == 0) {
      const int atoms_per_window = p.window / p.n_atom;
      const int atoms = N / p.n_atom;
      const uint32_t atom_bytes = uint32_t(kWgmmaChunk) * p.n_atom * 2;
      StageCursor step;  // over the block's tiles
      int64_t tile = blockIdx.x;
      do {
        const TileOrigin o = PERSISTENT ? tile_origin(p, static_cast<int32_t>(tile), tile_channels) : first;
        for (int kc = 0; kc < p.k_chunks; ++kc, step.next(p.stages)) {
          const int s = step.stage;
          if (step.wraps > 0) ptx::mbar_wait(&empty[s], (step.wraps - 1) & 1);
          hopper::mbar_arrive_expect_tx(&full[s], stage_bytes);
          unsigned char* a_s = smem + size_t(s) * stage_bytes;
          unsigned char* b_s = a_s + C * kABoxBytes;
          if constexpr (kTf32<T>) {  // packed W^T rows and x^T positions, 32 channels each
            const PackedColumns col = packed_columns<!SEGMENTS>(p, kc);
            for (int h = 0; h < C; ++h)
              hopper::tma_load_2d(a_s + h * kABoxBytes, &w_map, col.w, (o.co0 + h * p.co_per_half) * p.kernel_size,
                                  &full[s]);
            for (int sg = 0; sg < p.segments.value; ++sg)
              hopper::tma_load_3d(b_s + sg * p.window * kTf32RowBytes, &x_map, col.x, o.start, o.b0 + sg, &full[s]);
          } else {
            const int32_t ci = kc * kWgmmaChunk;
            for (int h = 0; h < C; ++h)
              hopper::tma_load_2d(a_s + h * kABoxBytes, &w_map, (o.co0 + h * p.co_per_half) * p.kernel_size, ci,
                                  &full[s]);
            for_each_atom(atoms, atoms_per_window, [&](int a, int in_window, int sg) {
              hopper::tma_load_3d(b_s + a * atom_bytes, &x_map, o.start + in_window * p.n_atom, ci, o.b0 + sg,
                                  &full[s]);
            });
          }
        }
      } while (next_tile(tile));
    }
    __syncwarp();
  } else {  // consumers: the main loop
    if constexpr (C > 2) hopper::claim_registers<kWideConsumerRegisters>();
    const int h = wg - 1;
    const hopper::Swizzle b_swizzle = p.n_atom == 64 ? hopper::Swizzle::B128 : hopper::Swizzle::B64;
    const uint32_t b_row = uint32_t(p.n_atom) * 2;  // bytes per reduction row of one B atom
    StageCursor next;  // the block's next pipeline step, over its tiles
    // One pipeline step: chunk kc of this tile (IEEE: pass kc % 3 of chunk kc / 3) into acc.
    auto step = [&](int kc) {
      const int s = next.stage;
      ptx::mbar_wait(&full[s], next.wraps & 1);
      const uint32_t a_addr = hopper::smem_addr(smem + size_t(s) * stage_bytes + h * kABoxBytes);
      const uint32_t b_addr = hopper::smem_addr(smem + size_t(s) * stage_bytes + C * kABoxBytes);
      fence_accumulators<N, SEGMENTS>(acc, total);
      hopper::wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < kKSteps; ++kk) {
        if constexpr (kTf32<T>) {  // K-major: step k8 is 32 bytes along every 128-byte row
          const uint64_t a = hopper::matrix_desc(a_addr + kk * kTf32K * 4, 16, kCoreRows * kTf32RowBytes,
                                                 hopper::Swizzle::B128);
          const uint64_t b = hopper::matrix_desc(b_addr + kk * kTf32K * 4, 16, kCoreRows * kTf32RowBytes,
                                                 hopper::Swizzle::B128);
          mma_columns<T, N, kMmaMaxN>(acc, a, b);
        } else {
          const uint64_t a = hopper::matrix_desc(a_addr + kk * kMmaK * kARowBytes, kABoxBytes, kCoreRows * kARowBytes,
                                                 hopper::Swizzle::B128);
          const uint64_t b =
              hopper::matrix_desc(b_addr + kk * kMmaK * b_row, kWgmmaChunk * b_row, kCoreRows * b_row, b_swizzle);
          mma_columns<T, N, kMmaMaxN>(acc, a, b);
        }
      }
      hopper::wgmma_commit();
      hopper::wgmma_wait<1>();
      fence_accumulators<N, SEGMENTS>(acc, total);
      if (kc > 0 && tid % 32 == 0) ptx::mbar_arrive(&empty[next.previous(p.stages)]);
      __syncwarp();
      next.next(p.stages);
    };
    int64_t tile = blockIdx.x;
    do {
#pragma unroll
      for (int i = 0; i < N / 2; ++i) acc[i] = 0.0f;
#pragma unroll
      for (int i = 0; i < (SEGMENTS ? N / 2 : 1); ++i) total[i] = 0.0f;
      int segment_left = p.segment_chunks * kIeeePasses;  // steps to this segment's end (SEGMENTS)
      for (int kc = 0; kc < p.k_chunks; ++kc) {
        step(kc);
        if constexpr (SEGMENTS)
          if (--segment_left == 0 && kc + 1 < p.k_chunks) {
            fold_segment<N>(acc, total);
            segment_left = p.segment_chunks * kIeeePasses;
          }
      }
      retire_accumulators<N, SEGMENTS>(acc, total);
      if constexpr (PERSISTENT) {
        // The tile's last stage is free once its group has retired; Z and the bias once both
        // consumers are done with the previous tile's.
        if (tid % 32 == 0) ptx::mbar_arrive(&empty[next.previous(p.stages)]);
        consumers_epilogue<N, C, true>(acc, z, ring.bias, p, tile_origin(p, static_cast<int32_t>(tile), tile_channels),
                                       h, bias, y);
      }
    } while (next_tile(tile));
    if constexpr (!PERSISTENT && C > 2) consumers_epilogue<N, C, false>(acc, z, ring.bias, p, first, h, bias, y);
  }
  if constexpr (!PERSISTENT && C == 2)
    one_tile_epilogue<N>(acc, z, p, first.b0, first.j, first.start, first.co0, bias_s, bias, y);
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

template <class T, int N, bool SEGMENTS = false>
void launch_n(const Plan& plan, const ForwardArgs& a, const CUtensorMap& w_map, const CUtensorMap& x_map) {
  if constexpr (kTf32<T> && N <= kWgmmaSegmentSumsMaxN && !SEGMENTS) {
    if (plan.wgmma.segment_sums) return launch_n<T, N, true>(plan, a, w_map, x_map);
  }
  if (plan.wgmma.segment_sums != SEGMENTS)
    fail(CONVT1D_INTERNAL_ERROR,
         "convt1d: wgmma tile of " + std::to_string(N) + " columns planned with segment sums");
  // TF32 runs right after the packing kernel (W^T, x^T), 16-bit after pad_rows where x's rows are
  // padded: its set-up may overlap that kernel's tail (every grid: perf-log steps 90, 108).
  const bool dependent = kTf32<T> || TmaInput::padded(plan);
  if constexpr (!SEGMENTS && N >= kWgmmaWideMinN && N % kWgmmaWideColumnStep == 0) {
    if (plan.wgmma.consumers == kWgmmaWideConsumers) {
      if (plan.wgmma.persistent)
        return launch_tiles<wgmma_gemm_kernel<T, N, false, true, kWgmmaWideConsumers>, T>(
            plan, a, w_map, x_map, dependent, "cudaFuncSetAttribute(wgmma_gemm_kernel)", "wgmma_gemm_kernel launch");
      return launch_tiles<wgmma_gemm_kernel<T, N, false, false, kWgmmaWideConsumers>, T>(
          plan, a, w_map, x_map, dependent, "cudaFuncSetAttribute(wgmma_gemm_kernel)", "wgmma_gemm_kernel launch");
    }
  }
  if (plan.wgmma.consumers != 2)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma tile of " + std::to_string(plan.wgmma.consumers) +
                                     " consumer warpgroups and " + std::to_string(N) + " columns not compiled");
  constexpr bool kPersistentWidth = kTf32<T> ? N % kWgmmaTf32PersistentColumnStep == 0 && N >= kWgmmaTf32PersistentMinN
                                             : N % kWgmmaPersistentColumnStep == 0;
  if constexpr (!SEGMENTS && kPersistentWidth && N <= kWgmmaPersistentRegisterMaxN) {
    if (plan.wgmma.persistent)
      return launch_tiles<wgmma_gemm_kernel<T, N, false, true>, T>(
          plan, a, w_map, x_map, dependent, "cudaFuncSetAttribute(wgmma_gemm_kernel)", "wgmma_gemm_kernel launch");
  }
  if (plan.wgmma.persistent)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: persistent wgmma tile of " + std::to_string(N) + " columns not compiled");
  launch_tiles<wgmma_gemm_kernel<T, N, SEGMENTS, false>, T>(plan, a, w_map, x_map, dependent,
                                                            "cudaFuncSetAttribute(wgmma_gemm_kernel)",
                                                            "wgmma_gemm_kernel launch");
}

// Tile widths: multiples of 32 (the 16-bit swizzle atoms), of kWgmmaTf32ColumnStep in TF32.
template <class T, int N = kWgmmaMaxN>
void launch_width(const Plan& plan, const ForwardArgs& a, const CUtensorMap& w_map, const CUtensorMap& x_map) {
  constexpr int kStep = kTf32<T> ? kWgmmaTf32ColumnStep : 32;
  if constexpr (N >= kStep) {
    if (plan.wgmma.n() == N) return launch_n<T, N>(plan, a, w_map, x_map);
    return launch_width<T, N - kStep>(plan, a, w_map, x_map);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma tile width " + std::to_string(plan.wgmma.n()) + " is not a multiple of " +
                                   std::to_string(kStep));
}

}  // namespace

void wgmma::launch_wgmma_gemm_tf32(const Plan& plan, const ForwardArgs& a, const CUtensorMap& wt_map,
                                   const CUtensorMap& xt_map) {
  launch_width<float>(plan, a, wt_map, xt_map);
}

void launch_wgmma(const Plan& plan, const ForwardArgs& a) {
  if (plan.wgmma.tf32) return launch_wgmma_tf32(plan, a);
  const Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  if (t.joined_pitch > 0 && !t.register_epilogue)  // (the Z path's shift-add keeps rows apart)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma tiles over joined rows planned without the register epilogue");
  TmaInput x(plan, a, 2);
  const bool bf16 = plan.dtype == CONVT1D_BFLOAT16;
  const CUtensorMapDataType type = bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  const cuuint64_t m_total = static_cast<cuuint64_t>(s.out_channels * s.kernel_size);
  const CUtensorMap w_map = tensor_map<2>(type, a.w, {m_total, static_cast<cuuint64_t>(s.in_channels)}, {m_total * 2},
                                          {kWgmmaRows, kWgmmaChunk}, CU_TENSOR_MAP_SWIZZLE_128B, "weight");
  const auto [length, batch] = TmaInput::rows(plan);
  const cuuint64_t l = static_cast<cuuint64_t>(length);
  const cuuint64_t pitch = static_cast<cuuint64_t>(t.x_pitch);
  const cuuint64_t ci = static_cast<cuuint64_t>(s.in_channels);
  const CUtensorMap x_map =
      tensor_map<3>(type, x.get(), {l, ci, static_cast<cuuint64_t>(batch)}, {pitch * 2, pitch * ci * 2},
                    {static_cast<cuuint32_t>(t.n_atom), kWgmmaChunk, 1},
                    t.n_atom == 64 ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_64B, "x");
  if (bf16)
    launch_width<__nv_bfloat16>(plan, a, w_map, x_map);
  else
    launch_width<__half>(plan, a, w_map, x_map);
  x.finish();
}

}  // namespace convt1d::detail
