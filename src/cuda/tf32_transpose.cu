// Transposes [B][C][L] fp32 into [B][L][ci_pitch] rounded to tf32 (the K-major operands of the TF32
// wgmma kernels), at close to copy bandwidth.
//
// Tile: 32 channels x POSITIONS positions per block: 128 (16 KB, few enough blocks that their launch
// and drain do not dominate) where that still gives kMinBlocks blocks, else 32. Reads: a warp takes
// one channel's positions as float4 (scalar loads where rows are not 16-byte aligned). Writes: 8 lanes
// cover one position's 32 channels as 8 float4 (128 contiguous bytes), rounded on the way. Shared
// memory: tile[32 channels][POSITIONS + 1]; the pad makes the column reads of the writes conflict-free.
#include "cuda/tf32_transpose.cuh"

#include "cuda/cuda_check.cuh"
#include "cuda/ptx.cuh"

namespace convt1d::detail {

namespace {

constexpr int kChannels = 32;    // per tile: one ci chunk of the packed rows
constexpr int kWide = 128;       // positions per tile, where there are enough tiles
constexpr int kNarrow = 32;      // else
constexpr int64_t kMinBlocks = 1024;  // ~8 blocks per SM
constexpr int kThreads = 256;
constexpr int kVector = 4;       // floats per float4

template <int kPositions, bool kAligned>
__global__ void __launch_bounds__(kThreads)
    transpose_tf32_kernel(const float* __restrict__ in, float* __restrict__ out, int64_t channels, int64_t length,
                          int64_t ci_pitch, int64_t l_tiles) {
  constexpr int kPasses = kChannels * kPositions / kVector / kThreads;  // float4 loads (and stores) per thread
  __shared__ float tile[kChannels][kPositions + 1];
  const int64_t b = blockIdx.x / l_tiles;
  const int64_t l0 = blockIdx.x % l_tiles * kPositions, ci0 = int64_t(blockIdx.y) * kChannels;
  const int t = threadIdx.x;
  constexpr int kRowVectors = kPositions / kVector;
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int f = t + r * kThreads, row = f / kRowVectors, col = f % kRowVectors * kVector;
    const int64_t ci = ci0 + row, l = l0 + col;
    const float* src = in + (b * channels + ci) * length + l;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (ci < channels) {
      if (kAligned && l + kVector <= length) {
        v = *reinterpret_cast<const float4*>(src);
      } else {
        if (l < length) v.x = src[0];
        if (l + 1 < length) v.y = src[1];
        if (l + 2 < length) v.z = src[2];
        if (l + 3 < length) v.w = src[3];
      }
    }
    tile[row][col] = v.x;
    tile[row][col + 1] = v.y;
    tile[row][col + 2] = v.z;
    tile[row][col + 3] = v.w;
  }
  __syncthreads();
  constexpr int kOutVectors = kChannels / kVector;
#pragma unroll
  for (int r = 0; r < kPasses; ++r) {
    const int f = t + r * kThreads, pos = f / kOutVectors, c = f % kOutVectors * kVector;
    const int64_t l = l0 + pos;
    if (l >= length) continue;
    const float4 v = make_float4(__uint_as_float(ptx::to_tf32(tile[c][pos])), __uint_as_float(ptx::to_tf32(tile[c + 1][pos])),
                                 __uint_as_float(ptx::to_tf32(tile[c + 2][pos])),
                                 __uint_as_float(ptx::to_tf32(tile[c + 3][pos])));
    *reinterpret_cast<float4*>(out + (b * length + l) * ci_pitch + ci0 + c) = v;
  }
}

template <int kPositions>
void launch_tiles(const float* in, float* out, int64_t batch, int64_t channels, int64_t length, int64_t ci_pitch,
                  cudaStream_t stream) {
  const int64_t l_tiles = (length + kPositions - 1) / kPositions;
  const dim3 grid(static_cast<unsigned>(batch * l_tiles), static_cast<unsigned>(ci_pitch / kChannels));
  // float4 reads need every row start 16-byte aligned: the base and the row length.
  if (reinterpret_cast<uintptr_t>(in) % 16 == 0 && length % kVector == 0)
    transpose_tf32_kernel<kPositions, true><<<grid, kThreads, 0, stream>>>(in, out, channels, length, ci_pitch, l_tiles);
  else
    transpose_tf32_kernel<kPositions, false><<<grid, kThreads, 0, stream>>>(in, out, channels, length, ci_pitch, l_tiles);
}

}  // namespace

void transpose_to_tf32(const float* in, float* out, int64_t batch, int64_t channels, int64_t length, int64_t ci_pitch,
                       cudaStream_t stream, const char* what) {
  const int64_t wide_blocks = batch * ((length + kWide - 1) / kWide) * (ci_pitch / kChannels);
  if (wide_blocks >= kMinBlocks)
    launch_tiles<kWide>(in, out, batch, channels, length, ci_pitch, stream);
  else
    launch_tiles<kNarrow>(in, out, batch, channels, length, ci_pitch, stream);
  cuda_check_launch(what);
}

}  // namespace convt1d::detail
