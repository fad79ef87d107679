// Transposes [B][C][L] fp32 into [B][L][ci_pitch] rounded to tf32 (the K-major operands of the TF32
// wgmma kernels), W and x in one launch, at close to copy bandwidth.
//
// Tile: 32 channels x POSITIONS positions per block: 128 (16 KB, few enough blocks that their launch
// and drain do not dominate) where the jobs still give kMinBlocks blocks, else 32. The blocks of job 0
// come first, then those of job 1: one launch instead of two, and one tail of partly filled waves.
// Within a job, consecutive blocks take the channel chunks of one row tile (batch row, position tile)
// in turn, so that the blocks running at one time write whole rows of the output between them instead
// of one 128-byte piece of many rows (perf-log step 148: L1 TF32 -1.5 %, T3 -0.7 %).
// Reads: a warp takes one channel's positions as float4 (scalar loads where rows are not 16-byte
// aligned). Writes: 8 lanes cover one position's 32 channels as 8 float4 (128 contiguous bytes),
// rounded on the way (split: the big parts, then the small ones 32 columns further). Shared memory:
// tile[32 channels][POSITIONS] in float4 chunks, chunk index XOR (channel / 4) mod 8, so that the
// float4 row writes and the column reads (8 channel quads x 4 positions per warp) are both free of bank
// conflicts.
#include "cuda/tf32_transpose.cuh"

#include <limits>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/dependent_launch.cuh"
#include "cuda/ptx.cuh"
#include "divisor.hpp"
#include "problem.hpp"
#include "tap_pairs.hpp"

namespace convt1d::detail {

namespace {

constexpr int kChannels = kTransposeChunkChannels;  // per tile: one ci chunk of the packed rows
constexpr int kWide = 128;       // positions per tile, where there are enough tiles
constexpr int kNarrow = 32;      // else
constexpr int64_t kMinBlocks = 1024;  // ~8 blocks per SM
constexpr int kThreads = 256;
constexpr int kVector = 4;       // floats per float4
constexpr int kSwizzleChunks = 8;  // chunk XOR period (8 x 16 bytes: the 32 banks)

struct Job {
  const float* in;
  float* out;
  int64_t channels, length, ci_pitch;
  // blocks = batch * l_tiles * ci_tiles, below 2^31 (launch_tiles), so a block finds its tile by
  // multiply-high divisions, not 64-bit ones ahead of its first loads
  Divisor<int32_t> l_tiles, ci_tiles;
  int64_t blocks;
  int32_t aligned;                     // float4 reads: the base and every row 16-byte aligned
  int32_t split;                       // TransposeJob::split: big and small parts per chunk
  int32_t pair_shift;                  // log2 TransposeJob::tap_pair_stride; -1: rows in order
};
struct Jobs {
  Job job[kMaxTransposeJobs];
  int32_t count;
};

__device__ __forceinline__ int swizzled(int channel, int pos) {
  return (((pos / kVector) ^ ((channel / kVector) % kSwizzleChunks)) * kVector) | (pos % kVector);
}

using ptx::tf32_of;

}  // namespace

int32_t tap_pair_shift(const TransposeJob& j) {
  if (j.tap_pair_stride == 0) return -1;
  const int32_t shift = tap_pair_shift_of(j.tap_pair_stride);
  if ((1 << shift) != j.tap_pair_stride || shift >= kTapPairMaxShift || j.length % kTapPairRows != 0)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: W^T rows regrouped for stride " + std::to_string(j.tap_pair_stride) +
                                     " over " + std::to_string(j.length) + " rows");
  return shift;
}

namespace {

// REGROUP: some job's rows regrouped (pair_shift), a template argument so that the other packings keep
// their store loop as it was (perf-log step 166).
template <int kPositions, bool REGROUP>
__global__ void __launch_bounds__(kThreads) transpose_tf32_kernel(const __grid_constant__ Jobs jobs) {
  constexpr int kPasses = kChannels * kPositions / kVector / kThreads;  // float4 loads (and stores) per thread
  __shared__ __align__(16) float tile[kChannels][kPositions];
  allow_dependent_launch();  // the TF32 kernel may start its set-up once every packing block runs
  int64_t block = blockIdx.x;
  int j = 0;
  if (jobs.count > 1 && block >= jobs.job[0].blocks) {
    block -= jobs.job[0].blocks;
    j = 1;
  }
  const Job& job = jobs.job[j];
  const auto block32 = static_cast<int32_t>(block);
  const int32_t row_tile = job.ci_tiles.div(block32), ci_tile = block32 - row_tile * job.ci_tiles.value;
  const int32_t b32 = job.l_tiles.div(row_tile), l_tile = row_tile - b32 * job.l_tiles.value;
  const int64_t ci0 = int64_t{ci_tile} * kChannels, b = b32, l0 = int64_t{l_tile} * kPositions;
  const int t = threadIdx.x;
  constexpr int kRowVectors = kPositions / kVector;
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int f = t + r * kThreads, row = f / kRowVectors, col = f % kRowVectors * kVector;
    const int64_t ci = ci0 + row, l = l0 + col;
    const float* src = job.in + (b * job.channels + ci) * job.length + l;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (ci < job.channels) {
      if (job.aligned && l + kVector <= job.length) {
        v = *reinterpret_cast<const float4*>(src);
      } else {
        if (l < job.length) v.x = src[0];
        if (l + 1 < job.length) v.y = src[1];
        if (l + 2 < job.length) v.z = src[2];
        if (l + 3 < job.length) v.w = src[3];
      }
    }
    *reinterpret_cast<float4*>(&tile[row][swizzled(row, col)]) = v;
  }
  __syncthreads();
  constexpr int kOutVectors = kChannels / kVector;
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int f = t + r * kThreads, pos = f / kOutVectors, c = f % kOutVectors * kVector;
    const int64_t l = l0 + pos;
    if (l >= job.length) continue;
    const int at = swizzled(c, pos);  // the same for channels c..c+3 (one channel quad)
    const float4 in = make_float4(tile[c][at], tile[c + 1][at], tile[c + 2][at], tile[c + 3][at]);
    const float4 big = make_float4(tf32_of(in.x), tf32_of(in.y), tf32_of(in.z), tf32_of(in.w));
    const int64_t out_l = REGROUP && job.pair_shift >= 0 ? tap_pair_row(l, job.pair_shift) : l;
    float* row = job.out + (b * job.length + out_l) * job.ci_pitch;
    if (job.split) {
      *reinterpret_cast<float4*>(row + 2 * ci0 + c) = big;
      *reinterpret_cast<float4*>(row + 2 * ci0 + kChannels + c) = make_float4(
          tf32_of(in.x - big.x), tf32_of(in.y - big.y), tf32_of(in.z - big.z), tf32_of(in.w - big.w));
    } else {
      *reinterpret_cast<float4*>(row + ci0 + c) = big;
    }
  }
}

// Input chunks of 32 channels: a split row holds two columns per channel.
int64_t tiles_of(const TransposeJob& j, int64_t positions) {
  return j.batch * ((j.length + positions - 1) / positions) * packed_chunks(j);
}

template <int kPositions>
void launch_tiles(const TransposeJob* in, int count, cudaStream_t stream) {
  Jobs jobs{};
  jobs.count = count;
  int64_t blocks = 0;
  for (int i = 0; i < count; ++i) {
    const TransposeJob& s = in[i];
    Job& j = jobs.job[i];
    j.in = s.in;
    j.out = s.out;
    j.channels = s.channels;
    j.length = s.length;
    j.ci_pitch = s.ci_pitch;
    const int64_t l_tiles = (s.length + kPositions - 1) / kPositions, row_tiles = s.batch * l_tiles;
    j.blocks = row_tiles * packed_chunks(s);
    blocks += j.blocks;
    if (j.blocks == 0) continue;  // (no tile to find)
    if (blocks > std::numeric_limits<int32_t>::max())
      fail(CONVT1D_INTERNAL_ERROR, "convt1d: transpose_to_tf32 needs " + std::to_string(blocks) + " blocks");
    j.l_tiles = Divisor<int32_t>::of(l_tiles);
    j.ci_tiles = Divisor<int32_t>::of(packed_chunks(s));
    j.aligned = reinterpret_cast<uintptr_t>(s.in) % 16 == 0 && s.length % kVector == 0;
    j.split = s.split ? 1 : 0;
    j.pair_shift = tap_pair_shift(s);
  }
  if (blocks == 0) return;
  bool regroup = false;
  for (int i = 0; i < count; ++i) regroup = regroup || jobs.job[i].pair_shift >= 0;
  if (regroup)
    transpose_tf32_kernel<kPositions, true><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(jobs);
  else
    transpose_tf32_kernel<kPositions, false><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(jobs);
}

}  // namespace

void transpose_to_tf32(const TransposeJob* jobs, int count, cudaStream_t stream, const char* what) {
  if (count < 1 || count > kMaxTransposeJobs)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: transpose_to_tf32 takes 1 to " + std::to_string(kMaxTransposeJobs) +
                                     " jobs, got " + std::to_string(count));
  int64_t wide_blocks = 0;
  for (int i = 0; i < count; ++i) wide_blocks += tiles_of(jobs[i], kWide);
  if (wide_blocks >= kMinBlocks)
    launch_tiles<kWide>(jobs, count, stream);
  else
    launch_tiles<kNarrow>(jobs, count, stream);
  cuda_check_launch(what);
}

}  // namespace convt1d::detail
