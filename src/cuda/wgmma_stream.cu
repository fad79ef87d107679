// Streaming transposed convolution on Hopper tensor cores, for stride-1 layers with few channels and
// long rows (KernelBench #74: 32 -> 64 channels, K 5, rows of 131072). fp32 (TF32), fp16 and bf16 in
// and out, fp32 accumulation.
//
// Tile: 128 consecutive outputs t0.. of one batch row x all C_out channels (N = C_out rounded up to
// 32). With stride 1 every output has every tap, so the whole problem is one GEMM per tile:
//   D[m, co] = sum over taps k, channels ci of x[ci, t0 + m + padding - k*dilation] * W[ci, co, k],
// reduction index r = k*ci_pad + ci (tap-major), one wgmma m64nN per k_step channels of one tap.
//   A = x^T from registers: tap k's fragment is the x window read at column offset
//       padding - k*dilation - x_base, so all taps share one window (no im2col, no Z, no shift-add);
//   B = W^T from shared memory, K-major (tf32 operands must be; 16-bit ones take the same layout):
//       packed once per call by pack_stream_weights into the exact 128B-swizzled image, copied into
//       each block once.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   W^T     [chunks][N][128 B]           128B swizzle, resident for the whole kernel
//   x[s]    [ci_pad][x_cols] T            one TMA box per tile (zero-filled outside x), `stages` deep
//   out[h]  [boxes][N][128 B of positions] 128B swizzle, the staging of consumer warpgroup h: the
//                                          TMA store boxes (32 fp32 or 64 16-bit positions each)
//   full[stages], empty[stages]           mbarriers
//
// Pipeline: persistent blocks take tiles blockIdx.x, + gridDim.x, ... Warpgroup 0's first thread
// (the producer) fills x stages by TMA, waiting on "empty" before a refill. Consumer warpgroups 1 and
// 2 take alternate tiles (ping-pong), so one's epilogue runs under the other's wgmmas: wait on "full",
// run the reduction in groups of 4 k-steps per m64 block with one group in flight (A fragments double
// buffered), release the stage, write the accumulators into their staging, then either one thread
// issues the TMA stores (clipped at the row end) once the previous tile's stores have read that
// staging, or the warpgroup stores the rows itself (rows TMA cannot address: 16-bit rows whose
// length is not a multiple of 8, KB74's 131084 among them, or a misaligned y).
#include "cuda/hopper.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"

namespace convt1d::detail {

namespace {

using namespace wgmma;

constexpr int kStepsPerGroup = 4;            // k-steps per commit group: one 128-byte row of W^T
constexpr uint32_t kRowBytes = 128;          // a W^T row chunk and a staging row
constexpr int kStepBytes = 32;               // W^T bytes per k-step (the descriptor advance)
constexpr int kBlockM = 64;                  // positions per wgmma (M)
constexpr int kCoreRows = 8;                 // rows of a core matrix (descriptor SBO unit)
constexpr int kWarpRows = 4;                 // warps of a warpgroup: the rows of y each stores in turn

struct StreamParams {
  int64_t tiles;
  int32_t tiles_per_row, out_length, out_channels;
  int32_t steps, chunks, ci_pad, x_cols, x_base, padding, dilation, stages;
  int32_t tma_store;  // y leaves by TMA stores (else the consumer warps store it)
  uint32_t x_box_bytes, stage_bytes, weight_bytes;
};

// What differs between tf32 and 16-bit: the reduction per wgmma, where a thread's fragment rows
// start, and the fragment loads. `x` points at this thread's fragment origin in the window for one
// k-step; `cols` is the window row pitch; `keep` masks steps past the reduction to zero.
template <class T>
struct Fragment;

template <>
struct Fragment<float> {
  static constexpr int kStep = 8;
  static constexpr int kRowsPerQ = 1;  // lane q reads channel rows q and q + 4
  template <int N>
  static __device__ __forceinline__ void mma(float* acc, const uint32_t (&a)[4], uint64_t b) {
    MmaTf32<N>::run(acc, a, b);
  }
  static __device__ __forceinline__ void load(uint32_t (&a)[4], const float* x, int32_t cols, uint32_t keep) {
    a[0] = ptx::to_tf32(x[0]) & keep;  // (position g, channel q)
    a[1] = ptx::to_tf32(x[8]) & keep;  // (g + 8, q)
    a[2] = ptx::to_tf32(x[4 * cols]) & keep;  // (g, q + 4)
    a[3] = ptx::to_tf32(x[4 * cols + 8]) & keep;
  }
};

template <class T16>
struct Fragment16 {
  static constexpr int kStep = 16;
  static constexpr int kRowsPerQ = 2;  // lane q reads channel rows 2q, 2q + 1 (+ 8): one pair per register
  template <int N>
  static __device__ __forceinline__ void mma(float* acc, const uint32_t (&a)[4], uint64_t b) {
    MmaRegA<N, T16>::run(acc, a, b);
  }
  static __device__ __forceinline__ uint32_t pair(const uint16_t* x, int32_t cols) {
    return uint32_t(x[0]) | (uint32_t(x[cols]) << 16);  // channels 2q (low half) and 2q + 1
  }
  static __device__ __forceinline__ void load(uint32_t (&a)[4], const T16* xt, int32_t cols, uint32_t keep) {
    const uint16_t* x = reinterpret_cast<const uint16_t*>(xt);
    a[0] = pair(x, cols) & keep;                  // (position g, channels 2q, 2q + 1)
    a[1] = pair(x + 8, cols) & keep;              // (g + 8, ...)
    a[2] = pair(x + 8 * cols, cols) & keep;       // (g, 2q + 8, 2q + 9)
    a[3] = pair(x + 8 * cols + 8, cols) & keep;
  }
};
template <>
struct Fragment<__half> : Fragment16<__half> {};
template <>
struct Fragment<__nv_bfloat16> : Fragment16<__nv_bfloat16> {};

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
// this thread's fragment origin in the block; off[kk] is step kk's channel-row and tap offset), then
// their wgmmas into acc. Steps from `n` on lie past the reduction (its last group): they read step
// 0's columns masked to zero against zero W^T rows. Branch-free: wgmma inputs defined under a branch
// make ptxas serialize the wgmmas.
template <class T, int N>
__device__ __forceinline__ void mma_group(float (&acc)[N / 2], AGroup& a, const T* xs, const int32_t (&off)[4],
                                          int n, int32_t cols, uint32_t b_addr) {
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk)
    Fragment<T>::load(a[kk], xs + (kk < n ? off[kk] : off[0]), cols, kk < n ? ~0u : 0u);
  fence_acc<N>(acc);
  fence_group(a);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kStepsPerGroup; ++kk) {
    const uint64_t b = hopper::matrix_desc(b_addr + kk * kStepBytes, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    Fragment<T>::template mma<N>(acc, a[kk], b);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
  fence_acc<N>(acc);
}

// Byte offset of (channel co, tile position pos) in a staging buffer: box pos / kBoxPositions, row
// co, the 16-byte chunk index XOR co mod 8 (128B swizzle, as TMA stores read it).
template <class T, int N>
__device__ __forceinline__ uint32_t staging_offset(int co, int pos) {
  constexpr int kBoxPositions = kRowBytes / sizeof(T);
  const uint32_t byte = (pos % kBoxPositions) * sizeof(T);
  return (pos / kBoxPositions) * N * kRowBytes + co * kRowBytes + (((byte >> 4) ^ (co & 7)) << 4) + (byte & 15);
}

// The rows of one tile's staging into y by the warpgroup's warps (rows TMA cannot address): warp w
// stores channels w, w + 4, ...; lane l positions 4l..4l+3, as wide as the row start's alignment
// allows, element by element at the end of the row.
template <class T, int N>
__device__ __forceinline__ void store_rows(const unsigned char* out, T* __restrict__ y, int64_t row0, int32_t t0,
                                           const StreamParams& p, int warp, int lane) {
  constexpr int kPer = kStreamPositions / 32;  // positions per lane
  using Vec = std::conditional_t<sizeof(T) == 4, uint4, uint2>;  // kPer elements
  const int pos = kPer * lane;
  const bool whole = t0 + kStreamPositions <= p.out_length;
  for (int co = warp; co < p.out_channels; co += kWarpRows) {
    const Vec v = *reinterpret_cast<const Vec*>(out + staging_offset<T, N>(co, pos));
    T* row = y + (row0 + co) * p.out_length + t0;
    T* dst = row + pos;
    const uintptr_t align = reinterpret_cast<uintptr_t>(row) % sizeof(Vec);  // the same for every lane
    if (whole && align == 0) {
      *reinterpret_cast<Vec*>(dst) = v;
    } else if (whole && align % (sizeof(Vec) / 2) == 0) {
      using Half = std::conditional_t<sizeof(T) == 4, uint2, uint32_t>;
      const Half* h = reinterpret_cast<const Half*>(&v);
      reinterpret_cast<Half*>(dst)[0] = h[0];
      reinterpret_cast<Half*>(dst)[1] = h[1];
    } else {
      const T* e = reinterpret_cast<const T*>(&v);
#pragma unroll
      for (int i = 0; i < kPer; ++i)
        if (t0 + pos + i < p.out_length) dst[i] = e[i];
    }
  }
}

template <class T, int N>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_stream_kernel(const __grid_constant__ CUtensorMap x_map, const __grid_constant__ CUtensorMap y_map,
                        const __grid_constant__ StreamParams p, const uint4* __restrict__ wt_image,
                        const T* __restrict__ bias, T* __restrict__ y) {
#ifdef CONVT1D_SM90A_DEVICE
  constexpr uint32_t kStagingBytes = uint32_t(N) * kStreamPositions * sizeof(T);
  constexpr int kBoxPositions = kRowBytes / sizeof(T);
  constexpr int kBoxes = kStreamPositions / kBoxPositions;
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
      ptx::mbar_init(&empty[s], kWarpRows);  // the warps of the consuming warpgroup
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
      bias_r[2 * nb + j] = bias != nullptr && co < p.out_channels ? to_float(bias[co]) : 0.0f;
    }
  const int32_t thread_off = Fragment<T>::kRowsPerQ * q * p.x_cols + 16 * warp + g;
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
    fence_acc<N>(acc[0]);  // both sets defined before the first wgmma of the tile
    fence_acc<N>(acc[1]);
    ptx::mbar_wait(&full[s], static_cast<uint32_t>((i / p.stages) & 1));
    const T* xs = reinterpret_cast<const T*>(x_stages + size_t(s) * p.stage_bytes) + thread_off;
    int32_t ci0 = 0, col = p.padding - p.x_base;  // step 0: tap 0, channels 0..kStep-1
    for (int c = 0; c < p.chunks; ++c) {
      const int n = min(kStepsPerGroup, p.steps - c * kStepsPerGroup);
      int32_t off[kStepsPerGroup];
#pragma unroll
      for (int kk = 0; kk < kStepsPerGroup; ++kk) {
        off[kk] = ci0 * p.x_cols + col;
        ci0 += Fragment<T>::kStep;
        if (ci0 == p.ci_pad) {  // next tap: its x column is dilation to the left
          ci0 = 0;
          col -= p.dilation;
        }
      }
      const uint32_t b_addr = wt_addr + uint32_t(c) * N * kRowBytes;
      mma_group<T, N>(acc[0], a0, xs, off, n, p.x_cols, b_addr);
      fence_group(a1);  // the previous group (block 1's) has retired: a1 may be rewritten
      mma_group<T, N>(acc[1], a1, xs + kBlockM, off, n, p.x_cols, b_addr);
      fence_group(a0);
    }
    hopper::wgmma_wait<0>();
    fence_acc<N>(acc[0]);
    fence_acc<N>(acc[1]);
    __syncwarp();
    if (lane == 0) ptx::mbar_arrive(&empty[s]);

    // Epilogue: D[position][co] into the staging boxes (the swizzle also spreads a warp's 4 channels
    // over distinct banks).
    if (p.tma_store && tid % 128 == 0) hopper::bulk_wait_read<0>();  // the previous tile's stores have read `out`
    ptx::bar_sync(1 + h, 128);  // (and, storing by warps, every warp has read it)
#pragma unroll
    for (int mb = 0; mb < 2; ++mb)
#pragma unroll
      for (int hi = 0; hi < 2; ++hi) {
        const int pos = kBlockM * mb + 16 * warp + 8 * hi + g;
#pragma unroll
        for (int nb = 0; nb < N / 8; ++nb)
#pragma unroll
          for (int j = 0; j < 2; ++j) {
            const int co = nb * 8 + 2 * q + j;
            *reinterpret_cast<T*>(out + staging_offset<T, N>(co, pos)) = from_float<T>(acc[mb][nb * 4 + hi * 2 + j]);
          }
      }
    if (p.tma_store) {
      hopper::fence_proxy_async();  // the staging stores, read next by the TMA unit
      ptx::bar_sync(1 + h, 128);
      if (tid % 128 == 0) {
#pragma unroll
        for (int bx = 0; bx < kBoxes; ++bx)
          if (t0 + bx * kBoxPositions < p.out_length)
            hopper::tma_store_3d(&y_map, out + bx * N * kRowBytes, t0 + bx * kBoxPositions, 0, b);
        hopper::bulk_commit();
      }
    } else {
      ptx::bar_sync(1 + h, 128);
      store_rows<T, N>(out, y, int64_t(b) * p.out_channels, t0, p, warp, lane);
    }
  }
  if (p.tma_store && tid % 128 == 0) hopper::bulk_wait<0>();
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

// W^T in the kernel's shared-memory image: chunk c, row co, the 128 bytes of reduction values
// r = c * per_row + i (tap r / ci_pad, channel r % ci_pad; tf32-rounded fp32 or 16-bit as given),
// zero outside W; the 16-byte chunks of each row XORed with co mod 8 (the 128B swizzle wgmma's
// descriptor expects).
template <class T>
__global__ void pack_stream_weights(const T* __restrict__ w, T* __restrict__ image, int32_t c_in, int32_t c_out,
                                    int32_t kernel_size, int32_t ci_pad, int32_t n, int32_t count) {
  constexpr int32_t kPerRow = kRowBytes / sizeof(T);
  const int32_t idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= count) return;
  const int32_t per_chunk = n * kPerRow;
  const int32_t c = idx / per_chunk, co = idx % per_chunk / kPerRow, i = idx % kPerRow;
  const int32_t r = c * kPerRow + i, k = r / ci_pad, ci = r % ci_pad;
  const float v =
      k < kernel_size && ci < c_in && co < c_out ? to_float(w[(int64_t(ci) * c_out + co) * kernel_size + k]) : 0.0f;
  const int32_t byte = i * static_cast<int32_t>(sizeof(T));
  T* dst = image + (c * per_chunk + co * kPerRow) + ((((byte >> 4) ^ (co & 7)) << 4) + (byte & 15)) / sizeof(T);
  if constexpr (sizeof(T) == 4)
    *dst = __uint_as_float(ptx::to_tf32(v));
  else
    *dst = from_float<T>(v);  // exact: v came from a T
}
constexpr int kPackThreads = 256;

template <class T, int N>
void launch_n(const Plan& plan, const ForwardArgs& a, const CUtensorMap& x_map, const CUtensorMap& y_map,
              const StreamParams& p, const void* image) {
  const int64_t smem = plan.stream.smem_bytes;
  opt_in_smem<wgmma_stream_kernel<T, N>>(smem, a.device, "cudaFuncSetAttribute(wgmma_stream_kernel)");
  wgmma_stream_kernel<T, N><<<static_cast<unsigned>(plan.stream.grid), kThreads, static_cast<size_t>(smem),
                              static_cast<cudaStream_t>(a.stream)>>>(
      x_map, y_map, p, static_cast<const uint4*>(image), static_cast<const T*>(a.bias), static_cast<T*>(a.y));
  cuda_check_launch("wgmma_stream_kernel launch");
}

template <class T>
void launch_typed(const Plan& plan, const ForwardArgs& a, CUtensorMapDataType type) {
  const Shape& s = plan.shape;
  const StreamTiling& t = plan.stream;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  constexpr int64_t kElem = sizeof(T);
  // W^T's shared-memory image in a stream-ordered workspace (pool-cached, graph-capturable).
  void* image = nullptr;
  cuda_check(cudaMallocAsync(&image, static_cast<size_t>(t.weight_bytes), stream), "cudaMallocAsync(packed W^T)");
  const int32_t count = static_cast<int32_t>(t.weight_bytes / kElem);
  pack_stream_weights<T><<<(count + kPackThreads - 1) / kPackThreads, kPackThreads, 0, stream>>>(
      static_cast<const T*>(a.w), static_cast<T*>(image), static_cast<int32_t>(s.in_channels),
      static_cast<int32_t>(s.out_channels), static_cast<int32_t>(s.kernel_size), t.ci_pad, t.n, count);
  cuda_check_launch("pack_stream_weights launch");

  const auto batch = static_cast<cuuint64_t>(s.batch);
  const auto l_in = static_cast<cuuint64_t>(s.in_length), l_out = static_cast<cuuint64_t>(s.out_length);
  const auto c_in = static_cast<cuuint64_t>(s.in_channels), c_out = static_cast<cuuint64_t>(s.out_channels);
  const CUtensorMap x_map = tensor_map<3>(type, a.x, {l_in, c_in, batch}, {l_in * kElem, l_in * c_in * kElem},
                                          {static_cast<cuuint32_t>(t.x_cols), static_cast<cuuint32_t>(t.ci_pad), 1},
                                          CU_TENSOR_MAP_SWIZZLE_NONE, "x");
  // TMA stores need 16-byte row pitches (the plan) and a 16-byte aligned y (this call).
  const bool tma_store = t.y_tma && reinterpret_cast<uintptr_t>(a.y) % 16 == 0;
  CUtensorMap y_map{};
  if (tma_store)
    y_map = tensor_map<3>(type, a.y, {l_out, c_out, batch}, {l_out * kElem, l_out * c_out * kElem},
                          {static_cast<cuuint32_t>(kRowBytes / kElem), static_cast<cuuint32_t>(t.n), 1},
                          CU_TENSOR_MAP_SWIZZLE_128B, "y");
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
  p.tma_store = tma_store ? 1 : 0;
  p.x_box_bytes = static_cast<uint32_t>(int64_t{t.ci_pad} * t.x_cols * kElem);
  p.stage_bytes = static_cast<uint32_t>(t.stage_bytes);
  p.weight_bytes = static_cast<uint32_t>(t.weight_bytes);
  if (t.n == 64)
    launch_n<T, 64>(plan, a, x_map, y_map, p, image);
  else if (t.n == 32)
    launch_n<T, 32>(plan, a, x_map, y_map, p, image);
  else
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma_stream width " + std::to_string(t.n) + " not compiled");
  cuda_check(cudaFreeAsync(image, stream), "cudaFreeAsync(packed W^T)");
}

}  // namespace

void launch_wgmma_stream(const Plan& plan, const ForwardArgs& a) {
  if (plan.dtype == CONVT1D_FLOAT32)
    launch_typed<float>(plan, a, CU_TENSOR_MAP_DATA_TYPE_FLOAT32);
  else if (plan.dtype == CONVT1D_FLOAT16)
    launch_typed<__half>(plan, a, CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
  else
    launch_typed<__nv_bfloat16>(plan, a, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
}

}  // namespace convt1d::detail
