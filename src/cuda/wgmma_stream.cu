// Streaming TF32 transposed convolution on Hopper tensor cores, for stride-1 layers with few channels
// and long rows (KernelBench #74: 32 -> 64 channels, K 5, rows of 131072). fp32 in and out.
//
// Tile: 128 consecutive outputs t0.. of one batch row x all C_out channels (N = C_out rounded up to
// 32). With stride 1 every output has every tap, so the whole problem is one GEMM per tile:
//   D[m, co] = sum over taps k, channels ci of x[ci, t0 + m + padding - k*dilation] * W[ci, co, k],
// reduction index r = k*ci_pad + ci (tap-major), one wgmma m64nNk8 per 8 channels of one tap.
//   A = x^T from registers: tap k's fragment is the x window read at column offset
//       padding - k*dilation - x_base, so all taps share one window (no im2col, no Z, no shift-add);
//   B = W^T from shared memory, K-major (tf32 operands must be): packed once per call by
//       pack_stream_weights into the exact 128B-swizzled image, copied into each block once.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   W^T     [chunks][N][32 tf32]        128B swizzle, resident for the whole kernel
//   x[s]    [ci_pad][x_cols] fp32        one TMA box per tile (zero-filled outside x), `stages` deep
//   out[h]  [4][N][32 positions] fp32    128B swizzle, the staging of consumer warpgroup h: four TMA
//                                         store boxes of 32 positions
//   full[stages], empty[stages]          mbarriers
//
// Pipeline: persistent blocks take tiles blockIdx.x, + gridDim.x, ... Warpgroup 0's first thread
// (the producer) fills x stages by TMA, waiting on "empty" before a refill. Consumer warpgroups 1 and
// 2 take alternate tiles (ping-pong), so one's epilogue runs under the other's wgmmas: wait on "full",
// run the reduction in groups of 4 k-steps per m64 block with one group in flight (A fragments double
// buffered), release the stage, write the accumulators into their staging, and one thread issues
// the TMA stores (clipped at the row end) after the previous tile's stores have read that staging.
#include "cuda/hopper.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"

namespace convt1d::detail {

namespace {

using namespace wgmma;

constexpr int kK8 = kStreamKStep;
constexpr int kStepsPerGroup = 4;            // k-steps per commit group: one 128-byte row of W^T
constexpr uint32_t kRowBytes = 128;          // a W^T row chunk and a staging row: 32 fp32
constexpr int kBoxPositions = 32;            // positions per TMA store box (one 128-byte row)
constexpr int kBoxes = kStreamPositions / kBoxPositions;
constexpr int kBlockM = 64;                  // positions per wgmma (M)
constexpr int kCoreRows = 8;                 // rows of a core matrix (descriptor SBO unit)

struct StreamParams {
  int64_t tiles;
  int32_t tiles_per_row, out_length, out_channels;
  int32_t steps, chunks, ci_pad, x_cols, x_base, padding, dilation, stages;
  uint32_t x_box_bytes, stage_bytes, weight_bytes;
};

using AGroup = uint32_t[kStepsPerGroup][4];

__device__ __forceinline__ void fence_group(AGroup& a) {
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk)
#pragma unroll
    for (int i = 0; i < 4; ++i) asm volatile("" : "+r"(a[kk][i])::"memory");
}

template <int N>
__device__ __forceinline__ void fence_acc(float (&acc)[N / 2]) {
#pragma unroll
  for (int i = 0; i < N / 2; ++i) hopper::fence_operand(acc[i]);
}

// One commit group: the A fragments of 4 k-steps for one m64 block from the x window (xs points at
// this thread's row q, column 16*warp + g of the block; off[kk] is step kk's channel-row and tap
// offset), then their wgmmas into acc. Steps from `n` on lie past the reduction (its last group).
template <int N>
__device__ __forceinline__ void mma_group(float (&acc)[N / 2], AGroup& a, const float* xs, const int32_t (&off)[4],
                                          int n, int32_t rows4, uint32_t b_addr) {
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk) {
    // Steps past the reduction (zero W^T rows) read step 0's columns and mask them to zero, so the
    // product is exactly zero. Branch-free: wgmma inputs defined under a branch make ptxas serialize.
    const uint32_t keep = kk < n ? ~0u : 0u;
    const float* x = xs + (kk < n ? off[kk] : off[0]);
    a[kk][0] = ptx::to_tf32(x[0]) & keep;
    a[kk][1] = ptx::to_tf32(x[8]) & keep;
    a[kk][2] = ptx::to_tf32(x[rows4]) & keep;
    a[kk][3] = ptx::to_tf32(x[rows4 + 8]) & keep;
  }
  fence_acc<N>(acc);
  fence_group(a);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk) {  // unconditional: wgmmas under a branch are serialized
    const uint64_t b = hopper::matrix_desc(b_addr + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    MmaTf32<N>::run(acc, a[kk], b);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
  fence_acc<N>(acc);
}

template <int N>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_stream_kernel(const __grid_constant__ CUtensorMap x_map, const __grid_constant__ CUtensorMap y_map,
                        const __grid_constant__ StreamParams p, const uint4* __restrict__ wt_image,
                        const float* __restrict__ bias) {
#ifdef CONVT1D_SM90A_DEVICE
  constexpr uint32_t kStagingBytes = uint32_t(N) * kRowBytes * kBoxes;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((kSwizzlePeriod - (hopper::smem_addr(smem_raw) % kSwizzlePeriod)) % kSwizzlePeriod);
  unsigned char* wt = smem;
  unsigned char* x_stages = wt + p.weight_bytes;
  unsigned char* staging = x_stages + size_t(p.stages) * p.stage_bytes;
  uint64_t* full = reinterpret_cast<uint64_t*>(staging + 2 * kStagingBytes);
  uint64_t* empty = full + p.stages;
  const int tid = threadIdx.x;
  const int wg = tid / 128;
  if (tid == 0) {
    for (int s = 0; s < p.stages; ++s) {
      ptx::mbar_init(&full[s], 1);
      ptx::mbar_init(&empty[s], 4);  // the 4 warps of the consuming warpgroup
    }
    hopper::fence_barrier_init();
  }
  for (uint32_t i = tid; i < p.weight_bytes / 16; i += kThreads) reinterpret_cast<uint4*>(wt)[i] = wt_image[i];
  hopper::fence_proxy_async();  // generic stores of W^T, read by wgmma through the async proxy
  __syncthreads();

  if (wg == 0) {  // producer
    if (tid == 0) {
      int64_t i = 0;
      for (int64_t tile = blockIdx.x; tile < p.tiles; tile += gridDim.x, ++i) {
        const int s = static_cast<int>(i % p.stages);
        if (i >= p.stages) ptx::mbar_wait(&empty[s], static_cast<uint32_t>((i / p.stages - 1) & 1));
        const int32_t b = static_cast<int32_t>(tile / p.tiles_per_row);
        const int32_t t0 = static_cast<int32_t>(tile - int64_t(b) * p.tiles_per_row) * kStreamPositions;
        hopper::mbar_arrive_expect_tx(&full[s], p.x_box_bytes);
        hopper::tma_load_3d(x_stages + size_t(s) * p.stage_bytes, &x_map, t0 + p.x_base, 0, b, &full[s]);
      }
    }
    return;
  }

  const int h = wg - 1;
  const int lane = tid % 32, warp = (tid % 128) / 32;
  const int g = lane / 4, q = lane % 4;
  unsigned char* out = staging + h * kStagingBytes;
  float bias_r[N / 4];  // channel 8*nb + 2q + j at [2*nb + j]: this thread's accumulator columns
#pragma unroll
  for (int nb = 0; nb < N / 8; ++nb)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int co = nb * 8 + 2 * q + j;
      bias_r[2 * nb + j] = bias != nullptr && co < p.out_channels ? bias[co] : 0.0f;
    }
  const int32_t thread_off = q * p.x_cols + 16 * warp + g;
  const int32_t rows4 = 4 * p.x_cols;  // channel row q + 4 of a fragment
  const uint32_t wt_addr = hopper::smem_addr(wt);
  AGroup a0, a1;
  int64_t i = h;
  for (int64_t tile = blockIdx.x + int64_t(h) * gridDim.x; tile < p.tiles; tile += 2 * int64_t(gridDim.x), i += 2) {
    const int s = static_cast<int>(i % p.stages);
    const int32_t b = static_cast<int32_t>(tile / p.tiles_per_row);
    const int32_t t0 = static_cast<int32_t>(tile - int64_t(b) * p.tiles_per_row) * kStreamPositions;
    float acc[2][N / 2];
#pragma unroll
    for (int mb = 0; mb < 2; ++mb)
#pragma unroll
      for (int nb = 0; nb < N / 8; ++nb) {
        acc[mb][nb * 4 + 0] = acc[mb][nb * 4 + 2] = bias_r[2 * nb];
        acc[mb][nb * 4 + 1] = acc[mb][nb * 4 + 3] = bias_r[2 * nb + 1];
      }
    fence_acc<N>(acc[0]);  // both sets defined before the first wgmma of the tile (ptxas serializes
    fence_acc<N>(acc[1]);  // wgmmas whose inputs other instructions define inside a pipeline stage)
    ptx::mbar_wait(&full[s], static_cast<uint32_t>((i / p.stages) & 1));
    const float* xs = reinterpret_cast<const float*>(x_stages + size_t(s) * p.stage_bytes) + thread_off;
    int32_t ci0 = 0, col = p.padding - p.x_base;  // step 0: tap 0, channels 0..7
    for (int c = 0; c < p.chunks; ++c) {
      const int n = min(kStepsPerGroup, p.steps - c * kStepsPerGroup);
      int32_t off[kStepsPerGroup];
#pragma unroll
      for (int kk = 0; kk < kStepsPerGroup; ++kk) {
        off[kk] = ci0 * p.x_cols + col;
        ci0 += kK8;
        if (ci0 == p.ci_pad) {  // next tap: its x column is dilation to the left
          ci0 = 0;
          col -= p.dilation;
        }
      }
      const uint32_t b_addr = wt_addr + uint32_t(c) * N * kRowBytes;
      mma_group<N>(acc[0], a0, xs, off, n, rows4, b_addr);
      fence_group(a1);  // the previous group (block 1's) has retired: a1 may be rewritten
      mma_group<N>(acc[1], a1, xs + kBlockM, off, n, rows4, b_addr);
      fence_group(a0);
    }
    hopper::wgmma_wait<0>();
    fence_acc<N>(acc[0]);
    fence_acc<N>(acc[1]);
    __syncwarp();
    if (lane == 0) ptx::mbar_arrive(&empty[s]);

    // Epilogue: D[position][co] into the staging boxes [box][co][32 positions] (128B swizzle: the
    // 16-byte chunk index XOR co mod 8, which also spreads a warp's 4 channels over distinct banks).
    if (tid % 128 == 0) hopper::bulk_wait_read<0>();  // the previous tile's stores have read `out`
    ptx::bar_sync(1 + h, 128);
#pragma unroll
    for (int mb = 0; mb < 2; ++mb)
#pragma unroll
      for (int hi = 0; hi < 2; ++hi) {
        const int box = 2 * mb + warp / 2;
        const int pp = 16 * (warp % 2) + 8 * hi + g;  // position within the box
#pragma unroll
        for (int nb = 0; nb < N / 8; ++nb)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const int co = nb * 8 + 2 * q + j;
            const uint32_t byte = box * N * kRowBytes + co * kRowBytes + ((((pp >> 2) ^ (co & 7))) << 4) + (pp & 3) * 4;
            *reinterpret_cast<float*>(out + byte) = acc[mb][nb * 4 + hi * 2 + j];
          }
      }
    hopper::fence_proxy_async();  // the staging stores, read next by the TMA unit
    ptx::bar_sync(1 + h, 128);
    if (tid % 128 == 0) {
#pragma unroll
      for (int bx = 0; bx < kBoxes; ++bx)
        if (t0 + bx * kBoxPositions < p.out_length)
          hopper::tma_store_3d(&y_map, out + bx * N * kRowBytes, t0 + bx * kBoxPositions, 0, b);
      hopper::bulk_commit();
    }
  }
  if (tid % 128 == 0) hopper::bulk_wait<0>();
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

// W^T in the kernel's shared-memory image: chunk c, row co, 32 reduction values r = 32c + i
// (tap r / ci_pad, channel r % ci_pad), rounded to tf32, zero outside W; the 16-byte chunks of each
// 128-byte row XORed with co mod 8 (the 128B swizzle wgmma's descriptor expects).
__global__ void pack_stream_weights(const float* __restrict__ w, uint32_t* __restrict__ image, int32_t c_in,
                                    int32_t c_out, int32_t kernel_size, int32_t ci_pad, int32_t n, int32_t words) {
  const int32_t idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= words) return;
  const int32_t per_chunk = n * 32;
  const int32_t c = idx / per_chunk, co = idx % per_chunk / 32, i = idx % 32;
  const int32_t r = c * 32 + i, k = r / ci_pad, ci = r % ci_pad;
  const float v = k < kernel_size && ci < c_in && co < c_out ? w[(int64_t(ci) * c_out + co) * kernel_size + k] : 0.0f;
  image[c * per_chunk + co * 32 + (((i >> 2) ^ (co & 7)) << 2) + (i & 3)] = ptx::to_tf32(v);
}
constexpr int kPackThreads = 256;

template <int N>
void launch_n(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const CUtensorMap& y_map,
              const StreamParams& p, const void* image) {
  const int64_t smem = plan.stream.smem_bytes;
  opt_in_smem<wgmma_stream_kernel<N>>(smem, a.device, "cudaFuncSetAttribute(wgmma_stream_kernel)");
  wgmma_stream_kernel<N><<<static_cast<unsigned>(plan.stream.grid), kThreads, static_cast<size_t>(smem),
                           static_cast<cudaStream_t>(a.stream)>>>(x_map, y_map, p, static_cast<const uint4*>(image),
                                                                  static_cast<const float*>(a.bias));
  cuda_check_launch("wgmma_stream_kernel launch");
}

}  // namespace

void launch_wgmma_stream(const Plan& plan, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const StreamTiling& t = plan.stream;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  // W^T's shared-memory image in a stream-ordered workspace (pool-cached, graph-capturable).
  void* image = nullptr;
  cuda_check(cudaMallocAsync(&image, static_cast<size_t>(t.weight_bytes), stream), "cudaMallocAsync(packed W^T)");
  const int32_t words = static_cast<int32_t>(t.weight_bytes / 4);
  pack_stream_weights<<<(words + kPackThreads - 1) / kPackThreads, kPackThreads, 0, stream>>>(
      static_cast<const float*>(a.w), static_cast<uint32_t*>(image), static_cast<int32_t>(s.in_channels),
      static_cast<int32_t>(s.out_channels), static_cast<int32_t>(s.kernel_size), t.ci_pad, t.n, words);
  cuda_check_launch("pack_stream_weights launch");

  const auto batch = static_cast<cuuint64_t>(s.batch);
  const auto l_in = static_cast<cuuint64_t>(s.in_length), l_out = static_cast<cuuint64_t>(s.out_length);
  const auto c_in = static_cast<cuuint64_t>(s.in_channels), c_out = static_cast<cuuint64_t>(s.out_channels);
  const CUtensorMap x_map = tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, a.x, {l_in, c_in, batch},
                                          {l_in * 4, l_in * c_in * 4},
                                          {static_cast<cuuint32_t>(t.x_cols), static_cast<cuuint32_t>(t.ci_pad), 1},
                                          CU_TENSOR_MAP_SWIZZLE_NONE, "x");
  const CUtensorMap y_map = tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, a.y, {l_out, c_out, batch},
                                          {l_out * 4, l_out * c_out * 4},
                                          {kBoxPositions, static_cast<cuuint32_t>(t.n), 1}, CU_TENSOR_MAP_SWIZZLE_128B,
                                          "y");
  StreamParams p{};
  p.tiles = t.tiles;
  p.tiles_per_row = static_cast<int32_t>(t.tiles_per_row);
  p.out_length = static_cast<int32_t>(s.out_length);
  p.out_channels = static_cast<int32_t>(s.out_channels);
  p.steps = t.steps;
  p.chunks = t.chunks;
  p.ci_pad = t.ci_pad;
  p.x_cols = t.x_cols;
  p.x_base = t.x_base;
  p.padding = static_cast<int32_t>(s.padding);
  p.dilation = static_cast<int32_t>(s.dilation);
  p.stages = t.stages;
  p.x_box_bytes = static_cast<uint32_t>(int64_t{t.ci_pad} * t.x_cols * 4);
  p.stage_bytes = static_cast<uint32_t>(t.stage_bytes);
  p.weight_bytes = static_cast<uint32_t>(t.weight_bytes);
  if (t.n == 64)
    launch_n<64>(plan, a, x_map, y_map, p, image);
  else if (t.n == 32)
    launch_n<32>(plan, a, x_map, y_map, p, image);
  else
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream width " + std::to_string(t.n) + " not compiled");
  cuda_check(cudaFreeAsync(image, stream), "cudaFreeAsync(packed W^T)");
}

}  // namespace convt1d::detail
