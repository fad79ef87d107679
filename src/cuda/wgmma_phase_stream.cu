// Phase-block streaming kernel: the streaming scheme of wgmma_stream.cu for layers whose whole W^T or
// whose all-phase stagings do not fit in shared memory (C_out 65-128, or C_in*K in the hundreds: DAC's
// and Oobleck's last upsamplers, HiFi-GAN-sized training layers).
//
// Tile: 64 consecutive input positions q0.. of one batch row x the block's S phases r0.. x its N
// channels co_first..: D_r[m, co] = sum over the phase's taps n and ci of x[ci, q0 + m - shift_n] *
// W[ci, co, k_n], one wgmma m64nN per k_step channels of one tap, A = x^T from registers (the window
// at the tap's column offset), B = W^T from shared memory, as in wgmma_stream.cu. Two kinds of block
// (StreamTiling::block_phases): S = 1, block b runs phase b % stride for every channel (N = C_out
// rounded up); or S = stride, block b runs every phase for channel group b % groups (N * S <= 128,
// the accumulators of one 128-channel phase). Either way a block keeps only its own rows of W^T.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   W^T     [chunks of r0..r0+S-1][N][128 B]   (IEEE: then the small parts' rows) 128B swizzle, resident
//   x[s]    [ci_pad][x_cols] T     one TMA box per tile (zero-filled outside x), `stages` deep; or two,
//                                  one per channel part (StreamTiling::x_parts)
//   zeros   [k_step][x_cols]       what fragment loads of steps past the reduction read
//   full[stages * x_parts], empty[stages * x_parts]    mbarriers, one pair per box
//   done[kPhaseBlockPaceRing]      mbarriers: the peers' stored tiles
//   bias    [N] fp32               zero past C_out
//
// Pipeline: the blocks of one kind walk the tiles b / kinds, + gridDim.x / kinds, ... Warpgroup 0's
// first thread (the producer) fills x stages by TMA, waiting on "empty" before a refill. Consumer
// warpgroups 1 and 2 take alternate tiles: wait on "full", run each phase's reduction two chunks at a
// time (one commit group in flight, A fragments alternating between two register sets), release the
// stage (with x in parts: every phase over the first part, release it, then the next), then
// store the accumulators straight into y at outputs q*stride + r, a thread's S phases
// one after another. With S = stride those stores fill each 32-byte sector within a few instructions.
// With S = 1 they fill 1/stride of each sector; the other phases' blocks fill the rest, and the later
// the rest comes, the more the sector costs (perf-log step 78: T8 bf16 0.93 ms with the phase blocks
// left to drift apart, 0.50 within two tiles, 0.41 with channel groups). So where one-phase blocks
// walk many tiles (`paced`), the stride blocks of a tile sequence form a cluster (cluster rank =
// phase): each consumer, after storing its i-th tile, arrives on done[i % ring] of every peer, and
// the producer starts loading tile i only once done[(i - lead) % ring] shows every peer has stored
// tile i - lead. While one consumer stores, the other runs its wgmmas.
#include <type_traits>

#include "cuda/cluster_launch.cuh"
#include "cuda/opt_in_smem.cuh"
#include "cuda/wgmma_stream_parts.cuh"

namespace convt1d::detail::stream {

namespace {

constexpr int kPositions = kPhaseBlockPositions;  // q per tile: one m64 block
static_assert(kPositions == kBlockM, "a phase-block tile is one m64 block");
constexpr int kLead = kPhaseBlockLead;
constexpr int kRing = kPhaseBlockPaceRing;
static_assert(kRing >= 2 * kLead && (kRing & (kRing - 1)) == 0,
              "a producer waits on done[j] before any peer can complete that barrier's phase after next");

// Accumulator `i` of a thread's S output slots as one vector of S elements at `dst` (aligned to it).
template <int S, class T, int NA>
__device__ __forceinline__ void store_slots(T* dst, const float (&acc)[S][NA], int i) {
  constexpr int kBytes = S * sizeof(T);
  using Vec = std::conditional_t<kBytes == 4, uint32_t, std::conditional_t<kBytes == 8, uint2, uint4>>;
  alignas(kBytes) T e[S];
#pragma unroll
  for (int rr = 0; rr < S; ++rr) e[rr] = from_float<T>(acc[rr][i]);
  *reinterpret_cast<Vec*>(dst) = *reinterpret_cast<const Vec*>(e);
}

// 16-bit channel groups at stride 2 (StreamParams::vec_pairs): lanes g and g + 1 (lane ^ 4) hold
// neighbouring positions of the same two channels. They swap one channel's slot pair, so that the
// even lane holds channel 2q's four outputs of both positions and the odd lane channel 2q + 1's: one
// 8-byte store each instead of two 4-byte ones. `u` is this lane's first output (its position's);
// every lane runs the exchange, so no lane may leave before it.
template <class T, int N>
__device__ __forceinline__ void store_pairs(T* y_row, int64_t ld, int64_t row_step, int32_t u, int g, int q, int hi,
                                            int32_t co_first, const float (&acc)[2][N / 2], const StreamParams& p) {
  const int odd = g & 1;
  const int32_t u0 = u - 2 * odd;  // the even position's first output: a multiple of 4
  const bool whole = u0 >= 0 && u0 + 4 <= p.out_length;
  const int32_t co = co_first + 2 * q + odd;
  T* dst = y_row + odd * ld + u0;
#pragma unroll
  for (int nb = 0; nb < N / 8; ++nb, dst += row_step) {
    const int i = nb * 4 + hi * 2;
    const uint32_t c0 = pack_pair<T>(acc[0][i], acc[1][i]), c1 = pack_pair<T>(acc[0][i + 1], acc[1][i + 1]);
    const uint32_t got = __shfl_xor_sync(0xffffffffu, odd ? c0 : c1, 4);
    const uint2 v = odd ? make_uint2(got, c1) : make_uint2(c0, got);
    if (co + nb * 8 >= p.out_channels) continue;
    if (whole) {
      *reinterpret_cast<uint2*>(dst) = v;
      continue;
    }
    const T* e = reinterpret_cast<const T*>(&v);
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (u0 + k >= 0 && u0 + k < p.out_length) dst[k] = e[k];
  }
}

// Chunk c of W^T's image (a phase's kStepsPerGroup k-steps) against the x fragments at `off`: its groups
// of M::kGroupSteps steps as wgmmas, the A fragments alternating between a0 and a1 from set `first_set`
// (0: a0) so that one commit group stays in flight. first_set is known at compile time once the callers'
// loops are unrolled.
template <class M, int N>
__device__ __forceinline__ void mma_chunk(float (&acc)[N / 2], AGroup<M>& a0, AGroup<M>& a1, const typename M::T* xs,
                                          const int32_t* off, uint32_t c, int first_set, uint64_t wt_desc,
                                          uint32_t b_small, const StreamParams& p) {
#pragma unroll
  for (int g0 = 0; g0 < kStepsPerGroup; g0 += M::kGroupSteps) {
    const uint64_t b_desc = wt_desc + ((c * N * kRowBytes + g0 * kStepBytes) >> kDescAddrShift);
    if ((first_set + g0 / M::kGroupSteps) % 2 == 0) {
      mma_group<M, N>(acc, a0, xs, off + g0, p.x_cols, b_desc, b_small);
      fence_group<M>(a1);  // the group before (a1's) has retired: a1 may be rewritten
    } else {
      mma_group<M, N>(acc, a1, xs, off + g0, p.x_cols, b_desc, b_small);
      fence_group<M>(a0);
    }
  }
}

// One (x part, phase) of a tile with the window in kParts parts (StreamTiling::x_parts): the phase's
// chunks whose channels lie in part `part`, tap after tap, two at a time. Every chunk lies in one tap and
// one part (x_parts_for, plan_stream.cpp), so its offsets follow from (tap, j) directly. `chunks`: the
// phase's chunks in this part.
template <class M, int N, int kParts>
__device__ __forceinline__ void reduce_part(float (&acc)[N / 2], AGroup<M>& a0, AGroup<M>& a1, const typename M::T* xs,
                                            int part, int32_t c_base, int32_t chunks, int32_t col0, uint64_t wt_desc,
                                            uint32_t b_small, const StreamParams& p) {
  constexpr int kGroupsPerChunk = kStepsPerGroup / M::kGroupSteps;
  const int32_t part_chunks = p.ci_pad / M::kStep / kStepsPerGroup / kParts;  // per tap
  int32_t tap = 0, j = 0;
  for (int32_t k2 = 0; k2 < chunks; k2 += 2) {
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      const int32_t sub = part * part_chunks + j;  // the chunk's place within its tap
      const int32_t c = tap * kParts * part_chunks + sub;
      int32_t off[kStepsPerGroup];
#pragma unroll
      for (int kk = 0; kk < kStepsPerGroup; ++kk)
        off[kk] = (sub * kStepsPerGroup + kk) * M::kStep * p.x_cols + col0 - tap * p.shift_step;
      mma_chunk<M, N>(acc, a0, a1, xs, off, uint32_t(c_base + c), u * kGroupsPerChunk, wt_desc, b_small, p);
      if (++j == part_chunks) {
        j = 0;
        ++tap;
      }
    }
  }
}

// The consumers of one block: alternate tiles of the walk; for each of the block's S phases r0 + rr,
// D_r = x^T W_r^T over the block's N channels from co_first, stored to y. kParts > 1: the window comes
// in kParts channel parts (StreamTiling::x_parts); the reduction runs every phase over the first,
// releases it, then over the next, and so on. (The window is read only by the fragment loads, which
// have completed once their wgmmas are issued: a part is released before its wgmmas retire.)
template <class M, int N, int S, bool kRuns, bool kRotated, int kParts>
__device__ __forceinline__ void consume_tiles(int32_t first, int32_t step, int32_t r0, int32_t co_first,
                                              uint32_t block_bytes, const StreamParams& p, unsigned char* wt,
                                              unsigned char* x_stages, unsigned char* zeros, uint64_t* full,
                                              uint64_t* empty, uint64_t* done, const float* bias_s,
                                              typename M::T* __restrict__ y) {
  using T = typename M::T;
  static_assert(!kRotated || S == 2, "rotated phases: stride 2 (StreamTiling::rotation)");
  const int32_t phases = p.phases;
  const int tid = threadIdx.x;
  const int h = tid / 128 - 1;
  const int lane = tid % 32, warp = (tid % 128) / 32;
  const int g = lane / 4, q = lane % 4;
  const int32_t thread_off = M::kRowsPerQ * q * p.x_cols + 16 * warp + g;
  const uint32_t b_small = block_bytes >> kDescAddrShift;  // descriptor units to the small parts' rows
  const uint64_t wt_desc = hopper::matrix_desc(hopper::smem_addr(wt), 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
  constexpr int kGroupsPerChunk = kStepsPerGroup / M::kGroupSteps;
  AGroup<M> a0, a1;
  int32_t i = h;  // this block's tile index
  for (auto w = tile_walk<kRuns>(first, step, h, 2, p); w.tile < p.tiles; w.next(), i += 2) {
    const int s = w.stage;
    const unsigned char* stage = x_stages + size_t(s) * p.stage_bytes;
    const T* xs = reinterpret_cast<const T*>(stage) + thread_off;
    const int32_t zero_off = static_cast<int32_t>((zeros - stage) / int32_t(sizeof(T)));
    float acc[S][N / 2];
#pragma unroll
    for (int rr = 0; rr < S; ++rr) {
      set_bias<N>(acc[rr], bias_s, q);
      fence_acc<N>(acc[rr]);
    }
    if constexpr (kParts > 1) {
      for (int part = 0; part < kParts; ++part) {
        const int b = s * kParts + part;
        ptx::mbar_wait(&full[b], w.parity);
#pragma unroll
        for (int rr = 0; rr < S; ++rr) {
          const int32_t r = kRotated ? (rr + 1) % S : r0 + rr;
          const int32_t left = kRotated && rr == 0;
          // the phase's chunks in this part: an even count (x_parts_for), divided by a constant
          const int32_t chunks = (p.phase_chunk[r + 1] - p.phase_chunk[r]) / kParts;
          reduce_part<M, N, kParts>(acc[rr], a0, a1, xs, part, p.phase_chunk[r] - p.phase_chunk[r0], chunks,
                                    -p.phase_shift[r] - p.x_base - left, wt_desc, b_small, p);
        }
        __syncwarp();
        if (lane == 0) ptx::mbar_arrive(&empty[b]);
      }
    } else {
      ptx::mbar_wait(&full[s], w.parity);
#pragma unroll
      for (int rr = 0; rr < S; ++rr) {
        // Output slot rr: phase r at this row's q, or (kRotated: StreamTiling::rotation 1) phase 1 at q - 1.
        const int32_t r = kRotated ? (rr + 1) % S : r0 + rr;
        const int32_t left = kRotated && rr == 0;
        const int32_t c_base = p.phase_chunk[r] - p.phase_chunk[r0], chunks = p.phase_chunk[r + 1] - p.phase_chunk[r];
        const int32_t steps = p.phase_steps[r];
        int32_t ci0 = 0, col = -p.phase_shift[r] - p.x_base - left;  // first tap, channels 0..kStep-1
        for (int c2 = 0; c2 < chunks; c2 += 2) {
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int c = c2 + half;
            int32_t off[kStepsPerGroup];
            chunk_offsets<M>(off, c * kStepsPerGroup, steps, ci0, col, zero_off, p);
            mma_chunk<M, N>(acc[rr], a0, a1, xs, off, uint32_t(c_base + c), half * kGroupsPerChunk, wt_desc, b_small,
                            p);
          }
        }
      }
    }
    hopper::wgmma_wait<0>();
#pragma unroll
    for (int rr = 0; rr < S; ++rr) fence_acc<N>(acc[rr]);
    __syncwarp();
    if (kParts == 1 && lane == 0) ptx::mbar_arrive(&empty[s]);  // the x window is no longer read
    // D_r[m][co] to y at outputs (q0 + m) * stride + r: this thread's rows m = 16 warp + g (+ 8), its
    // columns co = co_first + 8 nb + 2q + j, its phases' outputs side by side (stored one after
    // another, so that each 32-byte sector is written whole within a few instructions). The pointer
    // steps 8 rows of y at a time, with the row pitch made opaque per tile: per-column offsets
    // hoisted out of the tile loop held 2 registers per column pair, and N 128 spilled with them.
    int64_t ld = p.out_length;
    asm volatile("" : "+l"(ld));
    const int64_t row_step = 8 * ld;
    T* y_row = y + (int64_t(w.row) * p.out_channels + co_first + 2 * q) * ld;
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      const int32_t u = (w.col_tile * kPositions + 16 * warp + 8 * hi + g) * phases + p.out_offset + r0;
      if constexpr (S == 2 && sizeof(T) == 2) {
        if (p.vec_pairs) {
          store_pairs<T, N>(y_row, ld, row_step, u, g, q, hi, co_first, acc, p);
          continue;
        }
      }
      uint32_t live = 0;  // bit rr: output u + rr lies in the row
#pragma unroll
      for (int rr = 0; rr < S; ++rr) live |= uint32_t(u + rr >= 0 && u + rr < p.out_length) << rr;
      if (live == 0) continue;
      T* dst = y_row + u;
#pragma unroll
      for (int nb = 0; nb < N / 8; ++nb, dst += row_step) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          if (co_first + nb * 8 + 2 * q + j >= p.out_channels) continue;
          if constexpr ((S == 2 || S == 4) && sizeof(T) == 2) {  // (fp32: 3 % slower with the branch, T8)
            if (p.vec_slots && live == (1u << S) - 1) {  // the row's S outputs: one aligned vector
              store_slots<S>(dst + j * ld, acc, nb * 4 + hi * 2 + j);
              continue;
            }
          }
#pragma unroll
          for (int rr = 0; rr < S; ++rr)
            if (live >> rr & 1) dst[j * ld + rr] = from_float<T>(acc[rr][nb * 4 + hi * 2 + j]);
        }
      }
    }
    if (p.paced && tid % 128 == 0) {
      for (int32_t peer = 0; peer < phases; ++peer)
        if (peer != r0) hopper::mbar_arrive_peer_relaxed(&done[i % kRing], static_cast<uint32_t>(peer));
    }
  }
}

template <class M, int N, int S, bool kRuns, bool kRotated, int kParts>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_phase_stream_kernel(const __grid_constant__ CUtensorMap x_map, const __grid_constant__ StreamParams p,
                              const uint4* __restrict__ wt_image, const typename M::T* __restrict__ bias,
                              typename M::T* __restrict__ y) {
#ifdef CONVT1D_SM90A_DEVICE
  const int32_t phases = p.phases;
  // Block b is of kind b % kinds: phase r0 = kind (S 1), or channel group `kind` (S = stride).
  const int32_t kinds = S == 1 ? phases : p.groups;
  const int32_t kind = static_cast<int32_t>(blockIdx.x) % kinds;
  const int32_t r0 = S == 1 ? kind : 0, group = S == 1 ? 0 : kind;
  const int32_t first = static_cast<int32_t>(blockIdx.x) / kinds;
  const int32_t step = static_cast<int32_t>(gridDim.x) / kinds;  // blocks per kind
  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((kSwizzlePeriod - (hopper::smem_addr(smem_raw) % kSwizzlePeriod)) % kSwizzlePeriod);
  unsigned char* wt = smem;
  unsigned char* x_stages = wt + p.weight_bytes;
  unsigned char* zeros = x_stages + size_t(p.stages) * p.stage_bytes;
  const int32_t stage_barriers = p.stages * p.x_parts;  // a full/empty pair per box
  uint64_t* full = reinterpret_cast<uint64_t*>(zeros + p.zero_bytes);
  uint64_t* empty = full + stage_barriers;
  uint64_t* done = empty + stage_barriers;
  float* bias_s = reinterpret_cast<float*>(done + kRing);  // N floats, zero past C_out
  const bool paced = p.paced;  // (S 1) launched as clusters of `phases` blocks, cluster rank = r0
  const int tid = threadIdx.x;
  const int wg = tid / 128;
  const int32_t chunk0 = p.phase_chunk[r0], chunks = p.phase_chunk[r0 + S] - chunk0;
  const uint32_t block_bytes = uint32_t(chunks) * N * kRowBytes;  // one image's rows this block keeps
  const uint32_t group_offset = uint32_t(group) * uint32_t(p.phase_chunk[phases]) * N * kRowBytes;
  if (tid == 0) {
    init_stage_barriers(full, empty, stage_barriers);
    for (int i = 0; i < kRing && paced; ++i) ptx::mbar_init(&done[i], phases - 1);  // one arrival per peer
    hopper::fence_barrier_init();
  }
  wait_prior_grid();  // (StreamTiling::overlap_packing: the set-up above ran during the packing)
  for (int img = 0; img < M::kImages; ++img) {
    const uint4* src = wt_image + (img * p.image_bytes + group_offset + uint32_t(chunk0) * N * kRowBytes) / 16;
    uint4* dst = reinterpret_cast<uint4*>(wt + img * block_bytes);
    for (uint32_t i = tid; i < block_bytes / 16; i += kThreads) dst[i] = src[i];
  }
  finish_setup<N>(zeros, bias_s, bias, p, group * N);
  if (paced) hopper::cluster_sync();  // every peer's barriers initialised before the first remote arrival

  if (wg == 0) {  // producer
    if (tid == 0) {
      auto pace = [&](int32_t i) {
        if (paced && i >= kLead)
          ptx::mbar_wait(&done[(i - kLead) % kRing], static_cast<uint32_t>((i - kLead) / kRing) & 1);
      };
      fill_x_stages(tile_walk<kRuns>(first, step, 0, 1, p), kPositions, p, &x_map, x_stages, full, empty,
                    pace);
    }
  } else {
    consume_tiles<M, N, S, kRuns, kRotated, kParts>(first, step, r0, group * N, block_bytes, p, wt, x_stages, zeros,
                                                    full, empty, done, bias_s, y);
  }
  if (paced) hopper::cluster_sync();  // no block exits while a peer may still arrive on its barriers
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

template <class M, int N, int S = 1, bool kRuns = false, bool kRotated = false, int kParts = 1>
void launch_n(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const StreamParams& p,
              const void* image) {
  using T = typename M::T;
  if (plan.stream.x_parts != kParts)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_phase_stream x windows in " + std::to_string(plan.stream.x_parts) +
                                     " parts not compiled for " + std::to_string(S) + " phases per block");
  const int64_t smem = plan.stream.smem_bytes;
  constexpr auto kKernel = wgmma_phase_stream_kernel<M, N, S, kRuns, kRotated, kParts>;
  opt_in_smem<kKernel>(smem, a.device, "cudaFuncSetAttribute(wgmma_phase_stream_kernel)");
  const auto* wt = static_cast<const uint4*>(image);
  const auto* bias = static_cast<const T*>(a.bias);
  auto* y = static_cast<T*>(a.y);
  const auto stream = static_cast<cudaStream_t>(a.stream);
  if (plan.stream.cluster > 1) {
    launch_clusters<kKernel>(plan.stream.grid, plan.stream.cluster, kThreads, smem, stream, a.device,
                             "wgmma_phase_stream_kernel launch", x_map, p, wt, bias, y);
  } else {  // with overlap_packing a programmatic dependent of the packing kernel
    launch_dependent(plan.stream.overlap_packing, kKernel, plan.stream.grid, kThreads, smem, stream,
                     "wgmma_phase_stream_kernel launch", x_map, p, wt, bias, y);
  }
}

// Channel-group blocks, with tiles in runs, (16-bit, stride 2) phases rotated and (IEEE, stride 2) x
// windows in parts where the plan takes them.
template <class M, int N, int S, int kParts = 1>
void launch_groups(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const StreamParams& p,
                   const void* image) {
  if constexpr (S == kPhaseBlockPartsPhases && std::is_same_v<M, IeeeMath> && kParts == 1) {
    if (plan.stream.x_parts == kPhaseBlockXParts)
      return launch_groups<M, N, S, kPhaseBlockXParts>(plan, a, x_map, p, image);
  }
  const bool runs = plan.stream.tile_run > 1;
  if constexpr (S == 2 && sizeof(typename M::T) == 2) {
    if (plan.stream.rotation != 0)
      return runs ? launch_n<M, N, S, true, true, kParts>(plan, a, x_map, p, image)
                  : launch_n<M, N, S, false, true, kParts>(plan, a, x_map, p, image);
  }
  if (plan.stream.rotation != 0)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: rotated phases are compiled for 16-bit stride 2 only");
  runs ? launch_n<M, N, S, true, false, kParts>(plan, a, x_map, p, image)
       : launch_n<M, N, S, false, false, kParts>(plan, a, x_map, p, image);
}

}  // namespace

template <class M>
void launch_phase_blocks(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const StreamParams& p,
                         const void* image) {
  const int32_t n = plan.stream.n, phases = plan.stream.block_phases;
  if (phases == 1 && n == 32) return launch_n<M, 32>(plan, a, x_map, p, image);
  if (phases == 1 && n == 64) return launch_n<M, 64>(plan, a, x_map, p, image);
  if (phases == 1 && n == 96) return launch_n<M, 96>(plan, a, x_map, p, image);
  if (phases == 1 && n == 128) return launch_n<M, 128>(plan, a, x_map, p, image);
  // channel groups: every phase per block, n * phases <= kPhaseBlockMaxN (plan_stream.cpp)
  if (phases == 2 && n == 32) return launch_groups<M, 32, 2>(plan, a, x_map, p, image);
  if (phases == 2 && n == 64) return launch_groups<M, 64, 2>(plan, a, x_map, p, image);
  if (phases == 3 && n == 32) return launch_groups<M, 32, 3>(plan, a, x_map, p, image);
  if (phases == 4 && n == 32) return launch_groups<M, 32, 4>(plan, a, x_map, p, image);
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_phase_stream " + std::to_string(phases) + " phases x " +
                                   std::to_string(n) + " channels per block not compiled");
}

template void launch_phase_blocks<Tf32Math>(const Plan&, const ForwardArgs&, const CUtensorMap&, const StreamParams&,
                                            const void*);
template void launch_phase_blocks<IeeeMath>(const Plan&, const ForwardArgs&, const CUtensorMap&, const StreamParams&,
                                            const void*);
template void launch_phase_blocks<Math16<__half>>(const Plan&, const ForwardArgs&, const CUtensorMap&,
                                                  const StreamParams&, const void*);
template void launch_phase_blocks<Math16<__nv_bfloat16>>(const Plan&, const ForwardArgs&, const CUtensorMap&,
                                                         const StreamParams&, const void*);

}  // namespace convt1d::detail::stream
