// The TF32 operand packing by TMA (tf32_pack_tma.cuh).
//
// Tile: 32 channels (one chunk) x kPositions positions of one batch row of one job (W as [1][C_in][C_out*K],
// x as [B][C_in][L]), packed into the job's output rows [B][L][ci_pitch] (IEEE: big parts at columns
// 64c, small parts at 64c + 32; else 32c). Block b takes tiles b, b + grid, ... of the walk over the
// jobs' row tiles (batch row, position tile), each row tile's chunks in turn: the blocks running at one
// time write whole output rows between them (a walk chunk by chunk was 1-5 % slower, perf-log step 152).
//
// Shared memory (base 1024-aligned: the 128B swizzle period):
//   in[kInStages]:  [kBoxes][32 channels][32 positions] fp32, 128B-swizzled TMA boxes (16 KB a stage)
//   out[buffers]:   [parts][kPositions positions][32 channels] fp32, 128B-swizzled (16 KB a part;
//                   kOutBytes in all: 6 buffers in TF32, 3 in IEEE)
//   full[kInStages], empty[kInStages], out_free[buffers] mbarriers
// Pipeline, three roles so that none waits on another's latency:
//   loader (warp 0, lane 0): TMA loads of tiles into the input ring (full: TMA bytes; empty: the
//     transposer warps).
//   transposers (warps 2-9): each lane one channel; per tile, 4 position quads per warp, each one LDS.128
//     (the 8 channel rows of a quarter warp hit 8 different 16-byte chunks) and 4 STS.32 into the
//     output buffer (a warp's 32 channels of one position: 32 banks), rounded to tf32 (and split in
//     IEEE); then a proxy fence and an arrive on the buffer's named barrier.
//   storer (warp 1): syncs on that barrier, lane 0 issues the buffer's TMA stores; once the stores of
//     the tile buffers - 1 back have read their buffer, it is free again (out_free). Their writes to
//     global memory are not awaited here: the grid's completion, which the dependent kernel's
//     wait_prior_grid() waits for, includes them.
#include "cuda/tf32_pack_tma.cuh"

#include <algorithm>
#include <limits>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/dependent_launch.cuh"
#include "cuda/hopper.cuh"
#include "cuda/opt_in_smem.cuh"
#include "cuda/ptx.cuh"
#include "cuda/wgmma_common.cuh"
#include "divisor.hpp"
#include "problem.hpp"
#include "tap_pairs.hpp"

namespace convt1d::detail {

namespace {

constexpr int kChannels = kTransposeChunkChannels;  // a chunk: one 128-byte row of packed output
constexpr int kBoxPositions = 32;         // input box: 32 positions (128 bytes, the swizzle width)
constexpr int kBoxes = 4;                 // input boxes per tile
constexpr int kPositions = kBoxes * kBoxPositions;
static_assert(kPositions % kTapPairRows == 0, "tiles of whole regrouped row groups");
constexpr int kTileBytes = kChannels * kPositions * 4;  // one input stage, one output part: 16 KB
constexpr int kInStages = 7;              // 112 KB of loads in flight (perf-log step 149: 128 KB ~ copy speed)
constexpr int kOutBytes = 6 * kTileBytes; // output buffers: 96 KB of stores in flight
constexpr int kTransposerWarps = 8;
constexpr int kTransposers = kTransposerWarps * 32;
constexpr int kThreads = 64 + kTransposers;  // the loader warp, the storer warp and the transposers
constexpr int kQuads = kPositions / 4;    // position quads per tile: 4 per transposer warp
constexpr int kFilledBarrier = 1;         // named barriers 1 .. buffers: "buffer b is written" (0 is __syncthreads)

struct PackJob {
  int32_t batch, length;           // rows and positions of the input
  Divisor<int32_t> l_tiles;        // position tiles per row
  int32_t row_tiles;               // batch * l_tiles
  int32_t pair_shift;              // tap_pair_shift: rows regrouped in the output (W^T), or -1
};
struct PackParams {
  PackJob job[kMaxTransposeJobs];
  int32_t count;                   // jobs
  Divisor<int32_t> chunks;         // channel chunks per row tile
  int32_t total;                   // tiles over all jobs
};

__device__ __forceinline__ void tma_store_3d(const CUtensorMap* map, const void* src, int32_t c0, int32_t c1,
                                             int32_t c2) {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.tile.bulk_group [%0, {%1, %2, %3}], [%4];\n" ::"l"(map),
               "r"(c0), "r"(c1), "r"(c2), "r"(ptx::smem_addr(src))
               : "memory");
#endif
}

// Until at most kPending of this thread's store groups are still reading shared memory.
template <int kPending>
__device__ __forceinline__ void stores_read() {
#ifdef CONVT1D_SM90A_DEVICE
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(kPending) : "memory");
#endif
}

// Tile i of the walk: its chunk, job, batch row and first position.
struct PackTile {
  int32_t chunk, job, b, l0;
};
__device__ __forceinline__ PackTile pack_tile_of(const PackParams& p, int32_t i) {
  PackTile t;
  int32_t r = p.chunks.div(i);  // the row tile over both jobs
  t.chunk = i - r * p.chunks.value;
  t.job = 0;
  if (p.count > 1 && r >= p.job[0].row_tiles) {
    r -= p.job[0].row_tiles;
    t.job = 1;
  }
  const PackJob& j = p.job[t.job];
  t.b = j.l_tiles.div(r);
  t.l0 = (r - t.b * j.l_tiles.value) * kPositions;
  return t;
}

// REGROUP: job 0's rows regrouped (PackJob::pair_shift), a template argument so that the other packings
// keep their transposer loop as it was (perf-log step 166).
template <bool SPLIT, bool REGROUP>
__global__ void __launch_bounds__(kThreads, 1)
    tf32_pack_tma_kernel(const __grid_constant__ CUtensorMap in0, const __grid_constant__ CUtensorMap in1,
                         const __grid_constant__ CUtensorMap out0, const __grid_constant__ CUtensorMap out1,
                         const __grid_constant__ PackParams p) {
#ifdef CONVT1D_SM90A_DEVICE
  constexpr int kParts = SPLIT ? 2 : 1;
  constexpr int kBuffers = kOutBytes / (kParts * kTileBytes);
  static_assert(kFilledBarrier + kBuffers <= 16, "named barriers");
  extern __shared__ unsigned char smem_raw[];
  unsigned char* const smem =
      smem_raw + ((wgmma::kSwizzlePeriod - (ptx::smem_addr(smem_raw) % wgmma::kSwizzlePeriod)) % wgmma::kSwizzlePeriod);
  unsigned char* const in = smem;
  unsigned char* const out = in + kInStages * kTileBytes;
  uint64_t* const full = reinterpret_cast<uint64_t*>(out + kOutBytes);
  uint64_t* const empty = full + kInStages;
  uint64_t* const out_free = empty + kInStages;
  if (threadIdx.x == 0) {
    for (int s = 0; s < kInStages; ++s) {
      ptx::mbar_init(&full[s], 1);
      ptx::mbar_init(&empty[s], kTransposerWarps);
    }
    for (int b = 0; b < kBuffers; ++b) ptx::mbar_init(&out_free[b], 1);
    hopper::fence_barrier_init();
  }
  __syncthreads();
  allow_dependent_launch();  // its set-up may overlap this kernel; it reads the output after wait_prior_grid()
  const int32_t total = p.total;
  const int32_t first = blockIdx.x, step = gridDim.x;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (warp == 0) {  // the loader
    if (lane == 0) {
      int k = 0;
      for (int32_t i = first; i < total; i += step, ++k) {
        const int s = k % kInStages;
        if (k >= kInStages) ptx::mbar_wait(&empty[s], (k / kInStages - 1) & 1);
        const PackTile t = pack_tile_of(p, i);
        hopper::mbar_arrive_expect_tx(&full[s], kTileBytes);
        for (int box = 0; box < kBoxes; ++box)
          hopper::tma_load_3d(in + s * kTileBytes + box * (kTileBytes / kBoxes), t.job ? &in1 : &in0,
                              t.l0 + box * kBoxPositions, t.chunk * kChannels, t.b, &full[s]);
      }
    }
    return;
  }
  if (warp == 1) {  // the storer
    int k = 0;
    for (int32_t i = first; i < total; i += step, ++k) {
      const int buffer = k % kBuffers;
      ptx::bar_sync(kFilledBarrier + buffer, kTransposers + 32);
      if (lane == 0) {
        const PackTile t = pack_tile_of(p, i);
        const CUtensorMap* map = t.job ? &out1 : &out0;
        for (int part = 0; part < kParts; ++part)
          tma_store_3d(map, out + buffer * kParts * kTileBytes + part * kTileBytes, (t.chunk * kParts + part) * kChannels,
                       t.l0, t.b);
        asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
        stores_read<kBuffers - 1>();  // the buffer of the tile kBuffers - 1 back is read
        if (k >= kBuffers - 1) ptx::mbar_arrive(&out_free[(k + 1) % kBuffers]);
      }
      __syncwarp();
    }
    if (lane == 0) stores_read<0>();  // (shared memory outlives every store's read of it)
    return;
  }
  const int channel = lane, twarp = warp - 2;
  int k = 0;
  for (int32_t i = first; i < total; i += step, ++k) {
    const int s = k % kInStages, buffer = k % kBuffers;
    unsigned char* const tile_out = out + buffer * kParts * kTileBytes;
    // (a tile's kPositions rows are whole groups of kTapPairRows: regrouped within the tile)
    const int pair_shift = REGROUP ? p.job[pack_tile_of(p, i).job].pair_shift : -1;
    ptx::mbar_wait(&full[s], (k / kInStages) & 1);
    if (k >= kBuffers) ptx::mbar_wait(&out_free[buffer], (k / kBuffers - 1) & 1);
    for (int n = 0; n < kQuads / kTransposerWarps; ++n) {
      const int quad = n * kTransposerWarps + twarp;  // positions 4 quad .. 4 quad + 3
      const int box = quad / (kBoxPositions / 4), in_box = quad % (kBoxPositions / 4);
      const float4 v = *reinterpret_cast<const float4*>(in + s * kTileBytes + box * (kTileBytes / kBoxes) +
                                                        hopper::swizzled_128b(channel, in_box * 4));
      const float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int row = quad * 4 + j;
        const uint32_t at =
            hopper::swizzled_128b(REGROUP && pair_shift >= 0 ? static_cast<uint32_t>(tap_pair_row(row, pair_shift)) : row,
                                  channel);
        const float big = ptx::tf32_of(e[j]);
        *reinterpret_cast<float*>(tile_out + at) = big;
        if constexpr (SPLIT) *reinterpret_cast<float*>(tile_out + kTileBytes + at) = ptx::tf32_of(e[j] - big);
      }
    }
    __syncwarp();
    if (lane == 0) ptx::mbar_arrive(&empty[s]);  // the input stage is read
    hopper::fence_proxy_async();                 // this thread's buffer writes, before the TMA stores
    ptx::bar_arrive(kFilledBarrier + buffer, kTransposers + 32);
  }
#else
  __trap();  // never planned without sm_90a code
#endif
}

constexpr int64_t kSmemBytes = wgmma::kSwizzlePeriod + int64_t{kInStages} * kTileBytes + kOutBytes +
                               (2 * kInStages + kOutBytes / kTileBytes) * sizeof(uint64_t);

template <bool SPLIT, bool REGROUP>
void launch_pack(const CUtensorMap (&in)[kMaxTransposeJobs], const CUtensorMap (&out)[kMaxTransposeJobs],
                 const PackParams& p, int64_t grid, int device, cudaStream_t stream) {
  opt_in_smem<tf32_pack_tma_kernel<SPLIT, REGROUP>>(kSmemBytes, device, "cudaFuncSetAttribute(tf32_pack_tma_kernel)");
  tf32_pack_tma_kernel<SPLIT, REGROUP>
      <<<static_cast<unsigned>(grid), kThreads, kSmemBytes, stream>>>(in[0], in[1], out[0], out[1], p);
}

}  // namespace

void tf32_pack_tma(const TransposeJob* jobs, int count, int64_t blocks, int device, cudaStream_t stream) {
  // (Rows of multiples of 4 positions: the plan's pack_tma_blocks; 16-byte aligned x and W: dispatch.)
  if (count < 1 || count > kMaxTransposeJobs || packed_chunks(jobs[count - 1]) != packed_chunks(jobs[0]))
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: tf32_pack_tma takes one or two jobs of the same chunks, got " +
                                     std::to_string(count));
  PackParams p{};
  p.count = count;
  CUtensorMap in[kMaxTransposeJobs], out[kMaxTransposeJobs];
  const int64_t chunks = packed_chunks(jobs[0]);
  int64_t total = 0;
  for (int i = 0; i < count; ++i) {
    const TransposeJob& j = jobs[i];
    const int64_t l_tiles = (j.length + kPositions - 1) / kPositions;
    p.job[i] = {static_cast<int32_t>(j.batch), static_cast<int32_t>(j.length), Divisor<int32_t>::of(l_tiles),
                static_cast<int32_t>(j.batch * l_tiles), tap_pair_shift(j)};
    total += j.batch * l_tiles * chunks;
    const auto len = static_cast<cuuint64_t>(j.length), ch = static_cast<cuuint64_t>(j.channels),
               rows = static_cast<cuuint64_t>(j.batch), pitch = static_cast<cuuint64_t>(j.ci_pitch);
    in[i] = wgmma::tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, j.in, {len, ch, rows}, {len * 4, len * ch * 4},
                                 {kBoxPositions, kChannels, 1}, CU_TENSOR_MAP_SWIZZLE_128B, "TF32 packing input");
    out[i] = wgmma::tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, j.out, {pitch, len, rows}, {pitch * 4, pitch * len * 4},
                                  {kChannels, kPositions, 1}, CU_TENSOR_MAP_SWIZZLE_128B, "TF32 packing output");
  }
  if (total > std::numeric_limits<int32_t>::max())
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: tf32_pack_tma needs " + std::to_string(total) + " tiles");
  p.chunks = Divisor<int32_t>::of(chunks);
  p.total = static_cast<int32_t>(total);
  if (count == 1) out[1] = out[0], in[1] = in[0];
  const int64_t grid = std::min(blocks, total);
  // (only W^T, job 0, is regrouped, and only in TF32: IEEE's split packing never is)
  if ((count > 1 && p.job[1].pair_shift >= 0) || (jobs[0].split && p.job[0].pair_shift >= 0))
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: tf32_pack_tma regroups the rows of a TF32 W^T only");
  if (jobs[0].split)
    launch_pack<true, false>(in, out, p, grid, device, stream);
  else if (p.job[0].pair_shift >= 0)
    launch_pack<false, true>(in, out, p, grid, device, stream);
  else
    launch_pack<false, false>(in, out, p, grid, device, stream);
  cuda_check_launch("tf32_pack_tma_kernel launch (W^T, x^T)");
}

}  // namespace convt1d::detail
